#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Regenerates the tcp_a captures (web, remote access, files, mail, chat over
# TCP): real servers and clients from Debian packages talk across a veth pair
# between two network namespaces while tcpdump records the first exchange.
#
#   tools/deps.sh capture && tests/captures/tcp_a/make.sh [NAME...]
#
# Not run by `make check` (it needs the `capture` package group); the .pcap
# files it writes are checked in with their .expect files. Where no packaged
# implementation can run here (RTSP, BitTorrent), the messages are built
# from the specification and exchanged over real sockets by a small Python
# script; the function below says so, and so does doc/protocols-tcp_a.md.
. "$(dirname "$0")/../../lib/common.sh"
. "$(dirname "$0")/../../lib/servers.sh"

OUT=$PKS_ROOT/tests/captures/tcp_a
SNAP=256 # headers and the 64-byte window with room to spare
pks_topology
C=$PKS_CLI
S=$PKS_SRV
SRV=198.18.0.2

# cap_begin NAME FILTER: record on the client's veth end (both directions pass it).
cap_begin() {
	CAP_NAME=$1
	nsenter --net="/run/netns/$C" tcpdump -Z root -i "$PKS_CLI_IF" -U -n -s $SNAP -w "$PKS_TMP/$1.pcap" "$2" 2>"$PKS_TMP/$1.tcpdump" &
	CAP_PID=$!
	PKS_PIDS+=($CAP_PID)
	for _ in $(seq 100); do
		grep -qs "listening on" "$PKS_TMP/$1.tcpdump" && return 0
		sleep 0.1
	done
	echo "tcpdump did not start for $1" >&2
	return 1
}

cap_end() {
	sleep 1
	kill -TERM "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	mv "$PKS_TMP/$CAP_NAME.pcap" "$OUT/$CAP_NAME.pcap"
	echo "$CAP_NAME: $(tcpdump -r "$OUT/$CAP_NAME.pcap" 2>/dev/null | wc -l) packets"
}

