#!/bin/busybox sh
# PID 1 of the guest. It mounts the host's root read-only over 9p, gives it a writable /tmp
# and /run and the guest kernel's module tree, then switch_roots into it, runs the job with
# its output on virtio serial ports, reports the exit status on a third port and powers off.
# Parameters come from the kernel command line (ipvsrs.*), set by xtask's qemu.rs.
/bin/busybox --install -s /bin
export PATH=/bin

fail() {
    echo "ipvs-rs-vm init: $*" >/dev/console
    poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

while read -r module; do
    insmod "/modules/$module" || fail "cannot load $module"
done </modules/order

for arg in $(cat /proc/cmdline); do
    case "$arg" in
        ipvsrs.job=*) job="${arg#*=}" ;;
        ipvsrs.modules=*) modules="${arg#*=}" ;;
        ipvsrs.libdir=*) libdir="${arg#*=}" ;;
    esac
done
[ -n "$job" ] && [ -n "$modules" ] && [ -n "$libdir" ] || fail "missing ipvsrs.* parameters"

port() {
    for dir in /sys/class/virtio-ports/*; do
        if [ "$(cat "$dir/name")" = "$1" ]; then
            echo "/dev/${dir##*/}"
            return
        fi
    done
    fail "no virtio serial port named $1"
}
stdout=$(port ipvsrs.stdout)
stderr=$(port ipvsrs.stderr)
status=$(port ipvsrs.status)

root=/newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot $root \
    || fail "cannot mount the host root over 9p"
cp "$root$job" /job || fail "cannot read the job $job"

mount -t proc proc $root/proc
mount -t sysfs sysfs $root/sys
mount -t devtmpfs devtmpfs $root/dev
mkdir -p $root/dev/pts $root/dev/shm
mount -t devpts devpts $root/dev/pts
mount -t tmpfs tmpfs $root/dev/shm

# The host may have no lib/modules directory to mount on: a tmpfs overlay on the library
# directory makes one without writing to the host.
mkdir -p /overlay
mount -t tmpfs tmpfs /overlay
mkdir -p /overlay/lib/upper /overlay/lib/work
mount -t overlay overlay -o "lowerdir=$root$libdir,upperdir=/overlay/lib/upper,workdir=/overlay/lib/work" \
    "$root$libdir" || fail "cannot overlay $libdir"
release=$(uname -r)
mkdir -p "$root$libdir/modules/$release"
mount --bind "$root$modules" "$root$libdir/modules/$release" || fail "cannot mount the modules"

# /tmp is writable but starts with the host's /tmp visible (copy-on-write, in memory), so a
# workspace or a job file under the host's /tmp still works.
mkdir -p /overlay/tmp/upper /overlay/tmp/work
chmod 1777 /overlay/tmp/upper
mount -t overlay overlay -o "lowerdir=$root/tmp,upperdir=/overlay/tmp/upper,workdir=/overlay/tmp/work" \
    $root/tmp || fail "cannot overlay /tmp"
mount -t tmpfs -o mode=755 tmpfs $root/run
mkdir -p $root/run/ipvs-rs-vm
cp /job $root/run/ipvs-rs-vm/job

# The kernel requests modules (schedulers such as ip_vs_rr) through this helper; it resolves
# in the root that PID 1 has after switch_root.
echo /sbin/modprobe >/proc/sys/kernel/modprobe
ip link set lo up

echo "ipvs-rs-vm init: host root ready, running the command" >/dev/console
# libcrc32c, which ip_vs needs, only soft-depends on crc32c; load it up front.
exec switch_root $root /bin/sh -c "
    /sbin/modprobe crc32c_generic
    /usr/bin/env -i /bin/sh /run/ipvs-rs-vm/job </dev/null >$stdout 2>$stderr
    code=\$?
    echo \$code >$status
    echo \"ipvs-rs-vm: the command exited with \$code\" >/dev/console
    echo o >/proc/sysrq-trigger
    sleep 60
"
