// Small statistics for repeated runs.
#pragma once

namespace forklore {

struct Interval {
    double low = 0, high = 1;
};

// The 95% Wilson score interval for `successes` out of `trials` (z = 1.96). Unlike the normal
// approximation it stays inside [0, 1] and behaves at 0 and at `trials` successes.
Interval wilson_interval(int successes, int trials, double z = 1.959963984540054);

} // namespace forklore
