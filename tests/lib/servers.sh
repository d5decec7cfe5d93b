# SPDX-License-Identifier: MIT OR Apache-2.0
# Real servers and clients from Debian packages for end-to-end tests and for
# recording captures. Source after common.sh and call pks_topology first.
#
#   pks_servers_start        nginx :80, openssl s_server :443, dnsmasq :53
#                            (UDP and TCP), sshd :2222, in the server netns,
#                            on 198.18.0.2 and 2001:db8::2; waits until all listen
#   pks_clients_run ADDR     one exchange of each against ADDR from the client
#                            netns: curl, openssl s_client, dig, dig +tcp, ssh
#
# Every server runs in the foreground under pks_bg, so common.sh kills it by
# PID; configuration, keys and logs live in $PKS_TMP.

PKS_SSH_PORT=2222

# pks_servers_start: returns non-zero (with a message on stderr) when one does not come up.
pks_servers_start() {
	local d="$PKS_TMP/srv"
	mkdir -p "$d/www" "$d/nginx"
	printf 'pktspec test page\n' >"$d/www/index.html"

	# nginx, one process, everything in $d.
	cat >"$d/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
user root;
pid $d/nginx.pid;
error_log $d/nginx.err warn;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $d/nginx/body;
	proxy_temp_path $d/nginx/proxy;
	fastcgi_temp_path $d/nginx/fastcgi;
	uwsgi_temp_path $d/nginx/uwsgi;
	scgi_temp_path $d/nginx/scgi;
	server {
		listen 198.18.0.2:80;
		listen [2001:db8::2]:80;
		root $d/www;
	}
}
NGINX
	pks_bg "$PKS_SRV" "$d/nginx.log" /usr/sbin/nginx -c "$d/nginx.conf" -p "$d"

	# openssl s_server with a throwaway self-signed P-256 certificate.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=pktspec.test \
		-days 2 -keyout "$d/tls.key" -out "$d/tls.crt" >"$d/req.log" 2>&1 || {
		echo "cannot make a test certificate: $(tail -n 2 "$d/req.log")" >&2
		return 1
	}
	# One s_server per address: "[::]:443" would be IPv6-only.
	pks_bg "$PKS_SRV" "$d/s_server4.log" openssl s_server -accept 198.18.0.2:443 \
		-cert "$d/tls.crt" -key "$d/tls.key" -www -quiet
	pks_bg "$PKS_SRV" "$d/s_server6.log" openssl s_server -accept '[2001:db8::2]:443' \
		-cert "$d/tls.crt" -key "$d/tls.key" -www -quiet

	# dnsmasq answers example.test itself: no upstream, no /etc files.
	pks_bg "$PKS_SRV" "$d/dnsmasq.log" /usr/sbin/dnsmasq -k -C /dev/null --user=root --group=root \
		--no-resolv --no-hosts --no-poll --bind-interfaces --port 53 \
		--listen-address=198.18.0.2 --listen-address=2001:db8::2 --pid-file= \
		--address=/example.test/198.18.0.9 --address=/example.test/2001:db8::9 --log-facility=-

	# sshd on a spare port with a temp host key; authentication is bound to fail,
	# the version exchange happens first. /run/sshd is the privilege separation
	# directory Debian's own service creates at start.
	mkdir -p /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$d/ssh_host_key" || return 1
	cat >"$d/sshd_config" <<SSHD
Port $PKS_SSH_PORT
ListenAddress 198.18.0.2
ListenAddress [2001:db8::2]
HostKey $d/ssh_host_key
PidFile none
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile none
LogLevel ERROR
SSHD
	pks_bg "$PKS_SRV" "$d/sshd.log" /usr/sbin/sshd -D -e -f "$d/sshd_config"

	pks_wait_tcp "$PKS_SRV" 80 || { echo "nginx did not start: $(cat "$d/nginx.err" "$d/nginx.log")" >&2; return 1; }
	pks_wait_for 30 pks_listening "$PKS_SRV" tcp 443 2 ||
		{ echo "s_server did not start: $(cat "$d"/s_server*.log)" >&2; return 1; }
	pks_wait_tcp "$PKS_SRV" 53 && pks_wait_udp "$PKS_SRV" 53 ||
		{ echo "dnsmasq did not start: $(cat "$d/dnsmasq.log")" >&2; return 1; }
	pks_wait_tcp "$PKS_SRV" $PKS_SSH_PORT || { echo "sshd did not start: $(cat "$d/sshd.log")" >&2; return 1; }
}

