/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * What the kernel tells the engine (user/engine.c), through the ring buffer
 * pks_events: a new-flow event, verdict-change events, and, while a rule
 * wants the flow, bounded copies of payload packets with their TCP sequence
 * numbers. Nothing here blocks: when the ring is full the event is counted
 * as lost and the packet goes on.
 *
 * The kernel decides which flows are copied and how many packets (the copy
 * budget, pks_cr_budget, from the verdict alone; the want bit in
 * pks_flow.ctx); the engine decides when a rule is finished with a flow
 * (pks_done), and the kernel stops copying it. A copy goes first to the
 * kernel's own rules when they read it (pks_cr_kernel_wants: FTP,
 * context/ftp.h), then to the ring.
 */
#ifndef PKTSPEC_BPF_CONTEXT_EVENTS_H
#define PKTSPEC_BPF_CONTEXT_EVENTS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pktspec/pktspec.h"
#include "pktspec/events.h"
#include "pktspec/flow_key.h"
#include "parse.h"
#include "hook.h"
#include "context/maps.h"

#define PKS_CR_OFF_MAX 0x3fff /* payload offset cap, as in pks_hook_window */

/*
 * The copy's length, read back from the record through the compiler (a
 * barrier, a volatile load) so that neither the compiler nor the verifier
 * carries over what it knew of it: the verifier does not track map memory,
 * so it sees one value of 0..PKS_SNAP_LEN, however many paths led here.
 */
static __always_inline __u64 pks_cr_caplen(const struct pks_event_payload *ev)
{
	__u64 n;

	asm volatile("" ::: "memory");
	n = *(volatile __u32 *)&ev->hdr.caplen;
	return n > PKS_SNAP_LEN ? PKS_SNAP_LEN : n;
}

/*
 * How many payload packets of direction dir the rules need for a flow with
 * this verdict (see PKS_COPY_* in include/pktspec/events.h); 0 when no rule reads it. DNS
 * names come from responses only, so queries are not copied.
 */
static __always_inline __u8 pks_cr_budget(__u8 proto, int dir)
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
	/* TFTP: the kernel decides from the signature's own match (pks_cr_tftp_request). */
	return 0;
}

/* Sets or clears the want bit after the verdict moved. */
static __always_inline void pks_cr_update_want(struct pks_flow *f)
{
	if (!(f->ctx & PKS_X_DONE) && (pks_cr_budget(f->proto, 0) || pks_cr_budget(f->proto, 1)))
		f->ctx |= PKS_X_WANT;
	else
		f->ctx &= ~PKS_X_WANT;
}

/*
 * When the reader wakes. A wakeup is an irq_work on the packet's CPU, which
 * interrupts it again and then wakes the daemon on another: with the
 * kernel's own policy (flags 0: wake whenever the reader has caught up), a
 * reader that keeps up is woken for nearly every event, and on this project's
 * machines a stream of new flows paid microseconds a packet for it (doc/
 * performance.md, "The daemon's cost"). So flow and verdict events, and the
 * copies of first messages (TLS, QUIC, HTTP: names, not announcements), wake
 * the reader only when the bytes waiting in the ring cross a multiple of
 * PKS_EVENTS_WAKE: once per PKS_EVENTS_WAKE bytes however far behind the
 * reader is (waking it on every event past the mark would be the first policy
 * again for a reader that cannot keep up). The daemon also reads every
 * PKS_EVENTS_LATENCY_MS (user/run.c), for what waits below the mark and a
 * crossing two CPUs raced past. Copies of control channels (FTP, SIP, RTSP,
 * DNS answers) go to a ring of their own, pks_ctlevents, which the engine
 * reads first, and wake the reader at once, forced: what they announce comes
 * milliseconds later, and the engine must have written it back by then.
 * (Flags 0 would not do: the kernel wakes only a reader that has read all
 * before the record, and a reader still busy with pks_events has not.)
 *
 * after: the bytes waiting once this record is in; len: the record's bytes
 * in the ring (PKS_RB_LEN).
 */
