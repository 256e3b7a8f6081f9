// Checks a screenshot of forklore-gui is a real picture of the application, not a blank window:
//
//   forklore_check_screenshot FILE.png [--min-colours N] [--expect-waiting] [--size WxH]
//
// It must load as a PNG, have many distinct colours (text, panels, bars), with --expect-waiting
// show the red of a waiting bar (palette::waiting in gui/widgets.hpp) over a visible area, and
// with --size be exactly that many pixels (forklore-gui --size). Prints what it measured; exits 0
// when the picture passes, 1 when not, 2 on bad arguments.
#include <stb_image.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_set>

namespace {

// gui/widgets.hpp palette::waiting (210, 60, 60): the colour of a thread blocked on a lock.
constexpr int kWaitingRed[3] = {210, 60, 60};
constexpr int kTolerance = 12;          // antialiased edges and blending stay near the colour
constexpr long kMinWaitingPixels = 200; // a bar a few pixels high and some tens wide

bool near_waiting_red(const unsigned char* pixel) {
    for (int c = 0; c < 3; ++c)
        if (std::abs(static_cast<int>(pixel[c]) - kWaitingRed[c]) > kTolerance)
            return false;
    return true;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr,
                     "usage: %s FILE.png [--min-colours N] [--expect-waiting] [--size WxH]\n",
                     argv[0]);
        return 2;
    }
    const char* path = argv[1];
    std::size_t min_colours = 64;
    bool expect_waiting = false;
    int expected_width = 0, expected_height = 0;
    for (int i = 2; i < argc; ++i) {
        if (std::strcmp(argv[i], "--expect-waiting") == 0) {
            expect_waiting = true;
        } else if (std::strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            if (std::sscanf(argv[++i], "%dx%d", &expected_width, &expected_height) != 2) {
                std::fprintf(stderr, "%s: --size takes WxH, e.g. 1024x700\n", argv[0]);
                return 2;
            }
        } else if (std::strcmp(argv[i], "--min-colours") == 0 && i + 1 < argc) {
            min_colours = std::strtoul(argv[++i], nullptr, 10);
        } else {
            std::fprintf(stderr, "%s: unknown argument '%s'\n", argv[0], argv[i]);
            return 2;
        }
    }
    int width = 0, height = 0, channels = 0;
    unsigned char* pixels = stbi_load(path, &width, &height, &channels, 3);
    if (!pixels) {
        std::printf("%s: not a readable image: %s\n", path, stbi_failure_reason());
        return 1;
    }
    std::unordered_set<unsigned> colours;
    long waiting = 0;
    const long count = static_cast<long>(width) * height;
    for (long i = 0; i < count; ++i) {
        const unsigned char* pixel = pixels + i * 3;
        colours.insert(static_cast<unsigned>(pixel[0]) << 16 |
                       static_cast<unsigned>(pixel[1]) << 8 | pixel[2]);
        if (near_waiting_red(pixel))
            ++waiting;
    }
    stbi_image_free(pixels);
    std::printf("%s: %dx%d, %zu distinct colours, %ld pixels of the waiting red\n", path, width,
                height, colours.size(), waiting);
    bool ok = true;
    if (width < 320 || height < 200) {
        std::printf("FAIL: the image is too small to be the application\n");
        ok = false;
    }
    if (expected_width > 0 && (width != expected_width || height != expected_height)) {
        std::printf("FAIL: the image is %dx%d, not %dx%d\n", width, height, expected_width,
                    expected_height);
        ok = false;
    }
    if (colours.size() < min_colours) {
        std::printf("FAIL: fewer than %zu distinct colours: the window is blank\n", min_colours);
        ok = false;
    }
    if (expect_waiting && waiting < kMinWaitingPixels) {
        std::printf("FAIL: fewer than %ld pixels of the waiting red: no waiting bar is drawn\n",
                    kMinWaitingPixels);
        ok = false;
    }
    return ok ? 0 : 1;
}
