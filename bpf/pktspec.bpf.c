// SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0)
/*
 * pktspec classifier.
 *
 * Per packet: parse L2..L4, find or create the flow (one entry for both
 * directions), count it, and while the flow is undecided run the payload
 * signatures on a bounded window of its first payload packets. The verdict
 * climbs port -> signature -> confirmed; a payload that contradicts a port
 * guess drops the guess. Every packet is passed, and exactly one reason is
 * counted for it, by the program that finishes with it.
 *
 * The work is split into programs chained by tail calls (bpf/stages.h): the
 * entry program here does what every packet needs, and only flows that need
 * more go on. This file is compiled twice: for XDP (pks_xdp, below) and, with
 * PKS_HOOK_TC, for tc egress (bpf/pktspec_egress.bpf.c); the two differ only
 * in the pks_hook_* functions that read packet bytes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "pktspec/pktspec.h"
#include "parse.h"
#include "encap.h"
#include "flow.h"
#include "maps.h"
#include "signatures.h"
#include "context/flow_new.h"
#include "context/events.h"
#include "context/ftp.h"
#include "context/tftp.h"
#include "hook.h"
#include "stages.h"

#define PKS_PAYLOAD_OFF_MAX 0x3fff

/*
 * `make bench` builds variants of the entry program that stop after a section
 * (tools/bench_live.sh: where a decided packet's time goes): 1 after the
 * parse, 2 after the flow lookup, 3 after the counters. 0: the classifier.
 */
#ifndef PKS_BENCH_CUT
#define PKS_BENCH_CUT 0
#endif
#if PKS_BENCH_CUT
__u64 pks_bench_hits;
#endif

#ifdef PKS_HOOK_TC
#define PKS_SEC "tc"
/* include/uapi/linux/pkt_cls.h: not in vmlinux.h, which only carries types. */
#define TC_ACT_UNSPEC (-1)
#define PKS_PASS TC_ACT_UNSPEC /* later filters on the hook still run */
#else
#define PKS_SEC "xdp"
#define PKS_PASS XDP_PASS
#endif

/* Set by the loader between open and load. */
const volatile struct pks_config pks_cfg = {
	.inspect_max = PKS_INSPECT_MAX,
	.vxlan_port = PKS_VXLAN_PORT,
	.geneve_port = PKS_GENEVE_PORT,
	.gtpu_port = PKS_GTPU_PORT,
};

/* Set by `pktspec replay` before each test run; zero on a live attachment. */
struct pks_replay pks_replay;

/*
 * The tail-call table: slots in enum pks_stage order, filled by the loader
 * (user/loader.c) by program name after the object is loaded, so that each
 * program can also be loaded, and its verification judged, on its own
 * (pktspec probe). Pinned: the kernel empties a tail-call table when its
 * last user-space reference goes, and the attaching command exits.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, PKS_ST__COUNT);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pks_stages SEC(".maps");

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

/* A new entry in a flow table; restored: brought back from pks_restore. */
static __always_inline void pks_count_created(int restored)
{
	__u32 zero = 0;
	struct pks_stats *st = bpf_map_lookup_elem(&pks_stats, &zero);

	if (!st)
		return;
	st->flows_created++; /* per-CPU: no other writer */
	if (restored)
		st->flows_restored++;
}

/* Every program's one exit: counts why the packet ended and passes it. */
static __always_inline int pks_end(__u32 reason)
{
	pks_count(reason);
	return PKS_PASS;
}

/*
 * Goes on to stage `slot` (a constant: the JIT turns the tail call into a
 * direct jump). A tail call only returns when the slot is empty; the packet
 * then ends as stage_failed, passed, never half-classified.
 */
static __always_inline int pks_next(struct pks_hook_ctx *ctx, __u32 slot)
{
	bpf_tail_call(ctx, &pks_stages, slot);
	return pks_end(PKS_REASON_STAGE_FAIL);
}

/*
 * A field of the replay clock (.bss), read only where the loader set
 * pks_cfg.replay. The volatile read keeps LLVM from loading it ahead of that
 * test, so that in an attachment the verifier drops the read with the branch
 * and no packet touches the .bss page (tests/kernel/test_map_calls.sh).
 */
#define pks_replay_get(field) (pks_cfg.replay ? *(volatile typeof(pks_replay.field) *)&pks_replay.field : 0)

/* A time in a flow entry's ticks (include/pktspec/pktspec.h): from the epoch, which replay sets. */
static __always_inline __u32 pks_ticks(__u64 now)
{
	__u64 epoch = pks_replay_get(epoch_ns);

	return now > epoch ? (now - epoch) >> PKS_TICK_SHIFT : 0;
}

/*
 * The packet's time: the capture's in replay; live, the coarse
 * clock when the kernel has it, read once per jiffy on each CPU. The coarse
 * clock only moves at the timer tick, which advances jiffies, and the
 * verifier turns bpf_jiffies64() into one load where a helper call costs
 * about 25 ns live (doc/performance.md). A packet that reads the new jiffy
 * before the tick has moved the clock keeps the old time for a jiffy (4 ms
 * at HZ=250), within what the coarse clock already lags.
 */
