// bulwark reload | stop | status: the clients of a running `bulwark run`'s
// control socket (daemon/control_protocol.hpp). Exit statuses (man
// bulwark.1): 0 done; 1 reload refused (the diagnostics on stderr; the
// previous set stays in force); 2 usage; 4 the daemon refused or did not
// answer; 5 no bulwark is running.
#include "commands.hpp"
#include "daemon/control_client.hpp"
#include "daemon/status.hpp"
#include "kernel/pinned_state.hpp"
#include "kernel/pinned_status.hpp"
#include "util/error.hpp"
#include "util/json_value.hpp"

#include <boost/program_options.hpp>
#include <iostream>

namespace po = boost::program_options;

namespace bulwark {
namespace {

struct ClientOptions {
    std::string socket = kDefaultControlSocket;
    bool json = false;
    unsigned timeout = 0;
    std::string pin_dir = kDefaultPinDir;
};

// nullopt: help printed or a usage error (the exit status in `rc`).
std::optional<ClientOptions> parse(const Args& args, const char* usage, bool with_json, unsigned timeout, int& rc)
{
    ClientOptions o;
    o.timeout = timeout;
    po::options_description desc(usage);
    desc.add_options()("help,h", "this help")(
        "socket", po::value(&o.socket), "the daemon's control socket (default /run/bulwark/control.sock)")(
        "timeout", po::value(&o.timeout), "seconds to wait for the answer");
    if (with_json)
        desc.add_options()("json", po::bool_switch(&o.json), "the status as one JSON object")(
            "pin-dir", po::value(&o.pin_dir),
            "with no daemon answering, report from the pins here (default /sys/fs/bpf/bulwark)");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(desc).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "bulwark: " << e.what() << "\n\n" << desc << '\n';
        rc = exit_usage;
        return std::nullopt;
    }
    if (vm.count("help")) {
        std::cout << desc << '\n';
        rc = exit_ok;
        return std::nullopt;
    }
    return o;
}

JsonValue answer_of(const std::string& line)
{
    auto v = JsonValue::parse(line);
    if (!v || !v->is_object()) throw Error("the daemon answered something that is not JSON: " + line);
    if (v->str("type") == "error") throw Error("the daemon refused: " + v->str("error"));
    return *v;
}

// The daemon's side is down: say so, exit 5. (The pinned state, when there
// is one, is read here: kernel/pin_*.)
int not_running(const NoDaemon& e, const char* command)
{
    std::cerr << "bulwark " << command << ": " << e.what() << '\n';
    if (!e.hint().empty()) std::cerr << "bulwark " << command << ": hint: " << e.hint() << '\n';
    return exit_not_running;
}

}  // namespace

int cmd_reload(const Args& args)
{
    int rc = 0;
    auto o = parse(args,
                   "usage: bulwark reload [--socket PATH]\n\n"
                   "Ask the running bulwark to re-read its --policy paths, compile the whole set and\n"
                   "make it live in one atomic step (the same as kill -HUP). A set with any error is\n"
                   "refused as a whole: the diagnostics go to stderr, the previous set stays in force.\n"
                   "Exit status: 0 the new generation is live; 1 refused; 4 the daemon did not answer;\n"
                   "5 no bulwark is running.\n\n"
                   "examples:\n"
                   "  bulwark reload\n"
                   "  bulwark reload --socket /tmp/bulwark/control.sock\n\noptions",
                   false, 300, rc);
    if (!o) return rc;
    try {
        ControlClient client(o->socket);
        JsonValue v = answer_of(client.call(ControlCommand::reload, int(o->timeout) * 1000));
        const int64_t generation = v.get("generation") ? v.get("generation")->integer() : 0;
        if (v.str("type") == "ready") {
            std::cout << "bulwark reload: generation " << generation << " is live (" << v.str("mode") << ")\n";
            return exit_ok;
        }
        std::cerr << "bulwark reload: refused; generation " << generation << " stays in force:\n";
        if (const JsonValue* errors = v.get("errors"); errors && errors->is_array())
            for (const auto& e : errors->array()) std::cerr << e.string() << '\n';
        return exit_policy_errors;
    } catch (const NoDaemon& e) {
        return not_running(e, "reload");
    }
}

int cmd_stop(const Args& args)
{
    int rc = 0;
    auto o = parse(args,
                   "usage: bulwark stop [--socket PATH]\n\n"
                   "Orderly stop of the running bulwark, the same as SIGTERM: it detaches every\n"
                   "program, writes its last events and exits. Returns once it has.\n"
                   "Exit status: 0 stopped; 4 the daemon did not answer or did not exit in time;\n"
                   "5 no bulwark is running.\n\n"
                   "examples:\n"
                   "  bulwark stop\n"
                   "  bulwark stop --socket /tmp/bulwark/control.sock\n\noptions",
                   false, 60, rc);
    if (!o) return rc;
    try {
        ControlClient client(o->socket);
        JsonValue v = answer_of(client.call(ControlCommand::stop, 10000));
        if (!client.wait_closed(int(o->timeout) * 1000))
            throw Error("bulwark said it was stopping but had not exited after " + std::to_string(o->timeout) + " s");
        const JsonValue* generation = v.get("generation");
        std::cout << "bulwark stop: stopped; generation " << (generation ? generation->integer() : 0)
                  << " detached\n";
        return exit_ok;
    } catch (const NoDaemon& e) {
        return not_running(e, "stop");
    }
}

int cmd_status(const Args& args)
{
    int rc = 0;
    auto o = parse(args,
                   "usage: bulwark status [--json] [--socket PATH]\n\n"
                   "What the running bulwark has in force: generation and since when, policies with\n"
                   "their files, SHA-256 and mode, programs attached, hooks this kernel lacks, uptime,\n"
                   "the last reload's result, events written and lost.\n"
                   "With no daemon answering, it reports from the pinned state (--pin-dir) what the\n"
                   "kernel still enforces (\"source\":\"pins\").\n"
                   "Exit status: 0 reported; 4 the daemon did not answer; 5 no bulwark is running\n"
                   "and nothing is pinned.\n\n"
                   "examples:\n"
                   "  bulwark status\n"
                   "  bulwark status --json | jq .generation\n\noptions",
                   true, 10, rc);
    if (!o) return rc;
    try {
        ControlClient client(o->socket);
        std::string line = client.call(ControlCommand::status, int(o->timeout) * 1000);
        JsonValue v = answer_of(line);
        if (o->json)
            std::cout << line << '\n';
        else
            std::cout << status_text(v);
        return exit_ok;
    } catch (const NoDaemon& e) {
        // No engine: the pinned programs may still enforce. Say what.
        if (auto pins = o->pin_dir.empty() ? std::nullopt : status_from_pins(o->pin_dir)) {
            const std::string line = status_json(*pins);
            if (o->json)
                std::cout << line;
            else if (auto v = JsonValue::parse(line))
                std::cout << status_text(*v);
            return exit_ok;
        }
        return not_running(e, "status");
    }
}

}  // namespace bulwark
