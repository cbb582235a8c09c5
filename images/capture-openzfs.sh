#!/usr/bin/env bash
# Captures real OpenZFS output for internal/zfs's golden tests from the
# appliance image (Debian 12, OpenZFS from contrib). Run as root after
# `go tool task image`:
#
#   images/capture-openzfs.sh            # into images/out/capture/files/
#
# The built image is not changed: a sparse COPY of its raw disk gets, with
# debugfs (no mount, no loop device), images/capture-openzfs.guest.sh as
# /usr/lib/genesissync-image/capture-openzfs and a one-shot unit
# (genesissync-capture.service, after the first boot unit) enabled in
# multi-user.target. The copy boots under qemu as in test-boot.sh (OVMF,
# TCG unless ACCEL=kvm, a blank 8 GB second disk on which first boot makes
# pool tank) with a second serial port: the guest script writes its
# captures there as a base64 tar between GS-CAPTURE-BEGIN/END markers and
# powers off. This script decodes them into images/out/capture/files/;
# copying the chosen ones into internal/zfs/testdata/openzfs/ is a separate,
# reviewed step (see that directory's README.md).
#
# Environment: ACCEL (tcg), TIMEOUT (seconds for the whole boot, 1800).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/images/out"
raw="$out/genesissync-appliance.raw"
run="$out/capture"
ACCEL="${ACCEL:-tcg}"
TIMEOUT="${TIMEOUT:-1800}"

log() { printf 'capture-openzfs: %s\n' "$*" >&2; }
fail() { printf 'capture-openzfs: FAILED: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || fail "run as root (the image files are root's)"
[[ -f $raw ]] || fail "no $raw: run go tool task image first"
for tool in debugfs sfdisk qemu-img qemu-system-x86_64 base64 tar; do
	command -v "$tool" >/dev/null || fail "missing $tool: run scripts/setup-image.sh"
done
code=""
for c in /usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_CODE.fd; do [[ -f $c ]] && code=$c && break; done
[[ -n $code ]] || fail "no OVMF firmware (apt-get install ovmf)"
vars="${code/CODE/VARS}"
[[ -f $vars ]] || fail "no $vars"

start=$(date +%s)
rm -rf "$run"
mkdir -p "$run"
log "copying $raw"
cp --sparse=always "$raw" "$run/disk.raw"

# The root partition (GPT partition 2, name "root"): its byte offset.
sector=$(sfdisk -d "$run/disk.raw" | sed -n 's/.*: start= *\([0-9]*\),.*name="root".*/\1/p')
[[ -n $sector ]] || fail "no partition named root in $raw"
fs="$run/disk.raw?offset=$((sector * 512))"

stage="$run/stage"
mkdir -p "$stage"
install -m 0755 "$root/images/capture-openzfs.guest.sh" "$stage/capture-openzfs"
cat >"$stage/genesissync-capture.service" <<'UNIT'
# Capture only (images/capture-openzfs.sh): never in the shipped image.
[Unit]
Description=GenesisSync OpenZFS output capture (test copy of the image)
After=genesissync-firstboot.service multi-user.target

[Service]
Type=oneshot
ExecStart=/usr/lib/genesissync-image/capture-openzfs
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=40min

[Install]
WantedBy=multi-user.target
UNIT
chmod 0644 "$stage/genesissync-capture.service"
debugfs -w -f - "$fs" >"$run/debugfs.log" 2>&1 <<CMDS
cd /usr/lib/genesissync-image
write $stage/capture-openzfs capture-openzfs
cd /etc/systemd/system
write $stage/genesissync-capture.service genesissync-capture.service
cd /etc/systemd/system/multi-user.target.wants
symlink genesissync-capture.service /etc/systemd/system/genesissync-capture.service
CMDS
check=$(debugfs -R 'stat /usr/lib/genesissync-image/capture-openzfs' "$fs" 2>/dev/null | head -n 3)
grep -q 'Mode:  *0755' <<<"$check" || fail "the guest script is not in the copy (see $run/debugfs.log): $check"
[[ $(debugfs -R 'cat /etc/systemd/system/genesissync-capture.service' "$fs" 2>/dev/null) == *ExecStart=* ]] ||
	fail "the capture unit is not in the copy (see $run/debugfs.log)"
debugfs -R 'stat /etc/systemd/system/multi-user.target.wants/genesissync-capture.service' "$fs" 2>/dev/null | grep -q 'Type: symlink' ||
	fail "the capture unit is not enabled in the copy (see $run/debugfs.log)"

qemu-img create -q -f qcow2 "$run/data.qcow2" 8G
cp "$vars" "$run/vars.fd"
serial="$run/serial.log"
capture="$run/capture.log"
: >"$capture"
log "booting the copy (accel $ACCEL; console $serial, captures $capture)"
qemu-system-x86_64 -machine q35 -accel "$ACCEL" -cpu max -smp 2 -m 2048 \
	-drive "if=pflash,format=raw,readonly=on,file=$code" \
	-drive "if=pflash,format=raw,file=$run/vars.fd" \
	-drive "file=$run/disk.raw,if=virtio,format=raw" \
	-drive "file=$run/data.qcow2,if=none,id=data,format=qcow2" -device "virtio-blk-pci,drive=data,serial=GSDATA1" \
	-netdev "user,id=n0,restrict=on" -device virtio-net-pci,netdev=n0 \
	-display none -serial "file:$serial" -serial "file:$capture" -monitor none \
	-pidfile "$run/qemu.pid" -daemonize
qpid=$(<"$run/qemu.pid")
cleanup() { kill "$qpid" 2>/dev/null || true; }
trap cleanup EXIT
while kill -0 "$qpid" 2>/dev/null; do
	(($(date +%s) - start < TIMEOUT)) || fail "no power-off within ${TIMEOUT}s (see $serial, $capture)"
	sleep 5
done
trap - EXIT
grep -aq GS-CAPTURE-END "$capture" || fail "no captures on the second serial port (see $serial, $capture)"
mkdir -p "$run/files"
tr -d '\r' <"$capture" | sed -n '/^GS-CAPTURE-BEGIN$/,/^GS-CAPTURE-END$/p' | sed '1d;$d' |
	base64 -d | tar -C "$run/files" -xzf -
grep -a '^GS-CAPTURE-NOTE' "$capture" | tr -d '\r' >&2 || true
secs=$(($(date +%s) - start))
printf 'capture %ds (accel %s)\n' "$secs" "$ACCEL" | tee "$run/time.txt" >&2
log "ok: $(find "$run/files" -type f | wc -l) files in $run/files ($(cat "$run/files/zfs-version.out" 2>/dev/null | tr '\n' ' '))"
rm -f "$run/disk.raw"
