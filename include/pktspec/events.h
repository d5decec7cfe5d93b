/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * The context-rule contract between the XDP classifier and `pktspec run` /
 * `pktspec replay` (user/engine.c): the event ring buffers pks_events and
 * pks_ctlevents, and the maps the engine writes back so that XDP classifies
 * later packets and flows with what earlier ones said.
 *
 *   kernel -> user   pks_events   ring buffer: new flow, verdict change, and
 *                                 copies of first messages (TLS, QUIC, HTTP)
 *                    pks_ctlevents ring buffer: copies of control channels
 *                                 (FTP, SIP, RTSP, DNS answers), read first
 *   user -> kernel   pks_expect   announced flows (FTP, SIP/SDP, RTSP, TFTP)
 *                    pks_servers  server memory: endpoint -> confirmed verdict
 *                    pks_hosts    server address -> name (DNS), with expiry
 *                    pks_done     flows whose rules are done: no more copies
 *                    pks_filter   a bit per key of pks_servers, pks_hosts
 *                                 (and pks_restore): include/pktspec/filter.h
 *   user -> readers  pks_names    flow -> host name, ALPN, TLS version, app
 *   kernel counters  pks_ctxstats events sent and lost (ring full), hits
 *
 * All times are in the flow clock: CLOCK_MONOTONIC nanoseconds live (what
 * bpf_ktime_get_ns() returns), the capture's clock in replay. The engine only
 * ever compares times it received in events, so both work the same.
 */
#ifndef PKTSPEC_EVENTS_H
#define PKTSPEC_EVENTS_H

#include "pktspec.h"
#include "flow_key.h"

/* Map names (at most 15 characters). */
#define PKS_MAP_EVENTS "pks_events"
#define PKS_MAP_CTLEVENTS "pks_ctlevents"
#define PKS_MAP_EXPECT "pks_expect"
#define PKS_MAP_SERVERS "pks_servers"
#define PKS_MAP_HOSTS "pks_hosts"
#define PKS_MAP_NAMES "pks_names"
#define PKS_MAP_DONE "pks_done"
#define PKS_MAP_CTXSTATS "pks_ctxstats"
#define PKS_MAP_CTL "pks_ctl"
#define PKS_MAP_EXPECT_GATE "pks_expect_gate"

/* Sizes. Every table is bounded: the LRU maps evict, the ring drops and counts. */
#define PKS_EVENTS_RING (4u << 20) /* ring buffer bytes: ~2000 full payload copies */
/*
 * Flow and verdict events (and copies of first messages) wake the reader each
 * time the bytes waiting cross a multiple of PKS_EVENTS_WAKE, an eighth of the
 * ring (~6,000 flow events: at 500,000 new flows a second, every 12 ms), so a
 * reader woken there still has seven eighths of the ring before anything is
 * lost. Fewer wait for the reader's next look, at most PKS_EVENTS_LATENCY_MS
 * later (bpf/context/events.h, pks_cr_wake_lazy).
 */
#define PKS_EVENTS_WAKE_SHIFT 19
#define PKS_EVENTS_WAKE (1u << PKS_EVENTS_WAKE_SHIFT)
#define PKS_EVENTS_LATENCY_MS 50
/*
 * Copies of control channels (FTP, SIP, RTSP, DNS answers) have a ring of
 * their own, pks_ctlevents, which the engine reads before pks_events (~500
 * full copies, thousands of DNS answers). A flood of new flows fills
 * pks_events with their events faster than a reader empties it; the
 * announcements the engine must write back within milliseconds neither
 * find that ring full nor wait behind what it holds.
 */
#define PKS_CTLEVENTS_RING (1u << 20)
/* The ring bytes of a record of n bytes: the kernel's 8-byte header, the data rounded up to 8. */
#define PKS_RB_LEN(n) ((((__u64)(n) + 7) & ~7ull) + 8)
#define PKS_EXPECT_MAX 8192        /* announced flows waiting for their first packet */
#define PKS_SERVERS_MAX 16384      /* remembered server endpoints */
#define PKS_HOSTS_MAX 16384        /* named server addresses */
#define PKS_NAMES_MAX 65536        /* flows with a name */
#define PKS_DONE_MAX 16384         /* flows whose rules are done, until XDP clears want */
#define PKS_EXPECT_TTL_KERNEL (60ull * 1000000000ull) /* expectations the kernel writes itself */

