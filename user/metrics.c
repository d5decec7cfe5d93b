// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Prometheus metrics (see metrics.h). The exposition format: one "# HELP"
 * and one "# TYPE" line per family, then its samples; counters end in
 * _total; label values escape backslash, double quote and newline.
 *
 * libmicrohttpd runs without a thread of its own (MHD_USE_EPOLL, no internal
 * polling thread): the daemon's loop polls its epoll fd and calls MHD_run, so
 * a scrape reads the lifecycle's counters between two scans, never during
 * one, and needs no lock.
 */
#include <errno.h>
#include <stdbool.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <microhttpd.h>

#include "pktspec.h"
#include "engine.h"
#include "ipfix.h"
#include "lifecycle.h"
#include "metrics.h"
#include "pktspec/filter.h"

#define PKS_METRICS_CONN_MAX 16     /* concurrent scrapers */
#define PKS_METRICS_CONN_TIMEOUT 10 /* seconds an idle connection is kept */

struct pks_metrics {
	struct MHD_Daemon *d;
	struct pks_metrics_src src;
};

int pks_metrics_check_addr(const char *addr)
{
	char host[256], port[8];

	return pks_split_hostport(addr, host, sizeof(host), port, sizeof(port));
}

void pks_metrics_label(FILE *out, const char *name, const char *value)
{
	fprintf(out, "%s=\"", name);
	for (; *value; value++) {
		if (*value == '\\')
			fputs("\\\\", out);
		else if (*value == '"')
			fputs("\\\"", out);
		else if (*value == '\n')
			fputs("\\n", out);
		else
			fputc(*value, out);
	}
	fputc('"', out);
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(FILE *out, const char *name, unsigned long long v)
{
	fprintf(out, "%s %llu\n", name, v);
}

/* name{l1="v1"[,l2="v2"]} v */
static void sample2(FILE *out, const char *name, const char *l1, const char *v1, const char *l2, const char *v2,
		    unsigned long long v)
{
	fprintf(out, "%s{", name);
	pks_metrics_label(out, l1, v1);
	if (l2) {
		fputc(',', out);
		pks_metrics_label(out, l2, v2);
	}
	fprintf(out, "} %llu\n", v);
}

/* A family by proto and confidence; a series appears once it had traffic, and stays (0 rather than a gap). */
static void proto_conf_family(FILE *out, const char *name, const char *type, const char *help,
			      const struct pks_lifecycle_counts *c, const uint64_t (*v)[PKS_C__COUNT])
{
	family(out, name, type, help);
	for (int p = 0; p < PKS_P__COUNT; p++)
		for (int k = 0; k < PKS_C__COUNT; k++)
			if (c->packets[p][k] || c->active[p][k])
				sample2(out, name, "proto", pks_proto_name(p), "confidence", pks_confidence_name(k),
					v[p][k]);
}

static void render_flows(const struct pks_metrics_src *src, FILE *out)
{
	const struct pks_lifecycle_counts *c = pks_lifecycle_counts(src->lc);

	proto_conf_family(out, "pktspec_flows", "gauge", "Flows in the flow table at the last scan, by verdict.", c,
			  c->active);
	proto_conf_family(out, "pktspec_packets_total", "counter",
			  "Packets of flows, counted under the verdict the flow had when the daemon saw them.", c,
			  c->packets);
	proto_conf_family(out, "pktspec_bytes_total", "counter",
			  "Frame bytes (Ethernet header included) of flows, counted like pktspec_packets_total.", c,
			  c->bytes);
	family(out, "pktspec_flow_records_total", "counter",
	       "Flow records written (ended flows, and interim records of long flows), by reason.");
	for (int p = 0; p < PKS_P__COUNT; p++)
		for (int r = 1; r < PKS_END__COUNT; r++)
			if (c->ended[p][r])
				sample2(out, "pktspec_flow_records_total", "proto", pks_proto_name(p), "reason",
					pks_end_reason_name(r), c->ended[p][r]);
	family(out, "pktspec_flow_table_entries", "gauge", "Entries in the flow table at the last scan.");
	sample(out, "pktspec_flow_table_entries", c->entries);
	family(out, "pktspec_flow_evictions_total", "counter",
	       "Flow entries the kernel's LRU removed: entries created minus deleted minus present, at the scans.");
	sample(out, "pktspec_flow_evictions_total", c->table_evictions);
	family(out, "pktspec_flow_evictions_seen_total", "counter",
	       "Flows the daemon's scans saw vanish before it ended them.");
	sample(out, "pktspec_flow_evictions_seen_total", pks_lifecycle_evictions(src->lc));
	family(out, "pktspec_flow_restores_total", "counter",
	       "Evicted flows back with their state, by who rebuilt them: the kernel from pks_restore, "
	       "or the daemon in place.");
	sample2(out, "pktspec_flow_restores_total", "by", "kernel", NULL, NULL, c->restored);
	sample2(out, "pktspec_flow_restores_total", "by", "daemon", NULL, NULL, c->repaired);
	family(out, "pktspec_flows_expected_back", "gauge", "Evicted flows waiting in pks_restore for their next packet.");
	sample(out, "pktspec_flows_expected_back", c->pending);
	family(out, "pktspec_flow_restore_full_total", "counter",
	       "Evicted flows that would have waited in pks_restore, ended at once because it was full.");
	sample(out, "pktspec_flow_restore_full_total", c->restore_full);
	family(out, "pktspec_flow_scans_total", "counter", "Scans of the flow table by the daemon.");
	sample(out, "pktspec_flow_scans_total", c->scans);
}

/* The bits set in each table's part of the lookup filter (include/pktspec/filter.h). */
static void render_filter(int fd, FILE *out)
{
	static const char *const tables[PKS_FILTER_TABLES] = { "restore", "servers", "hosts" };
	struct pks_filter *f = malloc(sizeof(*f));
	__u32 zero = 0;

	if (f && bpf_map_lookup_elem(fd, &zero, f) == 0) {
		family(out, "pktspec_lookup_filter_slots_set", "gauge",
		       "Slots (bits) set in the lookup filter, per table the daemon writes (of 262144 each): a new flow "
		       "looks the table up only where its key's bit is set.");
		for (int t = 0; t < PKS_FILTER_TABLES; t++) {
			unsigned long long n = 0;

			for (unsigned w = 0; w < PKS_FILTER_WORDS; w++)
				n += (unsigned)__builtin_popcountll(f->bits[t][w]);
			sample2(out, "pktspec_lookup_filter_slots_set", "table", tables[t], NULL, NULL, n);
		}
	}
	free(f);
}

/*
 * The slots of the expectation gate open at now, fine and coarse
 * (include/pktspec/events.h): a new flow makes the lookups of pks_expect
 * only through an open fine slot whose coarse slot is open too.
 */
static void render_gate(int fd, uint64_t now, FILE *out)
{
	/* Fine slots' pairs first, then the coarse ones' (pks_expect_gate_index, _l1_index). */
	const __u32 fine = PKS_EXPECT_GATE_SLOTS, n = PKS_EXPECT_GATE_ENTRIES;
	__u32 *keys = calloc(n, sizeof(*keys)), *vals = calloc(n, sizeof(*vals)), got = 0;
	unsigned long long open[2] = { 0, 0 };
	bool ok = keys && vals;

	/* One system call for the whole array where the kernel batches arrays (5.6+), else one per element. */
	if (ok) {
		__u32 out_batch = 0, count = n;

		if (!bpf_map_lookup_batch(fd, NULL, &out_batch, keys, vals, &count, NULL) || errno == ENOENT)
			got = count;
		for (__u32 i = got; i < n && ok; i++) {
			keys[i] = i;
			ok = bpf_map_lookup_elem(fd, &i, &vals[i]) == 0;
		}
		for (__u32 i = 0; i < n && ok; i++)
			ok = keys[i] == i;
	}
	for (__u32 i = 0; ok && i + 1 < n; i += 2)
		open[i >= fine * 2] += pks_expect_gate_open(vals[i], now) || pks_expect_gate_open(vals[i + 1], now);
	if (ok) {
		family(out, "pktspec_expect_gate_slots_open", "gauge",
		       "Slots of the expectation gate open now (of 16384 fine and 512 coarse): a new flow looks the "
		       "expectations up only where both its fine slot and the coarse one covering it are open.");
		sample2(out, "pktspec_expect_gate_slots_open", "level", "fine", NULL, NULL, open[0]);
		sample2(out, "pktspec_expect_gate_slots_open", "level", "coarse", NULL, NULL, open[1]);
	}
	free(keys);
	free(vals);
}

static void render_kernel(const struct pks_metrics_src *src, FILE *out)
{
	__u64 reasons[PKS_REASON__COUNT];
	struct pks_ctx_stats cs;

	if (src->flows) {
		static const char *const family_of[] = { "ipv4", "other" };
		__u64 cap[2];

		family(out, "pktspec_flow_table_capacity", "gauge",
		       "Entries the flow tables can hold: plain IPv4 (pks_flows4, or the ways of the array table "
		       "pks_ways4) and the rest (pks_flows).");
		if (pks_flowtab_capacity(src->flows, &cap[0], &cap[1]) == 0)
			for (int i = 0; i < 2; i++)
				sample2(out, "pktspec_flow_table_capacity", "table", family_of[i], NULL, NULL, cap[i]);
	}
	if (src->stats_fd >= 0 && pks_stats_read(src->stats_fd, reasons) == 0) {
		family(out, "pktspec_packet_reasons_total", "counter",
		       "Packets by why the classifier finished with them (one reason per packet).");
		for (int r = 0; r < PKS_REASON__COUNT; r++)
			sample2(out, "pktspec_packet_reasons_total", "reason", pks_reason_name(r), NULL, NULL,
				reasons[r]);
	}
	if (src->ctxstats_fd >= 0 && pks_ctx_stats_read(src->ctxstats_fd, &cs) == 0) {
		static const char *const types[] = { "flow", "verdict", "payload" };
		const __u64 sent[] = { cs.ev_flow, cs.ev_verdict, cs.ev_payload };
		const __u64 lost[] = { cs.lost_flow, cs.lost_verdict, cs.lost_payload };

		family(out, "pktspec_events_total", "counter", "Events the kernel sent to the daemon, by type.");
		for (int t = 0; t < 3; t++)
			sample2(out, "pktspec_events_total", "type", types[t], NULL, NULL, sent[t]);
		family(out, "pktspec_events_lost_total", "counter",
		       "Events lost because their ring buffer was full, by type.");
		for (int t = 0; t < 3; t++)
			sample2(out, "pktspec_events_lost_total", "type", types[t], NULL, NULL, lost[t]);
		family(out, "pktspec_context_hits_total", "counter",
		       "Context-rule outcomes in the kernel: flows classified from an expectation, "
		       "server memory or a named host, and the rest of pks_ctxstats.");
		sample2(out, "pktspec_context_hits_total", "kind", "expected", NULL, NULL, cs.expect_hit);
		sample2(out, "pktspec_context_hits_total", "kind", "expect_expired", NULL, NULL, cs.expect_expired);
		sample2(out, "pktspec_context_hits_total", "kind", "memory", NULL, NULL, cs.memory_hit);
		sample2(out, "pktspec_context_hits_total", "kind", "memory_overruled", NULL, NULL,
			cs.memory_overruled);
		sample2(out, "pktspec_context_hits_total", "kind", "host", NULL, NULL, cs.host_hit);
		sample2(out, "pktspec_context_hits_total", "kind", "done", NULL, NULL, cs.done);
		sample2(out, "pktspec_context_hits_total", "kind", "user", NULL, NULL, cs.user_hit);
		sample2(out, "pktspec_context_hits_total", "kind", "snap_cut", NULL, NULL, cs.snap_cut);
	}
	if (src->filter_fd > 0)
		render_filter(src->filter_fd, out);
	if (src->gate_fd > 0) {
		/* The expectations' clock: the engine's (its last event), else the kernel's monotonic one. */
		uint64_t now = src->engine ? pks_engine_now(src->engine) : 0;
		struct timespec ts;

		if (!now && clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
			now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		render_gate(src->gate_fd, now, out);
	}
}

static void render_daemon(const struct pks_metrics_src *src, FILE *out)
{
	struct pks_attachment *atts = NULL;
	int n;

	if (src->engine) {
		const struct pks_engine_stats *st = pks_engine_stats(src->engine);

		family(out, "pktspec_context_writes_total", "counter",
		       "What the context rules wrote back into the kernel's tables, by table.");
		sample2(out, "pktspec_context_writes_total", "table", "expect", NULL, NULL, st->expects);
		sample2(out, "pktspec_context_writes_total", "table", "hosts", NULL, NULL, st->hosts);
		sample2(out, "pktspec_context_writes_total", "table", "names", NULL, NULL, st->names);
		sample2(out, "pktspec_context_writes_total", "table", "servers", NULL, NULL, st->remembered);
		family(out, "pktspec_context_errors_total", "counter",
		       "Context-rule failures: writes the kernel refused, payloads a rule could not parse.");
		sample2(out, "pktspec_context_errors_total", "kind", "map_write", NULL, NULL, st->map_errors);
		sample2(out, "pktspec_context_errors_total", "kind", "malformed", NULL, NULL, st->malformed);
	}
	if (src->ipfix) {
		const struct pks_ipfix_stats *x = pks_ipfix_stats(src->ipfix);

		family(out, "pktspec_ipfix_records_total", "counter", "IPFIX data records sent.");
		sample(out, "pktspec_ipfix_records_total", x->records);
		family(out, "pktspec_ipfix_messages_total", "counter", "IPFIX messages (datagrams) sent.");
		sample(out, "pktspec_ipfix_messages_total", x->messages);
		family(out, "pktspec_ipfix_dropped_records_total", "counter",
		       "IPFIX data records lost: queue full, or the collector unreachable.");
		sample(out, "pktspec_ipfix_dropped_records_total", x->dropped);
		family(out, "pktspec_ipfix_send_errors_total", "counter", "IPFIX sends the kernel refused.");
		sample(out, "pktspec_ipfix_send_errors_total", x->send_errors);
	}
	n = pks_attachments(&atts);
	family(out, "pktspec_attached", "gauge",
	       "XDP attachments: 1 while the interface exists, 0 when it is gone (by interface, mode, netns).");
	for (int i = 0; i < n; i++) {
		char ifindex[16], netns[24];

		snprintf(ifindex, sizeof(ifindex), "%u", atts[i].ifindex);
		snprintf(netns, sizeof(netns), "%lu", atts[i].netns);
		fputs("pktspec_attached{", out);
		pks_metrics_label(out, "interface", atts[i].ifname);
		fputc(',', out);
		pks_metrics_label(out, "ifindex", ifindex);
		fputc(',', out);
		pks_metrics_label(out, "mode", atts[i].mode);
		fputc(',', out);
		pks_metrics_label(out, "netns", netns);
		fprintf(out, "} %d\n", atts[i].live ? 1 : 0);
	}
	free(atts);
	family(out, "pktspec_build_info", "gauge", "pktspec's version.");
	sample2(out, "pktspec_build_info", "version", PKS_VERSION, NULL, NULL, 1);
}

void pks_metrics_render(const struct pks_metrics_src *src, FILE *out)
{
	if (src->lc)
		render_flows(src, out);
	render_kernel(src, out);
	render_daemon(src, out);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, char *body, size_t len,
			     const char *type)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_size, void **state)
{
	struct pks_metrics *m = cls;
	char *body = NULL;
	size_t len = 0;
	FILE *f;

	(void)version;
	(void)upload_data;
	(void)upload_size;
	(void)state;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		body = strdup("only GET\n");
		return body ? reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, body, strlen(body), "text/plain") : MHD_NO;
	}
	if (strcmp(url, "/metrics")) {
		body = strdup("pktspec serves /metrics\n");
		return body ? reply(conn, MHD_HTTP_NOT_FOUND, body, strlen(body), "text/plain") : MHD_NO;
	}
	f = open_memstream(&body, &len);
	if (!f)
		return MHD_NO;
	pks_metrics_render(&m->src, f);
	if (fclose(f)) {
		free(body);
		return MHD_NO;
	}
	return reply(conn, MHD_HTTP_OK, body, len, "text/plain; version=0.0.4; charset=utf-8");
}

