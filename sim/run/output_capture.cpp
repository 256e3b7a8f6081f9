#include "sim/run/output_capture.hpp"

#include "sim/record/record.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace forklore {

namespace {

// How far a cut may move to land at a line's end: a partial line costs less than this.
constexpr std::size_t kLineSearch = 4096;

bool is_continuation(char byte) {
    return (static_cast<unsigned char>(byte) & 0xC0) == 0x80;
}

// The length a UTF-8 lead byte announces (1 for ASCII or a stray byte).
std::size_t sequence_length(char byte) {
    auto b = static_cast<unsigned char>(byte);
    if (b >= 0xF0 && b < 0xF8)
        return 4;
    if (b >= 0xE0)
        return b < 0xF0 ? 3 : 1;
    if (b >= 0xC0)
        return 2;
    return 1;
}

std::string with_commas(std::uint64_t value) {
    std::string digits = std::to_string(value), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0)
            out += ',';
        out += digits[i];
    }
    return out;
}

} // namespace

OutputCapture::OutputCapture(std::uint64_t keep)
    : head_capacity_(keep / 2), tail_capacity_(keep - keep / 2) {}

void OutputCapture::append(std::string_view bytes) {
    written_ += bytes.size();
    if (head_.size() < head_capacity_) {
        std::size_t take = std::min<std::uint64_t>(head_capacity_ - head_.size(), bytes.size());
        head_.append(bytes.substr(0, take));
        bytes.remove_prefix(take);
    }
    if (bytes.empty())
        return;
    if (tail_capacity_ == 0) {
        before_tail_ = bytes.back();
        return;
    }
    if (bytes.size() >= tail_capacity_) {
        // All of the ring, and the front of `bytes`, is dropped.
        std::size_t skip = bytes.size() - tail_capacity_;
        if (skip > 0)
            before_tail_ = bytes[skip - 1];
        else if (!ring_.empty())
            before_tail_ = ring_.size() < tail_capacity_
                               ? ring_.back()
                               : ring_[(ring_next_ + tail_capacity_ - 1) % tail_capacity_];
        ring_.assign(bytes.substr(skip));
        ring_next_ = 0;
        return;
    }
    if (ring_.size() < tail_capacity_) {
        std::size_t take = std::min<std::uint64_t>(tail_capacity_ - ring_.size(), bytes.size());
        ring_.append(bytes.substr(0, take));
        bytes.remove_prefix(take);
    }
    // The ring is full: each byte replaces the oldest one.
    while (!bytes.empty()) {
        std::size_t n = std::min<std::size_t>(bytes.size(), tail_capacity_ - ring_next_);
        before_tail_ = ring_[ring_next_ + n - 1];
        std::memcpy(&ring_[ring_next_], bytes.data(), n);
        ring_next_ = (ring_next_ + n) % tail_capacity_;
        bytes.remove_prefix(n);
    }
}

char OutputCapture::tail_byte(std::size_t i) const {
    return ring_[(ring_next_ + i) % ring_.size()];
}

OutputCapture::Cut OutputCapture::cut() const {
    Cut cut{head_.size(), 0};
    if (written_ <= head_.size() + ring_.size())
        return cut; // nothing dropped: no cut at all
    // The head ends after its last newline when one is near the end, else off a UTF-8 sequence.
    if (!head_.empty() && head_.back() != '\n') {
        std::size_t from = head_.size() > kLineSearch ? head_.size() - kLineSearch : 0;
        std::size_t newline = head_.rfind('\n');
        if (newline != std::string::npos && newline >= from) {
            cut.head_length = newline + 1;
        } else {
            std::size_t lead = head_.size();
            while (lead > 0 && head_.size() - lead < 3 && is_continuation(head_[lead - 1]))
                --lead;
            if (lead > 0 && head_.size() - (lead - 1) < sequence_length(head_[lead - 1]))
                cut.head_length = lead - 1; // a sequence the cut would split: drop it whole
        }
    }
    // The tail starts after its first newline when one is near the start (unless the byte before
    // it ended a line already), else on the first byte that starts a UTF-8 sequence.
    if (before_tail_ != '\n') {
        std::size_t limit = std::min(ring_.size(), kLineSearch);
        std::size_t newline = 0;
        while (newline < limit && tail_byte(newline) != '\n')
            ++newline;
        if (newline < limit) {
            cut.tail_skip = newline + 1;
        } else {
            while (cut.tail_skip < std::min<std::size_t>(ring_.size(), 3) &&
                   is_continuation(tail_byte(cut.tail_skip)))
                ++cut.tail_skip;
        }
    }
    return cut;
}

