// Text from outside (a file name, a --set value, a string in a run record) put into a one-line
// message: errors are one line, whatever the user typed.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace forklore {

// `text` with every control character escaped (a newline becomes \n, a tab \t, others \xNN) and
// cut to about `max_length` bytes (at a character's start, then "..."), so it can never break a
// line. Bytes of 0x80 and above are kept as they are: a UTF-8 name stays readable.
inline std::string printable(std::string_view text, std::size_t max_length = 200) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size() < max_length ? text.size() : max_length);
    for (char c : text) {
        if (out.size() >= max_length) {
            // Cut at a character's start: never half of a UTF-8 sequence.
            while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xc0) == 0x80)
                out.pop_back();
            if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xc0)
                out.pop_back();
            out += "...";
            break;
        }
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c == '\r')
            out += "\\r";
        else if (byte < 0x20 || byte == 0x7f) {
            out += "\\x";
            out += kHex[byte >> 4];
            out += kHex[byte & 0xf];
        } else {
            out += c;
        }
    }
    return out;
}

// `text` without the spaces, tabs and carriage returns at either end.
inline std::string trim(std::string_view text) {
    const auto begin = text.find_first_not_of(" \t\r");
    if (begin == std::string_view::npos)
        return {};
    const auto end = text.find_last_not_of(" \t\r");
    return std::string(text.substr(begin, end - begin + 1));
}

} // namespace forklore
