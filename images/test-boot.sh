#!/usr/bin/env bash
# Boots the appliance image under qemu-system-x86_64 with software
# emulation (TCG; ACCEL=kvm where /dev/kvm works) and UEFI firmware (OVMF),
# with a blank second disk for the ZFS pool, and checks what a station
# would see on first boot:
#   - the serial console shows the status page's address and the one-time
#     password line, and no file-backed pool warning (the second disk is
#     there)
#   - the status page answers over a port forwarded to the host's loopback
#   - the printed password logs in as admin (POST /api/login)
# Then (REIMAGE=1, the default) it boots a fresh copy of the image with the
# same second disk, as a station re-imaging for an upgrade would, and checks
# that first boot imported the pool and restored the configuration: the
# status page answers and the first password still logs in.
# The guest's network is qemu's user-mode network with restrict=on: it
# reaches nothing but its DHCP server, and the host reaches it only through
# the forwarded port. Run through `go tool task test:image`.
# Times (boot to the password line, to a ready status page) go to
# images/out/boot-times.txt. The boot disk is a qcow2 overlay: the image
# itself is never changed.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/images/out"
image="$out/genesissync-appliance.qcow2"
ACCEL="${ACCEL:-tcg}"
TIMEOUT="${TIMEOUT:-1200}"   # seconds for the whole boot
DATA_DISK="${DATA_DISK:-1}"  # 0: no second disk (file-backed pool)
REIMAGE="${REIMAGE:-$DATA_DISK}"

fail() { printf 'test:image: FAILED: %s\n' "$*" >&2; exit 1; }
log() { printf 'test:image: %s\n' "$*" >&2; }

[[ -f $image ]] || fail "no $image: run go tool task image"
for t in qemu-system-x86_64 qemu-img curl; do
	command -v "$t" >/dev/null || fail "missing $t: run scripts/setup-image.sh"
done
code=/usr/share/OVMF/OVMF_CODE_4M.fd
vars=/usr/share/OVMF/OVMF_VARS_4M.fd
[[ -f $code && -f $vars ]] || fail "missing OVMF firmware ($code): run scripts/setup-image.sh"

run="$out/boot"
rm -rf "$run"
mkdir -p "$run"
if [[ $DATA_DISK == 1 ]]; then
	qemu-img create -q -f qcow2 "$run/data.qcow2" 8G
fi

# A free port on the host's loopback for the status page.
port=""
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 20000))
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[[ -n $port ]] || fail "no free port"

qpid=""
cleanup() { [[ -z $qpid ]] || kill "$qpid" 2>/dev/null || true; }
trap cleanup EXIT

