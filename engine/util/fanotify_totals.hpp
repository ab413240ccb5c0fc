// What the fanotify backend counts beyond verdicts, as plain values: read
// from its atomics (fanotify/decider.hpp) and shown by `bulwark status`
// ("fanotify") and the metrics (bulwark_fanotify_*_total).
#pragma once

#include <cstdint>

namespace bulwark {

struct FanotifyTotals {
    uint64_t events = 0;        // permission events decided and answered (bulwark's own not included)
    uint64_t ignored = 0;       // ignore marks set: files no policy can deny to anyone, not asked again
    uint64_t own = 0;           // bulwark's own opens, allowed unasked
    uint64_t cache_hits = 0;    // files whose dentry chain was already known
    uint64_t unknown_call = 0;  // opens whose flags could not be read: read and write assumed
    uint64_t failed = 0;        // decisions that failed (out of memory): answered allow, no record
};

}  // namespace bulwark
