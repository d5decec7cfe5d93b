#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Fetches Debian's own kernel packages for the kernel matrix (tests/vm) into a
# cache outside the checkout, and prints where each one is:
#
#     tests/vm/kernels.sh [SERIES|PACKAGE]...     (default: 5.10 6.1 6.12)
#
# SERIES is a kernel series (5.10, 6.1, 6.12, ...): the newest, by Debian
# version, of the linux-image-SERIES*-cloud-amd64 packages that bullseye,
# bullseye-security, bookworm and bookworm-security carry. PACKAGE is an exact
# package name (linux-image-6.1.0-57-cloud-amd64). One line per kernel on
# stdout: "SERIES KERNEL_RELEASE DIRECTORY PACKAGE VERSION"; DIRECTORY holds
# the unpacked package (boot/vmlinuz-*, lib/modules/*).
#
# apt runs with a private configuration (sources, lists, cache and dpkg status
# in the cache directory; the system's are never read or changed), with the
# archive's signatures checked as usual. A downloaded .deb must be the package
# and version asked for, with the SHA-256 the signed index gives. The lists are
# refreshed when older than a day (or with PKTSPEC_KERNELS_REFRESH=1); a kernel
# already unpacked is not downloaded again, so a second run fetches nothing.
#
# Environment: PKTSPEC_KERNEL_CACHE (default /var/cache/pktspec/kernels),
# PKTSPEC_KERNELS_REFRESH=1 (refresh the lists now), PKTSPEC_DEBIAN_MIRROR
# (default http://deb.debian.org).
set -euo pipefail

CACHE=${PKTSPEC_KERNEL_CACHE:-/var/cache/pktspec/kernels}
MIRROR=${PKTSPEC_DEBIAN_MIRROR:-http://deb.debian.org}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
LISTS_MAX_AGE_MIN=$((24 * 60))

die() {
	echo "kernels.sh: $*" >&2
	exit 1
}

[ $# -gt 0 ] || set -- 5.10 6.1 6.12
for k in "$@"; do
	case "$k" in
	[0-9]*.[0-9]* | linux-image-*) ;;
	*) echo "kernels.sh: '$k' is neither a series (5.10, 6.1, 6.12) nor a linux-image-* package" >&2; exit 2 ;;
	esac
done
[ -r "$KEYRING" ] || die "$KEYRING is missing (Debian package debian-archive-keyring)"

APT_DIR=$CACHE/apt
mkdir -p "$CACHE"
# Several checkouts may run the matrix at once: one fetches, the others wait.
exec 9>"$CACHE/.lock"
flock 9
mkdir -p "$APT_DIR/etc/sources.list.d" "$APT_DIR/etc/preferences.d" "$APT_DIR/lists/partial" \
	"$APT_DIR/cache/archives/partial" "$APT_DIR/debs"
touch "$APT_DIR/status"
cat >"$APT_DIR/etc/sources.list.new" <<EOF
deb [signed-by=$KEYRING] $MIRROR/debian bullseye main
deb [signed-by=$KEYRING] $MIRROR/debian-security bullseye-security main
deb [signed-by=$KEYRING] $MIRROR/debian bookworm main
deb [signed-by=$KEYRING] $MIRROR/debian-security bookworm-security main
EOF
if ! cmp -s "$APT_DIR/etc/sources.list.new" "$APT_DIR/etc/sources.list"; then
	mv "$APT_DIR/etc/sources.list.new" "$APT_DIR/etc/sources.list"
	rm -f "$APT_DIR/lists.stamp"
else
	rm -f "$APT_DIR/etc/sources.list.new"
fi

APT_OPTS=(
	-o "Dir::Etc::SourceList=$APT_DIR/etc/sources.list"
	-o "Dir::Etc::SourceParts=$APT_DIR/etc/sources.list.d"
	-o "Dir::Etc::Preferences=$APT_DIR/etc/preferences"
	-o "Dir::Etc::PreferencesParts=$APT_DIR/etc/preferences.d"
	-o "Dir::State::Lists=$APT_DIR/lists"
	-o "Dir::State::status=$APT_DIR/status"
	-o "Dir::Cache=$APT_DIR/cache"
	-o "Dir::Cache::Archives=$APT_DIR/cache/archives"
	-o "Dir::Cache::pkgcache=$APT_DIR/cache/pkgcache.bin"
	-o "Dir::Cache::srcpkgcache=$APT_DIR/cache/srcpkgcache.bin"
	-o "APT::Architectures=amd64"
	-o "Acquire::Languages=none"
)

# apt drops privileges to _apt to download; let it write where it must.
if id _apt >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
	chown _apt "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$APT_DIR/debs"
fi

