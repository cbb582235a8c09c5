#!/usr/bin/env bash
# Tests the .deb, as `go tool task test-package` (part of `task test`):
#
#   1. the archive: control fields (depends, recommends), the conffile, the
#      files and their modes, the maintainer scripts, the packaged units
#      (scripts/verify-units.sh --deb) and the packaged binary's version;
#   2. install, reinstall, upgrade (to a second build of the same files, a
#      higher version), remove, reinstall and purge with dpkg, as in a chroot
#      or container without systemd: the include line in smb.conf exactly
#      once and in [global], the station's conffile edits kept, purge taking
#      out the include line and nothing of the station's;
#   3. the same with systemd running as init: postinst's daemon-reload,
#      the service started in its sandbox in appliance mode against the
#      system smbd and a MinIO, a file saved over SMB uploaded and an object
#      downloaded, READY and watchdog pings, a crash and a hang restarted, an
#      invalid config not restarted, try-restart on upgrade, stop on remove,
#      smbd reloaded without the shares on purge.
#
# Phases 2 and 3 run on this machine but change nothing on it: each runs in
# private namespaces (mount, and for 3 also pid, network, cgroup) in which
# /etc, /usr, /var, /srv, /home and /root are copy-on-write overlays of the
# real ones and /run is empty, so every write lands in a scratch tmpfs that
# disappears with the namespace. Phase 3 boots the machine's own systemd as
# PID 1 there, with only journald and smbd beyond the basics (units that
# would touch the shared kernel, such as sysctl, modules or binfmt, are
# masked). Needs root, util-linux's unshare and nsenter, overlayfs, a
# cgroup2 mount, the systemd and samba packages, MinIO and mc in .bin/
# (`go tool task setup` installs them all).
#
#   scripts/test-package.sh DEB
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
self="$repo/scripts/test-package.sh"
bin="${GS_BIN_DIR:-$repo/.bin}"

log() { printf 'test-package: %s\n' "$*" >&2; }
die() { printf 'test-package: FAIL: %s\n' "$*" >&2; exit 1; }
ok() { printf 'test-package: ok: %s\n' "$*" >&2; }

# include_count: active include lines for our file in smb.conf.
include_count() {
	grep -Eic '^[[:space:]]*include[[:space:]]*=[[:space:]]*/etc/samba/genesissync\.conf[[:space:]]*$' /etc/samba/smb.conf || true
}

# include_section: the smb.conf section the include line is in.
include_section() {
	awk '/^[ \t]*\[/ { s = $0; sub(/^[ \t]*\[[ \t]*/, "", s); sub(/[ \t]*\].*$/, "", s); s = tolower(s) }
		tolower($0) ~ /^[ \t]*include[ \t]*=[ \t]*\/etc\/samba\/genesissync\.conf[ \t]*$/ { print s }' /etc/samba/smb.conf
}

check_include_once() {
	local n
	n=$(include_count)
	[[ $n == 1 ]] || die "$1: smb.conf has $n include lines for /etc/samba/genesissync.conf, want 1"
	[[ $(include_section) == global ]] || die "$1: the include line is in [$(include_section)], not [global]"
	testparm -s /etc/samba/smb.conf >/dev/null 2>&1 || die "$1: testparm rejects smb.conf"
}

installed_version() { dpkg-query -W -f='${Version}' genesissync 2>/dev/null; }
package_status() { dpkg-query -W -f='${db:Status-Abbrev}' genesissync 2>/dev/null | tr -d ' '; }

