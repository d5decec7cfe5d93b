/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Mid-session recognition: a flow first seen without its handshake (TCP with
 * no SYN seen, p->flow_mid; or a UDP flow) shows continuation messages, not
 * the opening ones the other signatures look for. Framed protocols whose
 * headers describe themselves are recognised from any packet here, each by
 * the specification's frame header:
 *  - MQTT fixed header: packet type and its fixed flags, Remaining Length
 *    (OASIS MQTT 3.1.1 2.2, 2.2.2 Table 2.2, 2.2.3; 5.0 2.1); PINGREQ,
 *    PINGRESP and DISCONNECT carry nothing (3.12, 3.13, 3.14), PUBACK..
 *    PUBCOMP two bytes in 3.1.1 (3.4-3.7); SUBSCRIBE, UNSUBSCRIBE, PINGREQ
 *    only from the client, SUBACK, UNSUBACK, PINGRESP only from the server.
 *  - WebSocket base framing (RFC 6455 5.2): RSV2/RSV3 clear, a defined
 *    opcode, control frames unfragmented and at most 125 bytes (5.5), the
 *    MASK bit set exactly on client frames (5.1, 5.3), the extended length
 *    in its minimal form (5.2 "the minimal number of bytes MUST be used");
 *    only on an HTTP port (the port guess says http).
 *  - TDS packet header (MS-TDS 2.2.3.1): type 1, 2, 3, 6, 7, 8, 14, 16, 17
 *    or 18 from the client, 4 (tabular result) from the server; status bits
 *    only EOM, ignore, reset connection, reset skipping the transaction
 *    (2.2.3.1.2); length 8..32767 (a packet size is at most 32767, 2.2.6.4);
 *    SPID and packet id any; window 0 (2.2.3.1.6).
 *  - AMQP 0-9-1 frame (AMQP 0-9-1 2.3.5, 4.2.3): type 1 method, 2 content
 *    header, 3 body, 8 heartbeat; channel; 32-bit size; frame-end 0xCE after
 *    the payload. A heartbeat is on channel 0 and empty; a method frame names
 *    a class of the 0-9-1 set (10, 20, 40, 50, 60, 85, 90) and a content
 *    header has weight 0 (4.2.6.1).
 *  - SMB2/3 over the NetBIOS session header (MS-SMB2 2.1, RFC 1002 4.3.1):
 *    0x00 and a 24-bit length, then "\xFESMB" with StructureSize 64 and a
 *    command below 0x13 (2.2.1), its SERVER_TO_REDIRECTOR flag saying which
 *    side sent it; or an encrypted message, "\xFDSMB" transform header (2.2.41)
 *    whose OriginalMessageSize is the rest of the message.
 *  - PostgreSQL messages after startup (PostgreSQL protocol 55.7 "Message
 *    Formats"): a type byte of the frontend's or the backend's set and a
 *    32-bit length that counts itself (at least 4); ReadyForQuery ('Z') is
 *    length 5 with status I, T or E.
 *  - MySQL packets (MySQL client/server protocol, "MySQL Packets"): 24-bit
 *    little-endian payload length and a sequence id; packets chained in one
 *    segment (a result set) number their sequence ids one up.
 * A single packet is never named, because a few header bytes are little
 * evidence. Every packet must fit: its frame ends exactly at the end of
 * the payload, or the next frame header starts there (in the window, and as
 * well formed), or (TDS, AMQP, SMB2, PostgreSQL, whose headers are strong
 * enough, and an MQTT PUBLISH whose topic name fits, on MQTT's port) it runs
 * past a full-sized segment. The first such packet only
 * leaves its protocol in the flow cookie (state, no verdict); a second one
 * of the same protocol, in either direction, names it with confidence
 * `signature`, and the rule is marked mid (struct pks_match): a message from
 * the other direction then settles that direction but never confirms. A
 * flow whose handshake was seen can reach `confirmed`; a flow picked up
 * mid-session stays below it. The TCP rules also need the protocol's
 * well-known port (the port guess), so that the random payload of a flow on
 * any port is not read as a frame (tests/captures/test_random_flows.sh).
 *
 * DTLS records (RFC 6347 4.1, RFC 9147 4 for the DTLSPlaintext /
 * DTLSCiphertext with a full header): content type 20..23, version 1.0 or
 * 1.2, a 16-bit epoch, a 48-bit sequence number (its top 16 bits zero), a
 * length ending exactly at the end of the datagram or at the next record's
 * header of the same version. UDP has no handshake to miss, so this runs on
 * every flow no other protocol owns, on any port; the second datagram must
 * also carry the first one's epoch (its low 3 bits) and version, and from
 * the same side another sequence number (its low 8 bits differ). DTLS 1.3's
 * unified header (RFC 9147 4) is not recognised.
 */
#ifndef PKTSPEC_BPF_SIG_MIDSTREAM_H
#define PKTSPEC_BPF_SIG_MIDSTREAM_H

#include "sig.h"
#include "bytes.h"
#include "mqtt.h"
#include "smb.h"

#define PKS_MID_SEGMENT_MIN 512 /* as PKS_TLS_SEGMENT_MIN: below any MSS that carries bulk data */
#define PKS_MID_SEEN_C 0x8000   /* cookie: a frame from the client was seen */
#define PKS_MID_SEEN_S 0x4000   /* cookie: a frame from the server was seen */
#define PKS_MID_COUNT 0x3000    /* cookie: fitting packets seen, 1..3 */
#define PKS_MID_COUNT_SHIFT 12
#define PKS_MID_VAL 0x0fff      /* cookie: the protocol's own value (DTLS, WebSocket) */

#define PKS_MID_END_EXACT 1     /* the frame ends at the end of the payload */
#define PKS_MID_END_NEXT 2      /* another header starts within the window */
#define PKS_MID_END_PAST 3      /* the frame runs past a full-sized segment */

/* Where a flow stands for a protocol's mid-session rule (pks_mid_flow). */
#define PKS_MID_NO 0            /* not picked up mid-session, or another protocol's port */
#define PKS_MID_PORT 1          /* the protocol's port (or the protocol named already): two packets */
#define PKS_MID_ANY 2           /* a port nothing is guessed for: three, both directions */

/*
 * Where a frame of `end` bytes leaves the payload: one of PKS_MID_END_*, or 0
 * when it does not fit (ends inside the payload with no room in the window
 * for the next header of hdr bytes, or runs past a short packet).
 */
static __always_inline int pks_mid_end(const struct pks_payload *p, __u32 end, __u32 hdr)
{
	if (end == p->total)
		return PKS_MID_END_EXACT;
	if (end > p->total)
		return p->total >= PKS_MID_SEGMENT_MIN ? PKS_MID_END_PAST : 0;
	return end + hdr <= p->len ? PKS_MID_END_NEXT : 0;
}

/* A TCP flow picked up mid-session: on proto's port, on a port nothing is guessed for, or neither. */
static __always_inline int pks_mid_flow(const struct pks_payload *p, __u8 proto)
{
	if (p->l4 != IPPROTO_TCP || !p->flow_mid)
		return PKS_MID_NO;
	if (p->flow_proto == proto)
		return PKS_MID_PORT;
	return p->flow_proto == PKS_P_UNKNOWN ? PKS_MID_ANY : PKS_MID_NO;
}

/*
 * The counting rule. A fitting packet leaves the protocol, its side and the
 * count in the cookie; the protocol is named (marked mid, with the role
 * given) by the second fitting packet on its port (where = PKS_MID_PORT),
 * or by the third on a port nothing is guessed for, once both directions
 * sent one. Until then the match is state only. `val` is kept in the cookie
 * for the caller's own comparison.
 */
static __always_inline int pks_mid_match(const struct pks_payload *p, struct pks_match *m, __u8 proto,
					 __u16 rule, __u32 val, int where, __u8 role)
{
	__u32 seen = p->from_client ? PKS_MID_SEEN_C : PKS_MID_SEEN_S, n = 1, c = 0;

	if (PKS_COOKIE_TAG(p->cookie) == PKS_TAG_MID && ((p->cookie >> 16) & 0xff) == proto) {
		n = ((p->cookie & PKS_MID_COUNT) >> PKS_MID_COUNT_SHIFT) + 1;
		if (n > 3)
			n = 3;
		c = p->cookie & (PKS_MID_SEEN_C | PKS_MID_SEEN_S);
	} else if (p->cookie != 0) {
		return 0; /* another signature's state: not ours to replace */
	}
	c |= seen;
	m->cookie = PKS_TAG_COOKIE(PKS_TAG_MID,
				   ((__u32)proto << 16) | c | (n << PKS_MID_COUNT_SHIFT) | (val & PKS_MID_VAL));
	m->set_cookie = 1;
	if (where == PKS_MID_PORT ? n >= 2 : (n >= 3 && c == (PKS_MID_SEEN_C | PKS_MID_SEEN_S))) {
		m->mid = 1;
		return pks_match_set(m, proto, rule, role);
	}
	return pks_match_state_only(m);
}

/* The value the cookie keeps for proto, when the cookie is proto's. */
static __always_inline int pks_mid_kept(const struct pks_payload *p, __u8 proto, __u32 *val)
{
	if (PKS_COOKIE_TAG(p->cookie) != PKS_TAG_MID || ((p->cookie >> 16) & 0xff) != proto)
		return 0;
	*val = p->cookie & PKS_MID_VAL;
	return 1;
}

/* ---- MQTT --------------------------------------------------------------- */

/*
 * A fixed header at off; its length (header + Remaining Length) or 0. With
 * `sided`, the packet types only one side sends must come from that side
 * (on MQTT's port the client is known; elsewhere it is only a guess).
 */
static __always_inline __u32 pks_mid_mqtt_frame(const struct pks_payload *p, __u32 off, int sided)
{
	__u8 b0 = p->b[off & PKS_WIN_MASK], type = b0 >> 4, flags = b0 & 0x0f;
	__u32 i, v = 0, h = 0;

	for (i = 0; i < PKS_MQTT_VARINT_MAX; i++) {
		__u8 c = p->b[(off + 1 + i) & PKS_WIN_MASK];

		v |= (__u32)(c & 0x7f) << (7 * i);
		if (!(c & 0x80)) {
			h = 2 + i;
			break;
		}
	}
	if (!h || off + h > p->len)
		return 0;
	if (type == 3) {
		if ((flags & 0x06) == 0x06 || v < 2) /* QoS 3 is malformed; a topic length at least */
			return 0;
	} else if (type == 6 || type == 8 || type == 10) {
		if (flags != 0x02)
			return 0;
	} else if (flags != 0 || type < 2 || type > 14) {
		return 0;
	}
	/* The side that may send it. */
	if (sided && (type == 8 || type == 10 || type == 12) && !p->from_client)
		return 0;
	if (sided && (type == 2 || type == 9 || type == 11 || type == 13) && p->from_client)
		return 0;
	/* Fixed sizes: PUBACK..PUBCOMP at least 2, pings none, SUBSCRIBE/SUBACK a packet id and one entry. */
	if (((type == 12 || type == 13) && v != 0) || (type >= 4 && type <= 7 && v < 2) ||
	    ((type == 2 || type == 11) && v < 2) || (type == 8 && v < 5) || (type == 9 && v < 3) ||
	    (type == 10 && v < 4))
		return 0;
	return h + v;
}

/*
 * A PUBLISH at the start of a full-sized segment that it runs past (a message
 * longer than the segment: a QoS 0 flow of large messages has no other frame
 * that fits). Its fixed header alone is little evidence, so its variable
 * header must fit too (3.3.2): a Topic Name of at least one character (4.7.3;
 * an MQTT 5 topic alias, length 0, is not taken) held in the window with the
 * packet identifier after it, which is non-zero at QoS 1 and 2 (2.3.1) (the
 * Remaining Length, longer than the segment, holds both); the name starts
 * with a printable ASCII character or
 * a UTF-8 lead byte, and neither end is NUL or a wildcard (3.3.2.1, 1.5.3).
 */
static __always_inline int pks_mid_mqtt_publish_runs_past(const struct pks_payload *p)
{
	__u8 b0 = p->b[0], first, last;
	__u32 h, tl, id = (b0 & 0x06) ? 2 : 0;

	if ((b0 >> 4) != 3)
		return 0;
	/* The fixed header's length: pks_mid_mqtt_frame found where the Remaining Length ends. */
	h = 2 + !!(p->b[1] & 0x80) + ((p->b[1] & p->b[2]) >> 7) + ((p->b[1] & p->b[2] & p->b[3]) >> 7);
	tl = pks_be16(p, h);
	if (tl == 0 || h + 2 + tl + id > p->len)
		return 0;
	first = p->b[(h + 2) & PKS_WIN_MASK];
	last = p->b[(h + 1 + tl) & PKS_WIN_MASK];
	if (!((first >= 0x20 && first < 0x7f) || (first >= 0xc2 && first <= 0xf4)))
		return 0;
	if (first == '+' || first == '#' || last == 0 || last == '+' || last == '#')
		return 0;
	return !id || pks_be16(p, h + 2 + tl) != 0;
}

static __always_inline int pks_sig_mqtt_mid(const struct pks_payload *p, struct pks_match *m)
{
	__u32 end, next;
	int fit, where;

	where = pks_mid_flow(p, PKS_P_MQTT);
	if (!where || p->len < 2)
		return 0;
	end = pks_mid_mqtt_frame(p, 0, where == PKS_MID_PORT);
	if (!end)
		return 0;
	fit = pks_mid_end(p, end, 2);
	/* Only a PUBLISH on MQTT's port may run past (see above). */
	if (!fit || (fit == PKS_MID_END_PAST && (where != PKS_MID_PORT || !pks_mid_mqtt_publish_runs_past(p))))
		return 0;
	if (fit == PKS_MID_END_NEXT) {
		next = pks_mid_mqtt_frame(p, end, where == PKS_MID_PORT);
		if (!next)
			return 0;
	}
	return pks_mid_match(p, m, PKS_P_MQTT, PKS_R_MQTT_MID, 0, where, PKS_ROLE_ANY);
}

/* ---- WebSocket ----------------------------------------------------------- */

/* A frame header at off, its MASK bit `masked`; the frame's length or 0. */
static __always_inline __u32 pks_mid_ws_frame(const struct pks_payload *p, __u32 off, int masked)
{
	__u8 b0 = p->b[off & PKS_WIN_MASK], b1 = p->b[(off + 1) & PKS_WIN_MASK], op = b0 & 0x0f;
	__u32 len = b1 & 0x7f, hdr = 2 + (masked ? 4 : 0);

	if ((b0 & 0x30) || (op > 0x2 && (op < 0x8 || op > 0xa)))
		return 0;
	if (!!(b1 & 0x80) != masked)
		return 0;
	if (op >= 0x8 && (!(b0 & 0x80) || len > 125))
		return 0;
	if (len == 126) {
		if (off + 4 > p->len)
			return 0;
		len = pks_be16(p, off + 2);
		if (len < 126)
			return 0;
		hdr += 2;
	} else if (len == 127) {
		/* 64-bit length: at least 65536, and here below 2^32. */
		if (off + 10 > p->len || pks_be32(p, off + 2) != 0)
			return 0;
		len = pks_be32(p, off + 6);
		if (len < 65536)
			return 0;
		hdr += 8;
	}
	return hdr + len;
}

/*
 * On an HTTP port the client is known and must mask. On a port nothing is
 * guessed for, the client is only a guess: the MASK bit says who sent the
 * frame, so every packet of one side must agree (the cookie keeps whether
 * the guessed client masks), and the naming frame's role turns a backwards
 * guess around.
 */
static __always_inline int pks_sig_websocket_mid(const struct pks_payload *p, struct pks_match *m)
{
	__u32 end, kept, inv;
	int fit, where, masked;

	if (p->l4 != IPPROTO_TCP || !p->flow_mid || p->len < 2)
		return 0;
	if (p->flow_proto == PKS_P_HTTP || p->flow_proto == PKS_P_WEBSOCKET)
		where = PKS_MID_PORT;
	else
		where = pks_mid_flow(p, PKS_P_WEBSOCKET);
	if (!where)
		return 0;
	masked = !!(p->b[1] & 0x80);
	inv = masked != !!p->from_client; /* the guessed client does not mask */
	if (where == PKS_MID_PORT && p->flow_proto == PKS_P_HTTP && inv)
		return 0;
	if (p->flow_proto != PKS_P_WEBSOCKET && pks_mid_kept(p, PKS_P_WEBSOCKET, &kept) && kept != inv)
		return 0;
	end = pks_mid_ws_frame(p, 0, masked);
	if (!end)
		return 0;
	/* The frame fits exactly or a well-formed one follows; a long frame alone is no evidence. */
	fit = pks_mid_end(p, end, 2);
	if (!fit || fit == PKS_MID_END_PAST || (fit == PKS_MID_END_NEXT && !pks_mid_ws_frame(p, end, masked)))
		return 0;
	return pks_mid_match(p, m, PKS_P_WEBSOCKET, PKS_R_WEBSOCKET_MID, inv, where,
			     masked ? PKS_ROLE_CLIENT : PKS_ROLE_SERVER);
}

/* ---- TDS ----------------------------------------------------------------- */

#define PKS_MID_TDS_HDR 8
#define PKS_MID_TDS_MAX 32767

static __always_inline __u32 pks_mid_tds_packet(const struct pks_payload *p, __u32 off)
{
	__u8 type = p->b[off & PKS_WIN_MASK], status = p->b[(off + 1) & PKS_WIN_MASK];
	__u32 len = pks_be16(p, off + 2);

	if (p->from_client ? (type == 0 || type == 4 || type == 5 || (type > 8 && type != 14 && type < 16) || type > 18)
			   : type != 4)
		return 0;
	if ((status & ~0x1b) || p->b[(off + 7) & PKS_WIN_MASK] != 0)
		return 0;
	if (len < PKS_MID_TDS_HDR || len > PKS_MID_TDS_MAX)
		return 0;
	return len;
}

static __always_inline int pks_sig_mssql_mid(const struct pks_payload *p, struct pks_match *m)
{
	__u32 end;
	int fit, where;

	where = pks_mid_flow(p, PKS_P_MSSQL);
	if (!where || p->len < PKS_MID_TDS_HDR)
		return 0;
	end = pks_mid_tds_packet(p, 0);
	if (!end)
		return 0;
	fit = pks_mid_end(p, end, PKS_MID_TDS_HDR);
	if (!fit || (fit == PKS_MID_END_NEXT && !pks_mid_tds_packet(p, end)))
		return 0;
	return pks_mid_match(p, m, PKS_P_MSSQL, PKS_R_MSSQL_MID, 0, where, PKS_ROLE_ANY);
}

/* ---- AMQP 0-9-1 ---------------------------------------------------------- */

#define PKS_MID_AMQP_HDR 7
#define PKS_MID_AMQP_FRAME_END 0xce
#define PKS_MID_AMQP_SIZE_MAX (1u << 24)

static __always_inline __u32 pks_mid_amqp_frame(const struct pks_payload *p, __u32 off)
{
	__u8 type = p->b[off & PKS_WIN_MASK];
	__u32 chan = pks_be16(p, off + 1), size = pks_be32(p, off + 3), cls, end;

	if (size >= PKS_MID_AMQP_SIZE_MAX)
		return 0;
	end = PKS_MID_AMQP_HDR + size + 1;
	if (type == 8) {
		if (chan != 0 || size != 0)
			return 0;
	} else if (type == 1 || type == 2) {
		if (size < 4 || off + PKS_MID_AMQP_HDR + 4 > p->len)
			return 0;
		cls = pks_be16(p, off + PKS_MID_AMQP_HDR);
		if (cls != 10 && cls != 20 && cls != 40 && cls != 50 && cls != 60 && cls != 85 && cls != 90)
			return 0;
		if (type == 2 && pks_be16(p, off + PKS_MID_AMQP_HDR + 2) != 0)
			return 0;
	} else if (type != 3) {
		return 0;
	}
	/* The frame-end octet, wherever the window holds it. */
	if (off + end <= p->len && p->b[(off + end - 1) & PKS_WIN_MASK] != PKS_MID_AMQP_FRAME_END)
		return 0;
	return end;
}

static __always_inline int pks_sig_amqp_mid(const struct pks_payload *p, struct pks_match *m)
{
	__u32 end;
	int fit, where;

	where = pks_mid_flow(p, PKS_P_AMQP);
	if (!where || p->len < PKS_MID_AMQP_HDR + 1)
		return 0;
	end = pks_mid_amqp_frame(p, 0);
	if (!end)
		return 0;
	fit = pks_mid_end(p, end, PKS_MID_AMQP_HDR + 1);
	/* A body frame (opaque) may only run past with a strong header ahead of it: never alone. */
	if (!fit || (fit == PKS_MID_END_PAST && p->b[0] == 3) ||
	    (fit == PKS_MID_END_NEXT && !pks_mid_amqp_frame(p, end)))
		return 0;
	return pks_mid_match(p, m, PKS_P_AMQP, PKS_R_AMQP_MID, 0, where, PKS_ROLE_ANY);
}

/* ---- SMB2/3 -------------------------------------------------------------- */

#define PKS_MID_SMB2_HDR 64
#define PKS_MID_SMB2_TRANSFORM 52

static __always_inline int pks_sig_smb2_mid(const struct pks_payload *p, struct pks_match *m)
{
	__u32 len, id;
	int fit, where;

	where = pks_mid_flow(p, PKS_P_SMB2);
	if (!where || p->len < 4 + PKS_MID_SMB2_TRANSFORM || p->b[0] != 0)
		return 0;
	len = pks_be24(p, 1);
	id = pks_be32(p, 4);
	if (id == PKS_C4(0xfe, 'S', 'M', 'B')) {
		if (len < PKS_MID_SMB2_HDR || pks_le16(p, 8) != PKS_MID_SMB2_HDR || pks_le16(p, 4 + 12) > PKS_SMB2_CMD_MAX)
			return 0;
		/* SMB2_FLAGS_SERVER_TO_REDIRECTOR (2.2.1.1): the server's messages carry it. */
		if (!(p->b[4 + 16] & 1) != !!p->from_client)
			return 0;
	} else if (id == PKS_C4(0xfd, 'S', 'M', 'B')) {
		/* Transform header: the encrypted message is OriginalMessageSize bytes (2.2.41). */
		if (len != PKS_MID_SMB2_TRANSFORM + pks_le32(p, 4 + 36) || pks_le16(p, 4 + 40) != 0)
			return 0;
	} else {
		return 0;
	}
	fit = pks_mid_end(p, 4 + len, 4);
	if (!fit || (fit == PKS_MID_END_NEXT && p->b[(4 + len) & PKS_WIN_MASK] != 0))
		return 0;
	return pks_mid_match(p, m, PKS_P_SMB2, PKS_R_SMB2_MID, 0, where, PKS_ROLE_ANY);
}

/* ---- PostgreSQL ---------------------------------------------------------- */

#define PKS_MID_PG_HDR 5
#define PKS_MID_PG_LEN_MAX (1u << 26)

/* The message types of one side (55.7), as a bitmap over 'A'..'z'. */
static __always_inline int pks_mid_pg_type(__u8 t, int from_client)
{
	if (from_client)
		return t == 'Q' || t == 'P' || t == 'B' || t == 'E' || t == 'S' || t == 'D' || t == 'C' ||
		       t == 'H' || t == 'X' || t == 'F' || t == 'd' || t == 'c' || t == 'f' || t == 'p';
	return t == 'R' || t == 'K' || t == 'S' || t == 'Z' || t == 'T' || t == 'D' || t == 'C' || t == 'E' ||
	       t == 'N' || t == '1' || t == '2' || t == '3' || t == 't' || t == 'n' || t == 's' || t == 'I' ||
	       t == 'A' || t == 'G' || t == 'H' || t == 'W' || t == 'd' || t == 'c' || t == 'V' || t == 'v';
}

static __always_inline __u32 pks_mid_pg_message(const struct pks_payload *p, __u32 off)
{
	__u8 t = p->b[off & PKS_WIN_MASK];
	__u32 len = pks_be32(p, off + 1);

	if (!pks_mid_pg_type(t, p->from_client) || len < 4 || len >= PKS_MID_PG_LEN_MAX)
		return 0;
	if (t == 'Z') {
		__u8 st = p->b[(off + 5) & PKS_WIN_MASK];

		if (len != 5 || (off + 6 <= p->len && st != 'I' && st != 'T' && st != 'E'))
			return 0;
	}
	return 1 + len;
}

static __always_inline int pks_sig_postgresql_mid(const struct pks_payload *p, struct pks_match *m)
{
	__u32 end;
	int fit, where;

	where = pks_mid_flow(p, PKS_P_POSTGRESQL);
	if (!where || p->len < PKS_MID_PG_HDR)
		return 0;
	end = pks_mid_pg_message(p, 0);
	if (!end)
		return 0;
	fit = pks_mid_end(p, end, PKS_MID_PG_HDR);
	if (!fit || (fit == PKS_MID_END_NEXT && !pks_mid_pg_message(p, end)))
		return 0;
	return pks_mid_match(p, m, PKS_P_POSTGRESQL, PKS_R_POSTGRESQL_MID, 0, where, PKS_ROLE_ANY);
}

/* ---- MySQL --------------------------------------------------------------- */

#define PKS_MID_MYSQL_HDR 4

static __always_inline int pks_sig_mysql_mid(const struct pks_payload *p, struct pks_match *m)
{
	__u32 end;
	int fit, where;

	where = pks_mid_flow(p, PKS_P_MYSQL);
	if (!where || p->len < PKS_MID_MYSQL_HDR + 1)
		return 0;
	/* A payload of at least one byte (a command, or a response's first byte). */
	end = PKS_MID_MYSQL_HDR + pks_le24(p, 0);
	if (end == PKS_MID_MYSQL_HDR)
		return 0;
	/* No running past: any 24-bit length would. Chained packets count their sequence up. */
	fit = pks_mid_end(p, end, PKS_MID_MYSQL_HDR + 1);
	if (!fit || fit == PKS_MID_END_PAST)
		return 0;
	if (fit == PKS_MID_END_NEXT &&
	    (pks_le24(p, end) == 0 || p->b[(end + 3) & PKS_WIN_MASK] != (__u8)(p->b[3] + 1)))
		return 0;
	return pks_mid_match(p, m, PKS_P_MYSQL, PKS_R_MYSQL_MID, 0, where, PKS_ROLE_ANY);
}

/* ---- DTLS ---------------------------------------------------------------- */

#define PKS_MID_DTLS_HDR 13

static __always_inline int pks_sig_dtls_mid(const struct pks_payload *p, struct pks_match *m)
{
	__u32 ver, epoch, len, end, seq, val, prev;

	if (p->l4 != IPPROTO_UDP || p->len < PKS_MID_DTLS_HDR + 1 || p->b[0] < 20 || p->b[0] > 23)
		return 0;
	if (p->flow_proto != PKS_P_UNKNOWN && p->flow_proto != PKS_P_DTLS)
		return 0;
	ver = pks_be16(p, 1);
	if ((ver != 0xfeff && ver != 0xfefd) || pks_be16(p, 5) != 0)
		return 0;
	epoch = pks_be16(p, 3);
	len = pks_be16(p, 11);
	end = PKS_MID_DTLS_HDR + len;
	if (len == 0 || end > p->total)
		return 0;
	if (end < p->total && (end + 3 > p->len || p->b[end & PKS_WIN_MASK] < 20 || p->b[end & PKS_WIN_MASK] > 23 ||
			       pks_be16(p, end + 1) != ver))
		return 0;
	/* Kept: the epoch's low 3 bits, the version (1.0 or 1.2), the sequence number's low 8. */
	seq = p->b[10];
	val = ((epoch & 0x7) << 9) | ((ver == 0xfefd) << 8) | seq;
	if (pks_mid_kept(p, PKS_P_DTLS, &prev)) {
		if ((prev >> 8) != (val >> 8))
			return 0;
		/* From the same side, another record (not a retransmission of the last one). */
		if ((p->cookie & (p->from_client ? PKS_MID_SEEN_C : PKS_MID_SEEN_S)) && seq == (prev & 0xff))
			return 0;
	}
	return pks_mid_match(p, m, PKS_P_DTLS, PKS_R_DTLS_MID, val, PKS_MID_PORT, PKS_ROLE_ANY);
}

#endif
