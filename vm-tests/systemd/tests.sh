#!/bin/sh
# vm-tests/systemd/tests.sh — runs inside a guest whose PID 1 is Debian's
# systemd, with bulwark installed by `cmake --install` (the package's
# files) and its unit enabled. Prints one PASS/FAIL line per test and the
# sentinel line; `tests.sh --list` (on the host) prints the test names.
# busybox sh: no bashisms.

TESTS="ready
events
hardening
reload
restart-after-stop
crash"

name_of() {
    case $1 in
        ready) echo "systemd: Type=notify: when systemd says bulwark.service is active, the denials hold" ;;
        events) echo "systemd: the service writes ready and deny events to /var/log/bulwark/events.jsonl" ;;
        hardening) echo "systemd: each hardening directive holds on the running service, and it still enforces" ;;
        reload) echo "systemd: systemctl reload swaps the set (ExecReload=bulwark reload); a broken set fails the reload and the old one stays" ;;
        restart-after-stop) echo "systemd: systemctl stop detaches; systemctl start returns only once it enforces again" ;;
        crash) echo "systemd: a crash (SIGSEGV through systemctl kill; a direct kill from the script is refused): the pinned programs deny while none runs, the restarted service takes them over" ;;
    esac
}

if [ "${1:-}" = "--list" ]; then
    for t in $TESTS; do name_of "$t"; done
    exit 0
fi

SECRETS="/srv/bwt/secret /root/bwt/secret /tmp/bwt/secret"
why=""
# denied FILE: opening it fails with EPERM (busybox cat says so).
denied() {
    out=$(cat "$1" 2>&1) && { why="$why; $1 was readable"; return 1; }
    case $out in *"Operation not permitted"*) return 0 ;; esac
    why="$why; $1: $out"
    return 1
}
readable() { cat "$1" >/dev/null 2>&1 || { why="$why; $1 not readable: $(cat "$1" 2>&1)"; return 1; }; }
prop() { systemctl show -p "$1" --value bulwark.service; }
# wait_until SECONDS CMD...: a bound on a condition, not a delay.
wait_until() {
    n=$(($1 * 10))
    shift
    while ! "$@"; do
        n=$((n - 1))
        [ $n -gt 0 ] || return 1
        sleep 0.1
    done
}
active() { [ "$(systemctl is-active bulwark.service)" = active ]; }

t_ready() {
    # bwt-tests.service is ordered After=bulwark.service: with Type=notify it
    # starts only once bulwark said READY=1. The first look is already denied.
    for f in $SECRETS; do denied "$f" || return 1; done
    active || { why="bulwark.service is $(systemctl is-active bulwark.service)"; return 1; }
    [ "$(prop Type)" = notify ] || { why="Type=$(prop Type)"; return 1; }
    [ "$(prop StatusText)" = "enforce, generation 1" ] || { why="StatusText=$(prop StatusText)"; return 1; }
}

t_events() {
    ev=/var/log/bulwark/events.jsonl
    wait_until 30 grep -q '"type":"verdict","time":"[^"]*","kind":"file","verdict":"deny","policy":"guest-test"' "$ev" ||
        { why="no deny verdict in $ev: $(tail -3 $ev 2>&1)"; return 1; }
    grep -q '"type":"ready","generation":1,"mode":"enforce"' "$ev" || { why="no ready line in $ev"; return 1; }
    [ "$(stat -c %a /var/log/bulwark)" = 750 ] || { why="/var/log/bulwark mode $(stat -c %a /var/log/bulwark)"; return 1; }
}

