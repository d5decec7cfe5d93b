/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * The kernel's FTP rule: on a payload copy of an FTP control connection, a
 * 227 (PASV) or 229 (EPSV) reply, or a PORT or EPRT |1| (IPv4) command at the
 * start of the segment, gives the data connection's pks_expect entry
 * (context/kexp.h). The kernel owns these; EPRT with an IPv6 address is the
 * engine's (user/rule_ftp.c), and an announcement that does not start its
 * segment (the multi-line 227- form) is read by neither (doc/context.md).
 * Run by the pks_krules stage, before the copy goes out.
 */
#ifndef PKTSPEC_BPF_CONTEXT_FTP_H
#define PKTSPEC_BPF_CONTEXT_FTP_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pktspec/pktspec.h"
#include "pktspec/events.h"
#include "parse.h"
#include "context/events.h"
#include "context/scan.h"
#include "context/kexp.h"

/* The announcements the kernel reads itself. */
enum pks_kexp_kind {
	PKS_KEXP_NONE,
	PKS_KEXP_PASV, /* 227 (h1,h2,h3,h4,p1,p2) */
	PKS_KEXP_EPSV, /* 229 (|||port|) */
	PKS_KEXP_PORT, /* PORT h1,h2,h3,h4,p1,p2 */
	PKS_KEXP_EPRT, /* EPRT |1|a.b.c.d|port| */
};

/* The IPv4 address of the first four numbers, IPv4-mapped (RFC 4291 2.5.5.2) as keys hold it. */
static __always_inline void pks_kexp_v4mapped(const struct pks_kexp_nums *o, __u8 *addr)
{
	__builtin_memset(addr, 0, 10);
	addr[10] = addr[11] = 0xff;
	addr[12] = o->v[0];
	addr[13] = o->v[1];
	addr[14] = o->v[2];
	addr[15] = o->v[3];
}

/* a,b,c,d,p1,p2 (RFC 959 4.1.2 host-port) from numbers and separators. */
static __always_inline int pks_kexp_host_port(const struct pks_kexp_nums *o, __u8 *addr, __u16 *port)
{
	for (int i = 0; i < 6; i++)
		if (o->v[i] > 255 || (i < 5 && o->seps[i] != ','))
			return -1;
	if (o->v[4] == 0 && o->v[5] == 0)
		return -1;
	pks_kexp_v4mapped(o, addr);
	*port = (o->v[4] << 8) | o->v[5];
	return 0;
}

static __always_inline int pks_kexp_delim(__u8 d)
{
	/* RFC 2428 2: a printable ASCII character other than a digit. */
	return d >= 33 && d <= 126 && !(d >= '0' && d <= '9');
}

/*
 * Reads an FTP announcement at the start of a payload copy; returns
 * PKS_EVK_EXPECTED when it wrote an expectation. Which announcement
 * it is decides where the numbers start and how many there are; then one
 * scan reads them (one copy of the scan loop for the verifier, not one per
 * announcement: what differs between them goes through the scratch record,
 * which the verifier does not track); then the announcement's own checks.
 */
