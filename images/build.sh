#!/usr/bin/env bash
# Builds the GenesisSync appliance disk image: Debian 12 (bookworm) for
# x86-64 with OpenZFS from contrib (zfs-dkms, zfsutils-linux), Samba and the
# genesissync .deb. Run it through `go tool task image` (as root), which
# builds the .deb first. Outputs, under images/out/:
#   genesissync-appliance.raw    the disk (GPT: EFI system partition + root)
#   genesissync-appliance.qcow2  the same disk for VMs
#   build-times.txt              seconds per stage
#
# Why debootstrap and not mkosi: bookworm's mkosi (v14) partitions through
# loop devices and mounts, which a build container or CI runner may not
# have. Here nothing is mounted but the chroot's /proc, /sys and /dev:
# debootstrap + apt in a chroot make the root, `mkfs.ext4 -d` turns the
# directory into a file system, mtools fills the FAT EFI partition, sfdisk
# writes the GPT and dd puts the partitions in place. The disk boots with
# UEFI (GRUB's EFI image as the removable-media path EFI/BOOT/BOOTX64.EFI);
# GRUB then reads /boot/grub/grub.cfg on the root, which Debian's kernel
# hooks (update-grub) keep current on kernel upgrades.
#
# Stages (each timed into build-times.txt):
#   base     debootstrap + kernel, headers, zfs-dkms (the module is built
#            for the image's kernel, never the host's, and checked), Samba.
#            Cached as images/out/base.tar.zst keyed by this file's base
#            stage inputs: delete it (or BASE=rebuild) to start over.
#   appliance the .deb, images/rootfs/ (first boot unit and script,
#            network), GRUB, fstab
#   disk     file systems, partition table, raw and qcow2
#
# Environment: DEB (the genesissync .deb; default: dist/latest-deb),
# MIRROR (default http://deb.debian.org/debian), SIZE (disk size, 4G).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/images/out"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
SUITE=bookworm
SIZE="${SIZE:-4G}"
ESP_MIB=256

# What the base stage installs into the image (besides debootstrap's
# minbase). zfs-dkms builds the module with the headers of the kernel.
BASE_PACKAGES=(
	systemd-sysv udev dbus kmod initramfs-tools
	linux-image-amd64 linux-headers-amd64
	grub-efi-amd64 efibootmgr
	zfs-dkms zfsutils-linux zfs-zed
	samba samba-vfs-modules smbclient
	ca-certificates systemd-timesyncd openssh-server
	iproute2 iputils-ping less nano procps util-linux fdisk
)

# Small packages installed in the appliance stage, on top of the cached
# base: systemd-resolved replaces the chroot's /etc/resolv.conf, so it
# comes after every download.
APPLIANCE_PACKAGES=(systemd-resolved)

