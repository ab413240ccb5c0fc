#include "daemon/control_protocol.hpp"

#include "util/json.hpp"
#include "util/json_value.hpp"

namespace bulwark {

const char* to_string(ControlCommand c)
{
    switch (c) {
    case ControlCommand::status: return "status";
    case ControlCommand::reload: return "reload";
    case ControlCommand::stop: return "stop";
    }
    return "?";
}

std::string control_request(ControlCommand c)
{
    std::string out;
    JsonLine(out).field("command", to_string(c)).end();
    return out;
}

std::optional<ControlCommand> parse_control_request(std::string_view line, std::string& error)
{
    std::string why;
    auto v = JsonValue::parse(line, &why);
    if (!v || !v->is_object()) {
        error = "the request is not a JSON object" + (why.empty() ? "" : ": " + why) +
                "; send one line such as {\"command\":\"status\"}";
        return std::nullopt;
    }
    const JsonValue* cmd = v->get("command");
    if (!cmd || !cmd->is_string()) {
        error = "the request has no \"command\" string; commands: reload, status, stop";
        return std::nullopt;
    }
    for (auto c : {ControlCommand::status, ControlCommand::reload, ControlCommand::stop})
        if (cmd->string() == to_string(c)) return c;
    error = "unknown command \"" + cmd->string() + "\"; commands: reload, status, stop";
    return std::nullopt;
}

std::string control_error(std::string_view message)
{
    std::string out;
    JsonLine(out).field("type", "error").field("error", message).end();
    return out;
}

std::string stopping_line(uint32_t generation)
{
    std::string out;
    JsonLine(out).field("type", "stopping").field("generation", generation).end();
    return out;
}

std::optional<std::string> refuse_peer(uid_t uid)
{
    if (uid == 0) return std::nullopt;
    return "refused: the control socket serves root only, and this peer runs as uid " + std::to_string(uid) +
           "; run the command as root (sudo bulwark ...)";
}

}  // namespace bulwark
