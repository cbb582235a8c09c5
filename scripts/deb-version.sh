#!/usr/bin/env bash
# Prints the package version, from git, in a form Debian accepts and that
# sorts in commit order:
#   tag v1.2.3, clean, on the tag        1.2.3
#   4 commits after v1.2.3               1.2.3+git4.gabc1234
#   no tag yet, 21 commits               0.0.0+git21.gabc1234
#   uncommitted changes                  ...+dirty appended (1.2.3+dirty, 0.0.0+git21.gabc1234+dirty)
# $DEB_VERSION, if set, wins (must already be a valid Debian version).
set -euo pipefail

if [[ -n ${DEB_VERSION:-} ]]; then
	v=$DEB_VERSION
else
	cd "$(dirname "$0")/.."
	dirty=
	if [[ -n $(git status --porcelain --untracked-files=no 2>/dev/null) ]]; then
		dirty=+dirty
	fi
	if desc=$(git describe --tags --long --match 'v[0-9]*' 2>/dev/null); then
		# v1.2.3-4-gabc1234 (the tag may itself contain dashes: v1.2.3-rc1)
		sha=${desc##*-}
		rest=${desc%-*}
		count=${rest##*-}
		tag=${rest%-*}
		base=${tag#v}
		base=${base//-/\~} # v1.2.3-rc1 sorts before 1.2.3: 1.2.3~rc1
		if [[ $count == 0 ]]; then
			v=$base$dirty
		else
			v=$base+git$count.$sha$dirty
		fi
	elif sha=$(git rev-parse --short HEAD 2>/dev/null); then
		v=0.0.0+git$(git rev-list --count HEAD).g$sha$dirty
	else
		echo "deb-version: not a git checkout; set DEB_VERSION" >&2
		exit 1
	fi
fi
if [[ ! $v =~ ^[0-9][A-Za-z0-9.+~]*$ ]]; then
	echo "deb-version: $v is not a valid Debian version" >&2
	exit 1
fi
echo "$v"