# pks_clients_run ADDR: one exchange per protocol against ADDR (198.18.0.2 or
# 2001:db8::2). Prints a line per client that did not get its answer and
# returns non-zero then; an ssh authentication failure is expected.
pks_clients_run() {
	local a=$1 u=$1 d="$PKS_TMP/cli" rc=0
	mkdir -p "$d"
	case "$a" in *:*) u="[$a]" ;; esac
	pks_in "$PKS_CLI" curl -sS --max-time 20 -o "$d/page" "http://$u/index.html" 2>"$d/curl.err" &&
		grep -q 'pktspec test page' "$d/page" || { echo "curl http://$u/: $(cat "$d/curl.err")"; rc=1; }
	pks_in "$PKS_CLI" timeout 20 openssl s_client -connect "$u:443" -servername pktspec.test -brief \
		</dev/null >"$d/s_client.log" 2>&1 ||
		{ echo "openssl s_client $u:443: $(tail -n 3 "$d/s_client.log" | tr '\n' ' ')"; rc=1; }
	pks_in "$PKS_CLI" dig +time=5 +tries=2 +short "@$a" example.test A >"$d/dig.out" 2>&1 &&
		grep -q '^198.18.0.9$' "$d/dig.out" || { echo "dig @$a: $(cat "$d/dig.out")"; rc=1; }
	pks_in "$PKS_CLI" dig +tcp +time=5 +tries=2 +short "@$a" example.test AAAA >"$d/dig.out" 2>&1 &&
		grep -q '^2001:db8::9$' "$d/dig.out" || { echo "dig +tcp @$a: $(cat "$d/dig.out")"; rc=1; }
	pks_in "$PKS_CLI" timeout 20 ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 -p $PKS_SSH_PORT "pktspec@$a" true \
		>"$d/ssh.log" 2>&1
	grep -q 'Permission denied' "$d/ssh.log" || { echo "ssh $a: $(tail -n 2 "$d/ssh.log" | tr '\n' ' ')"; rc=1; }
	return $rc
}

# pks_tcpdump_start NS IFACE FILE [tcpdump options]: records until pks_tcpdump_stop.
pks_tcpdump_start() {
	local ns=$1 ifc=$2 file=$3
	shift 3
	# Not --immediate-mode: libpcap then uses a ring of snaplen-sized frames, a handful,
	# and the kernel drops a burst (a 200 KB transfer) whenever tcpdump is not scheduled
	# at once; the default ring packs packets into blocks handed over when full or after
	# tcpdump's 1 s timeout, which pks_tcpdump_stop waits for.
	nsenter --net="/run/netns/$ns" tcpdump -i "$ifc" -U -n "$@" -w "$file" >"$file.log" 2>&1 &
	PKS_TCPDUMP_PID=$!
	PKS_PIDS+=($PKS_TCPDUMP_PID)
	# tcpdump says "listening on" once its socket is bound.
	pks_wait_for 30 pks_tcpdump_ready "$file.log" $PKS_TCPDUMP_PID && grep -qs 'listening on' "$file.log" && return 0
	echo "tcpdump did not start: $(cat "$file.log")" >&2
	return 1
}

# pks_tcpdump_ready LOG PID: tcpdump listens, or has exited (then it never will).
pks_tcpdump_ready() {
	grep -qs 'listening on' "$1" || ! kill -0 "$2" 2>/dev/null
}

# pks_tcpdump_stop FILE: once tcpdump has written every packet it received
# (pks_tcpdump_finish), stops it; fails (saying why on stderr) when it could not.
pks_tcpdump_stop() {
	local ifc
	ifc=$(sed -n 's/^tcpdump: listening on \([^,]*\),.*/\1/p' "$1.log" | head -n 1)
	pks_tcpdump_finish "$PKS_TCPDUMP_PID" "$1.log" "$ifc"
}

# ---- Recordings of sessions picked up mid-way (tests/captures/midstream) ---
#
#   pks_offloads_off         segments on the veth pair as a real link carries them:
#                            with offloads a veth hands tcpdump one 3,000-byte
#                            "packet" where the wire has three segments
#   pks_record_start NAME PORT
#                            tcpdump on the server's veth end, TCP port PORT,
#                            into $PKS_TMP/NAME.pcap
#   pks_record_finish NAME DIR
#                            stops it; the recording must be complete, hold no
#                            SYN (the sessions were open before it started) and
#                            only the test prefixes; then it is copied to DIR
# Both return non-zero, saying why on stderr, when that fails.