static __always_inline int pks_cr_ftp_announce(const struct pks_event_payload *ev, const struct pks_flow *f,
					       const struct pks_pkt *p, int dir, __u64 now)
{
	struct pks_kexp_scratch *s;
	struct pks_kexp_nums *o;
	__u32 zero = 0, n, at;
	__u8 *addr, d, diff;
	__u16 port;

	s = bpf_map_lookup_elem(&pks_kexp, &zero);
	if (!s)
		return 0;
	o = &s->o;
	addr = s->addr;
	__builtin_memset(o, 0, sizeof(*o));
	n = pks_cr_caplen(ev);
	if (n < 8)
		return 0;
	if (f->proto != PKS_P_FTP || p->l4 != IPPROTO_TCP)
		return 0;
	if (dir == PKS_DIR_S2C) {
		/* Reply code and a space (RFC 959 4.2): the one-line form only. */
		if (ev->data[0] != '2' || ev->data[1] != '2' || ev->data[3] != ' ')
			return 0;
		o->skip_text = 1;
		o->start = 4;
		if (ev->data[2] == '7') {
			/* 227 text (h1,h2,h3,h4,p1,p2): the numbers start at the first digit. */
			o->kind = PKS_KEXP_PASV;
			o->count = 6;
		} else if (ev->data[2] == '9') {
			/* 229 text (|||port|) (RFC 2428 3): "(" and three delimiters before the port. */
			o->kind = PKS_KEXP_EPSV;
			o->count = 1;
		} else {
			return 0;
		}
	} else if (ev->data[0] == 'P' && ev->data[1] == 'O' && ev->data[2] == 'R' && ev->data[3] == 'T' &&
		   ev->data[4] == ' ') {
		/* PORT h1,h2,h3,h4,p1,p2 (RFC 959 4.1.2); the server connects to it. */
		o->kind = PKS_KEXP_PORT;
		o->count = 6;
		o->start = 5;
	} else if (ev->data[0] == 'E' && ev->data[1] == 'P' && ev->data[2] == 'R' && ev->data[3] == 'T' &&
		   ev->data[4] == ' ' && ev->data[6] == '1' && ev->data[7] == ev->data[5] &&
		   pks_kexp_delim(ev->data[5])) {
		/* EPRT |1|a.b.c.d|port| (RFC 2428 2); IPv6 text is left to the engine. */
		o->kind = PKS_KEXP_EPRT;
		o->count = 5;
		o->start = 8;
	} else {
		return 0;
	}
	asm volatile("" ::: "memory");
	if (pks_kexp_scan(ev, n, *(volatile __u8 *)&o->start, o))
		return 0;
	switch (*(volatile __u8 *)&o->kind) {
	case PKS_KEXP_PASV:
		if (pks_kexp_host_port(o, addr, &port))
			return 0;
		pks_kexp_put(s, p, addr, port, p->dst, IPPROTO_TCP, PKS_P_FTP_DATA, PKS_R_FTP_PASV, PKS_EXP_ONCE,
			     now);
		/* Behind NAT the announced address may not be the one the client dials: the server's too. */
		diff = 0;
		for (int i = 0; i < 16; i++)
			diff |= addr[i] ^ p->src[i];
		if (diff)
			pks_kexp_put(s, p, p->src, port, p->dst, IPPROTO_TCP, PKS_P_FTP_DATA, PKS_R_FTP_PASV,
				     PKS_EXP_ONCE, now);
		return PKS_EVK_EXPECTED;
	case PKS_KEXP_EPSV:
		if (!o->v[0] || o->v[0] > 65535)
			return 0;
		at = o->first;
		if (at < 4 || at > PKS_KEXP_SCAN)
			return 0;
		at += 4; /* offset of the port's first digit in the copy */
		d = ev->data[at - 1];
		if (ev->data[at - 4] != '(' || ev->data[at - 3] != d || ev->data[at - 2] != d || o->seps[0] != d ||
		    !pks_kexp_delim(d))
			return 0;
		pks_kexp_put(s, p, p->src, o->v[0], p->dst, IPPROTO_TCP, PKS_P_FTP_DATA, PKS_R_FTP_EPSV, PKS_EXP_ONCE,
			     now);
		return PKS_EVK_EXPECTED;
	case PKS_KEXP_PORT:
		if (pks_kexp_host_port(o, addr, &port))
			return 0;
		pks_kexp_put(s, p, addr, port, p->dst, IPPROTO_TCP, PKS_P_FTP_DATA, PKS_R_FTP_PORT, PKS_EXP_ONCE,
			     now);
		return PKS_EVK_EXPECTED;
	case PKS_KEXP_EPRT:
		d = ev->data[5];
		if (o->first != 0 || o->v[0] > 255 || o->v[1] > 255 || o->v[2] > 255 || o->v[3] > 255 || !o->v[4] ||
		    o->v[4] > 65535 || o->seps[0] != '.' || o->seps[1] != '.' || o->seps[2] != '.' ||
		    o->seps[3] != d || o->seps[4] != d)
			return 0;
		pks_kexp_v4mapped(o, addr);
		pks_kexp_put(s, p, addr, o->v[4], p->dst, IPPROTO_TCP, PKS_P_FTP_DATA, PKS_R_FTP_EPRT, PKS_EXP_ONCE,
			     now);
		return PKS_EVK_EXPECTED;
	}
	return 0;
}

#endif /* PKTSPEC_BPF_CONTEXT_FTP_H */
