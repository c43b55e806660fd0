#!/bin/bash
# The sandbox's private world, in three entry points (namespace.py runs them):
#
#   outer DIR     a private mount namespace, as real root (or, for a non-root runner, as root of
#                 the user's own user namespace): joins the sandbox's cgroups, builds the new root
#                 from the files in DIR, with read-only binds of the host's /usr, then makes the
#                 inner namespaces and waits for them
#   inner R       PID 1 of new user (unless SBX_MODE=namespaces), mount, network, PID, UTS, IPC
#                 and cgroup namespaces: mounts proc, sys, cgroup, a copy-on-write /etc, devpts,
#                 pivots into the new root and execs tini -- dockerd
#   reset KEEP... inside the namespaces, between two pages (stdin: the skeleton, see below)
#
# Why a user namespace: binds that real root makes read-only before the inner user namespace
# copies the mount table become *locked* — nobody inside can remount them writable or unmount
# them — and root inside is an unprivileged range of ids outside, so kernel-wide sysctls, the
# host's cgroup tree and /proc/sys are out of reach. SBX_MODE=namespaces is the fallback where a
# user namespace can't be made: the same namespaces and limits, as real root, without the locks.
#
# Parameters come in the (otherwise empty) environment:
#   SBX_MODE      userns (real root maps SBX_MAP), rootless (a non-root runner: we already run as
#                 root of its user namespace; the inner one maps ids one to one) or namespaces
#   SBX_MAP       the inner user namespace's uid/gid map, e.g. "0 1000000000 65536"
#   SBX_UID       the host uid that is root inside (owner of the root's files)
#   SBX_CGROUPS   cgroup directories to join before anything forks (one per line; may be empty)
#   SBX_DATA      disk (DIR/data holds dockerd's data root) or tmpfs (DIR is on overlayfs)
#   SBX_TMPFS     size of each scratch file system (/tmp, /root, /home, ...), e.g. 256m
#   SBX_DATA_SIZE size of a tmpfs data root
#   SBX_BLOBS     the image store's blobs, served (read-only) by the sandbox's registry
set -euo pipefail

SELF=${BASH_SOURCE[0]:-$0}
SCRATCH=(tmp root home srv opt mnt var/tmp var/log)   # empty tmpfs file systems, from the root
CLEAN_ENV=(PATH=/sbx/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
           HOME=/root LC_ALL=C.UTF-8 TERM=dumb)

# -- outer ----------------------------------------------------------------------------------

join_cgroups() {
    local dir
    while IFS= read -r dir; do
        [[ -n $dir ]] && echo $$ >"$dir/cgroup.procs"
    done <<<"${SBX_CGROUPS:-}"
    return 0
}

tmpfs_at() {   # tmpfs_at SIZE MODE NAME PATH: a size-limited tmpfs owned by root inside
    mount -t tmpfs -o "size=$1,mode=$2,uid=$SBX_UID,gid=$SBX_UID" "$3" "$4"
}

ro_bind() {    # ro_bind SRC DEST: read-only, nosuid, nodev (locked once the userns copies it)
    mount --rbind "$1" "$2"
    mount -o remount,bind,ro,nosuid,nodev "$2"
}

