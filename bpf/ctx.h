/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * The kernel half of the context rules (include/pktspec/events.h has the
 * contract, user/engine.h the user half).
 *
 * On a flow's first packet XDP asks what earlier flows said about it: an
 * announced flow in pks_expect (FTP data, RTP/RTCP, TFTP) gives the verdict
 * with confidence "expected"; else a remembered server in pks_servers gives
 * its verdict, also "expected", which a contradicting signature may overrule;
 * pks_hosts gives the application of a server a DNS answer named. Then it
 * tells the engine: a new-flow event, verdict-change events, and, while a rule
 * wants them, bounded copies of payload packets with their TCP sequence
 * numbers. Nothing here blocks: when the ring is full the event is counted
 * as lost and the packet goes on.
 */
#ifndef PKTSPEC_BPF_CTX_H
#define PKTSPEC_BPF_CTX_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pktspec/pktspec.h"
#include "pktspec/events.h"
#include "parse.h"
#include "hook.h"
#include "oprules.h"

#define PKS_CTX_OFF_MAX 0x3fff /* payload offset cap, as in pks_hook_window */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PKS_EVENTS_RING);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PKS_EXPECT_MAX);
	__type(key, struct pks_expect_key);
	__type(value, struct pks_expect);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_expect SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PKS_SERVERS_MAX);
	__type(key, struct pks_server_key);
	__type(value, struct pks_server);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_servers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PKS_HOSTS_MAX);
	__type(key, struct pks_host_key);
	__type(value, struct pks_host);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_hosts SEC(".maps");

/* Written by the engine only; here so that one object creates and pins it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PKS_NAMES_MAX);
	__type(key, struct pks_flow_key);
	__type(value, struct pks_flow_name);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PKS_DONE_MAX);
	__type(key, struct pks_flow_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_done SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pks_ctx_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_ctxstats SEC(".maps");

/* Written by the engine and the kernel rules: include/pktspec/events.h. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct pks_ctl);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_ctl SEC(".maps");

static __always_inline struct pks_ctl *pks_ctl_get(__u32 writer)
{
	return bpf_map_lookup_elem(&pks_ctl, &writer);
}

/* Whether an engine reads the events: without one, sending them is wasted work. */
static __always_inline int pks_ctx_consumer(void)
{
	struct pks_ctl *c = pks_ctl_get(PKS_CTL_ENGINE);

	return c && c->consumer;
}

/* Whether an expectation written by the engine or the kernel may still be alive. */
static __always_inline int pks_ctx_expect_alive(__u64 now)
{
	struct pks_ctl *u = pks_ctl_get(PKS_CTL_ENGINE), *k = pks_ctl_get(PKS_CTL_KERNEL);

	return (u && now < u->expect_until) || (k && now < k->expect_until);
}

/*
 * Scratch for building a payload copy: too big for the 512-byte stack.
 * Pinned with the stage chain (bpf/hook.h): pks_copy prepares it and
 * pks_krules sends it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pks_event_payload);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_scratch SEC(".maps");

static __always_inline struct pks_ctx_stats *pks_ctx_stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pks_ctxstats, &zero);
}

#define PKS_CTX_COUNT(field)                                   \
	do {                                                   \
		struct pks_ctx_stats *_s = pks_ctx_stats();    \
		if (_s)                                        \
			_s->field++; /* per-CPU: no other writer */ \
	} while (0)

/*
 * The copy's length, read back from the record through the compiler (a
 * barrier, a volatile load) so that neither the compiler nor the verifier
 * carries over what it knew of it: the verifier does not track map memory,
 * so it sees one value of 0..PKS_SNAP_LEN, however many paths led here.
 */
static __always_inline __u64 pks_ctx_caplen(const struct pks_event_payload *ev)
{
	__u64 n;

	asm volatile("" ::: "memory");
	n = *(volatile __u32 *)&ev->hdr.caplen;
	return n > PKS_SNAP_LEN ? PKS_SNAP_LEN : n;
}

/*
 * How many payload packets of direction dir the rules need for a flow with
 * this verdict (see PKS_COPY_* in events.h); 0 when no rule reads it. DNS
 * names come from responses only, so queries are not copied.
 */
