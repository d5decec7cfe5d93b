/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Declarations shared by the pktspec CLI's source files (user/) and its unit
 * tests. The kernel/user contract itself is include/pktspec/pktspec.h.
 */
#ifndef PKTSPEC_USER_H
#define PKTSPEC_USER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "pktspec/pktspec.h"
#include "pktspec/policy.h"
#include "pktspec/events.h"

/* Exit statuses. */
#define PKS_EXIT_OK 0
#define PKS_EXIT_FAIL 1
#define PKS_EXIT_USAGE 2

extern int pks_verbose;

/* "pktspec: <message>" on stderr; returns PKS_EXIT_FAIL for `return pks_fail(...)`. */
int pks_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same for a bad command line; returns PKS_EXIT_USAGE. */
int pks_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pks_libbpf_logging(void);
/* Whether one of libbpf's recent warnings contains needle; forget clears them. */
bool pks_libbpf_said(const char *needle);
void pks_libbpf_forget(void);

/* Names from the tables in include/pktspec/ (protocols.def, rules.def, ...). */
const char *pks_proto_name(unsigned int id);
const char *pks_encap_name(unsigned int id);
int pks_proto_by_name(const char *name); /* -1 when unknown */
const char *pks_proto_desc(unsigned int id);
const char *pks_confidence_name(unsigned int c);
int pks_confidence_by_name(const char *name);
const char *pks_rule_name(unsigned int id);
const char *pks_reason_name(unsigned int id);
const char *pks_reason_desc(unsigned int id);

/* Environment checks; each prints its own message and returns -errno. */
/*
 * Capabilities a command needs (pks_need_caps): the bpf() call (CAP_BPF),
 * loading programs (CAP_BPF and CAP_PERFMON), XDP and tc (CAP_NET_ADMIN);
 * CAP_SYS_ADMIN covers all.
 */
#define PKS_NEED_BPF 0x1
#define PKS_NEED_NET_ADMIN 0x2
#define PKS_NEED_LOAD 0x4
#define PKS_CAP_BPF 39     /* linux/capability.h since 5.8 */
#define PKS_CAP_PERFMON 38
int pks_need_caps(const char *what, unsigned int need);
bool pks_have_cap(int cap);
int pks_need_bpffs(void);
int pks_lock(void); /* returns an fd to close, or -errno */
/*
 * One daemon per set of pinned maps: an exclusive flock() on PKS_PIN_DIR
 * (created if missing; *created says so), held until the returned fd is
 * closed or the process dies. Taken with pks_lock() held. When another
 * process holds it, says which (PID, command line) and returns -EBUSY.
 */
int pks_daemon_lock(bool *created);
/*
 * The PID of the `pktspec run` holding that lock (from /proc/locks, without
 * taking it), its command line in cmd; 0 when none holds it (or its process
 * is not visible here).
 */
pid_t pks_daemon_holder(char *cmd, size_t len);
/*
 * For run -i after a crash: whether IFACE (this network namespace) carries
 * pktspec's attachment of this build on the pinned maps, to serve as it is.
 * 1: yes, adopt it; 0: nothing attached, attach; -errno with a message:
 * another XDP program, another build, other maps, or another MODE (NULL: any).
 * Called with pks_lock() held.
 */
int pks_attach_adopt(const char *ifname, const char *mode);

/* Parsing of numbers on the command line. */
int pks_parse_uint(const char *s, unsigned long max, unsigned long *out);
/* "HOST:PORT" or "[IPv6]:PORT" into its parts (port 1-65535); 0 or -EINVAL. */
int pks_split_hostport(const char *s, char *host, size_t hlen, char *port, size_t plen);