std::uint64_t OutputCapture::dropped() const {
    Cut kept = cut();
    return written_ - kept.head_length - (ring_.size() - kept.tail_skip);
}

std::string OutputCapture::text(std::string_view stream_name) const {
    Cut kept = cut();
    std::string out = head_.substr(0, kept.head_length);
    std::uint64_t dropped = written_ - kept.head_length - (ring_.size() - kept.tail_skip);
    if (dropped > 0) {
        if (!out.empty() && out.back() != '\n')
            out += '\n';
        out +=
            fmt::format("[... forklore dropped {} bytes of {} here ...]\n", dropped, stream_name);
    }
    out.reserve(out.size() + ring_.size());
    for (std::size_t i = kept.tail_skip; i < ring_.size(); ++i)
        out += tail_byte(i);
    return out;
}

OutputPipe::~OutputPipe() {
    close_write();
    if (read_fd >= 0)
        close(read_fd);
}

bool OutputPipe::create() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return false;
    read_fd = fds[0];
    write_fd = fds[1];
    fcntl(read_fd, F_SETFL, O_NONBLOCK);
    // A larger pipe lets a fast writer go on while the runner samples /proc. The default
    // maximum for an unprivileged process is 1 MiB; failing leaves the kernel's 64 KiB.
    fcntl(read_fd, F_SETPIPE_SZ, 1 << 20);
    open = true;
    return true;
}

void OutputPipe::drain() {
    constexpr std::size_t kMaxBytesPerDrain = 8 << 20;
    char buffer[65536];
    std::size_t read_now = 0;
    while (open && read_now < kMaxBytesPerDrain) {
        ssize_t n = read(read_fd, buffer, sizeof buffer);
        if (n > 0) {
            capture_.append(std::string_view(buffer, static_cast<std::size_t>(n)));
            read_now += static_cast<std::size_t>(n);
            continue;
        }
        if (n == 0)
            open = false;
        else if (errno == EINTR)
            continue;
        return;
    }
}

void OutputPipe::close_write() {
    if (write_fd >= 0)
        close(write_fd);
    write_fd = -1;
}

void store_output(const OutputCapture& stdout_capture, const OutputCapture& stderr_capture,
                  RunRecord& record) {
    record.stdout_text = stdout_capture.text("stdout");
    record.stderr_text = stderr_capture.text("stderr");
    record.stdout_bytes = stdout_capture.written();
    record.stderr_bytes = stderr_capture.written();
    record.stdout_dropped = stdout_capture.dropped();
    record.stderr_dropped = stderr_capture.dropped();
    record.output_truncated = record.stdout_dropped + record.stderr_dropped > 0;
}

std::optional<std::uint64_t> parse_byte_size(std::string_view text) {
    std::uint64_t value = 0;
    std::size_t i = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        unsigned digit = static_cast<unsigned>(text[i] - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
            return std::nullopt;
        value = value * 10 + digit;
    }
    if (i == 0)
        return std::nullopt;
    std::string_view suffix = text.substr(i);
    if (suffix.empty())
        return value;
    if (suffix.size() != 1)
        return std::nullopt;
    int shift = 0;
    switch (suffix.front()) {
    case 'k':
    case 'K':
        shift = 10;
        break;
    case 'm':
    case 'M':
        shift = 20;
        break;
    case 'g':
    case 'G':
        shift = 30;
        break;
    default:
        return std::nullopt;
    }
    if (value > (std::numeric_limits<std::uint64_t>::max() >> shift))
        return std::nullopt;
    return value << shift;
}

std::string describe_dropped_output(std::string_view stream_name, std::uint64_t written,
                                    std::uint64_t dropped) {
    return fmt::format("{}: {} bytes written, {} dropped in the middle (head and tail kept)",
                       stream_name, with_commas(written), with_commas(dropped));
}

} // namespace forklore
