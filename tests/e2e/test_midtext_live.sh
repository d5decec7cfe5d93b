#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# End to end, line-oriented protocols picked up mid-session: real servers in a
# namespace (vsftpd, aiosmtpd, dovecot's POP3 and IMAP, ngircd), real clients
# connected, logged in and answered BEFORE pktspec is attached, so no
# handshake, greeting or login is ever seen: tnftp (reading its commands from
# a FIFO), and Python's smtplib, poplib and imaplib and an IRC socket client
# (tests/lib/text_client.py), over IPv4 and IPv6. Commands and replies over
# the open connections must then name each flow by its mid-session rule
# (bpf/sig/midtext.h): ftp-mid / smtp-mid / pop3-mid / imap-mid / irc-mid,
# `signature`, client and server the right way round. An IMAP session idling
# from before the attach hears only the server's pushes and sends DONE. Two
# IRC clients in one channel hear each other's PRIVMSGs relayed by the server.
# A TCP connection carrying printable lines of random words both ways on a
# port nothing is guessed for, open before the attach too, stays unnamed.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/servers.sh"

T=$(pks_mid_case)
NEG_PORT=17503 # a port no protocol is guessed for
CLIENT=$PKS_ROOT/tests/lib/text_client.py

pks_topology
if ! { pks_ftp_start 198.18.0.2 && pks_ftp_start 2001:db8::2 && pks_smtp_start 198.18.0.2 25 &&
	pks_smtp_start 2001:db8::2 587 && pks_mail_start && pks_irc_start; } 2>"$PKS_TMP/servers.err"; then
	pks_fail "$T:servers" "$(head -c 400 "$PKS_TMP/servers.err")"
	pks_done
fi
pks_bg "$PKS_SRV" "$PKS_TMP/words-srv.log" /usr/bin/python3 "$CLIENT" words-server 198.18.0.2 $NEG_PORT
pks_wait_tcp "$PKS_SRV" $NEG_PORT || { pks_fail "$T:servers" "words server: $(cat "$PKS_TMP/words-srv.log")"; pks_done; }
# Two messages in each mailbox (one mailbox per session: POP3 would lock a shared one).
for u in bob dave carol erin frank; do
	pks_mail_deliver $u 2
done
pks_pass "$T:servers"

# The sessions: name, the client's address family, user.
pks_session ftp4 "$PKS_TMP/ftp4.log" tnftp -a -v 198.18.0.2
pks_session ftp6 "$PKS_TMP/ftp6.log" tnftp -a -v 2001:db8::2
pks_session smtp4 "$PKS_TMP/smtp4.log" /usr/bin/python3 "$CLIENT" smtp 198.18.0.2 25
pks_session smtp6 "$PKS_TMP/smtp6.log" /usr/bin/python3 "$CLIENT" smtp 2001:db8::2 587
pks_session pop4 "$PKS_TMP/pop4.log" /usr/bin/python3 "$CLIENT" pop3 198.18.0.2 110 bob secret
pks_session pop6 "$PKS_TMP/pop6.log" /usr/bin/python3 "$CLIENT" pop3 2001:db8::2 110 dave secret
pks_session imap4 "$PKS_TMP/imap4.log" /usr/bin/python3 "$CLIENT" imap 198.18.0.2 143 erin secret
pks_session imap6 "$PKS_TMP/imap6.log" /usr/bin/python3 "$CLIENT" imap 2001:db8::2 143 carol secret
# In IDLE from before the attach: afterwards only the server's pushes and DONE.
pks_session idle "$PKS_TMP/idle.log" /usr/bin/python3 "$CLIENT" imap 198.18.0.2 143 frank secret
pks_session alice "$PKS_TMP/alice.log" /usr/bin/python3 "$CLIENT" irc 198.18.0.2 6667 alice
pks_session bob "$PKS_TMP/bob.log" /usr/bin/python3 "$CLIENT" irc 2001:db8::2 6667 bob
pks_session words "$PKS_TMP/words.log" /usr/bin/python3 "$CLIENT" words 198.18.0.2 $NEG_PORT
SESSIONS="ftp4 ftp6 smtp4 smtp6 pop4 pop6 imap4 imap6 idle alice bob words"