/*
 * Payload copies. A copy holds at most PKS_SNAP_LEN bytes of one packet's L4
 * payload (the rest is cut; payload_len says how long it was). How many
 * packets of a direction are copied depends on what the rule needs:
 * control channels (FTP, SIP, RTSP, DNS) announce flows or names all along,
 * so they get PKS_COPY_CONTROL; first-message parsers (TLS ClientHello over a
 * few segments with retransmissions, QUIC Initials, HTTP request, TFTP
 * request) get PKS_COPY_FIRST. The per-direction counter is a byte.
 * PKS_SNAP_LEN holds a whole QUIC Initial datagram (at least 1200 bytes, RFC
 * 9000 14.1: a cut one cannot authenticate) and a full-MSS Ethernet segment
 * (a cut one leaves a hole in a ClientHello); a power of two for the copy's
 * index mask.
 */
#define PKS_SNAP_LEN 2048
#define PKS_COPY_CONTROL 255
#define PKS_COPY_FIRST 8

/* pks_flow.ctx: context-rule state of a flow (kernel sets, see bpf/context/). */
#define PKS_X_WANT 0x01     /* a rule wants payload copies of this flow */
#define PKS_X_DONE 0x02     /* the rules are done with it: never want again */
#define PKS_X_AT_FIRST 0x04 /* the verdict was set when the flow was created */
#define PKS_X_MEMORY 0x08   /* the verdict came from server memory: a signature may overrule it */
#define PKS_X_NAMED 0x10    /* pks_hosts named the server when the flow was created */

PKS_PACKED_ENUM pks_event_type {
	PKS_EV_FLOW = 1,    /* a new flow: its first packet's verdict (see old_proto) */
	PKS_EV_VERDICT = 2, /* a flow's protocol or confidence changed */
	PKS_EV_PAYLOAD = 3, /* a copy of one payload packet; data follows */
};

/*
 * One ring buffer record. For PKS_EV_PAYLOAD, caplen bytes of the packet's
 * L4 payload follow the header; other events are the header alone.
 */
struct pks_event {
	__u64 ts_ns;            /* flow clock of the packet */
	struct pks_flow_key key;
	enum pks_event_type type;
	__u8 dir;               /* enum pks_dir of the packet, relative to the flow's client */
	__u8 client;            /* the flow's client side (enum pks_side) */
	__u8 nth;               /* payload: index of this copy in its direction */
	enum pks_proto proto;   /* the verdict after this packet */
	enum pks_confidence confidence;
	enum pks_rule rule;
	/*
	 * The verdict before: before this packet (PKS_EV_VERDICT); for
	 * PKS_EV_FLOW, before the signatures read its first payload (the
	 * port's guess, an earlier flow's word), or none when they read
	 * nothing of it (no payload, a flow decided at its first packet, a
	 * tunnel's own flow).
	 */
	enum pks_proto old_proto;
	enum pks_confidence old_confidence;
	__u8 ctx;               /* pks_flow.ctx */
	__u8 flags;             /* pks_flow.flags */
	__u16 app;              /* pks_flow.app */
	__u8 kflags;            /* PKS_EVK_*: what the kernel did with this payload or flow */
	__u8 first8;            /* pks_flow.first's low byte: which flow of the key this is (pks_done's value) */
	__u32 seq;              /* TCP sequence number of the first payload byte; 0 for UDP */
	__u32 payload_len;      /* the packet's whole L4 payload length */
	__u32 caplen;           /* payload bytes that follow (<= PKS_SNAP_LEN) */
};

/*
 * A new-flow or verdict event: the header, then the flow's entry as the
 * packet left it (the daemon's tracker takes its copy of the flow from it,
 * with no read of the flow table, which may have evicted the flow by the
 * time the event is read: user/lifecycle.c).
 */
struct pks_event_flow {
	struct pks_event hdr;
	struct pks_flow flow;
};

/* A payload event as the kernel builds it (header + bounded copy). */
struct pks_event_payload {
	struct pks_event hdr;
	__u8 data[PKS_SNAP_LEN];
};

/* pks_event.kflags */
#define PKS_EVK_EXPECTED 0x01 /* the kernel wrote the expectation this packet announces (bpf/context/ftp.h) */
#define PKS_EVK_MOVED 0x02    /* a flow event: the first packet's payload moved the verdict from old_* */

