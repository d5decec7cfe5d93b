/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * The policy contract between the tc program (bpf/pktspec_tc.bpf.c) and
 * `pktspec policy` (user/policy.c): what the operator wants done with the
 * packets of a flow once pks_flows holds its verdict.
 *
 * Policies live in two tables in one pinned hash map, pks_policy; the pinned
 * array pks_pol_state names the live one. `pktspec policy load` fills the
 * other table and then flips the live index with one 4-byte write, so the tc
 * program sees either the whole old policy or the whole new one, never a mix.
 * Every field is a fixed-width type or a packed enum with names in BTF, so
 * `bpftool map dump pinned /sys/fs/bpf/pktspec/pks_policy` prints the same
 * policy `pktspec policy list` does.
 */
#ifndef PKTSPEC_POLICY_H
#define PKTSPEC_POLICY_H

#include "pktspec.h"

/* Which flows a policy entry is for. */
PKS_PACKED_ENUM pks_pol_match {
	PKS_PM_PROTO = 0,   /* flows whose verdict is .proto (and .app, when not 0) */
	PKS_PM_APP = 1,     /* flows of application .app, whatever the protocol */
	PKS_PM_PENDING = 2, /* flows without a verdict yet: the default */
};

/* What happens to the packet after the other actions. */
PKS_PACKED_ENUM pks_pol_verdict {
	PKS_PV_PASS = 0,
	PKS_PV_DROP = 1,
};

/* Whether a field with no natural "leave alone" value is applied. */
PKS_PACKED_ENUM pks_pol_set {
	PKS_PS_KEEP = 0,
	PKS_PS_SET = 1,
};

struct pks_policy_key {
	__u8 table;                 /* 0 or 1; pks_pol_state.live says which is read */
	enum pks_pol_match match;
	enum pks_proto proto;       /* PKS_PM_PROTO only, else 0 */
	__u8 pad;
	__u16 app;                  /* application ID (pks_flow.app), 0 = any */
	__u16 pad2;
};

struct pks_policy {
	__u32 mark;                 /* skb->mark = (skb->mark & ~mark_mask) | (mark & mark_mask) */
	__u32 mark_mask;            /* 0: the mark is left alone */
	__u32 classid;              /* tc class major:minor; 0: left alone */
	__u32 priority;             /* skb->priority, when set_priority */
	enum pks_pol_verdict verdict;
	enum pks_confidence min_confidence; /* below it the entry does not apply */
	enum pks_pol_set set_priority;
	enum pks_pol_set set_dscp;
	__u8 dscp;                  /* 0..63, when set_dscp */
	__u8 pad[3];
};

/* pks_pol_state's one element. */
struct pks_pol_state {
	__u32 live; /* the table the tc program reads: 0 or 1 */
	__u32 pad;
};

/*
 * Why the tc program finished with a packet; exactly one of 0..7 is counted
 * per packet in pks_tc_stats (per CPU), and PULLED in addition when the
 * headers had to be pulled into the linear data, TUNNEL when the policy
 * applied came from the flow inside a tunnel. IDs are stable: append only.
 *
 * PKS_TC_REASON(SYMBOL, id, field, "meaning")
 */
#define PKS_TC_REASONS(X)                                                                          \
	X(NOT_FLOW, 0, not_flow, "not a TCP/UDP packet with ports (ARP, ICMP, later fragments)")  \
	X(MALFORMED, 1, malformed, "headers truncated or invalid (the XDP counters say which)")   \
	X(NO_FLOW, 2, no_flow, "no pks_flows entry yet: the pending default applied")             \
	X(PENDING, 3, pending, "flow without a verdict yet: the pending default applied")         \
	X(NO_POLICY, 4, no_policy, "verdict without a matching policy: passed untouched")         \
	X(APPLIED, 5, applied, "a policy's actions applied, packet passed")                       \
	X(DROPPED, 6, dropped, "dropped by a policy or by the pending default")                   \
	X(REWRITE_FAILED, 7, rewrite_failed, "the DSCP rewrite failed (packet passed unchanged)") \
	X(PULLED, 8, pulled, "headers were beyond the linear data: pulled, then handled")              \
	X(TUNNEL, 9, tunnel, "the policy applied came from the flow inside a tunnel (counted besides applied)")

enum pks_tc_reason {
#define PKS_TC_REASON_ENUM(sym, id, field, desc) PKS_TC_##sym = id,
	PKS_TC_REASONS(PKS_TC_REASON_ENUM)
#undef PKS_TC_REASON_ENUM
	PKS_TC__COUNT,
};

/* Named counters, so bpftool prints them by name; field order is the ID. */
struct pks_tc_stats {
#define PKS_TC_REASON_FIELD(sym, id, field, desc) __u64 field;
	PKS_TC_REASONS(PKS_TC_REASON_FIELD)
#undef PKS_TC_REASON_FIELD
};

#define PKS_MAP_POLICY "pks_policy"
#define PKS_MAP_POL_STATE "pks_pol_state"
#define PKS_MAP_TC_STATS "pks_tc_stats"

#define PKS_POLICY_MAX 1024 /* entries over both tables */

/*
 * Our tc filter, on the clsact qdisc's ingress and egress hooks. A fixed
 * handle and priority let detach and status find exactly our filter and
 * never touch anyone else's: "pk" and "ps" in ASCII. The priority runs it
 * before filters tc numbers itself (49152 downwards), so theirs see our mark.
 */
#define PKS_TC_HANDLE 0x706b
#define PKS_TC_PRIO 0x7073

PKS_ASSERT_SIZE(enum pks_pol_match, 1);
PKS_ASSERT_SIZE(struct pks_policy_key, 8);
PKS_ASSERT_SIZE(struct pks_policy, 24);
PKS_ASSERT_SIZE(struct pks_pol_state, 8);
PKS_ASSERT_SIZE(struct pks_tc_stats, PKS_TC__COUNT * 8);

#endif /* PKTSPEC_POLICY_H */