pks_offloads_off() {
	pks_in "$PKS_CLI" ethtool -K "$PKS_CLI_IF" tso off gso off gro off >/dev/null &&
		pks_in "$PKS_SRV" ethtool -K "$PKS_SRV_IF" tso off gso off gro off >/dev/null
}

pks_record_start() {
	pks_tcpdump_start "$PKS_SRV" "$PKS_SRV_IF" "$PKS_TMP/$1.pcap" "tcp port $2"
}

pks_record_finish() {
	local f="$PKS_TMP/$1.pcap"
	pks_tcpdump_stop "$f" || { echo "$1: recording incomplete" >&2; return 1; }
	[ "$(tcpdump -r "$f" -n 'tcp[tcpflags] & tcp-syn != 0' 2>/dev/null | wc -l)" -eq 0 ] ||
		{ echo "$1: a SYN was recorded" >&2; return 1; }
	# Every endpoint (tcpdump's "ADDR.PORT > ADDR.PORT:") in the test prefixes.
	if tcpdump -r "$f" -n 2>/dev/null | awk '{ print $3; print $5 }' | sed 's/[.:]*$//' |
		grep -Ev '^(198\.1[89]\.[0-9.]+|2001:db8:[0-9a-f:.]+)$' >&2; then
		echo "$1: another address was recorded" >&2
		return 1
	fi
	cp "$f" "$2/$1.pcap"
}

# ---- Long-lived sessions (mid-session tests and recordings) ----------------
#
#   pks_pg_start             a private PostgreSQL cluster (initdb as user postgres,
#                            trust for the test prefixes) on 198.18.0.2 and
#                            2001:db8::2 port 5432, in the server netns
#   pks_mqtt_start           mosquitto on 198.18.0.2 and 2001:db8::2 port 1883
#   pks_session NAME LOG COMMAND...
#                            a client in the client netns reading its stdin from
#                            the FIFO $PKS_TMP/NAME.in; `pks_say NAME LINE` feeds it;
#                            the client's PID (its sockets' owner) in PKS_SESSION_PIDS[NAME]
#   pks_ask NAME LOG LINE ANSWER
#                            feeds LINE to session NAME and waits (30 s) for the
#                            line ANSWER in LOG
#   pks_ask_new NAME LOG LINE ERE
#                            feeds LINE to session NAME and waits (30 s) for a
#                            new line of LOG (one it did not have before)
#                            matching the extended regular expression ERE
#   pks_mqtt_heard PUB SUBLOG LINE
#                            publishes LINE through session PUB until the
#                            subscriber's log has it (30 s)
#
# A session's FIFO is opened read-write by the client itself, so it always has a
# writer and never reads end of file: the connection stays open between lines.

