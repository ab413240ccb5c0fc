# vm-tests/systemd/image.sh — sourced by vm-tests/run (after lib.sh).
# vmt_build_systemd_initramfs OUT BUILD_DIR: an initramfs whose /init copies
# itself into a tmpfs and switch_roots into Debian's systemd (the host's
# /lib/systemd/systemd, systemctl and the libraries they need), with
# bulwark installed from BUILD_DIR by `cmake --install` (the same files the
# .deb has: /usr/sbin/bulwark, /lib/systemd/system/bulwark.service,
# /etc/bulwark/...), its unit enabled, one enforcing test policy added to
# /etc/bulwark/policies.d/, and bwt-tests.service (After=bulwark.service)
# running tests.sh, which powers the guest off when done.
# shellcheck shell=bash

vmt_build_systemd_initramfs() {
    local out=$1 build=$2
    local t0 root
    t0=$(vmt_ms)
    [[ -x /lib/systemd/systemd && -x /bin/systemctl ]] || vmt_die "no systemd on this host (apt-get install systemd)"
    root=$(mktemp -d "${TMPDIR:-/tmp}/bulwark-systemd-initramfs.XXXXXX")
    chmod 755 "$root"
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/libexec/bwt,dev,proc,sys,tmp,run,root,srv,var/log,etc/systemd/system,newroot}
    ln -s usr/lib "$root/lib" 2>/dev/null || true
    mkdir -p "$root/usr/lib" "$root/lib64"
    local busybox applet
    busybox=$(command -v busybox)
    cp "$busybox" "$root/bin/busybox"
    while read -r applet; do
        [[ -n $applet && ! -e $root/$applet ]] && ln -s /bin/busybox "$root/$applet"
    done < <("$busybox" --list-full)
    mknod -m 600 "$root/dev/console" c 5 1
    mknod -m 666 "$root/dev/null" c 1 3

    # systemd, systemctl and their libraries (at the paths the loader looks).
    local f lib
    for f in /lib/systemd/systemd /lib/systemd/systemd-shutdown /bin/systemctl; do
        mkdir -p "$root$(dirname "$f")"
        cp -L "$f" "$root$f"
        while read -r lib; do
            [[ -e $root$lib ]] && continue
            mkdir -p "$root$(dirname "$lib")"
            cp -L "$lib" "$root$lib"
        done < <(ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true)
    done
    mkdir -p "$root/lib/systemd/system"
    for f in /lib/systemd/system/{sysinit,basic,local-fs,local-fs-pre,multi-user,sockets,paths,timers,slices,shutdown,final,umount,poweroff,emergency,rescue}.target; do
        [[ -e $f ]] && cp "$f" "$root/lib/systemd/system/"
    done
    cp /etc/os-release "$root/etc/os-release" 2>/dev/null || true

    # bulwark, as the package installs it.
    DESTDIR=$root cmake --install "$build" --prefix /usr --strip >/dev/null || vmt_die "cmake --install $build failed"
    mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
    ln -s /lib/systemd/system/bulwark.service "$root/etc/systemd/system/multi-user.target.wants/bulwark.service"
    # One enforcing policy, on files in three places the unit's sandbox
    # could hide: /srv (ProtectSystem), /root (ProtectHome), /tmp (PrivateTmp).
    local d
    for d in /srv/bwt /root/bwt /tmp/bwt; do
        mkdir -p "$root$d"
        echo secret >"$root$d/secret"
    done
    cat >"$root/etc/bulwark/policies.d/zz-guest-test.toml" <<'TOML'
[policy]
name = "guest-test"
mode = "enforce"

[[file]]
paths = ["/srv/bwt/secret", "/root/bwt/secret", "/tmp/bwt/secret"]
action = "deny"
TOML
    install -m 755 "$VMT_DIR/systemd/tests.sh" "$root/usr/libexec/bwt/systemd-tests.sh"
    cat >"$root/etc/systemd/system/bwt-tests.service" <<'UNIT'
[Unit]
Description=bulwark systemd guest tests
After=bulwark.service
SuccessAction=poweroff-immediate
FailureAction=poweroff-immediate

[Service]
Type=oneshot
ExecStart=/bin/sh /usr/libexec/bwt/systemd-tests.sh
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
UNIT
    ln -s /etc/systemd/system/bwt-tests.service "$root/etc/systemd/system/multi-user.target.wants/bwt-tests.service"
    ln -s /lib/systemd/system/multi-user.target "$root/etc/systemd/system/default.target"
    # No journald in this guest: services write to the console.
    mkdir -p "$root/etc/systemd/system.conf.d"
    printf '[Manager]\nDefaultStandardOutput=tty\nDefaultStandardError=tty\nShowStatus=no\n' \
        >"$root/etc/systemd/system.conf.d/bwt.conf"

    cat >"$root/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
    printf 'root:x:0:\nadm:x:4:\nnogroup:x:65534:\n' >"$root/etc/group"
    : >"$root/etc/machine-id"
    echo bulwark-systemd-guest >"$root/etc/hostname"

    cat >"$root/init" <<'SH'
#!/bin/sh
# Into a tmpfs, then systemd as PID 1 (it cannot run on the initramfs itself:
# its sandboxing needs a real mount to remount and bind).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t tmpfs -o mode=755 tmpfs /newroot
for d in bin sbin usr lib lib64 etc root srv var tmp; do
    [ -e /$d ] && cp -a /$d /newroot/
done
mkdir -p /newroot/dev /newroot/proc /newroot/sys /newroot/run
chmod 1777 /newroot/tmp
echo "BULWARK-GUEST-START kernel=$(uname -r) boot=systemd"
umount /proc
exec switch_root /newroot /lib/systemd/systemd
SH
    chmod 755 "$root/init"

    (cd "$root" && find . -print0 | sort -z | busybox cpio -o -H newc -0 2>/dev/null) | gzip -1 >"$out.tmp"
    mv "$out.tmp" "$out"
    rm -rf "$root"
    echo "time: initramfs $(basename "$out") ($(du -h "$out" | cut -f1)) $(vmt_secs "$t0" "$(vmt_ms)")"
}
