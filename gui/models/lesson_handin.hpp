// The hand-in: a Markdown summary of a student's walk through a lesson, for a teacher to read.
// It names the lesson, each prediction with its run's verdict and whether it was right, each
// explain answer with its attempts, each fix's verdict, the time spent and the commit of
// forklore's source tree. No ImGui; the panel asks for a path and says before it overwrites.
#pragma once

#include "gui/models/lesson_progress.hpp"
#include "sim/lesson/lesson.hpp"

#include <cstdint>
#include <filesystem>
#include <string>

namespace forklore::gui {

// "lesson-01-what-fork-copies-handin.md"
std::string default_handin_name(const lesson::Lesson& lesson);

// The summary. `commit` may be empty (not known); `written_at` is seconds since the epoch.
std::string handin_markdown(const lesson::Lesson& lesson, const LessonProgress& progress,
                            const std::string& commit, std::int64_t written_at);

// The commit checked out in a git work tree ("9d0f700... (branch i13)"), read from its .git
// directly: the GUI never forks, so it does not run git. "" when it cannot be told.
std::string source_commit(const std::filesystem::path& source_dir);
// source_commit of the tree forklore was built from.
std::string forklore_commit();

enum class HandinWrite { written, exists, failed };
// Writes the hand-in, whole or not at all. An existing file is replaced only with `overwrite`
// (else `exists`, and nothing is written); what is not a regular file never is. `message` says
// what happened, in one line.
HandinWrite write_handin(const std::string& path, const std::string& markdown, bool overwrite,
                         std::string& message);

// "14 min 5 s", "45 s", "1 h 2 min".
std::string describe_duration(double seconds);

} // namespace forklore::gui
