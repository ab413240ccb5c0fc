#include "events/event_clock.hpp"

#include <cstdio>
#include <ctime>

namespace bulwark {
namespace {

int64_t clock_ns(clockid_t id)
{
    timespec ts{};
    clock_gettime(id, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

int64_t EventClock::unix_ns(uint64_t boot_ns)
{
    if (!have_offset_ || boot_ns > read_at_ + kReread) {
        const int64_t boot = clock_ns(CLOCK_BOOTTIME);
        offset_ = clock_ns(CLOCK_REALTIME) - boot;
        read_at_ = static_cast<uint64_t>(boot);
        have_offset_ = true;
    }
    return offset_ + static_cast<int64_t>(boot_ns);
}

std::string_view EventClock::quoted_rfc3339(uint64_t boot_ns)
{
    const int64_t ns = unix_ns(boot_ns);
    int64_t secs = ns / 1000000000;
    int64_t nanos = ns % 1000000000;
    if (nanos < 0) {
        nanos += 1000000000;
        --secs;
    }
    if (!have_second_ || secs != second_) {
        const time_t t = static_cast<time_t>(secs);
        struct tm tm {};
        gmtime_r(&t, &tm);
        char buf[80];  // room for any int, as the compiler checks
        std::snprintf(buf, sizeof buf, "\"%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        for (int i = 0; i < 21; ++i) text_[i] = buf[i];
        second_ = secs;
        have_second_ = true;
    }
    for (int i = 29; i >= 21; --i) {
        text_[i] = static_cast<char>('0' + nanos % 10);
        nanos /= 10;
    }
    text_[30] = 'Z';
    text_[31] = '"';
    return std::string_view(text_, 32);
}

}  // namespace bulwark