/*
 * The tunnel a flow came in: its key's encap, depth and tunnel_id (all zero
 * outside tunnels). What the context rules learn inside one tunnel (an
 * announced flow, a confirmed server, a DNS name) holds in that tunnel only,
 * so that two tenants whose addresses are equal stay apart, as their flows do.
 */
struct pks_scope {
	enum pks_encap encap;
	__u8 depth;
	__u8 pad[2];
	__u32 tunnel_id;
};

static __always_inline void pks_scope_of_key(struct pks_scope *s, const struct pks_flow_key *k)
{
	s->encap = k->encap;
	s->depth = k->depth;
	s->pad[0] = s->pad[1] = 0;
	s->tunnel_id = k->tunnel_id;
}

/*
 * Expected flows. The key is the announced endpoint that will receive the
 * flow's first packet (listen_*) and the endpoint that will send it (peer_*).
 * A protocol that does not know all of it leaves a wildcard: peer_port 0
 * (FTP PASV: the client's data port is unknown), or also an all-zero
 * peer_addr (SDP media: any peer may send). On a flow's first packet XDP
 * looks up, in this order, and takes the first live entry:
 *   1. (dst, dport, src, sport)   exact
 *   2. (dst, dport, src, 0)       any peer port
 *   3. (dst, dport, ::,  0)       any peer
 *   4. (src, sport, dst, 0), 5. (src, sport, ::, 0)   UDP only: the first
 *      datagram came from the announced endpoint (RTP is symmetric, RFC 4961)
 * Addresses are 16 bytes, IPv4-mapped for IPv4, ports in host order.
 */
struct pks_expect_key {
	__u8 listen_addr[16];
	__u8 peer_addr[16];
	__u16 listen_port;
	__u16 peer_port;
	__u8 l4;
	__u8 pad[3];
	struct pks_scope scope; /* the tunnel of the flow that announced it */
};

#define PKS_EXP_ONCE 0x01            /* delete when a flow used it (FTP data) */
#define PKS_EXP_LISTENER_CLIENT 0x02 /* the listener is the flow's client (TFTP) */

struct pks_expect {
	__u64 expires_ns;     /* flow clock */
	enum pks_rule rule;   /* the rule that announced it */
	enum pks_proto proto; /* the verdict the flow gets */
	__u8 flags;           /* PKS_EXP_* */
	__u32 pad;
};

/* Server memory: a server endpoint whose flows were confirmed. */
struct pks_server_key {
	__u8 addr[16];
	__u16 port;
	__u8 l4;
	__u8 pad;
	struct pks_scope scope; /* the tunnel the server was seen in */
};

struct pks_server {
	__u64 expires_ns;
	enum pks_rule rule;   /* the rule that confirmed it (for "why?") */
	enum pks_proto proto;
	__u8 pad0;
	__u16 app;            /* the application a name gave a flow to it (SNI, Host, DNS), 0 none */
	__u8 pad[2];
};

/* Names. Longer names are cut (and still end in NUL). */
#define PKS_NAME_LEN 128
#define PKS_APP_LEN 32
#define PKS_ALPN_LEN 16
#define PKS_AGENT_LEN 96

struct pks_host_key {
	__u8 addr[16];
	struct pks_scope scope; /* the tunnel the DNS answer came in */
};

struct pks_host {
	__u64 expires_ns; /* from the DNS TTL (see user/rule_dns.c for the floor) */
	char name[PKS_NAME_LEN];
	__u16 app;        /* application ID (1-based line of the app list), 0 none */
	__u8 pad[6];
};

PKS_PACKED_ENUM pks_name_source {
	PKS_NAME_NONE = 0,
	PKS_NAME_DNS = 1,  /* a DNS answer named the server address */
	PKS_NAME_SNI = 2,  /* TLS ClientHello server_name */
	PKS_NAME_QUIC = 3, /* server_name in a decrypted QUIC Initial */
	PKS_NAME_HTTP = 4, /* HTTP Host header */
};