static __always_inline __u8 pks_ctx_budget(__u8 proto, int dir)
{
	switch (proto) {
	case PKS_P_FTP:
	case PKS_P_SIP:
	case PKS_P_RTSP:
		return PKS_COPY_CONTROL;
	case PKS_P_DNS:
		return dir == PKS_DIR_S2C ? PKS_COPY_CONTROL : 0;
	case PKS_P_TLS:
	case PKS_P_QUIC:
	case PKS_P_HTTP:
		return PKS_COPY_FIRST;
	}
	/* TFTP: the kernel decides from the signature's own match (pks_ctx_tftp_request). */
	return 0;
}

/* Sets or clears the want bit after the verdict moved. */
static __always_inline void pks_ctx_update_want(struct pks_flow *f)
{
	if (!(f->ctx & PKS_X_DONE) && (pks_ctx_budget(f->proto, 0) || pks_ctx_budget(f->proto, 1)))
		f->ctx |= PKS_X_WANT;
	else
		f->ctx &= ~PKS_X_WANT;
}

static __always_inline void pks_ctx_addr_copy(__u8 *dst, const __u8 *src)
{
	__builtin_memcpy(dst, src, 16);
}

/* One pks_expect lookup; a stale entry is removed, never used. */
static __always_inline struct pks_expect *pks_ctx_expect_get(struct pks_expect_key *k, __u64 now)
{
	struct pks_expect *e = bpf_map_lookup_elem(&pks_expect, k);

	if (e && e->expires_ns <= now) {
		bpf_map_delete_elem(&pks_expect, k);
		PKS_CTX_COUNT(expect_expired);
		return NULL;
	}
	return e;
}

/*
 * What earlier flows say about a new one, before it is inserted: fills the
 * verdict from pks_expect or pks_servers, the app from pks_hosts, and the
 * want bit. Lookup order: see struct pks_expect_key.
 */
static __always_inline void pks_ctx_flow_new(struct pks_flow *f, const struct pks_pkt *p, int src_side, __u64 now)
{
	struct pks_expect_key k = {};
	struct pks_server_key sk = {};
	struct pks_host_key hk;
	struct pks_expect *e = NULL;
	struct pks_server *s;
	struct pks_host *h;
	const __u8 *server_addr;
	__u16 server_port;
	int server_is_src, listener_is_dst = 1;

	/* No expectation can be alive: five lookups saved on every new flow. */
	if (!pks_ctx_expect_alive(now))
		goto no_expect;
	k.l4 = p->l4;
	pks_ctx_addr_copy(k.listen_addr, p->dst);
	k.listen_port = p->dport;
	pks_ctx_addr_copy(k.peer_addr, p->src);
	k.peer_port = p->sport;
	e = pks_ctx_expect_get(&k, now);
	if (!e) {
		k.peer_port = 0;
		e = pks_ctx_expect_get(&k, now);
	}
	if (!e) {
		__builtin_memset(k.peer_addr, 0, 16);
		e = pks_ctx_expect_get(&k, now);
	}
	if (!e && p->l4 == IPPROTO_UDP) {
		listener_is_dst = 0;
		pks_ctx_addr_copy(k.listen_addr, p->src);
		k.listen_port = p->sport;
		pks_ctx_addr_copy(k.peer_addr, p->dst);
		e = pks_ctx_expect_get(&k, now);
		if (!e) {
			__builtin_memset(k.peer_addr, 0, 16);
			e = pks_ctx_expect_get(&k, now);
		}
	}
	if (e) {
		f->proto = e->proto;
		f->confidence = PKS_C_EXPECTED;
		f->rule = e->rule;
		f->ctx |= PKS_X_AT_FIRST;
		/* Nothing to inspect: the announcement is the evidence (and an
		 * FTP data connection may carry any bytes at all). */
		f->flags |= PKS_F_DECIDED;
		if (e->flags & PKS_EXP_LISTENER_CLIENT) {
			/* The flow's first packet was sent by the announced peer to
			 * the listener: the listener is the client (TFTP). */
			f->bits = (f->bits & ~PKS_B_CLIENT_B) |
				  ((listener_is_dst ? !src_side : src_side) == PKS_SIDE_B ? PKS_B_CLIENT_B : 0);
		}
		if (e->flags & PKS_EXP_ONCE)
			bpf_map_delete_elem(&pks_expect, &k);
		PKS_CTX_COUNT(expect_hit);
	}
no_expect:

	server_is_src = (!pks_flow_client(f)) == src_side;
	server_addr = server_is_src ? p->src : p->dst;
	server_port = server_is_src ? p->sport : p->dport;

	if (!e) {
		pks_ctx_addr_copy(sk.addr, server_addr);
		sk.port = server_port;
		sk.l4 = p->l4;
		s = bpf_map_lookup_elem(&pks_servers, &sk);
		if (s && s->expires_ns > now) {
			f->proto = s->proto;
			f->confidence = PKS_C_EXPECTED;
			f->rule = PKS_R_SERVER_MEMORY;
			f->ctx |= PKS_X_AT_FIRST | PKS_X_MEMORY;
			/* The app an earlier flow's name gave (SNI, Host): policy by app from this packet. */
			f->app = s->app;
			PKS_CTX_COUNT(memory_hit);
		}
	}

	pks_ctx_addr_copy(hk.addr, server_addr);
	h = bpf_map_lookup_elem(&pks_hosts, &hk);
	if (h && h->expires_ns > now) {
		if (h->app)
			f->app = h->app;
		f->ctx |= PKS_X_NAMED;
		/*
		 * Named by a DNS answer before its first packet, and the name has
		 * an application: confidence "dns", so that a policy by app (with
		 * any minimum up to dns) applies from this packet. The protocol
		 * stays the port's guess; a signature still replaces it (pks_apply).
		 */
		if (h->app && f->confidence <= PKS_C_PORT) {
			f->confidence = PKS_C_DNS;
			f->rule = PKS_R_DNS_NAMED;
			f->ctx |= PKS_X_AT_FIRST;
		}
		PKS_CTX_COUNT(host_hit);
	}
	/* Last: the operator overrides what anything above guessed. */
	if (pks_op_flow_new(f, server_addr, server_port, p->l4))
		PKS_CTX_COUNT(user_hit);
	pks_ctx_update_want(f);
}