# The newest installed server's binaries (Debian keeps them out of PATH).
PKS_PG_BIN=${PKS_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

pks_pg_start() {
	local d="$PKS_TMP/pg"
	# The server runs as postgres, which must reach its directory under $PKS_TMP.
	chmod 711 "$PKS_TMP"
	mkdir -p "$d" && chown postgres: "$d" || return 1
	setpriv --reuid=postgres --regid=postgres --init-groups "$PKS_PG_BIN/initdb" -D "$d/data" -U postgres \
		--auth=trust --no-sync >"$d/initdb.log" 2>&1 ||
		{ echo "initdb failed: $(tail -n 3 "$d/initdb.log")" >&2; return 1; }
	printf 'host all all 198.18.0.0/15 trust\nhost all all 2001:db8::/32 trust\n' >>"$d/data/pg_hba.conf"
	# In the foreground (the postmaster itself under pks_bg), so it is killed by PID.
	pks_bg "$PKS_SRV" "$d/postgres.log" setpriv --reuid=postgres --regid=postgres --init-groups \
		"$PKS_PG_BIN/postgres" -D "$d/data" -p 5432 -c listen_addresses='198.18.0.2,2001:db8::2' \
		-c unix_socket_directories="$d" -c fsync=off
	pks_wait_for 30 pks_listening "$PKS_SRV" tcp 5432 2 ||
		{ echo "postgres did not start: $(tail -n 5 "$d/postgres.log")" >&2; return 1; }
}

pks_mqtt_start() {
	local d="$PKS_TMP/mqtt"
	mkdir -p "$d"
	cat >"$d/mosquitto.conf" <<MQTT
listener 1883 198.18.0.2
listener 1883 2001:db8::2
allow_anonymous true
persistence false
log_dest stderr
MQTT
	pks_bg "$PKS_SRV" "$d/mosquitto.log" /usr/sbin/mosquitto -c "$d/mosquitto.conf"
	pks_wait_for 30 pks_listening "$PKS_SRV" tcp 1883 2 ||
		{ echo "mosquitto did not start: $(tail -n 5 "$d/mosquitto.log")" >&2; return 1; }
}

declare -A PKS_SESSION_PIDS
pks_session() {
	local name=$1 fifo="$PKS_TMP/$1.in" log=$2
	shift 2
	mkfifo "$fifo" || return 1
	pks_bg "$PKS_CLI" "$log" sh -c 'f=$1; shift; exec "$@" 0<>"$f"' sh "$fifo" "$@"
	PKS_SESSION_PIDS[$name]=${PKS_PIDS[-1]}
}

# pks_session_port NAME: the local port of session NAME's one established TCP connection.
pks_session_port() {
	pks_in "$PKS_CLI" ss -Htnp state established |
		awk -v pid="pid=${PKS_SESSION_PIDS[$1]}," 'index($0, pid) { n = split($3, a, ":"); print a[n] }'
}

pks_say() {
	printf '%s\n' "$2" >"$PKS_TMP/$1.in"
}

# pks_logged LOG LINE: LOG has the whole line LINE.
pks_logged() {
	grep -qxF -- "$2" "$1"
}

pks_ask() {
	pks_say "$1" "$3"
	pks_wait_for 30 pks_logged "$2" "$4"
}

pks_ask_new() {
	local n
	n=$(wc -l <"$2")
	pks_say "$1" "$3"
	pks_wait_for 30 pks_logged_new "$2" "$n" "$4"
}

# pks_logged_new LOG N ERE: a line of LOG after its first N matches ERE.
pks_logged_new() {
	tail -n "+$(($2 + 1))" "$1" | grep -qE -- "$3"
}

# A subscriber gets nothing published before its subscription is in place,
# which nothing on its side shows: publish until it hears.
pks_mqtt_heard() {
	pks_wait_for 30 pks_mqtt_heard1 "$@"
}
pks_mqtt_heard1() {
	pks_say "$1" "$3" && pks_wait_for 1 pks_logged "$2" "$3"
}

# ---- Line-oriented servers (mid-session tests, recordings, tcp_a captures) --
#
#   pks_ftp_start ADDR       vsftpd on ADDR port 21 (one instance per address):
#                            anonymous, read-only, root $PKS_TMP/ftp (hello.txt)
#   pks_smtp_start ADDR PORT aiosmtpd on ADDR:PORT (it prints the mail it gets)
#   pks_mail_start           dovecot, POP3 on 110 and IMAP on 143, on 198.18.0.2
#                            and 2001:db8::2: any user, password "secret", each
#                            user's maildir $PKS_TMP/mail/USER
#   pks_irc_start            ngircd "irc.example.net" on 198.18.0.2 and
#                            2001:db8::2 port 6667
#   pks_mail_deliver USER N [FIRST]
#                            puts N small messages in USER's maildir, numbered
#                            from FIRST (1)
# Each waits for its listener; non-zero (with a message on stderr) when it
# did not come up.

pks_ftp_start() {
	local a=$1 d="$PKS_TMP/ftp" tag=4 listen="listen=YES
listen_address=$1"
	case "$a" in *:*) tag=6 listen="listen=NO
listen_ipv6=YES
listen_address6=$a" ;; esac
	mkdir -p "$d" "$PKS_TMP/vsempty"
	echo hello >"$d/hello.txt"
	chmod 755 "$PKS_TMP" "$d"
	cat >"$PKS_TMP/vsftpd$tag.conf" <<CONF
$listen
background=NO
anonymous_enable=YES
local_enable=NO
write_enable=NO
anon_root=$d
secure_chroot_dir=$PKS_TMP/vsempty
seccomp_sandbox=NO
pasv_enable=YES
xferlog_enable=NO
idle_session_timeout=900
CONF
	pks_bg "$PKS_SRV" "$PKS_TMP/vsftpd$tag.log" vsftpd "$PKS_TMP/vsftpd$tag.conf"
	pks_wait_for 30 pks_listening_on "$PKS_SRV" "$a" 21 ||
		{ echo "vsftpd on $a did not start: $(cat "$PKS_TMP/vsftpd$tag.log")" >&2; return 1; }
}

