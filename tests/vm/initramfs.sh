#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Builds the initramfs the kernel matrix (tests/vm) boots, in two archives that
# the kernel unpacks one after the other:
#
#     tests/vm/initramfs.sh base OUT.cpio.gz PKTSPEC BENCH CAPTURE...
#         busybox (static), the guest script as /init, PKTSPEC (the CLI; the BPF
#         objects are inside it as skeletons), BENCH (pktspec-bench, its
#         baselines inside it the same way), iproute2's ip and tc, dnsmasq,
#         bpftool, each with the shared libraries ldd names, and the captures
#         to replay
#     tests/vm/initramfs.sh modules OUT.cpio.gz KERNEL_DIR RELEASE
#         the modules the guest needs from an unpacked kernel package, with
#         every module they depend on, decompressed (busybox insmod reads
#         plain .ko only), and /lib/modules/order: the order to load them in
set -euo pipefail

die() {
	echo "initramfs.sh: $*" >&2
	exit 1
}

# What the guest script needs: veth pairs with native XDP, clsact (sch_ingress),
# BPF tc filters, HTB (tc classes), and a u32 filter with a gact action to count
# packets by DSCP.
GUEST_MODULES="veth sch_ingress cls_bpf sch_htb cls_u32 act_gact"

# pack DIR OUT: a newc archive, everything owned by root.
pack() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -1 >"$2.tmp"
	mv "$2.tmp" "$2"
}

# copy_bin ROOT FILE DEST: FILE as ROOT/DEST, and every library it loads at its own path.
copy_bin() {
	local root=$1 file=$2 dest=$3 lib
	install -D -m 0755 "$file" "$root$dest"
	for lib in $(ldd "$file" | awk '/=>/ { print $3 } /^[[:space:]]*\// { print $1 }'); do
		[ -e "$root$lib" ] && continue
		install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}

build_base() {
	local out=$1 pktspec=$2 bench=$3
	shift 3
	local root applet f
	root=$(mktemp -d)
	trap 'rm -rf "$root"' RETURN
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,etc,www,captures,lib/modules}
	local busybox
	busybox=$(command -v busybox) || die "busybox is missing (Debian package busybox-static)"
	ldd "$busybox" >/dev/null 2>&1 && die "$busybox is not static (install busybox-static)"
	install -m 0755 "$busybox" "$root/bin/busybox"
	for applet in $("$busybox" --list); do
		case "$applet" in busybox | ip | tc) continue ;; esac
		ln -s busybox "$root/bin/$applet"
	done
	copy_bin "$root" "$pktspec" /usr/sbin/pktspec
	copy_bin "$root" "$bench" /usr/sbin/pktspec-bench
	for f in ip tc dnsmasq bpftool; do
		copy_bin "$root" "$(command -v "$f" || echo "/usr/sbin/$f")" "/usr/sbin/$f"
	done
	install -m 0755 "$(dirname "$0")/guest.sh" "$root/init"
	printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	printf 'hosts: files\n' >"$root/etc/nsswitch.conf"
	# The page the guest's httpd serves: big enough for several segments.
	head -c 20000 /dev/zero | tr '\0' 'p' >"$root/www/index.html"
	# The captures keep their names (tests/captures/DIR/NAME.pcap -> /captures/DIR/NAME.pcap)
	# and their order, which is the order of the host's replay.
	: >"$root/captures/order"
	for f in "$@"; do
		local name
		name=$(basename "$(dirname "$f")")/$(basename "$f")
		install -D -m 0644 "$f" "$root/captures/$name"
		echo "/captures/$name" >>"$root/captures/order"
	done
	pack "$root" "$out"
}

build_modules() {
	local out=$1 kdir=$2 release=$3
	local tree=$kdir/lib/modules/$release root
	[ -d "$tree" ] || die "$tree is missing"
	root=$(mktemp -d)
	trap 'rm -rf "$root"' RETURN
	mkdir -p "$root/lib/modules"
	local -A seen=() file=()
	local order=() f b
	# Every module of the package by name (dashes and underscores alike).
	while read -r f; do
		b=${f##*/}
		b=${b%%.ko*}
		file[${b//-/_}]=$f
	done < <(find "$tree" -type f -name '*.ko*')
	# visit NAME: its dependencies first, then itself (depth first).
	visit() {
		local name=${1//-/_} f dep
		[ -n "${seen[$name]:-}" ] && return 0
		seen[$name]=1
		f=${file[$name]:-}
		if [ -z "$f" ]; then
			grep -qE "/${name//_/[-_]}\.ko" "$tree/modules.builtin" 2>/dev/null && return 0
			die "$release has no module $name, and it is not built in"
		fi
		for dep in $(modinfo -F depends "$f" | tr ',' ' '); do
			visit "$dep"
		done
		case "$f" in
		*.xz) xz -dc "$f" >"$root/lib/modules/$name.ko" ;;
		*.zst) zstd -qdc "$f" >"$root/lib/modules/$name.ko" ;;
		*.gz) gzip -dc "$f" >"$root/lib/modules/$name.ko" ;;
		*) cp "$f" "$root/lib/modules/$name.ko" ;;
		esac
		order+=("$name")
	}
	for m in $GUEST_MODULES; do
		visit "$m"
	done
	printf '%s\n' "${order[@]}" >"$root/lib/modules/order"
	pack "$root" "$out"
}

case "${1:-}" in
base)
	[ $# -ge 3 ] || { echo "usage: initramfs.sh base OUT.cpio.gz PKTSPEC CAPTURE..." >&2; exit 2; }
	shift
	build_base "$@"
	;;
modules)
	[ $# -eq 4 ] || { echo "usage: initramfs.sh modules OUT.cpio.gz KERNEL_DIR RELEASE" >&2; exit 2; }
	shift
	build_modules "$@"
	;;
*)
	echo "usage: initramfs.sh base|modules ..." >&2
	exit 2
	;;
esac