static __always_inline __u64 pks_cr_wake_lazy(__u64 after, __u64 len)
{
	return (after >> PKS_EVENTS_WAKE_SHIFT) != ((after - len) >> PKS_EVENTS_WAKE_SHIFT) ? BPF_RB_FORCE_WAKEUP
												: BPF_RB_NO_WAKEUP;
}

/* Whether copies of this verdict's payloads are lazy (first messages: names), not control channels. */
static __always_inline int pks_cr_copy_lazy(__u8 proto)
{
	return pks_cr_budget(proto, PKS_DIR_C2S) == PKS_COPY_FIRST;
}

/*
 * Whether a record of len bytes for pks_events (a flow or verdict event, a
 * copy of a first message) finds room there. *after: the bytes waiting once
 * it is in. Asked before anything is reserved or copied, so that under a
 * flood a refused record costs one query, not a reservation that fails
 * under the ring's lock or a copy of the payload sent nowhere.
 */
static __always_inline int pks_cr_room_lazy(__u64 len, __u64 *after)
{
	*after = bpf_ringbuf_query(&pks_events, BPF_RB_AVAIL_DATA) + PKS_RB_LEN(len);
	return *after <= PKS_EVENTS_RING;
}

/*
 * A new-flow or verdict-change event, with a copy of the flow's entry f;
 * lost (and counted) when pks_events has no room for it. `now` is the
 * packet's time.
 * `old` is the verdict before, as proto << 8 | confidence; kflags: PKS_EVK_*.
 */
