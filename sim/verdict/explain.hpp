// Internal to the verdict engine: everything its sentences are built from, in one include. What
// the trace says about a lock, a thread or a process (trace_lookups.hpp); what a thread waits for
// on a futex nobody owns (wait_objects.hpp); the phrases (phrases.hpp). The sentences themselves
// are explain.cpp's; they are declared with the verdict (verdict.hpp: explain_deadlock,
// explain_timeout).
#pragma once

#include "sim/verdict/phrases.hpp"
#include "sim/verdict/trace_lookups.hpp"
#include "sim/verdict/wait_objects.hpp"
