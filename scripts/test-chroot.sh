#!/usr/bin/env bash
# Installs the .deb into a fresh, minimal Debian 12 chroot made by
# debootstrap, as `go tool task test-chroot` (part of `task test`): what a
# station's new box gets, with nothing of this machine's own packages.
# Checks that apt pulls in the dependencies (Samba), that the files and the
# conffile are where the package says, that the shipped example config
# passes `genesissync config check`, and that `systemd-analyze verify`
# accepts the installed units inside the chroot. About a minute: debootstrap
# from the Debian mirror, then apt.
#
#   scripts/test-chroot.sh DEB
#
# MIRROR overrides the Debian mirror (default http://deb.debian.org/debian).
set -euo pipefail

deb=$(realpath "$1")
mirror="${MIRROR:-http://deb.debian.org/debian}"
log() { printf 'test-chroot: %s\n' "$*" >&2; }
die() { printf 'test-chroot: FAIL: %s\n' "$*" >&2; exit 1; }
ok() { printf 'test-chroot: ok: %s\n' "$*" >&2; }

[[ $(id -u) == 0 ]] || die "run as root (debootstrap and chroot)"
command -v debootstrap >/dev/null || die "debootstrap missing (go tool task setup installs it)"

work=$(mktemp -d /var/tmp/gs-chroot.XXXXXX)
root="$work/root"
cleanup() {
	umount -l "$root/proc" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

log "debootstrap bookworm (minbase) from $mirror"
start=$SECONDS
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
	{ tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
ok "fresh chroot in $((SECONDS - start)) s"

mount -t proc proc "$root/proc"
printf 'deb %s bookworm main contrib\n' "$mirror" >"$root/etc/apt/sources.list"
# No services start in a chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cp "$deb" "$root/tmp/genesissync.deb"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }

start=$SECONDS
in_root apt-get update -qq >"$work/apt.log" 2>&1 || { tail -20 "$work/apt.log" >&2; die "apt-get update"; }
# systemd only for systemd-analyze below; the package itself depends on samba and samba-vfs-modules.
in_root apt-get install -y -qq --no-install-recommends /tmp/genesissync.deb systemd >>"$work/apt.log" 2>&1 ||
	{ tail -30 "$work/apt.log" >&2; die "apt-get install of the .deb"; }
ok "installed with its dependencies in $((SECONDS - start)) s"

for p in samba samba-vfs-modules; do
	in_root dpkg-query -W -f='${Status}\n' "$p" | grep -q 'install ok installed' || die "$p was not pulled in"
done
# The VFS module the generated smb.conf names for Previous Versions: smbd
# does not serve a share whose module is missing.
modules=$(in_root smbd -b | sed -n 's/^ *MODULESDIR: *//p')
[[ -n $modules && -e $root$modules/vfs/shadow_copy2.so ]] || die "shadow_copy2.so missing from smbd's module dir ${modules:-?}/vfs"
ok "apt pulled in samba and samba-vfs-modules (shadow_copy2.so in $modules/vfs)"
for f in /usr/bin/genesissync /etc/genesissync/genesissync.yaml /lib/systemd/system/genesissync.service /usr/share/doc/genesissync/copyright; do
	[[ -e $root$f || -e $root/usr$f ]] || die "$f missing after install"
done
grep -qx /etc/genesissync/genesissync.yaml "$root/var/lib/dpkg/info/genesissync.conffiles" ||
	die "/etc/genesissync/genesissync.yaml is not a conffile"
ok "files (the copyright file too) and conffile in place"
in_root genesissync config check /etc/genesissync/genesissync.yaml || die "the shipped example config does not pass config check"
ok "genesissync config check accepts the shipped example"

units=$(in_root dpkg -L genesissync | grep -E '^/(usr/)?lib/systemd/system/[^/]+\.service$' || true)
[[ -n $units ]] || die "no units in the package"
# smbd.service with our drop-in (smbd.service.d/genesissync.conf) applied.
in_root dpkg -L genesissync | grep -q 'smbd.service.d/' && units+=" /lib/systemd/system/smbd.service"
# shellcheck disable=SC2086
out=$(in_root systemd-analyze verify --man=no $units 2>&1) || { printf '%s\n' "$out" >&2; die "systemd-analyze verify"; }
if grep -i 'genesissync' <<<"$out" >&2; then
	die "systemd-analyze verify warns about our units"
fi
ok "systemd-analyze verify accepts the installed units: $(echo $units)"
