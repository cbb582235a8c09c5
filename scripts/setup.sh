#!/usr/bin/env bash
# Installs what the demo, the tests and the benchmarks need, idempotently and
# only what is missing, on Debian 12 as root:
#   - Debian packages: samba, smbclient, zfs-fuse; samba-vfs-modules
#     (shadow_copy2 for Previous Versions: a Recommends of samba, which
#     --no-install-recommends leaves out, and without it smbd refuses to
#     serve a share that names the module); systemd (systemd-analyze
#     for task verify-units, and the init that task test-package boots in a
#     namespace) and curl (task test-package), which minimal images lack;
#     chromium, driven headless by the status page's browser test;
#     rclone, a peer in task bench; debootstrap, for task test-chroot
#   - a MinIO server, the MinIO client and versitygw (a second, independent
#     S3 implementation for the conformance and e2e tests), built with
#     `go install` at pinned versions into the project-local bin dir (.bin/)
# Run it through `go tool task setup`.
#
# With --providers (`go tool task setup-providers`) it installs only the
# S3 servers that `task test-providers` adds to the matrix and the default
# suite leaves out because they take long to build: SeaweedFS's weed
# (about 7 minutes on 2 cores).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${GS_BIN_DIR:-$root/.bin}"

# MinIO publishes no semver tags: these are Go pseudo-versions of the
# server and client, built from source through the module proxy.
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
MC_VERSION=v0.0.0-20250313080218-cf909e1063a9
# versitygw tags releases; its posix backend serves a plain directory.
VERSITYGW_VERSION=v1.8.0
# SeaweedFS tags releases (4.x) but not as Go modules: a pseudo-version of
# the commit (weed version says 4.53).
SEAWEEDFS_VERSION=v0.0.0-20261109003541-7506e5f91cd6

DEB_PACKAGES=(samba samba-vfs-modules smbclient zfs-fuse systemd curl chromium rclone debootstrap)

log() { printf 'setup: %s\n' "$*" >&2; }

# weed_tool VERSION: build SeaweedFS's weed at VERSION into $bin/weed
# unless the stamp says that exact version is there. `go install` refuses
# the module (its go.mod has replace directives), so the module is
# downloaded, copied out of the read-only module cache and built in place
# with its own go.mod and go.sum.
weed_tool() {
	local module=github.com/seaweedfs/seaweedfs version=$1
	local stamp="$bin/.weed.version" want="$module/weed@$version"
	if [[ -x $bin/weed && -f $stamp && $(<"$stamp") == "$want" ]]; then
		return
	fi
	log "building weed ($want); a cold build takes about 7 minutes"
	local json dir work
	if ! json=$(go mod download -json "$module@$version"); then
		log "go mod download $module@$version failed: $json"
		exit 1
	fi
	dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
	if [[ -z $dir || ! -f $dir/go.mod ]]; then
		log "go mod download $module@$version gave no module directory: $json"
		exit 1
	fi
	work=$(mktemp -d)
	cp -r "$dir" "$work/src"
	chmod -R u+w "$work/src"
	mkdir -p "$bin"
	if ! (cd "$work/src" && CGO_ENABLED=0 go build -o "$bin/weed.new" ./weed); then
		rm -rf "$work" "$bin/weed.new"
		log "building weed failed"
		exit 1
	fi
	rm -rf "$work"
	mv "$bin/weed.new" "$bin/weed"
	echo "$want" >"$stamp"
}

if [[ ${1:-} == --providers ]]; then
	weed_tool "$SEAWEEDFS_VERSION"
	log "ready: $("$bin/weed" version 2>/dev/null | sed -n 1p) in $bin"
	exit 0
elif (($#)); then
	log "usage: setup.sh [--providers]"
	exit 2
fi

missing=()
for p in "${DEB_PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done
if ((${#missing[@]})); then
	if [[ $(id -u) != 0 ]]; then
		log "missing Debian packages ${missing[*]}; run this as root"
		exit 1
	fi
	log "installing Debian packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# policy-rc.d keeps the packages' own services (the system smbd, nmbd,
	# zfs-fuse) from being started by the install: the appliance runs its
	# own, and a system smbd on port 445 is not wanted on a test machine.
	policy=/usr/sbin/policy-rc.d
	created_policy=0
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		created_policy=1
	fi
	trap '[[ $created_policy == 1 ]] && rm -f "$policy"' EXIT
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# go_tool NAME MODULE VERSION: build MODULE@VERSION into $bin/NAME unless
# the stamp file says that exact version is already there.
go_tool() {
	local name=$1 module=$2 version=$3
	local stamp="$bin/.$name.version"
	if [[ -x $bin/$name && -f $stamp && $(<"$stamp") == "$module@$version" ]]; then
		return
	fi
	log "building $name ($module@$version); a cold build takes a few minutes"
	mkdir -p "$bin"
	GOBIN="$bin" CGO_ENABLED=0 go install "$module@$version"
	echo "$module@$version" >"$stamp"
}

go_tool minio github.com/minio/minio "$MINIO_VERSION"
go_tool mc github.com/minio/mc "$MC_VERSION"
go_tool versitygw github.com/versity/versitygw/cmd/versitygw "$VERSITYGW_VERSION"

log "ready: $(smbd --version), minio, mc and versitygw in $bin"
