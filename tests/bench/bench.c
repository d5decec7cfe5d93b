// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * pktspec-bench: measures the classifier for `make bench` (doc/performance.md).
 *
 *   pktspec-bench testrun [opts] CAPTURE...   per-packet cost with BPF_PROG_TEST_RUN,
 *                                             pktspec against two baselines
 *   pktspec-bench verifier OBJ...             verifier instructions and load time
 *   pktspec-bench memory [--flows N]          bytes per flow, memory at N flows
 *   pktspec-bench rss -- CMD...               peak resident memory of a command
 *   pktspec-bench gen --flows N FILE          a capture of N new flows
 *
 * Each prints one JSON object on stdout (or --json FILE). It reports; it never
 * judges: there are no thresholds here, because absolute times depend on the
 * machine. A benchmark is not a test; tests/bench/test_bench_smoke.sh only
 * checks that this keeps working.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pktspec.h"
#include "bench.h"

void jw_init(struct jw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->first[0] = true;
}

static void jw_raw_str(struct jw *w, const char *s);

static void jw_key(struct jw *w, const char *key)
{
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = false;
	if (key) {
		jw_raw_str(w, key);
		fputc(':', w->f);
	}
}

static void jw_open(struct jw *w, const char *key, char c)
{
	jw_key(w, key);
	fputc(c, w->f);
	if (w->depth + 1 < JW_DEPTH)
		w->depth++;
	w->first[w->depth] = true;
}

static void jw_close(struct jw *w, char c)
{
	fputc(c, w->f);
	if (w->depth > 0)
		w->depth--;
	if (w->depth == 0)
		fputc('\n', w->f);
}

void jw_obj(struct jw *w, const char *key)
{
	jw_open(w, key, '{');
}

void jw_obj_end(struct jw *w)
{
	jw_close(w, '}');
}

void jw_arr(struct jw *w, const char *key)
{
	jw_open(w, key, '[');
}

void jw_arr_end(struct jw *w)
{
	jw_close(w, ']');
}

void jw_num(struct jw *w, const char *key, double v)
{
	jw_key(w, key);
	if (!isfinite(v))
		v = 0;
	if (v == floor(v) && fabs(v) < 1e15)
		fprintf(w->f, "%.0f", v);
	else
		fprintf(w->f, "%.4g", v);
}

void jw_int(struct jw *w, const char *key, long long v)
{
	jw_key(w, key);
	fprintf(w->f, "%lld", v);
}

void jw_bool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	fputs(v ? "true" : "false", w->f);
}

void jw_str(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_raw_str(w, s);
}

static void jw_raw_str(struct jw *w, const char *s)
{
	fputc('"', w->f);
	for (; s && *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(w->f, "\\%c", c);
		else if (c < 0x20)
			fprintf(w->f, "\\u%04x", c);
		else
			fputc(c, w->f);
	}
	fputc('"', w->f);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct summary summarize(double *v, size_t n)
{
	struct summary s = { .n = n };
	double sum = 0;

	if (!n)
		return s;
	qsort(v, n, sizeof(*v), cmp_double);
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	s.mean = sum / n;
	s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	/* Nearest rank: the smallest value with at least 99 % of values at or below it. */
	s.p99 = v[(size_t)ceil(0.99 * n) - 1];
	return s;
}

void jw_summary(struct jw *w, const char *key, const struct summary *s)
{
	jw_obj(w, key);
	jw_int(w, "n", (long long)s->n);
	jw_num(w, "mean_ns", round(s->mean * 10) / 10);
	jw_num(w, "median_ns", round(s->median * 10) / 10);
	jw_num(w, "p99_ns", round(s->p99 * 10) / 10);
	jw_obj_end(w);
}

double ratio(double a, double b)
{
	return b > 0 ? round(a / b * 1000) / 1000 : 0;
}

double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The Internet checksum (RFC 1071), summed in 16-bit words, then folded. */
uint32_t csum_add(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Sets the header checksum of the IPv4 header at ip (ihl bytes). */
void ip4_csum_set(uint8_t *ip, size_t ihl)
{
	uint16_t v;

	ip[10] = ip[11] = 0;
	v = csum_fold(csum_add(0, ip, ihl));
	ip[10] = v >> 8;
	ip[11] = v & 0xff;
}

/* The offset of the L3 header of an Ethernet frame, past VLAN tags; *type its EtherType. */
uint32_t frame_l3(const uint8_t *f, uint32_t len, uint16_t *type)
{
	uint32_t off = 14;

	*type = len >= 14 ? (uint16_t)(f[12] << 8 | f[13]) : 0;
	while ((*type == 0x8100 || *type == 0x88a8) && off + 4 <= len) {
		*type = f[off + 2] << 8 | f[off + 3];
		off += 4;
	}
	return off;
}

int parse_mac(const char *s, uint8_t *m)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6 ? 0 : -1;
}

/* pcap file format: a 24-byte global header, then a 16-byte header per record. */
int pcap_header(FILE *f)
{
	uint32_t h[6] = { 0xa1b2c3d4, 2 | (4u << 16), 0, 0, 65535, 1 /* DLT_EN10MB */ };

	return fwrite(h, sizeof(h), 1, f) == 1 ? 0 : -1;
}

int pcap_record(FILE *f, uint64_t ts_us, const void *data, uint32_t caplen, uint32_t len)
{
	uint32_t h[4] = { (uint32_t)(ts_us / 1000000), (uint32_t)(ts_us % 1000000), caplen, len };

	if (fwrite(h, sizeof(h), 1, f) != 1 || fwrite(data, caplen, 1, f) != 1)
		return -1;
	return 0;
}

static void usage(FILE *out)
{
	fputs("Usage: pktspec-bench COMMAND [options]\n"
	      "  testrun [--rounds R] [--repeat N] [--subsets DIR] CAPTURE...\n"
	      "          per-packet cost of pktspec, XDP_PASS and parse+lookup (BPF_PROG_TEST_RUN)\n"
	      "  verifier OBJ...            verifier instructions and load time per program\n"
	      "  memory [--flows N]         kernel memory per flow and at N flows (default 1048576)\n"
	      "  rss [--interval MS] -- CMD...   peak resident memory of CMD\n"
	      "  gen --flows N FILE         write a capture of N new flows of mixed protocols\n"
	      "  xdp OBJ PROG IFACE         attach a program natively, its maps pinned by name reused\n"
	      "  rewrite OUT CAPTURE...     the captures' IP frames with test addresses, to send live\n"
	      "  fill-context N             N hosts and N servers in the pinned context tables\n"
	      "Every command prints one JSON object on stdout (--json FILE to write it there).\n"
	      "Part of `make bench`; see doc/performance.md.\n",
	      out);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int, char **);
	} cmds[] = {
		{ "testrun", bench_testrun }, { "verifier", bench_verifier }, { "memory", bench_memory },
		{ "rss", bench_rss },	      { "gen", bench_gen },	    { "xdp", bench_xdp },
		{ "rewrite", bench_rewrite }, { "fill-context", bench_fill_context },
	};

	if (argc < 2) {
		usage(stderr);
		return PKS_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return PKS_EXIT_OK;
	}
	pks_libbpf_logging();
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "pktspec-bench: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return PKS_EXIT_USAGE;
}
