# vm-tests/lib.sh — sourced by vm-tests/run and vm-tests/demo.
# Kernels (fetched through Debian's meta packages, cached), the initramfs
# (busybox-static + /init + our static binaries), and bounded QEMU boots.
# shellcheck shell=bash
# shellcheck disable=SC2034  # VMT_* globals are the callers' results

VMT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VMT_REPO=$(dirname "$VMT_DIR")
VMT_CACHE=$VMT_DIR/.cache

vmt_ms() { date +%s%3N; }
vmt_secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f s", (b - a) / 1000 }'; }
vmt_die() { echo "vm-tests: $*" >&2; exit 2; }

vmt_need() {
    local missing=()
    local tool
    for tool in "$@"; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
    ((${#missing[@]} == 0)) || vmt_die "missing tools: ${missing[*]} (apt-get install qemu-system-x86 busybox-static)"
}

# The meta package that names the current kernel of a series.
vmt_meta_package() {
    case $1 in
        6.1) echo linux-image-cloud-amd64 ;;
        *) echo "linux-image-$1-cloud-amd64" ;;
    esac
}

vmt_resolve_meta() {
    apt-cache depends "$1" 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'
}

# vmt_fetch_kernel SERIES: sets VMT_KERNEL_IMAGE, VMT_KERNEL_PKG, VMT_KERNEL_VERSION.
# A cold cache resolves the meta package anew (old ABI packages vanish from
# the mirror); a warm one downloads nothing.
vmt_fetch_kernel() {
    local series=$1
    local dir=$VMT_CACHE/kernels/$series
    local t0
    t0=$(vmt_ms)
    if [[ ! -s $dir/vmlinuz || ! -s $dir/package ]]; then
        local meta pkg
        meta=$(vmt_meta_package "$series")
        pkg=$(vmt_resolve_meta "$meta")
        if [[ -z $pkg ]]; then
            echo "vm-tests: $meta unknown to apt-cache; running apt-get update" >&2
            apt-get update -qq >&2 || true
            pkg=$(vmt_resolve_meta "$meta")
        fi
        [[ -n $pkg ]] || vmt_die "cannot resolve $meta to a linux-image package"
        mkdir -p "$VMT_CACHE/kernels"
        local tmp
        tmp=$(mktemp -d "$VMT_CACHE/kernels/.download.XXXXXX")
        # apt-get download drops privileges to _apt when it can write the directory.
        if id _apt >/dev/null 2>&1; then chown _apt "$tmp" 2>/dev/null || true; fi
        (cd "$tmp" && apt-get download -q "$pkg" >&2) || { rm -rf "$tmp"; vmt_die "apt-get download $pkg failed"; }
        local deb
        deb=$(ls "$tmp"/*.deb)
        dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" ./boot/ || { rm -rf "$tmp"; vmt_die "cannot unpack $deb"; }
        local kver=${pkg#linux-image-}
        mkdir -p "$tmp/out"
        cp "$tmp/boot/vmlinuz-$kver" "$tmp/out/vmlinuz" || { rm -rf "$tmp"; vmt_die "no vmlinuz-$kver in $deb"; }
        cp "$tmp/boot/config-$kver" "$tmp/out/config" 2>/dev/null || true
        echo "$pkg" >"$tmp/out/package"
        dpkg-deb -f "$deb" Version >"$tmp/out/version"
        echo "$meta" >"$tmp/out/meta"
        rm -rf "$dir"
        mv "$tmp/out" "$dir"
        rm -rf "$tmp"
        VMT_KERNEL_FETCHED=downloaded
    else
        VMT_KERNEL_FETCHED=cached
    fi
    VMT_KERNEL_IMAGE=$dir/vmlinuz
    VMT_KERNEL_PKG=$(cat "$dir/package")
    VMT_KERNEL_VERSION=$(cat "$dir/version")
    echo "time: kernel $series: $VMT_KERNEL_PKG $VMT_KERNEL_VERSION ($VMT_KERNEL_FETCHED) $(vmt_secs "$t0" "$(vmt_ms)")"
}

# vmt_fetch_modules SERIES: the kernel modules the guest tests load
# (overlay.ko and loop.ko: overlayfs and loop devices are modules in
# Debian's cloud kernels; neither depends on another module), from the
# cached kernel's own package, uncompressed, into
# $VMT_CACHE/kernels/SERIES/modules/<uname -r>/; a warm cache downloads nothing.
VMT_MODULES="kernel/fs/overlayfs/overlay.ko kernel/drivers/block/loop.ko"
vmt_fetch_modules() {
    local series=$1
    local dir=$VMT_CACHE/kernels/$series
    local pkg kver m missing=0
    pkg=$(cat "$dir/package")
    kver=${pkg#linux-image-}
    for m in $VMT_MODULES; do [[ -s $dir/modules/$kver/$(basename "$m") ]] || missing=1; done
    ((missing)) || return 0
    local tmp
    tmp=$(mktemp -d "$VMT_CACHE/kernels/.modules.XXXXXX")
    if id _apt >/dev/null 2>&1; then chown _apt "$tmp" 2>/dev/null || true; fi
    (cd "$tmp" && apt-get download -q "$pkg" >&2) || { rm -rf "$tmp"; vmt_die "apt-get download $pkg failed (delete $dir to fetch the current kernel)"; }
    local dirs=() d
    for m in $VMT_MODULES; do d=./lib/modules/$kver/$(dirname "$m")/; [[ " ${dirs[*]} " == *" $d "* ]] || dirs+=("$d"); done
    dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" "${dirs[@]}" ||
        { rm -rf "$tmp"; vmt_die "no ${dirs[*]} in $pkg"; }
    mkdir -p "$dir/modules/$kver"
    for m in $VMT_MODULES; do
        local src=$tmp/lib/modules/$kver/$m out=$dir/modules/$kver/$(basename "$m")
        if [[ -e $src ]]; then cp "$src" "$out"
        elif [[ -e $src.xz ]]; then xz -dc "$src.xz" >"$out"
        elif [[ -e $src.zst ]]; then zstd -dc "$src.zst" >"$out"
        else rm -rf "$tmp"; vmt_die "no $m in $pkg"; fi
    done
    rm -rf "$tmp"
    echo "time: modules $series: $(ls "$dir/modules/$kver" | tr '\n' ' ')"
}

# vmt_new_run_dir: prints a fresh work directory for one vm-tests/run,
# $VMT_CACHE/runs/<time>.XXXXXX, and points $VMT_CACHE/last-run at it (a
# symlink replaced atomically, so concurrent runs never share a directory).
# Keeps the 10 newest runs; older ones go once idle for an hour. A last-run
# that is still a directory (older vm-tests/run) is removed once idle for
# half an hour, else left alone (a run may still be writing to it).
vmt_new_run_dir() {
    local runs=$VMT_CACHE/runs work link=$VMT_CACHE/last-run old
    mkdir -p "$runs"
    work=$(mktemp -d "$runs/$(date +%Y%m%d-%H%M%S).XXXXXX")
    chmod 755 "$work"
    if [[ -d $link && ! -L $link ]]; then
        if [[ -z $(find "$link" -mmin -30 -print -quit) ]]; then
            rm -rf "$link"
        else
            echo "vm-tests: $link is a directory a run may still use; logs are in $work" >&2
        fi
    fi
    if [[ ! -e $link || -L $link ]]; then
        ln -s "runs/${work##*/}" "$link.$$" && mv -T "$link.$$" "$link"
    fi
    while read -r old; do
        [[ -n $(find "$old" -mmin -60 -print -quit) ]] || rm -rf "$old"
    done < <(find "$runs" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn | tail -n +11 | cut -d' ' -f2-)
    echo "$work"
}

# vmt_build_initramfs OUT GUEST_TESTS BULWARK POLICIES_DIR [EXTRA_DIR]
#   GUEST_TESTS / BULWARK: static binaries, or "" to leave them out;
#   POLICIES_DIR is copied to /policies; EXTRA_DIR's contents are copied over
#   the root last (e.g. etc/vmtest/filter, demo.sh).
vmt_build_initramfs() {
    local out=$1 guest=$2 bulwark=$3 policies=$4 extra=${5:-}
    local t0 root
    t0=$(vmt_ms)
    root=$(mktemp -d "${TMPDIR:-/tmp}/bulwark-initramfs.XXXXXX")
    chmod 755 "$root"  # the guest's "/": mktemp made it 0700, which locks out uid 1000
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,srv,mnt,etc/cron.d,etc/vmtest,policies}
    local busybox
    busybox=$(command -v busybox)
    cp "$busybox" "$root/bin/busybox"
    local applet
    while read -r applet; do
        [[ -n $applet && ! -e $root/$applet ]] && ln -s /bin/busybox "$root/$applet"
    done < <("$busybox" --list-full)
    # The kernel opens /dev/console for /init before devtmpfs is mounted.
    mknod -m 600 "$root/dev/console" c 5 1
    mknod -m 666 "$root/dev/null" c 1 3

    if [[ -n $guest ]]; then strip --strip-debug -o "$root/bin/bulwark-guest-tests" "$guest"; fi
    # The programs the exec tests run (vm-tests/CMakeLists.txt builds them in
    # guest-bin/ beside the runner) go to /usr/libexec/bwt/; a dynamically
    # linked one brings its loader and libraries, at the paths it names.
    local helpers=""
    [[ -n $guest ]] && helpers=$(dirname "$guest")/guest-bin
    if [[ -n $helpers && -d $helpers ]]; then
        mkdir -p "$root/usr/libexec/bwt"
        local helper lib
        for helper in "$helpers"/*; do
            strip --strip-debug -o "$root/usr/libexec/bwt/$(basename "$helper")" "$helper"
            while read -r lib; do
                [[ -e $root$lib ]] && continue
                mkdir -p "$root$(dirname "$lib")"
                cp -L "$lib" "$root$lib"
            done < <(ldd "$helper" 2>/dev/null | grep -o '/[^ ]*' || true)
        done
    fi
    if [[ -n $bulwark ]]; then strip --strip-debug -o "$root/bin/bulwark" "$bulwark" 2>/dev/null || cp "$bulwark" "$root/bin/bulwark"; fi
    if [[ -n $policies && -d $policies ]]; then cp -r "$policies/." "$root/policies/"; fi
    # Every cached kernel's modules (vmt_fetch_modules), at /lib/modules/<uname -r>/.
    local mods
    for mods in "$VMT_CACHE"/kernels/*/modules; do
        [[ -d $mods ]] && mkdir -p "$root/lib/modules" && cp -r "$mods/." "$root/lib/modules/"
    done

    cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
bwtuser:x:1000:1000:bulwark test user:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
    cat >"$root/etc/group" <<'EOF'
root:x:0:
bwtuser:x:1000:
nogroup:x:65534:
EOF
    printf 'root:*:20000:0:99999:7:::\nbwtuser:!:20000:0:99999:7:::\n' >"$root/etc/shadow"
    printf 'root:*::\n' >"$root/etc/gshadow"
    chmod 640 "$root/etc/shadow" "$root/etc/gshadow"
    echo bulwark-guest >"$root/etc/hostname"

    cat >"$root/init" <<'EOF'
#!/bin/sh
# bulwark vm-tests guest init: mount what bulwark needs, run, power off.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
setup() { "$@" || echo "BULWARK-GUEST-SETUP-FAILED: $*"; }
setup mount -t proc proc /proc
setup mount -t sysfs sysfs /sys
setup mount -t devtmpfs devtmpfs /dev
setup mount -t securityfs securityfs /sys/kernel/security
setup mount -t bpf bpf /sys/fs/bpf
setup mount -t cgroup2 cgroup2 /sys/fs/cgroup
setup mount -t tmpfs -o mode=1777 tmpfs /tmp
setup ip link set lo up
hostname bulwark-guest
boot=normal
for word in $(cat /proc/cmdline); do
    case $word in bulwark.boot=*) boot=${word#bulwark.boot=} ;; esac
done
echo "BULWARK-GUEST-START kernel=$(uname -r) boot=$boot lsm=$(cat /sys/kernel/security/lsm)"
if [ "$boot" = demo ]; then
    sh /demo.sh
    rc=$?
else
    filter=$(cat /etc/vmtest/filter 2>/dev/null)
    /bin/bulwark-guest-tests --boot "$boot" --filter "$filter"
    rc=$?
fi
echo "BULWARK-GUEST-DONE rc=$rc"
sync
poweroff -f
EOF
    chmod 755 "$root/init"
    if [[ -n $extra && -d $extra ]]; then cp -r "$extra/." "$root/"; fi

    (cd "$root" && find . -print0 | sort -z | busybox cpio -o -H newc -0 2>/dev/null) | gzip -1 >"$out.tmp"
    mv "$out.tmp" "$out"
    rm -rf "$root"
    echo "time: initramfs $(basename "$out") ($(du -h "$out" | cut -f1)) $(vmt_secs "$t0" "$(vmt_ms)")"
}

