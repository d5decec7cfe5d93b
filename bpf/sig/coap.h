/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * CoAP, RFC 7252 3 (message format) and 5.10 (options), methods of RFC 7252
 * 12.1.1 and RFC 8132 (FETCH, PATCH, iPATCH).
 *  - Header: version 1, type CON/NON/ACK/RST, token length 0..8 (9..15 are
 *    a message format error, 3), code, message ID.
 *  - Request: CON or NON with a method code 0.01..0.07. Its options, walked
 *    in the window, have neither nibble 15 except the payload marker 0xFF
 *    (3.1), a payload marker is followed by payload, and every option number
 *    is one RFC 7252 5.10 / RFC 7641 / RFC 7959 / RFC 8613 / RFC 7967 assigns.
 *    Two header bytes are little evidence, so a request needs a Uri-Host,
 *    Uri-Path or Uri-Query option (5.10.1: the URI a request names) whose
 *    value starts with 8 printable ASCII characters, and names the flow by
 *    itself only when sent to 5683; to another port it is kept like the
 *    request below, for its response to name the flow. Without one, as the
 *    first payload of its direction and sent to the default port 5683 (6.1;
 *    5684 is coaps, 6.2, where DTLS records come, not plain CoAP), the whole
 *    message in view (at least one option or a payload, the options walked
 *    to the end of the datagram or to a payload marker with payload after
 *    it, within the window and the walk's bound) names nothing by itself: it
 *    is kept (message ID and token in the cookie) and the port's guess
 *    stands until the matching response below names the flow. Options that run past the
 *    window decide nothing on the port alone, nor does a bare 4-byte header
 *    and token (random payload on 5683 passed the header and the options it
 *    could see once in a few thousand datagrams, and the rule as it stands
 *    still about once in a million random flows before it took only 5683
 *    and a direction's first payload; tests/captures/negative/
 *    make-random-flows.py).
 *  - Response: a code of class 2, 4 or 5 with a detail RFC 7252 12.1.2 uses.
 *    A piggybacked response (ACK) carries the request's message ID; a
 *    separate one (CON/NON) carries its token (5.2, 5.3.2). A response is
 *    only recognised with that match, after the flow's request on a flow
 *    the port guessed CoAP or nothing has named yet (a bit of
 *    the cookie says one was seen: a port guess alone, with the cookie
 *    still zero, matched any separate response with an empty token): on its
 *    own the header is too little evidence (random bytes pass it about once
 *    in a few hundred tries).
 */
#ifndef PKTSPEC_BPF_SIG_COAP_H
#define PKTSPEC_BPF_SIG_COAP_H

#include "sig.h"
#include "opaque.h"
#include "bytes.h"

#define PKS_COAP_OPT_WALK 4 /* options checked: enough evidence, bounded */
#define PKS_COAP_TEXT_CHECK 8 /* leading bytes of a URI option that must be printable ASCII */
#define PKS_COAP_PORT 5683   /* RFC 7252 6.1 */
#define PKS_COAP_SEEN 0x8000  /* cookie: a request was seen (the token's key keeps 15 bits) */

/* What the option walk saw. */
enum {
	PKS_COAP_BAD = 0,      /* malformed */
	PKS_COAP_UNSEEN = 1,   /* well-formed as far as seen, but not to the end */
	PKS_COAP_URI = 2,      /* a URI option with printable text */
	PKS_COAP_COMPLETE = 3, /* one option or more, to the datagram's end or a payload marker */
};

/*
 * Option numbers below 64 that RFC 7252 5.10, RFC 7641 (Observe 6), RFC 7959
 * (Block2 23, Block1 27, Size2 28), RFC 8613 (OSCORE 9) and RFC 7967
 * (No-Response 258) assign, as a bit mask: a table lookup, not a switch,
 * so the verifier does not fork a state per option number.
 */
#define PKS_COAP_KNOWN_LOW                                                                              \
	((1ull << 1) | (1ull << 3) | (1ull << 4) | (1ull << 5) | (1ull << 6) | (1ull << 7) | (1ull << 8) | \
	 (1ull << 9) | (1ull << 11) | (1ull << 12) | (1ull << 14) | (1ull << 15) | (1ull << 17) |         \
	 (1ull << 20) | (1ull << 23) | (1ull << 27) | (1ull << 28) | (1ull << 35) | (1ull << 39) |        \
	 (1ull << 60))

static __always_inline int pks_coap_option_known(__u32 n)
{
	if (n < 64)
		return (PKS_COAP_KNOWN_LOW >> n) & 1;
	return pks_is(n, 258); /* arithmetic, not a branch: no exact path for 258 */
}

static __always_inline int pks_coap_response_code(__u8 code)
{
	__u8 cls = code >> 5, detail = code & 0x1f;

	if (cls == 2)
		return detail >= 1 && detail <= 5 ? 1 : detail == 31;
	if (cls == 4)
		return detail <= 6 || detail == 8 || detail == 9 || detail == 12 || detail == 13 || detail == 15 ||
		       detail == 29;
	if (cls == 5)
		return detail <= 5;
	return 0;
}

/* The URI options, Uri-Host 3, Uri-Path 11 and Uri-Query 15, as a bit mask. */
#define PKS_COAP_URI_OPTIONS ((1ull << 3) | (1ull << 11) | (1ull << 15))

/*
 * Whether a URI option's value at off starts printable. The option number is
 * tested through the mask, not compared: a comparison would give the
 * verifier one exact number, and one path, per URI option.
 */
static __always_inline int pks_coap_uri_text(const struct pks_payload *p, __u32 num, __u32 off, __u32 len)
{
	__u32 i;

	if (num >= 64 || !((PKS_COAP_URI_OPTIONS >> num) & 1) || len < PKS_COAP_TEXT_CHECK)
		return 0;
	for (i = 0; i < PKS_COAP_TEXT_CHECK; i++) {
		__u8 c = p->b[(off + i) & PKS_WIN_MASK];

		if (off + i >= p->len || c < 0x21 || c > 0x7e)
			return 0;
	}
	return 1;
}

/*
 * Walks the first options after the token. Returns PKS_COAP_BAD when they
 * are malformed, PKS_COAP_URI as soon as a well-formed URI option with
 * printable text is seen (enough evidence: the walk stops there),
 * PKS_COAP_COMPLETE when the walk reached the datagram's end or a payload
 * marker with payload, else PKS_COAP_UNSEEN.
 *
 * The offset and the option number go through pks_forget() at the top of
 * each step: the encodings of a step (one, two or three bytes of delta and
 * of length) leave them with many ranges, and the verifier would otherwise
 * follow every later step once per combination of earlier ones.
 */
static __always_inline int pks_coap_options_ok(const struct pks_payload *p, struct pks_match *m, __u32 off)
{
	__u32 i, num = 0;

	for (i = 0; i < PKS_COAP_OPT_WALK; i++) {
		__u32 b, delta, len;

		off = pks_forget(m, off);
		num = pks_forget(m, num);
		if (off == p->total) /* nothing after the token is no evidence */
			return i ? PKS_COAP_COMPLETE : PKS_COAP_UNSEEN;
		if (off > p->total)
			return PKS_COAP_BAD;
		if (off >= p->len)
			return PKS_COAP_UNSEEN;
		b = p->b[off & PKS_WIN_MASK];
		if (b == 0xff) /* a marker with no payload is an error */
			return off + 1 < p->total ? PKS_COAP_COMPLETE : PKS_COAP_BAD;
		delta = b >> 4;
		len = b & 0xf;
		if (delta == 15 || len == 15)
			return PKS_COAP_BAD;
		off++;
		off = pks_opaque(off);
		if (delta == 13) {
			delta = 13 + p->b[off & PKS_WIN_MASK];
			off++;
		} else if (delta == 14) {
			delta = 269 + pks_be16(p, off);
			off += 2;
		}
		off = pks_opaque(off);
		if (len == 13) {
			len = 13 + p->b[off & PKS_WIN_MASK];
			off++;
		} else if (len == 14) {
			len = 269 + pks_be16(p, off);
			off += 2;
		}
		num += delta;
		if (!pks_coap_option_known(num) || off + len > p->total)
			return PKS_COAP_BAD;
		if (pks_coap_uri_text(p, num, pks_opaque(off), len))
			return PKS_COAP_URI;
		off += len;
	}
	off = pks_forget(m, off);
	return off == p->total ? PKS_COAP_COMPLETE : PKS_COAP_UNSEEN;
}

/*
 * The request's message ID and 15 bits of its first two token bytes, as kept
 * in the cookie with PKS_COAP_SEEN.
 */
static __always_inline __u32 pks_coap_key(const struct pks_payload *p)
{
	__u32 tkl = p->b[0] & 0xf;

	return (__u32)pks_be16(p, 2) << 16 | (tkl >= 2 ? pks_be16(p, 4) & 0x7fff : tkl == 1 ? p->b[4] : 0) |
	       PKS_COAP_SEEN;
}

static __always_inline int pks_sig_coap(const struct pks_payload *p, struct pks_match *m)
{
	__u8 b0 = p->b[0], code = p->b[1];
	__u32 tkl = b0 & 0xf, key;

	if (p->len < 4 || (b0 >> 6) != 1 || tkl > 8 || 4 + tkl > p->total)
		return 0;
	if (code >= 1 && code <= 7) {
		int opts = pks_coap_options_ok(p, m, 4 + tkl);

		if (((b0 >> 4) & 3) > 1 || opts == PKS_COAP_BAD || opts == PKS_COAP_UNSEEN)
			return 0;
		if (opts == PKS_COAP_COMPLETE && (p->dport != PKS_COAP_PORT || p->nth))
			return 0;
		m->cookie = pks_coap_key(p);
		m->set_cookie = 1;
		/*
		 * A whole message on 5683 without a URI is state only: the port's
		 * guess stands, and the response that echoes its message ID or
		 * token names the flow (random datagrams to 5683 passed this
		 * about twice in a million flows). So is a request with a URI
		 * sent to another port: random datagrams pass the URI rule about
		 * 3.5e-8 of the time, 0.44 names per 5,000,000 random flows
		 * (doc/protocols-udp.md, "Random payload"), nearly all of them
		 * off 5683.
		 */
		if (opts == PKS_COAP_COMPLETE || p->dport != PKS_COAP_PORT)
			return pks_match_state_only(m);
		return pks_match_set(m, PKS_P_COAP, PKS_R_COAP_REQUEST, PKS_ROLE_CLIENT);
	}
	if (((b0 >> 4) & 3) == 3 || !pks_coap_response_code(code) || !pks_coap_options_ok(p, m, 4 + tkl))
		return 0;
	/* ACK: the same message ID; CON/NON (a separate response): the same token. */
	key = pks_coap_key(p);
	if ((p->flow_proto != PKS_P_COAP && p->flow_proto != PKS_P_UNKNOWN) || !(p->cookie & PKS_COAP_SEEN) ||
	    ((p->b[0] & 0x30) == 0x20 ? (p->cookie ^ key) >> 16 : (p->cookie ^ key) & 0xffff))
		return 0;
	return pks_match_set(m, PKS_P_COAP, PKS_R_COAP_RESPONSE, PKS_ROLE_SERVER);
}

#endif
