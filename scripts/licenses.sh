#!/usr/bin/env bash
# The license check of the genesissync binary (`go tool task licenses`, and
# a step of `task package` and `task release`): cyclonedx-gomod (a Go tool
# dependency in go.mod) writes a CycloneDX SBOM of ./appliance as built for
# linux/amd64 with CGO_ENABLED=0, detecting each module's license; then
# internal/licenses/cmd/licenses prints the license of every linked module,
# fails on an unknown or disallowed one (see packaging/license-review.txt
# for the files a person read) and writes the Debian copyright file.
#
#   scripts/licenses.sh [OUT]      OUT (default dist/licenses) gets
#                                  sbom.cdx.json and copyright
#
# CYCLONEDX overrides the cyclonedx-gomod binary (task release passes a
# -trimpath build, whose hash in the SBOM is the same on every machine).
set -euo pipefail

cd "$(dirname "$0")/.."
out=${1:-dist/licenses}
die() { printf 'licenses: FAIL: %s\n' "$*" >&2; exit 1; }

mkdir -p "$out"
rm -f "$out/sbom.cdx.json" "$out/copyright"
# Built for this machine, run for the target: GOOS, GOARCH and CGO_ENABLED
# are the build constraints cyclonedx-gomod lists the modules under.
cdx=${CYCLONEDX:-$(go tool -n cyclonedx-gomod)}
# -licenses: detected licenses are evidence (the tool's default: a
# detector can be wrong), which the check below reads and corrects.
# -noserial, -notimestamp: the same commit gives the same SBOM.
if ! GOOS=linux GOARCH=amd64 CGO_ENABLED=0 "$cdx" app -json -licenses -std -noserial -notimestamp \
	-main appliance -output "$out/sbom.cdx.json" . 2>"$out/cyclonedx.log"; then
	cat "$out/cyclonedx.log" >&2
	die "cyclonedx-gomod app"
fi
go run ./internal/licenses/cmd/licenses -goos linux -goarch amd64 \
	-sbom "$out/sbom.cdx.json" -review packaging/license-review.txt -copyright "$out/copyright"
