#include "sim/run/stats.hpp"

#include <algorithm>
#include <cmath>

namespace forklore {

Interval wilson_interval(int successes, int trials, double z) {
    if (trials <= 0)
        return {0.0, 1.0};
    const double n = trials;
    const double p = successes / n;
    const double z2 = z * z;
    const double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
    // At 0 and at `trials` successes the bound is exactly p; rounding must not exclude it.
    const double low = successes <= 0 ? 0.0 : std::max(0.0, centre - half);
    const double high = successes >= trials ? 1.0 : std::min(1.0, centre + half);
    return {low, high};
}

} // namespace forklore
