/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Redis serialization protocol, RESP2 and RESP3 (redis.io "Redis serialization
 * protocol specification": "Sending commands to a Redis server", "RESP
 * protocol description").
 *  - A client sends a command as an array of bulk strings:
 *    "*<count>\r\n$<len>\r\n<name>\r\n...". The signature needs the whole
 *    framing of the first element: a count of 1..9999 arguments, a bulk
 *    length equal to the name's length, a name of letters (and '_', as in
 *    GEORADIUS_RO) and its CRLF.
 *  - Inline commands ("PING\r\n") are plain words that NATS, IRC and others
 *    send too, so they are not a signature on their own. Redis's answer to
 *    PING, "+PONG\r\n" alone in a packet, is.
 *  - A reply (simple string, error, integer, bulk string, array, and RESP3's
 *    null, boolean, map, set, push, attribute, double, big number) is only
 *    taken after a command this signature recognised: its first byte alone
 *    would match many text protocols.
 */
#ifndef PKTSPEC_BPF_SIG_REDIS_H
#define PKTSPEC_BPF_SIG_REDIS_H

#include "sig.h"
#include "bytes.h"

#define PKS_REDIS_COUNT_DIGITS 4 /* arguments of a first command: up to 9999 */
#define PKS_REDIS_REPLY_DIGITS 10 /* a 32-bit length or integer */
#define PKS_REDIS_NAME_MAX 24     /* the longest command name (GEORADIUSBYMEMBER_RO) has 20 */

/*
 * "<digits>\r\n" at off with 1..max digits: returns how many digits, or 0.
 * Branch-free (see bytes.h): the result is the only thing that varies.
 */
static __always_inline __u32 pks_redis_digits(const struct pks_payload *p, __u32 off, __u32 max)
{
	__u64 alive = 1, n = 0;
	__u32 j;

	for (j = 0; j <= PKS_REDIS_REPLY_DIGITS; j++) {
		__u32 c = p->b[(off + j) & PKS_WIN_MASK];
		__u64 end = pks_is(c, '\r') & pks_is(p->b[(off + j + 1) & PKS_WIN_MASK], '\n') & pks_lt(0, j) &
			    pks_lt(j, max + 1) & pks_lt(off + j + 1, p->len);

		n |= (alive & end) * j;
		alive &= pks_in_range(c, '0', '9');
	}
	return n;
}

static __always_inline int pks_redis_command(const struct pks_payload *p, struct pks_match *m)
{
	__u32 d, o, n, i;
	__u64 ok = 1, v1, v2;

	/* "*<count>\r\n", a count that does not start with 0. */
	d = pks_redis_digits(p, 1, PKS_REDIS_COUNT_DIGITS);
	if (!d || p->b[1] == '0')
		return 0;
	o = (1 + d + 2) & PKS_WIN_MASK;
	if (p->b[o] != '$')
		return 0;
	/* "$<n>\r\n" with n of 1 or 2 digits, 1..PKS_REDIS_NAME_MAX. */
	d = pks_redis_digits(p, o + 1, 2);
	if (!d)
		return 0;
	v1 = p->b[(o + 1) & PKS_WIN_MASK] - '0';
	v2 = p->b[(o + 2) & PKS_WIN_MASK] - '0';
	n = v1 + (d - 1) * (v1 * 9 + v2);
	if (n == 0 || n > PKS_REDIS_NAME_MAX)
		return 0;
	o = (o + 1 + d + 2) & PKS_WIN_MASK;
	/* The name: letters and '_', exactly n of them, then CRLF, all inside the window. */
	for (i = 0; i < PKS_REDIS_NAME_MAX; i++) {
		__u32 c = p->b[(o + i) & PKS_WIN_MASK];
		__u64 name = pks_in_range(c | 0x20, 'a', 'z') | pks_is(c, '_');

		ok &= name | (pks_lt(i, n) ^ 1);
	}
	if (!ok || o + n + 2 > p->len || p->b[(o + n) & PKS_WIN_MASK] != '\r' ||
	    p->b[(o + n + 1) & PKS_WIN_MASK] != '\n')
		return 0;
	m->cookie = PKS_TAG_COOKIE(PKS_TAG_REDIS, 0);
	m->set_cookie = 1;
	return pks_match_set(m, PKS_P_REDIS, PKS_R_REDIS_COMMAND, PKS_ROLE_CLIENT);
}

/* A reply's first line, after a command of ours (RESP2 and RESP3 types). */
static __always_inline int pks_redis_reply_ok(const struct pks_payload *p)
{
	__u8 t = p->b[0], c = p->b[1];
	__u32 off = 1;

	switch (t) {
	case '+': /* simple string: a word such as OK, PONG, QUEUED */
		return pks_is_upper(c) || (c >= 'a' && c <= 'z');
	case '-': /* error: an upper-case code such as ERR, WRONGTYPE, NOAUTH */
		return pks_is_upper(c) && pks_is_upper(p->b[2]);
	case '_': /* RESP3 null */
		return c == '\r' && p->b[2] == '\n';
	case '#': /* RESP3 boolean */
		return (c == 't' || c == 'f') && p->b[2] == '\r' && p->b[3] == '\n';
	case ',': /* RESP3 double: digits, sign, "inf", "nan" */
		return pks_is_digit(c) || c == '-' || c == '+' || c == 'i' || c == 'n';
	case ':':
	case '(':
		if (c == '-' || c == '+')
			off = 2;
		break;
	case '$':
	case '*':
		if (c == '-') /* RESP2 null bulk string or array */
			return p->b[2] == '1' && p->b[3] == '\r' && p->b[4] == '\n';
		break;
	case '%':
	case '~':
	case '>':
	case '|':
	case '=':
	case '!':
		break;
	default:
		return 0;
	}
	return pks_redis_digits(p, off, PKS_REDIS_REPLY_DIGITS) != 0;
}

static __always_inline int pks_sig_redis(const struct pks_payload *p, struct pks_match *m)
{
	int ours = PKS_COOKIE_TAG(p->cookie) == PKS_TAG_REDIS && p->flow_proto == PKS_P_REDIS;

	if (p->l4 != IPPROTO_TCP || p->len < 3)
		return 0;
	/* An array reply looks like a command: in the server's direction it is a reply. */
	if (ours && !p->from_client && pks_redis_reply_ok(p))
		return pks_match_set(m, PKS_P_REDIS, PKS_R_REDIS_REPLY, PKS_ROLE_SERVER);
	if (p->b[0] == '*' && pks_redis_command(p, m))
		return 1;
	/* "+PONG\r\n" alone: the answer to PING only Redis gives. */
	if (p->total == 7 && pks_be32(p, 0) == PKS_C4('+', 'P', 'O', 'N') && p->b[4] == 'G' && p->b[5] == '\r' &&
	    p->b[6] == '\n') {
		m->cookie = PKS_TAG_COOKIE(PKS_TAG_REDIS, 0);
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_REDIS, PKS_R_REDIS_PONG, PKS_ROLE_SERVER);
	}
	return 0;
}

#endif
