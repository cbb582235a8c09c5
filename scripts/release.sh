#!/usr/bin/env bash
# Builds a release of the checked-out commit (`go tool task release`), from
# its git tag (the version is scripts/deb-version.sh's: v1.2.3 gives 1.2.3;
# an untagged commit gives a snapshot, 0.0.0+gitN.gSHA or 1.2.3+gitN.gSHA),
# into OUT (default dist/release/):
#
#   genesissync_VERSION_amd64.deb                the package (task package's, with fixed mtimes)
#   genesissync_VERSION_linux_amd64.tar.gz       the static binary, LICENSE, NOTICE, README.md,
#                                                copyright (every linked module's license), the
#                                                example config and the systemd units
#   genesissync_VERSION_linux_amd64.cdx.json     CycloneDX SBOM of the binary (cyclonedx-gomod app)
#   SHA256SUMS                                   sha256sum of the three
#
# Reproducible: the same commit gives the same bytes on any linux/amd64
# machine (GOTOOLCHAIN is set to go.mod's Go), in any directory, under any
# umask, time zone or locale. The binary is built with -trimpath, an empty build
# id, CGO_ENABLED=0 and GOAMD64=v1, without VCS stamping (the version is
# stamped with -X; VCS stamping also fails where git distrusts the
# checkout); every timestamp is SOURCE_DATE_EPOCH, the commit's time: nfpm
# reads it, tar gets --mtime and sorted names with owner 0, gzip -n drops
# the name and time; the SBOM has no serial number or timestamp, and the
# cyclonedx-gomod binary it names (with its hashes) is a -trimpath build
# of the version go.mod pins. scripts/test-release.sh checks it.
#
#   scripts/release.sh [OUT]
#
# Refuses uncommitted changes to tracked files and an uncommitted LICENSE
# or NOTICE; RELEASE_DIRTY=1 builds anyway (to try the task; never publish
# such a build).
set -euo pipefail

cd "$(dirname "$0")/.."
out=${1:-dist/release}
log() { printf 'release: %s\n' "$*" >&2; }
die() { printf 'release: FAIL: %s\n' "$*" >&2; exit 1; }

umask 022
export TZ=UTC LC_ALL=C
for c in git go tar gzip sha256sum; do
	command -v "$c" >/dev/null || die "$c missing"
done

for f in LICENSE NOTICE; do
	[[ -f $f ]] || die "$f missing: a release carries the license and the notices"
	if ! git ls-files --error-unmatch "$f" >/dev/null 2>&1 && [[ ${RELEASE_DIRTY:-} != 1 ]]; then
		die "$f is not committed"
	fi
done
if [[ -n $(git status --porcelain --untracked-files=no) && ${RELEASE_DIRTY:-} != 1 ]]; then
	git status --short --untracked-files=no >&2
	die "uncommitted changes (above): commit them, or RELEASE_DIRTY=1 to try the task"
fi
# The Go that builds a release is go.mod's (its toolchain line, else its
# go line): a newer local Go would compile other bytes. With another local
# version, go fetches that toolchain (checksummed, as a module).
gomod=$(go mod edit -json)
toolchain=$(sed -n 's/^\t"Toolchain": "\(go[^"]*\)",*$/\1/p' <<<"$gomod")
[[ -n $toolchain ]] || toolchain=go$(sed -n 's/^\t"Go": "\([^"]*\)",*$/\1/p' <<<"$gomod")
[[ $toolchain =~ ^go[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "go.mod names no exact Go version (go 1.N.M or toolchain go1.N.M): $toolchain"
export GOTOOLCHAIN=$toolchain
[[ $(go env GOVERSION) == "$toolchain" ]] || die "go env GOVERSION is $(go env GOVERSION), want $toolchain"
[[ -z $(go env GOEXPERIMENT) ]] || die "GOEXPERIMENT=$(go env GOEXPERIMENT): releases use the default toolchain (packaging/license-review.txt assumes no boringcrypto)"

version=$(bash scripts/deb-version.sh)
if tag=$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null); then
	log "$tag: version $version"
else
	log "HEAD has no v* tag: a snapshot, version $version"
fi
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct HEAD)
export SOURCE_DATE_EPOCH
log "SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH ($(date -u -d "@$SOURCE_DATE_EPOCH" +%FT%TZ), the commit's time)"

work=$(mktemp -d "${TMPDIR:-/tmp}/gs-release.XXXXXX")
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
mkdir -p "$out"
name=genesissync_${version}_linux_amd64

# The flags each build passes explicitly, so that nothing depends on this
# machine's go env (GOFLAGS there is -buildvcs=false on some, not others).
export GOFLAGS=-buildvcs=false
target=(GOOS=linux GOARCH=amd64 GOAMD64=v1 CGO_ENABLED=0)

log "build the binary"
env "${target[@]}" go build -trimpath -ldflags "-buildid= -X main.version=$version" -o "$work/genesissync" ./appliance

log "build cyclonedx-gomod (go.mod's version, -trimpath)"
CGO_ENABLED=0 go build -trimpath -ldflags=-buildid= -o "$work/cyclonedx-gomod" github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod

log "licenses and the SBOM"
CYCLONEDX="$work/cyclonedx-gomod" bash scripts/licenses.sh "$work/licenses" >"$work/licenses.txt" ||
	{ cat "$work/licenses.txt"; die "the license check"; }
cp "$work/licenses/sbom.cdx.json" "$out/$name.cdx.json"

log "the .deb"
DEB_VERSION=$version BINARY=$work/genesissync COPYRIGHT=$work/licenses/copyright \
	go tool nfpm package --config packaging/nfpm.yaml --packager deb --target "$out/genesissync_${version}_amd64.deb" >"$work/nfpm.log" 2>&1 ||
	{ cat "$work/nfpm.log" >&2; die "nfpm"; }

log "the tarball"
stage=$work/tar/$name
mkdir -p "$stage/systemd/smbd.service.d" "$stage/examples"
install -m 0755 "$work/genesissync" "$stage/genesissync"
install -m 0644 LICENSE NOTICE README.md "$stage/"
install -m 0644 "$work/licenses/copyright" "$stage/copyright"
install -m 0644 configs/genesissync.example.yaml "$stage/genesissync.example.yaml"
install -m 0644 systemd/genesissync.service "$stage/systemd/genesissync.service"
install -m 0644 systemd/smbd.service.d/genesissync.conf "$stage/systemd/smbd.service.d/genesissync.conf"
install -m 0644 packaging/examples/shares.conf "$stage/examples/shares.conf"
tar -C "$work/tar" --format=gnu --sort=name --mtime="@$SOURCE_DATE_EPOCH" \
	--owner=0 --group=0 --numeric-owner --mode='u+rwX,go+rX,go-w' -cf - "$name" |
	gzip -9 -n >"$out/$name.tar.gz"

(cd "$out" && sha256sum -- "genesissync_${version}_amd64.deb" "$name.tar.gz" "$name.cdx.json" >SHA256SUMS)
log "done: $out"
cat "$out/SHA256SUMS"
