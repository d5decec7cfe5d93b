/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * pktspec-bench: the measuring half of `make bench` (tools/bench.sh is the
 * other half: nDPI, live traffic, the report). Shared declarations.
 */
#ifndef PKTSPEC_BENCH_H
#define PKTSPEC_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A minimal JSON writer: enough for nested objects, arrays, numbers, strings. */
#define JW_DEPTH 16
struct jw {
	FILE *f;
	int depth;
	bool first[JW_DEPTH];
};

void jw_init(struct jw *w, FILE *f);
void jw_obj(struct jw *w, const char *key); /* key NULL inside an array */
void jw_obj_end(struct jw *w);
void jw_arr(struct jw *w, const char *key);
void jw_arr_end(struct jw *w);
void jw_num(struct jw *w, const char *key, double v);
void jw_int(struct jw *w, const char *key, long long v);
void jw_str(struct jw *w, const char *key, const char *s);
void jw_bool(struct jw *w, const char *key, bool v);

/* Mean, median and 99th percentile of n values (v is reordered). */
struct summary {
	size_t n;
	double mean, median, p99;
};
struct summary summarize(double *v, size_t n);
void jw_summary(struct jw *w, const char *key, const struct summary *s);
/* Ratio a/b, or 0 when b is 0 (JSON has no infinity). */
double ratio(double a, double b);
double now_sec(void);

/* Subcommands. */
int bench_testrun(int argc, char **argv);
int bench_verifier(int argc, char **argv);
int bench_memory(int argc, char **argv);
int bench_rss(int argc, char **argv);
int bench_gen(int argc, char **argv);
int bench_xdp(int argc, char **argv);
int bench_rewrite(int argc, char **argv);
int bench_fill_context(int argc, char **argv);

/* Packet helpers: RFC 1071 sums, an IPv4 header's checksum, the L3 offset past VLAN tags. */
uint32_t csum_add(uint32_t s, const uint8_t *p, size_t n);
uint16_t csum_fold(uint32_t s);
void ip4_csum_set(uint8_t *ip, size_t ihl);
uint32_t frame_l3(const uint8_t *f, uint32_t len, uint16_t *type);
int parse_mac(const char *s, uint8_t *m); /* aa:bb:cc:dd:ee:ff; 0 or -1 */

/* Writes a microsecond pcap (Ethernet) header; records with pcap_record(). */
int pcap_header(FILE *f);
int pcap_record(FILE *f, uint64_t ts_us, const void *data, uint32_t caplen, uint32_t len);

#endif