# The directives of bulwark.service, seen on the running process.
t_hardening() {
    pid=$(prop MainPID)
    [ "$pid" -gt 1 ] 2>/dev/null || { why="MainPID=$pid"; return 1; }
    st=/proc/$pid/status
    # CapabilityBoundingSet: DAC_READ_SEARCH NET_ADMIN SYS_ADMIN SYS_PTRACE SYS_RESOURCE PERFMON BPF, nothing else.
    grep -q '^CapBnd:[[:space:]]*000000c001281004$' "$st" || { why="$(grep CapBnd "$st")"; return 1; }
    grep -q '^NoNewPrivs:[[:space:]]*1$' "$st" || { why="NoNewPrivileges: $(grep NoNewPrivs "$st")"; return 1; }
    # SystemCallFilter / MemoryDenyWriteExecute / RestrictNamespaces / ... are seccomp filters.
    grep -q '^Seccomp:[[:space:]]*2$' "$st" || { why="seccomp: $(grep Seccomp "$st")"; return 1; }
    mi=/proc/$pid/mountinfo
    # mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... The options of
    # the mount that covers a path: the longest mount point above it (the
    # last one listed, when mounts stack).
    opts() {
        awk -v p="$1" '{ m = $5; if (p == m || m == "/" || index(p, m "/") == 1) if (length(m) >= best) { best = length(m); o = $6 } }
            END { print o }' "$mi"
    }
    case ,$(opts /), in *,ro,*) ;; *) why="ProtectSystem=strict: / is $(opts /)"; return 1 ;; esac
    case ,$(opts /root), in *,ro,*) ;; *) why="ProtectHome=read-only: /root is '$(opts /root)'"; return 1 ;; esac
    case ,$(opts /sys/fs/bpf), in *,rw,*) ;; *) why="ReadWritePaths=/sys/fs/bpf: '$(opts /sys/fs/bpf)'"; return 1 ;; esac
    # ... and the service can make its pin directory there (in its own mount namespace).
    nsenter -t "$pid" -m -- mkdir /sys/fs/bpf/bwt-probe 2>/tmp/nsenter.err && rmdir /sys/fs/bpf/bwt-probe ||
        { why="mkdir /sys/fs/bpf/bwt-probe in the service's mount namespace: $(cat /tmp/nsenter.err)"; return 1; }
    case ,$(opts /proc/sys), in *,ro,*) ;; *) why="ReadOnlyPaths=/proc/sys: '$(opts /proc/sys)'"; return 1 ;; esac
    case ,$(opts /sys/kernel), in *,ro,*) ;; *) why="ReadOnlyPaths=/sys: /sys/kernel is '$(opts /sys/kernel)'"; return 1 ;; esac
    case ,$(opts /sys/fs/cgroup), in *,ro,*) ;; *) why="ProtectControlGroups: /sys/fs/cgroup is '$(opts /sys/fs/cgroup)'"; return 1 ;; esac
    case ,$(opts /var/log/bulwark), in *,rw,*) ;; *) why="LogsDirectory not writable: '$(opts /var/log/bulwark)'"; return 1 ;; esac
    # ProtectHome=read-only shows the real /root (same inode), so a rule
    # under it holds; the same for /tmp (no PrivateTmp): checked in t_ready.
    [ "$(stat -c %i /proc/$pid/root/root)" = "$(stat -c %i /root)" ] || { why="the service sees another /root"; return 1; }
    [ "$(stat -c %i /proc/$pid/root/tmp)" = "$(stat -c %i /tmp)" ] || { why="the service sees another /tmp"; return 1; }
    for f in $SECRETS; do denied "$f" || return 1; done
}

