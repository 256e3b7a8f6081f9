// A lesson's text as the Lessons tab draws it (lesson_text.hpp).
#include "gui/panels/lesson_text.hpp"

#include "gui/models/markdown_blocks.hpp"
#include "gui/widgets.hpp"

namespace forklore::gui {

namespace {

const ImVec4 kCode{0.85f, 0.80f, 0.60f, 1.0f};

} // namespace

// Text in a colour, wrapped at the column's edge: a lesson's column is narrow, and nothing in it
// scrolls sideways.
void coloured_text(const ImVec4& colour, const std::string& text) {
    ImGui::PushStyleColor(ImGuiCol_Text, colour);
    wrapped_text(text);
    ImGui::PopStyleColor();
}

void disabled_text(const std::string& text) {
    coloured_text(ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled), text);
}

void draw_markdown(const std::string& markdown) {
    const float indent = ImGui::GetFontSize();
    for (const MarkdownBlock& block : markdown_blocks(markdown)) {
        const float nested = indent * static_cast<float>(block.level);
        switch (block.kind) {
        case MarkdownBlock::Kind::heading:
            ImGui::Spacing();
            ImGui::PushStyleColor(ImGuiCol_Text, kLessonHeading);
            wrapped_text(block.text);
            ImGui::PopStyleColor();
            break;
        case MarkdownBlock::Kind::paragraph:
            wrapped_text(block.text);
            break;
        case MarkdownBlock::Kind::bullet:
        case MarkdownBlock::Kind::numbered:
            if (nested > 0)
                ImGui::Indent(nested);
            if (block.kind == MarkdownBlock::Kind::bullet)
                ImGui::Bullet();
            else
                ImGui::TextUnformatted(block.marker.c_str());
            ImGui::SameLine();
            wrapped_text(block.text);
            if (nested > 0)
                ImGui::Unindent(nested);
            break;
        case MarkdownBlock::Kind::code:
        case MarkdownBlock::Kind::table:
            ImGui::Indent(indent);
            coloured_text(kCode, block.text);
            ImGui::Unindent(indent);
            break;
        case MarkdownBlock::Kind::quote:
            ImGui::Indent(indent);
            disabled_text(block.text);
            ImGui::Unindent(indent);
            break;
        case MarkdownBlock::Kind::rule:
            ImGui::Separator();
            break;
        }
        ImGui::Spacing();
    }
}

} // namespace forklore::gui
