// SPDX-License-Identifier: MIT OR Apache-2.0
/* Reading and printing the flow table: `pktspec flows`, and replay's output. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "pktspec.h"
#include "pktspec/events.h"

void pks_flows_free(struct pks_flow_set *set)
{
	free(set->recs);
	memset(set, 0, sizeof(*set));
}

static int rec_cmp(const void *a, const void *b)
{
	const struct pks_flow_rec *x = a, *y = b;

	if (x->val.first_ns != y->val.first_ns)
		return x->val.first_ns < y->val.first_ns ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/* Oldest first, so that a replay prints in capture order, deterministically. */
void pks_flows_sort(struct pks_flow_set *set)
{
	if (set->n)
		qsort(set->recs, set->n, sizeof(*set->recs), rec_cmp);
}

static void addr_str(const __u8 *a, char *buf, size_t len)
{
	static const __u8 v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (!memcmp(a, v4mapped, sizeof(v4mapped)))
		inet_ntop(AF_INET, a + 12, buf, len);
	else
		inet_ntop(AF_INET6, a, buf, len);
}

void pks_flow_endpoints(const struct pks_flow_rec *r, char *client, char *server, size_t len,
			uint16_t *client_port, uint16_t *server_port)
{
	int a_is_client = r->val.client == PKS_SIDE_A;

	addr_str(a_is_client ? r->key.addr_a : r->key.addr_b, client, len);
	addr_str(a_is_client ? r->key.addr_b : r->key.addr_a, server, len);
	*client_port = a_is_client ? r->key.port_a : r->key.port_b;
	*server_port = a_is_client ? r->key.port_b : r->key.port_a;
}

const char *pks_l4_name(__u8 l4)
{
	return l4 == IPPROTO_TCP ? "tcp" : l4 == IPPROTO_UDP ? "udp" : "ip";
}

/* The flow's name record from pks_names (0), or -1. */
static int flow_name(const struct pks_flow_rec *r, const struct pks_print_opts *o, struct pks_flow_name *n)
{
	if (o->names_fd <= 0 || bpf_map_lookup_elem(o->names_fd, &r->key, n))
		return -1;
	n->host[sizeof(n->host) - 1] = 0;
	n->app[sizeof(n->app) - 1] = 0;
	n->alpn[sizeof(n->alpn) - 1] = 0;
	n->agent[sizeof(n->agent) - 1] = 0;
	n->dns_host[sizeof(n->dns_host) - 1] = 0;
	return 0;
}

static const char *name_source(unsigned int s)
{
	static const char *const names[] = { "none", "dns", "sni", "quic", "http" };

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "none";
}

/* The name fields of a flow, when it has any. */
static void print_json_names(FILE *out, const struct pks_flow_name *n)
{
	if (n->host[0]) {
		pks_json_str(out, "host", n->host);
		fprintf(out, ",\"host_source\":\"%s\"", name_source(n->source));
	}
	if (n->dns_host[0])
		pks_json_str(out, "dns_host", n->dns_host);
	if (n->app[0])
		pks_json_str(out, "app", n->app);
	if (n->alpn[0])
		pks_json_str(out, "alpn", n->alpn);
	if (n->tls_version)
		fprintf(out, ",\"tls_version\":\"0x%04x\"", n->tls_version);
	if (n->agent[0])
		pks_json_str(out, "user_agent", n->agent);
}

void pks_flow_json_fields(FILE *out, const struct pks_flow_rec *r, enum pks_clock clock, const struct pks_flow_name *n)
{
	/* One offset for both times: first seen never after last seen. */
	pks_flow_json_fields_at(out, r, pks_epoch_offset(clock), n);
}

void pks_flow_json_fields_at(FILE *out, const struct pks_flow_rec *r, int64_t off, const struct pks_flow_name *n)
{
	char client[INET6_ADDRSTRLEN], server[INET6_ADDRSTRLEN];
	const struct pks_flow_view *v = &r->val;
	uint64_t dur = v->last_ns > v->first_ns ? v->last_ns - v->first_ns : 0;
	uint16_t cport, sport;

	pks_flow_endpoints(r, client, server, sizeof(client), &cport, &sport);
	fprintf(out,
		"\"l4\":\"%s\",\"client\":\"%s\",\"client_port\":%u,\"server\":\"%s\",\"server_port\":%u,"
		"\"proto\":\"%s\",\"proto_id\":%u,\"confidence\":\"%s\",\"rule\":\"%s\",\"guess\":\"%s\","
		"\"packets\":%llu,\"bytes\":%llu,\"packets_c2s\":%u,\"packets_s2c\":%u,"
		"\"bytes_c2s\":%llu,\"bytes_s2c\":%llu,\"first_seen\":" PKS_SEC6_FMT ",\"last_seen\":" PKS_SEC6_FMT
		",\"duration\":" PKS_SEC6_FMT ","
		"\"handshake\":%s,\"decided\":%s",
		pks_l4_name(r->key.l4), client, cport, server, sport, pks_proto_name(v->proto), v->proto,
		pks_confidence_name(v->confidence), pks_rule_name(v->rule), pks_proto_name(v->guess),
		(unsigned long long)v->packets[0] + v->packets[1], (unsigned long long)v->bytes[0] + v->bytes[1],
		v->packets[0], v->packets[1], (unsigned long long)v->bytes[0], (unsigned long long)v->bytes[1],
		PKS_SEC6(pks_epoch_add(v->first_ns, off)), PKS_SEC6(pks_epoch_add(v->last_ns, off)), PKS_SEC6(dur),
		(v->flags & PKS_F_SYN) ? "true" : "false", (v->flags & PKS_F_DECIDED) ? "true" : "false");
	fprintf(out, ",\"at_first_packet\":%s", (v->ctx & PKS_X_AT_FIRST) ? "true" : "false");
	if (r->key.encap)
		fprintf(out, ",\"tunnel\":\"%s\",\"tunnel_id\":%u,\"tunnel_depth\":%u", pks_encap_name(r->key.encap),
			r->key.tunnel_id, r->key.depth);
	if (n)
		print_json_names(out, n);
}

