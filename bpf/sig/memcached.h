/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * memcached, text and binary protocols (memcached's doc/protocol.txt:
 * "Commands", "Storage commands", "Retrieval command", "Deletion",
 * "Increment/Decrement", "Touch", "Meta Commands", "Statistics", "Other
 * commands"; doc/protocol-binary.txt "Packet Structure", "Request Header",
 * "Response Header", "Response Status", "Command Opcodes").
 *
 * Text: the command words (get, set, stats, ...) are common words, so the
 * whole command line has to follow its grammar inside the window: the word,
 * single spaces, the right number of tokens, numeric tokens where the grammar
 * has numbers, no control bytes, CRLF. A storage command's data block
 * follows its line: the packet holds at least line + <bytes> + CRLF, or the
 * data continues in the next segment. Replies (VALUE, END, STORED, STAT,
 * VERSION, ...) are only taken after a text command of ours.
 *
 * Binary: a request has magic 0x80, data type 0 (raw), a known opcode, the
 * extras length that opcode defines, and a total body that holds key and
 * extras. The response has magic 0x81, the request's opcode and opaque, and
 * a defined status.
 */
#ifndef PKTSPEC_BPF_SIG_MEMCACHED_H
#define PKTSPEC_BPF_SIG_MEMCACHED_H

#include "sig.h"
#include "bytes.h"

#define PKS_MC_SEGMENT 1400 /* a data block this small is sent with its line */
#define PKS_MC_TOK_MAX 8 /* cas has 7 tokens with noreply; numbers are checked in tokens 1..7 */

/* 1 when x is zero, else 0, without a branch. */
static __always_inline __u32 pks_mc_zero(__u64 x)
{
	return ((x | -x) >> 63) ^ 1;
}

/* pks_mc_scan() result: token count, numeric tokens, data block consistency. */
#define PKS_MC_NTOK(r) ((r) & 0xff)
#define PKS_MC_NUMS(r) (((r) >> 8) & 0xff)
#define PKS_MC_DATA_OK 0x10000

/*
 * Scans the first line of a text command: it must end with CRLF in the
 * window and hold only printable bytes and single spaces between non-empty
 * tokens. Returns 0 when it does not, else the token count, a bit per token
 * 1..6 that is a number ('-' allowed, for exptime), and PKS_MC_DATA_OK when a
 * storage command's data block (<bytes>, token 4) fits what the packet holds.
 *
 * Branch-free inside its loops on purpose: masks
 * built with branches hold exact values on every path, so each later test of
 * them is decided in advance, which makes the verifier keep every path apart
 * (3^63 of them). Built arithmetically from the bytes they stay unknown to the
 * verifier, and the paths merge.
 */
