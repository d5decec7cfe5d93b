/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * pktspec: the contract between the kernel programs (bpf/) and the CLI (user/).
 *
 * Everything both sides must agree on lives here and only here: protocol,
 * rule and reason tables (generated from the .def files beside this header),
 * the flow key and flow value, configuration, and map names. Types are fixed
 * width with explicit padding, and sizes are asserted, because the maps are
 * read by other tools (bpftool, exporters) through BTF.
 */
#ifndef PKTSPEC_PKTSPEC_H
#define PKTSPEC_PKTSPEC_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define PKS_VERSION "0.1.0"

/* Where the CLI pins maps and links. */
#define PKS_PIN_DIR "/sys/fs/bpf/pktspec"
#define PKS_LINK_DIR PKS_PIN_DIR "/links"

/*
 * Enums are packed so that a protocol, a confidence or a rule costs one or two
 * bytes of flow state and still carries its names in BTF (bpftool prints
 * "proto": "http", not 1). Both clang and gcc honour packed on enums.
 */
#define PKS_PACKED_ENUM enum __attribute__((packed))

PKS_PACKED_ENUM pks_proto {
#define PKS_PROTO(sym, id, name, desc) PKS_P_##sym = id,
#include "protocols.def"
#undef PKS_PROTO
	PKS_P__COUNT,
};

/* How sure a verdict is; see DESIGN.md. Ordered for none..confirmed. */
PKS_PACKED_ENUM pks_confidence {
	PKS_C_NONE = 0,      /* nothing seen yet says anything */
	PKS_C_PORT = 1,      /* speculative: only the port suggests it */
	PKS_C_SIGNATURE = 2, /* a payload signature matched in one direction */
	PKS_C_CONFIRMED = 3, /* both directions (or several packets) agree */
	PKS_C_EXPECTED = 4,  /* an earlier flow announced this one */
	PKS_C_DNS = 5,       /* the server was named by DNS or SNI earlier */
	PKS_C_USER = 6,      /* an operator's rule overrides */
	PKS_C__COUNT,
};

PKS_PACKED_ENUM pks_rule {
#define PKS_RULE(sym, id, name, desc) PKS_R_##sym = id,
#include "rules.def"
#undef PKS_RULE
	PKS_R__COUNT,
	/* Rules are 16 bits wide in flow state so the table can grow past 255. */
	PKS_R__WIDTH = 0xffff,
};

enum pks_reason {
#define PKS_REASON(sym, id, name, desc) PKS_REASON_##sym = id,
#include "reasons.def"
#undef PKS_REASON
	PKS_REASON__COUNT,
};

/*
 * Per-CPU reason counters: one named field per reason, so that
 * `bpftool map dump pinned .../pks_stats` prints names. Field order is the
 * reason ID, so the program can also index it as an array. After the
 * reasons, what the flow tables went through (doc/design.md, "Evictions"):
 * entries the programs inserted, and how many of those were a flow the
 * daemon had seen evicted, brought back from pks_restore.
 */
struct pks_stats {
#define PKS_REASON(sym, id, field, desc) __u64 field;
#include "reasons.def"
#undef PKS_REASON
	__u64 flows_created;  /* entries pks_flows4/pks_flows gained from the programs */
	__u64 flows_restored; /* of those, entries made from a pks_restore entry */
};

/*
 * What user space did to the flow tables, for the eviction count (one entry,
 * key 0, written only by the daemon): the entries it deleted (flows it ended).
 * Evicted = created - deleted - entries now (doc/design.md, "Evictions").
 */
struct pks_ledger {
	__u64 deleted;
	__u64 restore_written; /* pks_restore entries the daemon wrote */
};

/*
 * The tunnel a flow was carried in (include/pktspec/encaps.def,
 * doc/encapsulations.md): the innermost one, in struct pks_flow_key.encap.
 */
PKS_PACKED_ENUM pks_encap {
#define PKS_ENCAP(sym, id, name, proto, rule, desc) PKS_E_##sym = id,
#include "encaps.def"
#undef PKS_ENCAP
	PKS_E__COUNT,
};

/*
 * Flow key: one entry per connection for both directions. Side A is the
 * endpoint with the smaller (address, port) compared as network-order bytes
 * then port; side B the other. IPv4 addresses are stored IPv4-mapped
 * (::ffff:a.b.c.d) so one key type serves both families. Ports are in host
 * byte order so that bpftool prints them readably.
 */
struct pks_flow_key {
	__u8 addr_a[16];
	__u8 addr_b[16];
	__u16 port_a;
	__u16 port_b;
	__u8 l4; /* IPPROTO_TCP or IPPROTO_UDP; a tunnel's own flow: IPPROTO_GRE, IPIP, IPV6 */
	enum pks_encap encap; /* the tunnel the packets came in (innermost), 0: none */
	__u8 depth;           /* tunnels around the flow: 0..PKS_TUNNEL_MAX */
	__u8 pad;
	__u32 tunnel_id;      /* VNI, GRE key, GTP-U TEID of that tunnel (host order); 0 if it has none */
};