/* Loading the classifier. */
struct pktspec_bpf;
/* The table of plain IPv4 flows (--flow-table): the LRU hash pks_flows4, or the array pks_ways4. */
enum pks_table_kind {
	PKS_TABLE_DEFAULT = 0, /* a pinned load takes the pinned tables' kind and sizes (when no size is given); else LRU */
	PKS_TABLE_LRU = 1,
	PKS_TABLE_ARRAY = 2,
};
struct pks_load_opts {
	bool pinned;           /* share the maps pinned under PKS_PIN_DIR */
	enum pks_table_kind table; /* --flow-table */
	unsigned int max_flows; /* pks_flows4 (IPv4); 0: default */
	unsigned int max_flows6; /* pks_flows (IPv6); 0: a quarter of max_flows, or its default */
	unsigned int inspect_max; /* 0: default */
	unsigned int tunnel_ports[3]; /* --tunnel-port: vxlan, geneve, gtp-u UDP port + 1; 0: default */
	bool replay; /* times and wire lengths from .bss (pks_config.replay): replay and tests */
};
int pks_load(const struct pks_load_opts *o, struct pktspec_bpf **out);
/* "--tunnel-port KIND=PORT" (vxlan, geneve, gtp-u; port 0 turns the kind off) into *o: 0 or -EINVAL. */
int pks_tunnel_port_opt(struct pks_load_opts *o, const char *arg);
struct pks_config;
void pks_tunnel_ports_apply(const struct pks_load_opts *o, volatile struct pks_config *cfg);
struct bpf_map;
struct bpf_object;
struct bpf_object_skeleton;
/*
 * Loads an opened skeleton: keeps each program's verifier statistics, fills
 * the classifier's tail-call table, and on failure says which program the
 * kernel's verifier rejected and why (or which pinned map did not match).
 * `what` names the object in messages ("the classifier"). 0 or -errno.
 */
int pks_skel_load(struct bpf_object_skeleton *s, const char *what);
/* Fills an object's tail-call table (pks_stages) from its loaded programs; 0 or -errno. */
int pks_stages_fill(struct bpf_object *obj);
/*
 * Before obj is loaded: each of its pinned maps that `from` (loaded) also
 * has becomes `from`'s, and none of obj's maps is pinned (tests: a second
 * object over the classifier's maps, as a live attachment shares them).
 */
int pks_share_maps(struct bpf_object *obj, struct bpf_object *from);

/* A program's verifier statistics, from its BPF_LOG_STATS log. */
struct pks_verifier_stats {
	long insns;      /* processed instructions; -1 when unknown */
	long states;     /* total states */
	long peak;       /* peak states */
	long time_us;    /* verification time */
	char stack[128]; /* stack depth per frame, as the kernel prints it */
};
void pks_verifier_stats_parse(const char *log, struct pks_verifier_stats *st);
/* The line of a verifier log that says why it refused (the last that is not a statistic). */
void pks_verifier_reason(const char *log, char *out, size_t len);
/* The running kernel's release, e.g. "6.1.0-57-cloud-amd64". */
const char *pks_kernel_release(void);
/*
 * An object's flow tables, and its .rodata's pks_ways4_buckets (bpf/ways4.h):
 * PKS_FLOW_MAPS(skel) for any skeleton of an object that includes bpf/maps.h.
 */
struct pks_flow_maps {
	struct bpf_map *flows4, *ways4, *flows;
	volatile __u32 *buckets4;
};
#define PKS_FLOW_MAPS(skel)                                                                   \
	((struct pks_flow_maps){ .flows4 = (skel)->maps.pks_flows4, .ways4 = (skel)->maps.pks_ways4, \
				 .flows = (skel)->maps.pks_flows,                                     \
				 .buckets4 = &(skel)->rodata->pks_ways4_buckets })
/* Sizes an object's flow tables like the pinned ones (and their kind); returns whether they are pinned. */
bool pks_flows_adopt_pinned_size(const struct pks_flow_maps *m);
/* The array table's buckets for --max-flows N: two ways per flow, PKS_WAYS4 ways a bucket. */
__u32 pks_ways4_buckets_for(unsigned int max_flows);
/* "--flow-table lru|array" into *kind: 0, or the usage error's exit status (2). */
int pks_flow_table_opt(const char *cmd, const char *arg, enum pks_table_kind *kind);
bool pks_have_coarse_clock(int prog_type); /* enum bpf_prog_type */
/* Sizes an object's flow tables from the options (pks_load_opts). */
void pks_flows_set_size(const struct pks_flow_maps *m, const struct pks_load_opts *o);
/* --max-flows and --max-flows6 take PKS_FLOWS_MIN..PKS_FLOWS_MAX: 0, or the usage error's exit status (2). */
#define PKS_FLOWS_MIN 1024u
#define PKS_FLOWS_MAX (1u << 24)
/* Kernel bytes of an LRU hash entry beyond its key and value (the element header: hash node, LRU node, hash). */
#define PKS_LRU_ENTRY_OVERHEAD 64
int pks_max_flows_opt(const char *cmd, const char *opt, const char *arg, unsigned int *out);
/* Kernel memory the flow tables of o take (both tables), in bytes. */
unsigned long long pks_flows_memory(const struct pks_load_opts *o);
/* 0 when the tables fit in half of MemAvailable (or are the defaults); else PKS_EXIT_FAIL after a message. */
int pks_flows_memory_check(const struct pks_load_opts *o);