static __always_inline int pks_mc_scan(const struct pks_payload *p)
{
	__u64 sp = 0, nd = 0, bad = 0, cr = 0, lf = 0, in, end, line_bits, s1, s2, s3, s4, s5, s6;
	__u64 b1, b2, b3, b4, b5, b6, b7, tok4, v = 0;
	__u32 i, eol, num = 0, ntok, line, whole;

	if (p->len < 2)
		return 0;
	in = p->len >= 64 ? ~0ULL : (1ULL << p->len) - 1;
	for (i = 0; i < PKS_WIN; i++) {
		__u32 c = p->b[i];
		__s64 d = (__s64)c - 0x21; /* printable non-space: 0x21..0x7e */
		__u64 digit = (((__u64)((__s64)c - '0') >> 63) | ((__u64)('9' - (__s64)c) >> 63)) ^ 1;
		__u64 is_sp = pks_is(c, ' '), is_cr = pks_is(c, '\r');

		sp |= is_sp << i;
		cr |= is_cr << i;
		lf |= pks_is(c, '\n') << i;
		bad |= ((((__u64)d >> 63) | ((__u64)(0x5d - d) >> 63)) & (is_sp ^ 1) & (is_cr ^ 1)) << i;
		nd |= ((digit | pks_is(c, '-') | is_sp) ^ 1) << i;
	}
	cr &= in;
	end = cr & -cr; /* the first CR */
	if (!end || !((end << 1) & lf & in))
		return 0;
	line_bits = end - 1;
	sp &= line_bits;
	if ((bad & line_bits) || end == 1)
		return 0;
	/* Leading, doubled or trailing spaces make an empty token. */
	if ((sp & 1) || (sp & (sp >> 1)) || (sp & (end >> 1)))
		return 0;
	ntok = pks_popcount64(sp) + 1;
	eol = pks_popcount64(line_bits);
	/*
	 * The k-th space bk by clearing the lowest set bit k-1 times; every bit
	 * from the CR up stands in for missing spaces, so no step meets an empty
	 * mask. Token k lies strictly between bk and b(k+1).
	 */
	sp |= ~line_bits;
	b1 = sp & -sp;
	s1 = sp & (sp - 1);
	b2 = s1 & -s1;
	s2 = s1 & (s1 - 1);
	b3 = s2 & -s2;
	s3 = s2 & (s2 - 1);
	b4 = s3 & -s3;
	s4 = s3 & (s3 - 1);
	b5 = s4 & -s4;
	s5 = s4 & (s4 - 1);
	b6 = s5 & -s5;
	s6 = s5 & (s5 - 1);
	b7 = s6 & -s6;
	num |= pks_mc_zero(nd & (b2 - 1) & ~((b1 << 1) - 1)) << 1;
	num |= pks_mc_zero(nd & (b3 - 1) & ~((b2 << 1) - 1)) << 2;
	num |= pks_mc_zero(nd & (b4 - 1) & ~((b3 << 1) - 1)) << 3;
	num |= pks_mc_zero(nd & (b5 - 1) & ~((b4 << 1) - 1)) << 4;
	num |= pks_mc_zero(nd & (b6 - 1) & ~((b5 << 1) - 1)) << 5;
	num |= pks_mc_zero(nd & (b7 - 1) & ~((b6 << 1) - 1)) << 6;
	/* <bytes> = the digits of token 4, read branch-free like the masks. */
	tok4 = (b5 - 1) & ~((b4 << 1) - 1) & line_bits;
	for (i = 0; i < PKS_WIN; i++) {
		__u64 bit = (tok4 >> i) & 1, dv = (__u64)p->b[i] - '0';

		v = v + bit * (v * 9 + dv);
	}
	/* A data block in this packet must be all of a small block; a big one may span segments. */
	line = eol + 2;
	whole = line + 2 + (pks_popcount64(tok4) > 6 ? PKS_MC_SEGMENT : (__u32)v);
	if (p->total == line || p->total >= whole || whole > PKS_MC_SEGMENT)
		num |= PKS_MC_DATA_OK >> 8;
	return ntok | (num << 8);
}

#define PKS_MC_NUM(t) (1u << (t))
/* A command word's grammar: token count lo..hi, the numeric tokens it needs. */
#define PKS_MC_CMD(lo, hi, need) ((__u32)(lo) | (__u32)(hi) << 8 | (__u32)(need) << 16)
#define PKS_MC_CMD_LO(c) ((c) & 0xff)
#define PKS_MC_CMD_HI(c) (((c) >> 8) & 0xff)
#define PKS_MC_CMD_NEED(c) ((c) >> 16)

