// The event channel's code (channel.hpp says what the channel is, who makes it and who attaches):
// the clock the probes stamp with, the shared mapping's layout, making and attaching a channel,
// recording, and reading with the TSC ticks converted to CLOCK_MONOTONIC nanoseconds.
//
// Index of this file:
// [SECTION] Constants, and the clock: TSC or CLOCK_MONOTONIC, calibration pairs
// [SECTION] The shared mapping's layout: the header and the source file table
// [SECTION] Making a channel: moving, creating, attaching
// [SECTION] Recording: events and source files
// [SECTION] Prefaulting, and the claimed and dropped counts
// [SECTION] Reading, with TSC ticks converted to nanoseconds
#include "sim/protocol/channel.hpp"

#include "sim/protocol/shared_memory.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace forklore {

// [SECTION] Constants, and the clock: TSC or CLOCK_MONOTONIC, calibration pairs -------------------

namespace {
constexpr std::uint64_t kChannelMagic = 0x65726f6c6b726f66ULL; // "forklore"
// The layout of the header and the meaning of its fields (the Event layout has its own version).
constexpr std::uint32_t kChannelLayout = 4; // 4: the source file table
constexpr std::size_t kPageSize = 4096;

std::int64_t monotonic_now() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

#if defined(__x86_64__)
std::int64_t read_tsc() noexcept {
    return static_cast<std::int64_t>(__rdtsc());
}

// An invariant TSC ticks at one constant rate in every power state, on every core (CPUID
// 0x80000007, EDX bit 8): only then may stamps from different threads and processes be compared.
bool tsc_is_invariant() noexcept {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(0x80000000, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007)
        return false;
    if (__get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx) == 0)
        return false;
    return (edx & (1u << 8)) != 0;
}
#else
std::int64_t read_tsc() noexcept {
    return 0;
}
bool tsc_is_invariant() noexcept {
    return false;
}
#endif

// The clock a new channel's probes stamp with: the TSC where it is invariant, unless
// FORKLORE_CLOCK=monotonic says otherwise.
EventClock choose_clock() {
    const char* forced = std::getenv("FORKLORE_CLOCK");
    if (forced && std::strcmp(forced, "monotonic") == 0)
        return EventClock::monotonic_ns;
    return tsc_is_invariant() ? EventClock::tsc : EventClock::monotonic_ns;
}

// One calibration pair: CLOCK_MONOTONIC read between two TSC reads, the pair with the closest
// TSC reads of a few tries (a preempted try is worthless), the TSC taken as their midpoint.
Channel::ClockPair take_clock_pair() noexcept {
    Channel::ClockPair best;
    std::int64_t best_spread = -1;
    for (int attempt = 0; attempt < 4; ++attempt) {
#if defined(__x86_64__)
        _mm_lfence();
#endif
        std::int64_t before = read_tsc();
        std::int64_t ns = monotonic_now();
#if defined(__x86_64__)
        _mm_lfence();
#endif
        std::int64_t after = read_tsc();
        if (best_spread < 0 || after - before < best_spread) {
            best_spread = after - before;
            best = {before + (after - before) / 2, ns};
        }
    }
    return best;
}

} // namespace

// [SECTION] The shared mapping's layout: the header and the source file table ---------------------

struct ChannelHeader {
    std::uint64_t magic;
    std::uint32_t schema_version;
    std::uint32_t event_size;
    std::uint64_t capacity;
    std::atomic<std::uint64_t> next;    // next slot to claim; may run past capacity
    std::atomic<std::uint64_t> dropped; // events that found no free slot
    std::uint32_t layout;               // kChannelLayout
    EventClock clock;                   // what the probes stamp events with
    std::uint16_t reserved;
    Channel::ClockPair created; // calibration pair taken when the channel was created
    // Slots after the `capacity` ordinary ones (Channel::kReserve of them), used only once those
    // are all taken, and only by the events the verdict is judged from (kept_in_reserve).
    std::atomic<std::uint64_t> next_in_reserve; // may run past the reserve
    char padding[56];
};
static_assert(sizeof(ChannelHeader) == 128, "the slots start 64-byte aligned");

