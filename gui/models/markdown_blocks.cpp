// A lesson's Markdown as blocks (markdown_blocks.hpp). Only what lessons write is recognised:
// CommonMark's rarer forms (setext headings, indented code, HTML) read as paragraphs, which is
// still readable.
#include "gui/models/markdown_blocks.hpp"

#include <cctype>

namespace forklore::gui {

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t';
}

bool is_word(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (is_space(text.front()) || text.front() == '\r'))
        text.remove_prefix(1);
    while (!text.empty() && (is_space(text.back()) || text.back() == '\r'))
        text.remove_suffix(1);
    return text;
}

std::size_t indent_of(std::string_view line) {
    std::size_t n = 0;
    while (n < line.size() && is_space(line[n]))
        ++n;
    return n;
}

bool is_fence(std::string_view trimmed) {
    return trimmed.rfind("```", 0) == 0 || trimmed.rfind("~~~", 0) == 0;
}

bool is_rule(std::string_view trimmed) {
    if (trimmed.size() < 3)
        return false;
    const char mark = trimmed.front();
    if (mark != '-' && mark != '*' && mark != '_')
        return false;
    int marks = 0;
    for (char c : trimmed) {
        if (c == mark)
            ++marks;
        else if (!is_space(c))
            return false;
    }
    return marks >= 3;
}

// A table's separator line: "|---|:---:|".
bool is_table_separator(std::string_view trimmed) {
    for (char c : trimmed)
        if (c != '|' && c != '-' && c != ':' && !is_space(c))
            return false;
    return true;
}

// "- item", "* item", "+ item", "12. item", "3) item": the marker and where the text starts.
bool list_item(std::string_view trimmed, std::string& marker, std::size_t& text_start) {
    if (trimmed.size() >= 2 && (trimmed[0] == '-' || trimmed[0] == '*' || trimmed[0] == '+') &&
        trimmed[1] == ' ') {
        marker.clear();
        text_start = 2;
        return true;
    }
    std::size_t digits = 0;
    while (digits < trimmed.size() && digits < 9 &&
           std::isdigit(static_cast<unsigned char>(trimmed[digits])))
        ++digits;
    if (digits > 0 && digits + 1 < trimmed.size() &&
        (trimmed[digits] == '.' || trimmed[digits] == ')') && trimmed[digits + 1] == ' ') {
        marker = std::string(trimmed.substr(0, digits + 1));
        text_start = digits + 2;
        return true;
    }
    return false;
}

} // namespace

std::string plain_inline(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const char before = i > 0 ? text[i - 1] : ' ';
        const char after = i + 1 < text.size() ? text[i + 1] : ' ';
        if (c == '\\' && i + 1 < text.size() && std::ispunct(static_cast<unsigned char>(after))) {
            out += after; // an escaped character is itself
            ++i;
        } else if (c == '`') {
            // A code span keeps what it holds as written, markup characters included.
            std::size_t ticks = 1;
            while (i + ticks < text.size() && text[i + ticks] == '`')
                ++ticks;
            const std::string fence(ticks, '`');
            const std::size_t close = text.find(fence, i + ticks);
            if (close == std::string_view::npos) {
                out += fence;
                i += ticks - 1;
                continue;
            }
            out += trim(text.substr(i + ticks, close - i - ticks));
            i = close + ticks - 1;
        } else if (c == '*' && after == '*') {
            ++i; // bold: the words stay
        } else if ((c == '*' || (c == '_' && before != '_' && after != '_')) &&
                   ((!is_word(before) && !is_space(after)) ||
                    (!is_space(before) && !is_word(after)))) {
            // Emphasis opens before a word or closes after one: the mark goes, the words stay
            // ("a * b", "file_lock" and "__init__" are not emphasis and stay whole).
            continue;
        } else if ((c == '[' || (c == '!' && after == '[')) &&
                   text.find(']', i) != std::string_view::npos) {
            const std::size_t open = c == '!' ? i + 1 : i;
            const std::size_t close = text.find(']', open);
            if (close + 1 < text.size() && text[close + 1] == '(') {
                const std::size_t end = text.find(')', close + 2);
                if (end != std::string_view::npos) {
                    out += plain_inline(text.substr(open + 1, close - open - 1));
                    if (c != '!')
                        out += " (" + std::string(text.substr(close + 2, end - close - 2)) + ")";
                    i = end;
                    continue;
                }
            }
            out += c;
        } else {
            out += c;
        }
    }
    return out;
}