/* Which key side is the client (the SYN sender, else the first sender). */
enum pks_side {
	PKS_SIDE_A = 0,
	PKS_SIDE_B = 1,
};

/* Direction relative to the client: index of the per-direction counters. */
enum pks_dir {
	PKS_DIR_C2S = 0,
	PKS_DIR_S2C = 1,
};

/* pks_flow.flags */
#define PKS_F_SYN 0x01       /* the handshake was seen: the client is certain */
#define PKS_F_DECIDED 0x02   /* nothing more to inspect: fast path from here */
#define PKS_F_MIDSTREAM 0x04 /* first packet was not a SYN: the client is a guess */
#define PKS_F_FIN 0x08       /* a FIN or RST was seen */
#define PKS_F_UPGRADE 0x10   /* an upgrade was announced (HTTP 101): keep inspecting for it */
/*
 * TCP end, for the daemon's flow lifecycle (user/lifecycle.c). FINs are kept
 * per key side, not per client direction: a midstream flow's client may
 * still be flipped, a key side never is.
 */
#define PKS_F_FIN_A 0x20     /* a FIN was sent by key side A */
#define PKS_F_FIN_B 0x40     /* a FIN was sent by key side B */
#define PKS_F_RST 0x80       /* a RST was seen (either side) */

/* How many payload packets per direction the kernel reads at most. */
#define PKS_INSPECT_MAX 4

/*
 * Time in flow entries: ticks of 2^PKS_TICK_SHIFT ns (about 1.05 ms) since an
 * epoch: boot (CLOCK_MONOTONIC) on a live attachment, the epoch `pktspec
 * replay` sets (struct pks_replay) in a replay. 32 bits hold 52 days; user
 * space rebuilds full times against its own clock (user/flowtab.c).
 */
#define PKS_TICK_SHIFT 20
#define PKS_TICK_NS (1ull << PKS_TICK_SHIFT)

/* pks_flow.bits */
#define PKS_B_CLIENT_B 0x01 /* the client is key side B (else A: enum pks_side) */
#define PKS_B_SIG_C2S 0x02  /* the client's payload matched the verdict */
#define PKS_B_SIG_S2C 0x04  /* the server's payload matched the verdict */

/*
 * Flow value: 48 bytes (nDPI keeps about 1.15 KB per flow), so that a million
 * IPv4 flows (16-byte key, pks_flows4) fit in 128 MiB of kernel memory with
 * the LRU hash's 64 bytes of its own per entry. Counters are per direction
 * relative to the client. What the port suggested (the `guess` reports show)
 * is not stored: it follows from the server's port (include/pktspec/ports.def).
 */
struct pks_flow {
	__u64 bytes[2];       /* frame bytes, [PKS_DIR_C2S] and [PKS_DIR_S2C] */
	__u32 packets[2];     /* frames, same directions */
	__u32 first;          /* first packet, in ticks (PKS_TICK_SHIFT) */
	__u32 last;           /* last packet, in ticks */
	__u32 cookie;         /* signature state, e.g. the DNS query ID to match */
	enum pks_rule rule;   /* the rule that reached the verdict */
	__u16 app;            /* application ID from context rules, 0 = none */
	enum pks_proto proto; /* the verdict */
	enum pks_confidence confidence;
	__u8 flags;           /* PKS_F_* */
	__u8 ctx;             /* context rules: PKS_X_* (include/pktspec/events.h) */
	__u8 copied[2];       /* payload copies sent to the engine, per direction */
	__u8 inspected;       /* payload packets inspected: client's in bits 0-3, server's in 4-7 */
	__u8 bits;            /* PKS_B_*: which side is the client, which directions matched */
};

/*
 * The key of a plain IPv4 flow in pks_flows4: the same canonical order as
 * struct pks_flow_key (side A is the smaller address, then port), in 16 bytes
 * instead of 40. Addresses in network order, ports in host order.
 */
struct pks_flow_key4 {
	__u32 addr_a;
	__u32 addr_b;
	__u16 port_a;
	__u16 port_b;
	__u8 l4;
	__u8 pad[3];
};

/*
 * The array flow table for plain IPv4 flows (`--flow-table array`,
 * doc/design.md "Flow tables"): pks_ways4, a BPF array of buckets of
 * PKS_WAYS4 ways, each way one cache line: the flow's key, a byte saying
 * the way is in use, and its value. A flow's bucket comes from
 * pks_ways4_hash (include/pktspec/flow_key.h); it takes a free way of it, or
 * else the way whose flow was quiet longest. Insertions hold one of
 * PKS_LOCKS4 spin locks (pks_locks4, chosen by the bucket); lookups take
 * none: a way's first 8 bytes and its value are written before the
 * word with `used`, and freeing it clears that word first.
 */
