/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * IMAP, RFC 9051 (IMAP4rev2) and RFC 3501 (IMAP4rev1).
 *  - Greeting (7.1, formal syntax "greeting"): "* OK ", "* PREAUTH " or
 *    "* BYE " (untagged status response). Every IMAP server opens with one,
 *    so a server's first payload that is none of them contradicts the port.
 *  - Client commands (6, formal syntax "command"): tag SP command, where a
 *    tag is 1..n ASTRING-CHAR except "+" (no SP, CTL, "(", ")", "{", "%",
 *    "*", '"', "\"). Commands are case-insensitive; those a client sends
 *    first are recognised: CAPABILITY, LOGIN, AUTHENTICATE, STARTTLS, ID
 *    (RFC 2971), NOOP, LOGOUT.
 *  - After a greeting or command (cookie), an untagged "* WORD" response
 *    confirms.
 *  - On port 143, a flow picked up mid-session (no SYN seen) shows neither
 *    greeting nor first command: "* OK" there is a later status (Dovecot's
 *    IDLE keepalive "* OK Still here"), NOOP a later command. Its lines are
 *    left to midtext.h.
 */
#ifndef PKTSPEC_BPF_SIG_IMAP_H
#define PKTSPEC_BPF_SIG_IMAP_H

#include "text.h"

#define PKS_IMAP_TAG_MAX 16 /* tags are short counters: "a001", "1", "A1" */

static __always_inline int pks_imap_tag_char(__u8 c)
{
	return pks_is_print(c) && c != ' ' && c != '(' && c != ')' && c != '{' && c != '%' && c != '*' &&
	       c != '"' && c != '\\' && c != '+';
}

/* The length of the tag starting the line (formal syntax "tag"), when a space follows it; else 0. */
static __always_inline __u32 pks_imap_tag(const struct pks_payload *p)
{
	__u32 i, n = 0;

	for (i = 0; i < PKS_IMAP_TAG_MAX; i++) {
		if (!pks_imap_tag_char(p->b[i]))
			break;
		n++;
	}
	if (n == 0 || n >= PKS_IMAP_TAG_MAX || p->b[n & PKS_WIN_MASK] != ' ')
		return 0;
	return n;
}

/* Whether the command word at off is one a client sends first, followed by SP or CRLF. */
static __always_inline int pks_imap_command(const struct pks_payload *p, __u32 off)
{
	__u32 w = pks_upper4(p, off);

	switch (w) {
	case PKS_C4('C', 'A', 'P', 'A'): /* CAPABILITY */
		return pks_upper4(p, off + 4) == PKS_C4('B', 'I', 'L', 'I') &&
		       pks_upper(p->b[(off + 8) & PKS_WIN_MASK]) == 'T' &&
		       pks_upper(p->b[(off + 9) & PKS_WIN_MASK]) == 'Y' && pks_word_end(p, off + 10);
	case PKS_C4('L', 'O', 'G', 'I'): /* LOGIN */
		return pks_upper(p->b[(off + 4) & PKS_WIN_MASK]) == 'N' && p->b[(off + 5) & PKS_WIN_MASK] == ' ';
	case PKS_C4('L', 'O', 'G', 'O'): /* LOGOUT */
		return pks_upper(p->b[(off + 4) & PKS_WIN_MASK]) == 'U' &&
		       pks_upper(p->b[(off + 5) & PKS_WIN_MASK]) == 'T' && pks_word_end(p, off + 6);
	case PKS_C4('A', 'U', 'T', 'H'): /* AUTHENTICATE */
		return pks_upper4(p, off + 4) == PKS_C4('E', 'N', 'T', 'I') &&
		       pks_upper4(p, off + 8) == PKS_C4('C', 'A', 'T', 'E') && p->b[(off + 12) & PKS_WIN_MASK] == ' ';
	case PKS_C4('S', 'T', 'A', 'R'): /* STARTTLS */
		return pks_upper4(p, off + 4) == PKS_C4('T', 'T', 'L', 'S') && pks_word_end(p, off + 8);
	case PKS_C4('N', 'O', 'O', 'P'):
		return pks_word_end(p, off + 4);
	}
	/* ID SP ( or ID SP NIL (RFC 2971 3.1). */
	if ((w & 0xffffff00) == PKS_C4('I', 'D', ' ', 0))
		return p->b[(off + 3) & PKS_WIN_MASK] == '(' || pks_upper4(p, off + 3) == PKS_C4('N', 'I', 'L', '\r');
	return 0;
}

static __always_inline int pks_sig_imap(const struct pks_payload *p, struct pks_match *m)
{
	__u32 tag_len;

	if (p->len < 6 || pks_mid_on_port(p, PKS_P_IMAP))
		return 0;
	if (p->b[0] == '*' && p->b[1] == ' ') {
		__u32 w = pks_be32(p, 2);

		if (w == PKS_C4('O', 'K', ' ', p->b[5]) ||
		    (w == PKS_C4('B', 'Y', 'E', ' ')) ||
		    (w == PKS_C4('P', 'R', 'E', 'A') && pks_be32(p, 6) == PKS_C4('U', 'T', 'H', ' '))) {
			if (w == PKS_C4('O', 'K', ' ', p->b[5]) && !pks_is_print(p->b[5]))
				return 0;
			m->cookie = PKS_TA_COOKIE(PKS_P_IMAP, 0);
			m->set_cookie = 1;
			return pks_match_set(m, PKS_P_IMAP, PKS_R_IMAP_GREETING, PKS_ROLE_SERVER);
		}
		/* Untagged data ("* CAPABILITY ...") once the flow is IMAP. */
		if (PKS_TA_COOKIE_IS(p->cookie, PKS_P_IMAP) && pks_is_upper(p->b[2]) && pks_is_upper(p->b[3]))
			return pks_match_set(m, PKS_P_IMAP, PKS_R_IMAP_RESPONSE, PKS_ROLE_SERVER);
		return 0;
	}

	tag_len = pks_imap_tag(p);
	if (!tag_len)
		return 0;
	if (!pks_imap_command(p, tag_len + 1))
		return 0;
	m->cookie = PKS_TA_COOKIE(PKS_P_IMAP, 0);
	m->set_cookie = 1;
	return pks_match_set(m, PKS_P_IMAP, PKS_R_IMAP_COMMAND, PKS_ROLE_CLIENT);
}

#endif