# overlay_system SCRATCH: copy-on-write overlays of the system's writable
# trees and an empty /run, in the current (private) mount namespace. First
# it detaches this namespace's copies of every other mount (other tests'
# tmpfs and FUSE mounts, ZFS datasets...): a copy would keep its file
# system busy (a pool that cannot export, a FUSE daemon that never hears
# the unmount) for as long as the test runs.
overlay_system() {
	local s=$1 d m
	awk '{ print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
		m=$(printf '%b' "$m") # mountinfo escapes spaces as \040
		case $m in
		/ | /proc | /proc/* | /sys | /sys/* | /dev | /dev/* | "$s" | "$s"/*) ;;
		*) umount -l "$m" 2>/dev/null || true ;;
		esac
	done
	mount -t tmpfs -o mode=0700 gs-test "$s/ovl"
	for d in etc usr var srv home root; do
		mkdir -p "$s/ovl/$d.up" "$s/ovl/$d.work"
		mount -t overlay gs-test -o "lowerdir=/$d,upperdir=$s/ovl/$d.up,workdir=$s/ovl/$d.work" "/$d"
	done
	mount -t tmpfs -o mode=0755 gs-test /run
}

# ---------------------------------------------------------------- phase 1

static_checks() {
	local deb=$1 version=$2 tmp=$3
	local f
	[[ $(dpkg-deb -f "$deb" Package) == genesissync ]] || die "Package field"
	[[ $(dpkg-deb -f "$deb" Version) == "$version" ]] || die "Version field $(dpkg-deb -f "$deb" Version), file name says $version"
	[[ $(dpkg-deb -f "$deb" Architecture) == amd64 ]] || die "Architecture field"
	[[ $(dpkg-deb -f "$deb" Depends) == "samba, samba-vfs-modules" ]] || die "Depends: $(dpkg-deb -f "$deb" Depends), want samba, samba-vfs-modules"
	[[ $(dpkg-deb -f "$deb" Recommends) == "zfsutils-linux, smbclient" ]] || die "Recommends: $(dpkg-deb -f "$deb" Recommends)"
	ok "control: genesissync $version amd64, Depends: samba, samba-vfs-modules, Recommends: zfsutils-linux, smbclient"

	mkdir -p "$tmp/control" "$tmp/files"
	dpkg-deb -e "$deb" "$tmp/control"
	[[ $(cat "$tmp/control/conffiles") == /etc/genesissync/genesissync.yaml ]] ||
		die "conffiles: $(cat "$tmp/control/conffiles"), want only /etc/genesissync/genesissync.yaml"
	ok "conffiles: /etc/genesissync/genesissync.yaml only"
	for f in postinst prerm postrm; do
		[[ -x $tmp/control/$f ]] || die "no executable $f"
		[[ $(head -1 "$tmp/control/$f") == '#!/bin/sh' ]] || die "$f is not a POSIX sh script"
		grep -q '^set -e$' "$tmp/control/$f" || die "$f does not set -e"
		dash -n "$tmp/control/$f" || die "$f: syntax"
		if command -v checkbashisms >/dev/null; then checkbashisms "$tmp/control/$f" || die "$f: bashisms"; fi
		cmp -s "$tmp/control/$f" "$repo/packaging/scripts/$f" || die "$f differs from packaging/scripts/$f"
	done
	ok "maintainer scripts: postinst, prerm, postrm (sh, set -e, as in packaging/scripts)"

	# Mode and path of every file and directory that matters.
	local contents want
	contents=$(dpkg-deb -c "$deb" | awk '{ print $1, $6 }')
	for want in \
		'-rwxr-xr-x ./usr/bin/genesissync' \
		'-rw-r--r-- ./lib/systemd/system/genesissync.service' \
		'-rw-r--r-- ./lib/systemd/system/smbd.service.d/genesissync.conf' \
		'drwxr-x--- ./etc/genesissync/' \
		'-rw-r----- ./etc/genesissync/genesissync.yaml' \
		'drwxr-x--- ./var/lib/genesissync/' \
		'-rw-r--r-- ./usr/share/doc/genesissync/README.md' \
		'-rw-r--r-- ./usr/share/doc/genesissync/copyright' \
		'-rw-r--r-- ./usr/share/doc/genesissync/examples/genesissync.example.yaml' \
		'-rw-r--r-- ./usr/share/doc/genesissync/examples/shares.conf'; do
		grep -qxF -- "$want" <<<"$contents" || die "contents: no '$want'"
	done
	if grep -E '^-' <<<"$contents" | grep -vE ' \./(usr/bin/genesissync|lib/systemd/system/|etc/genesissync/genesissync\.yaml|usr/share/doc/genesissync/)' >&2; then
		die "contents: unexpected files (above)"
	fi
	ok "contents: binary, units, conffile (0640), state dir (0750), docs and examples"

	dpkg-deb -x "$deb" "$tmp/files"
	cmp -s "$tmp/files/lib/systemd/system/genesissync.service" "$repo/systemd/genesissync.service" || die "packaged genesissync.service differs from systemd/"
	cmp -s "$tmp/files/lib/systemd/system/smbd.service.d/genesissync.conf" "$repo/systemd/smbd.service.d/genesissync.conf" || die "packaged smbd drop-in differs from systemd/"
	cmp -s "$tmp/files/etc/genesissync/genesissync.yaml" "$repo/configs/genesissync.example.yaml" || die "packaged conffile differs from configs/genesissync.example.yaml"
	[[ $("$tmp/files/usr/bin/genesissync" version) == "$version" ]] || die "genesissync version says $("$tmp/files/usr/bin/genesissync" version), want $version"
	"$tmp/files/usr/bin/genesissync" config check "$tmp/files/etc/genesissync/genesissync.yaml" >/dev/null || die "the shipped config fails config check"
	ok "units and conffile as in the tree; binary says $version; shipped config passes config check"

	# The copyright file: Debian's format 1.0, GenesisSync's Apache-2.0 and
	# a stanza for every module the binary links (scripts/licenses.sh).
	local copyright=$tmp/files/usr/share/doc/genesissync/copyright m missing=
	[[ $(head -1 "$copyright") == 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' ]] ||
		die "copyright: not Debian's machine-readable format 1.0"
	grep -qzP '\nFiles: \*\nCopyright: [^\n]+\n( [^\n]*\n)*License: Apache-2.0\n' "$copyright" || die "copyright: no 'Files: *' stanza under Apache-2.0"
	grep -qx 'License: Apache-2.0' "$copyright" && grep -qx ' /usr/share/common-licenses/Apache-2.0.' "$copyright" ||
		die "copyright: no stand-alone Apache-2.0 paragraph pointing at /usr/share/common-licenses"
	for m in $(cd "$repo" && GOOS=linux GOARCH=amd64 CGO_ENABLED=0 go list -deps -f '{{with .Module}}{{if not .Main}}{{.Path}}{{end}}{{end}}' ./appliance | sort -u); do
		grep -qxF "Files: vendor/$m/*" "$copyright" || missing+=" $m"
	done
	[[ -z $missing ]] || die "copyright: no stanza for the linked modules$missing"
	grep -qx 'Files: go/\*' "$copyright" || die "copyright: no stanza for Go's standard library"
	ok "copyright: format 1.0, GenesisSync under Apache-2.0, a stanza for every linked module and the standard library"

	bash "$repo/scripts/verify-units.sh" --deb "$deb" >&2 || die "verify-units on the package"
}

# ---------------------------------------------------------------- phase 2

# phase_dpkg runs inside the overlays, without systemd.
phase_dpkg() {
	local deb1=$1 v1=$2 deb2=$3 v2=$4
	[[ ! -d /run/systemd/system ]] || die "phase 2 expects no systemd"
	[[ -z $(installed_version) ]] || die "genesissync is already installed on this machine"
	local smbconf_before
	smbconf_before=$(mktemp)
	cp /etc/samba/smb.conf "$smbconf_before"
	[[ $(include_count) == 0 ]] || die "smb.conf already includes /etc/samba/genesissync.conf"

	dpkg -i "$deb1" >/dev/null || die "dpkg -i $deb1"
	[[ $(installed_version) == "$v1" && $(package_status) == ii ]] || die "not installed after dpkg -i"
	check_include_once "install"
	[[ -f /etc/samba/genesissync.conf && ! -s /etc/samba/genesissync.conf ]] || die "no empty /etc/samba/genesissync.conf"
	getent passwd genesissync >/dev/null || die "no service user genesissync"
	[[ $(stat -c %a /var/lib/genesissync) == 750 ]] || die "/var/lib/genesissync is not 0750"
	[[ $(stat -c %a /etc/genesissync/genesissync.yaml) == 640 ]] || die "the conffile is not 0640"
	[[ $(genesissync version) == "$v1" ]] || die "genesissync version after install"
	genesissync config check /etc/genesissync/genesissync.yaml >/dev/null || die "config check on the installed config"
	ok "install: files, empty include file, include line once in [global], service user, config check"

	dpkg -i "$deb1" >/dev/null || die "dpkg -i again"
	check_include_once "install twice"
	ok "install twice: the include line is still there once"

	# The station edits its config and has state and files of its own.
	echo "# edited by the station" >>/etc/genesissync/genesissync.yaml
	echo "secret" >/etc/genesissync/studio.password
	echo "index" >/var/lib/genesissync/index.db
	mkdir -p /etc/systemd/system/multi-user.target.wants
	ln -s /lib/systemd/system/genesissync.service /etc/systemd/system/multi-user.target.wants/genesissync.service

	dpkg -i "$deb2" >/dev/null || die "upgrade to $v2"
	[[ $(installed_version) == "$v2" ]] || die "version after upgrade: $(installed_version)"
	[[ $(genesissync version) == "$v2" ]] || die "binary after upgrade"
	grep -q '^# edited by the station$' /etc/genesissync/genesissync.yaml || die "upgrade lost the station's config edit"
	ls /etc/genesissync/*.dpkg-* 2>/dev/null && die "upgrade left .dpkg-* files"
	check_include_once "upgrade"
	ok "upgrade $v1 -> $v2: the edited conffile kept without a prompt, include line once"

	systemd-analyze verify --man=no genesissync.service smbd.service >/dev/null 2>&1 ||
		die "systemd-analyze verify on the installed units: $(systemd-analyze verify --man=no genesissync.service smbd.service 2>&1)"
	[[ -z $(systemd-analyze verify --man=no genesissync.service smbd.service 2>&1) ]] || die "systemd-analyze verify warns on the installed units"
	ok "systemd-analyze verify on the installed units"

	dpkg -r genesissync >/dev/null || die "dpkg -r"
	[[ $(package_status) == rc ]] || die "status after remove: $(package_status), want rc (config-files)"
	[[ ! -e /usr/bin/genesissync && ! -e /lib/systemd/system/genesissync.service ]] || die "remove left the binary or the unit"
	grep -q '^# edited by the station$' /etc/genesissync/genesissync.yaml || die "remove lost the config"
	[[ -f /etc/genesissync/studio.password && -f /var/lib/genesissync/index.db ]] || die "remove lost the station's files or state"
	check_include_once "remove"
	ok "remove: binary and units gone; config, state and include line kept"

	dpkg -i "$deb2" >/dev/null || die "reinstall after remove"
	check_include_once "reinstall after remove"
	grep -q '^# edited by the station$' /etc/genesissync/genesissync.yaml || die "reinstall lost the config edit"
	ok "reinstall after remove: config edit kept, include line once"

	dpkg -P genesissync >/dev/null || die "dpkg -P"
	[[ -z $(package_status) || $(package_status) == un ]] || die "status after purge: $(package_status)"
	[[ $(include_count) == 0 ]] || die "purge left the include line"
	cmp -s /etc/samba/smb.conf "$smbconf_before" || die "smb.conf after purge differs from before the install: $(diff "$smbconf_before" /etc/samba/smb.conf)"
	[[ ! -e /etc/genesissync/genesissync.yaml ]] || die "dpkg should have deleted the conffile on purge"
	[[ -f /etc/genesissync/studio.password ]] || die "purge deleted the station's /etc/genesissync/studio.password"
	[[ -f /var/lib/genesissync/index.db ]] || die "purge deleted the state /var/lib/genesissync/index.db"
	[[ -e /etc/samba/genesissync.conf ]] || die "purge deleted the include file"
	[[ ! -L /etc/systemd/system/multi-user.target.wants/genesissync.service ]] || die "purge left the enablement link"
	getent passwd genesissync >/dev/null || die "purge removed the service user"
	ok "purge: smb.conf back as it was; /etc/genesissync (station's files), /var/lib/genesissync, the include file and the user kept; only the conffile gone (dpkg)"
}

# ---------------------------------------------------------------- phase 3

# boot_systemd runs as PID 1 of fresh namespaces: overlays, then systemd.
boot_systemd() {
	local s=$1
	overlay_system "$s"
	# The unified hierarchy of this cgroup namespace (rooted at the test's
	# own cgroup): systemd runs in it.
	umount -l /sys/fs/cgroup 2>/dev/null || true
	mount -t cgroup2 gs-test /sys/fs/cgroup
	mkdir -p /run/systemd/system
	cat >/run/systemd/system/gs-test.target <<-'EOF'
		[Unit]
		Description=GenesisSync package test
		Wants=systemd-journald.service smbd.service
	EOF
	# Masked: whatever would touch the kernel or devices this machine shares
	# (sysctl, modules, binfmt, udev, clock, tmpfiles' boot clean-up, ...)
	# and services the test does not need.
	local u
	for u in /lib/systemd/system/sysinit.target.wants/* /etc/systemd/system/sysinit.target.wants/* \
		systemd-remount-fs.service systemd-udevd.service systemd-udev-trigger.service timers.target \
		getty.target systemd-logind.service dbus.service dbus.socket nmbd.service samba-ad-dc.service \
		winbind.service zfs-fuse.service; do
		u=${u##*/}
		case $u in systemd-journald.service | systemd-journal-flush.service) continue ;; esac
		ln -sf /dev/null "/run/systemd/system/$u"
	done
	ip link set lo up 2>/dev/null || true # systemd does it too
	exec env -i container=genesissync-test PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		/lib/systemd/systemd --unit=gs-test.target --log-target=journal --show-status=no
}

