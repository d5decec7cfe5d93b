/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * memcached over UDP (memcached's doc/protocol.txt, "UDP protocol"): an
 * 8-byte frame header (request ID, sequence number, total datagrams, a
 * reserved zero word) before the text protocol.
 *  - A request fits one datagram: sequence 0 of 1. Its text starts with a
 *    command from protocol.txt ("get", "gets", "gat", "gats", "set", "add",
 *    "replace", "append", "prepend", "cas", "delete", "incr", "decr",
 *    "touch", "stats", "version", meta commands "mg", "ms", "md", "ma", "mn")
 *    followed by a space or CR LF.
 *  - A response repeats the request ID, numbers its datagrams (sequence less
 *    than total) and starts with a reply word ("VALUE", "END", "STORED",
 *    "NOT_", "EXISTS", "DELETED", "TOUCHED", "ERROR", "CLIENT_", "SERVER_",
 *    "STAT", "VERSION", "OK", meta "HD", "VA", "EN", "NF", "NS", "EX", "MN").
 *    It confirms when the request ID matches.
 */
#ifndef PKTSPEC_BPF_SIG_MEMCACHED_UDP_H
#define PKTSPEC_BPF_SIG_MEMCACHED_UDP_H

#include "sig.h"

#define PKS_MC_HDR 8
#define PKS_MC_COOKIE_SET 0x10000

static __always_inline int pks_mc_sep(__u8 c)
{
	return c == ' ' || c == '\r';
}

/* Whether the text at offset 8 starts with a request command and its separator. */
static __always_inline int pks_mc_request(const struct pks_payload *p)
{
	__u32 w = pks_be32(p, PKS_MC_HDR);

	switch (w >> 16) {
	case 'm' << 8 | 'g':
	case 'm' << 8 | 's':
	case 'm' << 8 | 'd':
	case 'm' << 8 | 'a':
	case 'm' << 8 | 'n':
		return pks_mc_sep(p->b[PKS_MC_HDR + 2]);
	}
	switch (w & 0xffffff00) {
	case PKS_C4('g', 'e', 't', 0):
	case PKS_C4('g', 'a', 't', 0):
	case PKS_C4('s', 'e', 't', 0):
	case PKS_C4('a', 'd', 'd', 0):
	case PKS_C4('c', 'a', 's', 0):
		return pks_mc_sep(w & 0xff) || ((w & 0xff) == 's' && pks_mc_sep(p->b[PKS_MC_HDR + 4]));
	}
	switch (w) {
	case PKS_C4('i', 'n', 'c', 'r'):
	case PKS_C4('d', 'e', 'c', 'r'):
		return pks_mc_sep(p->b[PKS_MC_HDR + 4]);
	case PKS_C4('t', 'o', 'u', 'c'):
		return p->b[PKS_MC_HDR + 4] == 'h' && pks_mc_sep(p->b[PKS_MC_HDR + 5]);
	case PKS_C4('s', 't', 'a', 't'):
		return p->b[PKS_MC_HDR + 4] == 's' && pks_mc_sep(p->b[PKS_MC_HDR + 5]);
	case PKS_C4('d', 'e', 'l', 'e'):
		return (pks_be32(p, PKS_MC_HDR + 4) >> 8) == ('t' << 16 | 'e' << 8 | ' ');
	case PKS_C4('v', 'e', 'r', 's'):
		return pks_be32(p, PKS_MC_HDR + 4) == PKS_C4('i', 'o', 'n', '\r');
	case PKS_C4('a', 'p', 'p', 'e'):
		return (pks_be32(p, PKS_MC_HDR + 4) >> 8) == ('n' << 16 | 'd' << 8 | ' ');
	case PKS_C4('p', 'r', 'e', 'p'):
		return pks_be32(p, PKS_MC_HDR + 4) == PKS_C4('e', 'n', 'd', ' ');
	case PKS_C4('r', 'e', 'p', 'l'):
		return pks_be32(p, PKS_MC_HDR + 4) == PKS_C4('a', 'c', 'e', ' ');
	}
	return 0;
}

static __always_inline int pks_mc_response(const struct pks_payload *p)
{
	__u32 w = pks_be32(p, PKS_MC_HDR);

	switch (w) {
	case PKS_C4('V', 'A', 'L', 'U'):
	case PKS_C4('E', 'N', 'D', '\r'):
	case PKS_C4('S', 'T', 'O', 'R'):
	case PKS_C4('N', 'O', 'T', '_'):
	case PKS_C4('E', 'X', 'I', 'S'):
	case PKS_C4('D', 'E', 'L', 'E'):
	case PKS_C4('T', 'O', 'U', 'C'):
	case PKS_C4('E', 'R', 'R', 'O'):
	case PKS_C4('C', 'L', 'I', 'E'):
	case PKS_C4('S', 'E', 'R', 'V'):
	case PKS_C4('S', 'T', 'A', 'T'):
	case PKS_C4('V', 'E', 'R', 'S'):
	case PKS_C4('O', 'K', '\r', '\n'):
		return 1;
	}
	switch (w >> 16) {
	case 'H' << 8 | 'D':
	case 'V' << 8 | 'A':
	case 'E' << 8 | 'N':
	case 'N' << 8 | 'F':
	case 'N' << 8 | 'S':
	case 'E' << 8 | 'X':
	case 'M' << 8 | 'N':
		return (w & 0xff00) == ' ' << 8 || (w & 0xffff) == ('\r' << 8 | '\n');
	}
	return 0;
}

static __always_inline int pks_sig_memcached_udp(const struct pks_payload *p, struct pks_match *m)
{
	__u32 id = pks_be16(p, 0), seq = pks_be16(p, 2), count = pks_be16(p, 4);

	if (p->len < PKS_MC_HDR + 4 || pks_be16(p, 6) != 0 || count == 0 || seq >= count)
		return 0;
	if (seq == 0 && count == 1 && pks_mc_request(p)) {
		m->cookie = id | PKS_MC_COOKIE_SET;
		m->set_cookie = 1;
		return pks_match_set(m, PKS_P_MEMCACHED, PKS_R_MEMCACHED_UDP_REQUEST, PKS_ROLE_CLIENT);
	}
	if (seq == 0 && pks_mc_response(p)) {
		if ((p->cookie & PKS_MC_COOKIE_SET) && (p->cookie & 0xffff) != id)
			m->no_confirm = 1;
		return pks_match_set(m, PKS_P_MEMCACHED, PKS_R_MEMCACHED_UDP_RESPONSE, PKS_ROLE_SERVER);
	}
	return 0;
}

#endif
