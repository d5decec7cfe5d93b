#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# Records the RECORDED mid-session captures of the line-oriented protocols
# (bpf/sig/midtext.h), as record.sh does for PostgreSQL and MQTT: real
# servers (vsftpd, aiosmtpd, dovecot's POP3 and IMAP, ngircd) and real clients
# (tnftp; Python's smtplib, poplib and imaplib and an IRC socket client,
# tests/lib/text_client.py) across a veth pair between two network
# namespaces. Each session has logged in (registered) and talked BEFORE
# tcpdump starts, so the capture holds no handshake, greeting or login
# (checked: no SYN), only later commands and replies.
#
#   tools/deps.sh test && tests/captures/midstream/record_text.sh
#
# Writes ftp_mid_recorded.pcap, smtp_mid_recorded.pcap, pop3_mid_recorded.pcap,
# imap_mid_recorded.pcap, irc_mid_recorded.pcap (two clients in one channel,
# each hearing the other's PRIVMSGs) and text_lines_mid_recorded.pcap (lines
# of random words both ways on a port nothing is guessed for) with their
# .expect files (whose header names the server and client versions) here.
# Not run by `make check`; the files it writes are checked in.
. "$(dirname "$0")/../../lib/common.sh"
. "$(dirname "$0")/../../lib/servers.sh"

OUT=$PKS_ROOT/tests/captures/midstream
CLIENT=$PKS_ROOT/tests/lib/text_client.py
NEG_PORT=17503 # a port no protocol is guessed for
die() { echo "record_text.sh: $*" >&2; exit 1; }

pks_topology
pks_offloads_off || die "ethtool -K failed"
pks_ftp_start 198.18.0.2 && pks_smtp_start 198.18.0.2 25 && pks_mail_start && pks_irc_start ||
	die "servers did not start"
pks_bg "$PKS_SRV" "$PKS_TMP/words-srv.log" /usr/bin/python3 "$CLIENT" words-server 198.18.0.2 $NEG_PORT
pks_wait_tcp "$PKS_SRV" $NEG_PORT || die "words server did not start: $(cat "$PKS_TMP/words-srv.log")"
pks_mail_deliver bob 2
pks_mail_deliver carol 2

pks_session ftp "$PKS_TMP/ftp.log" tnftp -a -v 198.18.0.2
pks_session smtp "$PKS_TMP/smtp.log" /usr/bin/python3 "$CLIENT" smtp 198.18.0.2 25
pks_session pop3 "$PKS_TMP/pop3.log" /usr/bin/python3 "$CLIENT" pop3 198.18.0.2 110 bob secret
pks_session imap "$PKS_TMP/imap.log" /usr/bin/python3 "$CLIENT" imap 2001:db8::2 143 carol secret
pks_session alice "$PKS_TMP/alice.log" /usr/bin/python3 "$CLIENT" irc 198.18.0.2 6667 alice
pks_session bob "$PKS_TMP/bob.log" /usr/bin/python3 "$CLIENT" irc 2001:db8::2 6667 bob
pks_session words "$PKS_TMP/words.log" /usr/bin/python3 "$CLIENT" words 198.18.0.2 $NEG_PORT

