/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Flow lifecycle: the daemon (`pktspec run`) owns the end of flows.
 *
 * Every scan reads the whole flow table (pks_flows4 and pks_flows) and decides, per flow, in
 * the flow clock (CLOCK_MONOTONIC live, the capture's clock in replay):
 *   - TCP with a RST, or a FIN from both sides: it ends once it has been
 *     quiet for the linger time (the last ACKs of the close pass first);
 *   - TCP with a FIN from one side: it ends after fin_timeout of silence;
 *   - any other flow: it ends after tcp_timeout / udp_timeout of silence;
 *   - a flow older than active_timeout since its last report gets an interim
 *     record and stays.
 * An ended flow is deleted from its flow table and from the per-flow context maps
 * the daemon owns (pks_names, pks_done), and one record goes to the sink.
 * A flow the tracker knew that vanished without the tracker deleting it was
 * evicted by the LRU (or removed by another tool): it is counted and reported
 * with the reason "evicted" and its last counters seen. A flow with a verdict
 * from its payload (signature or better) and no FIN or RST is expected back:
 * its last state goes into pks_restore, from which the kernel rebuilds its
 * entry at its next packet (verdict, client side, counters of the last scan);
 * the record says "evicted" (the flow goes on) and, when it is back,
 * "restored". The tracker learns a decided flow from its new-flow or verdict
 * event as well, at once: a flow a flood evicts before the next scan has seen
 * it decided is known, and decided, when that scan finds it gone. One that is
 * back before the tracker wrote it (a new entry under
 * the same key) is repaired in place from the tracker's copy. One that never
 * comes back ends, reason "evicted", at its idle timeout.
 *
 * Records carry the flow's totals (as the kernel counts them: frames and
 * frame bytes per direction) and the deltas since the previous record of the
 * same flow, which the IPFIX exporter sends (octetDeltaCount).
 */
#ifndef PKTSPEC_LIFECYCLE_H
#define PKTSPEC_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pktspec/pktspec.h"
#include "pktspec/events.h"
#include "pktspec.h"

/* Why a record was written. IDs are stable (JSON and docs name them). */
enum pks_end_reason {
	PKS_END_NONE = 0,     /* not an end (a flow-start or verdict record) */
	PKS_END_IDLE = 1,     /* no packet for the idle timeout */
	PKS_END_ACTIVE = 2,   /* interim record of a long flow: it goes on */
	PKS_END_FIN = 3,      /* TCP FIN from both sides, then the linger time */
	PKS_END_RST = 4,      /* TCP RST, then the linger time */
	PKS_END_EVICTED = 5,  /* the kernel's LRU (or another tool) removed it */
	PKS_END_SHUTDOWN = 6, /* the daemon stopped and took the table with it */
	PKS_END_RESTORED = 7, /* not an end: an evicted flow is back with its state */
	PKS_END__COUNT,
};

const char *pks_end_reason_name(unsigned int r);

/* Timeouts in nanoseconds of flow clock. */
struct pks_lifecycle_opts {
	uint64_t linger_ns;         /* after FIN both ways or RST (default 2 s) */
	uint64_t fin_timeout_ns;    /* idle, TCP with one FIN (default 15 s) */
	uint64_t tcp_timeout_ns;    /* idle, open TCP (default 300 s) */
	uint64_t udp_timeout_ns;    /* idle, UDP (default 60 s) */
	uint64_t active_timeout_ns; /* interim record of a long flow (default 1800 s) */
	uint32_t pending_max;       /* evicted flows waiting at once (default PKS_RESTORE_MAX, what pks_restore holds) */
};

#define PKS_SEC 1000000000ull
#define PKS_LINGER_DEFAULT (2 * PKS_SEC)
#define PKS_FIN_TIMEOUT_DEFAULT (15 * PKS_SEC)
#define PKS_TCP_TIMEOUT_DEFAULT (300 * PKS_SEC)
#define PKS_UDP_TIMEOUT_DEFAULT (60 * PKS_SEC)
#define PKS_ACTIVE_TIMEOUT_DEFAULT (1800 * PKS_SEC)

/* One record for the sinks (JSON lines, IPFIX, metrics). */
struct pks_flow_record {
	struct pks_flow_key key;
	struct pks_flow_view val; /* the flow's last state */
	enum pks_end_reason reason;
	uint64_t id;             /* this daemon's flow number, shared by its records */
	uint64_t since_ns;       /* what the deltas count starts here: first packet or previous record */
	uint64_t delta_bytes[2]; /* since the previous record of this flow, per pks_dir */
	uint64_t delta_packets[2];
	bool named;              /* name holds the flow's pks_names entry */
	bool live;               /* the flow goes on: an eviction it survives, a restore */
	struct pks_flow_name name;
};

