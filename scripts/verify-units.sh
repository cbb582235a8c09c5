#!/usr/bin/env bash
# Verifies the systemd units offline, as `go tool task verify-units` (part
# of `task test`): systemd-analyze verify on genesissync.service (with the
# example drop-in from packaging/examples) and on the system's smbd.service
# with our drop-in, then the sandbox's exposure score. Works without a
# running systemd (containers, CI): it needs the systemd package
# (systemd-analyze) and samba (smbd.service), which `task setup` installs.
#
#   scripts/verify-units.sh              units from systemd/, binary built from source
#   scripts/verify-units.sh --deb FILE   units and binary from a built .deb
#
# How: systemd-analyze verify checks that every Exec*= command exists, so
# /usr/bin/genesissync must. The check runs with --root on a scratch tree
# laid out like an installed system: the host's own units (sysinit.target,
# smbd.service, ...), the commands their Exec lines name, copied from the
# host, and our files where the package puts them. The units are verified
# exactly as shipped, nothing rewritten. Any warning fails the check.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
# Exposure score of genesissync.service (systemd-analyze security, 0 to 100,
# lower is safer) above which the check fails: 25 when this was written.
max_exposure=30

die() { printf 'verify-units: %s\n' "$*" >&2; exit 1; }

deb=
case "${1:-}" in
"") ;;
--deb) deb=${2:?--deb FILE}; [[ -f $deb ]] || die "no such file: $deb" ;;
*) die "usage: $0 [--deb FILE]" ;;
esac

command -v systemd-analyze >/dev/null || die "systemd-analyze not found: install Debian's systemd package (go tool task setup)"
[[ -f /lib/systemd/system/smbd.service ]] || die "smbd.service not found: install samba (go tool task setup)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root/usr/lib" "$root/usr/bin" "$root/usr/sbin" "$root/etc/systemd/system"
# The host's layout: on Debian 12 /lib, /bin and /sbin are symlinks into /usr.
for d in lib bin sbin; do
	if [[ -L /$d ]]; then ln -s "$(readlink "/$d")" "$root/$d"; fi
done
mkdir -p "$root/lib/systemd"
cp -a /lib/systemd/system "$root/lib/systemd/"
# Whatever of ours the host may have installed is replaced below.
rm -rf "$root/lib/systemd/system/genesissync.service" "$root/lib/systemd/system/smbd.service.d/genesissync.conf"

if [[ -n $deb ]]; then
	dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink -C "$root"
	example=$root/usr/share/doc/genesissync/examples/shares.conf
else
	mkdir -p "$root/usr/bin" "$root/lib/systemd/system/smbd.service.d"
	(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$root/usr/bin/genesissync" ./appliance)
	install -m 0644 "$repo/systemd/genesissync.service" "$root/lib/systemd/system/"
	install -m 0644 "$repo/systemd/smbd.service.d/genesissync.conf" "$root/lib/systemd/system/smbd.service.d/"
	example=$repo/packaging/examples/shares.conf
fi
[[ -x $root/usr/bin/genesissync ]] || die "no /usr/bin/genesissync in the tree"
[[ -f $root/lib/systemd/system/genesissync.service ]] || die "no genesissync.service in the tree"
[[ -f $root/lib/systemd/system/smbd.service.d/genesissync.conf ]] || die "no smbd drop-in in the tree"
# The example drop-in stations copy: it must verify too.
install -D -m 0644 "$example" "$root/etc/systemd/system/genesissync.service.d/shares.conf"

units=(genesissync.service smbd.service)

# Copy from the host every command the units' Exec lines name that the tree
# lacks (smbd's own: /usr/sbin/smbd, /usr/share/samba/is-configured, ...).
for unit in "${units[@]}"; do
	files=("$root/lib/systemd/system/$unit")
	for f in "$root/lib/systemd/system/$unit.d/"*.conf "$root/etc/systemd/system/$unit.d/"*.conf; do
		[[ -f $f ]] && files+=("$f")
	done
	while read -r cmd; do
		[[ -e $root$cmd ]] && continue
		[[ -e $cmd ]] || die "$unit runs $cmd, which this host lacks"
		cp -L --parents "$cmd" "$root"
	done < <(sed -nE 's/^[[:space:]]*Exec[A-Za-z]+=[-@:+!]*(\/[^[:space:]]+).*/\1/p' "${files[@]}" | sort -u)
done

fail=0
out=$(systemd-analyze verify --man=no --root="$root" "${units[@]}" 2>&1) || fail=1
if [[ -n $out ]]; then
	printf '%s\n' "$out" | sed "s|$root||g" >&2
	fail=1
fi
((fail == 0)) || die "systemd-analyze verify failed (any warning counts)"
echo "verify-units: systemd-analyze verify: ${units[*]} ok (with our smbd drop-in and the example shares drop-in)"

score=$(systemd-analyze security --offline=yes --root="$root" --threshold="$max_exposure" --no-pager genesissync.service 2>&1) || {
	printf '%s\n' "$score" >&2
	die "genesissync.service's exposure is above $max_exposure/100"
}
echo "verify-units: $(printf '%s\n' "$score" | grep 'Overall exposure level')"