log() { printf 'image: %s\n' "$*" >&2; }
die() { printf 'image: FAILED: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || die "run as root (debootstrap and chroot)"
for tool in debootstrap mkfs.ext4 mkfs.vfat mcopy mmd sfdisk qemu-img zstd; do
	command -v "$tool" >/dev/null || die "missing $tool: run scripts/setup-image.sh"
done

DEB="${DEB:-}"
if [[ -z $DEB && -f $root/dist/latest-deb ]]; then
	DEB="$root/$(<"$root/dist/latest-deb")"
fi
[[ -n $DEB && -f $DEB ]] || die "no genesissync .deb (run go tool task package, or set DEB=)"

mkdir -p "$out"
times="$out/build-times.txt"
: >"$times"
stage_start=0
stage() { stage_start=$(date +%s); log "stage $1"; }
stage_done() { printf '%s %ds\n' "$1" $(($(date +%s) - stage_start)) | tee -a "$times" >&2; }

work="$out/work"
rootfs="$work/rootfs"

# --- chroot plumbing: mounted only while a stage runs, always unmounted.
mounted=()
chroot_mounts() {
	mount -t proc proc "$rootfs/proc"
	mount -t sysfs sysfs "$rootfs/sys"
	mount --bind /dev "$rootfs/dev"
	mount --bind /dev/pts "$rootfs/dev/pts"
	mounted=("$rootfs/dev/pts" "$rootfs/dev" "$rootfs/sys" "$rootfs/proc")
}
chroot_umounts() {
	local m
	for m in "${mounted[@]}"; do umount -l "$m" 2>/dev/null || true; done
	mounted=()
}
trap chroot_umounts EXIT
in_root() { chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 HOME=/root "$@"; }

# --- stage base
base_key=$(printf '%s\n' "$SUITE" "$MIRROR" "${BASE_PACKAGES[*]}" v1 | sha256sum | cut -c1-16)
base_tar="$out/base.tar.zst"
base_stamp="$out/base.key"

build_base() {
	stage base
	rm -rf "$work"
	mkdir -p "$rootfs"
	debootstrap --variant=minbase --components=main,contrib \
		--include=apt-utils "$SUITE" "$rootfs" "$MIRROR" >"$out/debootstrap.log" 2>&1 ||
		die "debootstrap $SUITE from $MIRROR (see $out/debootstrap.log)"
	cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $MIRROR $SUITE main contrib
deb $MIRROR $SUITE-updates main contrib
deb $SECURITY_MIRROR $SUITE-security main contrib
SOURCES
	# No service starts inside the chroot.
	printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
	chmod 755 "$rootfs/usr/sbin/policy-rc.d"
	# The image is an appliance: no recommends beyond what is listed.
	printf 'APT::Install-Recommends "false";\n' >"$rootfs/etc/apt/apt.conf.d/90genesissync"
	# zfs-dkms shows a licence note (CDDL beside GPL): noninteractive.
	chroot_mounts
	in_root apt-get update >>"$out/apt.log" 2>&1 || die "apt-get update in the image (see $out/apt.log)"
	# The kernel and its headers first, so that zfs-dkms finds them.
	in_root apt-get install -y linux-image-amd64 linux-headers-amd64 >>"$out/apt.log" 2>&1 ||
		die "install the kernel and headers (see $out/apt.log)"
	local kver
	kver=$(image_kernel)
	log "image kernel: $kver (host kernel: $(uname -r))"
	in_root apt-get install -y "${BASE_PACKAGES[@]}" >>"$out/apt.log" 2>&1 ||
		die "install ${BASE_PACKAGES[*]} (see $out/apt.log; zfs-dkms's build log is under the image's /var/lib/dkms/zfs/*/build/make.log)"
	# dkms's postinst builds for the kernels it finds; inside a chroot,
	# uname -r is the host's, so build explicitly for the image's kernel
	# (a no-op when already installed) and check the module is there.
	local zver
	zver=$(in_root dpkg-query -W -f='${Version}' zfs-dkms | sed 's/-[^-]*$//')
	if ! ls "$rootfs/lib/modules/$kver/updates/dkms/zfs.ko"* >/dev/null 2>&1; then
		in_root dkms install "zfs/$zver" -k "$kver" >>"$out/apt.log" 2>&1 ||
			die "dkms install zfs/$zver -k $kver (see $out/apt.log and the image's /var/lib/dkms/zfs/$zver/build/make.log)"
	fi
	ls "$rootfs/lib/modules/$kver/updates/dkms/zfs.ko"* >/dev/null 2>&1 ||
		die "zfs.ko was not built for the image's kernel $kver"
	in_root update-initramfs -u -k "$kver" >>"$out/apt.log" 2>&1 || die "update-initramfs -k $kver"
	in_root apt-get clean
	chroot_umounts
	tar -C "$rootfs" --numeric-owner --xattrs --acls -cf - . | zstd -q -T0 -3 -o "$base_tar.tmp" -f
	mv "$base_tar.tmp" "$base_tar"
	echo "$base_key" >"$base_stamp"
	stage_done base
}

image_kernel() {
	local k
	k=$(ls "$rootfs/lib/modules" | sort -V | tail -n1)
	[[ -n $k ]] || die "no kernel under the image's /lib/modules"
	echo "$k"
}

if [[ ${BASE:-} != rebuild && -f $base_tar && -f $base_stamp && $(<"$base_stamp") == "$base_key" ]]; then
	stage base-cached
	rm -rf "$work"
	mkdir -p "$rootfs"
	zstd -q -dc "$base_tar" | tar -C "$rootfs" --numeric-owner --xattrs --acls -xf -
	stage_done base-cached
else
	build_base
fi
kver=$(image_kernel)

# --- stage appliance
stage appliance
chroot_mounts
cp "$DEB" "$rootfs/tmp/genesissync.deb"
in_root apt-get install -y /tmp/genesissync.deb >>"$out/apt.log" 2>&1 || die "install $(basename "$DEB") (see $out/apt.log)"
rm -f "$rootfs/tmp/genesissync.deb"
# The licenses and notices the image redistributes come with the .deb.
[[ -s $rootfs/usr/share/doc/genesissync/copyright ]] || die "the image lacks /usr/share/doc/genesissync/copyright"
rm -f "$rootfs/etc/resolv.conf"
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
in_root apt-get install -y "${APPLIANCE_PACKAGES[@]}" >>"$out/apt.log" 2>&1 || die "install ${APPLIANCE_PACKAGES[*]} (see $out/apt.log)"
# The image's own files: the first boot unit and script, the network.
cp -a "$root/images/rootfs/." "$rootfs/"
chown -R root:root "$rootfs/etc/systemd/system/genesissync-firstboot.service" "$rootfs/usr/lib/genesissync-image"
in_root systemctl enable genesissync-firstboot.service systemd-networkd.service \
	systemd-resolved.service systemd-timesyncd.service ssh.service >>"$out/apt.log" 2>&1 ||
	die "enable the image's services"
# zfs: the module, the pool import at boot (from the cache file first
# boot writes), mounts and the event daemon.
in_root systemctl enable zfs-load-module.service zfs-import-cache.service zfs-mount.service \
	zfs.target zfs-import.target zfs-zed.service >>"$out/apt.log" 2>&1 || die "enable the zfs units"
echo genesissync >"$rootfs/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tgenesissync\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
ln -sf /run/systemd/resolve/stub-resolv.conf "$rootfs/etc/resolv.conf"
# Root is locked until first boot gives it the one-time password.
in_root passwd -l root >/dev/null
# A fresh machine-id on first boot (ConditionFirstBoot), not the build's.
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"
# Host keys are made on first boot, never shipped in the image.
rm -f "$rootfs"/etc/ssh/ssh_host_*

root_uuid=$(cat /proc/sys/kernel/random/uuid)
esp_serial=$(printf '%08X' $((RANDOM * 65536 + RANDOM)))
esp_uuid="${esp_serial:0:4}-${esp_serial:4:4}"
cat >"$rootfs/etc/fstab" <<FSTAB
# <file system>      <mount point> <type> <options>                 <dump> <pass>
UUID=$root_uuid      /             ext4   errors=remount-ro,x-systemd.growfs 0 1
UUID=$esp_uuid       /boot/efi     vfat   umask=0077,nofail         0 2
FSTAB
mkdir -p "$rootfs/boot/efi"
# Serial and screen: the kernel's and systemd's messages and a login on both;
# /dev/console (the last console=) is the serial port, which the boot test
# reads; first boot writes its message to every active console.
cmdline="console=tty0 console=ttyS0,115200n8"
cat >"$rootfs/etc/default/grub" <<GRUB
GRUB_DEFAULT=0
GRUB_TIMEOUT=1
GRUB_DISTRIBUTOR=GenesisSync
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX="$cmdline"
GRUB_TERMINAL="console serial"
GRUB_SERIAL_COMMAND="serial --speed=115200"
GRUB_DISABLE_OS_PROBER=true
GRUB
# The first grub.cfg is written here (update-grub cannot probe a chroot's
# root device); later kernel upgrades on the box regenerate it.
mkdir -p "$rootfs/boot/grub"
cp -a "$rootfs/usr/lib/grub/x86_64-efi" "$rootfs/boot/grub/"
cat >"$rootfs/boot/grub/grub.cfg" <<GRUBCFG
# Written by the image build; replaced by update-grub on the first kernel upgrade.
serial --speed=115200
terminal_input console serial
terminal_output console serial
set timeout=1
insmod part_gpt
insmod ext2
search --no-floppy --fs-uuid --set=root $root_uuid
menuentry 'GenesisSync appliance (Debian 12, $kver)' {
	linux /boot/vmlinuz-$kver root=UUID=$root_uuid ro $cmdline
	initrd /boot/initrd.img-$kver
}
GRUBCFG
# GRUB's EFI image: finds the root by UUID and reads its grub.cfg.
cat >"$rootfs/tmp/grub-embed.cfg" <<EMBED
search --no-floppy --fs-uuid --set=root $root_uuid
set prefix=(\$root)/boot/grub
configfile (\$root)/boot/grub/grub.cfg
EMBED
in_root grub-mkstandalone -O x86_64-efi -o /tmp/BOOTX64.EFI \
	--modules="part_gpt ext2 search search_fs_uuid configfile normal linux serial terminal" \
	"boot/grub/grub.cfg=/tmp/grub-embed.cfg" >>"$out/apt.log" 2>&1 || die "grub-mkstandalone"
mv "$rootfs/tmp/BOOTX64.EFI" "$work/BOOTX64.EFI"
rm -f "$rootfs/tmp/grub-embed.cfg" "$rootfs/usr/sbin/policy-rc.d"
# Grow the root partition to the disk it was written to (systemd-repart;
# x-systemd.growfs above grows the file system).
mkdir -p "$rootfs/etc/repart.d"
printf '[Partition]\nType=root\n' >"$rootfs/etc/repart.d/50-root.conf"
in_root apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log "$rootfs"/tmp/*
chroot_umounts
printf '%s\n' "$(basename "$DEB")" >"$rootfs/etc/genesissync-image"
stage_done appliance

# --- stage disk
stage disk
size_mib=$(($(numfmt --from=iec "$SIZE") / 1048576))
root_mib=$((size_mib - ESP_MIB - 2))
rm -f "$work/esp.img" "$work/root.img"
mkfs.vfat -C -F 32 -n EFI -i "$esp_serial" "$work/esp.img" $((ESP_MIB * 1024)) >/dev/null
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$work/esp.img" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
mkfs.ext4 -q -L genesissync-root -U "$root_uuid" -d "$rootfs" "$work/root.img" "${root_mib}M" ||
	die "mkfs.ext4 -d (the root does not fit in $SIZE? set SIZE=)"
raw="$out/genesissync-appliance.raw"
rm -f "$raw"
truncate -s "${size_mib}M" "$raw"
# GPT: the ESP at 1 MiB, then the root (the x86-64 root partition type, so
# systemd-repart finds it to grow).
sfdisk -q "$raw" <<SFDISK
label: gpt
start=1MiB, size=${ESP_MIB}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp
start=$((1 + ESP_MIB))MiB, size=${root_mib}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=root
SFDISK
dd if="$work/esp.img" of="$raw" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$work/root.img" of="$raw" bs=1M seek=$((1 + ESP_MIB)) conv=notrunc,sparse status=none
qemu-img convert -f raw -O qcow2 -c "$raw" "$out/genesissync-appliance.qcow2"
rm -f "$work/esp.img" "$work/root.img"
stage_done disk
log "built $raw and $out/genesissync-appliance.qcow2 (kernel $kver, $(basename "$DEB"))"
cat "$times" >&2