static __always_inline __u64 pks_now(struct pks_state *s)
{
	__u64 t = pks_replay_get(now_ns), j;

	if (t)
		return t;
	/* Linux 5.11+: older verifiers never see the calls (pks_cfg is constant). */
	if (pks_cfg.coarse_clock) {
		j = bpf_jiffies64();
		if (j != s->clock_jiffies || !s->clock_ns) {
			s->clock_ns = bpf_ktime_get_coarse_ns();
			s->clock_jiffies = j;
		}
		return s->clock_ns;
	}
	return bpf_ktime_get_ns();
}

static __always_inline void pks_flow_set_client(struct pks_flow *f, int side)
{
	f->bits = (f->bits & ~PKS_B_CLIENT_B) | (side == PKS_SIDE_B ? PKS_B_CLIENT_B : 0);
}

/* Marks direction dir's payload as matching the verdict; only, when `only`. */
static __always_inline void pks_flow_set_sig(struct pks_flow *f, int dir, int only)
{
	__u8 bit = PKS_B_SIG_C2S << (dir & 1);

	if (only)
		f->bits = (f->bits & PKS_B_CLIENT_B) | bit;
	else
		f->bits |= bit;
}

static __always_inline int pks_flow_any_sig(const struct pks_flow *f)
{
	return f->bits & (PKS_B_SIG_C2S | PKS_B_SIG_S2C);
}

/*
 * Whether the verdict is open to the first payload evidence: a port guess,
 * or a DNS name at creation (confidence "dns" says who the server is, not
 * what its payload is; a signature replaces its protocol).
 */
static __always_inline int pks_flow_weak(const struct pks_flow *f)
{
	return f->confidence < PKS_C_SIGNATURE || f->confidence == PKS_C_DNS;
}