/*
 * A flow as the CLI sees it: struct pks_flow (include/pktspec/pktspec.h)
 * decoded (user/flowtab.c). Times in ns: CLOCK_MONOTONIC for a live table,
 * capture time for a replayed one.
 */
struct pks_flow_view {
	__u64 first_ns;
	__u64 last_ns;
	__u64 bytes[2];   /* [PKS_DIR_C2S], [PKS_DIR_S2C] */
	__u32 packets[2];
	__u32 cookie;
	__u16 rule;
	__u16 app;
	__u8 proto;
	__u8 confidence;
	__u8 guess;       /* what the server's port suggests */
	__u8 client;      /* enum pks_side */
	__u8 flags;       /* PKS_F_* */
	__u8 sig_dirs;    /* bit per enum pks_dir whose payload matched the verdict */
	__u8 inspected[2];
	__u8 ctx;         /* PKS_X_* */
	__u8 copied[2];
};

/*
 * Whether the daemon's context maps (pks_names, pks_done) may hold an entry
 * for a flow with these context bits and payload copies: the engine writes
 * them only for a flow the kernel copied a payload of, or one pks_hosts
 * named at its creation (rule_names, rule_dns). Copies only ever grow, so a
 * later reading of the same flow answers no less. Under a flood of new flows
 * most flows have neither, and a lookup and a delete a flow were the scan's
 * largest cost (doc/performance.md, "The daemon's scan under a flood").
 */
static inline bool pks_flow_context_possible(__u8 ctx, const __u8 copied[2])
{
	return (ctx & (PKS_X_NAMED | PKS_X_DONE)) || copied[0] || copied[1];
}

/* Flow table records, as read from the flow tables. */
struct pks_flow_rec {
	struct pks_flow_key key;
	struct pks_flow_view val;
};

struct pks_flow_set {
	struct pks_flow_rec *recs;
	size_t n;
	size_t cap;
};

enum pks_clock {
	PKS_CLOCK_MONOTONIC, /* a live table: kernel monotonic time */
	PKS_CLOCK_REALTIME,  /* replay: capture timestamps */
};

/* The two flow tables (pks_flows4, pks_flows) as one (user/flowtab.c). */
struct pks_bucket4;
struct pks_flowtab {
	int fd4, fd6;
	/* The array table (--flow-table array): pks_ways4 mapped, buckets > 0; else IPv4 flows are in fd4. */
	int fdw;
	struct pks_bucket4 *ways;
	__u32 buckets;
	size_t ways_len;
	enum pks_clock clock;
	__u64 epoch_ns; /* replay: the capture time ticks count from */
	__u64 now_ns;   /* tests: the monotonic clock to decode against; 0 = the real one */
	bool owned;     /* the fds are ours to close */
	/*
	 * Called between the batches of a whole table's read, and by the
	 * daemon's scan between its steps (NULL: nothing): `pktspec run` reads
	 * its control ring there, so that an announcement does not wait for a
	 * scan of a full table (doc/context.md, "Events").
	 */
	void (*between)(void *ctx);
	void *between_ctx;
};
struct pktspec_bpf;
void pks_flowtab_init(struct pks_flowtab *t);
int pks_flowtab_pinned(struct pks_flowtab *t); /* -errno when not pinned */
/* The tables of a loaded classifier object; replay: times count from its epoch. 0, or -errno (the array not mapped). */
int pks_flowtab_for_skel(struct pks_flowtab *t, const struct pktspec_bpf *skel, bool replay);
void pks_flowtab_close(struct pks_flowtab *t);
/*
 * Uses fdw (pks_ways4) when it is the table in use (more than one bucket):
 * maps it for reading and freeing ways in place. fdw <= 0: none. 0 or -errno; the fd stays the caller's.
 */
int pks_flowtab_use_ways(struct pks_flowtab *t, int fdw);
/* Capacity of the IPv4 table in use (ways or LRU entries) and of the other; 0 or -errno. */
int pks_flowtab_capacity(const struct pks_flowtab *t, __u64 *cap4, __u64 *cap6);
__u64 pks_flowtab_ns(const struct pks_flowtab *t, __u32 ticks);
/* The inverse of pks_flow_decode: a flow entry as the kernel keeps it (the guess is not stored). */
void pks_flow_encode(const struct pks_flowtab *t, const struct pks_flow_view *v, struct pks_flow *f);
void pks_flow_decode(const struct pks_flowtab *t, const struct pks_flow_key *key, const struct pks_flow *f,
		     struct pks_flow_view *v);