std::vector<MarkdownBlock> markdown_blocks(std::string_view markdown) {
    std::vector<MarkdownBlock> blocks;
    // The block that following lines may continue: a paragraph, a list item or a quote.
    bool open = false;
    auto flush = [&] {
        if (open && !blocks.empty() && blocks.back().kind != MarkdownBlock::Kind::code &&
            blocks.back().kind != MarkdownBlock::Kind::table)
            blocks.back().text = plain_inline(blocks.back().text);
        open = false;
    };
    auto start = [&](MarkdownBlock::Kind kind, std::string text, int level = 0,
                     std::string marker = {}) {
        flush();
        blocks.push_back(MarkdownBlock{kind, level, std::move(marker), std::move(text)});
        open = true;
    };

    bool in_fence = false;
    std::string fence;
    std::size_t at = 0;
    while (at <= markdown.size()) {
        std::size_t end = markdown.find('\n', at);
        if (end == std::string_view::npos)
            end = markdown.size();
        std::string_view line = markdown.substr(at, end - at);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        const bool last_line = end == markdown.size();
        at = end + 1;
        const std::string_view trimmed = trim(line);

        if (in_fence) {
            if (trimmed.rfind(fence, 0) == 0 && trim(trimmed.substr(fence.size())).empty()) {
                in_fence = false;
                open = false;
            } else {
                std::string& code = blocks.back().text;
                code += (code.empty() ? "" : "\n") + std::string(line);
            }
        } else if (is_fence(trimmed)) {
            flush();
            fence = std::string(trimmed.substr(0, 3));
            blocks.push_back(MarkdownBlock{MarkdownBlock::Kind::code, 0, {}, {}});
            in_fence = true;
        } else if (trimmed.empty()) {
            flush();
        } else if (trimmed.front() == '#') {
            std::size_t level = 0;
            while (level < trimmed.size() && trimmed[level] == '#')
                ++level;
            if (level <= 6 && (level == trimmed.size() || trimmed[level] == ' ')) {
                start(MarkdownBlock::Kind::heading, std::string(trim(trimmed.substr(level))),
                      static_cast<int>(level));
                flush();
            } else if (open && blocks.back().kind != MarkdownBlock::Kind::table) {
                blocks.back().text += " " + std::string(trimmed);
            } else {
                start(MarkdownBlock::Kind::paragraph, std::string(trimmed));
            }
        } else if (is_rule(trimmed)) {
            start(MarkdownBlock::Kind::rule, {});
            flush();
        } else if (trimmed.front() == '|') {
            if (!open || blocks.back().kind != MarkdownBlock::Kind::table) {
                start(MarkdownBlock::Kind::table, std::string(trimmed));
            } else if (!is_table_separator(trimmed)) {
                blocks.back().text += "\n" + std::string(trimmed);
            }
        } else if (trimmed.front() == '>') {
            std::string quoted(trim(trimmed.substr(1)));
            if (open && blocks.back().kind == MarkdownBlock::Kind::quote)
                blocks.back().text += " " + quoted;
            else
                start(MarkdownBlock::Kind::quote, std::move(quoted));
        } else if (std::string marker; true) {
            std::size_t text_start = 0;
            if (list_item(trimmed, marker, text_start)) {
                const int level = static_cast<int>(indent_of(line) / 2);
                start(marker.empty() ? MarkdownBlock::Kind::bullet : MarkdownBlock::Kind::numbered,
                      std::string(trimmed.substr(text_start)), level, marker);
            } else if (open && blocks.back().kind != MarkdownBlock::Kind::table) {
                blocks.back().text += " " + std::string(trimmed); // a continuation line
            } else {
                start(MarkdownBlock::Kind::paragraph, std::string(trimmed));
            }
        }
        if (last_line)
            break;
    }
    flush();
    return blocks;
}

} // namespace forklore::gui