build_root() {   # build_root DIR R: the new root at R, from the files in DIR
    local dir=$1 R=$2 m link node
    mkdir -p "$R"
    tmpfs_at 16m 755 sandbox-root "$R"
    mkdir -p "$R"/{usr,etc,proc,sys,dev,run,var/lib/docker,sbx}
    for m in "${SCRATCH[@]}"; do mkdir -p "$R/$m"; done
    for link in bin sbin lib lib64 libx32 lib32; do   # Debian 12: /bin etc. point into /usr
        [[ -e /usr/$link ]] && ln -s "usr/$link" "$R/$link"
    done
    chown -hR "$SBX_UID:$SBX_UID" "$R"
    for m in "${SCRATCH[@]}"; do
        tmpfs_at "$SBX_TMPFS" 755 "sandbox-$(basename "$m")" "$R/$m"
    done
    chmod 1777 "$R/tmp" "$R/var/tmp"
    tmpfs_at 64m 755 sandbox-run "$R/run"
    ln -s ../run "$R/var/run"
    # `-v /var/run/docker.sock:...` and the default client both mean the sandbox's daemon.
    ln -s /sbx/docker.sock "$R/run/docker.sock"
    chown -h "$SBX_UID:$SBX_UID" "$R/var/run" "$R/run/docker.sock"
    ro_bind /usr "$R/usr"
    # /sbx: the socket (the host reaches it as /proc/PID1/root/sbx/docker.sock), dockerd's
    # config and the /etc template, both read-only, and bin/ (programs put first on PATH).
    tmpfs_at 4m 755 sandbox-sbx "$R/sbx"
    mkdir -p "$R/sbx/conf" "$R/sbx/etc-template" "$R/sbx/etc-layer"
    chown "$SBX_UID:$SBX_UID" "$R/sbx/etc-layer"
    ro_bind "$dir/conf" "$R/sbx/conf"
    ro_bind "$dir/etc" "$R/sbx/etc-template"
    cp -a "$dir/bin" "$R/sbx/bin"
    cp "$SELF" "$R/sbx/init.sh"
    if [[ -n ${SBX_BLOBS:-} ]]; then   # the registry's view (links) over the store's blobs
        mkdir -p "$R/sbx/registry"
        ro_bind "$dir/registry" "$R/sbx/registry"
        ro_bind "$SBX_BLOBS" "$R/sbx/registry/docker/registry/v2/blobs"
    fi
    if [[ $SBX_DATA == disk ]]; then
        mount --bind "$dir/data" "$R/var/lib/docker"
    else
        tmpfs_at "$SBX_DATA_SIZE" 710 sandbox-data "$R/var/lib/docker"
    fi
    mount -t tmpfs -o "size=1m,mode=755,nosuid,uid=$SBX_UID,gid=$SBX_UID" sandbox-dev "$R/dev"
    for node in null zero full random urandom tty; do
        touch "$R/dev/$node"
        mount --bind "/dev/$node" "$R/dev/$node"
    done
    mkdir -p "$R/dev/pts" "$R/dev/shm" "$R/dev/mqueue"
    mount -t tmpfs -o "size=64m,mode=1777,nosuid,nodev,uid=$SBX_UID,gid=$SBX_UID" sandbox-shm \
        "$R/dev/shm"
    ln -s pts/ptmx "$R/dev/ptmx"
    ln -s /proc/self/fd "$R/dev/fd"
    ln -s /proc/self/fd/0 "$R/dev/stdin"
    ln -s /proc/self/fd/1 "$R/dev/stdout"
    ln -s /proc/self/fd/2 "$R/dev/stderr"
    chown -h "$SBX_UID:$SBX_UID" "$R"/dev/{pts,mqueue,ptmx,fd,stdin,stdout,stderr}
}

# A process that execs after unshare(CLONE_NEWUSER) but before its id map exists loses its
# capabilities, so the user namespace is made by a holder process, mapped from here, and entered
# with `nsenter -U`, which becomes root in it before running `unshare` for the other namespaces.
make_holder() {   # make_holder DIR: sets HOLDER to the pid of a mapped user namespace
    unshare --user -- setpriv --pdeathsig KILL sleep 600 </dev/null >/dev/null 2>&1 &
    HOLDER=$!
    local n
    for ((n = 0; n < 5000; n++)); do
        [[ $(readlink "/proc/$HOLDER/ns/user") != "$(readlink /proc/self/ns/user)" ]] && break
        sleep 0.001
    done
    # One write(2) each: the kernel takes a map in a single write only (bash's printf may split).
    /usr/bin/printf '%s\n' "$SBX_MAP" >"/proc/$HOLDER/uid_map"
    /usr/bin/printf '%s\n' "$SBX_MAP" >"/proc/$HOLDER/gid_map"
}

