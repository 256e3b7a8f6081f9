# forklore
#   make run    install what is missing, build, start the GUI (or the corpus matrix without one)
#   make test   install what is missing, build, run every test
#   make build | asan | tsan | clean
BUILD    := build
BIN      := $(BUILD)/bin
PACKAGES := cmake ninja-build g++ pkg-config libfmt-dev catch2 nlohmann-json3-dev libcli11-dev \
            libdw-dev libelf-dev libc6-dbg python3

.PHONY: all deps build run test asan tsan clean
all: build

# Installs only the Debian packages that are missing (apt-get update only if something is).
deps:
	@command -v dpkg-query >/dev/null || { echo "not a Debian system: make sure these are installed: $(PACKAGES)"; exit 0; }; \
	installed=" $$(dpkg-query -W -f='$${Package} $${Status}\n' $(PACKAGES) 2>/dev/null | sed -n 's/ .*ok installed$$//p' | tr '\n' ' ')"; \
	missing=""; \
	for p in $(PACKAGES); do case "$$installed" in *" $$p "*) ;; *) missing="$$missing $$p";; esac; done; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null; then sudo="sudo"; \
	else echo "forklore needs these packages; install them as root:$$missing" >&2; exit 1; fi; \
	echo "installing:$$missing"; \
	$$sudo apt-get update && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing

# Configures once (Ninja, RelWithDebInfo by default); cmake --build re-configures when needed.
build: deps
	@[ -f $(BUILD)/CMakeCache.txt ] || cmake -S . -B $(BUILD) -G Ninja
	cmake --build $(BUILD)

# The GUI comes with a later issue; until then, and without a display, run the corpus matrix.
run: build
	@if [ -x $(BIN)/forklore-gui ] && [ -n "$$DISPLAY" ]; then exec $(BIN)/forklore-gui; fi; \
	if [ -x $(BIN)/forklore-gui ]; then \
	    echo "no display for the GUI (set DISPLAY, or use: xvfb-run make run); running the corpus matrix"; \
	fi; \
	exec $(BIN)/forklore matrix

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j2

asan tsan: deps
	cmake --preset $@
	cmake --build --preset $@
	ctest --preset $@

clean:
	rm -rf $(BUILD) build-asan build-tsan
