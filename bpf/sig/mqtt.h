/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * MQTT 3.1, 3.1.1 and 5.0 (OASIS MQTT 3.1.1 sections 2.2 "Fixed header",
 * 3.1 "CONNECT", 3.2 "CONNACK"; MQTT 5.0 sections 3.1 and 3.2).
 *  - CONNECT: first byte 0x10 (type 1, flags 0), a Remaining Length of 1..4
 *    bytes (2.2.3), then the protocol name as a UTF-8 string: "MQTT" with
 *    level 4 (3.1.1) or 5, or "MQIsdp" with level 3 (3.1). Connect flags
 *    (3.1.2.3): reserved bit 0 clear; without the Will flag, Will QoS and Will
 *    Retain are 0; Will QoS is never 3; in 3.1.x a password needs a user name.
 *  - CONNACK: 0x20, Remaining Length 2 (3.1.x) or at least 3 (5.0, with
 *    properties), acknowledge flags 0 or 1, and a return code 0..5 (3.1.x)
 *    or a 5.0 reason code (0x00 or 0x80..0x9F). Taken only after a CONNECT
 *    of ours, whose level is the cookie; it confirms.
 */
#ifndef PKTSPEC_BPF_SIG_MQTT_H
#define PKTSPEC_BPF_SIG_MQTT_H

#include "sig.h"
#include "bytes.h"

#define PKS_MQTT_VARINT_MAX 4 /* Remaining Length is at most 4 bytes (2.2.3) */

/* Decodes the Remaining Length at offset 1; returns the header size (2..5) or 0. */
static __always_inline __u32 pks_mqtt_remaining(const struct pks_payload *p, __u32 *rl)
{
	__u32 i, v = 0;

	for (i = 0; i < PKS_MQTT_VARINT_MAX; i++) {
		__u8 c = p->b[1 + i];

		v |= (__u32)(c & 0x7f) << (7 * i);
		if (!(c & 0x80)) {
			*rl = v;
			return 2 + i;
		}
	}
	return 0;
}

static __always_inline int pks_sig_mqtt(const struct pks_payload *p, struct pks_match *m)
{
	__u32 rl = 0, h, level, flags, name;

	if (p->l4 != IPPROTO_TCP || p->len < 4)
		return 0;
	if (p->b[0] == 0x20 && PKS_COOKIE_TAG(p->cookie) == PKS_TAG_MQTT) {
		level = p->cookie & 0xff;
		rl = p->b[1];
		if (p->b[2] > 1 || 2 + rl > p->total)
			return 0;
		if (level == 5 ? (rl < 3 || (p->b[3] != 0 && (p->b[3] < 0x80 || p->b[3] > 0x9f)))
			       : (rl != 2 || p->b[3] > 5))
			return 0;
		return pks_match_set(m, PKS_P_MQTT, PKS_R_MQTT_CONNACK, PKS_ROLE_SERVER);
	}
	if (p->b[0] != 0x10 || p->len < 14)
		return 0;
	h = pks_mqtt_remaining(p, &rl);
	if (!h || rl < 12 || (h + rl < p->total && p->total - (h + rl) < 2))
		return 0;
	/* Protocol name length 4 "MQTT" or 6 "MQIsdp", then the level and the flags. */
	name = pks_be16(p, h);
	if (name == 4 && pks_be32(p, h + 2) == PKS_C4('M', 'Q', 'T', 'T')) {
		level = p->b[(h + 6) & PKS_WIN_MASK];
		flags = p->b[(h + 7) & PKS_WIN_MASK];
		if (level != 4 && level != 5)
			return 0;
	} else if (name == 6 && pks_be32(p, h + 2) == PKS_C4('M', 'Q', 'I', 's') &&
		   pks_be16(p, h + 6) == ('d' << 8 | 'p')) {
		level = p->b[(h + 8) & PKS_WIN_MASK];
		flags = p->b[(h + 9) & PKS_WIN_MASK];
		if (level != 3)
			return 0;
	} else {
		return 0;
	}
	if ((flags & 0x01) || ((flags & 0x18) == 0x18) || (!(flags & 0x04) && (flags & 0x38)))
		return 0;
	if (level != 5 && (flags & 0x40) && !(flags & 0x80))
		return 0;
	m->cookie = PKS_TAG_COOKIE(PKS_TAG_MQTT, level);
	m->set_cookie = 1;
	return pks_match_set(m, PKS_P_MQTT, PKS_R_MQTT_CONNECT, PKS_ROLE_CLIENT);
}

#endif
