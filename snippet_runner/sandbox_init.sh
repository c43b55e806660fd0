#!/bin/bash
# PID 1 of a sandbox: started by sandbox.py as
#     unshare --mount --net --pid --uts --ipc --fork bash sandbox_init.sh DIR CGROUP_PARENT DATA
# DIR (on the host) holds sock/ (daemon.json, then the socket) and data/ (dockerd's data root,
# used when DATA is "disk"; with DATA=tmpfs the data root lives in memory because DIR is on
# overlayfs, where overlay2 cannot work).
#
# It builds a small private root file system, pivots into it and execs tini -> dockerd, so that
# everything a tutorial does — `-v /etc/x:/y`, `-p 4000:4000`, `--net=host`, writing /etc —
# lands in this private view. Nothing here is mounted in the host's mount namespace (all mounts
# are private), so the kernel drops them all when the namespace's last process dies: teardown
# is one SIGKILL to this process.
set -euo pipefail
dir=$1 cgroup_parent=$2 data=$3

mount --make-rprivate /
hostname sandbox
ip link set lo up

new=$dir/root
mkdir -p "$new" "$dir/etc-upper" "$dir/etc-work"
mount -t tmpfs -o mode=755 sandbox-root "$new"
# The /etc overlay keeps its upper layer on tmpfs: writes never reach the host's /etc or disk.
mount -t tmpfs -o mode=755 sandbox-etc "$dir/etc-upper"
mkdir -p "$dir/etc-upper/u" "$dir/etc-upper/w"
mkdir -p "$new"/{usr,etc,proc,sys,dev,tmp,run,root,home,srv,opt,mnt,var/lib/docker,var/tmp,var/log,sbx}
mount --rbind /usr "$new/usr"
mount -o remount,bind,ro "$new/usr"
for link in bin sbin lib lib64; do       # Debian 12: /bin etc. are symlinks into /usr
    [[ -e /usr/$link ]] && ln -s "usr/$link" "$new/$link"
done
mount -t overlay overlay \
    -o "lowerdir=/etc,upperdir=$dir/etc-upper/u,workdir=$dir/etc-upper/w" "$new/etc"
# Fixed name resolution: the host's resolver would otherwise show up in error messages.
# 192.0.2.0/24 is TEST-NET-1, reserved for documentation: it never answers.
rm -f "$new/etc/resolv.conf" "$new/etc/hosts" "$new/etc/hostname"
printf 'nameserver 192.0.2.53\n' >"$new/etc/resolv.conf"
printf '127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$new/etc/hosts"
printf 'sandbox\n' >"$new/etc/hostname"
for m in tmp run root home srv opt mnt var/tmp var/log; do
    mount -t tmpfs -o mode=755 "sandbox-$(basename "$m")" "$new/$m"
done
chmod 1777 "$new/tmp" "$new/var/tmp"
ln -s ../run "$new/var/run"
if [[ $data == disk ]]; then
    mount --bind "$dir/data" "$new/var/lib/docker"
else
    mount -t tmpfs -o mode=710 sandbox-data "$new/var/lib/docker"
fi
mount --bind "$dir/sock" "$new/sbx"
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

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8
# Never pull: every image must be a fixture. Registry requests go to a proxy address where
# nothing listens, so they fail at once instead of waiting on DNS or the network.
export HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY=
# tini reaps the containerd-shim processes that dockerd leaves to PID 1.
exec /usr/bin/tini -- dockerd --config-file /sbx/daemon.json --cgroup-parent "$cgroup_parent" \
    --data-root /var/lib/docker --exec-root /run/docker --pidfile /run/docker.pid \
    -H unix:///sbx/docker.sock
