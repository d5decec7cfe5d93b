// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Per-protocol summaries (flows --summary, the end of replay, top) and the
 * filters and orders of the flow listing.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "pktspec.h"

void pks_summary_add(struct pks_summary *s, const struct pks_flow_rec *r)
{
	unsigned int p = r->val.proto < PKS_P__COUNT ? r->val.proto : PKS_P_UNKNOWN;
	unsigned int c = r->val.confidence < PKS_C__COUNT ? r->val.confidence : PKS_C_NONE;

	s->by[p][c].flows++;
	s->by[p][c].packets += (uint64_t)r->val.packets[0] + r->val.packets[1];
	s->by[p][c].bytes += r->val.bytes[0] + r->val.bytes[1];
}

void pks_summary_proto(const struct pks_summary *s, unsigned int p, struct pks_summary_cell *out)
{
	memset(out, 0, sizeof(*out));
	for (int c = 0; c < PKS_C__COUNT; c++) {
		out->flows += s->by[p][c].flows;
		out->packets += s->by[p][c].packets;
		out->bytes += s->by[p][c].bytes;
	}
}

static const struct pks_summary *sort_sum;

static int by_bytes(const void *a, const void *b)
{
	struct pks_summary_cell x, y;
	unsigned int pa = *(const unsigned int *)a, pb = *(const unsigned int *)b;

	pks_summary_proto(sort_sum, pa, &x);
	pks_summary_proto(sort_sum, pb, &y);
	if (x.bytes != y.bytes)
		return x.bytes > y.bytes ? -1 : 1;
	return pa < pb ? -1 : pa > pb;
}

/* Protocols that have flows, most bytes first; returns how many. */
size_t pks_summary_order(const struct pks_summary *s, unsigned int order[PKS_P__COUNT])
{
	size_t n = 0;

	for (unsigned int p = 0; p < PKS_P__COUNT; p++) {
		struct pks_summary_cell t;

		pks_summary_proto(s, p, &t);
		if (t.flows)
			order[n++] = p;
	}
	sort_sum = s;
	qsort(order, n, sizeof(order[0]), by_bytes);
	return n;
}

void pks_summary_print(const struct pks_summary *s, bool json, FILE *out)
{
	unsigned int order[PKS_P__COUNT];
	size_t n = pks_summary_order(s, order);
	struct pks_summary_cell all = {};

	if (!json)
		fprintf(out, "%-14s %8s %12s %14s  %s\n", "PROTO", "FLOWS", "PACKETS", "BYTES", "BY CONFIDENCE (flows)");
	for (size_t i = 0; i < n; i++) {
		unsigned int p = order[i];
		struct pks_summary_cell t;
		bool first = true;

		pks_summary_proto(s, p, &t);
		all.flows += t.flows;
		all.packets += t.packets;
		all.bytes += t.bytes;
		if (json) {
			fprintf(out, "{\"proto\":\"%s\",\"proto_id\":%u,\"flows\":%llu,\"packets\":%llu,\"bytes\":%llu,"
				     "\"confidence\":{",
				pks_proto_name(p), p, (unsigned long long)t.flows, (unsigned long long)t.packets,
				(unsigned long long)t.bytes);
			for (int c = 0; c < PKS_C__COUNT; c++) {
				const struct pks_summary_cell *k = &s->by[p][c];

				if (!k->flows)
					continue;
				fprintf(out, "%s\"%s\":{\"flows\":%llu,\"packets\":%llu,\"bytes\":%llu}", first ? "" : ",",
					pks_confidence_name(c), (unsigned long long)k->flows,
					(unsigned long long)k->packets, (unsigned long long)k->bytes);
				first = false;
			}
			fprintf(out, "}}\n");
			continue;
		}
		fprintf(out, "%-14s %8llu %12llu %14llu ", pks_proto_name(p), (unsigned long long)t.flows,
			(unsigned long long)t.packets, (unsigned long long)t.bytes);
		for (int c = 0; c < PKS_C__COUNT; c++)
			if (s->by[p][c].flows)
				fprintf(out, " %s:%llu", pks_confidence_name(c), (unsigned long long)s->by[p][c].flows);
		fputc('\n', out);
	}
	if (!json)
		fprintf(out, "%-14s %8llu %12llu %14llu\n", "total", (unsigned long long)all.flows,
			(unsigned long long)all.packets, (unsigned long long)all.bytes);
}

/* --- Filters and orders of the listing ------------------------------------- */

int pks_flow_filter_addr(const char *s, uint8_t out[16])
{
	struct in_addr a4;

	if (inet_pton(AF_INET, s, &a4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &a4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, s, out) == 1 ? 0 : -1;
}

static bool keep(const struct pks_flow_rec *r, const struct pks_print_opts *o)
{
	if (o->proto >= 0 && r->val.proto != o->proto)
		return false;
	if (o->has_addr && memcmp(r->key.addr_a, o->addr, 16) && memcmp(r->key.addr_b, o->addr, 16))
		return false;
	if (o->port && r->key.port_a != o->port && r->key.port_b != o->port)
		return false;
	return true;
}

void pks_flows_filter(struct pks_flow_set *set, const struct pks_print_opts *o)
{
	size_t n = 0;

	for (size_t i = 0; i < set->n; i++)
		if (keep(&set->recs[i], o))
			set->recs[n++] = set->recs[i];
	set->n = n;
}

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
	return a > b ? -1 : a < b ? 1 : 0;
}

/* Ties keep the oldest first (qsort is not stable). */
static int tie(const struct pks_flow_rec *x, const struct pks_flow_rec *y)
{
	return x->val.first_ns < y->val.first_ns ? -1 : x->val.first_ns > y->val.first_ns;
}

static int by_rec_bytes(const void *a, const void *b)
{
	const struct pks_flow_rec *x = a, *y = b;
	int c = cmp_u64_desc(x->val.bytes[0] + x->val.bytes[1], y->val.bytes[0] + y->val.bytes[1]);

	return c ? c : tie(x, y);
}

static int by_rec_packets(const void *a, const void *b)
{
	const struct pks_flow_rec *x = a, *y = b;
	int c = cmp_u64_desc((uint64_t)x->val.packets[0] + x->val.packets[1],
			     (uint64_t)y->val.packets[0] + y->val.packets[1]);

	return c ? c : tie(x, y);
}

void pks_flows_order(struct pks_flow_set *set, enum pks_sort sort)
{
	/* Age (oldest first) is the default order, and the tie-break of the others. */
	pks_flows_sort(set);
	if (sort == PKS_SORT_BYTES && set->n)
		qsort(set->recs, set->n, sizeof(*set->recs), by_rec_bytes);
	else if (sort == PKS_SORT_PACKETS && set->n)
		qsort(set->recs, set->n, sizeof(*set->recs), by_rec_packets);
}

int pks_parse_sort(const char *s, enum pks_sort *out)
{
	static const char *const names[] = { [PKS_SORT_AGE] = "age", [PKS_SORT_BYTES] = "bytes",
					     [PKS_SORT_PACKETS] = "packets" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*out = (enum pks_sort)i;
			return 0;
		}
	return -1;
}