// One entry of the source file table. `id` is claimed first (a compare-exchange from 0), then
// the path is written, then `ready` is set (release): a reader takes only ready entries.
struct SourceFileEntry {
    std::atomic<std::uint32_t> id;
    std::atomic<std::uint32_t> ready;
    char path[Channel::kSourcePathSize];
};
static_assert(sizeof(SourceFileEntry) == 128, "the table keeps the slots 64-byte aligned");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free,
              "noting a source file must be lock-free to be async-signal-safe");
constexpr std::size_t kSourceTableSize = Channel::kSourceFiles * sizeof(SourceFileEntry);

namespace {
// Each Channel object's serial (see Channel::serial).
std::atomic<std::uint64_t> g_next_serial{1};
} // namespace
static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "recording must be lock-free to be async-signal-safe");

// [SECTION] Making a channel: moving, creating, attaching -----------------------------------------

Channel::Channel(Channel&& other) noexcept {
    *this = std::move(other);
}

Channel& Channel::operator=(Channel&& other) noexcept {
    if (this != &other) {
        release();
        header_ = std::exchange(other.header_, nullptr);
        slots_ = std::exchange(other.slots_, nullptr);
        mapping_size_ = std::exchange(other.mapping_size_, 0);
        fd_ = std::exchange(other.fd_, -1);
        capacity_ = std::exchange(other.capacity_, 0);
        next_ = std::exchange(other.next_, nullptr);
        dropped_ = std::exchange(other.dropped_, nullptr);
        next_in_reserve_ = std::exchange(other.next_in_reserve_, nullptr);
        clock_ = std::exchange(other.clock_, EventClock::monotonic_ns);
        calibration_ = std::move(other.calibration_);
        other.calibration_.clear();
        source_files_ = std::exchange(other.source_files_, nullptr);
        serial_ = std::exchange(other.serial_, 0);
    }
    return *this;
}

Channel::~Channel() {
    release();
}

std::int64_t Channel::monotonic_ns() noexcept {
    return monotonic_now();
}

void Channel::release() noexcept {
    if (header_)
        munmap(header_, mapping_size_);
    if (fd_ >= 0)
        close(fd_);
    header_ = nullptr;
    slots_ = nullptr;
    source_files_ = nullptr;
    next_ = nullptr;
    dropped_ = nullptr;
    next_in_reserve_ = nullptr;
    fd_ = -1;
}

Channel Channel::adopt(ChannelHeader* header, std::size_t mapping_size, int fd) {
    Channel channel;
    channel.header_ = header;
    char* after_header = reinterpret_cast<char*>(header) + sizeof(ChannelHeader);
    channel.source_files_ = reinterpret_cast<SourceFileEntry*>(after_header);
    channel.slots_ = reinterpret_cast<Event*>(after_header + kSourceTableSize);
    channel.serial_ = g_next_serial.fetch_add(1, std::memory_order_relaxed);
    channel.mapping_size_ = mapping_size;
    channel.fd_ = fd;
    channel.capacity_ = header->capacity;
    channel.next_ = &header->next;
    channel.dropped_ = &header->dropped;
    channel.next_in_reserve_ = &header->next_in_reserve;
    channel.clock_ = header->clock;
    channel.calibration_.push_back(header->created);
    return channel;
}

Channel Channel::create(std::size_t capacity) {
    if (capacity == 0)
        throw std::invalid_argument("channel capacity must be positive");
    if (capacity > (std::size_t{1} << 32))
        throw std::invalid_argument("channel capacity too large");
    std::size_t size =
        sizeof(ChannelHeader) + kSourceTableSize + (capacity + kReserve) * sizeof(Event);
    auto [fd, mem] = create_shared_memory("forklore-events", size, "event channel");
    // A fresh memfd is zero-filled: every slot starts uncommitted.
    auto* header = new (mem) ChannelHeader{};
    header->magic = kChannelMagic;
    header->schema_version = kEventSchemaVersion;
    header->event_size = sizeof(Event);
    header->capacity = capacity;
    header->layout = kChannelLayout;
    header->clock = choose_clock();
    header->created = take_clock_pair();
    return adopt(header, size, fd);
}