/* The command word, by its first four bytes and what ends it: its grammar, or 0. */
static __always_inline __u32 pks_mc_command(const struct pks_payload *p)
{
	__u32 w = pks_be32(p, 0);
	__u8 c4 = p->b[4];

	switch (w) {
	case PKS_C4('g', 'e', 't', ' '): return PKS_MC_CMD(2, 255, 0);
	case PKS_C4('g', 'e', 't', 's'): return c4 == ' ' ? PKS_MC_CMD(2, 255, 0) : 0;
	case PKS_C4('g', 'a', 't', ' '): return PKS_MC_CMD(3, 255, PKS_MC_NUM(1));
	case PKS_C4('g', 'a', 't', 's'): return c4 == ' ' ? PKS_MC_CMD(3, 255, PKS_MC_NUM(1)) : 0;
	case PKS_C4('s', 'e', 't', ' '):
	case PKS_C4('a', 'd', 'd', ' '):
		return PKS_MC_CMD(5, 6, PKS_MC_NUM(2) | PKS_MC_NUM(3) | PKS_MC_NUM(4));
	case PKS_C4('r', 'e', 'p', 'l'): /* replace */
		if (pks_be32(p, 4) != PKS_C4('a', 'c', 'e', ' ')) return 0;
		return PKS_MC_CMD(5, 6, PKS_MC_NUM(2) | PKS_MC_NUM(3) | PKS_MC_NUM(4));
	case PKS_C4('a', 'p', 'p', 'e'): /* append */
		if (pks_be16(p, 4) != ('n' << 8 | 'd') || p->b[6] != ' ') return 0;
		return PKS_MC_CMD(5, 6, PKS_MC_NUM(2) | PKS_MC_NUM(3) | PKS_MC_NUM(4));
	case PKS_C4('p', 'r', 'e', 'p'): /* prepend */
		if (pks_be32(p, 4) != PKS_C4('e', 'n', 'd', ' ')) return 0;
		return PKS_MC_CMD(5, 6, PKS_MC_NUM(2) | PKS_MC_NUM(3) | PKS_MC_NUM(4));
	case PKS_C4('c', 'a', 's', ' '):
		return PKS_MC_CMD(6, 7, PKS_MC_NUM(2) | PKS_MC_NUM(3) | PKS_MC_NUM(4) | PKS_MC_NUM(5));
	case PKS_C4('d', 'e', 'l', 'e'): /* delete */
		if (pks_be16(p, 4) != ('t' << 8 | 'e') || p->b[6] != ' ') return 0;
		return PKS_MC_CMD(2, 3, 0);
	case PKS_C4('i', 'n', 'c', 'r'):
	case PKS_C4('d', 'e', 'c', 'r'):
		return c4 == ' ' ? PKS_MC_CMD(3, 4, PKS_MC_NUM(2)) : 0;
	case PKS_C4('t', 'o', 'u', 'c'): /* touch */
		if (p->b[4] != 'h' || p->b[5] != ' ') return 0;
		return PKS_MC_CMD(3, 4, PKS_MC_NUM(2));
	case PKS_C4('v', 'e', 'r', 's'): /* version */
		if (pks_be32(p, 4) != PKS_C4('i', 'o', 'n', '\r')) return 0;
		return PKS_MC_CMD(1, 1, 0);
	case PKS_C4('s', 't', 'a', 't'): /* stats [group] */
		return c4 == 's' ? PKS_MC_CMD(1, 3, 0) : 0;
	case PKS_C4('f', 'l', 'u', 's'): /* flush_all [delay] [noreply] */
		if (pks_be32(p, 4) != PKS_C4('h', '_', 'a', 'l') || p->b[8] != 'l') return 0;
		return PKS_MC_CMD(1, 3, 0);
	case PKS_C4('v', 'e', 'r', 'b'): /* verbosity <level> */
		if (pks_be32(p, 4) != PKS_C4('o', 's', 'i', 't') || p->b[8] != 'y') return 0;
		return PKS_MC_CMD(2, 3, PKS_MC_NUM(1));
	}
	/* Meta commands: mg/md/ma/me <key> <flags>*, ms <key> <datalen> <flags>*, mn. */
	if (p->b[0] != 'm' || (p->b[2] != ' ' && p->b[2] != '\r'))
		return 0;
	switch (p->b[1]) {
	case 'g': case 'd': case 'a': case 'e': return PKS_MC_CMD(2, 255, 0);
	case 's': return PKS_MC_CMD(3, 255, PKS_MC_NUM(2));
	case 'n': return PKS_MC_CMD(1, 1, 0);
	}
	return 0;
}

/*
 * Whether the window holds " HTTP/" inside its valid bytes. "get / HTTP/1.1"
 * follows memcached's retrieval grammar (get <key>*, keys being any
 * printable bytes: protocol.txt "Keys"), but it is an HTTP request line with
 * its method in the wrong case (RFC 9112 3): an explicit separation, so that
 * a malformed HTTP request is not named memcached.
 */
static __always_inline __u64 pks_mc_http_version_seen(const struct pks_payload *p)
{
	__u64 hit = 0;
	__u32 i;

	for (i = 0; i + 6 <= PKS_WIN; i++)
		hit |= pks_is(p->b[i], ' ') & pks_is(p->b[i + 1], 'H') & pks_is(p->b[i + 2], 'T') &
		       pks_is(p->b[i + 3], 'T') & pks_is(p->b[i + 4], 'P') & pks_is(p->b[i + 5], '/') &
		       pks_lt(i + 5, p->len);
	return hit;
}

