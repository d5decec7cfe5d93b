// SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0)
/*
 * pktspec XDP classifier.
 *
 * Per packet: parse L2..L4, find or create the flow (one entry for both
 * directions), count it, and while the flow is undecided run the payload
 * signatures on a bounded window of its first payload packets. The verdict
 * climbs port -> signature -> confirmed; a payload that contradicts a port
 * guess drops the guess. Every packet is passed, and exactly one reason is
 * counted for it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "pktspec/pktspec.h"
#include "parse.h"
#include "flow.h"
#include "maps.h"
#include "signatures.h"
#include "ctx.h"
#include "hook.h"
#include "scratch.h"

#define EEXIST 17
#define PKS_PAYLOAD_OFF_MAX 0x3fff

/* Set by the loader between open and load. */
const volatile struct pks_config pks_cfg = {
	.inspect_max = PKS_INSPECT_MAX,
};

/* Set by `pktspec replay` before each test run; zero on a live attachment. */
struct pks_replay pks_replay;

static __always_inline void pks_count(__u32 reason)
{
	__u32 zero = 0;
	__u64 *counters = bpf_map_lookup_elem(&pks_stats, &zero);

	if (!counters)
		return;
	if (reason >= PKS_REASON__COUNT)
		return;
	counters[reason]++; /* per-CPU: no other writer */
}