# stop_bg: stop the servers started since the last call (by PID).
BG_MARK=0
stop_bg() {
	local i
	for ((i = BG_MARK; i < ${#PKS_PIDS[@]}; i++)); do
		kill "${PKS_PIDS[$i]}" 2>/dev/null
	done
	sleep 0.5
	BG_MARK=${#PKS_PIDS[@]}
}

# A client run with a bound on its time, in the client namespace.
cli() { pks_in "$C" timeout 20 "$@"; }

# A small HTTP origin for the proxies to reach.
origin() {
	mkdir -p "$PKS_TMP/www"
	echo hello >"$PKS_TMP/www/index.html"
	pks_bg "$S" "$PKS_TMP/origin.log" /usr/bin/python3 -m http.server 8082 --bind $SRV --directory "$PKS_TMP/www"
	pks_wait_tcp "$S" 8082
}

cap_http2() { # nghttpd and nghttp, HTTP/2 with prior knowledge (no TLS)
	mkdir -p "$PKS_TMP/www"
	echo hello >"$PKS_TMP/www/index.html"
	pks_bg "$S" "$PKS_TMP/nghttpd.log" nghttpd --no-tls --address=$SRV -d "$PKS_TMP/www" 8080
	pks_wait_tcp "$S" 8080
	cap_begin http2_prior_knowledge "tcp port 8080"
	cli nghttp -n http://$SRV:8080/index.html
	cap_end
	stop_bg
	# nghttpd sends its SETTINGS before answering an upgrade; h2o does the h2c upgrade properly.
	cat >"$PKS_TMP/h2o.conf" <<-CONF
		listen:
		  host: $SRV
		  port: 8081
		hosts:
		  default:
		    paths:
		      /:
		        file.dir: $PKS_TMP/www
		user: nobody
	CONF
	chmod 755 "$PKS_TMP" "$PKS_TMP/www"
	pks_bg "$S" "$PKS_TMP/h2o.log" h2o -c "$PKS_TMP/h2o.conf"
	pks_wait_tcp "$S" 8081
	cap_begin http2_h2c_upgrade "tcp port 8081"
	cli nghttp -nu http://$SRV:8081/index.html
	cap_end
	stop_bg
}

cap_websocket() { # python3-websockets server and client: HTTP/1.1 upgrade, then one message each way
	cat >"$PKS_TMP/ws.py" <<-'PY'
		import asyncio, sys, websockets
		async def echo(ws, path=None):
		    async for msg in ws:
		        await ws.send(msg)
		async def server():
		    async with websockets.serve(echo, sys.argv[2], 8765):
		        await asyncio.Future()
		async def client():
		    async with websockets.connect("ws://%s:8765/chat" % sys.argv[2]) as ws:
		        await ws.send("hello")
		        print(await ws.recv())
		asyncio.run(server() if sys.argv[1] == "server" else client())
	PY
	pks_bg "$S" "$PKS_TMP/ws.log" /usr/bin/python3 "$PKS_TMP/ws.py" server $SRV
	pks_wait_tcp "$S" 8765
	cap_begin websocket "tcp port 8765"
	cli /usr/bin/python3 "$PKS_TMP/ws.py" client $SRV
	cap_end
	stop_bg
}

cap_socks() { # dante-server, curl through SOCKS 5 and SOCKS 4
	origin
	cat >"$PKS_TMP/danted.conf" <<-CONF
		logoutput: stderr
		internal: $SRV port = 1080
		external: $SRV
		clientmethod: none
		socksmethod: none
		user.privileged: root
		user.unprivileged: nobody
		client pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
		socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
	CONF
	pks_bg "$S" "$PKS_TMP/danted.log" danted -f "$PKS_TMP/danted.conf" -p "$PKS_TMP/danted.pid" -N 1
	pks_wait_tcp "$S" 1080
	cap_begin socks5 "tcp port 1080"
	cli curl -s -o /dev/null --socks5 $SRV:1080 http://$SRV:8082/
	cap_end
	cap_begin socks4 "tcp port 1080"
	cli curl -s -o /dev/null --socks4 $SRV:1080 http://$SRV:8082/
	cap_end
	stop_bg
}

cap_connect() { # tinyproxy, curl --proxytunnel (HTTP CONNECT)
	origin
	cat >"$PKS_TMP/tinyproxy.conf" <<-CONF
		Port 3128
		Listen $SRV
		Timeout 30
		Allow 198.18.0.0/15
		MaxClients 4
	CONF
	pks_bg "$S" "$PKS_TMP/tinyproxy.log" tinyproxy -d -c "$PKS_TMP/tinyproxy.conf"
	pks_wait_tcp "$S" 3128
	cap_begin http_connect "tcp port 3128"
	cli curl -s -o /dev/null -p -x http://$SRV:3128 http://$SRV:8082/
	cap_end
	stop_bg
}

cap_telnet() { # inetutils-telnetd started inetd-style on an accepted socket, inetutils-telnet
	cat >"$PKS_TMP/inetd.py" <<-'PY'
		import os, socket, sys
		s = socket.socket()
		s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		s.bind((sys.argv[1], 23))
		s.listen(1)
		c, _ = s.accept()
		for fd in (0, 1, 2):
		    os.dup2(c.fileno(), fd)
		os.execv("/usr/sbin/telnetd", ["telnetd", "-h", "-E", "/bin/cat"])
	PY
	pks_bg "$S" "$PKS_TMP/telnetd.log" /usr/bin/python3 "$PKS_TMP/inetd.py" $SRV
	pks_wait_tcp "$S" 23
	cap_begin telnet "tcp port 23"
	(sleep 2; printf 'hello\r\n'; sleep 1) | cli telnet $SRV 23 >/dev/null 2>&1
	cap_end
	stop_bg
}

cap_ftp() { # vsftpd, curl (anonymous listing)
	pks_ftp_start $SRV
	cap_begin ftp "tcp port 21"
	cli curl -s -o /dev/null ftp://$SRV/hello.txt
	cap_end
	stop_bg
}

cap_smtp() { # python3-aiosmtpd, curl as SMTP client
	pks_smtp_start $SRV 25
	printf 'Subject: test\r\n\r\nhello\r\n' >"$PKS_TMP/mail.txt"
	cap_begin smtp "tcp port 25"
	cli curl -s smtp://$SRV --mail-from alice@example.org --mail-rcpt bob@example.org -T "$PKS_TMP/mail.txt"
	cap_end
	stop_bg
}

cap_mail() { # dovecot-pop3d and dovecot-imapd, curl as POP3 and IMAP client
	pks_mail_start
	cap_begin pop3 "tcp port 110"
	cli curl -s -u bob:secret pop3://$SRV/
	cap_end
	cap_begin imap "tcp port 143"
	cli curl -s -u bob:secret imap://$SRV/
	cap_end
	stop_bg
}

cap_smb() { # samba smbd, smbclient: SMB 2/3 on 445, SMB 1 over the NetBIOS session service on 139
	local d=$PKS_TMP/samba
	mkdir -p "$d/private" "$d/lock" "$d/state" "$d/cache" "$d/pid" "$d/ncalrpc" "$PKS_TMP/share"
	cat >"$d/smb.conf" <<-CONF
		[global]
		  workgroup = PKSTEST
		  netbios name = PKSSERVER
		  interfaces = $SRV
		  bind interfaces only = yes
		  smb ports = 445 139
		  server min protocol = NT1
		  map to guest = bad user
		  private dir = $d/private
		  lock directory = $d/lock
		  state directory = $d/state
		  cache directory = $d/cache
		  pid directory = $d/pid
		  ncalrpc dir = $d/ncalrpc
		  log file = $d/log.%m
		  disable spoolss = yes
		  load printers = no
		[pub]
		  path = $PKS_TMP/share
		  guest ok = yes
	CONF
	pks_bg "$S" "$PKS_TMP/smbd.log" smbd --foreground --no-process-group -s "$d/smb.conf"
	pks_wait_tcp "$S" 445 && pks_wait_tcp "$S" 139
	cap_begin smb2_445 "tcp port 445"
	cli smbclient -N -s "$d/smb.conf" -L //$SRV -m SMB3 >/dev/null 2>&1
	cap_end
	cap_begin smb1_445 "tcp port 445"
	cli smbclient -N -s "$d/smb.conf" -L //$SRV -m NT1 --option='client min protocol=NT1' >/dev/null 2>&1
	cap_end
	cap_begin smb1_139 "tcp port 139"
	cli smbclient -N -s "$d/smb.conf" -p 139 -L //$SRV -m NT1 --option='client min protocol=NT1' >/dev/null 2>&1
	cap_end
	stop_bg
}

cap_rpc() { # rpcbind (with its own /run in a private mount namespace), rpcinfo -t
	pks_bg "$S" "$PKS_TMP/rpcbind.log" unshare -m sh -c 'mount -t tmpfs tmpfs /run && mkdir -p /run/rpcbind && exec rpcbind -f -w'
	pks_wait_tcp "$S" 111
	cap_begin onc_rpc "tcp port 111"
	cli rpcinfo -t $SRV 100000 4
	cap_end
	stop_bg
}

cap_rsync() { # rsync --daemon, rsync client listing the modules
	mkdir -p "$PKS_TMP/share"
	cat >"$PKS_TMP/rsyncd.conf" <<-CONF
		use chroot = no
		pid file = $PKS_TMP/rsyncd.pid
		[pub]
		  path = $PKS_TMP/share
		  read only = yes
	CONF
	pks_bg "$S" "$PKS_TMP/rsyncd.log" rsync --daemon --no-detach --config="$PKS_TMP/rsyncd.conf" --address=$SRV --port=873
	pks_wait_tcp "$S" 873
	cap_begin rsync "tcp port 873"
	cli rsync rsync://$SRV/ >/dev/null
	cap_end
	stop_bg
}

cap_git() { # git daemon, git ls-remote
	local g=$PKS_TMP/git
	mkdir -p "$g"
	git init -q --bare "$g/repo.git"
	git -C "$g/repo.git" -c user.name=pks -c user.email=pks@example.org commit-tree -m init \
		"$(git -C "$g/repo.git" mktree </dev/null)" >"$g/head"
	git -C "$g/repo.git" update-ref refs/heads/main "$(cat "$g/head")"
	pks_bg "$S" "$PKS_TMP/gitd.log" git daemon --reuseaddr --listen=$SRV --base-path="$g" --export-all
	pks_wait_tcp "$S" 9418
	cap_begin git "tcp port 9418"
	cli git ls-remote git://$SRV/repo.git >/dev/null
	cap_end
	stop_bg
}

cap_xmpp() { # prosody; a Python client opening a stream (no packaged CLI client)
	local d=$PKS_TMP/prosody
	mkdir -p "$d/data"
	chown prosody "$d/data" 2>/dev/null
	cat >"$d/prosody.cfg.lua" <<-CONF
		pidfile = "$d/prosody.pid"
		data_path = "$d/data"
		interfaces = { "$SRV" }
		c2s_ports = { 5222 }
		s2s_ports = { }
		log = { info = "$d/prosody.log" }
		modules_enabled = { "disco" }
		c2s_require_encryption = false
		run_as_root = true -- a throwaway server in a namespace, for one capture
		VirtualHost "example.org"
	CONF
	pks_bg "$S" "$PKS_TMP/prosody.out" prosody -F --config "$d/prosody.cfg.lua"
	pks_wait_tcp "$S" 5222 || cat "$PKS_TMP/prosody.out" "$d/prosody.log" >&2
	pks_wait_tcp "$S" 5222
	cap_begin xmpp "tcp port 5222"
	cli /usr/bin/python3 - $SRV <<-'PY'
		import socket, sys
		s = socket.create_connection((sys.argv[1], 5222))
		s.sendall(b"<?xml version='1.0'?><stream:stream to='example.org' xmlns='jabber:client' "
		          b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
		s.settimeout(5)
		print(s.recv(4096)[:80])
		s.sendall(b"</stream:stream>")
		s.close()
	PY
	cap_end
	stop_bg
}

cap_irc() { # ngircd; a Python client registering (no light packaged CLI client)
	pks_irc_start
	cap_begin irc "tcp port 6667"
	cli /usr/bin/python3 - $SRV <<-'PY'
		import socket, sys, time
		s = socket.create_connection((sys.argv[1], 6667))
		s.sendall(b"NICK alice\r\nUSER alice 0 * :Alice\r\n")
		s.settimeout(5)
		time.sleep(1)
		print(s.recv(4096)[:80])
		s.sendall(b"QUIT :bye\r\n")
		s.close()
	PY
	cap_end
	stop_bg
}

cap_vnc() { # x11vnc on an Xvfb display; a Python client doing the RFB version exchange
	local disp=:$((90 + RANDOM % 100))
	pks_bg "$S" "$PKS_TMP/xvfb.log" Xvfb "$disp" -nolisten tcp -screen 0 320x200x16
	sleep 2
	pks_bg "$S" "$PKS_TMP/x11vnc.log" x11vnc -display "$disp" -rfbport 5900 -listen $SRV -nopw -forever -quiet
	pks_wait_tcp "$S" 5900
	cap_begin vnc "tcp port 5900"
	cli /usr/bin/python3 - $SRV <<-'PY'
		import socket, sys
		s = socket.create_connection((sys.argv[1], 5900))
		s.settimeout(5)
		v = s.recv(12)
		s.sendall(v)  # RFC 6143 7.1.1: answer with the server's version
		print(v, s.recv(64))
		s.close()
	PY
	cap_end
	stop_bg
}

cap_rdp() { # xrdp; a Python client sending an mstsc-style X.224 Connection Request
	local d=$PKS_TMP/xrdp
	mkdir -p "$d"
	pks_bg "$S" "$PKS_TMP/xrdp.log" xrdp --nodaemon --port $SRV:3389
	pks_wait_tcp "$S" 3389
	cap_begin rdp "tcp port 3389"
	cli /usr/bin/python3 - $SRV <<-'PY'
		import socket, struct, sys
		cookie = b"Cookie: mstshash=alice\r\n"
		neg = struct.pack("<BBHI", 1, 0, 8, 3)  # RDP_NEG_REQ: TLS | CredSSP
		x224 = bytes([6 + len(cookie) + len(neg), 0xE0, 0, 0, 0, 0, 0]) + cookie + neg
		s = socket.create_connection((sys.argv[1], 3389))
		s.sendall(struct.pack(">BBH", 3, 0, 4 + len(x224)) + x224)
		s.settimeout(5)
		print(s.recv(64).hex())
		s.close()
	PY
	cap_end
	stop_bg
}

cap_openvpn() { # openvpn over TCP in TLS mode with throwaway certificates, --dev null
	local d=$PKS_TMP/ovpn
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=pks \
		-keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
	pks_bg "$S" "$PKS_TMP/ovpn-s.log" openvpn --dev null --proto tcp-server --local $SRV --port 1194 \
		--tls-server --dh none --ca "$d/cert.pem" --cert "$d/cert.pem" --key "$d/key.pem" --verb 1
	pks_wait_tcp "$S" 1194
	cap_begin openvpn_tcp "tcp port 1194"
	pks_bg "$C" "$PKS_TMP/ovpn-c.log" openvpn --dev null --proto tcp-client --remote $SRV 1194 --nobind \
		--tls-client --ca "$d/cert.pem" --cert "$d/cert.pem" --key "$d/key.pem" --verb 1
	sleep 4
	cap_end
	stop_bg
}

cap_rtsp() { # CRAFTED: no packaged RTSP server runs here; an RFC 2326 OPTIONS/DESCRIBE exchange over real sockets
	cat >"$PKS_TMP/rtsp.py" <<-'PY'
		import socket, sys
		s = socket.socket()
		s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		s.bind((sys.argv[1], 554))
		s.listen(1)
		c, _ = s.accept()
		for cseq in (1, 2):
		    req = c.recv(4096)
		    body = b"v=0\r\no=- 0 0 IN IP4 198.18.0.2\r\ns=pktspec\r\nm=video 0 RTP/AVP 96\r\n" if cseq == 2 else b""
		    hdr = b"RTSP/1.0 200 OK\r\nCSeq: %d\r\n" % cseq
		    hdr += b"Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n" if cseq == 1 else b"Content-Type: application/sdp\r\n"
		    c.sendall(hdr + b"Content-Length: %d\r\n\r\n" % len(body) + body)
		c.close()
	PY
	pks_bg "$S" "$PKS_TMP/rtsp.log" /usr/bin/python3 "$PKS_TMP/rtsp.py" $SRV
	pks_wait_tcp "$S" 554
	cap_begin rtsp_crafted "tcp port 554"
	cli /usr/bin/python3 - $SRV <<-'PY'
		import socket, sys
		s = socket.create_connection((sys.argv[1], 554))
		s.settimeout(5)
		url = "rtsp://%s:554/stream" % sys.argv[1]
		s.sendall(("OPTIONS %s RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: pktspec\r\n\r\n" % url).encode())
		s.recv(4096)
		s.sendall(("DESCRIBE %s RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\n\r\n" % url).encode())
		s.recv(4096)
		s.close()
	PY
	cap_end
	stop_bg
}

cap_bittorrent() { # CRAFTED: a BEP 3 handshake exchange over real sockets (no light packaged peer)
	cat >"$PKS_TMP/bt.py" <<-'PY'
		import os, socket, sys
		def hs(peer):
		    return b"\x13BitTorrent protocol" + bytes(8) + bytes.fromhex("a" * 40) + peer
		if sys.argv[1] == "server":
		    s = socket.socket()
		    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		    s.bind((sys.argv[2], 6881))
		    s.listen(1)
		    c, _ = s.accept()
		    c.recv(68)
		    c.sendall(hs(b"-PK0001-" + os.urandom(6).hex().encode()))
		    c.close()
		else:
		    c = socket.create_connection((sys.argv[2], 6881))
		    c.settimeout(5)
		    c.sendall(hs(b"-PK0001-" + os.urandom(6).hex().encode()))
		    c.recv(68)
		    c.close()
	PY
	pks_bg "$S" "$PKS_TMP/bt.log" /usr/bin/python3 "$PKS_TMP/bt.py" server $SRV
	pks_wait_tcp "$S" 6881
	cap_begin bittorrent_crafted "tcp port 6881"
	cli /usr/bin/python3 "$PKS_TMP/bt.py" client $SRV
	cap_end
	stop_bg
}

ALL="http2 websocket socks connect telnet ftp smtp mail smb rpc rsync git xmpp irc vnc rdp openvpn rtsp bittorrent"
for name in ${@:-$ALL}; do
	"cap_$name"
done