# boot NAME PATTERN: boots a fresh copy of the image (a qcow2 overlay) with
# the second disk, waits for PATTERN on the serial console and for the
# status page; sets line (the console line), t_line and t_ready (seconds).
boot() {
	local name=$1 pattern=$2
	local dir="$run/$name"
	mkdir -p "$dir"
	cp "$vars" "$dir/vars.fd"
	qemu-img create -q -f qcow2 -b "$image" -F qcow2 "$dir/boot.qcow2" 8G
	local disks=(-drive "file=$dir/boot.qcow2,if=virtio,format=qcow2")
	if [[ $DATA_DISK == 1 ]]; then
		disks+=(-drive "file=$run/data.qcow2,if=none,id=data,format=qcow2" -device "virtio-blk-pci,drive=data,serial=GSDATA1")
	fi
	serial="$dir/serial.log"
	local start now
	start=$(date +%s)
	qemu-system-x86_64 -machine q35 -accel "$ACCEL" -cpu max -smp 2 -m 2048 \
		-drive "if=pflash,format=raw,readonly=on,file=$code" \
		-drive "if=pflash,format=raw,file=$dir/vars.fd" \
		"${disks[@]}" \
		-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:8080" \
		-device virtio-net-pci,netdev=n0 \
		-display none -serial "file:$serial" -monitor none \
		-pidfile "$dir/qemu.pid" -daemonize
	qpid=$(<"$dir/qemu.pid")
	log "$name: booting (accel $ACCEL, qemu pid $qpid, status page forwarded to 127.0.0.1:$port, serial log $serial)"
	line="" t_line="" t_ready=""
	while :; do
		now=$(date +%s)
		((now - start < TIMEOUT)) || break
		kill -0 "$qpid" 2>/dev/null || fail "$name: qemu exited (see $serial)"
		if [[ -z $line ]]; then
			line=$(tr -d '\r' <"$serial" | grep -a -m1 "$pattern" || true)
			[[ -n $line ]] && t_line=$((now - start)) && log "$name: after ${t_line}s: $line"
		fi
		if [[ -z $t_ready ]] && curl -fsS -m 10 -o "$dir/page.html" "http://127.0.0.1:$port/" 2>/dev/null; then
			t_ready=$((now - start))
			log "$name: status page answered after ${t_ready}s"
		fi
		[[ -n $line && -n $t_ready ]] && break
		sleep 5
	done
	[[ -n $line ]] || fail "$name: no '$pattern' on the serial console within ${TIMEOUT}s (see $serial)"
	[[ -n $t_ready ]] || fail "$name: the status page did not answer on the forwarded port within ${TIMEOUT}s (see $serial)"
	grep -qi genesissync "$dir/page.html" || fail "$name: the page at / is not the status page (see $dir/page.html)"
	grep -aq 'GenesisSync status page: http://' "$serial" || fail "$name: no status page address on the serial console"
	if grep -aq 'first boot FAILED' "$serial"; then
		fail "$name: $(grep -a -m1 'first boot FAILED' "$serial")"
	fi
}

# login PASSWORD: logs in to the status page as admin.
login() {
	local status
	status=$(curl -s -m 30 -o "$run/login.json" -w '%{http_code}' -H 'Content-Type: application/json' \
		-H "Origin: http://127.0.0.1:$port" \
		--data "{\"user\":\"admin\",\"password\":\"$1\"}" "http://127.0.0.1:$port/api/login")
	[[ $status == 200 ]] || fail "login as admin with the printed password: HTTP $status ($(cat "$run/login.json"))"
}

stop() {
	kill "$qpid"
	while kill -0 "$qpid" 2>/dev/null; do sleep 1; done
	qpid=""
}

boot first 'GenesisSync one-time admin password'
if [[ $DATA_DISK == 1 ]] && grep -aq 'WARNING: The ZFS pool' "$serial"; then
	fail "a file-backed pool although a second disk was given (see $serial)"
fi
if [[ $DATA_DISK == 0 ]] && ! grep -aq 'WARNING: The ZFS pool' "$serial"; then
	fail "no file-backed pool warning without a second disk (see $serial)"
fi
pw=${line##*: }
[[ $pw =~ ^[A-Za-z0-9]{16}$ ]] || fail "the password line does not end in a 16-character password: $line"
login "$pw"
log "first: logged in as admin with the printed password"
times="accel $ACCEL
first boot to password line ${t_line}s
first boot to status page ${t_ready}s"

if [[ $REIMAGE == 1 ]]; then
	# Power off (no clean export: a box re-imaged after a crash is the
	# harder case) and boot a fresh image with the same pool disk.
	stop
	boot reimaged 'GenesisSync one-time root password'
	grep -aq 'Imported the existing ZFS pool tank' "$serial" || fail "reimaged: the pool was not imported (see $serial)"
	grep -aq "Restored /etc/genesissync/genesissync.yaml from the pool" "$serial" || fail "reimaged: the configuration was not restored (see $serial)"
	login "$pw"
	log "reimaged: the first boot's admin password still logs in"
	times+="
re-imaged boot to status page ${t_ready}s"
fi
printf '%s\n' "$times" | tee "$out/boot-times.txt" >&2
log "ok"
