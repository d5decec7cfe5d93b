/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * SMB over TCP, and the NetBIOS session service that carries it on 139.
 *  - Direct TCP (MS-SMB2 2.1; MS-CIFS 2.1.1.2 for 445): a zero byte and a
 *    24-bit length, then the SMB message. NetBIOS session messages (RFC 1002
 *    4.3.1) look the same with a 17-bit length: type 0x00, flags 0 or 1.
 *  - SMB 1 header (MS-CIFS 2.2.3.1): "\xFFSMB", command, ...; Flags
 *    bit 0x80 (SMB_FLAGS_REPLY) says response. Length at least the 32-byte
 *    header, plus WordCount and ByteCount.
 *  - SMB 2/3 header (MS-SMB2 2.2.1): "\xFESMB", StructureSize 64, command
 *    below 0x13; Flags bit 0x1 (SMB2_FLAGS_SERVER_TO_REDIRECTOR) says
 *    response. Encrypted ("\xFDSMB", transform header 2.2.41) and compressed
 *    ("\xFCSMB", 2.2.42) messages are SMB 3, with no role.
 *  - NetBIOS session request on 139 (RFC 1002 4.3.2): type 0x81, length 68:
 *    two first-level encoded names (RFC 1001 14.1), each a length byte 32,
 *    32 letters 'A'..'P' and a zero. The positive response (0x82, 4.3.3) is
 *    four bytes and confirms after the request. Such a flow is "netbios"
 *    (the session service); a client that skips the request and sends SMB at
 *    once on 139 gives "smb"/"smb2" like 445.
 * SMB 1 and 2 are told apart by the protocol ID only; a client that opens with
 * an SMB 1 NEGOTIATE offering SMB 2 dialects stays "smb" (its first message).
 */
#ifndef PKTSPEC_BPF_SIG_SMB_H
#define PKTSPEC_BPF_SIG_SMB_H

#include "text.h"

#define PKS_NBSS_MESSAGE 0x00
#define PKS_NBSS_REQUEST 0x81
#define PKS_NBSS_POSITIVE 0x82
#define PKS_NBSS_NAME_LEN 34 /* length byte 32, 32 half-octet letters, terminating zero */
#define PKS_NBSS_NAME_CHECK 24 /* letters of the called name checked within the window */
#define PKS_SMB1_HDR 32
#define PKS_SMB2_HDR 64
#define PKS_SMB2_CMD_MAX 0x12

static __always_inline int pks_nbss_name_ok(const struct pks_payload *p)
{
	__u32 i;

	if (p->b[4] != 32)
		return 0;
	for (i = 0; i < PKS_NBSS_NAME_CHECK; i++) {
		__u8 c = p->b[(5 + i) & PKS_WIN_MASK];

		if (c < 'A' || c > 'P')
			return 0;
	}
	return 1;
}

static __always_inline int pks_sig_smb(const struct pks_payload *p, struct pks_match *m)
{
	__u32 len, id;
	__u8 type = p->b[0];

	if (p->len < 4)
		return 0;
	if (type == PKS_NBSS_REQUEST) {
		if (p->b[1] != 0 || pks_be16(p, 2) != 2 * PKS_NBSS_NAME_LEN || p->total != 4 + 2 * PKS_NBSS_NAME_LEN ||
		    p->len < 5 + PKS_NBSS_NAME_CHECK || !pks_nbss_name_ok(p))
			return 0;
		m->cookie = PKS_TA_COOKIE(PKS_P_NETBIOS, 0);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_NETBIOS, PKS_R_NETBIOS_SESSION_REQUEST, PKS_ROLE_CLIENT);
	}
	if (type == PKS_NBSS_POSITIVE) {
		if (PKS_TA_COOKIE_IS(p->cookie, PKS_P_NETBIOS) && p->total == 4 && p->b[1] == 0 && pks_be16(p, 2) == 0)
			return pks_match_set(m, PKS_P_NETBIOS, PKS_R_NETBIOS_SESSION_RESPONSE, PKS_ROLE_SERVER);
		return 0;
	}
	if (type != PKS_NBSS_MESSAGE || p->len < 4 + PKS_SMB1_HDR)
		return 0;
	len = pks_be24(p, 1);
	id = pks_be32(p, 4);
	/* On 445 a flow picked up mid-session needs two messages (midstream.h). */
	if (pks_mid_on_port(p, PKS_P_SMB2) && id != PKS_C4(0xff, 'S', 'M', 'B'))
		return 0;
	if (id == PKS_C4(0xff, 'S', 'M', 'B')) {
		__u8 flags = p->b[4 + 9];

		if (len < PKS_SMB1_HDR + 3)
			return 0;
		return pks_match_set(m, PKS_P_SMB, PKS_R_SMB1_HEADER,
				     (flags & 0x80) ? PKS_ROLE_SERVER : PKS_ROLE_CLIENT);
	}
	if (id == PKS_C4(0xfe, 'S', 'M', 'B')) {
		if (len < PKS_SMB2_HDR || p->len < 4 + PKS_SMB2_HDR - 40 || p->b[8] != PKS_SMB2_HDR || p->b[9] != 0 ||
		    p->b[4 + 13] != 0 || p->b[4 + 12] > PKS_SMB2_CMD_MAX)
			return 0;
		return pks_match_set(m, PKS_P_SMB2, PKS_R_SMB2_HEADER,
				     (p->b[4 + 16] & 1) ? PKS_ROLE_SERVER : PKS_ROLE_CLIENT);
	}
	if (id == PKS_C4(0xfd, 'S', 'M', 'B') || id == PKS_C4(0xfc, 'S', 'M', 'B')) {
		/* Transform header 52 bytes, compression header 16 (MS-SMB2 2.2.41, 2.2.42). */
		if (len < 16 + 1)
			return 0;
		return pks_match_set(m, PKS_P_SMB2, PKS_R_SMB2_HEADER, PKS_ROLE_ANY);
	}
	return 0;
}

#endif
