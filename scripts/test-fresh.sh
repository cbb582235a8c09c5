#!/usr/bin/env bash
# Runs the README's test command, `.ci/run` (go tool task test), on a fresh
# Debian 12 system, as CI does on a machine that has never seen the
# project: a debootstrap chroot with nothing but a minimal Debian, git,
# ca-certificates and Go (copied from this machine's /usr/local/go), and a
# clean clone of this repository's HEAD. Everything else the suite needs
# must come from the project's own setup; a package once installed by hand
# on a development machine shows up here as a failure. The whole suite
# runs inside (about 20 to 30 minutes with the cold builds of MinIO, mc and
# versitygw), so this is `go tool task test-fresh`, outside `task test`.
#
#   scripts/test-fresh.sh            # HEAD of this repository
#
# MIRROR overrides the Debian mirror (default http://deb.debian.org/debian);
# KEEP=1 keeps the chroot (/var/tmp/gs-fresh.*) for a look afterwards.
set -euo pipefail

repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
mirror="${MIRROR:-http://deb.debian.org/debian}"
log() { printf 'test-fresh: %s\n' "$*" >&2; }
die() { printf 'test-fresh: FAIL: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || die "run as root (debootstrap, chroot, and the suite itself)"
command -v debootstrap >/dev/null || die "debootstrap missing (go tool task setup installs it)"
[[ -x /usr/local/go/bin/go ]] || die "no Go at /usr/local/go to copy in"

work=$(mktemp -d /var/tmp/gs-fresh.XXXXXX)
root="$work/root"
mounted=()
cleanup() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount -R -l "${mounted[i]}" 2>/dev/null || true
	done
	if [[ ${KEEP:-} == 1 ]]; then
		log "kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

log "debootstrap bookworm (minbase, git, ca-certificates) from $mirror"
debootstrap --variant=minbase --include=git,ca-certificates bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
	{ tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" >"$root/etc/apt/sources.list"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The machine's CA bundle: on these machines it holds the CA of the
# network's TLS proxy, which the Go module proxy is reached through.
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
cp -a /usr/local/go "$root/usr/local/go"
git clone -q "$repo" "$root/src/genesissync"
log "clean clone of $(git -C "$root/src/genesissync" log -1 --format='%h %s')"

bind() { # bind SRC DST: a recursive bind mount, undone at exit
	mkdir -p "$2"
	mount --rbind "$1" "$2"
	mount --make-rslave "$2"
	mounted+=("$2")
}
# The chroot's / must be a mount point of its own: the suite's namespaces
# (task test-package) change the propagation of their root.
mount --bind "$root" "$root"
mounted+=("$root")
bind /proc "$root/proc"
bind /sys "$root/sys"
bind /dev "$root/dev"
mount -t tmpfs -o mode=0755 gs-fresh-run "$root/run"
mounted+=("$root/run")

# The environment CI gives the suite on these machines (module proxy, CA
# bundle, build flags), and nothing of this shell's own.
env=(HOME=/root LANG=C.UTF-8 TERM=dumb
	PATH=/usr/local/go/bin:/root/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
for v in GOPROXY GOSUMDB GOFLAGS AWS_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR; do
	if [[ -n ${!v:-} ]]; then env+=("$v=${!v}"); fi
done
log "running .ci/run inside the chroot"
start=$SECONDS
rc=0
chroot "$root" /usr/bin/env -i "${env[@]}" bash -c 'cd /src/genesissync && .ci/run' 2>&1 | tee "$work/ci.log" || rc=$?
log ".ci/run exited $rc after $((SECONDS - start)) s (log: $work/ci.log${KEEP:+, kept})"
exit "$rc"