static void print_json(const struct pks_flow_rec *r, const struct pks_print_opts *o, FILE *out)
{
	struct pks_flow_name n;

	fputc('{', out);
	pks_flow_json_fields(out, r, o->clock, flow_name(r, o, &n) ? NULL : &n);
	fprintf(out, "}\n");
}

static void endpoint(char *buf, size_t len, const char *addr, uint16_t port)
{
	if (strchr(addr, ':'))
		snprintf(buf, len, "[%s]:%u", addr, port);
	else
		snprintf(buf, len, "%s:%u", addr, port);
}

/* A duration as text: 0.4s, 12s, 3m20s, 2h05m. */
static void duration_str(char *buf, size_t len, uint64_t ns)
{
	uint64_t s = ns / 1000000000ull;

	if (s < 10)
		snprintf(buf, len, "%.1fs", ns / 1e9);
	else if (s < 60)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)s / 60, (unsigned long long)s % 60);
	else
		snprintf(buf, len, "%lluh%02llum", (unsigned long long)s / 3600, (unsigned long long)s / 60 % 60);
}

void pks_flows_print(const struct pks_flow_set *set, const struct pks_print_opts *o, FILE *out)
{
	int cw = 21, sw = 21; /* "255.255.255.255:65535"; IPv6 endpoints widen the columns */
	size_t shown = 0;

	for (size_t i = 0; i < set->n; i++) {
		char client[INET6_ADDRSTRLEN], server[INET6_ADDRSTRLEN];
		uint16_t cport, sport;
		int l;

		pks_flow_endpoints(&set->recs[i], client, server, sizeof(client), &cport, &sport);
		l = (int)strlen(client) + (strchr(client, ':') ? 2 : 0) + 6;
		cw = l > cw ? l : cw;
		l = (int)strlen(server) + (strchr(server, ':') ? 2 : 0) + 6;
		sw = l > sw ? l : sw;
	}
	for (size_t i = 0; i < set->n; i++) {
		const struct pks_flow_rec *r = &set->recs[i];
		char client[INET6_ADDRSTRLEN], server[INET6_ADDRSTRLEN];
		char cep[INET6_ADDRSTRLEN + 8], sep[INET6_ADDRSTRLEN + 8], pk[32], dur[24];
		struct pks_flow_name n;
		uint16_t cport, sport;

		if (o->json) {
			print_json(r, o, out);
			continue;
		}
		if (!shown++)
			fprintf(out, "%-4s %-*s %-*s %-11s %-10s %-18s %13s %10s %8s%s\n", "L4", cw, "CLIENT", sw,
				"SERVER", "PROTO", "CONFIDENCE", "RULE", "PKTS C>S/S>C", "BYTES", "DURATION",
				o->names_fd > 0 ? "  HOST (APP)" : "");
		pks_flow_endpoints(r, client, server, sizeof(client), &cport, &sport);
		endpoint(cep, sizeof(cep), client, cport);
		endpoint(sep, sizeof(sep), server, sport);
		snprintf(pk, sizeof(pk), "%u/%u", r->val.packets[0], r->val.packets[1]);
		duration_str(dur, sizeof(dur), r->val.last_ns > r->val.first_ns ? r->val.last_ns - r->val.first_ns : 0);
		fprintf(out, "%-4s %-*s %-*s %-11s %-10s %-18s %13s %10llu %8s", pks_l4_name(r->key.l4), cw, cep, sw, sep,
			pks_proto_name(r->val.proto), pks_confidence_name(r->val.confidence),
			pks_rule_name(r->val.rule), pk, (unsigned long long)r->val.bytes[0] + r->val.bytes[1], dur);
		if (!flow_name(r, o, &n) && n.host[0])
			fprintf(out, "  %s%s%s%s", n.host, n.app[0] ? " (" : "", n.app, n.app[0] ? ")" : "");
		if (r->key.encap)
			fprintf(out, "  in %s %u", pks_encap_name(r->key.encap), r->key.tunnel_id);
		fputc('\n', out);
	}
	if (!shown && !o->json)
		fprintf(out, "no flows\n");
}

