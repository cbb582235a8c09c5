#!/usr/bin/env bash
# `go tool task test-release` (part of `task test`): builds the release of
# HEAD twice, each from its own clean clone at a different path, under a
# different umask, time zone and locale, and compares every artifact byte
# for byte; then checks SHA256SUMS and what the artifacts hold. Under a
# minute once Go's build cache is warm (both builds share it, as two
# builders with the same cache would; TEST_RELEASE_FRESH_CACHE=1 gives the
# second build an empty cache: a full compile, several minutes on 2 cores).
#
# It tests the committed HEAD, not the working tree: commit first.
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD
export TZ=UTC # for the checks below; each build gets its own
log() { printf 'test-release: %s\n' "$*" >&2; }
die() { printf 'test-release: FAIL: %s\n' "$*" >&2; exit 1; }
ok() { printf 'test-release: ok: %s\n' "$*" >&2; }

head=$(git rev-parse HEAD)
work=$(mktemp -d "${TMPDIR:-/tmp}/gs-test-release.XXXXXX")
trap 'rm -rf "$work"' EXIT

build() { # build DIR UMASK TZ LANG [GOCACHE]
	local dir=$1
	mkdir -p "$(dirname "$dir")"
	(
		umask "$2"
		git clone -q --no-checkout "$repo" "$dir"
		git -C "$dir" checkout -q --detach "$head"
		cd "$dir"
		if [[ -n ${5:-} ]]; then export GOCACHE=$5; fi
		TZ=$3 LANG=$4 LC_ALL=$4 bash scripts/release.sh dist/release
	) >"$dir.log" 2>&1 || { cat "$dir.log" >&2; die "release build in $dir"; }
}

start=$SECONDS
build "$work/a" 022 UTC C
ok "build 1 ($work/a) in $((SECONDS - start)) s"
start=$SECONDS
fresh=
if [[ ${TEST_RELEASE_FRESH_CACHE:-} == 1 ]]; then fresh=$work/gocache; fi
build "$work/elsewhere/deeper/b" 077 Pacific/Chatham C.UTF-8 "$fresh"
ok "build 2 ($work/elsewhere/deeper/b, umask 077, TZ Pacific/Chatham${fresh:+, empty Go build cache}) in $((SECONDS - start)) s"

a=$work/a/dist/release
b=$work/elsewhere/deeper/b/dist/release
names_a=$(cd "$a" && find . -type f | sort)
names_b=$(cd "$b" && find . -type f | sort)
[[ $names_a == "$names_b" ]] || die "the builds made different files: $(diff <(echo "$names_a") <(echo "$names_b") | tr '\n' ' ')"
differ=0
while read -r f; do
	f=${f#./}
	if ! cmp -s "$a/$f" "$b/$f"; then
		printf 'test-release: FAIL: %s differs between the two builds\n' "$f" >&2
		case $f in
		*.tar.gz) diff <(tar -tvzf "$a/$f") <(tar -tvzf "$b/$f") >&2 || true ;;
		*.deb) diff <(dpkg-deb -c "$a/$f") <(dpkg-deb -c "$b/$f") >&2 || true ;;
		*.json | SHA256SUMS) diff "$a/$f" "$b/$f" >&2 || true ;;
		esac
		differ=1
	fi
done <<<"$names_a"
((differ == 0)) || die "the release is not reproducible (see above)"
ok "$(wc -l <<<"$names_a") files, byte for byte the same in both builds"

(cd "$a" && sha256sum --quiet -c SHA256SUMS) || die "SHA256SUMS does not match"
ok "SHA256SUMS matches the artifacts"

# What the artifacts hold.
version=$(cd "$work/a" && bash scripts/deb-version.sh)
name=genesissync_${version}_linux_amd64
deb=$a/genesissync_${version}_amd64.deb
for f in "$deb" "$a/$name.tar.gz" "$a/$name.cdx.json"; do
	[[ -f $f ]] || die "no $(basename "$f")"
done
epoch=$(git log -1 --format=%ct "$head")
want="$name/
$name/LICENSE
$name/NOTICE
$name/README.md
$name/copyright
$name/examples/
$name/examples/shares.conf
$name/genesissync
$name/genesissync.example.yaml
$name/systemd/
$name/systemd/genesissync.service
$name/systemd/smbd.service.d/
$name/systemd/smbd.service.d/genesissync.conf"
[[ $(tar -tzf "$a/$name.tar.gz") == "$want" ]] || die "tarball contents: $(tar -tzf "$a/$name.tar.gz" | tr '\n' ' ')"
[[ -z $(tar --numeric-owner -tvzf "$a/$name.tar.gz" | awk '$2 != "0/0"') ]] || die "tarball entries not owned by 0/0"
tar -xzf "$a/$name.tar.gz" -C "$work"
for f in LICENSE NOTICE README.md; do
	cmp -s "$work/$name/$f" "$work/a/$f" || die "tarball $f differs from the tree's"
done
[[ $(find "$work/$name" -newermt "@$epoch" -o ! -newermt "@$((epoch - 1))" | wc -l) == 0 ]] ||
	die "tarball mtimes are not the commit's time ($epoch)"
bi=$(go version -m "$work/$name/genesissync")
for want in 'build	-trimpath=true' 'build	CGO_ENABLED=0' 'build	GOOS=linux' 'build	GOARCH=amd64'; do
	grep -qF "$want" <<<"$bi" || die "binary build info lacks '$want'"
done
[[ $("$work/$name/genesissync" version) == "$version" ]] || die "the binary says $("$work/$name/genesissync" version), want $version"
ok "tarball: the binary ($version, static, -trimpath), LICENSE, NOTICE, README.md, copyright, config, units; owner 0/0, mtime $epoch"

[[ $(dpkg-deb -f "$deb" Version) == "$version" ]] || die "deb Version $(dpkg-deb -f "$deb" Version)"
dpkg-deb -x "$deb" "$work/deb"
cmp -s "$work/deb/usr/bin/genesissync" "$work/$name/genesissync" || die "the .deb and the tarball carry different binaries"
cmp -s "$work/deb/usr/share/doc/genesissync/copyright" "$work/$name/copyright" || die "the .deb and the tarball carry different copyright files"
[[ $(dpkg-deb --fsys-tarfile "$deb" | tar -tvf - | awk -v d="$(date -u -d "@$epoch" '+%Y-%m-%d %H:%M')" '$4" "$5 != d' | wc -l) == 0 ]] ||
	die ".deb members do not all carry the commit's time"
ok ".deb: version $version, the same binary and copyright as the tarball, every mtime the commit's"

grep -q '"bomFormat": "CycloneDX"' "$a/$name.cdx.json" || die "SBOM is not CycloneDX JSON"
! grep -qE '"(serialNumber|timestamp)"' "$a/$name.cdx.json" || die "SBOM has a serial number or timestamp"
grep -q '"name": "github.com/aws/aws-sdk-go-v2/service/s3"' "$a/$name.cdx.json" || die "SBOM lacks the linked modules"
ok "SBOM: CycloneDX, no serial number or timestamp, the linked modules"

log "sha256 (both builds):"
(cd "$a" && sha256sum -- *) >&2