/*
 * A text command: its word first, and only then the line's scan, which reads
 * every byte of the window twice: payloads that start with no command word
 * (nearly all that reach this stage) skip it. The word's grammar and the
 * scan's result both pass through pks_forget(), so that what follows is
 * verified once, not once per command word or per value the scan can return.
 */
static __always_inline int pks_mc_text(const struct pks_payload *p, struct pks_match *m)
{
	__u32 cmd = pks_mc_command(p), lo, hi, need, ntok;
	int r;

	if (!cmd)
		return 0;
	cmd = pks_forget(m, cmd);
	if (p->from_client && pks_mc_http_version_seen(p))
		return 0;
	r = (int)pks_forget(m, pks_mc_scan(p));
	lo = PKS_MC_CMD_LO(cmd);
	hi = PKS_MC_CMD_HI(cmd);
	need = PKS_MC_CMD_NEED(cmd);
	ntok = PKS_MC_NTOK(r);
	if (ntok < lo || ntok > hi || (PKS_MC_NUMS(r) & need) != need)
		return 0;
	/* Storage commands: the data block and its CRLF follow the line. */
	if ((hi == 6 || hi == 7) && !(r & PKS_MC_DATA_OK))
		return 0;
	m->cookie = PKS_TAG_COOKIE(PKS_TAG_MEMC_TEXT, 0);
	m->set_cookie = 1;
	return pks_match_set(m, PKS_P_MEMCACHED, PKS_R_MEMCACHED_TEXT, PKS_ROLE_CLIENT);
}

/* Text replies (protocol.txt), only after a text command of ours. */
static __always_inline int pks_mc_text_reply(const struct pks_payload *p)
{
	switch (pks_be32(p, 0)) {
	case PKS_C4('V', 'A', 'L', 'U'): return p->b[4] == 'E' && p->b[5] == ' ';
	case PKS_C4('E', 'N', 'D', '\r'): return p->b[4] == '\n';
	case PKS_C4('S', 'T', 'A', 'T'): return p->b[4] == ' ';
	case PKS_C4('S', 'T', 'O', 'R'): return p->b[4] == 'E' && p->b[5] == 'D';
	case PKS_C4('N', 'O', 'T', '_'): return 1; /* NOT_STORED, NOT_FOUND */
	case PKS_C4('E', 'X', 'I', 'S'): return p->b[4] == 'T' && p->b[5] == 'S';
	case PKS_C4('D', 'E', 'L', 'E'): return p->b[4] == 'T' && p->b[5] == 'E';
	case PKS_C4('T', 'O', 'U', 'C'): return p->b[4] == 'H' && p->b[5] == 'E';
	case PKS_C4('V', 'E', 'R', 'S'): return pks_be32(p, 4) == PKS_C4('I', 'O', 'N', ' ');
	case PKS_C4('E', 'R', 'R', 'O'): return p->b[4] == 'R';
	case PKS_C4('C', 'L', 'I', 'E'): /* CLIENT_ERROR */
	case PKS_C4('S', 'E', 'R', 'V'): /* SERVER_ERROR */
		return pks_be32(p, 4) == PKS_C4('N', 'T', '_', 'E') || pks_be32(p, 4) == PKS_C4('E', 'R', '_', 'E');
	case PKS_C4('O', 'K', '\r', '\n'):
		return 1;
	}
	/* Meta replies: HD, VA <size>, EN, NF, NS, EX, MN, ME. */
	switch (pks_be16(p, 0)) {
	case 'H' << 8 | 'D':
	case 'V' << 8 | 'A':
	case 'E' << 8 | 'N':
	case 'N' << 8 | 'F':
	case 'N' << 8 | 'S':
	case 'E' << 8 | 'X':
	case 'M' << 8 | 'N':
	case 'M' << 8 | 'E':
		return p->b[2] == ' ' || p->b[2] == '\r';
	}
	/* incr/decr answer with the new value. */
	return pks_is_digit(p->b[0]);
}

