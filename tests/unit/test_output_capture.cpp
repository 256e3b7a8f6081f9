// What the runner keeps of a stream: the head and the tail, with exact counts of what it dropped.
#include "sim/record/record.hpp"
#include "sim/run/output_capture.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

using namespace forklore;

namespace {

// The marker line text() puts where bytes were dropped.
std::string marker(std::uint64_t dropped, const char* stream = "stdout") {
    return "[... forklore dropped " + std::to_string(dropped) + " bytes of " + stream +
           " here ...]\n";
}

} // namespace

TEST_CASE("output capture: small output is kept whole, with no marker", "[output]") {
    OutputCapture capture(64);
    capture.append("hello\n");
    capture.append("world, with no newline at the end");
    CHECK(capture.written() == 39);
    CHECK(capture.dropped() == 0);
    CHECK(capture.text("stdout") == "hello\nworld, with no newline at the end");

    SECTION("exactly the keep size: still whole") {
        OutputCapture full(64);
        full.append(std::string(64, 'a'));
        CHECK(full.dropped() == 0);
        CHECK(full.text("stdout") == std::string(64, 'a'));
    }
    SECTION("nothing written") {
        OutputCapture empty(64);
        CHECK(empty.written() == 0);
        CHECK(empty.text("stderr").empty());
    }
}

TEST_CASE("output capture: large output keeps head and tail and counts the middle", "[output]") {
    // Lines of 10 bytes: "line 0000\n" ... Keep 4000: a head of 2000 bytes and a tail of 2000,
    // both on line boundaries, so nothing is cut off a line.
    OutputCapture capture(4000);
    std::string all;
    for (int i = 0; i < 100000; ++i) {
        char line[16];
        std::snprintf(line, sizeof line, "line %04d\n", i % 10000);
        all += line;
    }
    // In pieces of awkward sizes, as reads from a pipe come.
    for (std::size_t at = 0; at < all.size(); at += 4093)
        capture.append(std::string_view(all).substr(at, 4093));

    CHECK(capture.written() == 1'000'000);
    CHECK(capture.dropped() == 1'000'000 - 4000);
    const std::string text = capture.text("stdout");
    CHECK(text == all.substr(0, 2000) + marker(996000) + all.substr(all.size() - 2000));
}

TEST_CASE("output capture: cuts move to a line's end and the counts stay exact", "[output]") {
    OutputCapture capture(200); // head 100, tail 100
    std::string all = std::string(95, 'h') + "\n" + std::string(1000, 'm') + "\n" +
                      std::string(50, 't') + "\n" + std::string(49, 'u') + "\n";
    capture.append(all);
    // The head ends at its newline (byte 96); the tail starts after the newline near its start.
    const std::string head = std::string(95, 'h') + "\n";
    const std::string tail = std::string(49, 'u') + "\n";
    const std::uint64_t dropped = all.size() - head.size() - tail.size();
    CHECK(capture.dropped() == dropped);
    CHECK(capture.text("stdout") == head + marker(dropped) + tail);
    CHECK(capture.written() == all.size());
}

TEST_CASE("output capture: a tail that starts a line is not cut", "[output]") {
    OutputCapture capture(20);           // head 10, tail 10
    capture.append("0123456789");        // the head, exactly
    capture.append("dropped dropped\n"); // dropped, ending a line
    capture.append("tail line\n");       // the tail, exactly: a whole line
    CHECK(capture.dropped() == 16);
    CHECK(capture.text("stderr") == "0123456789\n" + marker(16, "stderr") + "tail line\n");
}

TEST_CASE("output capture: no cut splits a UTF-8 sequence", "[output]") {
    // "é" is two bytes (C3 A9), "€" three (E2 82 AC). With no newline near, the head ends before a
    // sequence it would split, and the tail starts after the continuation bytes it begins with.
    OutputCapture capture(20); // head 10, tail 10
    std::string all = "abcdefghi\xC3\xA9" + std::string(100, 'x') +
                      "\xE2\x82\xAC"
                      "12345678";
    capture.append(all);
    const std::string text = capture.text("stdout");
    // The head is 9 bytes (the é would be split at 10); the tail's first two bytes are the end
    // of the €, left out with it.
    const std::uint64_t dropped = all.size() - 9 - 8;
    CHECK(capture.dropped() == dropped);
    CHECK(text == "abcdefghi\n" + marker(dropped) + "12345678");
}

TEST_CASE("output capture: the ring keeps the last bytes across many small writes", "[output]") {
    OutputCapture capture(8); // head 4, tail 4
    for (char c = 'a'; c <= 'z'; ++c)
        capture.append(std::string(1, c));
    CHECK(capture.written() == 26);
    CHECK(capture.dropped() == 18);
    CHECK(capture.text("stdout") == "abcd\n" + marker(18) + "wxyz");
    SECTION("then one write larger than the tail") {
        capture.append("0123456789");
        CHECK(capture.dropped() == 28);
        CHECK(capture.text("stdout") == "abcd\n" + marker(28) + "6789");
    }
}

TEST_CASE("output capture: keep 0 counts everything and keeps nothing", "[output]") {
    OutputCapture capture(0);
    capture.append("something\n");
    CHECK(capture.written() == 10);
    CHECK(capture.dropped() == 10);
    CHECK(capture.text("stdout") == marker(10));
}

TEST_CASE("output capture: the record gets the text, the counts and output_truncated", "[output]") {
    OutputCapture out(8), err(8);
    out.append("short\n");
    err.append(std::string(100, 'e'));
    RunRecord record;
    store_output(out, err, record);
    CHECK(record.stdout_text == "short\n");
    CHECK(record.stdout_bytes == 6);
    CHECK(record.stdout_dropped == 0);
    CHECK(record.stderr_bytes == 100);
    CHECK(record.stderr_dropped == 92);
    CHECK(record.output_truncated);
    CHECK(record.stderr_text == "eeee\n" + marker(92, "stderr") + "eeee");
}

TEST_CASE("byte sizes: digits with K, M or G, nothing else", "[output]") {
    CHECK(parse_byte_size("0") == 0u);
    CHECK(parse_byte_size("4096") == 4096u);
    CHECK(parse_byte_size("512K") == 512u << 10);
    CHECK(parse_byte_size("1M") == 1u << 20);
    CHECK(parse_byte_size("1m") == 1u << 20);
    CHECK(parse_byte_size("2G") == 2ULL << 30);
    for (const char* bad : {"", "abc", "1.5M", "-1", "1MB", "M", "1 M", "1T",
                            "99999999999999999999", "20000000000G"}) {
        INFO(bad);
        CHECK_FALSE(parse_byte_size(bad));
    }
}

TEST_CASE("dropped output is described in one line with grouped digits", "[output]") {
    CHECK(describe_dropped_output("stderr", 734003200, 733954048) ==
          "stderr: 734,003,200 bytes written, 733,954,048 dropped in the middle (head and tail "
          "kept)");
    CHECK(describe_dropped_output("stdout", 999, 1) ==
          "stdout: 999 bytes written, 1 dropped in the middle (head and tail kept)");
}
