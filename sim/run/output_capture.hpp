// What the runner keeps of the sandbox's stdout and stderr. Output never stops a program by
// default: each stream keeps its first and last bytes and counts what it dropped between them,
// and the pipes are always read, so a writer is never held up by us. A limit on the total
// (`SandboxLimits::max_output`, `--max-output`) is the runner's decision, made from written().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace forklore {

struct RunRecord;

// The kept text of one stream: the HEAD (the first keep/2 bytes written) and the TAIL (the last
// keep/2 bytes, a ring), with the count of everything written. Plain memory, no file
// descriptors: valid from construction, appended to by its owner (an OutputPipe during a run),
// read at any time.
class OutputCapture {
  public:
    explicit OutputCapture(std::uint64_t keep); // bytes kept: keep/2 of head, the rest tail

    void append(std::string_view bytes);

    std::uint64_t written() const { return written_; }
    // Bytes written that text() leaves out: 0 while everything fits. A cut is moved back to a
    // line's end (or at least off a UTF-8 sequence) when one is near, so this counts the bytes
    // between the kept head and the kept tail exactly: written() == kept + dropped().
    std::uint64_t dropped() const;
    // What was written when nothing was dropped; otherwise head + a marker line
    // "[... forklore dropped N bytes of STREAM here ...]" + tail.
    std::string text(std::string_view stream_name) const;

  private:
    struct Cut {
        std::size_t head_length = 0; // bytes of head_ kept
        std::size_t tail_skip = 0;   // bytes at the tail's start left out
    };
    Cut cut() const;
    char tail_byte(std::size_t i) const; // the tail's i-th byte, oldest first

    std::uint64_t head_capacity_, tail_capacity_;
    std::uint64_t written_ = 0;
    std::string head_;
    std::string ring_;          // the tail: grows to tail_capacity_, then wraps
    std::size_t ring_next_ = 0; // the oldest byte (and where the next goes) once ring_ is full
    char before_tail_ = '\n';   // the last byte dropped: the one just before the tail
};

// One captured stream of the sandbox: a pipe whose write end the host inherits and whose
// non-blocking read end the runner drains into an OutputCapture. Owned by the runner for one
// run; the fds are valid from create() until destruction (the write end until close_write()),
// and `open` is true until end of file. The runner reads the fields (to poll, to name the pipe
// in /proc); only the pipe changes them.
class OutputPipe {
  public:
    explicit OutputPipe(std::uint64_t keep) : capture_(keep) {}
    ~OutputPipe();
    OutputPipe(const OutputPipe&) = delete;
    OutputPipe& operator=(const OutputPipe&) = delete;

    bool create(); // false (errno set) when no pipe could be made
    // Reads what is available now, up to a bound per call so that a writer that never pauses
    // cannot keep the runner from sampling; end of file clears `open`.
    void drain();
    void close_write(); // after the host has inherited the write end
    const OutputCapture& capture() const { return capture_; }

    int read_fd = -1;
    int write_fd = -1;
    bool open = false;

  private:
    OutputCapture capture_;
};

// The record's stdout and stderr: the kept text, the bytes written and dropped, and
// output_truncated when anything was dropped.
void store_output(const OutputCapture& stdout_capture, const OutputCapture& stderr_capture,
                  RunRecord& record);

// "1048576", "512K", "1M", "2G" (binary multiples, case-insensitive) as a byte count; nullopt for
// anything else (empty, negative, a fraction, an unknown suffix, an overflow).
std::optional<std::uint64_t> parse_byte_size(std::string_view text);

// "stderr: 734,003,200 bytes written, 733,954,048 dropped in the middle (head and tail kept)":
// the one line the CLI and the GUI show for a stream that dropped output.
std::string describe_dropped_output(std::string_view stream_name, std::uint64_t written,
                                    std::uint64_t dropped);

} // namespace forklore