Channel Channel::attach(int fd) {
    struct stat st {};
    if (fstat(fd, &st) != 0 ||
        static_cast<std::size_t>(st.st_size) < sizeof(ChannelHeader) + kSourceTableSize)
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
    if (header->schema_version != kEventSchemaVersion || header->layout != kChannelLayout ||
        header->event_size != sizeof(Event) ||
        (header->clock != EventClock::monotonic_ns && header->clock != EventClock::tsc) ||
        header->capacity > size / sizeof(Event) ||
        sizeof(ChannelHeader) + kSourceTableSize + (header->capacity + kReserve) * sizeof(Event) >
            size) {
        munmap(mem, size);
        throw std::runtime_error("fd " + std::to_string(fd) +
                                 " holds an event channel of another schema version");
    }
    return adopt(header, size, fd);
}

// [SECTION] Recording: events and source files ----------------------------------------------------

std::size_t Channel::capacity() const {
    return header_ ? capacity_ : 0;
}

bool Channel::record(const Event& event) noexcept {
    if (!header_)
        return false;
    std::uint64_t index = header_->next.fetch_add(1, std::memory_order_relaxed);
    if (index >= capacity_) {
        index = claim_in_reserve(event.kind);
        if (index == kNoSlot)
            return false;
    }
    Event& slot = slots_[index];
    // Copy field by field rather than assigning the struct: the commit flag must be the last
    // store, and it must be a release store so a reader that sees it sees the whole event.
    slot.kind = event.kind;
    slot.clock = EventClock::monotonic_ns;
    slot.seq = index;
    slot.time_ns = event.time_ns;
    slot.pid = event.pid;
    slot.tid = event.tid;
    slot.object = event.object;
    slot.arg0 = event.arg0;
    slot.arg1 = event.arg1;
    slot.file = event.file;
    slot.line = event.line;
    for (std::size_t i = 0; i < sizeof slot.thread; ++i)
        slot.thread[i] = event.thread[i];
    for (std::size_t i = 0; i < sizeof slot.name; ++i)
        slot.name[i] = event.name[i];
    for (std::size_t i = 0; i < sizeof slot.text; ++i)
        slot.text[i] = event.text[i];
    __atomic_store_n(&slot.committed, 1u, __ATOMIC_RELEASE);
    return true;
}

bool Channel::note_source_file(std::uint32_t id, const char* path) noexcept {
    if (!source_files_ || id == 0 || !path)
        return false;
    // Open addressing from the id's own entry: the first probe of a file claims the first free
    // entry it meets, and every later one stops at that entry (or an earlier one that is its).
    for (std::size_t probe = 0; probe < kSourceFiles; ++probe) {
        SourceFileEntry& entry = source_files_[(id + probe) % kSourceFiles];
        std::uint32_t held = entry.id.load(std::memory_order_acquire);
        if (held == 0 && entry.id.compare_exchange_strong(held, id, std::memory_order_acq_rel)) {
            std::size_t i = 0;
            for (; i + 1 < sizeof entry.path && path[i]; ++i)
                entry.path[i] = path[i];
            entry.path[i] = '\0';
            entry.ready.store(1, std::memory_order_release);
            return true;
        }
        if (held == id)
            return true; // noted already (perhaps still being written: the reader waits)
    }
    return false;
}

std::vector<std::pair<std::uint32_t, std::string>> Channel::source_files() const {
    std::vector<std::pair<std::uint32_t, std::string>> files;
    if (!source_files_)
        return files;
    for (std::size_t i = 0; i < kSourceFiles; ++i) {
        const SourceFileEntry& entry = source_files_[i];
        if (entry.ready.load(std::memory_order_acquire) != 1)
            continue;
        std::uint32_t id = entry.id.load(std::memory_order_relaxed);
        if (id == 0)
            continue;
        // The mapping is writable by the observed program: never trust the path to end.
        std::size_t length = 0;
        while (length < sizeof entry.path && entry.path[length])
            ++length;
        files.emplace_back(id, std::string(entry.path, length));
    }
    return files;
}

// [SECTION] Prefaulting, and the claimed and dropped counts ---------------------------------------