# ask SESSION LINE ERE: LINE to SESSION, then a new line matching ERE in its log (else a FAIL).
ask() {
	pks_ask_new "$1" "$PKS_TMP/$1.log" "$2" "$3" ||
		pks_fail "$T:session-$1" "'$2' got no '$3': $(tail -n 4 "$PKS_TMP/$1.log" | tr '\n' '|')"
}

# Logged in, registered, and one command answered, before the attach.
for s in ftp4 ftp6; do
	pks_wait_for 30 grep -q '^230 ' "$PKS_TMP/$s.log" || pks_fail "$T:session-$s" "$(tr '\n' '|' <"$PKS_TMP/$s.log")"
	ask $s "quote NOOP" '^200 NOOP ok'
done
for s in smtp4 smtp6 pop4 pop6 imap4 imap6 idle; do
	pks_wait_for 30 pks_logged "$PKS_TMP/$s.log" ready || pks_fail "$T:session-$s" "$(tr '\n' '|' <"$PKS_TMP/$s.log")"
done
ask smtp4 "b0 noop" '^b0 250 '
ask smtp6 "b0 noop" '^b0 250 '
ask pop4 "b0 noop" '^b0 \+OK'
ask pop6 "b0 noop" '^b0 \+OK'
ask imap4 "b0 noop" '^b0 OK'
ask imap6 "b0 noop" '^b0 OK'
ask idle "b0 select INBOX" '^b0 OK 2$'
ask idle "b1 idle" '^b1 \+ idling'
for s in alice bob; do
	# RPL_ENDOFMOTD ends the registration.
	pks_wait_for 30 grep -q "^:irc.example.net 376 $s " "$PKS_TMP/$s.log" ||
		pks_fail "$T:session-$s" "$(tail -n 3 "$PKS_TMP/$s.log" | tr '\n' '|')"
	ask $s "PING :before-$s" "^:irc.example.net PONG irc.example.net :before-$s\$"
done
ask words 0 '^ok 0$'

# The client port of each session, from the client's own socket; without
# every session open before the attach the rest tests nothing.
pks_mid_attach "$T" $SESSIONS

# Now the same connections talk, each command waited for. None of the first
# commands is one the opening-message rules take (EHLO, USER, FEAT, CAPA,
# NOOP in IMAP, ...): only the continuation grammar can name these flows.
for s in ftp4 ftp6; do
	ask $s "cd /" '^250 Directory successfully changed'
	ask $s "size hello.txt" $'^hello.txt\t6$'
	ask $s "pwd" '^Remote directory: /$'
done
for s in smtp4 smtp6; do
	ask $s "a1 mail alice@example.org" '^a1 250 '
	ask $s "a2 rcpt $s@example.org" '^a2 250 '
	ask $s "a3 data Subject:pktspec\n\nhello" '^a3 250 '
	ask $s "a4 rset" '^a4 250 '
done
declare -A USER_OF=([pop4]=bob [pop6]=dave)
for s in pop4 pop6; do
	ask $s "a1 stat" '^a1 2 [0-9]+$'
	ask $s "a2 list" '^a2 \+OK 2 messages'
	ask $s "a3 retr 2" "^a3 \\+OK .*message 2 for ${USER_OF[$s]}"
	ask $s "a4 uidl" '^a4 \+OK'
done
for s in imap4 imap6; do
	ask $s "a1 select INBOX" '^a1 OK 2$'
	ask $s "a2 status INBOX (MESSAGES)" '^a2 OK INBOX \(MESSAGES 2\)'
	ask $s "a3 fetch 2 (FLAGS)" '^a3 OK 2 \(FLAGS'
done
# The idling session: a new message is pushed ("* 3 EXISTS"), DONE ends the
# IDLE (its answer tagged as the IDLE), a second IDLE hears of a fourth message.
tag=b1
for i in 3 4; do
	n=$(wc -l <"$PKS_TMP/idle.log")
	pks_mail_deliver frank 1 $i
	pks_wait_for 60 pks_logged_new "$PKS_TMP/idle.log" "$n" "^\\* $i EXISTS\$" ||
		pks_fail "$T:session-idle" "no '* $i EXISTS': $(tail -n 4 "$PKS_TMP/idle.log" | tr '\n' '|')"
	ask idle "x done" "^$tag OK Idle completed"
	tag=b$i
	[ $i = 4 ] || ask idle "$tag idle" "^$tag \\+ idling"
