// What the schedule board's unit tests share: waiting, bounded, for the board's slots to say
// something (a thread stopped, a slot claimed).
#pragma once

#include "sim/protocol/schedule_board.hpp"

#include <chrono>
#include <functional>
#include <thread>
#include <vector>

namespace forklore::board_test {

// Waits (bounded: 10 s) until `ready` holds for the board's slots.
inline bool eventually(const ScheduleBoard& board,
                       const std::function<bool(const std::vector<StepView>&)>& ready) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < give_up) {
        if (ready(board.slots()))
            return true;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return false;
}

} // namespace forklore::board_test
