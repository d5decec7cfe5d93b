/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * The context-rule engine: the user half of the rules that need several
 * packets or several flows (the kernel half is bpf/context/; the contract is
 * include/pktspec/events.h). `pktspec run` feeds it from the live ring buffer,
 * `pktspec replay` after every packet of a capture, so both give the same
 * verdicts.
 *
 * A rule
 *   - registers itself with PKS_CTX_RULE(ops) in its own file (no table to
 *     edit): a constructor links it into the engine's list;
 *   - receives every event (struct pks_ctx_event): new flows, verdict changes,
 *     and payload copies of flows the kernel was told to copy (see
 *     pks_cr_budget() in bpf/context/events.h: FTP, SIP, RTSP, DNS responses, and
 *     the first packets of TLS, QUIC and HTTP). A payload event
 *     carries the flow key, the direction relative to the flow's client, the
 *     TCP sequence number of its first byte (0 for UDP), the packet's whole
 *     payload length and up to PKS_SNAP_LEN copied bytes. Copies come in
 *     kernel order: retransmitted and reordered segments arrive as they were
 *     seen, so a stream parser must use seq;
 *   - checks ev->hdr->proto itself and ignores what is not its protocol;
 *   - writes what it concludes with the pks_engine_* functions below: an
 *     expected flow (pks_expect), a server name (pks_hosts), a flow's name,
 *     TLS details or user agent (pks_names), server memory (pks_servers), and
 *     "done with this flow" (pks_done, which stops the copies). A name whose
 *     app the list knows also goes into the flow's own entry (pks_flow.app,
 *     what tc policies by app read) and into its server's memory;
 *   - keeps only bounded state, with eviction, and frees it in fini.
 * Rules run in one thread: they need no locks, and must not block.
 */
#ifndef PKTSPEC_ENGINE_H
#define PKTSPEC_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>

#include "pktspec/pktspec.h"
#include "pktspec/events.h"

struct pks_engine;

/* One event as rules see it. */
struct pks_ctx_event {
	const struct pks_event *hdr;
	const uint8_t *data; /* payload copy (PKS_EV_PAYLOAD), len bytes; else NULL */
	uint32_t len;
	/* The flow's endpoints (16-byte addresses, IPv4-mapped; ports host order). */
	const uint8_t *client_addr, *server_addr;
	uint16_t client_port, server_port;
	/* The packet's sender and receiver (payload events; for others: client, server). */
	const uint8_t *src_addr, *dst_addr;
	uint16_t src_port, dst_port;
	uint64_t now; /* the event's time in the flow clock */
};

struct pks_ctx_rule {
	const char *name;
	/* Optional: allocate state; return 0 or -errno. */
	int (*init)(struct pks_engine *e, void **state);
	void (*fini)(struct pks_engine *e, void *state);
	void (*event)(struct pks_engine *e, void *state, const struct pks_ctx_event *ev);
	/* Optional: called about once a second of flow clock, for expiry. */
	void (*tick)(struct pks_engine *e, void *state, uint64_t now);
	/* Set by the engine. */
	void *state;
	struct pks_ctx_rule *next;
};

void pks_ctx_rule_register(struct pks_ctx_rule *r);

