/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * IRC, RFC 2812 (client protocol) and RFC 1459, with IRCv3 capability
 * negotiation ("CAP LS", ircv3.net capability negotiation).
 *  - Messages (2.3.1): [":" prefix SP] command params CRLF.
 *  - A client registers first (3.1): "CAP LS" or "CAP REQ", "PASS " with a
 *    password, "NICK " with a nickname (letter or special "[]\`_^{|}" first,
 *    2.3.1), or "USER user mode unused :realname" (3.1.3: four parameters,
 *    the last after " :"; FTP's and POP3's USER take one).
 *  - A server's first message has its name as prefix and a NOTICE, a
 *    three-digit numeric reply or CAP (":irc.example.net NOTICE * :***
 *    Looking up your hostname"), or is the older "NOTICE AUTH :".
 * The other side's message confirms (roles differ).
 * On port 6667, a flow picked up mid-session (no SYN seen) shows later
 * messages, which the server's first-message grammar also fits (a numeric
 * reply, a NOTICE): its lines are left to midtext.h.
 */
#ifndef PKTSPEC_BPF_SIG_IRC_H
#define PKTSPEC_BPF_SIG_IRC_H

#include "text.h"
#include "bytes.h"

#define PKS_IRC_PREFIX_MAX 40 /* server name length walked in the window */
#define PKS_IRC_USER_SCAN 40

static __always_inline int pks_irc_nick_first(__u8 c)
{
	return pks_is_alpha(c) || (c >= '[' && c <= '`') || (c >= '{' && c <= '}');
}

static __always_inline int pks_irc_host_char(__u8 c)
{
	return pks_is_alpha(c) || pks_is_digit(c) || c == '.' || c == '-' || c == ':' || c == '_';
}

/*
 * USER user mode unused :realname: three spaces, then " :" before the line
 * ends. Branch-free over the scan (bytes.h): a mask of spaces and one of
 * bytes that are not printable (also the zeros past the payload); the third
 * space is the lowest bit left after clearing the lowest two, and every byte
 * up to it must be printable.
 */
static __always_inline int pks_irc_user(const struct pks_payload *p)
{
	__u64 sp = 0, bad = 0, third;
	__u32 i;

	for (i = 0; i < PKS_IRC_USER_SCAN; i++) {
		__u32 c = p->b[(5 + i) & PKS_WIN_MASK];

		sp |= pks_is(c, ' ') << i;
		bad |= (pks_in_range(c, 0x20, 0x7e) ^ 1) << i;
	}
	sp &= sp - 1;
	sp &= sp - 1;
	third = sp & -sp;
	if (!third || (bad & ((third << 1) - 1)))
		return 0;
	return p->b[(5 + pks_popcount64(third - 1) + 1) & PKS_WIN_MASK] == ':';
}

static __always_inline int pks_irc_client(const struct pks_payload *p)
{
	switch (pks_be32(p, 0)) {
	case PKS_C4('N', 'I', 'C', 'K'):
		return p->b[4] == ' ' && pks_irc_nick_first(p->b[5]);
	case PKS_C4('C', 'A', 'P', ' '):
		return (p->b[4] == 'L' && p->b[5] == 'S' && pks_word_end(p, 6)) ||
		       (pks_be32(p, 4) == PKS_C4('R', 'E', 'Q', ' '));
	case PKS_C4('P', 'A', 'S', 'S'):
		/* "PASS :secret" or "PASS secret", then the registration follows. */
		return p->b[4] == ' ' && pks_is_print(p->b[5]) && p->b[5] != ' ' &&
		       (pks_find4(p, 6, PKS_C4('N', 'I', 'C', 'K')) || pks_find4(p, 6, PKS_C4('C', 'A', 'P', ' ')));
	case PKS_C4('U', 'S', 'E', 'R'):
		return p->b[4] == ' ' && pks_irc_user(p);
	}
	return 0;
}

static __always_inline int pks_irc_server(const struct pks_payload *p)
{
	__u32 i, at = 0;

	if (pks_be32(p, 0) == PKS_C4('N', 'O', 'T', 'I') && pks_be32(p, 4) == PKS_C4('C', 'E', ' ', 'A') &&
	    pks_be32(p, 8) == PKS_C4('U', 'T', 'H', ' '))
		return 1;
	if (p->b[0] != ':' || !pks_irc_host_char(p->b[1]))
		return 0;
	for (i = 1; i < PKS_IRC_PREFIX_MAX; i++) {
		__u8 c = p->b[i];

		if (c == ' ') {
			at = i + 1;
			break;
		}
		if (!pks_irc_host_char(c))
			return 0;
	}
	if (!at || at + 4 > p->len)
		return 0;
	if (pks_be32(p, at) == PKS_C4('N', 'O', 'T', 'I') && pks_be32(p, at + 3) == PKS_C4('I', 'C', 'E', ' '))
		return 1;
	if (pks_be32(p, at) == PKS_C4('C', 'A', 'P', ' '))
		return 1;
	return pks_is_digit(p->b[at & PKS_WIN_MASK]) && pks_is_digit(p->b[(at + 1) & PKS_WIN_MASK]) &&
	       pks_is_digit(p->b[(at + 2) & PKS_WIN_MASK]) && p->b[(at + 3) & PKS_WIN_MASK] == ' ';
}

/* Two entry points: a client's registration and a server's first line, two rows of the table. */
static __always_inline int pks_sig_irc_client(const struct pks_payload *p, struct pks_match *m)
{
	if (p->len < 8 || !pks_irc_client(p))
		return 0;
	return pks_match_set(m, PKS_P_IRC, PKS_R_IRC_REGISTRATION, PKS_ROLE_CLIENT);
}

static __always_inline int pks_sig_irc_server(const struct pks_payload *p, struct pks_match *m)
{
	if (p->len < 8 || pks_mid_on_port(p, PKS_P_IRC) || !pks_irc_server(p))
		return 0;
	return pks_match_set(m, PKS_P_IRC, PKS_R_IRC_SERVER, PKS_ROLE_SERVER);
}

#endif