# wait_for DESCRIPTION SECONDS COMMAND...: until COMMAND succeeds.
wait_for() {
	local what=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 5; i++)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.2
	done
	die "timed out after ${secs}s waiting for $what"
}

prop() { systemctl show genesissync.service -p "$1" --value; }
active() { [[ $(systemctl is-active genesissync.service) == active ]]; }
watchdog_pinged_since() { [[ $(prop WatchdogTimestampMonotonic) != "$1" ]]; }
main_pid_not() { [[ $(prop MainPID) != "$1" && $(prop MainPID) != 0 ]] && active; }
s3() { MC_CONFIG_DIR=$mcdir "$bin/mc" "$@"; }

# phase_systemd runs inside the namespaces, with systemd as PID 1.
phase_systemd() {
	local deb1=$1 v1=$2 deb2=$3 v2=$4 scratch=$5
	mcdir=$scratch/mc
	local state
	wait_for "systemd's private socket" 30 test -S /run/systemd/private
	state=$(systemctl is-system-running --wait 2>/dev/null || true)
	[[ $state == running || $state == degraded ]] || die "systemd in the test namespace is $state: $(systemctl --failed --no-pager)"
	[[ -d /run/systemd/system ]] || die "no /run/systemd/system"
	systemctl is-active --quiet smbd.service || die "smbd is not running: $(systemctl status smbd --no-pager)"
	# Container images (this one too) carry a policy-rc.d that forbids
	# maintainer scripts to start services, and deb-systemd-invoke obeys
	# it; an installed appliance has none.
	rm -f /usr/sbin/policy-rc.d

	# A MinIO for the bucket, on this namespace's loopback.
	mkdir -p /var/tmp/gs-minio
	systemd-run --quiet --unit=gs-minio -E MINIO_ROOT_USER=pkgtest -E MINIO_ROOT_PASSWORD=pkgtest-secret-key \
		"$bin/minio" server --quiet --address 127.0.0.1:9000 /var/tmp/gs-minio
	wait_for "MinIO" 60 s3 alias set t http://127.0.0.1:9000 pkgtest pkgtest-secret-key
	# A bucket as docs/stations.md recommends (versioning and Object Lock),
	# so the capability probe has nothing to warn about.
	s3 mb --quiet --with-lock t/pkgtest >/dev/null
	echo "from the bucket" >"$scratch/fromweb.txt"
	s3 cp --quiet "$scratch/fromweb.txt" t/pkgtest/studio/web/fromweb.txt >/dev/null

	dpkg -i "$deb1" >/dev/null || die "dpkg -i with systemd"
	[[ $(systemctl show smbd.service -p DropInPaths --value) == *"/smbd.service.d/genesissync.conf"* ]] ||
		die "smbd does not see the drop-in: postinst did not daemon-reload"
	[[ $(systemctl show smbd.service -p CPUWeight --value) == 400 && $(systemctl show smbd.service -p IOWeight --value) == 400 ]] ||
		die "smbd's weights are not 400"
	[[ $(systemctl is-enabled genesissync.service) == disabled ]] || die "a fresh install enabled the service"
	! active || die "a fresh install started the service"
	ok "install with systemd: daemon-reload (smbd has the drop-in, weights 400), service neither enabled nor started"

	# The station's configuration: an SMB user that exists nowhere yet (so
	# useradd and pdbedit run inside the sandbox), a share under
	# /srv/genesissync, the bucket on MinIO. samba.mode is absent: the unit
	# makes it appliance.
	mkdir -p /srv/genesissync/studio
	cat >/etc/genesissync/genesissync.yaml <<-'EOF'
		state_dir: /var/lib/genesissync
		status:
		  listen: 127.0.0.1:8080
		users:
		  gspkgtest:
		    password: gspkgtest-password
		shares:
		  studio:
		    path: /srv/genesissync/studio
		    access:
		      gspkgtest: rw
		    target:
		      endpoint: http://127.0.0.1:9000
		      bucket: pkgtest
		      prefix: studio/
		      path_style: true
		      access_key_id: pkgtest
		      secret_access_key: pkgtest-secret-key
		    remote_interval: 2s
		    settle: 500ms
	EOF
	! getent passwd gspkgtest >/dev/null || die "user gspkgtest exists already"
	systemctl enable --now genesissync.service 2>/dev/null || die "start: $(journalctl -u genesissync --no-pager -n 30)"
	active || die "not active after start"
	[[ $(prop StatusText) == "running, 1 shares" ]] || die "status text: $(prop StatusText)"
	[[ $(prop WatchdogUSec) == 1min ]] || die "WatchdogUSec=$(prop WatchdogUSec)"
	[[ -n $(prop WatchdogTimestampMonotonic) && $(prop WatchdogTimestampMonotonic) != 0 ]] || die "no watchdog ping"
	ok "start: Type=notify READY with status '$(prop StatusText)', watchdog 1min pinged"

	getent passwd gspkgtest >/dev/null || die "useradd did not run in the sandbox"
	pdbedit -L | grep '^gspkgtest:' >/dev/null || die "pdbedit did not run in the sandbox"
	grep -q '^\[studio\]' /etc/samba/genesissync.conf || die "no [studio] in the include file"
	[[ $(stat -c %U /srv/genesissync/studio) == genesissync ]] || die "share root not given to the service user"
	wait_for "the object downloaded to the share" 30 test -f /srv/genesissync/studio/web/fromweb.txt
	[[ $(stat -c %U:%a /srv/genesissync/studio/web/fromweb.txt) == genesissync:664 ]] ||
		die "downloaded file is $(stat -c %U:%a /srv/genesissync/studio/web/fromweb.txt)"
	echo "saved by a studio" >"$scratch/news.txt"
	smbclient //127.0.0.1/studio -U gspkgtest%gspkgtest-password -c "put $scratch/news.txt news.txt" >/dev/null 2>&1 ||
		die "smbclient put: $(smbclient //127.0.0.1/studio -U gspkgtest%gspkgtest-password -c "put $scratch/news.txt news.txt" 2>&1)"
	wait_for "the upload of news.txt" 30 s3 stat t/pkgtest/studio/news.txt
	[[ $(s3 cat t/pkgtest/studio/news.txt) == "saved by a studio" ]] || die "uploaded content differs"
	local errs
	errs=$(journalctl -u genesissync --no-pager -o cat | grep -E '"level":"(warn|error)"' || true)
	[[ -z $errs ]] || die "the daemon logged warnings or errors in the sandbox: $errs"
	ok "sandbox: useradd, pdbedit, smbcontrol reload, chown of the share root, download, SMB upload, no warnings"

	# A crash (SIGABRT: GOTRACEBACK=crash ends it by the signal, not exit 2)
	# is restarted.
	local pid restarts
	pid=$(prop MainPID) restarts=$(prop NRestarts)
	kill -ABRT "$pid"
	wait_for "the restart after a crash" 30 main_pid_not "$pid"
	[[ $(prop NRestarts) == $((restarts + 1)) ]] || die "NRestarts $(prop NRestarts) after a crash"
	journalctl -u genesissync --no-pager -o cat | grep '^goroutine ' >/dev/null || die "no goroutine dump in the journal"
	ok "crash: goroutine dump in the journal, restarted"

	# A hang: no more watchdog pings. Shortened so the test does not wait
	# minutes; TimeoutAbortSec bounds the wait for a stopped process.
	mkdir -p /run/systemd/system/genesissync.service.d
	printf '[Service]\nWatchdogSec=3s\nTimeoutAbortSec=2s\n' >/run/systemd/system/genesissync.service.d/gs-test.conf
	systemctl daemon-reload
	systemctl restart genesissync.service
	local t0
	t0=$(prop WatchdogTimestampMonotonic)
	wait_for "watchdog pings every 1.5s" 10 watchdog_pinged_since "$t0"
	pid=$(prop MainPID) restarts=$(prop NRestarts)
	kill -STOP "$pid"
	wait_for "the watchdog restart of a hung daemon" 30 main_pid_not "$pid"
	[[ $(prop NRestarts) == $((restarts + 1)) ]] || die "NRestarts $(prop NRestarts) after a hang"
	rm /run/systemd/system/genesissync.service.d/gs-test.conf
	systemctl daemon-reload
	ok "hang: watchdog pings stopped, systemd restarted the daemon"

	# An invalid config (exit 2) is not restarted in a loop.
	cp /etc/genesissync/genesissync.yaml "$scratch/good.yaml"
	echo "bogus_key: 1" >>/etc/genesissync/genesissync.yaml
	# (A manual restart resets NRestarts: any automatic one shows as 1.)
	systemctl restart genesissync.service 2>/dev/null && die "started with an invalid config"
	sleep 7 # past RestartSec
	[[ $(systemctl is-active genesissync.service) == failed && $(prop ExecMainStatus) == 2 && $(prop NRestarts) == 0 ]] ||
		die "invalid config: $(systemctl is-active genesissync.service), status $(prop ExecMainStatus), restarts $(prop NRestarts)"
	cp "$scratch/good.yaml" /etc/genesissync/genesissync.yaml
	systemctl start genesissync.service || die "start after fixing the config"
	ok "invalid config: exit 2, failed, not restarted; starts once fixed"

	pid=$(prop MainPID)
	dpkg -i "$deb2" >/dev/null || die "upgrade with systemd"
	wait_for "the restart on upgrade" 30 main_pid_not "$pid"
	wait_for "the new version on the status API" 30 sh -c "curl -sf http://127.0.0.1:8080/api/status | grep -q '\"version\": *\"$v2\"'"
	ok "upgrade: try-restart ran the new binary ($v2)"

	smbclient //127.0.0.1/studio -U gspkgtest%gspkgtest-password -c ls >/dev/null 2>&1 || die "the share is not served before remove"
	dpkg -r genesissync >/dev/null || die "dpkg -r with systemd"
	[[ $(systemctl is-active genesissync.service) != active ]] || die "remove did not stop the service"
	[[ $(prop LoadState) == not-found ]] || die "the unit is still loaded after remove: $(prop LoadState)"
	ok "remove: stopped, unit gone after daemon-reload"

	dpkg -P genesissync >/dev/null || die "dpkg -P with systemd"
	[[ $(include_count) == 0 ]] || die "purge left the include line"
	[[ ! -L /etc/systemd/system/multi-user.target.wants/genesissync.service ]] || die "purge left the enablement link"
	wait_for "smbd to drop the share after purge" 15 sh -c '! smbclient //127.0.0.1/studio -U gspkgtest%gspkgtest-password -c ls'
	[[ -f /var/lib/genesissync/index.db && -f /srv/genesissync/studio/news.txt ]] || die "purge lost the index or the share's files"
	ok "purge: include line and enablement gone, smbd reloaded without the share; index and share files kept"
}

