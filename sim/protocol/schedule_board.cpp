// The schedule board (schedule_board.hpp): the shared mapping, a thread's side (claim, wait for
// its turn, leave) and the runner's (read the slots, grant a turn, release everyone).
#include "sim/protocol/schedule_board.hpp"

#include "sim/protocol/shared_memory.hpp"

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace forklore {

namespace {

constexpr std::uint64_t kMagic = 0x666b6c2d626f6172; // "fkl-boar"
constexpr std::uint32_t kVersion = 2;                // 2: names of 88 bytes

enum SlotState : std::uint32_t {
    kFree = 0,    // never claimed
    kRunning = 1, // claimed, between two scheduling points (or blocked in the kernel)
    kWaiting = 2, // stopped at a scheduling point, its request published
    kLeft = 3,    // will not step again
};

// Shared (not FUTEX_PRIVATE): the waiter and the runner are different processes.
void futex_wait(std::atomic<std::uint32_t>* word, std::uint32_t seen) noexcept {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAIT, seen, nullptr, nullptr,
            0);
}

void futex_wake_all(std::atomic<std::uint32_t>* word) noexcept {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAKE, INT_MAX, nullptr,
            nullptr, 0);
}

// Copies a C string into a fixed field, cut to fit and NUL-padded, byte by byte (no library
// call that could be interposed in a forked child).
template <std::size_t N> void put_text(char (&field)[N], const char* text) noexcept {
    std::size_t i = 0;
    for (; text && text[i] && i + 1 < N; ++i)
        field[i] = text[i];
    for (; i < N; ++i)
        field[i] = '\0';
}

template <std::size_t N> std::string get_text(const char (&field)[N]) {
    std::size_t length = 0;
    while (length < N && field[length])
        ++length;
    return std::string(field, length);
}

} // namespace

struct StepSlot {
    std::atomic<std::uint32_t> state{kFree};
    std::atomic<std::uint32_t> turns{0}; // the futex word: +1 each time the runner lets it go
    // The turn the thread last woke up for: the runner tells a thread that was let go but is not
    // yet scheduled (still asleep on the word, as a thread blocked in the kernel looks) from one
    // that took its step and blocked.
    std::atomic<std::uint32_t> woke{0};
    std::int32_t pid = 0, tid = 0;
    std::uint64_t steps = 0; // written by the runner only
    // The request: written by the thread before its release store of kWaiting.
    std::uint32_t kind = 0, file = 0, line = 0;
    std::uint64_t object = 0;
    char name[ScheduleBoard::kNameSize] = {};
    char thread[16] = {};
};

struct BoardHeader {
    std::uint64_t magic = kMagic;
    std::uint32_t version = kVersion;
    std::atomic<std::uint32_t> released{0}; // 1: nobody waits any more
    std::atomic<std::uint32_t> claimed{0};  // slots handed out so far
    StepSlot slots[ScheduleBoard::kSlots];
};

static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

//-----------------------------------------------------------------------------
// The mapping
//-----------------------------------------------------------------------------

ScheduleBoard::ScheduleBoard(ScheduleBoard&& other) noexcept
    : fd_(other.fd_), header_(other.header_), size_(other.size_) {
    other.fd_ = -1;
    other.header_ = nullptr;
    other.size_ = 0;
}

ScheduleBoard& ScheduleBoard::operator=(ScheduleBoard&& other) noexcept {
    if (this != &other) {
        this->~ScheduleBoard();
        new (this) ScheduleBoard(std::move(other));
    }
    return *this;
}

ScheduleBoard::~ScheduleBoard() {
    if (header_)
        munmap(header_, size_);
    if (fd_ >= 0)
        close(fd_);
}

ScheduleBoard ScheduleBoard::create() {
    const std::size_t size = sizeof(BoardHeader);
    auto [fd, mem] = create_shared_memory("forklore-schedule", size, "schedule board");
    ScheduleBoard board;
    board.fd_ = fd;
    board.size_ = size;
    board.header_ = new (mem) BoardHeader();
    return board;
}

ScheduleBoard ScheduleBoard::attach(int fd) {
    const std::size_t size = sizeof(BoardHeader);
    struct stat st {};
    if (fstat(fd, &st) != 0 || static_cast<std::size_t>(st.st_size) < size)
        throw std::runtime_error("fd " + std::to_string(fd) + " holds no schedule board");
    void* mem = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED)
        throw std::system_error(errno, std::generic_category(), "mmap schedule board");
    auto* header = static_cast<BoardHeader*>(mem);
    if (header->magic != kMagic || header->version != kVersion) {
        munmap(mem, size);
        throw std::runtime_error("fd " + std::to_string(fd) +
                                 " holds no schedule board of this version");
    }
    ScheduleBoard board;
    board.fd_ = dup(fd);
    board.size_ = size;
    board.header_ = header;
    return board;
}

