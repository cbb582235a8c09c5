#!/usr/bin/env bash
# Captures the zfs and zpool output that the parsers' golden tests read,
# from the real zfs-fuse 0.7 tools. Run as root from this directory:
#
#   bash capture.sh
#
# It creates one pool, gs-golden (refusing if it exists), on two sparse files
# under a fresh /tmp directory, drives it through the states the tests need,
# and destroys it. It touches no other pool. If the zfs-fuse daemon is not
# running it first records what the tools say then, and starts it (with -x);
# it leaves it running. Afterwards run `go test ./internal/zfs/ -update` and
# review the diff of the .golden files.
set -euo pipefail
cd "$(dirname "$0")"
export LC_ALL=C

pool=gs-golden
say() { printf 'capture: %s\n' "$*" >&2; }

# out NAME CMD...: stdout to NAME.out, stderr to NAME.err (kept only when
# not empty), exit status to NAME.rc (kept only when not 0).
out() {
	local name=$1
	shift
	local rc=0
	"$@" >"$name.out" 2>"$name.err" || rc=$?
	[[ -s $name.err ]] || rm -f "$name.err"
	[[ -s $name.out ]] || rm -f "$name.out"
	if ((rc != 0)); then echo "$rc" >"$name.rc"; else rm -f "$name.rc"; fi
}

if ! zpool list -H -o name >/dev/null 2>&1; then
	say "daemon not running: recording the tools' answer, then starting it"
	mkdir -p stderr
	zpool list -H -o name 2>stderr/nozfs-daemon-down.txt >/dev/null || true
	rm -f /var/run/zfs-fuse.pid # a stale one makes zfs-fuse exit 1 silently
	zfs-fuse --enable-xattr --pidfile /var/run/zfs-fuse.pid 2>/dev/null
	for _ in $(seq 1 100); do zpool list -H -o name >/dev/null 2>&1 && break; sleep 0.1; done
fi
if [[ -z $(zpool list -H -o name) ]]; then
	out status-x-nopools zpool status -x
fi
if zpool list "$pool" >/dev/null 2>&1; then
	say "pool $pool exists; destroy it first (zpool destroy $pool)"
	exit 1
fi

dir=$(mktemp -d /tmp/gs-golden.XXXXXX)
cleanup() {
	# Right after a scrub zpool destroy can answer busy for a moment.
	for i in $(seq 1 50); do
		if msg=$(zpool destroy "$pool" 2>&1); then
			((i == 1)) || say "pool destroyed at attempt $i (before: $last)"
			rm -rf "$dir"
			return
		fi
		last=$msg
		zpool list "$pool" >/dev/null 2>&1 || break
		sleep 0.2
	done
	say "could not destroy $pool: $last; vdev files left in $dir"
}
trap cleanup EXIT
truncate -s 128M "$dir/m1" "$dir/m2"
zpool create -o cachefile=none -m "$dir/mnt" "$pool" mirror "$dir/m1" "$dir/m2" 2>/dev/null

props=name,size,allocated,free,capacity,health
out status-x-pool-healthy zpool status -x "$pool"
out status-online-none zpool status "$pool"
out list-online zpool list -H -o "$props" "$pool"
out list-p-unsupported zpool list -H -p -o "$props" "$pool"

zfs create "$pool/media"
zfs create "$pool/media/jingles"
zfs create "$pool/offline"
zfs umount "$pool/offline"
zfs create -o mountpoint=legacy "$pool/legacy"
zfs create -o mountpoint=none "$pool/nomount"
dd if=/dev/urandom of="$dir/mnt/media/a.wav" bs=64k count=16 status=none
dsprops=type,mountpoint,mounted,used,available,referenced,creation
out get-dataset zfs get -H -p -o name,property,value "$dsprops" "$pool/media"
out get-dataset-unmounted zfs get -H -p -o name,property,value "$dsprops" "$pool/offline"
out list-filesystems zfs list -H -o name,mountpoint,mounted -t filesystem -r "$pool"

snapprops=type,creation,createtxg,used,referenced,userrefs
m=$pool/media
zfs snapshot "$m@gs-2026-11-22-0100"
dd if=/dev/urandom of="$dir/mnt/media/a.wav" bs=64k count=8 conv=notrunc status=none
zfs snapshot "$m@gs-2026-11-22-0200"
zfs snapshot "$m@gs-pre-restore-2026-11-22-020130"
zfs snapshot "$m@manual-before-upgrade"
zfs snapshot "$m/jingles@gs-2026-11-22-0200"
zfs hold genesissync "$m@gs-2026-11-22-0100"
out get-snapshots zfs get -H -p -r -d 1 -o name,property,value "$snapprops" "$m"
out get-userrefs-held zfs get -H -p -o name,property,value userrefs "$m@gs-2026-11-22-0100"

mkdir -p stderr
err() { # err NAME CMD...: the command must fail; its stderr is kept
	local name=$1
	shift
	if "$@" 2>"stderr/$name.txt" >/dev/null; then
		say "expected failure of: $*"
		exit 1
	fi
}
err exists-snapshot zfs snapshot "$m@gs-2026-11-22-0100"
err notfound-destroy zfs destroy "$m@gs-2099-01-01-0000"
err notfound-dataset zfs get -H -p -o name,property,value type "$pool/nope"
err notfound-pool zpool status -x gs-golden-nope
err notfound-release zfs release nosuchtag "$m@gs-2026-11-22-0200"
err exists-hold zfs hold genesissync "$m@gs-2026-11-22-0100"
err busy-held-destroy zfs destroy "$m@gs-2026-11-22-0100"
err other-rollback-newer zfs rollback "$m@gs-2026-11-22-0100"
zfs clone "$m@gs-2026-11-22-0200" "$pool/clone"
err busy-fresh-clone zfs destroy "$pool/clone"
err hasclones-destroy zfs destroy "$m@gs-2026-11-22-0200"
for _ in $(seq 1 20); do zfs destroy "$pool/clone" 2>/dev/null && break; sleep 0.1; done
zfs release genesissync "$m@gs-2026-11-22-0100"

dd if=/dev/urandom of="$dir/mnt/media/b.wav" bs=1M count=24 status=none
zpool scrub "$pool"
for _ in $(seq 1 100); do zpool status "$pool" | grep -q 'in progress' || break; sleep 0.1; done
out status-scrubbed zpool status "$pool"
out list-scrubbed zpool list -H -o "$props" "$pool"

zpool offline "$pool" "$dir/m2"
out status-degraded zpool status "$pool"
out status-x-degraded zpool status -x "$pool"
out list-degraded zpool list -H -o "$props" "$pool"

zpool online "$pool" "$dir/m2"
for _ in $(seq 1 100); do zpool status "$pool" | grep -q 'in progress' || break; sleep 0.1; done
out status-resilvered zpool status "$pool"
dd if=/dev/zero of="$dir/m2" bs=1M count=128 conv=notrunc status=none
zpool scrub "$pool"
for _ in $(seq 1 100); do zpool status "$pool" | grep -q 'in progress' || break; sleep 0.1; done
out status-label-missing zpool status "$pool"
out status-x-label-missing zpool status -x "$pool"
out list-label-missing zpool list -H -o "$props" "$pool"

say "done: $(ls | wc -l) files; now destroying $pool"