struct pks_flow_name {
	__u64 updated_ns;
	char host[PKS_NAME_LEN];
	char app[PKS_APP_LEN];
	char alpn[PKS_ALPN_LEN];    /* first ALPN protocol offered, when any */
	char agent[PKS_AGENT_LEN];  /* HTTP User-Agent, when any */
	char dns_host[PKS_NAME_LEN]; /* the DNS name, kept when SNI/Host differs */
	__u16 tls_version;          /* the ServerHello's when seen, else highest offered (0x0304 = TLS 1.3), 0 none */
	__u16 app_id;
	enum pks_name_source source; /* where host came from */
	__u8 pad[3];
};

/*
 * What the classifier needs to know about its user-space half, so that a new
 * flow pays for the context machinery only when it can matter. pks_ctl has
 * one entry per writer, so that no writer overwrites another's field:
 * PKS_CTL_ENGINE is the engine's, PKS_CTL_KERNEL the kernel rules'.
 *  - consumer (engine): the PID of the engine reading pks_events (pktspec
 *    run, replay), 0 when none. Without one, no event and no payload copy is
 *    sent (the kernel's own FTP and TFTP rules still read theirs). A daemon
 *    killed with SIGKILL leaves its PID: events then go to a ring nobody
 *    reads, as they always did, until the next daemon takes over.
 *  - expect_until (both): the latest expiry of any expectation that writer
 *    wrote. A new flow after both looks nothing up in pks_expect. Same clock
 *    as the expectations (capture time in replay).
 *  - restore (engine's entry, written by the daemon's flow lifecycle): 1 from
 *    before it writes an entry into pks_restore until it finds that map empty
 *    again, else 0. A new flow looks pks_restore up only while it is 1
 *    (doc/design.md, "Evictions").
 *  - servers_until, hosts_until (engine): the latest expiry of any entry the
 *    engine wrote into pks_servers, pks_hosts, raised before the entry is
 *    written. A new flow after it looks nothing up in that table (an entry
 *    there would have expired): two lookups saved on every new flow while no
 *    daemon remembers servers or names hosts. Same clock as the entries.
 */
#define PKS_CTL_ENGINE 0
#define PKS_CTL_KERNEL 1
struct pks_ctl {
	__u64 consumer;
	__u64 expect_until;
	__u64 restore;
	__u64 servers_until;
	__u64 hosts_until;
};

/*
 * The expectation gate (pks_expect_gate): until when an expectation may be
 * alive at each slot of an expectation's listen side (address, port, L4 and
 * tunnel: what all of a new flow's lookups on one side share, struct
 * pks_expect_key), per writer, so that a new flow looks pks_expect up only
 * for an endpoint an announcement named. Two levels, in one array of
 * 32-bit times (each element takes 8 bytes): 2^PKS_EXPECT_GATE_BITS fine
 * slots (256 KiB), then 2^PKS_EXPECT_GATE_L1_BITS coarse ones (8 KiB,
 * which every new flow reads and so stays cached), each covering the fine
 * slots that share its top bits. A slot's element for writer w (PKS_CTL_ENGINE, PKS_CTL_KERNEL)
 * is the slot's pair's first + w, so a slot's two elements share a cache
 * line and each writer writes only its own. A writer raises both levels
 * before it writes the entry; a new flow reads the fine slot only where
 * the coarse one is open. Nobody ever clears a slot: a time in the past is
 * a closed gate. Times are in units of 2^30 ns (about 1.07 s) of the
 * expectations' clock, rounded up, plus one unit of margin for two CPUs of
 * one writer storing at once (the later store may be the earlier expiry,
 * by microseconds). A slot opened by another endpoint's expectation only
 * costs the lookups it would have cost without the gate.
 */
#define PKS_EXPECT_GATE_BITS 14
#define PKS_EXPECT_GATE_SLOTS (1u << PKS_EXPECT_GATE_BITS)
#define PKS_EXPECT_GATE_L1_BITS 9
#define PKS_EXPECT_GATE_ENTRIES ((PKS_EXPECT_GATE_SLOTS + (1u << PKS_EXPECT_GATE_L1_BITS)) * 2)
#define PKS_EXPECT_GATE_SHIFT 30