#define PKS_CTX_RULE(id, ...)                                                  \
	static struct pks_ctx_rule pks_ctx_rule_##id = { .name = #id, __VA_ARGS__ }; \
	__attribute__((constructor)) static void pks_ctx_rule_reg_##id(void)    \
	{                                                                      \
		pks_ctx_rule_register(&pks_ctx_rule_##id);                     \
	}

/* The maps the engine reads and writes (fds it does not own). */
struct pks_engine_maps {
	int events, flows, flows4, expect, servers, hosts, names, done, ctxstats;
	int ctlevents; /* pks_ctlevents: control channels' copies, read before events */
	int ways4; /* pks_ways4, the array table when in use; <= 0: none */
	int ctl; /* pks_ctl: this engine is the consumer; <= 0: none */
	int opstate, ophosts; /* the operator's host-name rules (oprules.h); <= 0: none */
	int filter; /* pks_filter, the lookup filter the engine keeps for servers and hosts; <= 0: none */
	int expect_gate; /* pks_expect_gate, raised before each expectation; <= 0: none */
};

struct pks_engine_opts {
	const char *apps_path;     /* name-suffix -> application list, or NULL */
	uint64_t server_ttl_ns;    /* server memory lifetime (0: default) */
	uint64_t expect_ttl_ns;    /* expected-flow lifetime (0: default) */
	bool print;                /* print flows and verdict changes as they happen */
	bool json;                 /* ... as JSON lines */
	enum {
		PKS_ENGINE_LIVE,   /* times in events are CLOCK_MONOTONIC */
		PKS_ENGINE_REPLAY, /* times in events are the capture's clock */
	} clock;
	FILE *out;                 /* where to print (stdout when NULL) */
	/*
	 * Called with every new-flow and verdict event as it is read, after the
	 * rules (pktspec run: the flow lifecycle takes decided flows in at once,
	 * user/lifecycle.h), or NULL. A record too short to carry the flow's
	 * entry is not passed on.
	 */
	void (*on_flow)(void *ctx, const struct pks_event_flow *ev);
	void *on_flow_ctx;
	/*
	 * Called after the engine wrote a flow's pks_names or pks_done entry
	 * (pktspec run: the lifecycle then knows to read and delete them when
	 * the flow ends), or NULL.
	 */
	void (*on_context)(void *ctx, const struct pks_flow_key *k);
	void *on_context_ctx;
};

#define PKS_SERVER_TTL_DEFAULT (600ull * 1000000000ull) /* 10 minutes */
#define PKS_EXPECT_TTL_DEFAULT (60ull * 1000000000ull)  /* an announced flow starts within a minute */
#define PKS_APPS_MAX 4096                               /* lines of the application list */

/* Engine counters (`pktspec run` prints them on exit with -v). */
struct pks_engine_stats {
	uint64_t events, flows, verdicts, payloads;
	uint64_t expects;     /* expected flows written */
	uint64_t hosts;       /* server names written */
	uint64_t names;       /* flow names written */
	uint64_t remembered;  /* server-memory entries written */
	uint64_t apps;        /* flow entries (and server memories) given their app by a name */
	uint64_t map_errors;  /* writes the kernel refused */
	uint64_t malformed;   /* payloads a rule could not parse (per rule, summed) */
};

int pks_engine_new(const struct pks_engine_maps *maps, const struct pks_engine_opts *o, struct pks_engine **out);
void pks_engine_free(struct pks_engine *e);
/*
 * Consumes what the rings hold (timeout_ms 0) or waits up to timeout_ms;
 * returns the events handled or -errno. Control channels' copies
 * (pks_ctlevents) come first, then pks_events, and pks_ctlevents again
 * after every 32 records of pks_events (PKS_ENGINE_CTL_EVERY). It handles
 * at most 4096 events a call (PKS_ENGINE_BATCH in engine.c) from the two
 * rings, not counting those taken between records: it returns 4096 while
 * more wait.
 */
int pks_engine_poll(struct pks_engine *e, int timeout_ms);
/*
 * Consumes what pks_ctlevents holds, and nothing of pks_events: for a caller
 * busy with other work (the daemon's scan of a full flow table) that must
 * not leave an announcement waiting. Control copies are payload events
 * only, so no on_flow call comes from here. The events handled, or -errno.
 */
int pks_engine_poll_ctl(struct pks_engine *e);
/* The ring buffer's epoll fd, to wait on it with other fds. */
int pks_engine_fd(struct pks_engine *e);
const struct pks_engine_stats *pks_engine_stats(const struct pks_engine *e);
/* The kernel's context counters (pks_ctxstats), summed over CPUs; 0 or -errno. */
int pks_ctx_stats_read(int fd, struct pks_ctx_stats *sum);

/* --- What rules call. Each returns 0 or -errno. --- */

/* The current flow-clock time (the last event's). */
uint64_t pks_engine_now(const struct pks_engine *e);
void pks_engine_count_malformed(struct pks_engine *e);

/*
 * Raises the engine's elements of the expectation gate of k's listen side,
 * both levels (pks_expect_gate, include/pktspec/events.h), to expires_ns,
 * before the entry is written: only the engine's, so that a concurrent
 * write of the kernel's is never lost. 0 or -errno.
 */
int pks_expect_gate_raise(int gate_fd, const struct pks_expect_key *k, uint64_t expires_ns);
/*
 * An announced flow: its first packet gets proto, confidence "expected" and
 * rule. ttl_ns 0 takes the engine's default. flags: PKS_EXP_*. The flow comes
 * in the tunnel of the announcing flow fk (k's scope is taken from it).
 */
int pks_engine_expect(struct pks_engine *e, const struct pks_flow_key *fk, const struct pks_expect_key *k,
		      uint8_t proto, uint16_t rule, uint64_t ttl_ns, uint8_t flags);
/* Removes an expectation (one the kernel wrote from a request the rule found invalid). */
int pks_engine_unexpect(struct pks_engine *e, const struct pks_expect_key *k);
/*
 * A server address a DNS answer named, for ttl_s seconds (clamped, see
 * engine.c); app 0 takes the app list's answer for name. The name holds in
 * the tunnel of the DNS flow fk only.
 */
int pks_engine_host(struct pks_engine *e, const struct pks_flow_key *fk, const uint8_t addr[16], const char *name,
		    uint32_t ttl_s, uint16_t app);
/* The name of a flow, from where it came; also sets its app from the app list. */
int pks_engine_flow_name(struct pks_engine *e, const struct pks_flow_key *k, const char *host,
			 enum pks_name_source source);
/* The same, with the app to use when the list names none for host (DNS: found along the chain). */
int pks_engine_flow_name_app(struct pks_engine *e, const struct pks_flow_key *k, const char *host,
			     enum pks_name_source source, uint16_t app);
/* TLS details of a flow (alpn may be NULL, version 0 when unknown). */
int pks_engine_flow_tls(struct pks_engine *e, const struct pks_flow_key *k, const char *alpn, uint16_t version);
/* The live pks_hosts entry of an address in flow fk's tunnel (0), or -ENOENT (also when expired). */
int pks_engine_host_get(struct pks_engine *e, const struct pks_flow_key *fk, const uint8_t addr[16],
			struct pks_host *out);
/* HTTP User-Agent of a flow. */
int pks_engine_flow_agent(struct pks_engine *e, const struct pks_flow_key *k, const char *agent);
/*
 * No rule needs more payload of this flow: the kernel stops copying it.
 * first8: the flow's pks_event.first8, so that the mark stops this flow of
 * the key and no later one.
 */
int pks_engine_done(struct pks_engine *e, const struct pks_flow_key *k, uint8_t first8);
/*
 * Server memory: later flows to this endpoint (in flow k's tunnel) start with
 * proto, and with the app the name of flow k gave (pks_names), when it has one.
 */
int pks_engine_remember(struct pks_engine *e, const struct pks_flow_key *k, const uint8_t addr[16], uint16_t port,
			uint8_t l4, uint8_t proto, uint16_t rule);

/*
 * The application of a host name from the list (longest matching suffix
 * wins: ".youtube.com youtube" matches "www.youtube.com" and "youtube.com").
 * Returns the app ID (1-based) and its name, or 0.
 */
uint16_t pks_engine_app(const struct pks_engine *e, const char *host, const char **name);
const char *pks_engine_app_name(const struct pks_engine *e, uint16_t id);

/* Helpers for rules. */
void pks_addr_v4mapped(uint8_t out[16], uint32_t ipv4_be);
bool pks_addr_is_v4(const uint8_t a[16]);
void pks_addr_str(const uint8_t a[16], char *buf, size_t len);

#endif /* PKTSPEC_ENGINE_H */
