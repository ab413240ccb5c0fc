#include "run_options.hpp"

#include "metrics/http_server.hpp"
#include "util/error.hpp"

#include <boost/program_options.hpp>

namespace po = boost::program_options;

namespace bulwark {

void validate(boost::any& v, const std::vector<std::string>& values, EventsFormat*, int)
{
    po::validators::check_first_occurrence(v);
    const std::string& s = po::validators::get_single_string(values);
    if (s != "json" && s != "ocsf")
        throw po::error("events-format \"" + s + "\" is not a format; the formats are \"json\" and \"ocsf\"");
    v = EventsFormat{s};
}

void validate(boost::any& v, const std::vector<std::string>& values, RingBufferMb*, int)
{
    po::validators::check_first_occurrence(v);
    const std::string& s = po::validators::get_single_string(values);
    char* end = nullptr;
    unsigned long n = std::strtoul(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || n == 0 || n > 1024 || (n & (n - 1)) != 0)
        throw po::error("ring-buffer-mb \"" + s + "\" is not a size; write MiB, a power of two from 1 to 1024");
    v = RingBufferMb{static_cast<uint32_t>(n)};
}

void validate(boost::any& v, const std::vector<std::string>& values, ListenAddress*, int)
{
    po::validators::check_first_occurrence(v);
    const std::string& s = po::validators::get_single_string(values);
    try {
        parse_listen_address(s);
    } catch (const Error& e) {
        throw po::error(std::string(e.what()) + "; " + e.hint());
    }
    v = ListenAddress{s};
}

}  // namespace bulwark
