// Text put into XML (xml_text.hpp).
#include "sim/export/xml_text.hpp"

#include <cstdint>

namespace forklore {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD"; // U+FFFD

// The length of the well-formed UTF-8 sequence at `text[at]`, and its code point; 0 when the
// bytes there are not one (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
std::size_t sequence_at(std::string_view text, std::size_t at, std::uint32_t& code_point) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[at + i]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    std::uint32_t minimum = 0;
    if (lead < 0x80) {
        code_point = lead;
        return 1;
    }
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
        code_point = lead & 0x1Fu;
        minimum = 0x80;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        code_point = lead & 0x0Fu;
        minimum = 0x800;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        code_point = lead & 0x07u;
        minimum = 0x10000;
    } else {
        return 0; // a continuation byte, or a lead byte no valid sequence starts with
    }
    if (at + length > text.size())
        return 0;
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xC0) != 0x80)
            return 0;
        code_point = (code_point << 6) | (byte(i) & 0x3Fu);
    }
    if (code_point < minimum || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF))
        return 0;
    return length;
}

// Calls visit(code_point, bytes) for each character of `text` in order; a byte that starts no
// valid UTF-8 sequence comes as U+FFFD and its replacement's bytes.
template <class Visit> void for_each_character(std::string_view text, Visit&& visit) {
    for (std::size_t at = 0; at < text.size();) {
        std::uint32_t code_point = 0;
        const std::size_t length = sequence_at(text, at, code_point);
        if (length == 0) {
            visit(0xFFFD, kReplacement);
            ++at;
            continue;
        }
        visit(code_point, text.substr(at, length));
        at += length;
    }
}

} // namespace

std::string valid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for_each_character(text, [&](std::uint32_t, std::string_view bytes) { out.append(bytes); });
    return out;
}

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for_each_character(text, [&](std::uint32_t code_point, std::string_view bytes) {
        switch (code_point) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&apos;";
            break;
        case '\t':
        case '\n':
        case '\r':
            out += static_cast<char>(code_point);
            break;
        default:
            if (code_point < 0x20)
                out += ' ';
            else if (code_point == 0xFFFE || code_point == 0xFFFF)
                out += kReplacement;
            else
                out.append(bytes);
        }
    });
    return out;
}

} // namespace forklore
