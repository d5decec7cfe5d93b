/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * SMTP, RFC 5321.
 *  - Greeting (4.2, 4.3.1): reply code 220, SP or "-", text. FTP greets with
 *    220 too, so the greeting names SMTP only when its text holds "SMTP"
 *    (also matching "ESMTP", which Postfix, Exim, Sendmail and Exchange send);
 *    any other 220 greeting is left to the client's command.
 *  - The client's first command is EHLO or HELO (4.1.4) with a domain or an
 *    address literal (4.1.1.1): this separates SMTP from FTP explicitly.
 *  - After a greeting or hello was seen (cookie), a reply line from the server
 *    and the client's later commands (MAIL, STARTTLS, AUTH, QUIT, ...) confirm.
 * Port 587 (RFC 6409) speaks the same. LMTP (LHLO) is not SMTP.
 */
#ifndef PKTSPEC_BPF_SIG_SMTP_H
#define PKTSPEC_BPF_SIG_SMTP_H

#include "text.h"

static __always_inline int pks_smtp_command(const struct pks_payload *p, int smtp_seen)
{
	__u32 w = pks_upper4(p, 0);
	__u8 c = p->b[5];

	switch (w) {
	case PKS_C4('E', 'H', 'L', 'O'):
	case PKS_C4('H', 'E', 'L', 'O'):
		/* Domain or address literal "[" (4.1.3). */
		return p->b[4] == ' ' && (pks_is_alpha(c) || pks_is_digit(c) || c == '[');
	case PKS_C4('M', 'A', 'I', 'L'):
	case PKS_C4('R', 'C', 'P', 'T'):
	case PKS_C4('S', 'T', 'A', 'R'): /* STARTTLS, RFC 3207 4 */
	case PKS_C4('A', 'U', 'T', 'H'): /* RFC 4954 4 */
	case PKS_C4('Q', 'U', 'I', 'T'):
	case PKS_C4('R', 'S', 'E', 'T'):
	case PKS_C4('N', 'O', 'O', 'P'):
		return smtp_seen;
	}
	return 0;
}

static __always_inline int pks_sig_smtp(const struct pks_payload *p, struct pks_match *m)
{
	int smtp_seen = PKS_TA_COOKIE_IS(p->cookie, PKS_P_SMTP);
	__u32 code;

	if (p->len < 5)
		return 0;
	code = pks_reply_code(p);
	if (code) {
		if (code == 220 && pks_find4(p, 4, PKS_C4('S', 'M', 'T', 'P'))) {
			m->cookie = PKS_TA_COOKIE(PKS_P_SMTP, 0);
			m->set_cookie = 1;
			return pks_match_set(m, PKS_P_SMTP, PKS_R_SMTP_GREETING, PKS_ROLE_SERVER);
		}
		if (smtp_seen)
			return pks_match_set(m, PKS_P_SMTP, PKS_R_SMTP_REPLY, PKS_ROLE_SERVER);
		return 0;
	}
	if (pks_smtp_command(p, smtp_seen)) {
		m->cookie = PKS_TA_COOKIE(PKS_P_SMTP, 0);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_SMTP, PKS_R_SMTP_COMMAND, PKS_ROLE_CLIENT);
	}
	return 0;
}

#endif
