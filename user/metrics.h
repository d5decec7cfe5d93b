/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Prometheus metrics of `pktspec run --metrics ADDR:PORT`: the text
 * exposition format (version 0.0.4) at /metrics, served by libmicrohttpd in
 * the daemon's own event loop (no thread: the handler reads the same state
 * the loop writes). Names and labels: doc/export.md.
 */
#ifndef PKTSPEC_METRICS_H
#define PKTSPEC_METRICS_H

#include <stdio.h>

struct pks_lifecycle;
struct pks_engine;
struct pks_ipfix;

/* Where the numbers come from; any pointer may be NULL, any fd -1. */
struct pks_metrics_src {
	struct pks_lifecycle *lc;
	struct pks_engine *engine;
	struct pks_ipfix *ipfix;
	const struct pks_flowtab *flows; /* NULL: no table figures */
	int stats_fd, ctxstats_fd;
	int filter_fd; /* pks_filter, the lookup filter; <= 0: none (a struct left zero has none) */
	int gate_fd;   /* pks_expect_gate, the expectation gate; <= 0: none */
};

struct pks_metrics;

/* 0 when addr has the form ADDR:PORT or [IPv6]:PORT, else -EINVAL. */
int pks_metrics_check_addr(const char *addr);
/* Listens on addr; 0, or -errno with a message printed. */
int pks_metrics_new(const char *addr, const struct pks_metrics_src *src, struct pks_metrics **out);
/* An fd that is readable when the server has work (for poll). */
int pks_metrics_fd(struct pks_metrics *m);
/* Serves what is pending, never blocking. */
void pks_metrics_run(struct pks_metrics *m);
void pks_metrics_free(struct pks_metrics *m);

/* The exposition text (tests, and the handler). */
void pks_metrics_render(const struct pks_metrics_src *src, FILE *out);
/* A label value escaped for the exposition format (\\, \", \n). */
void pks_metrics_label(FILE *out, const char *name, const char *value);

#endif /* PKTSPEC_METRICS_H */