# ---------------------------------------------------------------- main

case "${1:-}" in
--phase-dpkg) shift; overlay_system "$1"; shift; phase_dpkg "$@"; exit ;;
--boot-systemd) boot_systemd "$2" ;;
--phase-systemd) shift; phase_systemd "$@"; exit ;;
"" | -*) die "usage: $0 DEB" ;;
esac

deb=$(realpath "$1")
[[ -f $deb ]] || die "no such file: $deb"
[[ $(id -u) == 0 ]] || die "run as root: the test installs the package (into a throwaway overlay of this machine)"
for c in dpkg-deb unshare nsenter systemd-analyze testparm smbclient pdbedit curl dash; do
	command -v "$c" >/dev/null || die "$c not found (go tool task setup)"
done
[[ -x $bin/minio && -x $bin/mc ]] || die "no minio or mc in $bin (go tool task setup)"
v1=$(dpkg-deb -f "$deb" Version)
[[ $(basename "$deb") == "genesissync_${v1}_amd64.deb" ]] || die "file name $(basename "$deb") does not match version $v1"

scratch=$(mktemp -d /tmp/gs-test-package.XXXXXX)
cgroup=
upid=
cleanup() {
	if [[ -n $upid ]] && kill -0 "$upid" 2>/dev/null; then
		kill -KILL "$upid" 2>/dev/null || true
		wait "$upid" 2>/dev/null || true
	fi
	if [[ -n $cgroup && -d $cgroup ]]; then
		local i
		for ((i = 0; i < 50; i++)); do
			find "$cgroup" -depth -type d -exec rmdir {} + 2>/dev/null && break
			sleep 0.1
		done
	fi
	rm -rf "$scratch"
}
trap cleanup EXIT