static const char flows_help[] =
	"Usage: pktspec flows [--json] [--summary] [--proto NAME] [--addr ADDR] [--port N]\n"
	"                     [--sort age|bytes|packets]\n"
	"Print the pinned flow table: client, server, protocol, the confidence of the\n"
	"verdict and the rule that reached it, packets and bytes, duration, and the\n"
	"host (and application) the context rules found for it ('pktspec run').\n"
	"\n"
	"  -j, --json           one JSON object per flow per line\n"
	"  -s, --summary        per protocol: flows, packets and bytes, by confidence\n"
	"  -p, --proto NAME     only flows with this protocol (see 'pktspec protocols')\n"
	"      --addr ADDR      only flows with this IPv4 or IPv6 address on either side\n"
	"      --port N         only flows with this port on either side\n"
	"      --sort KEY       age (oldest first, the default), bytes or packets (most first)\n"
	"  -h, --help           this help\n";

/* Shared by flows and replay: --proto NAME. */
int pks_parse_proto_opt(const char *cmd, const char *name, int *out)
{
	int p = pks_proto_by_name(name);

	if (p < 0)
		return pks_usage_error(cmd, "unknown protocol '%s' (see 'pktspec protocols')", name);
	*out = p;
	return 0;
}

/* --addr, --port and --sort, shared by flows and replay; PKS_EXIT_USAGE when bad. */
int pks_parse_listing_opt(const char *cmd, int c, const char *arg, struct pks_print_opts *po)
{
	unsigned long v;

	switch (c) {
	case 'A':
		if (pks_flow_filter_addr(arg, po->addr))
			return pks_usage_error(cmd, "--addr takes an IPv4 or IPv6 address, not '%s'", arg);
		po->has_addr = true;
		return 0;
	case 'P':
		if (pks_parse_uint(arg, 65535, &v) || v == 0)
			return pks_usage_error(cmd, "--port takes a number from 1 to 65535");
		po->port = v;
		return 0;
	case 'S':
		if (pks_parse_sort(arg, &po->sort))
			return pks_usage_error(cmd, "--sort takes age, bytes or packets");
		return 0;
	}
	return PKS_EXIT_USAGE;
}

int cmd_flows(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "summary", no_argument, NULL, 's' },
					      { "proto", required_argument, NULL, 'p' },
					      { "addr", required_argument, NULL, 'A' },
					      { "port", required_argument, NULL, 'P' },
					      { "sort", required_argument, NULL, 'S' },
					      { "verbose", no_argument, NULL, 'v' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	struct pks_print_opts po = { .proto = -1, .clock = PKS_CLOCK_MONOTONIC };
	struct pks_flow_set set;
	bool summary = false;
	struct pks_flowtab tab;
	int c, err;

	while ((c = getopt_long(argc, argv, "jsp:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			po.json = true;
			break;
		case 's':
			summary = true;
			break;
		case 'p':
			if (pks_parse_proto_opt("flows", optarg, &po.proto))
				return PKS_EXIT_USAGE;
			break;
		case 'A':
		case 'P':
		case 'S':
			if (pks_parse_listing_opt("flows", c, optarg, &po))
				return PKS_EXIT_USAGE;
			break;
		case 'v':
			pks_verbose++;
			break;
		case 'h':
			fputs(flows_help, stdout);
			return PKS_EXIT_OK;
		default:
			return pks_usage_error("flows", "bad option");
		}
	}
	if (optind != argc)
		return pks_usage_error("flows", "flows takes no arguments");
	if (pks_need_caps("flows", PKS_NEED_BPF))
		return PKS_EXIT_FAIL;
	if (pks_need_bpffs())
		return PKS_EXIT_FAIL;
	err = pks_flowtab_pinned(&tab);
	if (err)
		return pks_fail("no flow table at %s/%s (%s): attach to an interface first", PKS_PIN_DIR,
				PKS_MAP_FLOWS4, strerror(-err));
	err = pks_flows_read(&tab, &set);
	pks_flowtab_close(&tab);
	if (err)
		return pks_fail("cannot read the flow table: %s", strerror(-err));
	/* Names are there once `pktspec run` has run; without them the table is complete anyway. */
	po.names_fd = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_NAMES);
	pks_flows_filter(&set, &po);
	pks_flows_order(&set, po.sort);
	if (summary) {
		struct pks_summary sum = {};

		for (size_t i = 0; i < set.n; i++)
			pks_summary_add(&sum, &set.recs[i]);
		pks_summary_print(&sum, po.json, stdout);
	} else {
		pks_flows_print(&set, &po, stdout);
	}
	pks_flows_free(&set);
	if (po.names_fd > 0)
		close(po.names_fd);
	return PKS_EXIT_OK;
}
