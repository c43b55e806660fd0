#!/bin/bash
# The sandbox's private root, in two entry points (sandbox.py runs both):
#
#   start DIR CGROUP_PARENT DATA    as PID 1 of `unshare --mount --net --pid --uts --ipc --fork`
#   reset RUN_NAME...               inside the namespaces (nsenter), between two pages
#
# DIR (on the host) holds sock/ (daemon.json, then the socket; /sbx inside) and data/ (dockerd's
# data root, used when DATA is "disk"; with DATA=tmpfs the data root lives in memory because DIR
# is on overlayfs, where overlay2 cannot work).
#
# `start` builds a small private root, pivots into it and execs tini -> dockerd, so that
# everything a tutorial does — `-v /etc/x:/y`, `-p 4000:4000`, `--net=host`, writing /etc —
# lands in this private view. Nothing here is mounted in the host's mount namespace (all mounts
# are private), so the kernel drops them all when the namespace's last process dies: teardown
# is one SIGKILL to this process.
#
# `reset` gives the next page the sandbox `start` made: no process the page left, a fresh /etc,
# empty scratch file systems, nothing a page added to the root, /dev or /run (the RUN_NAMEs are
# what dockerd keeps there), the hostname, and no IPC objects.
set -euo pipefail

SCRATCH=(tmp root home srv opt mnt var/tmp var/log)   # empty tmpfs file systems, from the root
SKELETON=/sbx/skeleton

# A copy-on-write /etc at $3: the host's /etc ($1, read-only) below, writes in a new tmpfs at
# $2 above, so they never reach the host's /etc or disk and a remount forgets them all.
private_etc() {
    local lower=$1 layer=$2 etc=$3
    mount -t tmpfs -o mode=755 sandbox-etc "$layer"
    mkdir "$layer/u" "$layer/w"
    mount -t overlay overlay -o "lowerdir=$lower,upperdir=$layer/u,workdir=$layer/w" "$etc"
    # Fixed name resolution: the host's resolver would otherwise show up in error messages.
    # 192.0.2.0/24 is TEST-NET-1, reserved for documentation: it never answers.
    rm -f "$etc/resolv.conf" "$etc/hosts" "$etc/hostname"
    printf 'nameserver 192.0.2.53\n' >"$etc/resolv.conf"
    printf '127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
        >"$etc/hosts"
    printf 'sandbox\n' >"$etc/hostname"
}

start() {
    local dir=$1 cgroup_parent=$2 data=$3 new=$1/root m node link
    mount --make-rprivate /
    hostname sandbox
    ip link set lo up

    mkdir -p "$new"
    mount -t tmpfs -o mode=755 sandbox-root "$new"
    mkdir -p "$new"/{usr,etc,proc,sys,dev,run,var/lib/docker,sbx}
    for m in "${SCRATCH[@]}"; do
        mkdir -p "$new/$m"
        mount -t tmpfs -o mode=755 "sandbox-$(basename "$m")" "$new/$m"
    done
    chmod 1777 "$new/tmp" "$new/var/tmp"
    mount -t tmpfs -o mode=755 sandbox-run "$new/run"
    ln -s ../run "$new/var/run"
    mount --rbind /usr "$new/usr"
    mount -o remount,bind,ro "$new/usr"
    for link in bin sbin lib lib64; do       # Debian 12: /bin etc. are symlinks into /usr
        [[ -e /usr/$link ]] && ln -s "usr/$link" "$new/$link"
    done
    # /sbx is ours: the socket, and the host's /etc read-only (the lower layer `reset` remounts).
    mount --bind "$dir/sock" "$new/sbx"
    mkdir -p "$new/sbx/etc-lower" "$new/sbx/etc-layer"
    mount --bind /etc "$new/sbx/etc-lower"
    mount -o remount,bind,ro "$new/sbx/etc-lower"
    private_etc "$new/sbx/etc-lower" "$new/sbx/etc-layer" "$new/etc"
    if [[ $data == disk ]]; then
        mount --bind "$dir/data" "$new/var/lib/docker"
    else
        mount -t tmpfs -o mode=710 sandbox-data "$new/var/lib/docker"
    fi
    mount -t proc proc "$new/proc"
    mount -t sysfs sysfs "$new/sys"              # this network namespace's /sys/class/net
    mount --rbind /sys/fs/cgroup "$new/sys/fs/cgroup"
    mount -t tmpfs -o mode=755,nosuid sandbox-dev "$new/dev"
    for node in null zero full random urandom tty; do
        touch "$new/dev/$node"
        mount --bind "/dev/$node" "$new/dev/$node"
    done
    mkdir -p "$new/dev/pts" "$new/dev/shm" "$new/dev/mqueue"
    mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$new/dev/pts"
    ln -s pts/ptmx "$new/dev/ptmx"
    mount -t tmpfs -o mode=1777 sandbox-shm "$new/dev/shm"
    mount -t mqueue mqueue "$new/dev/mqueue"
    ln -s /proc/self/fd "$new/dev/fd"
    ln -s /proc/self/fd/0 "$new/dev/stdin"
    ln -s /proc/self/fd/1 "$new/dev/stdout"
    ln -s /proc/self/fd/2 "$new/dev/stderr"
    # `-v /var/run/docker.sock:...` and the default client both mean the sandbox's daemon.
    ln -s /sbx/docker.sock "$new/run/docker.sock"

    cd "$new"
    mkdir .host
    pivot_root . .host
    cd /
    umount -l /.host
    rmdir /.host
    # What `reset` keeps on the file systems that hold the skeleton (the root and /dev).
    find / /dev -xdev -mindepth 1 >"$SKELETON"

    export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
    export LC_ALL=C.UTF-8
    # Never pull: every image must be a fixture. Registry requests go to a proxy address where
    # nothing listens, so they fail at once instead of waiting on DNS or the network.
    export HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY=
    # tini reaps the containerd-shim processes that dockerd leaves to PID 1.
    exec /usr/bin/tini -- dockerd --config-file /sbx/daemon.json \
        --cgroup-parent "$cgroup_parent" --data-root /var/lib/docker --exec-root /run/docker \
        --pidfile /run/docker.pid -H unix:///sbx/docker.sock
}

