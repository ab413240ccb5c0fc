// The systemd notification protocol, written by hand (no libsystemd in a
// static binary): one datagram to the AF_UNIX socket $NOTIFY_SOCKET names
// ("@name" is the abstract namespace). bulwark says READY=1 once its
// policy set is live, RELOADING=1 / READY=1 around a reload, STOPPING=1 on
// an orderly stop. Without $NOTIFY_SOCKET (not under systemd) it does
// nothing. Never blocks: a manager whose queue is full (one that does not
// read) loses the notification rather than stalling the engine's loop.
#pragma once

#include <string_view>

namespace bulwark {

// Sends `state` (e.g. "READY=1\nSTATUS=enforcing generation 1"). false when
// there is no $NOTIFY_SOCKET or the datagram could not be sent.
bool sd_notify(std::string_view state);

}  // namespace bulwark