/*
 * Announcements whose announced flow may start before the engine could write
 * it: a passive FTP reply reaches the client's XDP hook, and the client
 * connects to the data port microseconds later; a TFTP server answers a
 * request from its new port at once. For these two, the kernel writes the
 * same pks_expect entry the user rule (user/rule_ftp.c, rule_tftp.c) would,
 * from the payload copy in the scratch record, and says so in the event
 * (PKS_EVK_EXPECTED) so that the rule does not write it again. Everything
 * else (PORT/EPRT, whose flow starts after the server's own work; replies
 * longer than the scan; NAT variants) is left to the user rules.
 */
#define PKS_KEXP_SCAN 80 /* bytes of a reply or command scanned: the line fits */
#define PKS_KEXP_NUMS 6  /* numbers in a host-port (RFC 959 4.1.2) */

struct pks_kexp_nums {
	__u32 v[PKS_KEXP_NUMS];
	__u8 seps[PKS_KEXP_NUMS];
	__u8 count;     /* numbers wanted */
	__u8 skip_text; /* skip bytes before the first digit */
	__u8 field;     /* numbers read so far */
	__u8 digits;    /* digits of the current number */
	__u8 pos;       /* bytes stepped so far */
	__u8 first;     /* position of the first digit */
	__u8 kind;      /* enum pks_kexp_kind being read */
	__u8 start;     /* where in the copy the numbers start */
	__u32 val;
};

/* The announcements the kernel reads itself. */
enum pks_kexp_kind {
	PKS_KEXP_NONE,
	PKS_KEXP_PASV, /* 227 (h1,h2,h3,h4,p1,p2) */
	PKS_KEXP_EPSV, /* 229 (|||port|) */
	PKS_KEXP_PORT, /* PORT h1,h2,h3,h4,p1,p2 */
	PKS_KEXP_EPRT, /* EPRT |1|a.b.c.d|port| */
};

/* Working space of the kernel rules: per-CPU, because the XDP program's stack is nearly spent. */
struct pks_kexp_scratch {
	struct pks_kexp_nums o;
	struct pks_expect_key k;
	struct pks_expect v;
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pks_kexp_scratch);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_kexp SEC(".maps");

