// bulwark's JSON events → OCSF 1.4.0 objects, one a line (--events-format
// ocsf): File System Activity (1001), Process Activity (1007), Network
// Activity (4001) with the security_control and host profiles, and
// Application Lifecycle (6002) for bulwark's own lines. The mapping, and
// which attributes OCSF requires, are in docs/events.md ("OCSF").
// Runs on the sink writer's thread, never on the ring-buffer path.
#pragma once

#include <string>
#include <string_view>

namespace bulwark {

inline constexpr const char* kOcsfVersion = "1.4.0";

class OcsfTranslator {
public:
    OcsfTranslator();  // reads the host name once
    explicit OcsfTranslator(std::string hostname) : hostname_(std::move(hostname)) {}
    // Each line of `lines` (bulwark JSON) becomes one line of `out`; a line
    // that is not a JSON object is passed through unchanged.
    void translate(std::string_view lines, std::string& out) const;

private:
    void translate_line(std::string_view line, std::string& out) const;
    std::string hostname_;
};

}  // namespace bulwark