int pks_metrics_new(const char *addr, const struct pks_metrics_src *src, struct pks_metrics **out)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV |
										AI_PASSIVE },
			*ai = NULL;
	char host[256], port[8];
	struct pks_metrics *m;
	int err;

	*out = NULL;
	if (pks_split_hostport(addr, host, sizeof(host), port, sizeof(port)))
		return pks_fail("--metrics takes ADDR:PORT or [IPv6]:PORT, not '%s'", addr), -EINVAL;
	err = getaddrinfo(host, port, &hints, &ai);
	if (err)
		return pks_fail("--metrics %s: %s (give a numeric address, e.g. 0.0.0.0:9465)", addr,
				gai_strerror(err)),
		       -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		freeaddrinfo(ai);
		return -ENOMEM;
	}
	m->src = *src;
	m->d = MHD_start_daemon(MHD_USE_EPOLL | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
				on_request, m, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
				(unsigned int)PKS_METRICS_CONN_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned int)PKS_METRICS_CONN_TIMEOUT, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!m->d) {
		err = errno ? -errno : -EADDRINUSE;
		free(m);
		return pks_fail("--metrics %s: cannot listen there (%s)", addr, strerror(-err)), err;
	}
	*out = m;
	return 0;
}

int pks_metrics_fd(struct pks_metrics *m)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD);

	return info ? info->epoll_fd : -1;
}

void pks_metrics_run(struct pks_metrics *m)
{
	MHD_run(m->d);
}

void pks_metrics_free(struct pks_metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d);
	free(m);
}