StepSlot* ScheduleBoard::slot_at(int slot) const noexcept {
    if (!header_ || slot < 0 || static_cast<std::size_t>(slot) >= kSlots)
        return nullptr;
    return &header_->slots[slot];
}

//-----------------------------------------------------------------------------
// A thread's side
//-----------------------------------------------------------------------------

int ScheduleBoard::claim(pid_t pid, pid_t tid, const char* thread_name) noexcept {
    if (!header_)
        return -1;
    // Slots are handed out in order and never reused: the runner's list keeps who came when.
    const std::uint32_t index = header_->claimed.fetch_add(1, std::memory_order_acq_rel);
    if (index >= kSlots)
        return -1;
    StepSlot& slot = header_->slots[index];
    slot.pid = pid;
    slot.tid = tid;
    put_text(slot.thread, thread_name);
    slot.state.store(kRunning, std::memory_order_release);
    return static_cast<int>(index);
}

void ScheduleBoard::wait_for_turn(int index, const StepRequest& request) noexcept {
    StepSlot* slot = slot_at(index);
    if (!slot || header_->released.load(std::memory_order_acquire))
        return;
    const std::uint32_t seen = slot->turns.load(std::memory_order_acquire);
    slot->kind = static_cast<std::uint32_t>(request.kind);
    slot->object = request.object;
    slot->file = request.file;
    slot->line = request.line;
    put_text(slot->name, request.name);
    slot->state.store(kWaiting, std::memory_order_release);
    // A release_all between the check above and this store must not leave the thread asleep.
    if (header_->released.load(std::memory_order_acquire)) {
        slot->state.store(kRunning, std::memory_order_release);
        return;
    }
    std::uint32_t now = seen;
    while ((now = slot->turns.load(std::memory_order_acquire)) == seen)
        futex_wait(&slot->turns, seen); // EINTR and spurious wake-ups: look again
    slot->woke.store(now, std::memory_order_release);
}

void ScheduleBoard::leave(int index) noexcept {
    if (StepSlot* slot = slot_at(index))
        slot->state.store(kLeft, std::memory_order_release);
}

//-----------------------------------------------------------------------------
// The runner's side
//-----------------------------------------------------------------------------

std::vector<StepView> ScheduleBoard::slots() const {
    std::vector<StepView> views;
    if (!header_)
        return views;
    const std::uint32_t claimed = std::min<std::uint32_t>(
        header_->claimed.load(std::memory_order_acquire), static_cast<std::uint32_t>(kSlots));
    for (std::uint32_t i = 0; i < claimed; ++i) {
        const StepSlot& slot = header_->slots[i];
        const std::uint32_t state = slot.state.load(std::memory_order_acquire);
        if (state == kFree)
            continue; // claimed a moment ago, not filled yet
        StepView view;
        view.slot = static_cast<int>(i);
        view.pid = slot.pid;
        view.tid = slot.tid;
        view.thread = get_text(slot.thread);
        view.waiting = state == kWaiting;
        view.left = state == kLeft;
        view.steps = slot.steps;
        view.awake =
            slot.woke.load(std::memory_order_acquire) == slot.turns.load(std::memory_order_acquire);
        if (view.waiting) {
            view.kind = static_cast<EventKind>(slot.kind);
            view.object = slot.object;
            view.file = slot.file;
            view.line = slot.line;
            view.name = get_text(slot.name);
        }
        views.push_back(std::move(view));
    }
    return views;
}

bool ScheduleBoard::grant(int index) noexcept {
    StepSlot* slot = slot_at(index);
    if (!slot)
        return false;
    std::uint32_t expected = kWaiting;
    if (!slot->state.compare_exchange_strong(expected, kRunning, std::memory_order_acq_rel))
        return false;
    ++slot->steps;
    slot->turns.fetch_add(1, std::memory_order_acq_rel);
    futex_wake_all(&slot->turns);
    return true;
}

void ScheduleBoard::release_all() noexcept {
    if (!header_)
        return;
    header_->released.store(1, std::memory_order_release);
    const std::uint32_t claimed = std::min<std::uint32_t>(
        header_->claimed.load(std::memory_order_acquire), static_cast<std::uint32_t>(kSlots));
    for (std::uint32_t i = 0; i < claimed; ++i)
        grant(static_cast<int>(i));
}

} // namespace forklore
