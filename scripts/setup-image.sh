#!/usr/bin/env bash
# Installs what `task image` and `task test:image` need, idempotently and
# only what is missing, on Debian 12 as root. Kept apart from setup.sh so
# that `task setup` for the normal suite does not grow:
#   - debootstrap: the Debian 12 root file system of the image
#   - e2fsprogs (mkfs.ext4 -d), dosfstools + mtools (the EFI system
#     partition), fdisk (sfdisk): the disk is assembled from files, with no
#     loop device and no mount, so it builds in a container
#   - qemu-utils (qemu-img: the qcow2), qemu-system-x86 and ovmf (UEFI
#     firmware) for the boot test; zstd for the stage cache
set -euo pipefail

DEB_PACKAGES=(debootstrap e2fsprogs dosfstools mtools fdisk qemu-utils qemu-system-x86 ovmf zstd)

log() { printf 'setup-image: %s\n' "$*" >&2; }

missing=()
for p in "${DEB_PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done
if ((${#missing[@]} == 0)); then
	exit 0
fi
if [[ $(id -u) != 0 ]]; then
	log "missing Debian packages ${missing[*]}; run this as root"
	exit 1
fi
log "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