pks_smtp_start() {
	local log="$PKS_TMP/aiosmtpd-$2.log"
	# -n: no setuid to nobody; "-l HOST:PORT" splits at the last colon, so an IPv6 address goes bare.
	pks_bg "$PKS_SRV" "$log" /usr/bin/python3 -m aiosmtpd -n -l "$1:$2"
	pks_wait_for 30 pks_listening_on "$PKS_SRV" "$1" "$2" ||
		{ echo "aiosmtpd on $1 port $2 did not start: $(cat "$log")" >&2; return 1; }
}

pks_mail_start() {
	local d="$PKS_TMP/dovecot"
	mkdir -p "$d/run" "$d/state" "$PKS_TMP/mail"
	chmod 777 "$PKS_TMP/mail"
	cat >"$d/dovecot.conf" <<CONF
protocols = pop3 imap
listen = 198.18.0.2, 2001:db8::2
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {
  driver = static
  args = password=secret
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$PKS_TMP/mail/%u
}
mail_location = maildir:$PKS_TMP/mail/%u
CONF
	pks_bg "$PKS_SRV" "$d/dovecot.out" dovecot -F -c "$d/dovecot.conf"
	pks_wait_for 30 pks_listening "$PKS_SRV" tcp 110 2 && pks_wait_for 30 pks_listening "$PKS_SRV" tcp 143 2 ||
		{ echo "dovecot did not start: $(cat "$d/dovecot.out" "$d/dovecot.log" 2>/dev/null | tail -n 5)" >&2; return 1; }
}

pks_mail_deliver() {
	local m="$PKS_TMP/mail/$1" i
	mkdir -p "$m/new" "$m/cur" "$m/tmp"
	for ((i = ${3:-1}; i < ${3:-1} + $2; i++)); do
		printf 'From: alice@example.org\r\nTo: %s@example.org\r\nSubject: pktspec %d\r\n\r\nmessage %d for %s\r\n' \
			"$1" $i $i "$1" >"$m/tmp/100$i.pktspec$i.test"
		chown nobody:nogroup "$m/tmp/100$i.pktspec$i.test"
		# Into new/ whole (a rename), as a delivery agent does: a server watching
		# the maildir never sees half a message.
		mv "$m/tmp/100$i.pktspec$i.test" "$m/new/"
	done
	chown nobody:nogroup "$m" "$m/new" "$m/cur" "$m/tmp"
}

pks_irc_start() {
	local d="$PKS_TMP/ngircd"
	mkdir -p "$d"
	cat >"$d/ngircd.conf" <<CONF
[Global]
Name = irc.example.net
Info = pktspec test
Listen = 198.18.0.2,2001:db8::2
Ports = 6667
PidFile = $d/ngircd.pid
MotdPhrase = hello
ServerUID = nobody
ServerGID = nogroup
[Options]
DNS = no
Ident = no
PAM = no
CONF
	pks_bg "$PKS_SRV" "$d/ngircd.log" ngircd -n -f "$d/ngircd.conf"
	pks_wait_for 30 pks_listening "$PKS_SRV" tcp 6667 2 ||
		{ echo "ngircd did not start: $(tail -n 5 "$d/ngircd.log")" >&2; return 1; }
}

# pks_listening_on NS ADDR PORT: a TCP socket listens on ADDR:PORT in NS.
pks_listening_on() {
	local a=$2
	case "$a" in *:*) a="[$a]" ;; esac
	pks_in "$1" ss -Hltn "src $a:$3" | grep -q .
}