# ask SESSION[>HEARER] LINE ERE: LINE to SESSION, then a new line matching ERE
# in its log (or in HEARER's: a PRIVMSG is relayed to the others only).
ask() {
	local s=${1%%>*} l=${1##*>}
	pks_ask_new "$s" "$PKS_TMP/$l.log" "$2" "$3" || die "$1: '$2' got no '$3': $(tail -n 4 "$PKS_TMP/$l.log")"
}

# The sessions up, logged in and answering before anything is recorded.
pks_wait_for 30 grep -q '^230 ' "$PKS_TMP/ftp.log" || die "tnftp: $(cat "$PKS_TMP/ftp.log")"
ask ftp "quote NOOP" '^200 NOOP ok'
for s in smtp pop3 imap; do
	pks_wait_for 30 pks_logged "$PKS_TMP/$s.log" ready || die "$s: $(cat "$PKS_TMP/$s.log")"
	ask $s "b0 noop" '^b0 (250 |\+OK|OK)'
done
for s in alice bob; do
	pks_wait_for 30 grep -q "^:irc.example.net 376 $s " "$PKS_TMP/$s.log" || die "$s: $(tail -n 3 "$PKS_TMP/$s.log")"
done
ask words 0 '^ok 0$'

# record NAME PORT SESSION LINE ERE [SESSION LINE ERE]...: tcpdump on the
# server's veth end for PORT while each LINE goes to its SESSION and a line
# matching ERE shows in its log; then checked (pks_record_finish).
record() {
	local name=$1 port=$2
	shift 2
	pks_record_start "$name" "$port" || die "$name: tcpdump did not start"
	while [ $# -ge 3 ]; do
		ask "$1" "$2" "$3"
		shift 3
	done
	pks_record_finish "$name" "$OUT" || die "$name: not recorded"
}

record ftp_mid_recorded 21 \
	ftp "cd /" '^250 Directory successfully changed' \
	ftp "size hello.txt" $'^hello.txt\t6$' \
	ftp "pwd" '^Remote directory: /$'
record smtp_mid_recorded 25 \
	smtp "a1 mail alice@example.org" '^a1 250 ' \
	smtp "a2 rcpt bob@example.org" '^a2 250 ' \
	smtp "a3 data Subject:pktspec\n\nhello" '^a3 250 ' \
	smtp "a4 rset" '^a4 250 '
record pop3_mid_recorded 110 \
	pop3 "a1 stat" '^a1 2 [0-9]+$' \
	pop3 "a2 list" '^a2 \+OK 2 messages' \
	pop3 "a3 retr 2" '^a3 \+OK .*message 2 for bob' \
	pop3 "a4 uidl" '^a4 \+OK'
record imap_mid_recorded 143 \
	imap "a1 select INBOX" '^a1 OK 2$' \
	imap "a2 status INBOX (MESSAGES)" '^a2 OK INBOX \(MESSAGES 2\)' \
	imap "a3 fetch 2 (FLAGS)" '^a3 OK 2 \(FLAGS'
# Both IRC flows: alice's starts with a PING, bob's with a JOIN; each
# PRIVMSG is waited for in the other's log.
record irc_mid_recorded 6667 \
	alice "PING :mid-1" '^:irc.example.net PONG irc.example.net :mid-1$' \
	alice "JOIN #pks" '^:alice!~alice@198.18.0.1 JOIN :#pks$' \
	bob "JOIN #pks" '^:bob!~bob@\[2001:db8::1\] JOIN :#pks$' \
	'alice>bob' "PRIVMSG #pks :hello bob" '^:alice!~alice@198\.18\.0\.1 PRIVMSG #pks :hello bob$' \
	'bob>alice' "PRIVMSG #pks :hi alice" '^:bob!~bob@\[2001:db8::1\] PRIVMSG #pks :hi alice$' \
	bob "PING :mid-2" '^:irc.example.net PONG irc.example.net :mid-2$'
record text_lines_mid_recorded $NEG_PORT words 1 '^ok 1$' words 2 '^ok 2$' words 3 '^ok 3$'

ver() { dpkg-query -W -f="$1 \${Version}" "$1"; }
py_v=$(/usr/bin/python3 --version)
# expect NAME PORT PROTO WHAT SERVER CLIENT: the .expect file of NAME.
expect() {
	cat >"$OUT/$1.expect" <<EXPECT
# SPDX-License-Identifier: MIT OR Apache-2.0
# RECORDED (record_text.sh): real traffic picked up mid-session, over connections open
# before tcpdump started: no handshake, greeting or login in the capture.
#   what: $4
#   server: $5
#   client: $6
# Named by a second fitting line, and never above signature (bpf/sig/midtext.h).
tcp $2 $3 signature
EXPECT
}
expect ftp_mid_recorded 21 ftp "CWD, SIZE and PWD and their replies" "$(ver vsftpd)" "$(ver tnftp) (ftp -a)"
expect smtp_mid_recorded 25 smtp "MAIL, RCPT, DATA with a message, RSET and their replies" "$(ver python3-aiosmtpd)" \
	"$py_v smtplib"
expect pop3_mid_recorded 110 pop3 "STAT, LIST, RETR, UIDL and their replies" "$(dovecot --version) ($(ver dovecot-pop3d))" \
	"$py_v poplib"
expect imap_mid_recorded 143 imap "SELECT, STATUS, FETCH and their responses (IPv6)" \
	"$(dovecot --version) ($(ver dovecot-imapd))" "$py_v imaplib"
expect irc_mid_recorded 6667 irc "two clients (IPv4, IPv6): PING, JOIN, a PRIVMSG each relayed to the other" \
	"$(ver ngircd)" "$py_v socket client (tests/lib/text_client.py irc)"
cat >"$OUT/text_lines_mid_recorded.expect" <<EXPECT
# SPDX-License-Identifier: MIT OR Apache-2.0
# RECORDED (record_text.sh): printable lines of seeded random words, CRLF after each, both ways
# over a connection open before tcpdump started, on port $NEG_PORT, which no protocol is guessed
# for (tests/lib/text_client.py words, $py_v): the line grammars of bpf/sig/midtext.h run
# only on their protocols' ports, so nothing names it.
* * * max:port
EXPECT
echo "record_text.sh: wrote $OUT/{ftp,smtp,pop3,imap,irc,text_lines}_mid_recorded.pcap"