outer() {
    local dir=$1 pid kids="" n stage=/run
    join_cgroups                         # before anything forks: every descendant is in them
    mount --make-rprivate /
    # The new root goes where root inside (an unprivileged uid outside) can reach it: DIR may
    # sit under a directory only the host's root may enter (/root, a pytest tmp dir). A tmpfs
    # over /run in this private mount namespace hides nothing from the host.
    [[ -d $stage ]] || stage=/tmp
    mount -t tmpfs -o size=1m,mode=755 sandbox-stage "$stage"
    build_root "$dir" "$stage/root"
    local inner=(unshare --mount --net --pid --uts --ipc --cgroup --fork
                 -- bash "$stage/root/sbx/init.sh" inner "$stage/root")
    if [[ $SBX_MODE == namespaces ]]; then
        "${inner[@]}" &
        pid=$!
    else
        make_holder "$dir"
        nsenter -t "$HOLDER" -U -- "${inner[@]}" &
        pid=$!
    fi
    for ((n = 0; n < 10000; n++)); do
        { read -r kids <"/proc/$pid/task/$pid/children"; } 2>/dev/null || true
        [[ -n $kids ]] && break
        sleep 0.001
    done
    [[ -n ${HOLDER:-} ]] && kill -KILL "$HOLDER" 2>/dev/null
    [[ -n $kids ]] && echo "${kids%% *}" >"$dir/init.pid.tmp" && mv "$dir/init.pid.tmp" "$dir/init.pid"
    wait "$pid"
}

# -- inner (PID 1) --------------------------------------------------------------------------

# A copy-on-write /etc: the template (read-only) below, a tmpfs of our own above, so a page's
# edits never reach the host and a remount forgets them all.
private_etc() {
    local r=${1:-} opts="lowerdir=$1/sbx/etc-template,upperdir=$1/sbx/etc-layer/u"
    mount -t tmpfs -o size=16m,mode=755 sandbox-etc "$r/sbx/etc-layer"
    mkdir "$r/sbx/etc-layer/u" "$r/sbx/etc-layer/w"
    opts="$opts,workdir=$r/sbx/etc-layer/w"
    [[ $SBX_MODE == namespaces ]] || opts="userxattr,$opts"
    mount -t overlay overlay -o "$opts" "$r/etc"
}

