#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
# Installs the Debian packages a make target needs, when some are missing.
# Usage: tools/deps.sh GROUP...
#   groups: build test vm bench accuracy fuzz, and capture (every capture_* group: what the
#   scripts that re-record tests/captures need; make check does not)
# Quiet when everything is present; as root it runs apt-get, otherwise it names
# what is missing and fails.
set -eu

pkgs_build="clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libpcap-dev pkg-config gcc make libc6-dev libssl-dev libmicrohttpd-dev"
pkgs_test="iproute2 netsniff-ng tcpdump python3 python3-scapy nginx-light openssl dnsmasq-base openssh-server openssh-client dnsutils curl jq procps util-linux nftables vsftpd sip-tester bpftool ngtcp2-client ngtcp2-server ethtool nfdump tshark prometheus tmux postgresql mosquitto mosquitto-clients python3-aiosmtpd dovecot-pop3d dovecot-imapd ngircd tnftp"
# The kernel matrix (tests/vm): qemu, the guest's userland, module and archive tools.
pkgs_vm="qemu-system-x86 busybox-static cpio gzip kmod xz-utils zstd dnsmasq-base bpftool iproute2 python3 debian-archive-keyring"
pkgs_bench="libndpi-bin netsniff-ng tcpreplay gnuplot-nox python3 jq bc iproute2 procps util-linux"
pkgs_accuracy="libndpi-bin"
# libFuzzer and the sanitizer runtimes for clang (tests/fuzz).
pkgs_fuzz="clang libclang-rt-14-dev python3"
# Servers and clients that record the captures (tests/captures/*/make.sh); not needed by make check.
pkgs_capture_tcp_a="tcpdump python3 nghttp2-client nghttp2-server h2o python3-websockets dante-server tinyproxy-bin inetutils-telnetd inetutils-telnet vsftpd curl python3-aiosmtpd dovecot-pop3d dovecot-imapd samba smbclient rpcbind rsync git prosody ngircd xvfb x11vnc xrdp openvpn openssl"
pkgs_capture_tcp_b="python3 python3-scapy"
pkgs_capture_udp="tcpdump python3-scapy openssl dnsmasq-base udhcpc chrony tftpd-hpa tftp-hpa snmpd snmp bsdutils sip-tester coturn libcoap3-bin memcached"
pkgs_capture="$pkgs_capture_tcp_a $pkgs_capture_tcp_b $pkgs_capture_udp"

want=""
for group in "$@"; do
	eval "want=\"\$want \$pkgs_$group\""
done

missing=""
for p in $want; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "pktspec: missing Debian packages:$missing" >&2
	echo "pktspec: run 'sudo make ...' to install them, or: sudo apt-get install$missing" >&2
	exit 1
fi
echo "pktspec: installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Another checkout's make may be installing at the same moment: wait for its dpkg and
# lists locks (up to 10 min) instead of failing on them.
lock="-o DPkg::Lock::Timeout=600"
# A fresh machine has no package lists yet; an old list can miss packages.
if ! apt-get $lock install -y -q --no-install-recommends $missing >/dev/null 2>&1; then
	apt-get $lock update -q >/dev/null
	apt-get $lock install -y -q --no-install-recommends $missing
fi
