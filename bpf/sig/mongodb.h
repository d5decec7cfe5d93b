/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * MongoDB wire protocol (MongoDB manual, "MongoDB Wire Protocol": "Standard
 * Message Header", "OP_MSG", and the legacy "OP_QUERY"/"OP_REPLY").
 *  - MsgHeader: int32 messageLength, requestID, responseTo, opCode, all
 *    little-endian. A request has responseTo 0, or -1 as some drivers and
 *    proxies send it (the manual defines responseTo for replies only, and a
 *    request answers nothing); its opCode is OP_MSG (2013),
 *    OP_QUERY (2004, still sent by drivers for the first "hello") or
 *    OP_COMPRESSED (2012). messageLength is at least the header and a minimal
 *    body and at most maxMessageSizeBytes (48 000 000).
 *  - OP_MSG: flagBits use only bits 0, 1 and 16 (the others are required to
 *    be zero), the first section kind is 0 (body) or 1 (document sequence);
 *    a kind 0 body starts with a BSON length that fits the message.
 *  - OP_QUERY: flags use only bits 1..7, then a NUL-terminated
 *    "db.collection" name of printable bytes.
 *  - A reply (OP_MSG or OP_REPLY = 1) has responseTo equal to the request's
 *    requestID, kept as the flow's cookie; it confirms.
 */
#ifndef PKTSPEC_BPF_SIG_MONGODB_H
#define PKTSPEC_BPF_SIG_MONGODB_H

#include "sig.h"
#include "bytes.h"

#define PKS_MONGO_OP_REPLY 1
#define PKS_MONGO_OP_QUERY 2004
#define PKS_MONGO_OP_COMPRESSED 2012
#define PKS_MONGO_OP_MSG 2013
#define PKS_MONGO_MAX 48000000
#define PKS_MONGO_HDR 16
#define PKS_MONGO_NAME_CHECK 24 /* collection name bytes checked */
/* requestID 0 would leave no cookie: keep it distinct from "unset". */
#define PKS_MONGO_COOKIE(id) ((id) ^ 0x6d6f6e67)

static __always_inline int pks_mongo_msg_body_ok(const struct pks_payload *p, __u32 len)
{
	__u32 flags = pks_le32(p, PKS_MONGO_HDR), bson;
	__u8 kind = p->b[PKS_MONGO_HDR + 4];

	if (flags & ~0x10003u)
		return 0;
	if (kind == 1)
		return 1;
	if (kind != 0)
		return 0;
	bson = pks_le32(p, PKS_MONGO_HDR + 5);
	/* A BSON document is at least 5 bytes and ends inside the message. */
	return bson >= 5 && bson <= len - PKS_MONGO_HDR - 5;
}

static __always_inline int pks_mongo_query_ok(const struct pks_payload *p)
{
	__u32 i, dot = 0;

	if (pks_le32(p, PKS_MONGO_HDR) & ~0xfeu)
		return 0;
	for (i = 0; i < PKS_MONGO_NAME_CHECK; i++) {
		__u8 c = p->b[(PKS_MONGO_HDR + 4 + i) & PKS_WIN_MASK];

		if (c == 0)
			return dot && i > dot; /* "db.coll" */
		if (c == '.' && !dot && i > 0)
			dot = i;
		else if (c < 0x21 || c > 0x7e)
			return 0;
	}
	return dot != 0; /* long name: the part seen was well formed */
}

static __always_inline int pks_sig_mongodb(const struct pks_payload *p, struct pks_match *m)
{
	__u32 len, id, to, op;

	if (p->l4 != IPPROTO_TCP || p->len < PKS_MONGO_HDR + 9)
		return 0;
	len = pks_le32(p, 0);
	id = pks_le32(p, 4);
	to = pks_le32(p, 8);
	op = pks_le32(p, 12);
	if (len < PKS_MONGO_HDR + 9 || len > PKS_MONGO_MAX)
		return 0;
	/* A small message is sent whole; a large one fills the segment it starts. */
	if (len < p->total && p->total - len < PKS_MONGO_HDR)
		return 0;

	if (to == 0 || to == 0xffffffff) {
		if (op == PKS_MONGO_OP_MSG) {
			if (!pks_mongo_msg_body_ok(p, len))
				return 0;
		} else if (op == PKS_MONGO_OP_QUERY) {
			if (!pks_mongo_query_ok(p))
				return 0;
		} else if (op == PKS_MONGO_OP_COMPRESSED) {
			/* originalOpcode, uncompressedSize, compressorId 0..3 (snappy, zlib, zstd). */
			__u32 orig = pks_le32(p, PKS_MONGO_HDR);

			if ((orig != PKS_MONGO_OP_MSG && orig != PKS_MONGO_OP_QUERY) || p->b[PKS_MONGO_HDR + 8] > 3)
				return 0;
		} else {
			return 0;
		}
		m->cookie = PKS_MONGO_COOKIE(id);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_MONGODB, PKS_R_MONGODB_REQUEST, PKS_ROLE_CLIENT);
	}

	/* Reply: responseTo names a request of this flow. */
	if (p->flow_proto != PKS_P_MONGODB || p->cookie != PKS_MONGO_COOKIE(to))
		return 0;
	if (op == PKS_MONGO_OP_MSG && !pks_mongo_msg_body_ok(p, len))
		return 0;
	if (op == PKS_MONGO_OP_REPLY && (pks_le32(p, PKS_MONGO_HDR) & ~0xfu))
		return 0;
	if (op != PKS_MONGO_OP_MSG && op != PKS_MONGO_OP_REPLY && op != PKS_MONGO_OP_COMPRESSED)
		return 0;
	return pks_match_set(m, PKS_P_MONGODB, PKS_R_MONGODB_REPLY, PKS_ROLE_SERVER);
}

#endif