# Kill what a page left running outside its shell's session (`setsid`, self-daemonising
# programs): such processes end up as children of PID 1 here. Kept: PID 1, dockerd with
# everything under it, and this script. (Containers' shims are children of PID 1 too, but
# `reset` runs after every container of the page was removed, and none exist before.)
kill_strays() {
    local -A parent name
    local stat pid fields p
    for stat in /proc/[0-9]*/stat; do
        pid=${stat#/proc/} pid=${pid%/stat}
        { IFS= read -r stat <"$stat"; } 2>/dev/null || continue
        read -r -a fields <<<"${stat##*) }"
        parent[$pid]=${fields[1]} name[$pid]=${stat#*(} name[$pid]=${name[$pid]%)*}
    done
    for pid in "${!parent[@]}"; do
        p=$pid
        while [[ $p != "$$" && ${parent[$p]:-} && ${parent[$p]} != 0 && ${parent[$p]} != 1 ]]; do
            p=${parent[$p]}
        done
        if [[ $pid != 1 && $p != "$$" && ${parent[$p]:-} == 1 && ${name[$p]} != dockerd ]]; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
}

reset() {
    local name
    cd /
    kill_strays
    # A fresh /etc: a page's edits, and the directories `-v /etc/new:/x` made, are gone. Lazy,
    # so that nothing still holding the old layer can make this fail; its tmpfs is freed after.
    umount -l /etc /sbx/etc-layer
    private_etc /sbx/etc-lower /sbx/etc-layer /etc
    find "${SCRATCH[@]/#//}" /dev/shm /dev/mqueue -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
    find / /dev -xdev -mindepth 1 -print0 | { grep -zvxF -f "$SKELETON" || true; } \
        | xargs -0r rm -rf --
    for name in /run/* /run/.[!.]*; do
        [[ -e $name || -L $name ]] || continue
        [[ " $* " == *" ${name#/run/} "* ]] || rm -rf -- "$name"
    done
    # Builtins where they do: each program started here costs milliseconds per page.
    local host shm msg sem
    read -r host </proc/sys/kernel/hostname
    [[ $host == sandbox ]] || echo sandbox >/proc/sys/kernel/hostname
    mapfile -t shm </proc/sysvipc/shm
    mapfile -t msg </proc/sysvipc/msg
    mapfile -t sem </proc/sysvipc/sem
    if ((${#shm[@]} + ${#msg[@]} + ${#sem[@]} > 3)); then ipcrm --all; fi  # 3 header lines
}

"$@"
