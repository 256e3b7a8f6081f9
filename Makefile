# forklore
#   make run    install what is missing, build, start the GUI (or the corpus matrix without one)
#   make test   install what is missing, build, run every test
#   make bench  build and run the benchmarks: one table of ratios (not part of make test)
#   make format-check   every C++ file as .clang-format lays it out (CI runs it); make format fixes
#   make build | asan | tsan | fuzz | clean | screenshot
BUILD    := build
BIN      := $(BUILD)/bin
PACKAGES := cmake ninja-build g++ pkg-config libfmt-dev catch2 nlohmann-json3-dev libcli11-dev \
            libdw-dev libelf-dev libc6-dbg python3 python3-dev \
            libimgui-dev libglfw3-dev libgl-dev xvfb xauth \
            clang-14 libclang-rt-14-dev clang-format-14 \
            libomp-14-dev python3-numpy libopenblas0-openmp libopenblas0-pthread

.PHONY: all deps build run test bench asan tsan fuzz clean scenarios-readme screenshot format \
        format-check
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

# One layout for the whole tree, .clang-format's; the check lists the files that differ.
CXX_SOURCES = $$(git ls-files '*.cpp' '*.hpp' '*.h')
format: deps
	clang-format-14 -i $(CXX_SOURCES)
format-check: deps
	@clang-format-14 --dry-run --Werror $(CXX_SOURCES) 2>&1 | sed -n 's/^\([^ ]*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' | sort -u | \
	    { files=$$(cat); [ -z "$$files" ] && echo "format-check: every C++ file follows .clang-format" && exit 0; \
	      echo "format-check: these files differ from .clang-format (make format fixes them):"; echo "$$files" | sed 's/^/  /'; exit 1; }

# Configures once (Ninja, RelWithDebInfo by default); cmake --build re-configures when needed.
build: deps
	@[ -f $(BUILD)/CMakeCache.txt ] || cmake -S . -B $(BUILD) -G Ninja
	cmake --build $(BUILD)

# The GUI needs a display; without one, say what to do and run the headless tour: the corpus matrix.
run: build
	@if [ -x $(BIN)/forklore-gui ] && [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then exec $(BIN)/forklore-gui; fi; \
	if [ -x $(BIN)/forklore-gui ]; then \
	    echo "make run: no display for forklore-gui (DISPLAY is not set)."; \
	    echo "  to see the GUI: run 'make run' on a desktop, or over 'ssh -X', or set DISPLAY;"; \
	    echo "  for a picture of it without a display: 'make screenshot' (uses xvfb-run)."; \
	    echo "running the headless tour instead: the corpus matrix"; \
	else \
	    echo "make run: forklore-gui was not built (see the cmake warning); running the corpus matrix"; \
	fi; \
	exec $(BIN)/forklore matrix

# The README's pictures: the GUI in a virtual X server, running the first lesson, at the default
# 1280x800, at the smallest size the layout is made for (1024x700) and on a large screen; then the
# Lessons panel mid-lesson (the first lesson of tutorials/: its predict step 3, the reader holding
# the lock, answered and run). Each starts with no lesson progress
# (a state directory of its own), so a lesson someone is in the middle of never shows in them.
SHOT_STATE := $(abspath $(BUILD))/screenshot-state
screenshot: build
	@mkdir -p docs
	rm -rf $(SHOT_STATE)
	XDG_STATE_HOME=$(SHOT_STATE) xvfb-run -a -s "-screen 0 1280x800x24" $(BIN)/forklore-gui \
	    --run file-read-under-lock:fork --frames 60 --screenshot docs/screenshot.png
	for size in 1024x700 1920x1080; do \
	    XDG_STATE_HOME=$(SHOT_STATE) xvfb-run -a -s "-screen 0 1920x1080x24" $(BIN)/forklore-gui \
	        --size $$size --run file-read-under-lock:fork --frames 60 \
	        --screenshot docs/screenshot-$$size.png || exit 1; \
	done
	rm -rf $(SHOT_STATE)
	XDG_STATE_HOME=$(SHOT_STATE) \
	    xvfb-run -a -s "-screen 0 1280x800x24" $(BIN)/forklore-gui \
	    --lesson 01-what-fork-copies:3 --predict 'deadlocked(orphaned_lock)' --frames 60 \
	    --screenshot docs/screenshot-lessons.png
	rm -rf $(SHOT_STATE)
	XDG_STATE_HOME=$(SHOT_STATE) \
	    xvfb-run -a -s "-screen 0 1280x800x24" $(BIN)/forklore-gui \
	    --challenge orphan-the-lock --play reader,reader,main --frames 30 \
	    --screenshot docs/screenshot-scheduler.png
	rm -rf $(SHOT_STATE)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j2

# The benchmarks: each figure a ratio measured side by side in one run, medians of repetitions,
# printed as one Markdown table with the machine and its load (README.md, "How fast").
bench: deps
	@[ -f $(BUILD)/CMakeCache.txt ] || cmake -S . -B $(BUILD) -G Ninja
	cmake --build $(BUILD) --target forklore_benchmarks
	python3 bench/bench_table.py $(BIN)

asan tsan: deps
	cmake --preset $@
	cmake --build --preset $@
	ctest --preset $@

# libFuzzer over the run-record reader (and the GUI's models of what it reads) and the knob
# parser, FUZZ_SECONDS each, under ASan and UBSan. New inputs go to $(BUILD)/fuzz/corpus-*, a
# crash to $(BUILD)/fuzz/artifacts/ (add it to tests/fuzz/corpus/ once fixed).
FUZZ_SECONDS ?= 300
FUZZ      := $(BUILD)/fuzz
fuzz: deps
	cmake -S tests/fuzz -B $(FUZZ) -G Ninja -DCMAKE_CXX_COMPILER=clang++-14
	cmake --build $(FUZZ)
	$(FUZZ)/fuzz_record -max_total_time=$(FUZZ_SECONDS) -timeout=10 -dict=tests/fuzz/record.dict \
	    -artifact_prefix=$(FUZZ)/artifacts/ $(FUZZ)/corpus-record tests/fuzz/corpus/record
	$(FUZZ)/fuzz_knobs -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -artifact_prefix=$(FUZZ)/artifacts/ $(FUZZ)/corpus-knobs tests/fuzz/corpus/knobs

clean:
	rm -rf $(BUILD) build-asan build-tsan

# scenarios/README.md ends with the corpus table generated from the registry; a test fails when
# it is stale. This rewrites the generated part.
SCENARIOS_README_MARKER := <!-- generated by make scenarios-readme from forklore list --markdown: do not edit below -->
scenarios-readme: build
	@sed -n '1,/^<!-- generated by/p' scenarios/README.md | sed '$$d' > scenarios/README.md.tmp
	@echo '$(SCENARIOS_README_MARKER)' >> scenarios/README.md.tmp
	@$(BIN)/forklore list --markdown >> scenarios/README.md.tmp
	@mv scenarios/README.md.tmp scenarios/README.md
	@echo "scenarios/README.md updated"
