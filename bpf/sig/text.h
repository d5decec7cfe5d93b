/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Helpers for the line-oriented protocols of the tcp_a group (FTP, SMTP, POP3,
 * IMAP, IRC, RTSP, XMPP) and the cookie tags the group's signatures keep.
 *
 * Text protocols are recognised by an exact token followed by its delimiter,
 * never by a prefix alone: "USER" must be followed by a space, a reply code by
 * a space or a hyphen. Tokens are compared after folding ASCII letters to
 * upper case where the specification says commands are case-insensitive.
 */
#ifndef PKTSPEC_BPF_SIG_TEXT_H
#define PKTSPEC_BPF_SIG_TEXT_H

#include "sig.h"
#include "bytes.h"

/*
 * Flow cookie set by a tcp_a signature: a tag naming the protocol in the top
 * byte and bits 16..23, so that a later message from the other side can ask
 * "did this flow's first message say FTP?" without looking at the port. DNS
 * (0x1xxxx) and QUIC (a version) never produce this tag.
 */
#define PKS_TA_TAG 0x7a000000u
#define PKS_TA_COOKIE(proto, val) (PKS_TA_TAG | ((__u32)(proto) << 16) | ((val) & 0xffff))
#define PKS_TA_COOKIE_IS(cookie, proto) (((cookie) & 0xffff0000u) == (PKS_TA_TAG | ((__u32)(proto) << 16)))

/* An HTTP/1.1 101 response was seen: an h2c or WebSocket upgrade may follow. */
#define PKS_HTTP_UPGRADE_COOKIE PKS_TA_COOKIE(PKS_P_HTTP, 101)

/* Bound of the token searches in the window (a greeting's product name). */
#define PKS_TEXT_SCAN 60

static __always_inline __u8 pks_upper(__u8 c)
{
	return (c >= 'a' && c <= 'z') ? c - ('a' - 'A') : c;
}

static __always_inline int pks_is_alpha(__u8 c)
{
	return pks_is_upper(pks_upper(c));
}

/* Printable ASCII, no control characters. */
static __always_inline int pks_is_print(__u8 c)
{
	return c >= 0x20 && c < 0x7f;
}

/* Four bytes at off folded to upper case, as a big-endian word. */
static __always_inline __u32 pks_upper4(const struct pks_payload *p, __u32 off)
{
	return PKS_C4(pks_upper(p->b[off & PKS_WIN_MASK]), pks_upper(p->b[(off + 1) & PKS_WIN_MASK]),
		      pks_upper(p->b[(off + 2) & PKS_WIN_MASK]), pks_upper(p->b[(off + 3) & PKS_WIN_MASK]));
}

/* Whether the byte at off ends a command word: a space, or CR LF. */
static __always_inline int pks_word_end(const struct pks_payload *p, __u32 off)
{
	__u8 c = p->b[off & PKS_WIN_MASK];

	if (off >= p->len)
		return 0;
	if (c == ' ')
		return 1;
	return c == '\r' && p->b[(off + 1) & PKS_WIN_MASK] == '\n';
}

/* A reply line "DDD " or "DDD-" (RFC 959 4.2, RFC 5321 4.2): the code, else 0. */
static __always_inline __u32 pks_reply_code(const struct pks_payload *p)
{
	__u8 a = p->b[0], b = p->b[1], c = p->b[2], d = p->b[3];

	if (p->len < 5 || a < '1' || a > '5' || b < '0' || b > '5' || !pks_is_digit(c))
		return 0;
	if (d != ' ' && d != '-')
		return 0;
	/* Text follows, or the line ends at once. */
	if (!pks_is_print(p->b[4]) && p->b[4] != '\r')
		return 0;
	return (a - '0') * 100 + (b - '0') * 10 + (c - '0');
}

/*
 * Whether the window holds the word w (4 bytes, none of them zero) at or after
 * from. The scans do not compare against p->len: the window is zero past len,
 * so no word of non-zero bytes matches there, and a loop that learns nothing
 * about len leaves the verifier one state per exit instead of one per
 * (exit, bound on len) pair. They do not stop at the first hit either: each
 * position adds its answer to the result without a branch (bytes.h), so the
 * loop is a plain counted loop. With an exit per position clang laid the
 * loop out so that its last instruction falls through into its first, which
 * Linux before 6.7 refuses to load.
 */
static __always_inline int pks_find4(const struct pks_payload *p, __u32 from, __u32 w)
{
	__u64 hit = 0;
	__u32 i;

	for (i = 0; i < PKS_TEXT_SCAN; i++) {
		__u32 at = from + i;

		hit |= pks_is(pks_be32(p, at), w) & pks_lt(at + 3, PKS_WIN);
	}
	return hit != 0;
}

/* Whether the window holds the three non-zero bytes w (big-endian, low 24 bits) at or after from. */
static __always_inline int pks_find3(const struct pks_payload *p, __u32 from, __u32 w)
{
	__u64 hit = 0;
	__u32 i;

	for (i = 0; i < PKS_TEXT_SCAN; i++) {
		__u32 at = from + i;

		hit |= pks_is(pks_be24(p, at), w) & pks_lt(at + 2, PKS_WIN);
	}
	return hit != 0;
}

#endif
