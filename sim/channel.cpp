#include "sim/channel.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace forklore {

namespace {
constexpr std::uint64_t kChannelMagic = 0x65726f6c6b726f66ULL; // "forklore"
}

struct ChannelHeader {
    std::uint64_t magic;
    std::uint32_t schema_version;
    std::uint32_t event_size;
    std::uint64_t capacity;
    std::atomic<std::uint64_t> next;    // next slot to claim; may run past capacity
    std::atomic<std::uint64_t> dropped; // events that found no free slot
    // Slots after the `capacity` ordinary ones, used only once those are all taken, and only by
    // the events the verdict is judged from (Channel::kept_in_reserve).
    std::uint64_t reserve;
    std::atomic<std::uint64_t> next_in_reserve; // may run past reserve
    char padding[8];                            // keep the slots 64-byte aligned
};
static_assert(sizeof(ChannelHeader) == 64);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "recording must be lock-free to be async-signal-safe");

Channel::Channel(Channel&& other) noexcept { *this = std::move(other); }

Channel& Channel::operator=(Channel&& other) noexcept {
    if (this != &other) {
        this->~Channel();
        header_ = std::exchange(other.header_, nullptr);
        slots_ = std::exchange(other.slots_, nullptr);
        mapping_size_ = std::exchange(other.mapping_size_, 0);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

Channel::~Channel() {
    if (header_) munmap(header_, mapping_size_);
    if (fd_ >= 0) close(fd_);
    header_ = nullptr;
    fd_ = -1;
}

Channel Channel::adopt(ChannelHeader* header, std::size_t mapping_size, int fd) {
    Channel channel;
    channel.header_ = header;
    channel.slots_ = reinterpret_cast<Event*>(reinterpret_cast<char*>(header) + sizeof(ChannelHeader));
    channel.mapping_size_ = mapping_size;
    channel.fd_ = fd;
    return channel;
}

bool Channel::kept_in_reserve(EventKind kind) noexcept {
    // Who exited and how (the reaper's record of every process), and which deaths by a signal
    // were meant: without them a run whose channel filled up would be judged on its first
    // process's status alone (a child that crashed after the channel filled would go unseen).
    return kind == EventKind::process_exit || kind == EventKind::signal_sent;
}

Channel Channel::create(std::size_t capacity) {
    if (capacity == 0) throw std::invalid_argument("channel capacity must be positive");
    int fd = memfd_create("forklore-events", MFD_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "memfd_create");
    std::size_t size = sizeof(ChannelHeader) + (capacity + kReserve) * sizeof(Event);
    if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
        int err = errno;
        close(fd);
        throw std::system_error(err, std::generic_category(), "ftruncate event channel");
    }
    void* mem = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED) {
        int err = errno;
        close(fd);
        throw std::system_error(err, std::generic_category(), "mmap event channel");
    }
    // A fresh memfd is zero-filled: every slot starts uncommitted.
    auto* header = new (mem) ChannelHeader{};
    header->magic = kChannelMagic;
    header->schema_version = kEventSchemaVersion;
    header->event_size = sizeof(Event);
    header->capacity = capacity;
    header->reserve = kReserve;
    return adopt(header, size, fd);
}

Channel Channel::attach(int fd) {
    struct stat st {};
    if (fstat(fd, &st) != 0 || static_cast<std::size_t>(st.st_size) < sizeof(ChannelHeader))
        throw std::runtime_error("fd " + std::to_string(fd) + " is not an event channel");
    std::size_t size = static_cast<std::size_t>(st.st_size);
    void* mem = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED)
        throw std::system_error(errno, std::generic_category(), "mmap event channel");
    auto* header = static_cast<ChannelHeader*>(mem);
    if (header->magic != kChannelMagic) {
        munmap(mem, size);
        throw std::runtime_error("fd " + std::to_string(fd) + " is not an event channel");
    }
    if (header->schema_version != kEventSchemaVersion ||
        header->event_size != sizeof(Event) || header->capacity > size ||
        header->reserve > size ||
        sizeof(ChannelHeader) + (header->capacity + header->reserve) * sizeof(Event) > size) {
        munmap(mem, size);
        throw std::runtime_error("fd " + std::to_string(fd) +
                                 " holds an event channel of another schema version");
    }
    return adopt(header, size, fd);
}

std::size_t Channel::capacity() const { return header_ ? header_->capacity : 0; }

bool Channel::record(const Event& event) noexcept {
    if (!header_) return false;
    std::uint64_t index = header_->next.fetch_add(1, std::memory_order_relaxed);
    if (index >= header_->capacity) {
        // Full. The reserve comes after every ordinary slot, and is used only once they are all
        // taken: reading the slots in index order still reads the events in the order they
        // were claimed.
        std::uint64_t in_reserve = header_->reserve;
        if (kept_in_reserve(event.kind))
            in_reserve = header_->next_in_reserve.fetch_add(1, std::memory_order_relaxed);
        if (in_reserve >= header_->reserve) {
            header_->dropped.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        index = header_->capacity + in_reserve;
    }
    Event& slot = slots_[index];
    // Copy field by field rather than assigning the struct: the commit flag must be the last
    // store, and it must be a release store so a reader that sees it sees the whole event.
    slot.kind = event.kind;
    slot.reserved = 0;
    slot.seq = index;
    slot.time_ns = event.time_ns;
    slot.pid = event.pid;
    slot.tid = event.tid;
    slot.object = event.object;
    slot.arg0 = event.arg0;
    slot.arg1 = event.arg1;
    for (std::size_t i = 0; i < sizeof slot.thread; ++i) slot.thread[i] = event.thread[i];
    for (std::size_t i = 0; i < sizeof slot.name; ++i) slot.name[i] = event.name[i];
    for (std::size_t i = 0; i < sizeof slot.text; ++i) slot.text[i] = event.text[i];
    __atomic_store_n(&slot.committed, 1u, __ATOMIC_RELEASE);
    return true;
}

std::uint64_t Channel::claimed() const noexcept {
    if (!header_) return 0;
    std::uint64_t next = header_->next.load(std::memory_order_acquire);
    if (next < header_->capacity) return next;
    // A reserve slot is claimed only after `next` passed capacity (loaded first, above).
    std::uint64_t in_reserve = header_->next_in_reserve.load(std::memory_order_acquire);
    return header_->capacity + std::min(in_reserve, header_->reserve);
}

std::uint64_t Channel::dropped() const noexcept {
    return header_ ? header_->dropped.load(std::memory_order_relaxed) : 0;
}

std::size_t Channel::read(std::uint64_t& cursor, std::vector<Event>& out, bool final,
                          std::uint64_t* torn) const {
    std::size_t copied = 0;
    std::uint64_t end = claimed();
    while (cursor < end) {
        const Event& slot = slots_[cursor];
        if (__atomic_load_n(&slot.committed, __ATOMIC_ACQUIRE) != 1u) {
            if (!final) break;
            if (torn) ++*torn;
            ++cursor;
            continue;
        }
        out.push_back(slot);
        // The mapping is writable by the observed program: never trust its strings to end.
        Event& copy = out.back();
        copy.thread[sizeof copy.thread - 1] = '\0';
        copy.name[sizeof copy.name - 1] = '\0';
        copy.text[sizeof copy.text - 1] = '\0';
        ++cursor;
        ++copied;
    }
    return copied;
}

} // namespace forklore