void Channel::prefault(std::size_t pages) noexcept {
    if (!header_)
        return;
    std::uint64_t next = header_->next.load(std::memory_order_relaxed);
    if (next >= capacity_)
        return;
    // For each page from the one holding the next free slot: the first slot that starts in it.
    // An atomic add of zero to that slot's commit flag writes the page without changing a byte,
    // even if a writer is filling that slot at the same instant.
    const auto base = reinterpret_cast<std::uintptr_t>(slots_);
    std::uintptr_t page = reinterpret_cast<std::uintptr_t>(&slots_[next]) & ~(kPageSize - 1);
    for (std::size_t touched = 0; touched < pages; ++touched, page += kPageSize) {
        std::uint64_t index = page <= base ? 0 : (page - base + sizeof(Event) - 1) / sizeof(Event);
        if (index >= capacity_)
            break;
        __atomic_fetch_add(&slots_[index].committed, 0u, __ATOMIC_RELAXED);
    }
}

std::uint64_t Channel::claimed() const noexcept {
    if (!header_)
        return 0;
    std::uint64_t next = header_->next.load(std::memory_order_acquire);
    if (next < capacity_)
        return next;
    // A reserve slot is claimed only after `next` passed capacity (loaded first, above).
    std::uint64_t in_reserve = next_in_reserve_->load(std::memory_order_acquire);
    return capacity_ + std::min<std::uint64_t>(in_reserve, kReserve);
}

std::uint64_t Channel::dropped() const noexcept {
    return header_ ? header_->dropped.load(std::memory_order_relaxed) : 0;
}

// [SECTION] Reading, with TSC ticks converted to nanoseconds --------------------------------------

std::size_t Channel::read(std::uint64_t& cursor, std::vector<Event>& out, bool final,
                          std::uint64_t* torn) const {
    std::size_t copied = 0;
    std::uint64_t end = claimed();
    while (cursor < end) {
        const Event& slot = slots_[cursor];
        if (__atomic_load_n(&slot.committed, __ATOMIC_ACQUIRE) != 1u) {
            if (!final)
                break;
            if (torn)
                ++*torn;
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
    convert_times(out, out.size() - copied);
    return copied;
}

void Channel::convert_times(std::vector<Event>& out, std::size_t first) const {
    std::int64_t newest = 0;
    bool any = false;
    for (std::size_t i = first; i < out.size(); ++i)
        if (out[i].clock == EventClock::tsc) {
            newest = any ? std::max(newest, out[i].time_ns) : out[i].time_ns;
            any = true;
        }
    if (!any)
        return;
    // The pair is taken after the events were copied, so it is newer than each of them: every
    // event falls between two pairs (or before the first) and is interpolated, never
    // extrapolated forward, and a later pair never changes how an older event converts.
    if (newest >= calibration_.back().ticks) {
        ClockPair now = take_clock_pair();
        if (now.ticks > calibration_.back().ticks)
            calibration_.push_back(now);
    }
    for (std::size_t i = first; i < out.size(); ++i) {
        Event& event = out[i];
        if (event.clock != EventClock::tsc) {
            event.clock = EventClock::monotonic_ns; // a value the program wrote; not ours
            continue;
        }
        // The segment [a, b] around the stamp (the first or last one outside the pairs).
        auto after = std::upper_bound(
            calibration_.begin(), calibration_.end(), event.time_ns,
            [](std::int64_t ticks, const ClockPair& pair) { return ticks < pair.ticks; });
        if (after == calibration_.begin())
            ++after;
        if (after == calibration_.end())
            --after;
        std::int64_t ns = after->ns;
        if (after != calibration_.begin()) {
            const ClockPair& a = *(after - 1);
            const ClockPair& b = *after;
            double ns_per_tick =
                static_cast<double>(b.ns - a.ns) / static_cast<double>(b.ticks - a.ticks);
            ns = a.ns + static_cast<std::int64_t>(static_cast<double>(event.time_ns - a.ticks) *
                                                  ns_per_tick);
        }
        event.time_ns = ns;
        event.clock = EventClock::monotonic_ns;
    }
}

} // namespace forklore