# ---- Mid-session verdicts, from `pktspec flows --json` ----------------------
#
#   pks_mid_case             the cases' prefix: the test's name, and _MODE when
#                            PKS_XDP_MODE is not native (generic: skb mode)
#   pks_mid_attach CASE SESSION...
#                            each session's client port (from the client's own
#                            socket) into PKS_PORT[SESSION]; ends the test unless
#                            all are open and nothing failed so far (the rest
#                            would test nothing); then `pktspec attach` in
#                            PKS_XDP_MODE (native) on both veth ends
#                            (CASE:attach-client/-server)
#   pks_mid_detach CASE      detaches both (CASE:detach-client/-server)
#   pks_flows                the flow table as JSON lines (run in the client netns)
#   pks_expect_mid CASE CLIENT CPORT SERVER SPORT PROTO RULE
#                            PASS once (30 s) that TCP flow, this way round, is
#                            named PROTO by RULE at `signature` without a handshake
#   pks_expect_unnamed CASE CPORT SPORT N
#                            PASS when the flow, once it has N packets each way,
#                            is still unknown/none/none
#   pks_expect_no_other_flows CASE CPORT...
#                            PASS when every flow's client port is one of CPORT

pks_mid_case() {
	local mode=${PKS_XDP_MODE:-native}
	[ "$mode" = native ] && echo "$PKS_TEST" || echo "${PKS_TEST}_$mode"
}

declare -A PKS_PORT
pks_mid_attach() {
	local t=$1 mode=${PKS_XDP_MODE:-native} s
	shift
	for s in "$@"; do
		PKS_PORT[$s]=$(pks_session_port "$s")
		[[ ${PKS_PORT[$s]} =~ ^[0-9]+$ ]] || pks_fail "$t:client-port" "$s: '${PKS_PORT[$s]}'"
	done
	[ $PKS_FAILED -eq 0 ] || pks_done
	pks_pass "$t:sessions-open-before-attach"
	pks_check "$t:attach-client" pks_in "$PKS_CLI" "$PKTSPEC" attach --mode "$mode" "$PKS_CLI_IF"
	pks_check "$t:attach-server" pks_in "$PKS_SRV" "$PKTSPEC" attach --mode "$mode" "$PKS_SRV_IF"
}

pks_mid_detach() {
	pks_check "$1:detach-client" pks_in "$PKS_CLI" "$PKTSPEC" detach "$PKS_CLI_IF"
	pks_check "$1:detach-server" pks_in "$PKS_SRV" "$PKTSPEC" detach "$PKS_SRV_IF"
}

pks_flows() {
	pks_in "$PKS_CLI" "$PKTSPEC" flows --json
}

pks_mid_named() {
	pks_flows | pks_jq_any --arg c "$1" --argjson cp "$2" --arg s "$3" --argjson sp "$4" --arg p "$5" --arg r "$6" '
		select(.l4 == "tcp" and .client == $c and .client_port == $cp and .server == $s and
		       .server_port == $sp and .proto == $p and .rule == $r and .confidence == "signature" and
		       .handshake == false)'
}

pks_expect_mid() {
	local name=$1
	shift
	# A flow is named once both fitting packets are in the table: waited for.
	if pks_wait_for 30 pks_mid_named "$@"; then
		pks_pass "$name"
	else
		pks_fail "$name" "flows to port $4: $(pks_flows | jq -c --argjson sp "$4" 'select(.server_port == $sp) |
			[.client, .client_port, .server, .server_port, .proto, .rule, .confidence, .handshake]' | tr '\n' ' ')"
	fi
}

pks_flow_counted() {
	pks_flows | pks_jq_any --argjson cp "$1" --argjson sp "$2" --argjson n "$3" \
		'select(.client_port == $cp and .server_port == $sp and .packets_c2s >= $n and .packets_s2c >= $n)'
}

pks_expect_unnamed() {
	local got
	if pks_wait_for 30 pks_flow_counted "$2" "$3" "$4"; then
		got=$(pks_flows | jq -r --argjson cp "$2" 'select(.client_port == $cp) | "\(.proto)/\(.confidence)/\(.rule)"')
		[ "$got" = "unknown/none/none" ] && pks_pass "$1" || pks_fail "$1" "$got"
	else
		pks_fail "$1" "flow not counted: $(pks_flows | jq -c --argjson sp "$3" 'select(.server_port == $sp)')"
	fi
}

pks_expect_no_other_flows() {
	local name=$1 others
	shift
	others=$(pks_flows | jq -r --argjson ports "[$(IFS=,; echo "$*")]" \
		'select(.client_port | IN($ports[]) | not) | "\(.l4) \(.client)/\(.client_port) \(.server_port) \(.proto)"' | tr '\n' ';')
	[ -z "$others" ] && pks_pass "$name" || pks_fail "$name" "$others"
}
