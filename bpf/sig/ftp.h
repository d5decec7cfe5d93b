/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * FTP control connection, RFC 959.
 *  - Server replies (4.2): three digits, then SP or "-" for a multi-line reply.
 *    The greeting is 220 (5.4, "Connection Establishment"). SMTP greets with
 *    220 too (RFC 5321 4.3.1), so a 220 greeting names FTP only when its text
 *    says "FTP" and not "SMTP" (vsFTPd, ProFTPD, Pure-FTPd, "Microsoft FTP
 *    Service" all do); any other 220 greeting is left to the client's command.
 *  - Client commands (4.1, 5.3.1): a command word, then SP and an argument or
 *    CRLF. A first command that only FTP has: USER with an argument, AUTH
 *    TLS/SSL (RFC 4217 4), FEAT (RFC 2389 3), SYST, OPTS (RFC 2389 4), HOST
 *    (RFC 7151 3), CLNT. USER is also POP3's: pop3.h takes it when the flow's
 *    greeting was "+OK" (it runs first), so here it means FTP.
 *  - A reply after a client command confirms (cookie: "an FTP command was seen").
 * Explicit FTP/SMTP separation: greeting text ("FTP" vs "SMTP"), and the
 * client's first command (EHLO/HELO is SMTP's, the list above FTP's).
 */
#ifndef PKTSPEC_BPF_SIG_FTP_H
#define PKTSPEC_BPF_SIG_FTP_H

#include "text.h"

/* Whether the window starts with an FTP command a client sends first (or any, when any_cmd). */
static __always_inline int pks_ftp_command(const struct pks_payload *p, int any_cmd)
{
	__u32 w = pks_upper4(p, 0);

	switch (w) {
	case PKS_C4('U', 'S', 'E', 'R'):
		/* USER SP username: a printable, non-space first character. */
		return p->b[4] == ' ' && pks_is_print(p->b[5]) && p->b[5] != ' ';
	case PKS_C4('A', 'U', 'T', 'H'):
		/* AUTH TLS, AUTH SSL, AUTH TLS-C, AUTH TLS-P (RFC 4217 4). */
		if (p->b[4] != ' ')
			return 0;
		w = pks_upper4(p, 5);
		return (w & 0xffffff00) == PKS_C4('T', 'L', 'S', 0) || (w & 0xffffff00) == PKS_C4('S', 'S', 'L', 0);
	case PKS_C4('F', 'E', 'A', 'T'):
	case PKS_C4('S', 'Y', 'S', 'T'):
		return p->b[4] == '\r' && p->b[5] == '\n';
	case PKS_C4('O', 'P', 'T', 'S'):
	case PKS_C4('H', 'O', 'S', 'T'):
	case PKS_C4('C', 'L', 'N', 'T'):
		return p->b[4] == ' ' && pks_is_alpha(p->b[5]);
	case PKS_C4('P', 'A', 'S', 'S'):
	case PKS_C4('P', 'B', 'S', 'Z'):
	case PKS_C4('P', 'R', 'O', 'T'):
	case PKS_C4('T', 'Y', 'P', 'E'):
	case PKS_C4('P', 'A', 'S', 'V'):
	case PKS_C4('E', 'P', 'S', 'V'):
	case PKS_C4('P', 'O', 'R', 'T'):
	case PKS_C4('E', 'P', 'R', 'T'):
	case PKS_C4('L', 'I', 'S', 'T'):
	case PKS_C4('R', 'E', 'T', 'R'):
	case PKS_C4('S', 'T', 'O', 'R'):
	case PKS_C4('Q', 'U', 'I', 'T'):
		/* Later commands: only on a flow already shown to be FTP. */
		return any_cmd && pks_word_end(p, 4);
	}
	return 0;
}

static __always_inline int pks_sig_ftp(const struct pks_payload *p, struct pks_match *m)
{
	int ftp_seen = PKS_TA_COOKIE_IS(p->cookie, PKS_P_FTP);
	__u32 code;

	if (p->len < 5)
		return 0;
	code = pks_reply_code(p);
	if (code) {
		if (code == 220 && pks_find3(p, 4, PKS_C4(0, 'F', 'T', 'P')) && !pks_find4(p, 4, PKS_C4('S', 'M', 'T', 'P'))) {
			m->cookie = PKS_TA_COOKIE(PKS_P_FTP, 0);
			m->set_cookie = 1;
			return pks_match_set(m, PKS_P_FTP, PKS_R_FTP_GREETING, PKS_ROLE_SERVER);
		}
		if (ftp_seen)
			return pks_match_set(m, PKS_P_FTP, PKS_R_FTP_REPLY, PKS_ROLE_SERVER);
		return 0;
	}
	if (pks_ftp_command(p, ftp_seen)) {
		m->cookie = PKS_TA_COOKIE(PKS_P_FTP, 0);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_FTP, PKS_R_FTP_COMMAND, PKS_ROLE_CLIENT);
	}
	return 0;
}

#endif