/* Per-protocol, per-confidence totals counted as the scans see them. */
struct pks_lifecycle_counts {
	uint64_t packets[PKS_P__COUNT][PKS_C__COUNT];
	uint64_t bytes[PKS_P__COUNT][PKS_C__COUNT];
	uint64_t ended[PKS_P__COUNT][PKS_END__COUNT]; /* records by reason (interim included) */
	uint64_t active[PKS_P__COUNT][PKS_C__COUNT];  /* flows in the table at the last scan */
	uint64_t entries;                             /* flows in the table at the last scan */
	uint64_t evicted;                             /* flows seen vanish (see above) */
	uint64_t restore_written;                     /* of those, written to pks_restore */
	uint64_t restored;                            /* back from pks_restore (the kernel rebuilt them) */
	uint64_t repaired;                            /* back as a new entry, repaired by the tracker */
	uint64_t pending;                             /* evicted, expected back, not yet seen */
	uint64_t restore_full;                        /* evicted, expected back, ended: pks_restore was full */
	uint64_t deleted;                             /* entries the tracker deleted (flows it ended) */
	uint64_t noted;                               /* decided flows taken in from their events */
	uint64_t table_evictions;                     /* the kernel-side count (pks_evictions_read), at scans */
	uint64_t delete_errors;                       /* deletions the kernel refused */
	uint64_t scans;
};

typedef void (*pks_flow_record_fn)(void *ctx, const struct pks_flow_record *r);

struct pks_lifecycle;

/*
 * flows: the flow tables; names_fd, done_fd: the context maps deleted with a
 * flow (-1 when absent). The tracker does not own the fds.
 */
int pks_lifecycle_new(const struct pks_flowtab *flows, int names_fd, int done_fd, const struct pks_lifecycle_opts *o,
		      pks_flow_record_fn emit, void *ctx, struct pks_lifecycle **out);
void pks_lifecycle_free(struct pks_lifecycle *lc);
/*
 * The maps for evictions (-1: none): restore_fd, pks_restore, which flows
 * expected back are written to; ctl_fd, pks_ctl, whose engine entry's
 * restore field tells the kernel to look pks_restore up (set before the
 * first entry is written, cleared at a scan that finds nothing pending and
 * the map empty); ledger_fd, pks_ledger, where the deletions are added for
 * the eviction count; stats_fd, pks_stats, for the entries the programs
 * created (counts.table_evictions after each scan); filter_fd, pks_filter,
 * whose restore bits say which keys the kernel looks up (user/filter.h).
 * 0 or -errno (the filter could not be mapped).
 */
int pks_lifecycle_set_restore(struct pks_lifecycle *lc, int restore_fd, int ctl_fd, int ledger_fd, int stats_fd,
			      int filter_fd);
/*
 * A new-flow or verdict event as the daemon reads it (the engine's on_flow):
 * for a flow decided from its payload or better (what an eviction would
 * lose), the tracker's copy is taken or refreshed from the entry the event
 * carries, so that an eviction before the next scan finds the flow known and
 * decided (it goes to pks_restore), even one the table lost before the event
 * was read. Events of flows not decided cost nothing.
 */
void pks_lifecycle_event(struct pks_lifecycle *lc, const struct pks_event_flow *ev);
/*
 * The engine wrote k's pks_names or pks_done entry (its on_context): the
 * flow's record reads the name and its end deletes both, even when no state
 * the tracker read of the flow shows a payload copy yet.
 */
void pks_lifecycle_context(struct pks_lifecycle *lc, const struct pks_flow_key *k);
/* One scan at flow-clock time now; returns flows ended or -errno. */
int pks_lifecycle_scan(struct pks_lifecycle *lc, uint64_t now);
/*
 * Ends every flow with reason (PKS_END_SHUTDOWN) once its table goes away:
 * the flows the tables hold now and the tracked ones they lost. It deletes
 * nothing from the kernel's maps, so call it only after the last detach.
 */
void pks_lifecycle_flush(struct pks_lifecycle *lc, enum pks_end_reason reason);
const struct pks_lifecycle_counts *pks_lifecycle_counts(const struct pks_lifecycle *lc);

/* Evictions the daemon's scans saw (a flow created and evicted between two scans is not seen). */
uint64_t pks_lifecycle_evictions(const struct pks_lifecycle *lc);

/*
 * The eviction count from the kernel's side (doc/design.md, "Evictions"):
 * entries the programs created (pks_stats), minus those the daemon deleted
 * (pks_ledger), minus those in the tables now. Exact when the tables are
 * quiet; while packets create entries during the count it is off by those.
 */
struct pks_evictions {
	uint64_t created;  /* entries the programs inserted */
	uint64_t restored; /* of those, rebuilt from pks_restore */
	uint64_t deleted;  /* entries the daemon deleted */
	uint64_t restore_written;
	uint64_t entries;  /* in the tables now */
	uint64_t capacity; /* entries the tables can hold */
	uint64_t evicted;  /* created - deleted - entries (0 if negative) */
};

/* stats_fd: pks_stats; ledger_fd: pks_ledger or -1; t: the flow tables. 0 or -errno. */
int pks_evictions_read(int stats_fd, int ledger_fd, const struct pks_flowtab *t, struct pks_evictions *ev);

/* A record as a JSON line (event "end" or "interim") or a line of text; the caller flushes out. */
void pks_flow_record_print(FILE *out, const struct pks_flow_record *r, bool json, enum pks_clock clock);

#endif /* PKTSPEC_LIFECYCLE_H */
