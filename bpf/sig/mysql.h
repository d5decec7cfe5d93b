/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * MySQL / MariaDB client/server protocol, connection phase (MySQL source
 * documentation "Client/Server Protocol": "MySQL Packets", "Protocol::HandshakeV10",
 * "Protocol::HandshakeResponse41", "Protocol::SSLRequest"; MariaDB's
 * "Connection" page describes the same packets).
 *  - Every packet: 3-byte little-endian payload length, 1-byte sequence id.
 *  - The server speaks first: sequence 0, protocol version 10, a
 *    NUL-terminated version string of printable bytes starting with a digit,
 *    4-byte connection id, 8 bytes of auth-plugin-data, a 0x00 filler, and the
 *    lower capability flags with CLIENT_PROTOCOL_41 (0x0200). The greeting is
 *    sent alone, so its length fills the packet.
 *  - The client answers with HandshakeResponse41 or SSLRequest: sequence 1,
 *    capability flags with CLIENT_PROTOCOL_41, max packet size, character set
 *    and 23 zero filler bytes; it confirms.
 */
#ifndef PKTSPEC_BPF_SIG_MYSQL_H
#define PKTSPEC_BPF_SIG_MYSQL_H

#include "sig.h"
#include "bytes.h"

#define PKS_MYSQL_PROTOCOL_41 0x0200
#define PKS_MYSQL_VERSION_MAX 43 /* NUL at offset <= 48 keeps the filler and flags in the window */

static __always_inline int pks_mysql_greeting(const struct pks_payload *p, struct pks_match *m, __u32 len)
{
	__u32 i, nul = 0;

	if (len < 40 || len > 1024 || len + 4 != p->total || p->b[4] != 10 || !pks_is_digit(p->b[5]))
		return 0;
	for (i = 6; i < 6 + PKS_MYSQL_VERSION_MAX; i++) {
		__u8 c = p->b[i & PKS_WIN_MASK];

		if (c == 0) {
			nul = i;
			break;
		}
		if (c < 0x20 || c > 0x7e)
			return 0;
	}
	if (!nul)
		return 0;
	/* connection id (4) and auth-plugin-data-part-1 (8), then the filler. */
	if (p->b[(nul + 13) & PKS_WIN_MASK] != 0 || !(pks_le16(p, nul + 14) & PKS_MYSQL_PROTOCOL_41))
		return 0;
	return pks_match_set(m, PKS_P_MYSQL, PKS_R_MYSQL_GREETING, PKS_ROLE_SERVER);
}

static __always_inline int pks_sig_mysql(const struct pks_payload *p, struct pks_match *m)
{
	__u32 len, i;

	if (p->l4 != IPPROTO_TCP || p->len < 36)
		return 0;
	len = pks_le24(p, 0);
	if (p->b[3] == 0)
		return pks_mysql_greeting(p, m, len);
	if (p->b[3] != 1 || len < 32 || len + 4 > p->total)
		return 0;
	/* HandshakeResponse41 / SSLRequest: flags 4, max packet 4, charset 1, filler 23 zeros. */
	if (!(pks_le32(p, 4) & PKS_MYSQL_PROTOCOL_41) || p->b[12] == 0)
		return 0;
	for (i = 13; i < 36; i++)
		if (p->b[i])
			return 0;
	return pks_match_set(m, PKS_P_MYSQL, PKS_R_MYSQL_LOGIN, PKS_ROLE_CLIENT);
}

#endif