# vmt_boot KERNEL INITRD LOG TIMEOUT_S SMP APPEND...
# One host thread runs all vCPUs of a guest (thread=single; VMT_TCG_THREAD=multi
# for one thread per vCPU). With one thread per vCPU, QEMU 7.2 let a vCPU run
# a stale int3 of the kernel's text patching (text_poke_bp: static keys at
# boot, BPF trampolines on attach): "Oops: int3" in sched_clock_cpu at 3 s of
# a 6.12 boot and at bpf_lsm_file_open+0x5 during an attach, once in a few
# full runs each. The serial console goes to LOG. QEMU's exit status means nothing (it is 0
# after a panic too): callers judge the boot by the guest's sentinel line.
vmt_boot() {
    local kernel=$1 initrd=$2 log=$3 timeout_s=$4 smp=$5
    shift 5
    local t0 rc=0
    t0=$(vmt_ms)
    timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
        -machine q35 -accel "tcg,thread=${VMT_TCG_THREAD:-single}" -cpu "${VMT_CPU:-max}" -smp "$smp" -m 1024 \
        -nodefaults -display none -no-reboot \
        -serial stdio -monitor none \
        -kernel "$kernel" -initrd "$initrd" \
        -append "console=ttyS0 panic=-1 quiet $*" \
        </dev/null >"$log" 2>&1 || rc=$?
    # Normalise the serial line endings once, for every reader of the log.
    sed -i 's/\r$//' "$log"
    VMT_BOOT_MS=$(($(vmt_ms) - t0))
    VMT_BOOT_RC=$rc
}

# vmt_sentinel LOG: prints the guest's "rc=N" status, or nothing.
vmt_sentinel() { { grep -a -o '^BULWARK-GUEST-DONE rc=[0-9]*' "$1" || true; } | tail -n1 | sed 's/.*rc=//'; }