/* By wide key, in whichever table holds the flow; 0 or -errno. */
int pks_flowtab_get(const struct pks_flowtab *t, const struct pks_flow_key *key, struct pks_flow_view *v);
int pks_flowtab_get_raw(const struct pks_flowtab *t, const struct pks_flow_key *key, struct pks_flow *f);
/* The daemon's write-back of a flow's app (user/flowtab.c): 1 written, 0 unchanged, -errno. */
int pks_flowtab_set_app(const struct pks_flowtab *t, const struct pks_flow_key *key, __u16 app, int user_proto);
int pks_flowtab_put_raw(const struct pks_flowtab *t, const struct pks_flow_key *key, const struct pks_flow *f,
			__u64 flags);
int pks_flowtab_del(const struct pks_flowtab *t, const struct pks_flow_key *key);
/* Entries in both tables, and room. */
int pks_flowtab_fill(const struct pks_flowtab *t, __u64 *entries, __u64 *capacity);
unsigned int pks_port_guess_user(unsigned int l4, unsigned int port);

int pks_flows_read(const struct pks_flowtab *t, struct pks_flow_set *set);
/* The same into a set already read before, reusing its memory. */
int pks_flows_reread(const struct pks_flowtab *t, struct pks_flow_set *set);
/*
 * Every entry of a hash map, a batch at a time (BPF_MAP_LOOKUP_BATCH, 5.6+):
 * fn gets each batch's keys and values packed; a nonzero return stops the
 * walk and is returned. 0 or -errno.
 */
typedef int (*pks_batch_fn)(void *ctx, const void *keys, const void *vals, __u32 n);
int pks_map_batches(int fd, size_t ksize, size_t vsize, pks_batch_fn fn, void *ctx);
void pks_flows_free(struct pks_flow_set *set);
void pks_flows_sort(struct pks_flow_set *set);


enum pks_sort {
	PKS_SORT_AGE = 0, /* oldest first */
	PKS_SORT_BYTES,   /* most first */
	PKS_SORT_PACKETS,
};

struct pks_print_opts {
	bool json;
	int proto; /* -1: all */
	enum pks_clock clock;
	int names_fd; /* pks_names for host/app columns; <= 0: none */
	bool has_addr;
	uint8_t addr[16]; /* only flows with this endpoint address (IPv4-mapped for IPv4) */
	uint16_t port;    /* only flows with this port on either side; 0: any */
	enum pks_sort sort;
};

/* Per-protocol, per-confidence totals of a flow set (user/summary.c). */
struct pks_summary_cell {
	uint64_t flows, packets, bytes;
};
struct pks_summary {
	struct pks_summary_cell by[PKS_P__COUNT][PKS_C__COUNT];
};
void pks_summary_add(struct pks_summary *s, const struct pks_flow_rec *r);
void pks_summary_proto(const struct pks_summary *s, unsigned int proto, struct pks_summary_cell *out);
/* Protocols with flows, most bytes first; returns how many. */
size_t pks_summary_order(const struct pks_summary *s, unsigned int order[PKS_P__COUNT]);
/* A table (PROTO FLOWS PACKETS BYTES, by confidence) or one JSON object per protocol. */
void pks_summary_print(const struct pks_summary *s, bool json, FILE *out);
/* The listing's filters (proto, addr, port) and order. */
void pks_flows_filter(struct pks_flow_set *set, const struct pks_print_opts *o);
void pks_flows_order(struct pks_flow_set *set, enum pks_sort sort);
int pks_parse_sort(const char *s, enum pks_sort *out); /* age, bytes, packets; -1 else */
int pks_flow_filter_addr(const char *s, uint8_t out[16]); /* IPv4 or IPv6 text; -1 else */

/*
 * What a flow-clock time adds to become nanoseconds since the epoch: read
 * from two clocks, so it moves by tens of ns between calls. Times printed
 * side by side take one offset (a flow's first and last seen: read apart,
 * a last seen in the same tick as the first printed a microsecond before it).
 */
