/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * RTP and RTCP, RFC 3550, and how they are told apart from each other and
 * from what shares their ports.
 *
 * Separation rules (tested in tests/unit/test_sig_udp.c):
 *  - RFC 7983 7 demultiplexes a port by the first byte: 0..3 STUN, 20..63
 *    DTLS, 64..79 TURN channels, 128..191 RTP and RTCP. STUN and DTLS are
 *    tried first (sig/stun.h, sig/dtls.h) and neither accepts 128..191.
 *  - RFC 5761 4: the second byte of an RTCP packet is its packet type 200..204
 *    (SR, RR, SDES, BYE, APP; 205..207 for feedback and XR, RFC 4585, 3611).
 *    As an RTP byte that would be the marker bit with payload type 72..79,
 *    which RTP avoids (RFC 5761 4 reserves 64..95). So a second byte of
 *    192..223 is RTCP and never RTP, and RTP accepts only the static payload
 *    types 0..34 (RFC 3551 6) and the dynamic range 96..127.
 *  - RTP runs last and must not fire on random UDP, where one packet in four
 *    has version 2 and about one in eight passes the header checks. RFC
 *    3550 A.1 holds a new source on probation until packets with sequential
 *    numbers arrive, comparing the whole 32-bit SSRC and 16-bit sequence;
 *    the flow cookie keeps 16 bits per direction (while no signature has
 *    decided the flow): a set bit, a "two in sequence" bit, a 7-bit fold of
 *    the SSRC and the sequence number mod 128. Fewer bits are compared, so
 *    more packets are: a second packet of the same direction with the same
 *    SSRC fold and a sequence number 1..2 ahead sets the "two" bit, and a
 *    third one that does the same against the second makes the signature.
 *    Random bytes pass one such step with probability 1/128 * 2/128 (about
 *    1.2e-4), both with about 1.5e-8, times the header checks' 2e-3 for
 *    three packets: about 3e-11 per triple (doc/protocols-udp.md, "Random
 *    payload"). With two packets (one step) random payload was named about
 *    once in 2.5 million flows (tests/captures/negative/make-random-flows.py).
 *    RTP never overrides another signature's verdict. Each packet replaces
 *    the one remembered, so a pair that does not match (more loss, a
 *    reordering) restarts the count at that packet: the verdict waits for
 *    three that do.
 *
 * STUN then RTP on one 5-tuple (ICE, then media keyed by SDES or not
 * encrypted: SRTP keeps RTP's header, RFC 3711 3.1): a flow STUN named
 * announces a successor (stun.h, as for DTLS) and stays open within its
 * inspection budget. There two RTP packets of one direction in sequence
 * (one step of the probation above) replace the verdict with `rtp`, rule
 * rtp-after-stun: ICE's checks take up to two payloads per direction of a
 * budget of four, which leaves room for two RTP packets, not three, and
 * the flow's STUN message (its 32-bit magic cookie) already says a media
 * path was set up here. Random payload never reaches this: it is never
 * named STUN. The other direction's two packets in sequence confirm it
 * under the same rule. Before the step the cookie may still hold STUN's
 * transaction word; read as RTP state it passes the step's comparison
 * about once in 10^4, and then only names a flow that carries RTP one
 * packet early.
 *
 * RTCP (RFC 3550 6.4, A.2 validity checks): version 2, padding clear in the
 * first packet of a compound, type 200..207, a body its type and count
 * account for (pks_rtcp_body_ok()), and a length (in 32-bit words
 * minus one) that either fills the datagram or is followed, inside the
 * window, by another RTCP header whose own length still fits in the
 * datagram. RFC 5506 allows reduced-size packets of any type, so a packet
 * that fills the datagram may have any type; a compound packet starts with
 * SR or RR (6.1, and A.2's first check), as one that does not is not valid
 * RTCP (random payload met the looser rule about once in 2 million
 * datagrams; tests/captures/negative/make-random-flows.py).
 *
 * Over TCP (RFC 4571 2) each RTP or RTCP packet is framed by a 16-bit length:
 * the same checks apply to the packet at offset 2, which must fill its frame
 * (the frame may end the segment or be followed by the next frame), and RTP
 * still needs three packets of one direction (the first frame of each
 * segment).
 */
#ifndef PKTSPEC_BPF_SIG_RTP_H
#define PKTSPEC_BPF_SIG_RTP_H

#include "sig.h"

#define PKS_RTP_SEQ_AHEAD 2   /* one lost packet tolerated between the two compared */
#define PKS_RTP_HALF_SET 0x8000
#define PKS_RTP_HALF_TWO 0x4000  /* this packet followed one in sequence */
#define PKS_RTP_HALF_KEY 0x3f80  /* the SSRC fold */

static __always_inline int pks_rtcp_type(__u8 t)
{
	return t >= 200 && t <= 207;
}

#define PKS_RTCP_SR 200
#define PKS_RTCP_RR 201
#define PKS_RTCP_SDES 202
#define PKS_RTCP_BYE 203
#define PKS_RTCP_APP 204
#define PKS_RTCP_RTPFB 205
#define PKS_RTCP_PSFB 206
#define PKS_RTCP_XR 207

/* A feedback message type (FMT) the IANA registry assigns (RFC 4585 6.1; RFC 5104, 6285, 6642, 6679, 7728, 8888). */
static __always_inline int pks_rtcp_fmt_ok(__u8 t, __u32 fmt)
{
	if (fmt == 15)
		return 1;
	return fmt >= 1 && fmt <= (t == PKS_RTCP_RTPFB ? 11 : 10);
}

/*
 * The packet at off, len bytes by its length field, has the body its type
 * and count (the low five bits of the first byte) give: an SR is the header,
 * its sender's SSRC and sender info (7 words) and 6 words per report block,
 * an RR 2 words and the blocks (RFC 3550 6.4.1, 6.4.2; profile extensions,
 * which no profile in use defines, are not accepted); SDES's first chunk
 * opens with an item type of 1..8 (6.5); BYE lists count SSRCs and may end
 * with a reason whose length byte, padded to a word, fills the packet (6.6);
 * APP names itself with four ASCII characters (6.7); feedback messages
 * (RFC 4585 6.1) carry an assigned FMT and both SSRCs; XR (RFC 3611 2) has
 * its five reserved bits clear and opens its first block with a registered
 * block type. Bytes a check needs past the window fail it: random payload
 * must not pass on less.
 */
static __always_inline int pks_rtcp_body_ok(const struct pks_payload *p, __u32 off, __u32 len)
{
	__u8 t = p->b[(off + 1) & PKS_WIN_MASK];
	__u32 cnt = p->b[off & PKS_WIN_MASK] & 0x1f, at;

	switch (t) {
	case PKS_RTCP_SR:
		return len == 28 + 24 * cnt;
	case PKS_RTCP_RR:
		return len == 8 + 24 * cnt;
	case PKS_RTCP_SDES:
		if (cnt == 0)
			return len == 4;
		at = p->b[(off + 8) & PKS_WIN_MASK];
		return len >= 12 && off + 10 <= p->len && at >= 1 && at <= 8 &&
		       10 + p->b[(off + 9) & PKS_WIN_MASK] <= len;
	case PKS_RTCP_BYE:
		at = 4 + 4 * cnt;
		if (len == at)
			return 1;
		if (len < at + 4 || off + at >= p->len)
			return 0;
		return ((at + 1 + p->b[(off + at) & PKS_WIN_MASK] + 3) & ~3u) == len;
	case PKS_RTCP_APP:
		if (len < 12 || off + 12 > p->len)
			return 0;
		for (at = 8; at < 12; at++) {
			__u8 c = p->b[(off + at) & PKS_WIN_MASK];

			if (c < 0x20 || c > 0x7e)
				return 0;
		}
		return 1;
	case PKS_RTCP_RTPFB:
	case PKS_RTCP_PSFB:
		return len >= 12 && pks_rtcp_fmt_ok(t, cnt);
	case PKS_RTCP_XR:
		if (cnt || len < 8)
			return 0;
		if (len == 8)
			return 1;
		at = p->b[(off + 8) & PKS_WIN_MASK];
		return off + 12 <= p->len && at >= 1 && at <= 12;
	}
	return 0;
}

/* The RTCP (compound) packet at off, room bytes long. */
static __always_inline int pks_rtcp_at(const struct pks_payload *p, struct pks_match *m, __u32 off, __u32 room)
{
	__u32 len;

	if (p->len < off + 8 || (p->b[off & PKS_WIN_MASK] & 0xe0) != 0x80 ||
	    !pks_rtcp_type(p->b[(off + 1) & PKS_WIN_MASK]))
		return 0;
	len = (pks_be16(p, off + 2) + 1) * 4;
	if (len > room || !pks_rtcp_body_ok(p, off, len))
		return 0;
	if (len < room) {
		__u8 b0, b1;

		/* A compound packet: SR or RR first, the next header RTCP too. */
		b1 = p->b[(off + 1) & PKS_WIN_MASK];
		if ((b1 != PKS_RTCP_SR && b1 != PKS_RTCP_RR) || off + len + 4 > p->len)
			return 0;
		b0 = p->b[(off + len) & PKS_WIN_MASK];
		b1 = p->b[(off + len + 1) & PKS_WIN_MASK];
		if ((b0 & 0xc0) != 0x80 || !pks_rtcp_type(b1) ||
		    len + (pks_be16(p, off + len + 2) + 1) * 4 > room)
			return 0;
	}
	return pks_match_set(m, PKS_P_RTCP, PKS_R_RTCP, PKS_ROLE_ANY);
}

static __always_inline int pks_sig_rtcp(const struct pks_payload *p, struct pks_match *m)
{
	return pks_rtcp_at(p, m, 0, p->total);
}

/*
 * 16 bits of state for one direction: set bit, "two in sequence" bit, a
 * 7-bit hash of the SSRC (Fibonacci hashing: every SSRC bit moves the top
 * bits), sequence mod 128.
 */
static __always_inline __u32 pks_rtp_half(const struct pks_payload *p, __u32 off)
{
	__u32 fold = (pks_be32(p, off + 8) * 2654435761u) >> 25;

	return PKS_RTP_HALF_SET | fold << 7 | (pks_be16(p, off + 2) & 0x7f);
}

/* The RTP packet at off, room bytes long. */
static __always_inline int pks_rtp_at(const struct pks_payload *p, struct pks_match *m, __u32 off, __u32 room)
{
	__u8 b0 = p->b[off & PKS_WIN_MASK];
	__u32 pt = p->b[(off + 1) & PKS_WIN_MASK] & 0x7f, cc = b0 & 0xf, half, prev, shift, ahead;
	int after_stun;

	if (p->len < off + 12 || (b0 & 0xc0) != 0x80)
		return 0;
	if (pt > 34 && pt < 96)
		return 0; /* RTCP's range and unassigned types: RFC 5761 4 */
	if (12 + 4 * cc > room)
		return 0;
	after_stun = (p->flow_proto == PKS_P_STUN && p->flow_upgrade) || p->flow_rule == PKS_R_RTP_AFTER_STUN;
	if (p->flow_proto != PKS_P_UNKNOWN && p->flow_proto != PKS_P_RTP && p->flow_proto != PKS_P_RTCP && !after_stun)
		return 0; /* a port or a signature names another protocol: its cookie is not ours */
	half = pks_rtp_half(p, off);
	shift = p->from_client ? 0 : 16;
	prev = (p->cookie >> shift) & 0xffff;
	ahead = ((half & 0x7f) - (prev & 0x7f)) & 0x7f;
	if (p->nth > 0 && (prev & PKS_RTP_HALF_SET) && ((prev ^ half) & PKS_RTP_HALF_KEY) == 0 && ahead >= 1 &&
	    ahead <= PKS_RTP_SEQ_AHEAD) {
		/* After STUN one step is enough (see above); the rule says STUN came first. */
		if (after_stun) {
			m->upgrade = p->flow_proto == PKS_P_STUN;
			return pks_match_set(m, PKS_P_RTP, PKS_R_RTP_AFTER_STUN, PKS_ROLE_ANY);
		}
		if (prev & PKS_RTP_HALF_TWO)
			return pks_match_set(m, PKS_P_RTP, PKS_R_RTP, PKS_ROLE_ANY);
		half |= PKS_RTP_HALF_TWO;
	}
	/* Remember this packet (and whether it followed one): no verdict yet (see above). */
	m->cookie = (p->cookie & ~(0xffffu << shift)) | half << shift;
	m->set_cookie = 1;
	return pks_match_state_only(m);
}

static __always_inline int pks_sig_rtp(const struct pks_payload *p, struct pks_match *m)
{
	return pks_rtp_at(p, m, 0, p->total);
}

/* RFC 4571 2: the frame's length, then the packet filling it. */
static __always_inline __u32 pks_rfc4571_frame(const struct pks_payload *p)
{
	__u32 frame = pks_be16(p, 0);

	/* The frame ends the segment, or the next frame follows it. */
	if (p->l4 != IPPROTO_TCP || frame < 8 || frame + 2 > p->total)
		return 0;
	return frame;
}

static __always_inline int pks_sig_rtcp_tcp(const struct pks_payload *p, struct pks_match *m)
{
	__u32 frame = pks_rfc4571_frame(p);

	return frame && pks_rtcp_at(p, m, 2, frame);
}

static __always_inline int pks_sig_rtp_tcp(const struct pks_payload *p, struct pks_match *m)
{
	__u32 frame = pks_rfc4571_frame(p);

	return frame >= 12 && pks_rtp_at(p, m, 2, frame);
}

#endif
