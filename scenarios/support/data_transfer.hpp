// Shared by the "moving data" scenarios (130, 140): a data pattern both sides can produce, a
// checksum that can be computed in pieces, whole-buffer reads and writes, big buffers, and a
// monotonic clock for the measurements.
//
// The pattern and the checksum are deliberately cheap (a few instructions per 8-byte word) so
// that the figures measure moving the data, not computing it.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace forklore::data_transfer {

constexpr std::size_t kMiB = std::size_t{1} << 20;

inline double now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// The 8-byte word at index `index` of the pattern: a multiply-xorshift of the index, so every
// word differs and a misplaced or missing piece changes the checksum.
inline std::uint64_t pattern_word(std::uint64_t index) {
    std::uint64_t z = (index + 1) * 0x9E3779B97F4A7C15ULL;
    return z ^ (z >> 31);
}

// Fills `bytes` bytes with the pattern, starting at word `first_word` (so a stream can be made
// in pieces of whole words). A partial last word gets the first bytes of its word.
inline void fill_pattern(void* destination, std::size_t bytes, std::uint64_t first_word = 0) {
    auto* words = static_cast<std::uint64_t*>(destination);
    const std::size_t whole = bytes / 8;
    for (std::size_t i = 0; i < whole; ++i)
        words[i] = pattern_word(first_word + i);
    if (bytes % 8 != 0) {
        std::uint64_t last = pattern_word(first_word + whole);
        std::memcpy(static_cast<char*>(destination) + whole * 8, &last, bytes % 8);
    }
}

// A checksum of a byte stream, fed in pieces: every piece but the last must be a multiple of
// 32 bytes (four independent lanes of 8-byte words, so the multiplies overlap).
class Checksum {
  public:
    void add(const void* data, std::size_t bytes) {
        const auto* p = static_cast<const unsigned char*>(data);
        std::size_t i = 0;
        for (; i + 32 <= bytes; i += 32)
            mix(p + i);
        if (i < bytes) { // the tail: zero-padded into one more round
            unsigned char tail[32] = {};
            std::memcpy(tail, p + i, bytes - i);
            mix(tail);
        }
        total_ += bytes;
    }
    std::uint64_t value() const {
        std::uint64_t h = total_ * 0x9E3779B97F4A7C15ULL;
        for (std::uint64_t lane : lanes_)
            h = (h ^ lane) * 0xFF51AFD7ED558CCDULL;
        return h ^ (h >> 33);
    }

  private:
    void mix(const unsigned char* block) {
        for (int lane = 0; lane < 4; ++lane) {
            std::uint64_t word;
            std::memcpy(&word, block + 8 * lane, 8);
            lanes_[lane] = (lanes_[lane] ^ word) * 0x100000001B3ULL;
        }
    }
    std::uint64_t lanes_[4] = {1, 2, 3, 4};
    std::uint64_t total_ = 0;
};

inline std::uint64_t checksum_of(const void* data, std::size_t bytes) {
    Checksum sum;
    sum.add(data, bytes);
    return sum.value();
}

// Fills `bytes` bytes with the pattern and returns their checksum, in one pass: each piece is
// summed while it is still in the cache, instead of reading the whole buffer from memory again.
inline std::uint64_t fill_pattern_and_sum(void* destination, std::size_t bytes) {
    constexpr std::size_t kPiece = 256 * 1024; // a multiple of 32 that fits in L2
    Checksum sum;
    char* p = static_cast<char*>(destination);
    for (std::size_t done = 0; done < bytes; done += kPiece) {
        const std::size_t piece = bytes - done < kPiece ? bytes - done : kPiece;
        fill_pattern(p + done, piece, done / 8);
        sum.add(p + done, piece);
    }
    return sum.value();
}

// An anonymous mapping for big buffers. Transparent huge pages where the kernel offers them
// (madvise mode): touching 512 MiB then takes 256 page faults instead of 131072.
class BigBuffer {
  public:
    BigBuffer() = default;
    explicit BigBuffer(std::size_t bytes) : bytes_(bytes) {
        void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            bytes_ = 0;
            return;
        }
        madvise(p, bytes, MADV_HUGEPAGE);
        data_ = static_cast<char*>(p);
    }
    BigBuffer(const BigBuffer&) = delete;
    BigBuffer& operator=(const BigBuffer&) = delete;
    ~BigBuffer() {
        if (data_)
            munmap(data_, bytes_);
    }
    char* data() const { return data_; }
    std::size_t size() const { return bytes_; }
    explicit operator bool() const { return data_ != nullptr; }

  private:
    char* data_ = nullptr;
    std::size_t bytes_ = 0;
};

// A pipe (or FIFO) buffer of 1 MiB instead of 64 KiB: fewer sleeps and wake-ups per MiB.
// 1 MiB is /proc/sys/fs/pipe-max-size, the most an unprivileged process may ask for.
inline void widen_pipe(int fd) {
    fcntl(fd, F_SETPIPE_SZ, static_cast<int>(kMiB));
}

inline std::string hex(std::uint64_t value) {
    char text[17];
    for (int i = 15; i >= 0; --i, value >>= 4)
        text[i] = "0123456789abcdef"[value & 15];
    text[16] = '\0';
    return text;
}

} // namespace forklore::data_transfer