int64_t pks_epoch_offset(enum pks_clock clock);
/* ns plus off, 0 for a time before the epoch. */
static inline uint64_t pks_epoch_add(uint64_t ns, int64_t off)
{
	return off < 0 && (uint64_t)-off > ns ? 0 : ns + (uint64_t)off;
}
/* Nanoseconds since the epoch of a flow-clock time (0 for a time before it). */
uint64_t pks_epoch_ns(uint64_t ns, enum pks_clock clock);
/*
 * A time or a duration in ns printed as seconds with six decimals, with
 * integers: printf(PKS_SEC6_FMT, PKS_SEC6(ns)). What "%.6f" of the seconds
 * printed, rounded to the microsecond, without the floating point's
 * formatting (a tenth of the daemon's time when a flood ends flows).
 * ns is read twice: pass a value, not a call (a clock read twice could
 * print the seconds of one reading and the microseconds of another).
 */
#define PKS_SEC6_FMT "%llu.%06llu"
#define PKS_SEC6(ns) (unsigned long long)(((ns) + 500) / 1000 / 1000000), (unsigned long long)(((ns) + 500) / 1000 % 1000000)
/* ,"key":"value" with the value escaped for JSON (quotes, backslashes, control and non-ASCII bytes). */
void pks_json_str(FILE *out, const char *key, const char *s);

/*
 * Makes the array at *arrp (a pointer to the array's pointer; elements of
 * size bytes, *cap of them) hold at least need elements: doubles the
 * capacity, from first, until it does. 0, or -ENOMEM with the array and
 * *cap as they were.
 */
int pks_grow(void *arrp, size_t *cap, size_t need, size_t size, size_t first);
const char *pks_l4_name(__u8 l4); /* tcp, udp, ip */
struct pks_flow_name;
/* A flow's JSON fields, without braces ("l4":...,"at_first_packet":...[,names]). */
void pks_flow_json_fields(FILE *out, const struct pks_flow_rec *r, enum pks_clock clock,
			  const struct pks_flow_name *n);
/* The same with the clock's offset read already (pks_epoch_offset), for a caller that prints a time beside them. */
void pks_flow_json_fields_at(FILE *out, const struct pks_flow_rec *r, int64_t off, const struct pks_flow_name *n);

/* --proto NAME for flows and replay; returns PKS_EXIT_USAGE on an unknown name. */
int pks_parse_proto_opt(const char *cmd, const char *name, int *out);
/* --addr ('A'), --port ('P'), --sort ('S') of flows and replay; PKS_EXIT_USAGE (message printed) when bad. */
int pks_parse_listing_opt(const char *cmd, int c, const char *arg, struct pks_print_opts *po);
void pks_flows_print(const struct pks_flow_set *set, const struct pks_print_opts *o, FILE *out);
/* Client and server endpoint of a record as text ("198.18.0.1", "2001:db8::1"). */
void pks_flow_endpoints(const struct pks_flow_rec *r, char *client, char *server, size_t len,
			uint16_t *client_port, uint16_t *server_port);

/* XDP attachments (link pins), as status lists them. */
struct pks_attachment {
	char ifname[16];  /* "?" in another netns, "(gone)" when the interface went */
	unsigned int ifindex;
	unsigned long netns;
	char mode[16];
	bool here, live; /* in this netns; the interface still exists */
	__u32 prog_id, link_id;
};
int pks_attachments(struct pks_attachment **out); /* count (0: *out NULL), or -errno */

/* Sums the per-CPU reason counters of a pks_stats map into sum[PKS_REASON__COUNT]. */
int pks_stats_read(int fd, __u64 *sum);

/* Replay of a capture through the XDP program with BPF_PROG_TEST_RUN. */
struct pks_replay_stats {
	uint64_t packets;     /* records read from the capture */
	uint64_t run;         /* frames run through the program */
	uint64_t skipped;     /* frames too short to be run */
	uint64_t truncated;   /* frames cut to the test-run size limit */
	int linktype;
};
int pks_replay_file(struct pktspec_bpf *skel, const char *path, struct pks_replay_stats *st, char *err,
		    size_t errlen);

struct pks_engine;
int pks_replay_file_ctx(struct pktspec_bpf *skel, const char *path, struct pks_replay_stats *st, char *err,
			size_t errlen, struct pks_engine *engine);
/* An engine on a loaded object's own (private) maps, for replay and tests. */
int pks_engine_for_skel(struct pktspec_bpf *skel, const char *apps_path, struct pks_engine **out);
/* The same with the engine's options (struct pks_engine_opts, user/engine.h); the clock is the capture's. */
struct pks_engine_opts;
int pks_engine_for_skel_opts(struct pktspec_bpf *skel, const struct pks_engine_opts *o, struct pks_engine **out);