/* Extras length a binary request opcode carries (protocol-binary.txt), or -1 for unknown opcodes. */
static __always_inline int pks_mc_bin_extras(__u8 op)
{
	switch (op) {
	case 0x00: case 0x09: case 0x0c: case 0x0d: /* get, getq, getk, getkq */
	case 0x04: case 0x14:                       /* delete, deleteq */
	case 0x0e: case 0x0f: case 0x19: case 0x1a: /* append, prepend and quiet forms */
	case 0x07: case 0x17:                       /* quit, quitq */
	case 0x0a: case 0x0b: case 0x10:            /* noop, version, stat */
	case 0x20: case 0x21: case 0x22:            /* SASL list, auth, step */
		return 0;
	case 0x01: case 0x02: case 0x03:            /* set, add, replace */
	case 0x11: case 0x12: case 0x13:            /* and their quiet forms */
		return 8;
	case 0x05: case 0x06: case 0x15: case 0x16: /* incr, decr and quiet forms */
		return 20;
	case 0x1b: case 0x1c: case 0x1d: case 0x1e: /* verbosity, touch, gat, gatq */
		return 4;
	}
	return -1;
}

static __always_inline int pks_mc_binary(const struct pks_payload *p, struct pks_match *m)
{
	__u32 key = pks_be16(p, 2), extras = p->b[4], body = pks_be32(p, 8), status;
	__u8 op = p->b[1];
	int want;

	if (p->len < 24 || p->b[5] != 0 || body > (1u << 24) || key + extras > body || key > 250)
		return 0;
	if (p->b[0] == 0x80) {
		want = pks_mc_bin_extras(op);
		/* flush carries an optional 4-byte expiry; quit, noop, version and stat may not have a key. */
		if (op == 0x08 || op == 0x18)
			want = extras == 4 ? 4 : 0;
		if (want < 0 || extras != (__u32)want)
			return 0;
		if ((op == 0x0a || op == 0x0b || op == 0x07 || op == 0x17) && body != 0)
			return 0;
		if ((op == 0x00 || op == 0x09 || op == 0x0c || op == 0x0d || op == 0x04 || op == 0x14 ||
		     want == 8) && key == 0)
			return 0;
		if (p->total < 24 + key + extras)
			return 0;
		m->cookie = PKS_TAG_COOKIE(PKS_TAG_MEMC_BIN, ((__u32)op << 16) | pks_be16(p, 14));
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_MEMCACHED, PKS_R_MEMCACHED_BINARY, PKS_ROLE_CLIENT);
	}
	if (p->b[0] != 0x81 || PKS_COOKIE_TAG(p->cookie) != PKS_TAG_MEMC_BIN)
		return 0;
	/* The response to our request: same opcode and opaque (low 16 bits kept). */
	if (((p->cookie >> 16) & 0xff) != op || (p->cookie & 0xffff) != pks_be16(p, 14))
		return 0;
	status = pks_be16(p, 6);
	if (status > 0x08 && (status < 0x20 || status > 0x24) && (status < 0x81 || status > 0x86))
		return 0;
	return pks_match_set(m, PKS_P_MEMCACHED, PKS_R_MEMCACHED_BINARY_REPLY, PKS_ROLE_SERVER);
}

static __always_inline int pks_sig_memcached_binary(const struct pks_payload *p, struct pks_match *m)
{
	if (p->l4 != IPPROTO_TCP || p->len < 24 || (p->b[0] != 0x80 && p->b[0] != 0x81))
		return 0;
	return pks_mc_binary(p, m);
}

/*
 * The text protocol on TCP: a reply only after a text command of ours, else
 * a command (never what reads as an HTTP request: pks_mc_text).
 */
static __always_inline int pks_sig_memcached_text_tcp(const struct pks_payload *p, struct pks_match *m)
{
	if (p->l4 != IPPROTO_TCP || p->len < 5)
		return 0;
	if (PKS_COOKIE_TAG(p->cookie) == PKS_TAG_MEMC_TEXT && p->flow_proto == PKS_P_MEMCACHED && !p->from_client) {
		if (pks_mc_text_reply(p))
			return pks_match_set(m, PKS_P_MEMCACHED, PKS_R_MEMCACHED_TEXT_REPLY, PKS_ROLE_SERVER);
		return 0;
	}
	return pks_mc_text(p, m);
}

#endif
