/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * NTP, RFC 5905 7.3 (v4; v2 and v3, RFC 1119 and 1305, share the layout).
 *  - Modes 1..5: LI, VN 2..4 and mode in the first byte; stratum 0..16;
 *    poll at most 17 (7.3: 4..17, some clients send 0); precision a small
 *    negative power of two (-32..-1) or 0; root delay and root dispersion
 *    (NTP short format, 16.16 seconds) below 256 seconds, so their top bytes
 *    are zero (a server that far from its reference is unusable: 11.2.1
 *    discards MAXDISP = 16 s); symmetric and broadcast packets (modes 1, 2,
 *    5) come from a synchronised peer: stratum 1..15. The 48-byte header,
 *    then an
 *    authenticator (key ID + 16/20-byte digest: 68 or 72 bytes, 60 with v3's
 *    DES) or, for v4, extension fields (RFC 7822): a multiple of 4 bytes.
 *  - A client (mode 3) keeps the low word of its transmit timestamp; the
 *    server (mode 4) copies the client's transmit timestamp into its origin
 *    timestamp (RFC 5905 8 and 9.2), so a reply whose origin matches confirms.
 *  - Mode 6 control messages (RFC 9327 2): LI zero, an opcode 1..12 or 31;
 *    a request has R, E, M clear and zero status and offset; the datagram is
 *    the 12-byte header, count data bytes, zero padding to a multiple of 4
 *    octets, and perhaps a MAC (key ID and a 16- or 20-octet digest, after
 *    padding to 8 in some ntpd versions): exactly one of those lengths. ntpd
 *    (ctl_flushpkt: "Pad to a multiple of 32 bits") and ntpq pad so; the
 *    looser "up to 27 octets after the data" let random datagrams pass about
 *    once in a million (tests/captures/negative/make-random-flows.py).
 *    A request keeps its sequence number and opcode; the response (R set)
 *    repeats both (RFC 9327 2: "the sequence number of the request"), and
 *    only that names the flow: a response checks little more than its
 *    length, which random datagrams met three times in 4.25 million flows.
 *    A response without its request is kept as state on a flow the port
 *    already guessed NTP and is nothing elsewhere.
 *  - Mode 7 private messages (ntpd's ntp_request.h, used by ntpdc): the
 *    implementation number 0, 2 or 3, a must-be-zero nibble, a request code
 *    at most 45; a response's nitems * itemsize fills the datagram exactly, a
 *    request is at least the 48-byte fixed request packet. The sequence
 *    number and the More bit number the packets of a multi-packet response
 *    only: a request (R clear) has both zero, and its error nibble too. This
 *    is also what keeps a DTLS record with OpenSSL's pre-RFC version 0x0100
 *    (DTLS1_BAD_VER) off mode 7: its type 23 is a version-2 mode-7 first
 *    byte and its version's high byte 0x01 a sequence of 1.
 */
#ifndef PKTSPEC_BPF_SIG_NTP_H
#define PKTSPEC_BPF_SIG_NTP_H

#include "sig.h"
#include "bytes.h"

#define PKS_NTP_HDR 48

static __always_inline int pks_ntp_length_ok(__u32 vn, __u32 total)
{
	if (total == PKS_NTP_HDR || total == 68 || total == 72)
		return 1;
	if (vn == 3 && total == 60)
		return 1;
	return vn == 4 && total > PKS_NTP_HDR && !(total & 3);
}

#define PKS_NTP_CTL_COUNT_MAX 468   /* RFC 9327 2: data in one fragment */
#define PKS_NTP_PRIV_REQ 48         /* ntp_request.h: header and the fixed request data area */
#define PKS_NTP_PRIV_CODE_MAX 45

static __always_inline int pks_ntp_control(const struct pks_payload *p, struct pks_match *m, __u32 vn)
{
	__u8 b1 = p->b[1], op = p->b[1] & 0x1f;
	__u32 count = pks_be16(p, 10), pad4, pad8;
	__u32 key = PKS_TAG_COOKIE(PKS_TAG_NTP_CTL, (__u32)pks_be16(p, 2) << 5 | op);

	if ((p->b[0] & 0xc0) || count > PKS_NTP_CTL_COUNT_MAX || (op == 0 || (op > 12 && op != 31)))
		return 0;
	/* The data padded to 4, then nothing or a MAC (after padding to 8 or not). */
	pad4 = (12 + count + 3) & ~3u;
	pad8 = (pad4 + 7) & ~7u;
	if (p->total != pad4 && p->total != pad4 + 20 && p->total != pad4 + 24 && p->total != pad8 + 20 &&
	    p->total != pad8 + 24)
		return 0;
	if (!(b1 & 0x80)) {
		/* E and M only in responses; status and offset zero in requests */
		if ((b1 & 0x60) || pks_be16(p, 4) || pks_be16(p, 8))
			return 0;
		m->cookie = key;
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_NTP, PKS_R_NTP_CONTROL, PKS_ROLE_CLIENT);
	}
	if (p->flow_proto != PKS_P_NTP)
		return 0;
	if (p->cookie != key)
		return pks_match_state_only(m);
	return pks_match_set(m, PKS_P_NTP, PKS_R_NTP_CONTROL, PKS_ROLE_SERVER);
}