/* The tc policy program (user/tc.c). */
#define PKS_TC_DIR_INGRESS 1
#define PKS_TC_DIR_EGRESS 2
struct pktspec_tc_bpf;
int pks_tc_parse_dirs(const char *s); /* ingress, egress, both (or NULL): mask; -1 when bad */
int pks_tc_attach(unsigned int ifindex, const char *ifname, int dirs, const struct pks_load_opts *lo);
int pks_tc_detach(unsigned int ifindex, const char *ifname, bool *found);
int pks_tc_query(unsigned int ifindex, __u32 *ingress_id, __u32 *egress_id);
int pks_tc_status(bool json, FILE *out); /* attachments in this netns: count or -errno */
int pks_policy_maps_open(struct pktspec_tc_bpf **out);
/* The default application list (user/common.c): PKS_APPS_ETC, else PREFIX/share/pktspec/apps; NULL when none. */
#define PKS_APPS_ETC "/etc/pktspec/apps"
const char *pks_apps_default(char *buf, size_t len);
#include "textfile.h"
/*
 * One line of an application list ("NAME-SUFFIX APPLICATION", # comments): 1
 * with suffix (PKS_NAME_LEN bytes) and app (PKS_APP_LEN) set, 0 for a blank
 * line, -1 with err set.
 */
int pks_apps_line(char *line, const char *name, int lineno, char *suffix, char *app, char *err, size_t errlen);
/* Shared by policy and rules files (user/policy.c). */
int pks_words(char *line, char **tok, int max);
int pks_apps_read(const char *path); /* the app list, so rules can name applications */
int pks_apps_read_default(void);     /* the default list when none was read: 0 or -1 */
int pks_app_by_name(const char *s, char *err, size_t errlen);

/* Operator rules (user/oprules.c, include/pktspec/oprules.h). */
struct pks_op_rule {
	__u8 addr[16];     /* IPv4-mapped for IPv4 */
	__u8 bits;         /* prefix length over the 16 bytes (96 + n for IPv4) */
	__u8 has_addr;
	__u8 l4;           /* 0: TCP and UDP */
	__u16 lo, hi;      /* server ports */
	char host[128];    /* a host-name rule: the suffix with its leading dot; else "" */
	__u8 flags;        /* PKS_OPR_PROTO, PKS_OPR_APP */
	__u8 proto;
	__u16 app;
	int line;
};
int pks_oprules_parse_file(FILE *in, const char *name, struct pks_op_rule **out, size_t *count, FILE *errs);
int pks_oprules_parse_text(struct pks_text *t, const char *name, struct pks_op_rule **out, size_t *count, FILE *errs);
/* Writes rules into the other table of the maps and makes it live; on failure nothing changed. */
int pks_oprules_replace(int rules_fd, int state_fd, int hosts_fd, const struct pks_op_rule *rules, size_t n,
			FILE *errs);
int cmd_rules(int argc, char **argv);
int pks_tc_clsact_ensure(unsigned int ifindex, const char *ifname);

/* The egress classifier (user/egress.c): one tc priority before the policy filter. */
#define PKS_EGRESS_PRIO (PKS_TC_PRIO - 1)
int pks_egress_attach(unsigned int ifindex, const char *ifname, const struct pks_load_opts *lo);
int pks_egress_detach(unsigned int ifindex, const char *ifname, bool *found);
__u32 pks_egress_query(unsigned int ifindex); /* its program ID, 0 when not attached */

/* Policy rules (user/policy.c, doc/policy.md). */
struct pks_policy_rule {
	struct pks_policy_key key;
	struct pks_policy val;
	int line; /* in its file, 0 from the command line */
};
/* One rule from its words; 0, or -EINVAL with a message in err. */
int pks_policy_parse(int n, char **tok, struct pks_policy_rule *r, char *err, size_t errlen);
/* The rule as a line pks_policy_parse reads back. */
void pks_policy_format(const struct pks_policy_rule *r, char *buf, size_t len);
/*
 * Every rule of a policy file: 0 with *out set, the number of bad lines (each
 * reported on errs with its number, nothing returned), or -errno.
 */
int pks_policy_parse_file(FILE *in, const char *name, struct pks_policy_rule **out, size_t *count, FILE *errs);
/* The same from a file pks_text_open read (name for messages). */
int pks_policy_parse_text(struct pks_text *t, const char *name, struct pks_policy_rule **out, size_t *count,
			  FILE *errs);

/* Commands. */
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_flows(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_protocols(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_top(int argc, char **argv);

#endif
