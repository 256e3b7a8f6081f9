// The Wilson score interval used for hang rates over repeated runs.
#include "sim/run/stats.hpp"

#include <catch2/catch.hpp>

using namespace forklore;

namespace {
constexpr double kEps = 1e-4;
}

TEST_CASE("Wilson interval: known values", "[stats]") {
    SECTION("no successes") {
        Interval i = wilson_interval(0, 10);
        CHECK(i.low == 0.0); // exactly: 0 of n can be the true rate
        CHECK(i.high == Approx(0.2775).margin(kEps));
    }
    SECTION("all successes") {
        Interval i = wilson_interval(10, 10);
        CHECK(i.low == Approx(0.7225).margin(kEps));
        CHECK(i.high == 1.0); // exactly
    }
    SECTION("half") {
        Interval i = wilson_interval(5, 10);
        CHECK(i.low == Approx(0.2366).margin(kEps));
        CHECK(i.high == Approx(0.7634).margin(kEps));
    }
    SECTION("1 of 40") {
        Interval i = wilson_interval(1, 40);
        CHECK(i.low == Approx(0.00443).margin(kEps));
        CHECK(i.high == Approx(0.12883).margin(kEps));
    }
    SECTION("no trials says nothing") {
        Interval i = wilson_interval(0, 0);
        CHECK(i.low == 0.0);
        CHECK(i.high == 1.0);
    }
    SECTION("a wider z gives a wider interval") {
        Interval narrow = wilson_interval(5, 10, 1.0);
        Interval wide = wilson_interval(5, 10);
        CHECK(narrow.low > wide.low);
        CHECK(narrow.high < wide.high);
    }
}

TEST_CASE("Wilson interval: always inside [0, 1], contains the observed rate, narrows with n",
          "[stats]") {
    for (int trials = 1; trials <= 200; ++trials) {
        for (int successes = 0; successes <= trials; ++successes) {
            INFO(successes << " of " << trials);
            const Interval i = wilson_interval(successes, trials);
            const double p = static_cast<double>(successes) / trials;
            REQUIRE(i.low >= 0.0);
            REQUIRE(i.high <= 1.0);
            REQUIRE(i.low <= p);
            REQUIRE(p <= i.high);
            REQUIRE(i.low < i.high);
            // Symmetric: k successes and k failures mirror each other.
            const Interval mirror = wilson_interval(trials - successes, trials);
            REQUIRE(i.low == Approx(1.0 - mirror.high).margin(1e-12));
        }
    }
    // The same rate over more runs is known more precisely.
    double previous = 1.0;
    for (int trials : {10, 40, 100, 1000, 10000}) {
        const Interval i = wilson_interval(trials / 2, trials);
        CHECK(i.high - i.low < previous);
        previous = i.high - i.low;
    }
}
