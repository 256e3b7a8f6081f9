// The pure decoders behind python_frames.cpp: CPython 3.11's location table (which line an
// instruction is at) and the text of a compact unicode object. Nothing here reads a process, so
// the unit tests hold them against tables CPython itself wrote.
#include "sim/observe/python_frames.hpp"

#include <cstring>

namespace forklore {
namespace {

// A cursor over the bytes of one location table.
struct LinetableCursor {
    std::string_view bytes;
    std::size_t at = 0;

    bool done() const { return at >= bytes.size(); }
    unsigned next() { return static_cast<unsigned char>(bytes[at++]); }

    // Objects/locations.md: 6 bits per byte, least significant chunk first, bit 6 = more follows.
    std::uint64_t varint() {
        std::uint64_t value = 0;
        for (unsigned shift = 0; !done() && shift < 64; shift += 6) {
            unsigned byte = next();
            value |= static_cast<std::uint64_t>(byte & 0x3f) << shift;
            if (!(byte & 0x40))
                break;
        }
        return value;
    }
    // A signed varint keeps the sign in its lowest bit.
    std::int64_t signed_varint() {
        std::uint64_t value = varint();
        auto magnitude = static_cast<std::int64_t>(value >> 1);
        return (value & 1) ? -magnitude : magnitude;
    }
    // Skips the rest of an entry: the bytes up to the next header byte (bit 7 set).
    void skip_to_next_entry() {
        while (!done() && !(static_cast<unsigned char>(bytes[at]) & 0x80))
            ++at;
    }
};

enum : unsigned {
    kOneLineFirst = 10, // codes 10-12: the line moves by code - 10, two column bytes follow
    kOneLineLast = 12,
    kNoColumns = 13, // a signed line delta, nothing else
    kLong = 14,      // a signed line delta, then end line, start and end columns
    kNoLocation = 15,
};

} // namespace

std::optional<int> python_line_of_instruction(std::string_view linetable, int first_line,
                                              std::int64_t instruction) {
    if (instruction < 0)
        return std::nullopt;
    LinetableCursor cursor{linetable};
    std::int64_t line = first_line;
    std::int64_t entry_start = 0; // in code units
    while (!cursor.done()) {
        unsigned header = cursor.next();
        if (!(header & 0x80))
            return std::nullopt; // not at an entry: a torn read or another format
        const unsigned code = (header >> 3) & 0x0f;
        const std::int64_t length = (header & 0x07) + 1;
        if (code == kNoColumns || code == kLong)
            line += cursor.signed_varint();
        else if (code >= kOneLineFirst && code <= kOneLineLast)
            line += code - kOneLineFirst;
        cursor.skip_to_next_entry();
        if (instruction < entry_start + length) {
            if (code == kNoLocation)
                return std::nullopt;
            return static_cast<int>(line);
        }
        entry_start += length;
    }
    return std::nullopt;
}

std::string python_text_as_utf8(std::string_view data, unsigned kind, std::size_t length) {
    std::string text;
    if (kind != 1 && kind != 2 && kind != 4)
        return text;
    length = std::min(length, data.size() / kind);
    text.reserve(length);
    for (std::size_t i = 0; i < length; ++i) {
        std::uint32_t point = 0;
        if (kind == 1) {
            point = static_cast<unsigned char>(data[i]);
        } else if (kind == 2) {
            std::uint16_t unit = 0;
            std::memcpy(&unit, data.data() + 2 * i, 2);
            point = unit;
        } else {
            std::memcpy(&point, data.data() + 4 * i, 4);
        }
        if (point < 0x80) {
            text += static_cast<char>(point);
        } else if (point < 0x800) {
            text += static_cast<char>(0xc0 | (point >> 6));
            text += static_cast<char>(0x80 | (point & 0x3f));
        } else if (point < 0x10000) {
            text += static_cast<char>(0xe0 | (point >> 12));
            text += static_cast<char>(0x80 | ((point >> 6) & 0x3f));
            text += static_cast<char>(0x80 | (point & 0x3f));
        } else if (point < 0x110000) {
            text += static_cast<char>(0xf0 | (point >> 18));
            text += static_cast<char>(0x80 | ((point >> 12) & 0x3f));
            text += static_cast<char>(0x80 | ((point >> 6) & 0x3f));
            text += static_cast<char>(0x80 | (point & 0x3f));
        }
    }
    return text;
}

} // namespace forklore