done
# IRC: alice's flow starts with a PING, bob's with a JOIN; then both in
# #pks, each PRIVMSG relayed by the server to the other.
ask alice "PING :mid-1" '^:irc.example.net PONG irc.example.net :mid-1$'
ask alice "JOIN #pks" '^:alice!~alice@198.18.0.1 JOIN :#pks$'
ask bob "JOIN #pks" '^:bob!~bob@\[2001:db8::1\] JOIN :#pks$'
pks_wait_for 30 pks_logged "$PKS_TMP/alice.log" ':bob!~bob@[2001:db8::1] JOIN :#pks' ||
	pks_fail "$T:alice-hears-join" "$(tail -n 3 "$PKS_TMP/alice.log" | tr '\n' '|')"
# relay FROM PREFIX TO TEXT: FROM's PRIVMSG to #pks reaches TO as PREFIX's.
relay() {
	pks_say "$1" "PRIVMSG #pks :$4"
	pks_wait_for 30 pks_logged "$PKS_TMP/$3.log" ":$2 PRIVMSG #pks :$4" ||
		pks_fail "$T:$3-hears-$1" "'$4' not in: $(tail -n 3 "$PKS_TMP/$3.log" | tr '\n' '|')"
}
for i in 1 2; do
	relay alice 'alice!~alice@198.18.0.1' bob "hello bob $i"
	relay bob 'bob!~bob@[2001:db8::1]' alice "hi alice $i"
done
ask bob "PING :mid-2" '^:irc.example.net PONG irc.example.net :mid-2$'
ask words 1 '^ok 1$'
ask words 2 '^ok 2$'

pks_expect_mid "$T:ftp-mid-ipv4" 198.18.0.1 "${PKS_PORT[ftp4]}" 198.18.0.2 21 ftp ftp-mid
pks_expect_mid "$T:ftp-mid-ipv6" 2001:db8::1 "${PKS_PORT[ftp6]}" 2001:db8::2 21 ftp ftp-mid
pks_expect_mid "$T:smtp-mid-ipv4-port-25" 198.18.0.1 "${PKS_PORT[smtp4]}" 198.18.0.2 25 smtp smtp-mid
pks_expect_mid "$T:smtp-mid-ipv6-port-587" 2001:db8::1 "${PKS_PORT[smtp6]}" 2001:db8::2 587 smtp smtp-mid
pks_expect_mid "$T:pop3-mid-ipv4" 198.18.0.1 "${PKS_PORT[pop4]}" 198.18.0.2 110 pop3 pop3-mid
pks_expect_mid "$T:pop3-mid-ipv6" 2001:db8::1 "${PKS_PORT[pop6]}" 2001:db8::2 110 pop3 pop3-mid
pks_expect_mid "$T:imap-mid-ipv4" 198.18.0.1 "${PKS_PORT[imap4]}" 198.18.0.2 143 imap imap-mid
pks_expect_mid "$T:imap-mid-ipv6" 2001:db8::1 "${PKS_PORT[imap6]}" 2001:db8::2 143 imap imap-mid
pks_expect_mid "$T:imap-mid-idle-only" 198.18.0.1 "${PKS_PORT[idle]}" 198.18.0.2 143 imap imap-mid
pks_expect_mid "$T:irc-mid-ipv4-ping-first" 198.18.0.1 "${PKS_PORT[alice]}" 198.18.0.2 6667 irc irc-mid
pks_expect_mid "$T:irc-mid-ipv6-join-first" 2001:db8::1 "${PKS_PORT[bob]}" 2001:db8::2 6667 irc irc-mid
# The random words: once the table has counted both exchanges, still unnamed.
pks_expect_unnamed "$T:random-text-lines-unnamed" "${PKS_PORT[words]}" $NEG_PORT 2
# Nothing else: every flow is one of the sessions.
pks_expect_no_other_flows "$T:no-other-flows" "${PKS_PORT[@]}"

pks_mid_detach "$T"
pks_done
