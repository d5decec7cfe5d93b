/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Mid-session recognition of the line-oriented protocols by their line
 * grammar: a TCP flow picked up without its handshake (p->flow_mid) never
 * shows the greeting or the first command the opening-message signatures
 * (smtp.h, ftp.h, pop3.h, imap.h, irc.h) look for, only later commands and
 * replies. Each protocol's continuation lines are read here:
 *  - SMTP (RFC 5321 4.1.1, 4.2, RFC 3030 BDAT, RFC 3207 STARTTLS, RFC 4954
 *    AUTH): from the client a command word of the transaction (MAIL FROM:,
 *    RCPT TO:, DATA, BDAT, RSET, NOOP, VRFY, EXPN, HELP, QUIT, ...); from the
 *    server a reply line "DDD SP" or "DDD-", first digit 2 to 5.
 *  - FTP (RFC 959 4.1, 4.2, 5.3.1; RFC 2389, 2428, 3659, 4217): from the
 *    client one of the access, transfer-parameter and service commands; from
 *    the server a reply line, first digit 1 to 5.
 *  - POP3 (RFC 1939 3, 5, 7; RFC 2449): from the client a TRANSACTION-state
 *    command (STAT, LIST, RETR, DELE, NOOP, RSET, TOP, UIDL, QUIT, ...); from
 *    the server a status indicator "+OK" or "-ERR" ending its word.
 *  - IMAP (RFC 9051 6, 7; RFC 3501; RFC 2177 IDLE): from the client a tag and
 *    a command of any state, or "DONE" ending an IDLE; from the server an
 *    untagged response "* " with a status or data keyword or a message
 *    number and EXISTS/EXPUNGE/FETCH/RECENT, a tagged status "tag OK|NO|BAD",
 *    or a continuation request "+ ".
 *  - IRC (RFC 2812 2.3.1, 3): from the client a command without a prefix
 *    (PRIVMSG, PING, PONG, JOIN, MODE, ...); from the server a prefix
 *    (":" servername or nick!user@host, no space) and a command or a
 *    three-digit numeric, or PING/ERROR without a prefix. IRCv3 message tags
 *    ("@...") are not read.
 * Every one of these words is followed by its delimiter (SP, or CRLF where
 * the command takes no argument), and commands are folded to upper case
 * where the specification says they are case-insensitive (SMTP, FTP, POP3,
 * IMAP; IRC's are sent in upper case).
 *
 * The grammar of a reply line is shared (SMTP's and FTP's are one), so these
 * rules run only on the protocol's own port (the port guess): on any other
 * port a text line names nothing. On its port, a packet fits when its first
 * line has the grammar, it comes from the side that sends it (commands from
 * the client, replies from the server: on the port the client is known),
 * and the window is lines of text: printable ASCII, TAB or UTF-8 bytes, each
 * LF after a CR and each CR before an LF; a payload the window holds whole
 * ends with CRLF. 64 random bytes hold no control byte about once in 10^4,
 * and a line of random printable text starts with a command of the set and
 * its delimiter about once in 10^7 (some 40 words, either case).
 * Like the framed rules of midstream.h, one fitting packet only leaves the
 * protocol in the flow cookie; the second one names it (rule *-mid,
 * confidence `signature` at most, marked mid: the other direction settles
 * the flow but never confirms it).
 */
#ifndef PKTSPEC_BPF_SIG_MIDTEXT_H
#define PKTSPEC_BPF_SIG_MIDTEXT_H

#include "text.h"
#include "midstream.h"
#include "imap.h"

#define PKS_MIDT_MIN 4          /* the shortest line: "+OK" is 3 bytes and CRLF; "DATA" CRLF 6 */
#define PKS_MIDT_PREFIX_MAX 62  /* an IRC prefix's space must be inside the window */

/*
 * Whether the window is lines of text (see above). Branch-free over the
 * window (bytes.h): each byte adds its verdict to `bad`.
 */
static __always_inline int pks_midt_lines(const struct pks_payload *p)
{
	__u64 bad = 0;
	__u32 i;

	for (i = 0; i < PKS_WIN; i++) {
		__u64 c = p->b[i], prev = p->b[(i - 1) & PKS_WIN_MASK], next = p->b[(i + 1) & PKS_WIN_MASK];
		__u64 text = pks_in_range(c, 0x20, 0x7e) | pks_is(c, '\t') | pks_is(c, '\r') | pks_is(c, '\n') |
			     pks_in_range(c, 0x80, 0xf4);
		__u64 lone_lf = pks_is(c, '\n') & (pks_is(i, 0) | (pks_is(prev, '\r') ^ 1));
		__u64 lone_cr = pks_is(c, '\r') & pks_lt(i + 1, p->len) & (pks_is(next, '\n') ^ 1);

		bad |= pks_lt(i, p->len) & ((text ^ 1) | lone_lf | lone_cr);
	}
	if (bad)
		return 0;
	if (p->total > p->len)
		return 1;
	return p->len >= 2 && p->b[(p->len - 2) & PKS_WIN_MASK] == '\r' && p->b[(p->len - 1) & PKS_WIN_MASK] == '\n';
}

/* A command word of n letters (0: none) at off ends with its delimiter. */
static __always_inline int pks_midt_word(const struct pks_payload *p, __u32 off, __u32 n)
{
	return n && pks_word_end(p, off + n);
}

/* ---- SMTP ---------------------------------------------------------------- */

static __always_inline int pks_midt_smtp_command(const struct pks_payload *p)
{
	switch (pks_upper4(p, 0)) {
	case PKS_C4('M', 'A', 'I', 'L'): /* MAIL FROM: (4.1.1.2) */
		return p->b[4] == ' ' && pks_upper4(p, 5) == PKS_C4('F', 'R', 'O', 'M') && p->b[9] == ':';
	case PKS_C4('R', 'C', 'P', 'T'): /* RCPT TO: (4.1.1.3) */
		return p->b[4] == ' ' && pks_upper(p->b[5]) == 'T' && pks_upper(p->b[6]) == 'O' && p->b[7] == ':';
	case PKS_C4('B', 'D', 'A', 'T'): /* BDAT chunk-size (RFC 3030 2) */
		return p->b[4] == ' ' && pks_is_digit(p->b[5]);
	case PKS_C4('D', 'A', 'T', 'A'):
	case PKS_C4('R', 'S', 'E', 'T'):
	case PKS_C4('Q', 'U', 'I', 'T'):
		return p->b[4] == '\r' && p->b[5] == '\n';
	case PKS_C4('N', 'O', 'O', 'P'):
	case PKS_C4('H', 'E', 'L', 'P'):
	case PKS_C4('V', 'R', 'F', 'Y'):
	case PKS_C4('E', 'X', 'P', 'N'):
	case PKS_C4('A', 'U', 'T', 'H'):
	case PKS_C4('E', 'H', 'L', 'O'):
	case PKS_C4('H', 'E', 'L', 'O'):
		return pks_word_end(p, 4);
	case PKS_C4('S', 'T', 'A', 'R'): /* STARTTLS (RFC 3207 4) */
		return pks_upper4(p, 4) == PKS_C4('T', 'T', 'L', 'S') && pks_word_end(p, 8);
	}
	return 0;
}

static __always_inline int pks_midt_smtp(const struct pks_payload *p)
{
	return p->from_client ? pks_midt_smtp_command(p) : pks_reply_code(p) >= 200;
}

/* ---- FTP ----------------------------------------------------------------- */

/* The length of the FTP command word starting the line (RFC 959 5.3.1 and extensions), or 0. */
static __always_inline __u32 pks_midt_ftp_word(const struct pks_payload *p)
{
	__u32 w = pks_upper4(p, 0);

	switch (w) {
	case PKS_C4('U', 'S', 'E', 'R'):
	case PKS_C4('P', 'A', 'S', 'S'):
	case PKS_C4('A', 'C', 'C', 'T'):
	case PKS_C4('C', 'D', 'U', 'P'):
	case PKS_C4('S', 'M', 'N', 'T'):
	case PKS_C4('Q', 'U', 'I', 'T'):
	case PKS_C4('R', 'E', 'I', 'N'):
	case PKS_C4('P', 'O', 'R', 'T'):
	case PKS_C4('P', 'A', 'S', 'V'):
	case PKS_C4('T', 'Y', 'P', 'E'):
	case PKS_C4('S', 'T', 'R', 'U'):
	case PKS_C4('M', 'O', 'D', 'E'):
	case PKS_C4('R', 'E', 'T', 'R'):
	case PKS_C4('S', 'T', 'O', 'R'):
	case PKS_C4('S', 'T', 'O', 'U'):
	case PKS_C4('A', 'P', 'P', 'E'):
	case PKS_C4('A', 'L', 'L', 'O'):
	case PKS_C4('R', 'E', 'S', 'T'):
	case PKS_C4('R', 'N', 'F', 'R'):
	case PKS_C4('R', 'N', 'T', 'O'):
	case PKS_C4('A', 'B', 'O', 'R'):
	case PKS_C4('D', 'E', 'L', 'E'):
	case PKS_C4('L', 'I', 'S', 'T'):
	case PKS_C4('N', 'L', 'S', 'T'):
	case PKS_C4('S', 'I', 'T', 'E'):
	case PKS_C4('S', 'Y', 'S', 'T'):
	case PKS_C4('S', 'T', 'A', 'T'):
	case PKS_C4('H', 'E', 'L', 'P'):
	case PKS_C4('N', 'O', 'O', 'P'):
	case PKS_C4('F', 'E', 'A', 'T'): /* RFC 2389 */
	case PKS_C4('O', 'P', 'T', 'S'):
	case PKS_C4('E', 'P', 'R', 'T'): /* RFC 2428 */
	case PKS_C4('E', 'P', 'S', 'V'):
	case PKS_C4('M', 'L', 'S', 'D'): /* RFC 3659 */
	case PKS_C4('M', 'L', 'S', 'T'):
	case PKS_C4('S', 'I', 'Z', 'E'):
	case PKS_C4('M', 'D', 'T', 'M'):
	case PKS_C4('A', 'U', 'T', 'H'): /* RFC 4217 */
	case PKS_C4('P', 'B', 'S', 'Z'):
	case PKS_C4('P', 'R', 'O', 'T'):
	case PKS_C4('H', 'O', 'S', 'T'): /* RFC 7151 */
		return 4;
	}
	/* The three-letter commands: CWD, PWD, MKD, RMD (RFC 959 4.1.1, 4.1.3), CCC (RFC 4217). */
	switch (w & 0xffffff00) {
	case PKS_C4('C', 'W', 'D', 0):
	case PKS_C4('P', 'W', 'D', 0):
	case PKS_C4('M', 'K', 'D', 0):
	case PKS_C4('R', 'M', 'D', 0):
	case PKS_C4('C', 'C', 'C', 0):
		return 3;
	}
	return 0;
}

static __always_inline int pks_midt_ftp(const struct pks_payload *p)
{
	return p->from_client ? pks_midt_word(p, 0, pks_midt_ftp_word(p)) : pks_reply_code(p) != 0;
}

/* ---- POP3 ---------------------------------------------------------------- */

static __always_inline int pks_midt_pop3(const struct pks_payload *p)
{
	__u32 w = pks_upper4(p, 0);
	int ok = 0;

	if (!p->from_client) {
		/* "+OK" or "-ERR", then SP or CRLF (3). */
		ok = ((w & 0xffffff00) == PKS_C4('+', 'O', 'K', 0) && pks_word_end(p, 3)) ||
		     (w == PKS_C4('-', 'E', 'R', 'R') && pks_word_end(p, 4));
	} else {
		switch (w) {
		case PKS_C4('S', 'T', 'A', 'T'):
		case PKS_C4('L', 'I', 'S', 'T'):
		case PKS_C4('R', 'E', 'T', 'R'):
		case PKS_C4('D', 'E', 'L', 'E'):
		case PKS_C4('N', 'O', 'O', 'P'):
		case PKS_C4('R', 'S', 'E', 'T'):
		case PKS_C4('Q', 'U', 'I', 'T'):
		case PKS_C4('U', 'I', 'D', 'L'):
		case PKS_C4('U', 'S', 'E', 'R'):
		case PKS_C4('P', 'A', 'S', 'S'):
		case PKS_C4('A', 'P', 'O', 'P'):
		case PKS_C4('C', 'A', 'P', 'A'):
		case PKS_C4('S', 'T', 'L', 'S'):
		case PKS_C4('A', 'U', 'T', 'H'):
			ok = pks_word_end(p, 4);
			break;
		case PKS_C4('T', 'O', 'P', ' '): /* TOP msg n (7) */
			ok = pks_is_digit(p->b[4]);
			break;
		}
	}
	return ok;
}

/* ---- IMAP ---------------------------------------------------------------- */

/* The length of the IMAP command word at off (any state, RFC 9051 6), or 0. */
static __always_inline __u32 pks_midt_imap_command(const struct pks_payload *p, __u32 off)
{
	switch (pks_upper4(p, off)) {
	case PKS_C4('C', 'A', 'P', 'A'):
		return 10; /* CAPABILITY */
	case PKS_C4('N', 'O', 'O', 'P'):
	case PKS_C4('I', 'D', 'L', 'E'): /* RFC 2177 */
	case PKS_C4('L', 'I', 'S', 'T'):
	case PKS_C4('L', 'S', 'U', 'B'):
	case PKS_C4('C', 'O', 'P', 'Y'):
	case PKS_C4('M', 'O', 'V', 'E'): /* RFC 6851 */
		return 4;
	case PKS_C4('L', 'O', 'G', 'O'): /* LOGOUT */
	case PKS_C4('S', 'E', 'L', 'E'): /* SELECT */
	case PKS_C4('S', 'E', 'A', 'R'): /* SEARCH */
	case PKS_C4('S', 'T', 'A', 'T'): /* STATUS */
	case PKS_C4('A', 'P', 'P', 'E'): /* APPEND */
	case PKS_C4('C', 'R', 'E', 'A'): /* CREATE */
	case PKS_C4('D', 'E', 'L', 'E'): /* DELETE */
	case PKS_C4('R', 'E', 'N', 'A'): /* RENAME */
	case PKS_C4('E', 'N', 'A', 'B'): /* ENABLE */
		return 6;
	case PKS_C4('F', 'E', 'T', 'C'): /* FETCH */
	case PKS_C4('S', 'T', 'O', 'R'): /* STORE */
	case PKS_C4('C', 'L', 'O', 'S'): /* CLOSE */
	case PKS_C4('C', 'H', 'E', 'C'): /* CHECK */
	case PKS_C4('L', 'O', 'G', 'I'): /* LOGIN */
		return 5;
	case PKS_C4('E', 'X', 'A', 'M'): /* EXAMINE */
	case PKS_C4('E', 'X', 'P', 'U'): /* EXPUNGE */
		return 7;
	case PKS_C4('S', 'T', 'A', 'R'): /* STARTTLS */
	case PKS_C4('U', 'N', 'S', 'E'): /* UNSELECT */
		return 8;
	case PKS_C4('S', 'U', 'B', 'S'): /* SUBSCRIBE */
	case PKS_C4('N', 'A', 'M', 'E'): /* NAMESPACE */
		return 9;
	case PKS_C4('U', 'N', 'S', 'U'): /* UNSUBSCRIBE */
		return 11;
	case PKS_C4('A', 'U', 'T', 'H'): /* AUTHENTICATE */
	case PKS_C4('G', 'E', 'T', 'Q'): /* GETQUOTAROOT (RFC 9208) */
		return 12;
	}
	/* UID FETCH / STORE / SEARCH / COPY / MOVE / EXPUNGE, and ID (RFC 2971). */
	if ((pks_upper4(p, off) & 0xffffff00) == PKS_C4('U', 'I', 'D', 0))
		return 3;
	if ((pks_upper4(p, off) & 0xffff0000) == PKS_C4('I', 'D', 0, 0))
		return 2;
	return 0;
}

/* An untagged response's keyword after "* " (RFC 9051 7: status, server and mailbox data). */
static __always_inline int pks_midt_imap_untagged(const struct pks_payload *p)
{
	__u32 i, w = pks_upper4(p, 2), n = 0, at;

	switch (w) {
	case PKS_C4('B', 'Y', 'E', ' '):
	case PKS_C4('B', 'A', 'D', ' '):
		return 1;
	case PKS_C4('F', 'L', 'A', 'G'):
	case PKS_C4('L', 'I', 'S', 'T'):
	case PKS_C4('L', 'S', 'U', 'B'):
	case PKS_C4('S', 'T', 'A', 'T'):
	case PKS_C4('S', 'E', 'A', 'R'):
	case PKS_C4('E', 'S', 'E', 'A'):
	case PKS_C4('C', 'A', 'P', 'A'):
	case PKS_C4('E', 'N', 'A', 'B'):
	case PKS_C4('N', 'A', 'M', 'E'):
	case PKS_C4('P', 'R', 'E', 'A'):
	case PKS_C4('Q', 'U', 'O', 'T'):
		return 1;
	}
	if ((w & 0xffffff00) == PKS_C4('O', 'K', ' ', 0) || (w & 0xffffff00) == PKS_C4('N', 'O', ' ', 0))
		return 1;
	/* "* n EXISTS", "* n EXPUNGE", "* n FETCH (", "* n RECENT": a message number first. */
	for (i = 0; i < 10; i++) {
		if (!pks_is_digit(p->b[2 + i]))
			break;
		n++;
	}
	if (n == 0 || n >= 10 || p->b[(2 + n) & PKS_WIN_MASK] != ' ')
		return 0;
	at = 3 + n;
	w = pks_upper4(p, at);
	return w == PKS_C4('E', 'X', 'I', 'S') || w == PKS_C4('E', 'X', 'P', 'U') || w == PKS_C4('F', 'E', 'T', 'C') ||
	       w == PKS_C4('R', 'E', 'C', 'E');
}

static __always_inline int pks_midt_imap(const struct pks_payload *p)
{
	__u32 tag, w;
	int ok;

	if (p->from_client) {
		/* "DONE" ends an IDLE (RFC 2177 3); else tag SP command. */
		tag = pks_imap_tag(p);
		ok = (pks_upper4(p, 0) == PKS_C4('D', 'O', 'N', 'E') && p->b[4] == '\r') ||
		     (tag && pks_midt_word(p, tag + 1, pks_midt_imap_command(p, tag + 1)));
	} else if (p->b[0] == '*' && p->b[1] == ' ') {
		ok = pks_midt_imap_untagged(p);
	} else if (p->b[0] == '+') {
		/* A continuation request: "+ text" or "+" CRLF (RFC 9051 7.5). */
		ok = p->b[1] == ' ' || (p->b[1] == '\r' && p->b[2] == '\n');
	} else {
		tag = pks_imap_tag(p);
		w = pks_upper4(p, tag + 1);
		ok = tag && ((w & 0xffffff00) == PKS_C4('O', 'K', ' ', 0) || (w & 0xffffff00) == PKS_C4('N', 'O', ' ', 0) ||
			     w == PKS_C4('B', 'A', 'D', ' '));
	}
	return ok;
}

/* ---- IRC ----------------------------------------------------------------- */

/* The length of the IRC command at off (RFC 2812 3; upper case as sent), or 0. */
static __always_inline __u32 pks_midt_irc_command(const struct pks_payload *p, __u32 off)
{
	__u32 w = pks_be32(p, off);

	switch (w) {
	case PKS_C4('P', 'R', 'I', 'V'): /* PRIVMSG */
	case PKS_C4('W', 'A', 'L', 'L'): /* WALLOPS */
		return 7;
	case PKS_C4('N', 'O', 'T', 'I'): /* NOTICE */
	case PKS_C4('I', 'N', 'V', 'I'): /* INVITE */
		return 6;
	case PKS_C4('T', 'O', 'P', 'I'): /* TOPIC */
	case PKS_C4('W', 'H', 'O', 'I'): /* WHOIS */
	case PKS_C4('N', 'A', 'M', 'E'): /* NAMES */
	case PKS_C4('E', 'R', 'R', 'O'): /* ERROR */
		return 5;
	case PKS_C4('J', 'O', 'I', 'N'):
	case PKS_C4('P', 'A', 'R', 'T'):
	case PKS_C4('Q', 'U', 'I', 'T'):
	case PKS_C4('M', 'O', 'D', 'E'):
	case PKS_C4('N', 'I', 'C', 'K'):
	case PKS_C4('K', 'I', 'C', 'K'):
	case PKS_C4('P', 'I', 'N', 'G'):
	case PKS_C4('P', 'O', 'N', 'G'):
	case PKS_C4('A', 'W', 'A', 'Y'):
	case PKS_C4('I', 'S', 'O', 'N'):
	case PKS_C4('L', 'I', 'S', 'T'):
	case PKS_C4('K', 'I', 'L', 'L'):
		return 4;
	case PKS_C4('U', 'S', 'E', 'R'): /* USERHOST */
		return 8;
	}
	if ((w & 0xffffff00) == PKS_C4('W', 'H', 'O', 0) || (w & 0xffffff00) == PKS_C4('C', 'A', 'P', 0))
		return 3;
	return 0;
}

/*
 * A server's line: ":" prefix SP (command | numeric) SP. The prefix is a
 * server name or nick!user@host without spaces or control bytes; its end is
 * the lowest space of the window (branch-free, as pks_irc_user).
 */
static __always_inline int pks_midt_irc_server(const struct pks_payload *p)
{
	__u64 sp = 0, bad = 0, first;
	__u32 i, at;

	if (p->b[0] != ':')
		return 0;
	for (i = 1; i < PKS_MIDT_PREFIX_MAX; i++) {
		__u64 c = p->b[i];

		sp |= pks_is(c, ' ') << i;
		bad |= (pks_in_range(c, 0x21, 0x7e) ^ 1) << i;
	}
	first = sp & -sp;
	/* A prefix of one character at least, printable up to its space. */
	if (first < 4 || (bad & (first - 1) & ~1ull))
		return 0;
	at = pks_popcount64(first - 1) + 1;
	if (pks_is_digit(p->b[at & PKS_WIN_MASK]))
		return pks_is_digit(p->b[(at + 1) & PKS_WIN_MASK]) && pks_is_digit(p->b[(at + 2) & PKS_WIN_MASK]) &&
		       p->b[(at + 3) & PKS_WIN_MASK] == ' ';
	return pks_midt_word(p, at, pks_midt_irc_command(p, at));
}

static __always_inline int pks_midt_irc(const struct pks_payload *p)
{
	if (p->from_client)
		return pks_midt_word(p, 0, pks_midt_irc_command(p, 0));
	if (p->b[0] == ':')
		return pks_midt_irc_server(p);
	/* Without a prefix a server sends PING and ERROR only. */
	return (pks_be32(p, 0) == PKS_C4('P', 'I', 'N', 'G') || pks_be32(p, 0) == PKS_C4('E', 'R', 'R', 'O')) &&
	       pks_midt_word(p, 0, pks_midt_irc_command(p, 0));
}

/* ---- The rule ------------------------------------------------------------ */

/*
 * One row for the five protocols: the flow's port guess says whose grammar
 * the first line must have, and the window is checked once.
 */
static __always_inline int pks_sig_text_mid(const struct pks_payload *p, struct pks_match *m)
{
	__u16 rule;
	int ok;

	/* A TCP flow picked up mid-session, on the port of the protocol it is guessed to be. */
	if (p->len < PKS_MIDT_MIN || pks_mid_flow(p, p->flow_proto) != PKS_MID_PORT)
		return 0;
	switch (p->flow_proto) {
	case PKS_P_SMTP:
		ok = pks_midt_smtp(p);
		rule = PKS_R_SMTP_MID;
		break;
	case PKS_P_FTP:
		ok = pks_midt_ftp(p);
		rule = PKS_R_FTP_MID;
		break;
	case PKS_P_POP3:
		ok = pks_midt_pop3(p);
		rule = PKS_R_POP3_MID;
		break;
	case PKS_P_IMAP:
		ok = pks_midt_imap(p);
		rule = PKS_R_IMAP_MID;
		break;
	case PKS_P_IRC:
		ok = pks_midt_irc(p);
		rule = PKS_R_IRC_MID;
		break;
	default:
		return 0;
	}
	if (!ok || !pks_midt_lines(p))
		return 0;
	/* On the port the client is known: the line's grammar was its side's. */
	return pks_mid_match(p, m, p->flow_proto, rule, 0, PKS_MID_PORT,
			     p->from_client ? PKS_ROLE_CLIENT : PKS_ROLE_SERVER);
}

#endif