cgroup_mounts() {  # cgroupfs as this cgroup namespace sees it: rooted at the sandbox's cgroup
    local R=$1 mp fs opts name o
    mount -t tmpfs -o size=64k,mode=755 cgroup "$R/sys/fs/cgroup"
    while read -r mp fs opts; do
        [[ $mp == /sys/fs/cgroup/* ]] || continue
        name=${mp#/sys/fs/cgroup/}
        mkdir -p "$R/sys/fs/cgroup/$name"
        if [[ $fs == cgroup2 ]]; then
            mount -t cgroup2 cgroup2 "$R/sys/fs/cgroup/$name"
        else
            o=${opts#rw}
            mount -t cgroup -o "${o#,}" cgroup "$R/sys/fs/cgroup/$name"
        fi
    done < <(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") break
                    if ($(i+1) == "cgroup" || $(i+1) == "cgroup2") print $5, $(i+1), $(i+3) }' \
                 /proc/self/mountinfo)
    if [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]]; then   # a pure cgroup v2 host
        mount --bind "$R/sys/fs/cgroup" "$R/sys/fs/cgroup" 2>/dev/null || true
        umount "$R/sys/fs/cgroup"
        mount -t cgroup2 cgroup2 "$R/sys/fs/cgroup"
    fi
    mount -o remount,ro,bind "$R/sys/fs/cgroup" 2>/dev/null || true
}

inner() {   # inner R: the new root is R
    local R=$1
    mount --make-rprivate /
    # pivot_root refuses a locked new root (every mount copied from the outer stage is locked
    # in a user namespace): bind the tree onto itself, a mount of our own.
    mount --rbind "$R" "$R"
    hostname sandbox
    ip link set lo up
    mount -t proc proc "$R/proc"
    mount -t sysfs sysfs "$R/sys"                # this network namespace's /sys/class/net
    cgroup_mounts "$R"
    private_etc "$R"
    mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$R/dev/pts"
    mount -t mqueue mqueue "$R/dev/mqueue"
    cd "$R"
    mkdir .host
    pivot_root . .host
    cd /
    umount -l /.host
    rmdir /.host
    # What `reset` keeps on the file systems that hold the skeleton (the root and /dev); the
    # runner reads it once and hands it back to each reset (a page can write /sbx).
    find / /dev -xdev -mindepth 1 >/sbx/skeleton
    awk '{ print $5 }' /proc/self/mountinfo >/sbx/mounts
    # dockerd's whole environment: the clean one, plus a proxy where nothing listens, so a pull
    # fails at once instead of waiting on DNS or the network.
    exec env -i "${CLEAN_ENV[@]}" HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 \
        NO_PROXY= /usr/bin/tini -- bash /sbx/init.sh daemon
}

# tini's child: runs dockerd, and runs it again when `reset` asks (RESTART exists): Docker
# hands out network subnets in turn and remembers the last one, so after a page that made a
# network the next page would get another subnet than when it runs alone. A restarted daemon
# starts counting afresh.
RESTART=/run/sandbox-restart
daemon() {
    echo $$ >/run/sandbox-daemon.pid
    # The locked real images: a read-only registry on loopback, dockerd's mirror. A child of
    # this supervisor, so it outlives pages and daemon restarts alike.
    if [[ -e /sbx/registry/config.yml ]]; then
        docker-registry serve /sbx/registry/config.yml </dev/null >/dev/null 2>&1 &
    fi
    while :; do
        dockerd --config-file /sbx/conf/daemon.json --data-root /var/lib/docker \
            --exec-root /run/docker --pidfile /run/docker.pid -H unix:///sbx/docker.sock \
            && status=0 || status=$?
        [[ -e $RESTART ]] || exit "$status"
        rm -f "$RESTART"
    done
}

# From reset: stop dockerd (no container runs any more) and let `daemon` start it again.
restart_daemon() {
    local pid
    read -r pid </run/docker.pid || [[ -n $pid ]]   # dockerd writes no final newline
    touch "$RESTART"
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
}

# -- reset ------------------------------------------------------------------------------------

# Kill what a page left running outside its shell's session (`setsid`, self-daemonising
# programs): such processes end up as children of PID 1 here. Kept: PID 1, the daemon's
# supervisor with dockerd and everything under it, and this script. (Containers' shims are children of PID 1 too, but
# `reset` runs after every container of the page was removed, and none exist before.)
kill_strays() {
    local -A parent name
    local stat pid fields p supervisor
    read -r supervisor </run/sandbox-daemon.pid
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
        if [[ $pid != 1 && $p != "$$" && ${parent[$p]:-} == 1 && $p != "$supervisor" ]]; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
}

# What a page mounted itself (`mount -t tmpfs none /mnt/ramdisk`): lazily unmounted, deepest
# first, so the scratch file systems under it can be emptied. SBX_MOUNTS lists what `inner`
# mounted; dockerd's own mounts go with the containers the reset removed before.
unmount_page_mounts() {
    local mp
    while IFS= read -r mp; do
        case $mp in /var/lib/docker/*|/run/docker/*|/run/containerd/*) continue ;; esac
        grep -qxF -- "$mp" <<<"$SBX_MOUNTS" && continue
        umount -l -- "$mp" 2>/dev/null || true
    done < <(awk '{ print $5 }' /proc/self/mountinfo | sort -r)
}

reset() {
    local name skeleton
    skeleton=$(mktemp -u /dev/shm/.skeleton.XXXXXX)
    cd /
    kill_strays
    # A fresh /etc: a page's edits, and the directories `-v /etc/new:/x` made, are gone. Lazy,
    # so that nothing still holding the old layer can make this fail; its tmpfs is freed after.
    umount -l /etc /sbx/etc-layer
    private_etc ""
    unmount_page_mounts
    find "${SCRATCH[@]/#//}" /dev/shm /dev/mqueue -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
    cat >"$skeleton"
    find / /dev -xdev -mindepth 1 -print0 | { grep -zvxF -f "$skeleton" || true; } \
        | xargs -0r rm -rf --
    rm -f "$skeleton"
    for name in /run/* /run/.[!.]*; do
        [[ -e $name || -L $name ]] || continue
        [[ " $* " == *" ${name#/run/} "* ]] || rm -rf -- "$name"
    done
    [[ ${SBX_RESTART:-} == 1 ]] && restart_daemon
    # `hostname`, not /proc/sys/kernel/hostname: in a user namespace that file is the host's.
    [[ $(hostname) == sandbox ]] || hostname sandbox
    local shm msg sem
    mapfile -t shm </proc/sysvipc/shm
    mapfile -t msg </proc/sysvipc/msg
    mapfile -t sem </proc/sysvipc/sem
    if ((${#shm[@]} + ${#msg[@]} + ${#sem[@]} > 3)); then ipcrm --all; fi  # 3 header lines
}

"$@"