log "phase 1: the archive $(basename "$deb")"
static_checks "$deb" "$v1" "$scratch"

# A second build of the same tree with a higher version, for upgrades.
v2="$v1+upgradetest"
deb2=$scratch/genesissync_${v2}_amd64.deb
# The same binary's licenses: the copyright file of the package under test.
dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./usr/share/doc/genesissync/copyright >"$scratch/copyright" ||
	die "no copyright file in $deb"
(cd "$repo" &&
	CGO_ENABLED=0 go build -trimpath -ldflags "-X main.version=$v2" -o "$scratch/genesissync-v2" ./appliance &&
	DEB_VERSION=$v2 BINARY=$scratch/genesissync-v2 COPYRIGHT=$scratch/copyright \
		go tool nfpm package --config packaging/nfpm.yaml --packager deb --target "$deb2" >/dev/null) ||
	die "building the upgrade package"
mkdir -p "$scratch/ovl"

log "phase 2: dpkg without systemd, in an overlay of this machine"
unshare --mount --propagation private bash "$self" --phase-dpkg "$scratch" "$deb" "$v1" "$deb2" "$v2"

log "phase 3: dpkg and the service under systemd, in an overlay of this machine"
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[[ -n $cg2 ]] || die "no cgroup2 file system mounted"
cgroup=$cg2/genesissync-test-package-$$
mkdir "$cgroup"
mkdir -p "$scratch/ovl" "$scratch/mc"
# The namespaces' PID 1 starts in the test's own cgroup, which the new
# cgroup namespace makes its root.
(
	echo "$BASHPID" >"$cgroup/cgroup.procs"
	exec unshare --cgroup --pid --fork --kill-child --mount-proc --mount --net --uts --ipc --propagation private \
		bash "$self" --boot-systemd "$scratch"
) >"$scratch/boot.log" 2>&1 &
upid=$!
pid1=
for ((i = 0; i < 100; i++)); do
	pid1=$(cat "/proc/$upid/task/$upid/children" 2>/dev/null | awk '{ print $1 }')
	if [[ -n $pid1 && $(cat "/proc/$pid1/comm" 2>/dev/null) == systemd ]]; then break; fi
	kill -0 "$upid" 2>/dev/null || die "the test namespace's init exited: $(cat "$scratch/boot.log")"
	sleep 0.1
done
[[ $(cat "/proc/$pid1/comm" 2>/dev/null) == systemd ]] || die "systemd did not start: $(cat "$scratch/boot.log")"
status=0
# --root: entering a mount namespace resets the root directory to the
# namespace's own, which inside a chroot (task test-fresh) is not the
# chroot; the namespace's init has the right ones (root and working directory).
nsenter --target "$pid1" --all --root --wd bash "$self" --phase-systemd "$deb" "$v1" "$deb2" "$v2" "$scratch" || status=$?
if ((status != 0)); then
	log "the journal's end in the test namespace:"
	nsenter --target "$pid1" --all --root --wd journalctl --no-pager -n 60 >&2 || true
fi
# Power the namespace's systemd off (SIGRTMIN+4), then whatever is left dies
# with its PID 1.
kill -s RTMIN+4 "$pid1" 2>/dev/null || true
for ((i = 0; i < 100; i++)); do
	kill -0 "$upid" 2>/dev/null || break
	sleep 0.1
done
((status == 0)) || exit "$status"
log "all checks passed"
