#!/bin/bash
# Runs INSIDE a throwaway copy of the appliance image, booted by
# images/capture-openzfs.sh (never part of the shipped image): after first
# boot made the pool, it drives OpenZFS through the states the parsers'
# golden tests need, runs the commands internal/zfs runs, and sends the
# outputs as a base64 tar between markers on the second serial port
# (/dev/ttyS1, which nothing else writes to), then powers off.
#
# File names follow internal/zfs/testdata/zfs-fuse/capture.sh: NAME.out
# (stdout), NAME.err (stderr, when not empty), NAME.rc (exit status, when not
# 0), stderr/<class>-NAME.txt (a failing command's standard error).
set -uo pipefail
export LC_ALL=C

port=/dev/ttyS1
stty -F "$port" 115200 raw -echo 2>/dev/null || true
note() { printf 'GS-CAPTURE-NOTE %s\n' "$*" >"$port"; }
note "start $(date -u +%FT%TZ)"

# The appliance's own service makes scheduled snapshots and clones of its
# share: keep it out of the way (the captures use datasets of their own).
systemctl stop genesissync.service 2>/dev/null || true

dir=$(mktemp -d /var/tmp/gs-capture.XXXXXX)
cd "$dir" || exit 1
mkdir -p stderr

out() { # out NAME CMD...
	local name=$1
	shift
	local rc=0
	printf '%s\n' "$*" >>commands.txt
	"$@" >"$name.out" 2>"$name.err" || rc=$?
	[[ -s $name.err ]] || rm -f "$name.err"
	[[ -s $name.out ]] || rm -f "$name.out"
	if ((rc != 0)); then echo "$rc" >"$name.rc"; fi
}
err() { # err NAME CMD...: the command should fail; its stderr is kept
	local name=$1
	shift
	printf '%s\n' "$*" >>commands.txt
	if "$@" 2>"stderr/$name.txt" >/dev/null; then
		rm -f "stderr/$name.txt"
		echo "$name: $* succeeded" >>unexpected-success.txt
	fi
}
wait_scan() { # wait_scan POOL: until no scrub or resilver runs
	for _ in $(seq 1 600); do
		zpool status "$1" | grep -q 'in progress' || return 0
		sleep 0.5
	done
}

out zfs-version zfs version
uname -r >kernel.txt
cp /var/lib/genesissync-image/firstboot.done . 2>/dev/null || echo "no firstboot.done" >firstboot-missing.txt

props=name,size,allocated,free,capacity,health
# --- the appliance's pool, as first boot made it (one disk, never scrubbed)
out status-x-healthy zpool status -x
out status-x-tank-healthy zpool status -x tank
out status-tank-never-scanned zpool status tank
out list-tank-online zpool list -H -p -o "$props" tank
out list-filesystems-tank zfs list -H -o name,mountpoint,mounted -t filesystem
out get-dataset-tank-studio zfs get -H -p -o name,property,value type,mountpoint,mounted,used,available,referenced,creation tank/studio

# --- a mirror pool on two files, as testdata/zfs-fuse/capture.sh does
pool=gs-golden
vd=/var/tmp/gs-golden-vdevs
mkdir -p "$vd"
truncate -s 256M "$vd/m1" "$vd/m2"
zpool create -o cachefile=none -m /gs-golden "$pool" mirror "$vd/m1" "$vd/m2" 2>>setup-errors.txt
out status-x-pool-healthy zpool status -x "$pool"
out status-online-none zpool status "$pool"
out list-online zpool list -H -p -o "$props" "$pool"
out list-online-not-p zpool list -H -o "$props" "$pool"

zfs create "$pool/media"
zfs create "$pool/media/jingles"
zfs create "$pool/offline"
zfs umount "$pool/offline"
zfs create -o mountpoint=legacy "$pool/legacy"
zfs create -o mountpoint=none "$pool/nomount"
dd if=/dev/urandom of=/gs-golden/media/a.wav bs=64k count=16 status=none
sync
dsprops=type,mountpoint,mounted,used,available,referenced,creation
out get-dataset zfs get -H -p -o name,property,value "$dsprops" "$pool/media"
out get-dataset-unmounted zfs get -H -p -o name,property,value "$dsprops" "$pool/offline"
out list-filesystems zfs list -H -o name,mountpoint,mounted -t filesystem

snapprops=type,creation,createtxg,used,referenced,userrefs
m=$pool/media
zfs snapshot "$m@gs-2026-11-22-0100"
sleep 1.1
dd if=/dev/urandom of=/gs-golden/media/a.wav bs=64k count=8 conv=notrunc status=none
sync
zfs snapshot "$m@gs-2026-11-22-0200"
sleep 1.1
zfs snapshot "$m@gs-pre-restore-2026-11-22-020130"
zfs snapshot "$m@manual-before-upgrade"
zfs snapshot "$m/jingles@gs-2026-11-22-0200"
zfs hold genesissync "$m@gs-2026-11-22-0100"
out get-snapshots zfs get -H -p -r -d 1 -o name,property,value "$snapprops" "$m"
out get-userrefs-held zfs get -H -p -o name,property,value userrefs "$m@gs-2026-11-22-0100"
out get-userrefs-none zfs get -H -p -o name,property,value userrefs "$m@gs-2026-11-22-0200"