#define PKS_WAYS4 4
#define PKS_LOCKS4 4096
struct pks_way4 {
	__u32 addr_a; /* struct pks_flow_key4's fields, in its order */
	__u32 addr_b;
	__u16 port_a;
	__u16 port_b;
	__u8 l4;
	__u8 used; /* 1: the way holds this flow; 0: free */
	__u8 pad[2];
	struct pks_flow val;
};

struct pks_bucket4 {
	struct pks_way4 way[PKS_WAYS4];
};

/*
 * Configuration the loader writes into .rodata between open and load.
 */
struct pks_config {
	__u8 inspect_max;  /* payload packets per direction, 1..PKS_INSPECT_MAX */
	__u8 coarse_clock; /* bpf_ktime_get_coarse_ns() and bpf_jiffies64() exist (Linux 5.11+): use them on the fast path */
	/* UDP destination ports opened as tunnels (--tunnel-port); 0 turns one off. */
	__u16 vxlan_port;
	__u16 geneve_port;
	__u16 gtpu_port;
	/*
	 * The packet's time and wire length come from .bss (struct pks_replay):
	 * `pktspec replay` and the tests that set the clock. An attachment
	 * leaves it 0, and the verifier drops those reads: the hot path never
	 * touches the .bss page.
	 */
	__u8 replay;
	__u8 pad;
};

#define PKS_VXLAN_PORT 4789  /* RFC 7348 5 */
#define PKS_GENEVE_PORT 6081 /* RFC 8926 3.3 */
#define PKS_GTPU_PORT 2152   /* 3GPP TS 29.281 4.4.2.3 */
/* Tunnels opened around one packet; one more is counted as tunnel_too_deep. */
#define PKS_TUNNEL_MAX 2

/*
 * Replay state in .bss: `pktspec replay` sets the capture's clock and each
 * frame's length on the wire before every BPF_PROG_TEST_RUN. A live program
 * never has it set (now_ns == 0) and uses the kernel clock.
 */
struct pks_replay {
	__u64 now_ns;
	__u64 epoch_ns; /* the capture's time that flow ticks count from */
	__u32 wire_len; /* frame length when the capture truncated it, else 0 */
	__u32 pad;
};

/* Map names (at most 15 characters: the kernel truncates longer ones). */
#define PKS_MAP_FLOWS "pks_flows"   /* IPv6 flows and flows inside tunnels: struct pks_flow_key */
#define PKS_MAP_FLOWS4 "pks_flows4" /* plain IPv4 flows: struct pks_flow_key4 */
#define PKS_MAP_WAYS4 "pks_ways4"   /* the same in the array table: struct pks_bucket4 */
#define PKS_MAP_LOCKS4 "pks_locks4" /* its insertion locks */
#define PKS_MAP_STATS "pks_stats"
#define PKS_MAP_LEDGER "pks_ledger"   /* struct pks_ledger */
#define PKS_MAP_RESTORE "pks_restore" /* evicted flows to bring back: struct pks_flow_key -> struct pks_flow */
/* Evicted decided flows waiting for their next packet (an LRU of its own). */
#define PKS_RESTORE_MAX 16384

/*
 * The classifier's tail-call table (pks_stages, pks_stages_eg at tc egress:
 * bpf/stages.h, bpf/hook.h), which the loader fills by program name: these fixed stages in this order, then one
 * slot per PKS_STAGE row of bpf/sig/signatures.def (program pks_sg_<stage>),
 * in table order.
 */
#define PKS_FIXED_STAGES(X)       \
	X(TRACK, "pks_track")     \
	X(COPY, "pks_copy")       \
	X(KRULES, "pks_krules")   \
	X(WINDOW, "pks_window")   \
	X(VERDICT, "pks_verdict") \
	X(DECAP, "pks_decap")

#define PKS_FLOWS_DEFAULT 262144 /* pks_flows4 */
#define PKS_FLOWS6_DEFAULT 65536 /* pks_flows */

#define PKS_ASSERT_SIZE(type, size) \
	_Static_assert(sizeof(type) == (size), #type " is part of the map ABI")
PKS_ASSERT_SIZE(enum pks_proto, 1);
PKS_ASSERT_SIZE(enum pks_confidence, 1);
PKS_ASSERT_SIZE(enum pks_rule, 2);
PKS_ASSERT_SIZE(enum pks_encap, 1);
PKS_ASSERT_SIZE(struct pks_flow_key, 44);
PKS_ASSERT_SIZE(struct pks_flow, 48);
PKS_ASSERT_SIZE(struct pks_flow_key4, 16);
PKS_ASSERT_SIZE(struct pks_way4, 64);
PKS_ASSERT_SIZE(struct pks_bucket4, 64 * PKS_WAYS4);
PKS_ASSERT_SIZE(struct pks_stats, (PKS_REASON__COUNT + 2) * 8);
PKS_ASSERT_SIZE(struct pks_ledger, 16);
PKS_ASSERT_SIZE(struct pks_config, 10);
PKS_ASSERT_SIZE(struct pks_replay, 24);

#endif /* PKTSPEC_PKTSPEC_H */
