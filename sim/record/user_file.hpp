// Files a user names: records to open (`forklore-gui --open`, the GUI's Open) and outputs to write
// (`forklore run/exec --out`, `forklore matrix --junit`, the GUI's Save and `--screenshot`).
//
// An input must be a regular file of bounded size: a FIFO would block the reader for ever and
// /dev/zero would never end. An output may only be a new name or a regular file. Anything else
// at the path is refused before anything runs, whoever runs us: renaming a file over a device
// node (/dev/full), a FIFO, a socket or a symbolic link would replace it, as root even in /dev.
// An output is written whole or not at all: through a temporary file beside it, flushed, then
// renamed over it, so a reader sees the old content or the new, never half of it, and a failed
// write leaves the old file as it was.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace forklore {

// A user's file that cannot be read or written; what() is one line naming the path.
struct UserFileError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What a file of this type is, for a message: "a directory", "a FIFO (named pipe)", ...
std::string_view file_kind(mode_t mode);

// The whole content of the regular file at `path` (symbolic links followed). Throws
// UserFileError when it cannot be opened, is not a regular file, or holds more than `max_bytes`
// ("X is larger than 256 MiB, the most {what} may be"); never blocks on a FIFO.
std::string read_regular_file(const std::string& path, std::uint64_t max_bytes,
                              std::string_view what);

// Why `path` cannot be an output file, in one line ("cannot write X: it is a FIFO (named pipe)"),
// or nullopt when it can: its directory exists and this process may create files in it, and the
// path is either new or names a regular file (not through a symbolic link) this process may
// write. Creates nothing; follows no symbolic link in the last component.
std::optional<std::string> output_file_problem(const std::string& path);

// Writes `content` to `path` as described above; an existing file keeps its permission bits (and,
// when we are root, its owner). Checks output_file_problem again just before the rename, so
// what appeared at the path during a long run is not replaced either. SIGXFSZ (a file size
// limit) is blocked in this thread while writing: the write fails instead of killing us with a
// temporary file left behind. Throws UserFileError (one line); the temporary file is removed.
void write_output_file(const std::string& path, std::string_view content);

} // namespace forklore