static __always_inline void pks_cr_event(const struct pks_flow *f, const struct pks_flow_key *key, int type,
					 __u32 old, __u8 kflags, __u64 now)
{
	struct pks_event_flow *rec = NULL;
	struct pks_event *ev;
	__u64 after;

	if (!pks_cr_consumer())
		return;
	if (pks_cr_room_lazy(sizeof(*rec), &after))
		rec = bpf_ringbuf_reserve(&pks_events, sizeof(*rec), 0);
	if (!rec) {
		if (type == PKS_EV_FLOW)
			PKS_CR_COUNT(lost_flow);
		else
			PKS_CR_COUNT(lost_verdict);
		return;
	}
	ev = &rec->hdr;
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
	ev->kflags = kflags;
	ev->first8 = (__u8)f->first;
	__builtin_memcpy(&rec->flow, f, sizeof(*f));
	bpf_ringbuf_submit(rec, pks_cr_wake_lazy(after, PKS_RB_LEN(sizeof(*rec))));
	if (type == PKS_EV_FLOW)
		PKS_CR_COUNT(ev_flow);
	else
		PKS_CR_COUNT(ev_verdict);
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
static __always_inline __u64 pks_cr_copy_bytes(struct __sk_buff *ctx, __u64 off, __u64 n,
					       struct pks_event_payload *ev)
{
	__u64 len = ctx->len;

	if (off > PKS_CR_OFF_MAX || n > PKS_SNAP_LEN || off >= len)
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
static __always_inline __u64 pks_cr_copy_bytes(struct xdp_md *ctx, __u64 off, __u64 n,
					       struct pks_event_payload *ev)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 i, j, done;
	__u8 *src;

	if (off > PKS_CR_OFF_MAX || n > PKS_SNAP_LEN)
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
	 * read back from the record (pks_cr_caplen).
	 */
	ev->hdr.caplen = i * 8;
	done = pks_cr_caplen(ev);
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
 * `now` is the packet's time; fresh: this packet made the flow's entry anew,
 * and the engine, which marks a flow done only after copies of it, can have
 * no mark for it: a new flow's first copy skips the lookup, whose bucket
 * under a flood of new flows is out of the cache (doc/performance.md, "The
 * daemon's share of a new flow"). pks_cr_send() sends it, after the
 * kernel rules (pks_cr_ftp_announce) had their look when they want one.
 */
static __always_inline struct pks_event_payload *pks_cr_prepare(struct pks_hook_ctx *ctx, struct pks_flow *f,
								const struct pks_flow_key *key,
								const struct pks_pkt *p, int dir, __u64 now, int fresh)
{
	struct pks_event_payload *ev;
	__u32 zero = 0, off, n;
	__u64 after;

	dir &= 1;
	if (f->copied[dir] >= pks_cr_budget(f->proto, dir))
		return NULL;
	if (!fresh) {
		__u8 *mark = bpf_map_lookup_elem(&pks_done, key);

		/*
		 * The mark holds the low byte of its flow's first tick: a mark
		 * of an earlier flow of the same key (until the daemon deletes
		 * it when that flow ends) does not stop this one. Either way
		 * the mark goes (read before the delete frees it).
		 */
		if (mark) {
			int ours = *mark == (__u8)f->first;

			bpf_map_delete_elem(&pks_done, key);
			if (ours) {
				f->ctx = (f->ctx & ~PKS_X_WANT) | PKS_X_DONE;
				PKS_CR_COUNT(done);
				return NULL;
			}
		}
	}
	n = p->payload_len;
	if (n > PKS_SNAP_LEN)
		n = PKS_SNAP_LEN;
	/*
	 * A first message's copy with no room in pks_events is lost here,
	 * spent from the budget as one the full ring refuses, before its bytes
	 * are copied. (The kernel rules read FTP, a control channel.)
	 */
	if (pks_cr_copy_lazy(f->proto) && !pks_cr_room_lazy(sizeof(ev->hdr) + n, &after)) {
		f->copied[dir]++;
		PKS_CR_COUNT(lost_payload);
		return NULL;
	}
	ev = bpf_map_lookup_elem(&pks_scratch, &zero);
	if (!ev)
		return NULL;
	off = p->payload_off;
	if (off > PKS_CR_OFF_MAX)
		return NULL;
	if (p->payload_len > PKS_SNAP_LEN)
		PKS_CR_COUNT(snap_cut);
	/*
	 * The length goes into the record at once and is read back from there
	 * (pks_cr_caplen): each way out of the copy loop leaves it with its
	 * own value, and what follows should be verified once, not per length.
	 */
	ev->hdr.caplen = pks_cr_copy_bytes(ctx, off, n, ev);

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
	ev->hdr.first8 = (__u8)f->first;
	f->copied[dir]++;
	return ev;
}

/* Whether a prepared copy is one the kernel rules read (FTP replies and commands). */
static __always_inline int pks_cr_kernel_wants(const struct pks_flow *f, const struct pks_pkt *p)
{
	return f->proto == PKS_P_FTP && p->l4 == IPPROTO_TCP;
}

/*
 * Whether this payload (direction dir) goes to pks_copy: a rule wants the
 * flow, the direction's budget is not spent (a DNS query's is nothing: names
 * come from answers), and either an engine reads the copies or the kernel's
 * own rules do.
 */
static __always_inline int pks_cr_copy_wanted(const struct pks_flow *f, const struct pks_pkt *p, int dir)
{
	dir &= 1;
	return p->payload_len && (f->ctx & PKS_X_WANT) && f->copied[dir] < pks_cr_budget(f->proto, dir) &&
	       (pks_cr_kernel_wants(f, p) || pks_cr_consumer());
}

/*
 * Sends a prepared copy at its real length, a control channel's to
 * pks_ctlevents, a first message's to pks_events; lost (and counted) when
 * its ring is full.
 */
static __always_inline int pks_cr_send(struct pks_event_payload *ev)
{
	__u64 len = sizeof(ev->hdr) + pks_cr_caplen(ev), after;
	long err;

	/* Prepared for the kernel rules only: nobody reads the ring. */
	if (!pks_cr_consumer())
		return 0;
	if (pks_cr_copy_lazy(ev->hdr.proto))
		err = !pks_cr_room_lazy(len, &after) ||
		      bpf_ringbuf_output(&pks_events, ev, len, pks_cr_wake_lazy(after, PKS_RB_LEN(len)));
	else
		err = bpf_ringbuf_output(&pks_ctlevents, ev, len, BPF_RB_FORCE_WAKEUP);
	if (err) {
		PKS_CR_COUNT(lost_payload);
		return 0;
	}
	PKS_CR_COUNT(ev_payload);
	return 1;
}

#endif /* PKTSPEC_BPF_CONTEXT_EVENTS_H */
