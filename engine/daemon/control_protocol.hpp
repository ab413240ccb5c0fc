// The control socket's protocol (docs/operations.md, "Control socket"): a
// UNIX stream socket, one JSON object a line each way. The client writes
// one request, {"command":"status"|"reload"|"stop"}, and reads one answer:
//
//   status  {"type":"status",...}                (daemon/status.hpp)
//   reload  the ready line of the new generation, or the reload-failed line
//           (the same lines as in the events stream)
//   stop    {"type":"stopping","generation":N}; the daemon then detaches,
//           and closes the connection when it is about to exit
//   any     {"type":"error","error":"..."}      (bad request, refused peer)
//
// Only uid 0 is served (SO_PEERCRED); the socket is mode 0600 in a 0700
// directory besides.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bulwark {

inline constexpr const char* kDefaultControlSocket = "/run/bulwark/control.sock";
inline constexpr size_t kMaxControlRequest = 4096;  // bytes, newline included

enum class ControlCommand { status, reload, stop };

const char* to_string(ControlCommand c);
// {"command":"..."}\n
std::string control_request(ControlCommand c);
// The command of one request line (without its newline); nullopt and
// `error` set when it is not a request bulwark knows.
std::optional<ControlCommand> parse_control_request(std::string_view line, std::string& error);

// {"type":"error","error":"..."}\n
std::string control_error(std::string_view message);
// {"type":"stopping","generation":N}\n
std::string stopping_line(uint32_t generation);

// Why a peer with this uid is refused, or nullopt: only root is served.
std::optional<std::string> refuse_peer(uid_t uid);

}  // namespace bulwark
