/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * POP3, RFC 1939.
 *  - Greeting (4): "+OK" and a text, e.g. "+OK Dovecot ready.". A bare
 *    "+OK" CRLF is not taken as a greeting: it is also Redis's simple-string
 *    reply (RESP), which would otherwise block Redis confirmations.
 *  - Commands (3, 7; RFC 2449 5 CAPA; RFC 2595 4 STLS; RFC 5034 4 AUTH):
 *    CAPA, STLS and APOP are POP3's alone; USER, PASS, AUTH and QUIT are
 *    taken as POP3 only after a POP3 greeting (cookie), because FTP and SMTP
 *    have them too. This runs before ftp.h for that reason.
 *  - After a greeting or command, "+OK"/"-ERR" replies confirm.
 *  - On port 110, a flow picked up mid-session (no SYN seen) shows replies,
 *    not its greeting: "+OK" with a text is left to midtext.h there.
 */
#ifndef PKTSPEC_BPF_SIG_POP3_H
#define PKTSPEC_BPF_SIG_POP3_H

#include "text.h"

static __always_inline int pks_sig_pop3(const struct pks_payload *p, struct pks_match *m)
{
	int pop3_seen = PKS_TA_COOKIE_IS(p->cookie, PKS_P_POP3);
	__u32 w;
	int cmd = 0;

	if (p->len < 5)
		return 0;
	w = pks_be32(p, 0);
	/* Picked up mid-session on POP3's port, "+OK" and a text is a reply: midtext.h reads it. */
	if (w == PKS_C4('+', 'O', 'K', ' ') && pks_is_print(p->b[4]) && !pks_mid_on_port(p, PKS_P_POP3)) {
		m->cookie = PKS_TA_COOKIE(PKS_P_POP3, 0);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_POP3, PKS_R_POP3_GREETING, PKS_ROLE_SERVER);
	}
	if (pop3_seen && ((w == PKS_C4('+', 'O', 'K', '\r') && p->b[4] == '\n') ||
			  (w == PKS_C4('-', 'E', 'R', 'R') && (p->b[4] == ' ' || p->b[4] == '\r'))))
		return pks_match_set(m, PKS_P_POP3, PKS_R_POP3_REPLY, PKS_ROLE_SERVER);

	switch (pks_upper4(p, 0)) {
	case PKS_C4('C', 'A', 'P', 'A'):
	case PKS_C4('S', 'T', 'L', 'S'):
		cmd = p->b[4] == '\r' && p->b[5] == '\n';
		break;
	case PKS_C4('A', 'P', 'O', 'P'):
		/* APOP name SP digest: the digest is 32 hex digits (7). */
		cmd = p->b[4] == ' ' && pks_is_print(p->b[5]) && p->total >= 4 + 1 + 1 + 1 + 32 + 2;
		break;
	case PKS_C4('U', 'S', 'E', 'R'):
	case PKS_C4('P', 'A', 'S', 'S'):
	case PKS_C4('A', 'U', 'T', 'H'):
	case PKS_C4('Q', 'U', 'I', 'T'):
		cmd = pop3_seen && pks_word_end(p, 4);
		break;
	}
	if (!cmd)
		return 0;
	m->cookie = PKS_TA_COOKIE(PKS_P_POP3, 0);
	m->set_cookie = 1;
	return pks_match_set(m, PKS_P_POP3, PKS_R_POP3_COMMAND, PKS_ROLE_CLIENT);
}

#endif