static __always_inline void pks_flow_init(struct pks_flow *f, const struct pks_pkt *p, int src_side,
					  __u64 now)
{
	__u16 server_port, client_port;
	__u8 guess;
	int client;

	f->first = pks_ticks(now);
	f->last = f->first;
	if (p->l4 == IPPROTO_TCP && (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		client = src_side;
		f->flags = PKS_F_SYN;
	} else if (p->l4 == IPPROTO_TCP && (p->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
		/* The SYN was missed, but the SYN-ACK names the server. */
		client = !src_side;
		f->flags = PKS_F_SYN;
	} else {
		client = src_side;
		f->flags = PKS_F_MIDSTREAM;
	}
	server_port = (client != src_side) ? p->sport : p->dport;
	client_port = (client != src_side) ? p->dport : p->sport;
	guess = pks_port_guess(p->l4, server_port);
	if (guess == PKS_P_UNKNOWN && (f->flags & PKS_F_MIDSTREAM)) {
		/* The first packet seen came from the server: its port says so. */
		guess = pks_port_guess(p->l4, client_port);
		if (guess != PKS_P_UNKNOWN)
			client = !client;
	}
	pks_flow_set_client(f, client);
	if (guess != PKS_P_UNKNOWN) {
		f->proto = guess;
		f->confidence = PKS_C_PORT;
		f->rule = PKS_R_PORT;
	}
}

/* Swap the client and server of a flow whose client was only a guess. */
static __always_inline void pks_flow_flip(struct pks_flow *f)
{
	__u64 b = f->bytes[0];
	__u32 n = f->packets[0];
	__u8 c = f->copied[0], bits = f->bits;

	f->bytes[0] = f->bytes[1];
	f->bytes[1] = b;
	f->packets[0] = f->packets[1];
	f->packets[1] = n;
	f->copied[0] = f->copied[1];
	f->copied[1] = c;
	f->inspected = (f->inspected >> 4) | (f->inspected << 4);
	f->bits = ((bits ^ PKS_B_CLIENT_B) & PKS_B_CLIENT_B) | ((bits & PKS_B_SIG_C2S) << 1) |
		  ((bits & PKS_B_SIG_S2C) >> 1);
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
	if (n == 0)
		return -1;
	if (n > PKS_WIN)
		n = PKS_WIN;
	/*
	 * 1..PKS_WIN as every verifier sees it (before 6.2 the lower bound of
	 * the checks above is lost); n is already in range, so it keeps its value.
	 */
	n = ((n - 1) & (PKS_WIN - 1)) + 1;
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
	__u32 off, n, i, tail = 0;
	__u8 *src, *q;

	/*
	 * The verifier marks a packet pointer checked against data_end only while
	 * its offset bound plus the access stays under 64 KiB: cap the offset well
	 * below (headers never come near it).
	 */
	off = p->payload_off;
	if (off > PKS_PAYLOAD_OFF_MAX)
		return -1;
	src = data + off;
	n = p->payload_len < PKS_WIN ? p->payload_len : PKS_WIN;
	/*
	 * The first payload bytes, eight at a time while the payload and the
	 * frame both hold eight more, then the last few one by one; the rest of
	 * the window stays zero. A byte at a time over the whole window was a
	 * third of pks_track's time on a new flow (doc/performance.md).
	 */
	i = 0;
#pragma unroll
	for (__u32 w = 0; w < PKS_WIN / 8; w++) {
		if (w * 8 + 8 > n || (void *)(src + w * 8 + 8) > end)
			break;
		__builtin_memcpy(&pl->b[w * 8], src + w * 8, 8);
		i = w * 8 + 8;
	}
	q = src + i;
#pragma unroll
	for (__u32 t = 0; t < 7; t++) {
		if (i + t >= n || (void *)(q + t + 1) > end)
			break;
		pl->b[(i + t) & PKS_WIN_MASK] = q[t];
		tail = t + 1;
	}
	pl->len = i + tail;
	pl->total = p->payload_len;
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

static __always_inline int pks_done_with(const struct pks_flow *f, int dir, __u8 max)
{
	/* After an announced upgrade, both directions stay open until their budget ends. */
	if (f->flags & PKS_F_UPGRADE)
		return pks_flow_inspected(f, dir) >= max;
	return pks_flow_sig(f, dir) || pks_flow_inspected(f, dir) >= max;
}

static __always_inline __u8 pks_inspect_max(void)
{
	__u8 max = pks_cfg.inspect_max;

	return (max == 0 || max > PKS_INSPECT_MAX) ? PKS_INSPECT_MAX : max;
}

/*
 * A packet of a flow: the direction (the SYN-ACK corrects a guessed client),
 * the TCP flags, the counters and the last-seen time. fresh (a constant): f
 * is a new entry not yet in a table (pks_track), which no other CPU can see,
 * so its counters take plain adds.
 */
static __always_inline void pks_flow_count(struct pks_hook_ctx *ctx, struct pks_state *s, struct pks_flow *f,
					   int fresh)
{
	const struct pks_pkt *p = &s->pkt;
	int dir = s->src_side == pks_flow_client(f) ? PKS_DIR_C2S : PKS_DIR_S2C;

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
		/* FIN per key side (a midstream flip never changes sides): the daemon ends a flow when both sent one. */
		if (p->tcp_flags & TCP_FIN)
			f->flags |= PKS_F_FIN | (s->src_side == PKS_SIDE_A ? PKS_F_FIN_A : PKS_F_FIN_B);
		if (p->tcp_flags & TCP_RST)
			f->flags |= PKS_F_FIN | PKS_F_RST;
	}
	if (fresh) {
		f->packets[dir & 1] += pks_hook_segs(ctx);
		f->bytes[dir & 1] += s->wire;
	} else {
		__sync_fetch_and_add(&f->packets[dir & 1], pks_hook_segs(ctx));
		__sync_fetch_and_add(&f->bytes[dir & 1], s->wire);
	}
	f->last = pks_ticks(s->now);
	s->dir = dir;
}

/* A packet of a flow in a table, which other CPUs may count at once. */
static __always_inline void pks_flow_touch(struct pks_hook_ctx *ctx, struct pks_state *s, struct pks_flow *f)
{
	pks_flow_count(ctx, s, f, 0);
}


/*
 * Whether the flow still inspects this packet's payload. One byte of TCP
 * payload may be a keepalive or zero-window probe (RFC 9293 3.8.4, 3.8.6.1),
 * but also PostgreSQL's answer to SSLRequest: it is inspected. A probe's byte
 * matches no signature alone (the one-byte rules need the flow's state); at
 * worst, as a first payload after a seen handshake, it drops a port guess
 * like any other unknown bytes.
 */
static __always_inline int pks_inspects(const struct pks_state *s, const struct pks_flow *f)
{
	return !(f->flags & PKS_F_DECIDED) && s->pkt.payload_len &&
	       !pks_done_with(f, s->dir & 1, pks_inspect_max());
}

/*
 * A keepalive of the text protocols: CRLF or CRLF CRLF alone (SIP's pong and
 * ping, RFC 5626 3.5.1 and 4.4.1, over UDP and TCP; the empty lines HTTP and
 * others allow between messages). It matches no signature and says nothing,
 * so it does not use up the flow's inspection budget: a SIP flow that pings
 * for a while before its next request is still named by that request.
 */
static __always_inline int pks_crlf_keepalive(const struct pks_payload *pl)
{
	if (pl->total == 2)
		return pl->b[0] == '\r' && pl->b[1] == '\n';
	return pl->total == 4 && pl->b[0] == '\r' && pl->b[1] == '\n' && pl->b[2] == '\r' && pl->b[3] == '\n';
}

/* The reason a packet of this flow ends with when nothing more happened to it. */
static __always_inline __u32 pks_quiet_reason(const struct pks_state *s, const struct pks_flow *f)
{
	if (s->new_flow)
		return PKS_REASON_NEW_FLOW;
	return (f->flags & PKS_F_DECIDED) ? PKS_REASON_DECIDED : PKS_REASON_TRACKED;
}

/* Signature stage `stage` (a constant), or the verdict past the chain's end. */
static __always_inline int pks_next_stage(struct pks_hook_ctx *ctx, __u32 stage)
{
	if (stage >= PKS_SG__COUNT)
		return pks_next(ctx, PKS_ST_VERDICT);
	return pks_next(ctx, PKS_ST_SIG0 + stage);
}

/* The first signature stage of l4 (a constant), else the verdict. */
static __always_inline int pks_next_sig(struct pks_hook_ctx *ctx, __u8 l4)
{
	return pks_next_stage(ctx, pks_sig_stage_first(l4));
}

/*
 * The payload window the signatures read (s->pl) for a packet of flow f,
 * whose inspection budget it uses: PKS_GO_ON, or the reason the packet ends
 * with when there is nothing to inspect after all.
 */
#define PKS_GO_ON (-1)
static __always_inline int pks_window_prep(struct pks_hook_ctx *ctx, struct pks_state *s, struct pks_flow *f)
{
	struct pks_payload *pl = &s->pl;
	int dir = s->dir & 1;

	__builtin_memset(pl, 0, sizeof(*pl));
	__builtin_memset(&s->m, 0, sizeof(s->m));
	if (pks_hook_window(ctx, pl, &s->pkt))
		return pks_quiet_reason(s, f);
	pl->sport = s->pkt.sport;
	pl->dport = s->pkt.dport;
	pl->l4 = s->pkt.l4;
	pl->from_client = dir == PKS_DIR_C2S;
	pl->nth = pks_flow_inspected(f, dir);
	pl->flow_proto = f->proto;
	pl->flow_upgrade = !!(f->flags & PKS_F_UPGRADE);
	pl->flow_rule = f->rule;
	pl->flow_mid = s->pkt.l4 == IPPROTO_TCP && !(f->flags & PKS_F_SYN);
	pl->cookie = f->cookie;
	if (pks_crlf_keepalive(pl))
		return pks_quiet_reason(s, f);
	if (pl->nth < 15)
		f->inspected += 1 << (dir * 4);
	s->matched = 0;
	return PKS_GO_ON;
}

/* The first signature stage of the packet's L4, for the window pks_window_prep() filled. */
static __always_inline int pks_window_go(struct pks_hook_ctx *ctx, struct pks_state *s)
{
	/*
	 * A constant slot per L4: the JIT turns such a tail call into a direct
	 * jump, where a slot computed at run time is an indirect one (a
	 * retpoline on kernels with Spectre v2 mitigations).
	 */
	if (s->pkt.l4 == IPPROTO_TCP)
		return pks_next_sig(ctx, IPPROTO_TCP);
	if (s->pkt.l4 == IPPROTO_UDP)
		return pks_next_sig(ctx, IPPROTO_UDP);
	return pks_next(ctx, PKS_ST_VERDICT);
}

/*
 * Sends a new flow's event that waited for the signatures (s->flow_ev:
 * pks_track), if one waits: from pks_verdict with their verdict (`old`, the
 * verdict before them, and `kflags` as pks_cr_event takes them), or as the
 * flow is (0, 0) when the packet ends before them. Returns whether it waited.
 */
static __always_inline int pks_flow_event_now(struct pks_state *s, const struct pks_flow *f, __u32 old, __u8 kflags)
{
	if (!s->flow_ev)
		return 0;
	s->flow_ev = 0;
	pks_cr_event(f, &s->key, PKS_EV_FLOW, old, kflags, s->now);
	return 1;
}

/*
 * The payload window, then the first signature stage of the packet's L4:
 * pks_window's work, which the entry (a payload of a known flow) does itself,
 * a tail call and a flow lookup fewer; pks_window runs it after a payload
 * copy, and pks_track runs the two halves on each side of its insertion. A
 * packet with nothing to read ends here, and a new flow's event that waited
 * for the signatures goes out as the flow is (none waits on the entry's way).
 */
static __always_inline int pks_window_fill(struct pks_hook_ctx *ctx, struct pks_state *s, struct pks_flow *f)
{
	int end = pks_window_prep(ctx, s, f);

	if (end != PKS_GO_ON) {
		pks_flow_event_now(s, f, 0, 0);
		return pks_end(end);
	}
	return pks_window_go(ctx, s);
}

/*
 * A counted packet of a flow in the table: a payload a context rule wants goes
 * to pks_copy, a payload still to inspect to the signature stages; else the
 * packet ends.
 */
static __always_inline int pks_flow_next(struct pks_hook_ctx *ctx, struct pks_state *s, struct pks_flow *f)
{
	/* Context rules read control channels long after the verdict is decided. */
	if ((f->ctx & PKS_X_WANT) && pks_cr_copy_wanted(f, &s->pkt, s->dir))
		return pks_next(ctx, PKS_ST_COPY);
	if (!pks_inspects(s, f))
		return pks_end(pks_quiet_reason(s, f));
	return pks_window_fill(ctx, s, f);
}

/*
 * What every packet needs, for both entry programs: the flow looked up and
 * counted. A new flow goes on to pks_track, a payload a context rule wants to
 * pks_copy, and a payload still to inspect to the signature stages.
 */
static __always_inline int pks_entry(struct pks_hook_ctx *ctx, struct pks_state *s)
{
	struct pks_flow *f;

#if PKS_BENCH_CUT == 1
	return PKS_PASS;
#endif
	s->now = pks_now(s);
	s->wire = pks_replay_get(wire_len);
	if (!s->wire)
		s->wire = pks_hook_wire(ctx, &s->pkt);
	s->v4 = pks_pkt_is4(&s->pkt);
	if (s->v4)
		s->src_side = pks_flow_key4_make(&s->pkt, &s->key4);
	else
		s->src_side = pks_flow_key_make(&s->pkt, &s->key);
	s->tunnel = pks_tunnel_of(&s->pkt, pks_cfg.vxlan_port, pks_cfg.geneve_port, pks_cfg.gtpu_port);
	if (s->tunnel) {
		if (s->pkt.depth >= PKS_TUNNEL_MAX)
			return pks_end(PKS_REASON_TUNNEL_TOO_DEEP);
		return pks_next(ctx, PKS_ST_DECAP);
	}
	s->copied = 0;
	s->fresh = 0;
	s->matched = 0;
	s->then = PKS_THEN_INSPECT;
	s->pending = PKS_PENDING_NONE;
	s->flow_ev = 0;
	f = pks_flow_find(s);
#if PKS_BENCH_CUT == 2
	if (f)
		pks_bench_hits++; /* as bench_parse: the lookup's result is used */
	return PKS_PASS;
#endif
	if (!f) {
		s->new_flow = 1;
		return pks_next(ctx, PKS_ST_TRACK);
	}
	s->new_flow = 0;
	pks_flow_touch(ctx, s, f);
#if PKS_BENCH_CUT == 3
	return PKS_PASS;
#endif
	return pks_flow_next(ctx, s, f);
}

/*
 * After the flow and any payload copy: the payload window and the signatures
 * when the flow still inspects, else the packet ends.
 */
static __always_inline int pks_after_copy(struct pks_hook_ctx *ctx, struct pks_state *s, struct pks_flow *f)
{
	if (s->then == PKS_THEN_END)
		return pks_end(s->new_flow ? PKS_REASON_NEW_FLOW : PKS_REASON_INSPECTED);
	if (!pks_inspects(s, f)) {
		pks_flow_event_now(s, f, 0, 0);
		return pks_end(pks_quiet_reason(s, f));
	}
	return pks_next(ctx, PKS_ST_WINDOW);
}

/*
 * Inserts the new flow s->init, complete (nothing looks it up after: see
 * pks_track), and counts it; sends its flow event when `event`, else leaves
 * it waiting for the signatures (s->flow_ev: pks_flow_event_now). Returns 0
 * or the insertion's error; with -EEXIST, *in is the entry another CPU
 * inserted first where the table hands it back (the array table's way), else
 * NULL.
 */
static __always_inline long pks_flow_commit(struct pks_state *s, int restored, int event, struct pks_flow **in)
{
	long err;

	*in = pks_flow_insert_new(s, &s->init, &err);
	if (err)
		return err;
	pks_count_created(restored);
	if (restored)
		bpf_map_delete_elem(&pks_restore, &s->key);
	if (event)
		pks_cr_event(&s->init, &s->key, PKS_EV_FLOW, 0, 0, s->now);
	s->flow_ev = !event;
	return 0;
}

/*
 * Another CPU inserted the flow first (in: its entry, when the table handed
 * it back): this packet is one more of that entry's, counted and inspected
 * against it.
 */
static __always_inline int pks_flow_raced(struct pks_hook_ctx *ctx, struct pks_state *s, struct pks_flow *in)
{
	struct pks_flow *f = in ? in : pks_flow_find(s);

	if (!f)
		return pks_end(PKS_REASON_FLOW_FULL);
	pks_flow_touch(ctx, s, f);
	return pks_flow_next(ctx, s, f);
}

/*
 * A flow's first packet: what earlier flows said about it, its entry and its
 * event. A flow the daemon saw evicted comes back as it was (pks_restore:
 * verdict, client side, counters), not rebuilt from a midstream packet.
 */
SEC(PKS_SEC)
int pks_track(struct pks_hook_ctx *ctx)
{
	struct pks_state *s = pks_state_get();
	struct pks_flow *f, *init, *old;
	int copy, end, later;
	long err;

	if (!s)
		return pks_end(PKS_REASON_STAGE_FAIL);
	/*
	 * s->now is the entry's, the clock of every packet: an exact clock read
	 * here cost a new flow about 40 ns live, and against the coarse clock of
	 * the flow's later packets it could put its last packet before its first.
	 */
	pks_wide_key(s);
	init = &s->init;
	/* Only while the daemon has restore entries out: a flood's flows pay nothing for it. */
	old = pks_restore_may_hold(&s->key) ? bpf_map_lookup_elem(&pks_restore, &s->key) : NULL;
	if (old) {
		__builtin_memcpy(init, old, sizeof(*init));
		init->last = pks_ticks(s->now);
	} else {
		__builtin_memset(init, 0, sizeof(*init));
		pks_flow_init(init, &s->pkt, s->src_side, s->now);
		pks_cr_flow_new(init, &s->pkt, s->src_side, s->now);
	}
	/*
	 * The packet's own changes (counters, flags, the window's share of the
	 * inspection budget) go into the entry before it is inserted: the
	 * entry is complete when other CPUs first see it, and no lookup after
	 * the insertion fetches it back (an LRU hash's insertion returns no
	 * pointer). pks_after_copy's work (s->then is PKS_THEN_INSPECT from the
	 * entry) is decided here for the same reason.
	 */
	pks_flow_count(ctx, s, init, 1);
	copy = pks_cr_copy_wanted(init, &s->pkt, s->dir);
	end = PKS_GO_ON;
	if (!copy)
		end = pks_inspects(s, init) ? pks_window_prep(ctx, s, init) : (int)pks_quiet_reason(s, init);
	if (end == PKS_GO_ON && !copy && !pks_cr_consumer()) {
		/*
		 * A payload for the signatures: pks_verdict inserts the entry
		 * with its verdict, and needs no lookup to write it. A packet
		 * whose chain breaks (an empty stage slot) ends stage_failed and
		 * leaves no entry. Not while an engine reads the ring: there
		 * the copies' lookups mark some new entries used in the LRU and
		 * not others, and under a flood of new flows that measured
		 * about a fifth dearer a packet than marking them all
		 * (doc/performance.md, "The verdict inserts a new flow").
		 */
		s->pending = old ? PKS_PENDING_RESTORED : PKS_PENDING_NEW;
		return pks_window_go(ctx, s);
	}
	/*
	 * A payload the signatures read next, after its copy or at once: the
	 * flow's event waits for pks_verdict and carries the verdict the
	 * payload gives, one ring record where a flow event and a verdict
	 * event were two (doc/performance.md, "One event for a new flow").
	 * After a copy, pks_after_copy and pks_window send it as it is when
	 * the packet ends before the signatures.
	 */
	later = copy || end == PKS_GO_ON;
	err = pks_flow_commit(s, old != NULL, !later, &f);
	if (err == -EEXIST)
		return pks_flow_raced(ctx, s, f);
	if (err)
		return pks_end(PKS_REASON_FLOW_FULL);
	s->fresh = !old;
	if (copy)
		return pks_next(ctx, PKS_ST_COPY);
	if (end != PKS_GO_ON)
		return pks_end(end);
	return pks_window_go(ctx, s);
}

/*
 * A payload copy for the context rules (bpf/context/events.h): sent from
 * here, or from pks_krules when a kernel rule reads it first.
 */
SEC(PKS_SEC)
int pks_copy(struct pks_hook_ctx *ctx)
{
	struct pks_state *s = pks_state_get();
	struct pks_event_payload *ev;
	struct pks_flow *f;

	if (!s)
		return pks_end(PKS_REASON_STAGE_FAIL);
	f = pks_flow_find(s);
	if (!f)
		return pks_end(PKS_REASON_FLOW_FULL);
	pks_wide_key(s);
	s->copied = 1;
	ev = pks_cr_prepare(ctx, f, &s->key, &s->pkt, s->dir, s->now, s->fresh);
	if (ev) {
		if (pks_cr_kernel_wants(f, &s->pkt))
			return pks_next(ctx, PKS_ST_KRULES);
		pks_cr_send(ev);
	}
	return pks_after_copy(ctx, s, f);
}

/* The kernel's own context rule on the prepared copy (FTP: bpf/context/ftp.h), then the copy goes out. */
SEC(PKS_SEC)
int pks_krules(struct pks_hook_ctx *ctx)
{
	struct pks_state *s = pks_state_get();
	struct pks_event_payload *ev;
	struct pks_flow *f;
	__u32 zero = 0;

	if (!s)
		return pks_end(PKS_REASON_STAGE_FAIL);
	f = pks_flow_find(s);
	ev = bpf_map_lookup_elem(&pks_scratch, &zero);
	if (!f || !ev)
		return pks_end(PKS_REASON_FLOW_FULL);
	ev->hdr.kflags = pks_cr_ftp_announce(ev, f, &s->pkt, s->dir, s->now);
	pks_cr_send(ev);
	return pks_after_copy(ctx, s, f);
}

/* The payload window and the signatures after a payload copy (pks_after_copy). */
SEC(PKS_SEC)
int pks_window(struct pks_hook_ctx *ctx)
{
	struct pks_state *s = pks_state_get();
	struct pks_flow *f;

	if (!s)
		return pks_end(PKS_REASON_STAGE_FAIL);
	f = pks_flow_find(s);
	if (!f)
		return pks_end(PKS_REASON_FLOW_FULL);
	return pks_window_fill(ctx, s, f);
}

/*
 * One signature stage of bpf/sig/signatures.def: a match, or the chain's
 * next stage that runs on this payload (a flow whose handshake was seen
 * skips the mid-session stage).
 */
static __always_inline int pks_sig_stage(struct pks_hook_ctx *ctx, __u32 stage)
{
	struct pks_state *s = pks_state_get();
	__u32 next = pks_sig_stage_next(stage);

	if (!s)
		return pks_end(PKS_REASON_STAGE_FAIL);
	if (pks_sig_stage_run(stage, &s->pl, &s->m)) {
		s->matched = 1;
		return pks_next(ctx, PKS_ST_VERDICT);
	}
	/* Two tail calls, each with its own constant slot (see pks_window_fill). */
	if (!pks_sig_stage_runs(next, &s->pl))
		return pks_next_stage(ctx, pks_sig_stage_next(next));
	return pks_next_stage(ctx, next);
}

#define PKS_STAGE(stage, l4)                           \
	SEC(PKS_SEC)                                   \
	int pks_sg_##stage(struct pks_hook_ctx *ctx)   \
	{                                              \
		return pks_sig_stage(ctx, PKS_SG_##stage); \
	}
#include "sig/signatures.def"

/*
 * Moves the verdict of a flow by what the signatures said about one payload
 * packet of direction dir (s->matched, s->m); returns the packet's direction,
 * which a midstream flow's first request may have turned around.
 */
static __always_inline int pks_apply(struct pks_state *s, struct pks_flow *f, int dir)
{
	struct pks_match *mp = &s->m;
	int matched = s->matched;

	if (matched && mp->proto == PKS_P_UNKNOWN) {
		/*
		 * State only: a weak signature (RTP) remembers this packet in the
		 * cookie and decides on a later one. It only does so on flows no
		 * other protocol owns, so the cookie is free.
		 */
		if (mp->set_cookie)
			f->cookie = mp->cookie;
		return dir;
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
		PKS_CR_COUNT(memory_overruled);
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
			pks_flow_set_sig(f, dir, 1);
			f->flags &= ~PKS_F_UPGRADE;
		} else if (f->proto == mp->proto && !pks_flow_weak(f)) {
			/*
			 * The payload agrees with server memory: the verdict no longer
			 * rests on earlier flows alone, and is decided (pks_verdict).
			 */
			if (!mp->mid)
				f->ctx &= ~PKS_X_MEMORY;
			/* The other direction agrees: confirmed, by the confirming message. */
			if (pks_flow_any_sig(f) && !pks_flow_sig(f, dir) && !mp->no_confirm && !mp->mid &&
			    f->confidence == PKS_C_SIGNATURE) {
				f->confidence = PKS_C_CONFIRMED;
				f->rule = mp->rule;
			}
			/*
			 * A reply to another exchange (a DNS ID that differs) does
			 * not settle this direction: a later matching reply still can.
			 */
			if (!mp->no_confirm)
				pks_flow_set_sig(f, dir, 0);
		} else if (pks_flow_weak(f)) {
			/* First payload evidence; it overrides a port guess (or a DNS name's). */
			f->proto = mp->proto;
			f->confidence = PKS_C_SIGNATURE;
			f->rule = mp->rule;
			pks_flow_set_sig(f, dir, 1);
		}
		/* A different protocol after a signature verdict: keep the first. */
		if (mp->set_cookie)
			f->cookie = mp->cookie;
		if (mp->await_upgrade)
			f->flags |= PKS_F_UPGRADE;
	} else if ((f->confidence == PKS_C_PORT || f->confidence == PKS_C_DNS || (f->ctx & PKS_X_MEMORY)) &&
		   s->pl.nth == 0 && f->proto != PKS_P_UNKNOWN &&
		   pks_sig_covers(f->proto, dir == PKS_DIR_C2S) &&
		   (s->pkt.l4 != IPPROTO_TCP || (f->flags & PKS_F_SYN))) {
		/*
		 * The port (or server memory) promised a protocol whose first
		 * message this is not. On TCP only when the handshake was seen: the
		 * first payload of a flow picked up midstream is a continuation, not
		 * a first message.
		 */
		if (f->ctx & PKS_X_MEMORY)
			PKS_CR_COUNT(memory_overruled);
		f->ctx &= ~PKS_X_MEMORY;
		f->proto = PKS_P_UNKNOWN;
		/* A DNS name stays what it was: the server is still the one named. */
		if (f->confidence != PKS_C_DNS)
			f->confidence = PKS_C_NONE;
		f->rule = PKS_R_PORT_CONTRADICTED;
	}
	return dir;
}

/*
 * The end of the signature chain: the verdict moves, and who needs to know is
 * told. A new flow's entry (s->pending) is still the per-CPU copy pks_track
 * made: the verdict goes into it, and it is inserted here, complete.
 */
SEC(PKS_SEC)
int pks_verdict(struct pks_hook_ctx *ctx)
{
	struct pks_state *s = pks_state_get();
	__u8 max = pks_inspect_max();
	__u8 old_proto, old_confidence, old_ctx, pending;
	struct pks_flow *f, *in;
	__u32 old;
	int moved;
	long err;

	if (!s)
		return pks_end(PKS_REASON_STAGE_FAIL);
	pending = s->pending;
	if (pending) {
		f = &s->init;
	} else {
		f = pks_flow_find(s);
		if (!f)
			return pks_end(PKS_REASON_FLOW_FULL);
	}
	pks_wide_key(s);
	old_proto = f->proto;
	old_confidence = f->confidence;
	old_ctx = f->ctx;
	s->dir = pks_apply(s, f, s->dir & 1);
	/* A TFTP request announces the transfer from the server's new port (bpf/context/tftp.h). */
	if (s->matched && s->m.rule == PKS_R_TFTP_RRQ_WRQ && s->dir == PKS_DIR_C2S && f->proto == PKS_P_TFTP)
		pks_cr_tftp_request(&s->pkt, s->now);
	/*
	 * A server-memory verdict stays open: a contradicting signature may still
	 * come; so does a flow whose server announced an upgrade (HTTP 101).
	 */
	if ((f->confidence >= PKS_C_CONFIRMED && f->confidence != PKS_C_DNS && !(f->ctx & PKS_X_MEMORY) &&
	     !(f->flags & PKS_F_UPGRADE)) ||
	    (pks_done_with(f, 0, max) && pks_done_with(f, 1, max)))
		f->flags |= PKS_F_DECIDED;
	/*
	 * A verdict that moved, or a server-memory verdict the payload just
	 * backed: the daemon takes its copy of the flow from this event
	 * (user/lifecycle.c), which must not be the one from the first packet.
	 */
	moved = f->proto != old_proto || f->confidence != old_confidence || (old_ctx & ~f->ctx & PKS_X_MEMORY);
	if (moved)
		pks_cr_update_want(f);
	if (pending) {
		s->pending = PKS_PENDING_NONE;
		/* No engine read the ring at pks_track: one that came since gets the entry with its verdict. */
		err = pks_flow_commit(s, pending == PKS_PENDING_RESTORED, 0, &in);
		if (err == -EEXIST)
			return pks_flow_raced(ctx, s, in);
		if (err)
			return pks_end(PKS_REASON_FLOW_FULL);
	}
	/*
	 * A new flow's one event, with the verdict its first payload gave and
	 * the guess before it (its port's, an earlier flow's) as the old one;
	 * PKS_EVK_MOVED says the payload moved it, as a verdict event would.
	 * Else, a verdict that moved: a verdict event.
	 */
	old = (__u32)old_proto << 8 | old_confidence;
	if (!pks_flow_event_now(s, f, old, moved ? PKS_EVK_MOVED : 0) && moved)
		pks_cr_event(f, &s->key, PKS_EV_VERDICT, old, 0, s->now);
	/* The packet that named the protocol is the one its rule needs first. */
	if (moved && !s->copied && pks_cr_copy_wanted(f, &s->pkt, s->dir)) {
		s->then = PKS_THEN_END;
		return pks_next(ctx, PKS_ST_COPY);
	}
	return pks_end(s->new_flow ? PKS_REASON_NEW_FLOW : PKS_REASON_INSPECTED);
}

/*
 * A tunnel's packet (bpf/encap.h): its header read, the tunnel's own flow
 * counted (created named by the tunnel, decided), then the packet inside
 * parsed and classified like any other, keyed with the tunnel's kind and ID.
 * A malformed header ends the packet under its reason with no flow touched.
 */
SEC(PKS_SEC)
int pks_decap(struct pks_hook_ctx *ctx)
{
	void *data = (void *)(long)ctx->data;
	struct pks_state *s = pks_state_get();
	struct pks_cursor cur;
	struct pks_tunnel t;
	struct pks_flow *f;
	__u32 off;
	__u8 depth;
	long err;
	int reason;

	if (!s)
		return pks_end(PKS_REASON_STAGE_FAIL);
	off = s->pkt.payload_off;
	if (off > PKS_PARSE_OFF_MAX)
		return pks_end(PKS_REASON_TRUNC_TUNNEL);
	cur.pos = data + off;
	cur.end = (void *)(long)ctx->data_end;
	reason = pks_tunnel_parse(&cur, s->tunnel, s->pkt.l4, &t);
	if (reason)
		return pks_end(reason);

	f = pks_flow_find(s);
	if (!f) {
		struct pks_flow *init = &s->init;

		__builtin_memset(init, 0, sizeof(*init));
		init->first = pks_ticks(s->now);
		init->last = init->first;
		init->proto = pks_encap_proto(t.kind);
		init->rule = pks_encap_rule(t.kind);
		init->confidence = PKS_C_CONFIRMED;
		init->flags = PKS_F_DECIDED;
		pks_flow_set_client(init, s->src_side);
		f = pks_flow_insert(s, init, &err);
		if (!f)
			return pks_end(PKS_REASON_FLOW_FULL);
		if (!err) {
			pks_count_created(0);
			pks_wide_key(s);
			pks_cr_event(f, &s->key, PKS_EV_FLOW, 0, 0, s->now);
		}
	}
	pks_flow_touch(ctx, s, f);
	if (t.inner == PKS_IN_OTHER)
		return pks_end(PKS_REASON_TUNNEL_OTHER);

	depth = s->pkt.depth + 1;
	__builtin_memset(&s->pkt, 0, sizeof(s->pkt));
	s->pkt.encap = t.kind;
	s->pkt.depth = depth;
	s->pkt.tunnel_id = t.id;
	/* A fresh bound for the inner headers' offsets, as between IPv6 extension headers. */
	s->pkt.payload_off = cur.pos - data;
	asm volatile("" ::: "memory");
	off = *(volatile __u32 *)&s->pkt.payload_off;
	if (off > PKS_PARSE_OFF_MAX)
		return pks_end(PKS_REASON_TRUNC_TUNNEL);
	cur.pos = data + off;
	reason = pks_parse_inner(&cur, data, &s->pkt, &t);
	if (reason)
		return pks_end(reason);
	asm volatile("" ::: "memory"); /* one state for the rest: see pks_xdp */
	return pks_entry(ctx, s);
}

#ifndef PKS_HOOK_TC
SEC("xdp")
int pks_xdp(struct xdp_md *ctx)
{
	struct pks_cursor cur = { .pos = (void *)(long)ctx->data, .end = (void *)(long)ctx->data_end };
	struct pks_state *s = pks_state_get();
	int reason;

	if (!s)
		return pks_end(PKS_REASON_STAGE_FAIL);
	__builtin_memset(&s->pkt, 0, sizeof(s->pkt));
	reason = pks_parse(&cur, &s->pkt);
	if (reason)
		return pks_end(reason);
	/*
	 * Each way through the parser (VLAN tags, IPv4 options, IPv6 extension
	 * chains) ends with its own knowledge of the header fields. From here
	 * on everything is read from s->pkt, which the verifier does not track,
	 * so the rest is verified once, not once per way through the parser.
	 */
	asm volatile("" ::: "memory");
	return pks_entry(ctx, s);
}
#endif /* !PKS_HOOK_TC */

char LICENSE[] SEC("license") = "Dual MIT/GPL";