err exists-snapshot zfs snapshot "$m@gs-2026-11-22-0100"
err notfound-destroy zfs destroy "$m@gs-2099-01-01-0000"
err notfound-dataset zfs get -H -p -o name,property,value type "$pool/nope"
err notfound-pool zpool status -x gs-golden-nope
err notfound-pool-list zpool list -H -p -o "$props" gs-golden-nope
err notfound-release zfs release nosuchtag "$m@gs-2026-11-22-0200"
err exists-hold zfs hold genesissync "$m@gs-2026-11-22-0100"
err busy-held-destroy zfs destroy "$m@gs-2026-11-22-0100"
err other-rollback-newer zfs rollback "$m@gs-2026-11-22-0100"

# Clones as internal/zfs makes them (read-only, own mountpoint, a child of
# the dataset), one unmounted, a child that is no clone, and a clone
# elsewhere that must not count.
zfs clone -o readonly=on -o mountpoint=/gs-golden/shadow/0100 "$m@gs-2026-11-22-0100" "$m/gs-shadow-2026-11-22-0100"
zfs clone -o readonly=on -o mountpoint=/gs-golden/shadow/0200 "$m@gs-2026-11-22-0200" "$m/gs-shadow-2026-11-22-0200"
zfs umount "$m/gs-shadow-2026-11-22-0200"
zfs create "$m/archive"
zfs clone "$m@gs-2026-11-22-0200" "$pool/other-clone"
out get-clones zfs get -H -p -r -d 1 -o name,property,value type,origin,mountpoint,mounted "$m"
out get-origin-clone zfs get -H -p -o name,property,value origin "$m/gs-shadow-2026-11-22-0100"
err hasclones-destroy zfs destroy "$m@gs-2026-11-22-0200"
zfs destroy "$pool/other-clone"
err busy-fresh-clone zfs destroy "$m/gs-shadow-2026-11-22-0100"
for _ in $(seq 1 20); do
	zfs list "$m/gs-shadow-2026-11-22-0100" >/dev/null 2>&1 || break
	zfs destroy "$m/gs-shadow-2026-11-22-0100" 2>/dev/null && break
	sleep 0.2
done
zfs destroy "$m/gs-shadow-2026-11-22-0200"
zfs release genesissync "$m@gs-2026-11-22-0100"

# --- scrubs: running (if caught), paused, finished
dd if=/dev/urandom of=/gs-golden/media/b.wav bs=1M count=120 status=none
sync
zpool scrub "$pool"
out status-scrub-in-progress zpool status "$pool"
zpool scrub -p "$pool" 2>>setup-errors.txt
out status-scrub-paused zpool status "$pool"
zpool scrub "$pool" 2>>setup-errors.txt
zpool wait -t scrub "$pool" 2>>setup-errors.txt || wait_scan "$pool"
out status-scrubbed zpool status "$pool"
out list-scrubbed zpool list -H -p -o "$props" "$pool"
out status-x-scrubbed zpool status -x "$pool"

# the appliance's pool, scrubbed
zpool scrub -w tank 2>>setup-errors.txt || wait_scan tank
out status-tank-scrubbed zpool status tank

# a canceled scrub
zpool scrub "$pool"
zpool scrub -s "$pool" 2>>setup-errors.txt
out status-scrub-canceled zpool status "$pool"

# --- problems: an offline side, a resilver, a wiped side
zpool offline "$pool" "$vd/m2"
out status-degraded zpool status "$pool"
out status-x-degraded zpool status -x "$pool"
out status-x-all-degraded zpool status -x
out list-degraded zpool list -H -p -o "$props" "$pool"

# writes while a side is offline: onlining it resilvers them
dd if=/dev/urandom of=/gs-golden/media/c.wav bs=1M count=60 status=none
sync
zpool online "$pool" "$vd/m2"
out status-resilvering zpool status "$pool"
zpool wait -t resilver "$pool" 2>>setup-errors.txt || wait_scan "$pool"
out status-resilvered zpool status "$pool"

dd if=/dev/zero of="$vd/m2" bs=1M count=256 conv=notrunc status=none
sync
zpool scrub "$pool"
zpool wait -t scrub "$pool" 2>>setup-errors.txt || wait_scan "$pool"
out status-label-missing zpool status "$pool"
out status-x-label-missing zpool status -x "$pool"
out list-label-missing zpool list -H -p -o "$props" "$pool"

# corrupted data on one side (not the labels): checksum errors, repaired
zpool replace "$pool" "$vd/m2" 2>>setup-errors.txt
zpool wait -t resilver "$pool" 2>>setup-errors.txt || wait_scan "$pool"
zpool export "$pool"
# overwrite the middle of m2 (labels are at the start and the end)
dd if=/dev/urandom of="$vd/m2" bs=1M seek=8 count=200 conv=notrunc status=none
sync
zpool import -d "$vd" "$pool" 2>>setup-errors.txt
zpool scrub "$pool"
zpool wait -t scrub "$pool" 2>>setup-errors.txt || wait_scan "$pool"
out status-cksum-repaired zpool status "$pool"
out status-x-cksum-repaired zpool status -x "$pool"
out list-cksum-repaired zpool list -H -p -o "$props" "$pool"

zpool destroy "$pool" 2>>setup-errors.txt
rm -rf "$vd"
note "captured $(ls | wc -l) files $(date -u +%FT%TZ)"
{
	echo "GS-CAPTURE-BEGIN"
	tar -C "$dir" -czf - . | base64 -w 76
	echo "GS-CAPTURE-END"
} >"$port"
sleep 2
systemctl poweroff