static __always_inline void pks_flow_init(struct pks_flow *f, const struct pks_pkt *p, int src_side,
					  __u64 now)
{
	int server_side;
	__u16 server_port, client_port;

	f->first_ns = now;
	f->last_ns = now;
	if (p->l4 == IPPROTO_TCP && (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		f->client = src_side;
		f->flags = PKS_F_SYN;
	} else if (p->l4 == IPPROTO_TCP && (p->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
		/* The SYN was missed, but the SYN-ACK names the server. */
		f->client = !src_side;
		f->flags = PKS_F_SYN;
	} else {
		f->client = src_side;
		f->flags = PKS_F_MIDSTREAM;
	}
	server_side = !f->client;
	server_port = (server_side == src_side) ? p->sport : p->dport;
	client_port = (server_side == src_side) ? p->dport : p->sport;
	f->guess = pks_port_guess(p->l4, server_port);
	if (f->guess == PKS_P_UNKNOWN && (f->flags & PKS_F_MIDSTREAM)) {
		/* The first packet seen came from the server: its port says so. */
		f->guess = pks_port_guess(p->l4, client_port);
		if (f->guess != PKS_P_UNKNOWN)
			f->client = !f->client;
	}
	if (f->guess != PKS_P_UNKNOWN) {
		f->proto = f->guess;
		f->confidence = PKS_C_PORT;
		f->rule = PKS_R_PORT;
	}
}

/* Swap the client and server of a flow whose client was only a guess. */
static __always_inline void pks_flow_flip(struct pks_flow *f)
{
	__u64 b = f->bytes[0];
	__u32 n = f->packets[0];
	__u8 i = f->inspected[0];

	f->bytes[0] = f->bytes[1];
	f->bytes[1] = b;
	f->packets[0] = f->packets[1];
	f->packets[1] = n;
	f->inspected[0] = f->inspected[1];
	f->inspected[1] = i;
	f->sig_dirs = ((f->sig_dirs & 1) << 1) | ((f->sig_dirs >> 1) & 1);
	f->client = !f->client;
}

/* Copies the first payload bytes into the window; the rest stays zero. */
static __always_inline void pks_window(struct pks_payload *pl, __u8 *src, void *end, __u32 payload_len)
{
	__u32 i;

	for (i = 0; i < PKS_WIN; i++) {
		if (i >= payload_len || (void *)(src + i + 1) > end)
			break;
		pl->b[i] = src[i];
	}
	pl->len = i;
	pl->total = payload_len;
}

/*
 * The hook-specific pieces: how the window is filled, how long the packet was
 * on the wire and how many wire packets it stands for. XDP reads the frame
 * directly; tc egress reads with bpf_skb_load_bytes, because an outgoing
 * skb's payload usually sits in paged fragments, and counts a GSO skb as the
 * segments it leaves as (each with its own copy of the headers).
 */
#ifdef PKS_HOOK_TC
static __always_inline int pks_hook_window(struct __sk_buff *ctx, struct pks_payload *pl, const struct pks_pkt *p)
{
	__u64 off = p->payload_off, n = p->payload_len, len = ctx->len;

	pl->total = p->payload_len;
	if (off > PKS_PAYLOAD_OFF_MAX || off >= len)
		return -1;
	if (n > len - off)
		n = len - off;
	if (n > PKS_WIN)
		n = PKS_WIN;
	/* The verifier needs the bounds on the register passed: keep clang from merging them away. */
	asm volatile("" : "+r"(n));
	if (n < 1 || n > PKS_WIN)
		return -1;
	if (bpf_skb_load_bytes(ctx, off, pl->b, n))
		return -1;
	pl->len = n;
	return 0;
}

static __always_inline __u32 pks_hook_segs(struct __sk_buff *ctx)
{
	__u32 segs = ctx->gso_segs;

	return segs > 1 ? segs : 1;
}

static __always_inline __u64 pks_hook_wire(struct __sk_buff *ctx, const struct pks_pkt *p)
{
	__u32 segs = pks_hook_segs(ctx);

	return (__u64)ctx->len + (__u64)(segs - 1) * (p->payload_off & PKS_PAYLOAD_OFF_MAX);
}
#else
static __always_inline int pks_hook_window(struct xdp_md *ctx, struct pks_payload *pl, const struct pks_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 off;

	/*
	 * The verifier marks a packet pointer checked against data_end only while
	 * its offset bound plus the access stays under 64 KiB: cap the offset well
	 * below (headers never come near it).
	 */
	off = p->payload_off;
	if (off > PKS_PAYLOAD_OFF_MAX)
		return -1;
	pks_window(pl, data + off, end, p->payload_len);
	return 0;
}

static __always_inline __u32 pks_hook_segs(struct xdp_md *ctx)
{
	return 1;
}

static __always_inline __u64 pks_hook_wire(struct xdp_md *ctx, const struct pks_pkt *p)
{
	return ctx->data_end - ctx->data;
}
#endif

/*
 * Runs the signatures on one payload packet of direction dir and moves the
 * verdict. A global function: the verifier checks it once, on its own, instead
 * of once for every parser path that reaches it (IPv4 options, IPv6 extension
 * chains and VLAN tags each give the payload pointer a different shape). So it
 * takes the context and the payload offset, not a packet pointer.
 */
__noinline int pks_inspect(struct pks_hook_ctx *ctx, struct pks_flow *f, const struct pks_pkt *p, int dir)
{
	struct pks_cls_scratch *s = pks_cls_scratch_get();
	struct pks_payload *pl;
	struct pks_match *mp;
	int matched;

	if (!f || !p || !s)
		return 0;
	/* Off the stack (scratch.h); cleared as the stack versions were. */
	pl = &s->pl;
	mp = &s->m;
	__builtin_memset(pl, 0, sizeof(*pl));
	__builtin_memset(mp, 0, sizeof(*mp));
	dir &= 1;
	if (pks_hook_window(ctx, pl, p))
		return 0;
	pl->sport = p->sport;
	pl->dport = p->dport;
	pl->l4 = p->l4;
	pl->from_client = dir == PKS_DIR_C2S;
	pl->nth = f->inspected[dir];
	pl->flow_proto = f->proto;
	pl->cookie = f->cookie;
	if (f->inspected[dir] < 255)
		f->inspected[dir]++;

	matched = pks_classify(pl, mp);
	if (matched && mp->proto == PKS_P_UNKNOWN) {
		/*
		 * State only: a weak signature (RTP) remembers this packet in the
		 * cookie and decides on a later one. It only does so on flows no
		 * other protocol owns, so the cookie is free.
		 */
		if (mp->set_cookie)
			f->cookie = mp->cookie;
		return 0;
	}
	if (matched && mp->role != PKS_ROLE_ANY && (mp->role == PKS_ROLE_CLIENT) != (dir == PKS_DIR_C2S)) {
		if (f->flags & PKS_F_MIDSTREAM) {
			/* A request from the side we took for the server: we were wrong. */
			pks_flow_flip(f);
			dir = !dir;
			f->flags &= ~PKS_F_MIDSTREAM;
		} else {
			matched = 0; /* a request from the SYN-ACK side is not evidence */
		}
	}

	if (matched && (f->ctx & PKS_X_MEMORY) && mp->proto != f->proto) {
		/* Server memory is a guess from earlier flows: a signature wins. */
		f->ctx &= ~PKS_X_MEMORY;
		f->confidence = PKS_C_NONE;
		PKS_CTX_COUNT(memory_overruled);
	}
	if (matched) {
		if (mp->upgrade && (f->flags & PKS_F_UPGRADE) && f->proto != mp->proto) {
			/*
			 * An explicit upgrade rule after an announced upgrade (h2c or
			 * WebSocket after HTTP/1.1 101, RFC 9110 7.8): the new protocol
			 * replaces the verdict, and its own reply confirms it.
			 */
			f->proto = mp->proto;
			f->confidence = PKS_C_SIGNATURE;
			f->rule = mp->rule;
			f->sig_dirs = 1 << dir;
			f->flags &= ~PKS_F_UPGRADE;
		} else if (f->proto == mp->proto && f->confidence >= PKS_C_SIGNATURE) {
			/* The other direction agrees: confirmed, by the confirming message. */
			if (f->sig_dirs && !(f->sig_dirs & (1 << dir)) && !mp->no_confirm &&
			    f->confidence == PKS_C_SIGNATURE) {
				f->confidence = PKS_C_CONFIRMED;
				f->rule = mp->rule;
			}
			/*
			 * A reply to another exchange (a DNS ID that differs) does
			 * not settle this direction: a later matching reply still can.
			 */
			if (!mp->no_confirm)
				f->sig_dirs |= 1 << dir;
		} else if (f->confidence < PKS_C_SIGNATURE) {
			/* First payload evidence; it overrides a port guess. */
			f->proto = mp->proto;
			f->confidence = PKS_C_SIGNATURE;
			f->rule = mp->rule;
			f->sig_dirs = 1 << dir;
		}
		/* A different protocol after a signature verdict: keep the first. */
		if (mp->set_cookie)
			f->cookie = mp->cookie;
		if (mp->await_upgrade)
			f->flags |= PKS_F_UPGRADE;
	} else if ((f->confidence == PKS_C_PORT || (f->ctx & PKS_X_MEMORY)) && pl->nth == 0 &&
		   pks_sig_covers(f->proto, dir == PKS_DIR_C2S) && (p->l4 != IPPROTO_TCP || (f->flags & PKS_F_SYN))) {
		/*
		 * The port (or server memory) promised a protocol whose first
		 * message this is not. On TCP only when the handshake was seen: the
		 * first payload of a flow picked up midstream is a continuation, not
		 * a first message.
		 */
		if (f->ctx & PKS_X_MEMORY)
			PKS_CTX_COUNT(memory_overruled);
		f->ctx &= ~PKS_X_MEMORY;
		f->proto = PKS_P_UNKNOWN;
		f->confidence = PKS_C_NONE;
		f->rule = PKS_R_PORT_CONTRADICTED;
	}
	return matched;
}

static __always_inline int pks_done_with(const struct pks_flow *f, int dir, __u8 max)
{
	/* After an announced upgrade, both directions stay open until their budget ends. */
	if (f->flags & PKS_F_UPGRADE)
		return f->inspected[dir] >= max;
	return (f->sig_dirs & (1 << dir)) || f->inspected[dir] >= max;
}

static __always_inline int pks_track(struct pks_hook_ctx *ctx, struct pks_pkt *p)
{
	__u8 max = pks_cfg.inspect_max;
	struct pks_flow_key key;
	struct pks_flow *f;
	int reason = PKS_REASON_TRACKED;
	int src_side, dir;
	__u64 now, wire;
	__u8 old_proto, old_confidence, copied = 0;

	if (max == 0 || max > PKS_INSPECT_MAX)
		max = PKS_INSPECT_MAX;
	now = pks_replay.now_ns ? pks_replay.now_ns : bpf_ktime_get_ns();
	wire = pks_replay.wire_len ? pks_replay.wire_len : pks_hook_wire(ctx, p);

	src_side = pks_flow_key_make(p, &key);
	f = bpf_map_lookup_elem(&pks_flows, &key);
	if (!f) {
		struct pks_cls_scratch *s = pks_cls_scratch_get();
		struct pks_flow *init;
		long err;

		if (!s)
			return PKS_REASON_FLOW_FULL;
		/* Off the stack (scratch.h): 64 bytes that pks_xdp's frame need not hold. */
		init = &s->init;
		__builtin_memset(init, 0, sizeof(*init));
		pks_flow_init(init, p, src_side, now);
		pks_ctx_flow_new(init, p, src_side, now);
		err = bpf_map_update_elem(&pks_flows, &key, init, BPF_NOEXIST);
		if (err && err != -EEXIST)
			return PKS_REASON_FLOW_FULL;
		f = bpf_map_lookup_elem(&pks_flows, &key);
		if (!f)
			return PKS_REASON_FLOW_FULL;
		reason = PKS_REASON_NEW_FLOW;
		if (!err)
			pks_ctx_event(f, &key, PKS_EV_FLOW, 0);
	}

	dir = src_side == f->client ? PKS_DIR_C2S : PKS_DIR_S2C;
	if (p->l4 == IPPROTO_TCP) {
		if ((p->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK) && (f->flags & PKS_F_MIDSTREAM) &&
		    dir == PKS_DIR_C2S) {
			/* A SYN-ACK comes from the server: the guess was backwards. */
			pks_flow_flip(f);
			dir = PKS_DIR_S2C;
		}
		if (p->tcp_flags & TCP_SYN) {
			f->flags |= PKS_F_SYN;
			f->flags &= ~PKS_F_MIDSTREAM;
		}
		if (p->tcp_flags & TCP_FIN)
			f->flags |= PKS_F_FIN | (src_side == PKS_SIDE_A ? PKS_F_FIN_A : PKS_F_FIN_B);
		if (p->tcp_flags & TCP_RST)
			f->flags |= PKS_F_FIN | PKS_F_RST;
	}
	__sync_fetch_and_add(&f->packets[dir & 1], pks_hook_segs(ctx));
	__sync_fetch_and_add(&f->bytes[dir & 1], wire);
	f->last_ns = now;

	/* Context rules read control channels long after the verdict is decided. */
	if (p->payload_len && (f->ctx & PKS_X_WANT)) {
		pks_ctx_copy(ctx, f, &key, p, dir);
		copied = 1;
	}

	if (f->flags & PKS_F_DECIDED)
		return reason == PKS_REASON_NEW_FLOW ? reason : PKS_REASON_DECIDED;
	/*
	 * One byte of TCP payload may be a keepalive or zero-window probe (RFC
	 * 9293 3.8.4, 3.8.6.1), but also PostgreSQL's answer to SSLRequest: it is
	 * inspected. A probe's byte matches no signature alone (the one-byte
	 * rules need the flow's state); at worst, as a first payload after a
	 * seen handshake, it drops a port guess like any other unknown bytes.
	 */
	if (p->payload_len == 0 || pks_done_with(f, dir & 1, max))
		return reason;

	old_proto = f->proto;
	old_confidence = f->confidence;
	pks_inspect(ctx, f, p, dir);
	/*
	 * A server-memory verdict stays open: a contradicting signature may still
	 * come; so does a flow whose server announced an upgrade (HTTP 101).
	 */
	if ((f->confidence >= PKS_C_CONFIRMED && !(f->ctx & PKS_X_MEMORY) && !(f->flags & PKS_F_UPGRADE)) ||
	    (pks_done_with(f, 0, max) && pks_done_with(f, 1, max)))
		f->flags |= PKS_F_DECIDED;
	if (f->proto != old_proto || f->confidence != old_confidence) {
		pks_ctx_update_want(f);
		pks_ctx_event(f, &key, PKS_EV_VERDICT, (__u32)old_proto << 8 | old_confidence);
		/* The packet that named the protocol is the one its rule needs first. */
		if (!copied && (f->ctx & PKS_X_WANT))
			pks_ctx_copy(ctx, f, &key, p, dir);
	}
	return reason == PKS_REASON_NEW_FLOW ? reason : PKS_REASON_INSPECTED;
}

#ifndef PKS_HOOK_TC
SEC("xdp")
int pks_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pks_cursor cur = { .pos = data, .end = data_end };
	struct pks_pkt pkt = {};
	int reason;

	reason = pks_parse(&cur, &pkt);
	if (!reason)
		reason = pks_track(ctx, &pkt);
	pks_count(reason);
	return XDP_PASS;
}
#endif /* !PKS_HOOK_TC */

char LICENSE[] SEC("license") = "Dual MIT/GPL";