t_reload() {
    other=/srv/bwt/other
    echo other >"$other"
    readable "$other" || return 1
    cat >/etc/bulwark/policies.d/zz-reload.toml <<TOML
[policy]
name = "reload-test"

[[file]]
paths = ["$other"]
action = "deny"
TOML
    systemctl reload bulwark.service || { why="systemctl reload failed: $(journalctl -u bulwark -n 5 --no-pager 2>&1)"; return 1; }
    denied "$other" || return 1
    for f in $SECRETS; do denied "$f" || return 1; done
    [ "$(prop StatusText)" = "enforce, generation 2" ] || { why="after reload StatusText=$(prop StatusText)"; return 1; }
    /usr/sbin/bulwark status --json >/tmp/status.json || { why="bulwark status failed"; return 1; }
    grep -q '"generation":2,.*"reason":"bulwark reload"' /tmp/status.json || { why="status: $(cat /tmp/status.json)"; return 1; }
    echo 'actoin = "deny"' >>/etc/bulwark/policies.d/zz-reload.toml
    if systemctl reload bulwark.service 2>/dev/null; then why="systemctl reload of a broken set succeeded"; return 1; fi
    active || { why="after a refused reload bulwark.service is $(systemctl is-active bulwark.service)"; return 1; }
    denied "$other" || return 1
    for f in $SECRETS; do denied "$f" || return 1; done
    case $(prop StatusText) in *"generation 2 (the last reload failed)"*) ;; *) why="StatusText=$(prop StatusText)"; return 1 ;; esac
    rm /etc/bulwark/policies.d/zz-reload.toml
    systemctl reload bulwark.service || { why="systemctl reload after the fix failed"; return 1; }
    readable "$other" || return 1
    [ "$(prop StatusText)" = "enforce, generation 3" ] || { why="StatusText=$(prop StatusText)"; return 1; }
}

t_restart_after_stop() {
    systemctl stop bulwark.service || { why="systemctl stop failed"; return 1; }
    for f in $SECRETS; do readable "$f" || return 1; done
    systemctl start bulwark.service || { why="systemctl start failed"; return 1; }
    # start returned: READY=1 came, so the denials hold now, not later.
    for f in $SECRETS; do denied "$f" || return 1; done
}

t_crash() {
    old=$(prop MainPID)
    restarts=$(prop NRestarts)
    # This script is in the scope of the enforcing policy (it has none): it
    # cannot signal bulwark itself (docs/decisions/011-self-protection.md);
    # systemd, PID 1, can, and does when asked.
    if kill -SEGV "$old" 2>/dev/null; then why="kill -SEGV of bulwark from a process in scope succeeded"; return 1; fi
    systemctl kill --kill-whom=main --signal=SEGV bulwark.service || { why="systemctl kill failed"; return 1; }
    # No bulwark runs until systemd restarts it (RestartSec=1s): the pinned
    # programs deny all the same.
    wait_until 10 sh -c "! kill -0 $old 2>/dev/null" || { why="pid $old still alive after SIGSEGV"; return 1; }
    for f in $SECRETS; do denied "$f" || { why="while no bulwark ran: ${why#; }"; return 1; }; done
    restarted() { [ "$(prop NRestarts)" = $((restarts + 1)) ] && active && [ "$(prop MainPID)" != "$old" ]; }
    wait_until 120 restarted || { why="after SIGSEGV: NRestarts=$(prop NRestarts) state=$(systemctl is-active bulwark.service)"; return 1; }
    for f in $SECRETS; do denied "$f" || return 1; done
    # The new bulwark took the pinned programs over.
    grep -q '"reason":"takeover of generation [0-9]* from /sys/fs/bpf/bulwark"' /var/log/bulwark/events.jsonl ||
        { why="no takeover ready line: $(grep '"type":"ready"' /var/log/bulwark/events.jsonl | tail -1)"; return 1; }
}

passed=0
failed=0
for t in $TESTS; do
    why=""
    fn=t_$(echo "$t" | tr - _)
    if $fn; then
        echo "PASS $(name_of "$t")"
        passed=$((passed + 1))
    else
        echo "FAIL $(name_of "$t"): ${why#; }"
        failed=$((failed + 1))
    fi
done
if [ $failed -gt 0 ]; then
    echo "---- systemctl status bulwark.service"
    systemctl status --no-pager bulwark.service 2>&1 | head -30
fi
echo "BULWARK-GUEST-DONE rc=$failed"
