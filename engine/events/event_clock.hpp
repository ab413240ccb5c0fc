// Event timestamps without a system call or snprintf per event: the kernel
// stamps records with CLOCK_BOOTTIME; events print RFC 3339 UTC. The
// offset between the boot and wall clocks is read again whenever a record
// is more than 10 ms newer than the last reading (a lone event always reads
// it fresh; a burst reads it once per 10 ms of records, and the wall clock
// moves by microseconds at most in that time unless someone steps it).
// The text up to the second is formatted once per second.
#pragma once

#include <cstdint>
#include <string_view>

namespace bulwark {

class EventClock {
public:
    // Unix time in ns of a CLOCK_BOOTTIME time.
    int64_t unix_ns(uint64_t boot_ns);
    // "\"2026-11-25T16:40:01.123456789Z\"" (quotes included: a JSON value),
    // valid until the next call.
    std::string_view quoted_rfc3339(uint64_t boot_ns);

private:
    static constexpr uint64_t kReread = 10'000'000;  // ns of record time between clock readings
    int64_t offset_ = 0;           // CLOCK_REALTIME - CLOCK_BOOTTIME at the last reading
    uint64_t read_at_ = 0;         // boot time of that reading
    bool have_offset_ = false;
    int64_t second_ = 0;           // the second prefix_ holds
    bool have_second_ = false;
    char text_[34] = {};           // "\"YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ\""
};

}  // namespace bulwark
