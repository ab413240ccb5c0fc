// The values of `bulwark run`'s options that need checking, each with its
// one parser (a Boost.Program_options validator), so that a flag and the
// same key in bulwark.toml are read by the same code and fail the same way.
#pragma once

#include <boost/any.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace bulwark {

// --events-format json|ocsf
struct EventsFormat {
    std::string value = "json";
};
// --ring-buffer-mb: MiB, a power of two
struct RingBufferMb {
    uint32_t value = 4;
};
// --metrics ADDRESS:PORT
struct ListenAddress {
    std::string value;
};

void validate(boost::any& v, const std::vector<std::string>& values, EventsFormat*, int);
void validate(boost::any& v, const std::vector<std::string>& values, RingBufferMb*, int);
void validate(boost::any& v, const std::vector<std::string>& values, ListenAddress*, int);

}  // namespace bulwark
