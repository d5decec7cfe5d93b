/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Telnet option negotiation, RFC 854 ("TELNET COMMAND STRUCTURE") and
 * RFC 855: IAC (255) followed by WILL (251), WONT (252), DO (253) or DONT
 * (254) and an option code, or IAC SB option ... IAC SE (250 ... 240).
 * Both sides open with negotiations (telnetd sends DO TERMINAL-TYPE and
 * friends, the client answers WILL/WONT), so the message has no role and the
 * other side's negotiation confirms.
 * The payload must start with a negotiation of an option the IANA Telnet
 * option registry defines (0..49, or 255 EXOPL), and every command in the
 * window must be well formed: IAC, a command, an option, up to the end of the
 * window or the first data byte. Data may follow only after at least two
 * negotiations; a lone negotiation must be the whole segment (three random
 * bytes starting with IAC are too likely otherwise). Even then a segment of
 * one negotiation only is kept as state, not named (a random segment passed
 * once in 4.25 million random-payload flows); the next negotiation of either
 * side names the flow.
 * Servers that greet with text only are not recognised (not covered).
 */
#ifndef PKTSPEC_BPF_SIG_TELNET_H
#define PKTSPEC_BPF_SIG_TELNET_H

#include "sig.h"
#include "bytes.h"

#define PKS_TELNET_IAC 255
#define PKS_TELNET_SB 250
#define PKS_TELNET_WILL 251
#define PKS_TELNET_DONT 254
#define PKS_TELNET_OPT_MAX 49
#define PKS_TELNET_CMDS 8 /* negotiations walked: a telnetd opens with 4 to 6 */

static __always_inline int pks_telnet_opt_ok(__u8 o)
{
	return o <= PKS_TELNET_OPT_MAX || o == 255;
}

/*
 * WILL, WONT, DO, DONT (251-254). IAC IAC (255 255) is an escaped data byte,
 * not a command (RFC 854), so a run of 0xff bytes is no negotiation.
 */
static __always_inline int pks_telnet_negotiation_cmd(__u8 cmd)
{
	return cmd >= PKS_TELNET_WILL && cmd <= PKS_TELNET_DONT;
}

static __always_inline int pks_sig_telnet(const struct pks_payload *p, struct pks_match *m)
{
	__u32 i, off = 0, n = 0;

	if (p->len < 3 || p->b[0] != PKS_TELNET_IAC || !pks_telnet_negotiation_cmd(p->b[1]) || !pks_telnet_opt_ok(p->b[2]))
		return 0;
	for (i = 0; i < PKS_TELNET_CMDS; i++) {
		__u8 cmd = p->b[(off + 1) & PKS_WIN_MASK];

		if (off >= p->len)
			break;
		if (p->b[off & PKS_WIN_MASK] != PKS_TELNET_IAC) {
			if (n < 2)
				return 0; /* data after a single negotiation */
			break;
		}
		if (off + 3 > p->len)
			break; /* cut by the window */
		if (pks_telnet_negotiation_cmd(cmd)) {
			if (!pks_telnet_opt_ok(p->b[(off + 2) & PKS_WIN_MASK]))
				return 0;
			off += 3;
			n++;
		} else if (cmd == PKS_TELNET_SB) {
			/* Subnegotiation: only its option is checked; stop walking here. */
			if (!pks_telnet_opt_ok(p->b[(off + 2) & PKS_WIN_MASK]))
				return 0;
			break;
		} else {
			return 0;
		}
	}
	if (n == 1 && p->total != 3)
		return 0;
	if (n == 1 && PKS_COOKIE_TAG(p->cookie) != PKS_TAG_TELNET) {
		m->cookie = PKS_TAG_COOKIE(PKS_TAG_TELNET, 0);
		m->set_cookie = 1;
		return pks_match_state_only(m);
	}
	return pks_match_set(m, PKS_P_TELNET, PKS_R_TELNET_NEGOTIATION, PKS_ROLE_ANY);
}

#endif