static __always_inline int pks_ntp_private(const struct pks_payload *p, struct pks_match *m)
{
	__u8 impl = p->b[2];
	__u32 nitems = pks_be16(p, 4) & 0xfff, itemsize = pks_be16(p, 6), need;

	if ((impl != 0 && impl != 2 && impl != 3) || (itemsize & 0xf000) || p->total < 8 ||
	    p->b[3] > PKS_NTP_PRIV_CODE_MAX)
		return 0;
	need = 8 + nitems * itemsize;
	if (p->b[0] & 0x80) {
		/* A response: its items fill the datagram. */
		if (need != p->total || nitems == 0)
			return 0;
		return pks_match_set(m, PKS_P_NTP, PKS_R_NTP_PRIVATE, PKS_ROLE_SERVER);
	}
	if (need > p->total || p->total < PKS_NTP_PRIV_REQ || (pks_be16(p, 4) & 0xf000) || (p->b[0] & 0x40) ||
	    (p->b[1] & 0x7f))
		return 0;
	return pks_match_set(m, PKS_P_NTP, PKS_R_NTP_PRIVATE, PKS_ROLE_CLIENT);
}

static __always_inline int pks_sig_ntp(const struct pks_payload *p, struct pks_match *m)
{
	__u32 vn = (p->b[0] >> 3) & 7, mode = p->b[0] & 7;
	__u8 stratum = p->b[1], poll = p->b[2], prec = p->b[3];

	if (p->len < 12 || vn < 2 || vn > 4)
		return 0;
	if (mode == 6)
		return pks_ntp_control(p, m, vn);
	if (mode == 7)
		return pks_ntp_private(p, m);
	if (mode == 0 || p->len < PKS_NTP_HDR || !pks_ntp_length_ok(vn, p->total))
		return 0;
	if (stratum > 16 || poll > 17 || (prec != 0 && prec < 0xe0) || p->b[4] || p->b[8])
		return 0;
	if (mode == 3) {
		m->cookie = pks_be32(p, 44);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_NTP, PKS_R_NTP_CLIENT, PKS_ROLE_CLIENT);
	}
	if (mode == 4) {
		if (p->flow_proto == PKS_P_NTP && p->cookie != pks_be32(p, 28))
			m->no_confirm = 1;
		return pks_match_set(m, PKS_P_NTP, PKS_R_NTP_SERVER, PKS_ROLE_SERVER);
	}
	/* Symmetric active/passive (1, 2) and broadcast (5): either side. */
	if (stratum == 0 || stratum > 15)
		return 0;
	return pks_match_set(m, PKS_P_NTP, PKS_R_NTP_PEER, PKS_ROLE_ANY);
}

#endif
