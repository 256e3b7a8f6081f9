// A lesson's Markdown cut into the blocks a panel draws one by one (a heading, a paragraph, a
// list item, a code block, a table line), with the inline markup a reader need not see taken
// out: `code` keeps its words, **bold** and *emphasis* their text, a [link](url) its text and
// address. Plain data, no ImGui: the Lessons panel draws each block with a wrapped text, and the
// tests read what a student reads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace forklore::gui {

struct MarkdownBlock {
    enum class Kind {
        heading,   // "# ..." to "###### ...": level 1 to 6
        paragraph, // consecutive lines joined by spaces
        bullet,    // "- ", "* " or "+ " item (its continuation lines joined)
        numbered,  // "1. " item: `marker` holds "1."
        code,      // a fenced block's lines, or an indented one: drawn as they are
        quote,     // "> " lines joined
        table,     // "| a | b |" lines, as they are (a separator line "|---|" dropped)
        rule,      // "---", "***"
    };
    Kind kind = Kind::paragraph;
    int level = 0;      // heading level; list nesting (0 at the margin)
    std::string marker; // a numbered item's "1."
    std::string text;   // inline markup taken out (code and table: as written)
};

// The blocks of `markdown`, in order. Never throws: what is not recognised is a paragraph.
std::vector<MarkdownBlock> markdown_blocks(std::string_view markdown);

// `text` with inline markup taken out: backquotes, ** and __, single * and _ around words, a
// [link](url) as "link (url)", an image as its alternative text.
std::string plain_inline(std::string_view text);

} // namespace forklore::gui