static __always_inline void pks_kexp_put(struct pks_kexp_scratch *s, const __u8 *listen, __u16 port,
					 const __u8 *peer, __u8 l4, __u8 proto, __u16 rule, __u8 flags, __u64 now)
{
	struct pks_expect_key *k = &s->k;
	struct pks_expect *v = &s->v;

	__builtin_memset(k, 0, sizeof(*k));
	__builtin_memset(v, 0, sizeof(*v));
	pks_ctx_addr_copy(k->listen_addr, listen);
	pks_ctx_addr_copy(k->peer_addr, peer);
	k->listen_port = port;
	k->l4 = l4;
	v->expires_ns = now + PKS_EXPECT_TTL_KERNEL;
	v->proto = proto;
	v->rule = rule;
	v->flags = flags;
	bpf_map_update_elem(&pks_expect, k, v, BPF_ANY);
	{
		struct pks_ctl *ctl = pks_ctl_get(PKS_CTL_KERNEL);

		/*
		 * New flows look pks_expect up until then. Two CPUs writing at
		 * once may store the earlier of two expiries microseconds apart.
		 */
		if (ctl && ctl->expect_until < v->expires_ns)
			ctl->expect_until = v->expires_ns;
	}
}


/*
 * One byte of a scan for decimal numbers, each followed by one separator
 * byte (recorded in seps): 0 for more, 1 when `count` numbers were read, -1
 * when the bytes are not of that form. With skip_text, bytes before the first
 * digit are skipped (227's free text). The scan's state lives in a per-CPU
 * map value, which the verifier does not track, and is read and written
 * through a volatile pointer, so that the compiler cannot keep it in
 * registers (which the verifier does track): every byte's paths join again at
 * the next byte, and the scan costs a few paths per byte, not one path per
 * parse state.
 */
static __always_inline int pks_kexp_step(volatile struct pks_kexp_nums *o, __u32 c)
{
	__u32 field;

	o->pos++;
	if (c >= '0' && c <= '9') {
		if (!o->digits && !o->field)
			o->first = o->pos - 1;
		o->val = o->val * 10 + (c - '0');
		if (++o->digits > 5)
			return -1;
		return 0;
	}
	if (!o->digits)
		return (o->field || !o->skip_text) ? -1 : 0; /* two separators in a row */
	field = o->field;
	if (field >= PKS_KEXP_NUMS)
		return -1;
	o->v[field] = o->val;
	o->seps[field] = c;
	o->field = field + 1;
	if (o->field >= o->count)
		return 1;
	o->val = 0;
	o->digits = 0;
	return 0;
}

/*
 * Runs pks_kexp_step over the copy from `start`; 0 when the numbers were
 * read. 64-bit n and start, so that the checks bound the registers the
 * verifier follows.
 */
static __always_inline int pks_kexp_scan(const struct pks_event_payload *ev, __u64 n, __u64 start,
					 struct pks_kexp_nums *o)
{
	__u64 i;

	if (start > 8)
		return -1;
	for (i = 0; i < PKS_KEXP_SCAN; i++) {
		int r;

		if (start + i >= n)
			return -1;
		r = pks_kexp_step((volatile struct pks_kexp_nums *)o, ev->data[start + i]);
		if (r)
			return r > 0 ? 0 : -1;
	}
	return -1;
}

/* a,b,c,d,p1,p2 (RFC 959 4.1.2 host-port) from numbers and separators. */
static __always_inline int pks_kexp_host_port(const struct pks_kexp_nums *o, __u8 *addr, __u16 *port)
{
	for (int i = 0; i < 6; i++)
		if (o->v[i] > 255 || (i < 5 && o->seps[i] != ','))
			return -1;
	if (o->v[4] == 0 && o->v[5] == 0)
		return -1;
	__builtin_memset(addr, 0, 10);
	addr[10] = addr[11] = 0xff;
	addr[12] = o->v[0];
	addr[13] = o->v[1];
	addr[14] = o->v[2];
	addr[15] = o->v[3];
	*port = (o->v[4] << 8) | o->v[5];
	return 0;
}

static __always_inline int pks_kexp_delim(__u8 d)
{
	/* RFC 2428 2: a printable ASCII character other than a digit. */
	return d >= 33 && d <= 126 && !(d >= '0' && d <= '9');
}