refresh=${PKTSPEC_KERNELS_REFRESH:-0}
if [ ! -e "$APT_DIR/lists.stamp" ] || [ -n "$(find "$APT_DIR/lists.stamp" -mmin +$LISTS_MAX_AGE_MIN)" ]; then
	refresh=1
fi
if [ "$refresh" = 1 ]; then
	echo "kernels.sh: refreshing the package lists (bullseye, bookworm and their security updates)" >&2
	if apt-get "${APT_OPTS[@]}" -q update >"$APT_DIR/update.log" 2>&1 &&
		! grep -qE '^(W|E): ' "$APT_DIR/update.log"; then
		touch "$APT_DIR/lists.stamp"
	elif [ -e "$APT_DIR/lists.stamp" ]; then
		echo "kernels.sh: cannot refresh the package lists, using those of $(date -r "$APT_DIR/lists.stamp" '+%F %R'):" >&2
		grep -E '^(W|E): ' "$APT_DIR/update.log" | head -n 3 >&2 || true
	else
		grep -E '^(W|E): ' "$APT_DIR/update.log" | head -n 5 >&2 || true
		die "cannot fetch the package lists from $MIRROR (log: $APT_DIR/update.log)"
	fi
fi

# field PACKAGE VERSION NAME: one field of that version's index entry.
field() {
	apt-cache "${APT_OPTS[@]}" show "$1=$2" 2>/dev/null | awk -v f="$3:" '$1 == f { print $2; exit }'
}

# newest PATTERN: "PACKAGE VERSION" of the highest version among the matching packages.
newest() {
	local best="" best_v="" p v
	local names
	names=$(apt-cache "${APT_OPTS[@]}" search --names-only "$1" | cut -d' ' -f1)
	[ -n "$names" ] || return 1
	# shellcheck disable=SC2086 # $names: one argument per package
	while read -r p v; do
		if [ -z "$best_v" ] || dpkg --compare-versions "$v" gt "$best_v"; then
			best=$p best_v=$v
		fi
	done < <(apt-cache "${APT_OPTS[@]}" madison $names | awk -F'|' '{ gsub(/ /, "", $1); gsub(/ /, "", $2); print $1, $2 }')
	[ -n "$best" ] && echo "$best $best_v"
}

for k in "$@"; do
	case "$k" in
	linux-image-*)
		series=$(echo "$k" | sed -E 's/^linux-image-([0-9]+\.[0-9]+).*/\1/')
		pkg=$k
		version=$(apt-cache "${APT_OPTS[@]}" madison "$pkg" | awk -F'|' 'NR == 1 { gsub(/ /, "", $2); print $2 }')
		[ -n "$version" ] || die "no package $pkg in bullseye or bookworm"
		;;
	*)
		series=$k
		re="^linux-image-${k//./\\.}[.-][0-9][^ ]*-cloud-amd64\$"
		read -r pkg version < <(newest "$re") || die "no linux-image-$k*-cloud-amd64 package in bullseye or bookworm"
		;;
	esac
	dir="$CACHE/$pkg=$version"
	if [ ! -e "$dir/.unpacked" ]; then
		sha=$(field "$pkg" "$version" SHA256)
		[ -n "$sha" ] || die "the index gives no SHA-256 for $pkg $version"
		echo "kernels.sh: downloading $pkg $version" >&2
		rm -f "$APT_DIR/debs/"*.deb
		(cd "$APT_DIR/debs" && apt-get "${APT_OPTS[@]}" -q download "$pkg=$version" >"$APT_DIR/download.log" 2>&1) ||
			{ tail -n 3 "$APT_DIR/download.log" >&2; die "cannot download $pkg $version"; }
		deb=$(ls "$APT_DIR/debs/"*.deb)
		got_pkg=$(dpkg-deb -f "$deb" Package)
		got_version=$(dpkg-deb -f "$deb" Version)
		if [ "$got_pkg" != "$pkg" ] || [ "$got_version" != "$version" ]; then
			die "$deb is $got_pkg $got_version, not $pkg $version"
		fi
		echo "$sha  $deb" | sha256sum --quiet -c - || die "$deb does not have the SHA-256 of the signed index"
		rm -rf "$dir.tmp"
		mkdir -p "$dir.tmp"
		dpkg-deb -x "$deb" "$dir.tmp"
		ls "$dir.tmp"/boot/vmlinuz-* >/dev/null 2>&1 || die "$pkg has no boot/vmlinuz-*"
		printf '%s %s %s\n' "$pkg" "$version" "$sha" >"$dir.tmp/.unpacked"
		rm -rf "$dir"
		mv "$dir.tmp" "$dir"
		rm -f "$deb"
	fi
	vmlinuz=$(ls "$dir"/boot/vmlinuz-*)
	release=${vmlinuz##*/vmlinuz-}
	echo "$series $release $dir $pkg $version"
done