static __always_inline __u32 pks_expect_gate_slot(const struct pks_expect_key *k)
{
	const __u32 *a = (const __u32 *)k->listen_addr;
	__u64 h = 0;

	/* The fields, not the bytes: struct pks_scope has a padding byte nobody zeroes. */
	h = (h ^ (a[0] | (__u64)a[1] << 32)) * 0x9E3779B97F4A7C15ULL;
	h = (h ^ (a[2] | (__u64)a[3] << 32)) * 0x9E3779B97F4A7C15ULL;
	h = (h ^ (k->listen_port | (__u64)k->l4 << 16 | (__u64)k->scope.depth << 24 |
		  (__u64)(__u32)k->scope.encap << 32)) * 0x9E3779B97F4A7C15ULL;
	h = (h ^ k->scope.tunnel_id) * 0x9E3779B97F4A7C15ULL;
	return (__u32)(pks_fmix64(h) >> (64 - PKS_EXPECT_GATE_BITS));
}

/* The element of writer for fine slot `slot`, and for the coarse slot that covers it. */
static __always_inline __u32 pks_expect_gate_index(__u32 slot, __u32 writer)
{
	return (slot & (PKS_EXPECT_GATE_SLOTS - 1)) * 2 + (writer & 1);
}

static __always_inline __u32 pks_expect_gate_l1_index(__u32 slot, __u32 writer)
{
	return PKS_EXPECT_GATE_SLOTS * 2 +
	       ((slot & (PKS_EXPECT_GATE_SLOTS - 1)) >> (PKS_EXPECT_GATE_BITS - PKS_EXPECT_GATE_L1_BITS)) * 2 +
	       (writer & 1);
}

/* The gate's time for an expectation that expires at expires_ns. */
static __always_inline __u32 pks_expect_gate_until(__u64 expires_ns)
{
	__u64 u = (expires_ns >> PKS_EXPECT_GATE_SHIFT) + 2;

	return u > 0xffffffffULL ? 0xffffffffU : (__u32)u;
}

/* Whether a gate time lets a new flow at now look pks_expect up. */
static __always_inline int pks_expect_gate_open(__u32 until, __u64 now)
{
	return (now >> PKS_EXPECT_GATE_SHIFT) < until;
}

/* Per-CPU counters of the context machinery, one named field each. */
struct pks_ctx_stats {
	__u64 ev_flow;          /* new-flow events sent */
	__u64 ev_verdict;       /* verdict-change events sent */
	__u64 ev_payload;       /* payload copies sent */
	__u64 lost_flow;        /* new-flow events lost: ring full */
	__u64 lost_verdict;     /* verdict events lost: ring full */
	__u64 lost_payload;     /* payload copies lost: their ring full */
	__u64 snap_cut;         /* payload copies cut to PKS_SNAP_LEN */
	__u64 expect_hit;       /* flows classified from pks_expect */
	__u64 expect_expired;   /* stale pks_expect entries removed on lookup */
	__u64 memory_hit;       /* flows started from server memory */
	__u64 memory_overruled; /* server-memory verdicts a signature overruled */
	__u64 host_hit;         /* flows whose server pks_hosts named */
	__u64 done;             /* flows whose payload copies stopped on pks_done */
	__u64 user_hit;         /* flows an operator rule (pks_oprules) applied to */
};

PKS_ASSERT_SIZE(struct pks_event, 80);
PKS_ASSERT_SIZE(struct pks_event_flow, 80 + 48);
PKS_ASSERT_SIZE(struct pks_event_payload, 80 + PKS_SNAP_LEN);
_Static_assert(PKS_EVENTS_WAKE * 8 == PKS_EVENTS_RING, "PKS_EVENTS_WAKE is an eighth of the ring");
PKS_ASSERT_SIZE(struct pks_scope, 8);
PKS_ASSERT_SIZE(struct pks_expect_key, 48);
PKS_ASSERT_SIZE(struct pks_expect, 16);
PKS_ASSERT_SIZE(struct pks_server_key, 28);
PKS_ASSERT_SIZE(struct pks_server, 16);
PKS_ASSERT_SIZE(struct pks_host_key, 24);
PKS_ASSERT_SIZE(struct pks_host, 8 + PKS_NAME_LEN + 8);
PKS_ASSERT_SIZE(struct pks_flow_name, 8 + PKS_NAME_LEN * 2 + PKS_APP_LEN + PKS_ALPN_LEN + PKS_AGENT_LEN + 8);
PKS_ASSERT_SIZE(struct pks_ctx_stats, 14 * 8);
PKS_ASSERT_SIZE(struct pks_ctl, 40);

#endif /* PKTSPEC_EVENTS_H */