/*
 * Returns PKS_EVK_EXPECTED when it wrote an expectation. Which announcement
 * it is decides where the numbers start and how many there are; then one
 * scan reads them (one copy of the scan loop for the verifier, not one per
 * announcement: what differs between them goes through the scratch record,
 * which the verifier does not track); then the announcement's own checks.
 */
static __always_inline int pks_ctx_kernel_rules(const struct pks_event_payload *ev, const struct pks_flow *f,
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
	n = pks_ctx_caplen(ev);
	if (n < 8)
		return 0;
	if (f->proto != PKS_P_FTP || p->l4 != IPPROTO_TCP)
		return 0;
	if (dir == PKS_DIR_S2C) {
		/* Reply code and a space (RFC 959 4.2); the engine handles multi-line forms. */
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
		pks_kexp_put(s, addr, port, p->dst, IPPROTO_TCP, PKS_P_FTP_DATA, PKS_R_FTP_PASV, PKS_EXP_ONCE,
			     now);
		/* Behind NAT the announced address may not be the one the client dials: the server's too. */
		diff = 0;
		for (int i = 0; i < 16; i++)
			diff |= addr[i] ^ p->src[i];
		if (diff)
			pks_kexp_put(s, p->src, port, p->dst, IPPROTO_TCP, PKS_P_FTP_DATA, PKS_R_FTP_PASV,
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
		pks_kexp_put(s, p->src, o->v[0], p->dst, IPPROTO_TCP, PKS_P_FTP_DATA, PKS_R_FTP_EPSV, PKS_EXP_ONCE,
			     now);
		return PKS_EVK_EXPECTED;
	case PKS_KEXP_PORT:
		if (pks_kexp_host_port(o, addr, &port))
			return 0;
		pks_kexp_put(s, addr, port, p->dst, IPPROTO_TCP, PKS_P_FTP_DATA, PKS_R_FTP_PORT, PKS_EXP_ONCE,
			     now);
		return PKS_EVK_EXPECTED;
	case PKS_KEXP_EPRT:
		d = ev->data[5];
		if (o->first != 0 || o->v[0] > 255 || o->v[1] > 255 || o->v[2] > 255 || o->v[3] > 255 || !o->v[4] ||
		    o->v[4] > 65535 || o->seps[0] != '.' || o->seps[1] != '.' || o->seps[2] != '.' ||
		    o->seps[3] != d || o->seps[4] != d)
			return 0;
		__builtin_memset(addr, 0, 10);
		addr[10] = addr[11] = 0xff;
		addr[12] = o->v[0];
		addr[13] = o->v[1];
		addr[14] = o->v[2];
		addr[15] = o->v[3];
		pks_kexp_put(s, addr, o->v[4], p->dst, IPPROTO_TCP, PKS_P_FTP_DATA, PKS_R_FTP_EPRT, PKS_EXP_ONCE,
			     now);
		return PKS_EVK_EXPECTED;
	}
	return 0;
}

/*
 * A new-flow or verdict-change event; lost (and counted) when the ring is
 * full. `now` is the packet's time. `old` is the verdict before,
 * as proto << 8 | confidence.
 */
static __always_inline void pks_ctx_event(const struct pks_flow *f, const struct pks_flow_key *key, int type,
					  __u32 old, __u64 now)
{
	struct pks_event *ev;

	if (!pks_ctx_consumer())
		return;
	ev = bpf_ringbuf_reserve(&pks_events, sizeof(*ev), 0);
	if (!ev) {
		if (type == PKS_EV_FLOW)
			PKS_CTX_COUNT(lost_flow);
		else
			PKS_CTX_COUNT(lost_verdict);
		return;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->ts_ns = now;
	__builtin_memcpy(&ev->key, key, sizeof(*key));
	ev->type = type;
	ev->client = pks_flow_client(f);
	ev->proto = f->proto;
	ev->confidence = f->confidence;
	ev->rule = f->rule;
	ev->old_proto = old >> 8;
	ev->old_confidence = old & 0xff;
	ev->ctx = f->ctx;
	ev->flags = f->flags;
	ev->app = f->app;
	bpf_ringbuf_submit(ev, 0);
	if (type == PKS_EV_FLOW)
		PKS_CTX_COUNT(ev_flow);
	else
		PKS_CTX_COUNT(ev_verdict);
}

/*
 * Copies n (<= PKS_SNAP_LEN) payload bytes at offset off of the packet into
 * ev->data; returns how many it copied. off and n are 64-bit so that the
 * checks below bound the very registers the verifier follows.
 */
#ifdef PKS_HOOK_TC
/*
 * The tc version: bpf_skb_load_bytes (4.5) reads paged data too, which an
 * outgoing skb's payload usually is. n is cut to what the skb holds.
 */
static __always_inline __u64 pks_ctx_copy_bytes(struct __sk_buff *ctx, __u64 off, __u64 n,
						struct pks_event_payload *ev)
{
	__u64 len = ctx->len;

	if (off > PKS_CTX_OFF_MAX || n > PKS_SNAP_LEN || off >= len)
		return 0;
	if (n > len - off)
		n = len - off;
	if (n == 0)
		return 0;
	/*
	 * The helper wants a length the verifier knows to be 1..PKS_SNAP_LEN.
	 * Verifiers before 6.2 lose the lower bound of the checks above in
	 * the register the compiler passes; this arithmetic gives it to every
	 * verifier (n is already in range, so its value does not change).
	 */
	n = ((n - 1) & (PKS_SNAP_LEN - 1)) + 1;
	if (bpf_skb_load_bytes(ctx, off, ev->data, n))
		return 0;
	return n;
}
#else
/* bpf_xdp_load_bytes is 5.18+: bounded loops, 8 bytes at a time, then the last few one by one. */
static __always_inline __u64 pks_ctx_copy_bytes(struct xdp_md *ctx, __u64 off, __u64 n,
						struct pks_event_payload *ev)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 i, j, done;
	__u8 *src;

	if (off > PKS_CTX_OFF_MAX || n > PKS_SNAP_LEN)
		return 0;
	src = data + off;
	ev->hdr.payload_len = n;
	/* Bounded: PKS_SNAP_LEN / 8 words. */
	for (i = 0; i < PKS_SNAP_LEN / 8; i++) {
		if (i * 8 + 8 > n)
			break;
		if ((void *)(src + i * 8 + 8) > end)
			break;
		*(__u64 *)&ev->data[i * 8] = *(__u64 *)(src + i * 8);
	}
	/*
	 * One state for the rest, not one per way out of the loop: the words
	 * copied and the length (which each way out bounds differently) are
	 * read back from the record (pks_ctx_caplen).
	 */
	ev->hdr.caplen = i * 8;
	done = pks_ctx_caplen(ev);
	n = *(volatile __u32 *)&ev->hdr.payload_len;
	if (n > PKS_SNAP_LEN)
		return done;
	/* Fresh packet pointers too: the loop's checks left each way out its own proven range. */
	src = (void *)(long)ctx->data + off;
	end = (void *)(long)ctx->data_end;
	/* Bounded: fewer than 8 bytes remain. */
	for (j = 0; j < 8; j++) {
		__u64 k = (done + j) & (PKS_SNAP_LEN - 1);
		__u8 *b;

		if (done + j >= n)
			break;
		b = src + k;
		if ((void *)(b + 1) > end)
			break;
		ev->data[k] = *b;
	}
	return done + j;
}
#endif

/*
 * Prepares a copy of this packet's payload (at most PKS_SNAP_LEN bytes) in
 * the per-CPU record pks_scratch when a rule wants the flow and the
 * direction's budget is not spent: returns the record, or NULL when there is
 * nothing to send. A flow the engine put in pks_done stops here for good.
 * `now` is the packet's time. pks_ctx_send() sends it, after the
 * kernel rules (pks_ctx_kernel_rules) had their look when they want one.
 */
static __always_inline struct pks_event_payload *pks_ctx_prepare(struct pks_hook_ctx *ctx, struct pks_flow *f,
								  const struct pks_flow_key *key,
								  const struct pks_pkt *p, int dir, __u64 now)
{
	struct pks_event_payload *ev;
	__u32 zero = 0, off, n;

	dir &= 1;
	if (f->copied[dir] >= pks_ctx_budget(f->proto, dir))
		return NULL;
	if (bpf_map_lookup_elem(&pks_done, key)) {
		f->ctx = (f->ctx & ~PKS_X_WANT) | PKS_X_DONE;
		bpf_map_delete_elem(&pks_done, key);
		PKS_CTX_COUNT(done);
		return NULL;
	}
	ev = bpf_map_lookup_elem(&pks_scratch, &zero);
	if (!ev)
		return NULL;
	off = p->payload_off;
	if (off > PKS_CTX_OFF_MAX)
		return NULL;
	n = p->payload_len;
	if (n > PKS_SNAP_LEN) {
		n = PKS_SNAP_LEN;
		PKS_CTX_COUNT(snap_cut);
	}
	/*
	 * The length goes into the record at once and is read back from there
	 * (pks_ctx_caplen): each way out of the copy loop leaves it with its
	 * own value, and what follows should be verified once, not per length.
	 */
	ev->hdr.caplen = pks_ctx_copy_bytes(ctx, off, n, ev);

	__builtin_memset(&ev->hdr, 0, __builtin_offsetof(struct pks_event, caplen));
	ev->hdr.ts_ns = now;
	__builtin_memcpy(&ev->hdr.key, key, sizeof(*key));
	ev->hdr.type = PKS_EV_PAYLOAD;
	ev->hdr.dir = dir;
	ev->hdr.client = pks_flow_client(f);
	ev->hdr.nth = f->copied[dir];
	ev->hdr.proto = f->proto;
	ev->hdr.confidence = f->confidence;
	ev->hdr.rule = f->rule;
	ev->hdr.old_proto = f->proto;
	ev->hdr.old_confidence = f->confidence;
	ev->hdr.ctx = f->ctx;
	ev->hdr.flags = f->flags;
	ev->hdr.app = f->app;
	ev->hdr.seq = p->tcp_seq;
	ev->hdr.payload_len = p->payload_len;
	ev->hdr.kflags = 0;
	f->copied[dir]++;
	return ev;
}

/* Whether a prepared copy is one the kernel rules read (FTP replies and commands). */
static __always_inline int pks_ctx_kernel_wants(const struct pks_flow *f, const struct pks_pkt *p)
{
	return f->proto == PKS_P_FTP && p->l4 == IPPROTO_TCP;
}

/*
 * TFTP's announcement is the request itself: the server answers from a new
 * port at once (RFC 1350 4), before any daemon could write the expectation.
 * The kernel owns it, and the TFTP signature (bpf/sig/tftp.h: opcode,
 * printable filename, NUL, known mode, NUL) is its one parser: when it
 * matched a client's RRQ/WRQ, the reply from the server's any port to the
 * client's port is expected; the client is the requester.
 */
static __always_inline void pks_ctx_tftp_request(const struct pks_pkt *p, __u64 now)
{
	struct pks_kexp_scratch *s;
	__u32 zero = 0;

	s = bpf_map_lookup_elem(&pks_kexp, &zero);
	if (!s)
		return;
	pks_kexp_put(s, p->src, p->sport, p->dst, IPPROTO_UDP, PKS_P_TFTP, PKS_R_TFTP_REQUEST,
		     PKS_EXP_ONCE | PKS_EXP_LISTENER_CLIENT, now);
}

/*
 * Whether this payload goes to pks_copy: a rule wants the flow, and either
 * an engine reads the copies or the kernel's own rules do.
 */
static __always_inline int pks_ctx_copy_wanted(const struct pks_flow *f, const struct pks_pkt *p)
{
	return p->payload_len && (f->ctx & PKS_X_WANT) && (pks_ctx_kernel_wants(f, p) || pks_ctx_consumer());
}

/* Sends a prepared copy at its real length; lost (and counted) when the ring is full. */
static __always_inline int pks_ctx_send(struct pks_event_payload *ev)
{
	__u64 done = pks_ctx_caplen(ev);

	/* Prepared for the kernel rules only: nobody reads the ring. */
	if (!pks_ctx_consumer())
		return 0;
	if (bpf_ringbuf_output(&pks_events, ev, sizeof(ev->hdr) + done, 0)) {
		PKS_CTX_COUNT(lost_payload);
		return 0;
	}
	PKS_CTX_COUNT(ev_payload);
	return 1;
}

#endif /* PKTSPEC_BPF_CTX_H */
