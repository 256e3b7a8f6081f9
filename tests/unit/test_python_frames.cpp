// The pure parts of the Python frame reader (sim/observe/python_frames.hpp): CPython 3.11's
// location table and the text of compact strings. The reader itself is tested on a real hung
// interpreter in tests/engine/test_python_scenarios.cpp.
#include <catch2/catch.hpp>

#include "sim/observe/python_frames.hpp"

#include <string>
#include <string_view>

using namespace forklore;

namespace {

// Written by Debian's /usr/bin/python3 (3.11.2) for this function, compiled as "sample.py":
//
//     def f(a):                      # line 1
//         x = a + 1
//
//         if x > 2:
//             y = [i
//                  for i in range(x)]
//             return y
//         # a comment
//         return None
//
// f.__code__.co_linetable, and the line of each of its 41 code units as code.co_lines() gives it.
constexpr std::string_view kSampleLinetable{
    "\x80\x00\xd8\x08\x09\x88\x41\x89\x05\x80\x41\xe0\x07\x08\x88\x31\x82\x75\x80\x75\xf0\x02"
    "\x01\x0d\x20\xf0\x00\x01\x0d\x20\xdd\x16\x1b\x98\x41\x91\x68\x94\x68\xf0\x03\x01\x0d\x20"
    "\xf1\x00\x01\x0d\x20\xf4\x00\x01\x0d\x20\x88\x01\xe0\x0f\x10\x88\x08\xe0\x0b\x0f\x88\x34",
    68};
constexpr int kSampleLines[41] = {1, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 5, 5, 6, 6, 6, 6, 6, 6, 6,
                                  6, 6, 6, 6, 6, 6, 6, 5, 5, 5, 5, 5, 5, 5, 5, 5, 7, 7, 9, 9};

} // namespace

TEST_CASE("python_line_of_instruction gives the line co_lines() gives, for every instruction",
          "[python_frames]") {
    for (int unit = 0; unit < 41; ++unit) {
        INFO("code unit " << unit);
        CHECK(python_line_of_instruction(kSampleLinetable, 1, unit) == kSampleLines[unit]);
    }
    // Past the table, or before the first instruction (a frame not started yet): no line.
    CHECK_FALSE(python_line_of_instruction(kSampleLinetable, 1, 41).has_value());
    CHECK_FALSE(python_line_of_instruction(kSampleLinetable, 1, -1).has_value());
    // The lines are relative to co_firstlineno.
    CHECK(python_line_of_instruction(kSampleLinetable, 100, 39) == 108);
}

TEST_CASE("python_line_of_instruction: 'no location' entries, negative deltas, torn tables",
          "[python_frames]") {
    // Code 15 (no location) for one unit, then the long form (code 14) moving the line by -1
    // (signed varint 3), end line, start and end columns 0.
    constexpr std::string_view table{"\xf8\xf0\x03\x00\x00\x00", 6};
    CHECK_FALSE(python_line_of_instruction(table, 10, 0).has_value());
    CHECK(python_line_of_instruction(table, 10, 1) == 9);
    // A byte without bit 7 where an entry should start: not a location table.
    CHECK_FALSE(python_line_of_instruction(std::string_view{"\x05\x80", 2}, 1, 0).has_value());
    CHECK_FALSE(python_line_of_instruction({}, 1, 0).has_value());
}

TEST_CASE("python_text_as_utf8 turns a compact string's code points into UTF-8",
          "[python_frames]") {
    CHECK(python_text_as_utf8("printer", 1, 7) == "printer");
    CHECK(python_text_as_utf8("caf\xe9", 1, 4) == "caf\xc3\xa9"); // latin-1 data
    const char ucs2[] = {'\xe9', '\x00', '\xac', '\x20'};         // U+00E9 U+20AC
    CHECK(python_text_as_utf8(std::string_view(ucs2, 4), 2, 2) == "\xc3\xa9\xe2\x82\xac");
    const char ucs4[] = {'\x0d', '\xf6', '\x01', '\x00'}; // U+1F60D
    CHECK(python_text_as_utf8(std::string_view(ucs4, 4), 4, 1) == "\xf0\x9f\x98\x8d");
    CHECK(python_text_as_utf8("abc", 3, 1).empty());         // no such kind
    CHECK(python_text_as_utf8("ab", 2, 5).empty() == false); // cut to the data there is
}
