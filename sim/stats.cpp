#include "sim/stats.hpp"

#include <algorithm>
#include <cmath>

namespace forklore {

Interval wilson_interval(int successes, int trials, double z) {
    if (trials <= 0) return {0.0, 1.0};
    const double n = trials;
    const double p = successes / n;
    const double z2 = z * z;
    const double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
    return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

} // namespace forklore
