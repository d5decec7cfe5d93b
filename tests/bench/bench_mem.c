// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Memory: what a flow costs in kernel maps, what N concurrent flows cost, and
 * the resident memory of a userspace command; plus the generator of a
 * capture of many new flows that the RSS and live measurements feed on.
 *
 * The flow table is an LRU hash, which the kernel preallocates whole when the
 * map is created. Two measurements are given for a table of N entries, loaded
 * by the CLI's own loader and then filled with N distinct flows:
 *   memlock   the kernel's account of the map (fdinfo; exact on 6.4+, where
 *             it sums the map's real allocations)
 *   vmalloc   the vmalloc areas that appeared while the map was created, from
 *             /proc/vmallocinfo (where the element and bucket arrays live)
 * and bytes per flow is the slope between a table of N/4 and one of N, so the
 * fixed part (program, other maps) drops out.
 */
#include <errno.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>

#include "pktspec.h"
#include "pktspec.skel.h"
#include "bench.h"
#include "pktspec/flow_key.h"
#include "pktspec/events.h"
#include "engine.h"
#include <math.h>

static long long fdinfo_memlock(int fd)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* The vmalloc areas a BPF map allocation made, keyed by their address range. */
struct vmarea {
	char range[40];
	long long size;
};

static int vmalloc_bpf(struct vmarea **out, size_t *n)
{
	char line[512];
	size_t cap = 0;
	FILE *f = fopen("/proc/vmallocinfo", "r");

	*out = NULL;
	*n = 0;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char range[40];
		long long size;

		/* The caller column names the allocating function (htab_map_alloc, ...). */
		if ((!strstr(line, "map_alloc") && !strstr(line, "prealloc") && !strstr(line, "bpf_map_area")) ||
		    sscanf(line, "%39s %lld", range, &size) != 2)
			continue;
		if (pks_grow(out, &cap, *n + 1, sizeof(**out), 64)) {
			fclose(f);
			return -ENOMEM;
		}
		snprintf((*out)[*n].range, sizeof((*out)[*n].range), "%s", range);
		(*out)[(*n)++].size = size;
	}
	fclose(f);
	return 0;
}

static long long vmalloc_new(const struct vmarea *before, size_t nb, const struct vmarea *after, size_t na)
{
	long long sum = 0;

	for (size_t i = 0; i < na; i++) {
		bool old = false;

		for (size_t j = 0; j < nb && !old; j++)
			old = !strcmp(after[i].range, before[j].range) && after[i].size == before[j].size;
		if (!old)
			sum += after[i].size;
	}
	return sum;
}

static void flow_key_of(unsigned int i, struct pks_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	/* ::ffff:198.18.x.y -> ::ffff:198.19.0.1:443, IPv4-mapped as the classifier stores it */
	k->addr_a[10] = k->addr_a[11] = 0xff;
	k->addr_a[12] = 198;
	k->addr_a[13] = 18;
	k->addr_a[14] = (i >> 8) & 0xff;
	k->addr_a[15] = i & 0xff;
	k->addr_b[10] = k->addr_b[11] = 0xff;
	k->addr_b[12] = 198;
	k->addr_b[13] = 19;
	k->addr_b[15] = 1;
	k->port_a = 1024 + (i >> 16);
	k->port_b = 443;
	k->l4 = 6;
}

#define FILL_BATCH 8192
#define MEM_TRIES 3

struct mem_point {
	unsigned int max_entries;
	long long memlock, vmalloc;
	long long held; /* entries found in the map after inserting max_entries flows */
	double fill_s;
};

static int measure(unsigned int entries, struct mem_point *m)
{
	/* IPv4 flows, in pks_flows4; the other table at its smallest, the same at every size. */
	struct pks_load_opts lo = { .pinned = false, .max_flows = entries, .max_flows6 = 1024 };
	struct pktspec_bpf *skel = NULL;
	struct vmarea *before = NULL, *after = NULL;
	size_t nb = 0, na = 0;
	struct pks_flow_key4 *keys = calloc(FILL_BATCH, sizeof(*keys));
	struct pks_flow *vals = calloc(FILL_BATCH, sizeof(*vals));
	struct pks_flow_key4 k, next;
	struct pks_flow_key wide;
	void *prev = NULL;
	double t;
	int fd, err = -ENOMEM;

	memset(m, 0, sizeof(*m));
	m->max_entries = entries;
	if (!keys || !vals)
		goto out;
	vmalloc_bpf(&before, &nb);
	if (pks_load(&lo, &skel)) {
		err = -EINVAL;
		goto out;
	}
	vmalloc_bpf(&after, &na);
	m->vmalloc = vmalloc_new(before, nb, after, na);
	fd = bpf_map__fd(skel->maps.pks_flows4);

	t = now_sec();
	for (unsigned int i = 0; i < entries; i += FILL_BATCH) {
		LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = BPF_ANY);
		__u32 n = entries - i < FILL_BATCH ? entries - i : FILL_BATCH;

		for (__u32 j = 0; j < n; j++) {
			flow_key_of(i + j, &wide);
			pks_flow_key_to4(&wide, &keys[j]);
			vals[j].proto = PKS_P_TLS;
			vals[j].confidence = PKS_C_CONFIRMED;
			vals[j].packets[0] = vals[j].packets[1] = 1;
		}
		if (bpf_map_update_batch(fd, keys, vals, &n, &bo)) {
			/* Batch operations are 5.6+; one by one is the same result, slower. */
			for (__u32 j = 0; j < n; j++)
				bpf_map_update_elem(fd, &keys[j], &vals[j], BPF_ANY);
		}
	}
	m->fill_s = now_sec() - t;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		m->held++;
		k = next;
		prev = &k;
	}
	m->memlock = fdinfo_memlock(fd);
	err = 0;
out:
	pktspec_bpf__destroy(skel);
	free(before);
	free(after);
	free(keys);
	free(vals);
	return err;
}

/*
 * The array table (--flow-table array) at --max-flows entries: its map's
 * memory, and how many of entries flows with the bench's keys it holds. User
 * space never inserts into it, so the count is each bucket's share: its
 * flows up to its ways (what a fill with no flow ending leaves; the rest are
 * pushed out by a full bucket), with the classifier's own hash.
 */
struct mem_array {
	__u32 buckets;
	long long memlock, held;
};

static int measure_array(unsigned int entries, struct mem_array *m)
{
	struct pks_load_opts lo = { .pinned = false, .max_flows = entries, .max_flows6 = 1024,
				    .table = PKS_TABLE_ARRAY };
	struct pktspec_bpf *skel = NULL;
	unsigned char *load;

	memset(m, 0, sizeof(*m));
	if (pks_load(&lo, &skel))
		return -EINVAL;
	m->buckets = skel->rodata->pks_ways4_buckets;
	m->memlock = fdinfo_memlock(bpf_map__fd(skel->maps.pks_ways4));
	pktspec_bpf__destroy(skel);
	load = calloc(m->buckets, 1);
	if (!load)
		return -ENOMEM;
	for (unsigned int i = 0; i < entries; i++) {
		struct pks_flow_key wide;
		struct pks_flow_key4 k4;
		__u32 b;

		flow_key_of(i, &wide);
		pks_flow_key_to4(&wide, &k4);
		b = pks_ways4_bucket(pks_ways4_hash(&k4), m->buckets);
		if (load[b] < PKS_WAYS4) {
			load[b]++;
			m->held++;
		}
	}
	free(load);
	return 0;
}

int bench_memory(int argc, char **argv)
{
	static const struct option opts[] = { { "flows", required_argument, NULL, 'f' },
					      { "json", required_argument, NULL, 'j' },
					      {} };
	unsigned long flows = 1 << 20;
	const char *json = NULL;
	struct mem_point small, big;
	struct mem_array arr;
	FILE *out = stdout;
	struct jw w;
	int c;

	while ((c = getopt_long(argc, argv, "f:j:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (pks_parse_uint(optarg, 1UL << 24, &flows) || flows < 4096) {
				fprintf(stderr, "pktspec-bench: --flows takes 4096 to %lu\n", 1UL << 24);
				return PKS_EXIT_USAGE;
			}
			break;
		case 'j':
			json = optarg;
			break;
		default:
			fputs("Usage: pktspec-bench memory [--flows N] [--json FILE]\n", stderr);
			return PKS_EXIT_USAGE;
		}
	}
	if (pks_need_caps("pktspec-bench memory", PKS_NEED_LOAD | PKS_NEED_NET_ADMIN))
		return PKS_EXIT_FAIL;
	/*
	 * vmallocinfo is machine-wide: another process creating a map at the same
	 * moment adds its areas. Noise only ever adds, so keep the smallest of a
	 * few tries (memlock is the map's own account and does not vary).
	 */
	for (int t = 0; t < MEM_TRIES; t++) {
		struct mem_point s2, b2;

		if (measure(flows / 4, &s2) || measure(flows, &b2))
			return PKS_EXIT_FAIL;
		if (t == 0 || s2.vmalloc < small.vmalloc)
			small = s2;
		if (t == 0 || b2.vmalloc < big.vmalloc)
			big = b2;
	}
	if (measure_array(flows, &arr))
		return PKS_EXIT_FAIL;
	if (json && !(out = fopen(json, "w")))
		return pks_fail("cannot write %s: %s", json, strerror(errno));
	jw_init(&w, out);
	jw_obj(&w, NULL);
	jw_int(&w, "key_bytes", sizeof(struct pks_flow_key4));
	jw_str(&w, "table", "pks_flows4 (IPv4)");
	jw_int(&w, "value_bytes", sizeof(struct pks_flow));
	jw_str(&w, "map_type", "lru_hash (preallocated)");
	jw_arr(&w, "tables");
	for (int i = 0; i < 2; i++) {
		const struct mem_point *m = i ? &big : &small;

		jw_obj(&w, NULL);
		jw_int(&w, "max_entries", m->max_entries);
		jw_int(&w, "flows_inserted", m->max_entries);
		jw_int(&w, "flows_held", m->held);
		jw_int(&w, "memlock_bytes", m->memlock);
		jw_int(&w, "vmalloc_bytes", m->vmalloc);
		jw_num(&w, "fill_seconds", round(m->fill_s * 100) / 100);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_num(&w, "bytes_per_flow_memlock",
	       round((double)(big.memlock - small.memlock) / (big.max_entries - small.max_entries) * 10) / 10);
	jw_num(&w, "bytes_per_flow_vmalloc",
	       round((double)(big.vmalloc - small.vmalloc) / (big.max_entries - small.max_entries) * 10) / 10);
	jw_int(&w, "flows", big.max_entries);
	jw_num(&w, "mib_at_flows_memlock", round(big.memlock / 1048576.0 * 10) / 10);
	jw_num(&w, "mib_at_flows_vmalloc", round(big.vmalloc / 1048576.0 * 10) / 10);
	jw_obj(&w, "array");
	jw_str(&w, "table", "pks_ways4 (IPv4, --flow-table array)");
	jw_int(&w, "max_flows", big.max_entries);
	jw_int(&w, "ways", (long long)arr.buckets * PKS_WAYS4);
	jw_int(&w, "memlock_bytes", arr.memlock);
	jw_num(&w, "mib_at_flows_memlock", round(arr.memlock / 1048576.0 * 10) / 10);
	jw_int(&w, "flows_inserted", big.max_entries);
	jw_int(&w, "flows_held", arr.held);
	jw_obj_end(&w);
	jw_obj_end(&w);
	if (out != stdout && fclose(out))
		return pks_fail("cannot write %s", json);
	return PKS_EXIT_OK;
}

/* ---- rss ---- */

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

int bench_rss(int argc, char **argv)
{
	static const struct option opts[] = { { "interval", required_argument, NULL, 'i' },
					      { "json", required_argument, NULL, 'j' },
					      {} };
	unsigned long interval_ms = 50;
	const char *json = NULL;
	long samples[4096];
	size_t ns = 0;
	struct rusage ru;
	FILE *out = stdout;
	struct jw w;
	double t0;
	int c, status = 0;
	pid_t pid;

	while ((c = getopt_long(argc, argv, "+i:j:", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (pks_parse_uint(optarg, 10000, &interval_ms) || !interval_ms)
				return PKS_EXIT_USAGE;
			break;
		case 'j':
			json = optarg;
			break;
		default:
			fputs("Usage: pktspec-bench rss [--interval MS] [--json FILE] -- CMD...\n", stderr);
			return PKS_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs("Usage: pktspec-bench rss [--interval MS] [--json FILE] -- CMD...\n", stderr);
		return PKS_EXIT_USAGE;
	}
	t0 = now_sec();
	pid = fork();
	if (pid < 0)
		return pks_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "pktspec-bench: cannot run %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	for (;;) {
		struct timespec ts = { interval_ms / 1000, (interval_ms % 1000) * 1000000 };
		pid_t r = wait4(pid, &status, WNOHANG, &ru);
		long kb;

		if (r == pid)
			break;
		if (r < 0)
			return pks_fail("wait: %s", strerror(errno));
		kb = rss_kb(pid);
		if (kb > 0) {
			if (ns == sizeof(samples) / sizeof(samples[0])) {
				/* Keep every other sample: the series stays evenly spread. */
				for (size_t i = 0; i < ns / 2; i++)
					samples[i] = samples[i * 2];
				ns /= 2;
				interval_ms *= 2;
			}
			samples[ns++] = kb;
		}
		nanosleep(&ts, NULL);
	}
	if (json && !(out = fopen(json, "w")))
		return pks_fail("cannot write %s: %s", json, strerror(errno));
	jw_init(&w, out);
	jw_obj(&w, NULL);
	jw_arr(&w, "command");
	for (int i = optind; i < argc; i++)
		jw_str(&w, NULL, argv[i]);
	jw_arr_end(&w);
	jw_int(&w, "exit_status", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	jw_num(&w, "seconds", round((now_sec() - t0) * 100) / 100);
	jw_int(&w, "max_rss_kb", ru.ru_maxrss);
	jw_arr(&w, "rss_kb_samples");
	for (size_t i = 0; i < ns; i++)
		jw_int(&w, NULL, samples[i]);
	jw_arr_end(&w);
	jw_obj_end(&w);
	if (out != stdout && fclose(out))
		return pks_fail("cannot write %s", json);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? PKS_EXIT_OK : PKS_EXIT_FAIL;
}

/* ---- gen ---- */

struct gen_opts {
	uint8_t dmac[6], smac[6];
	uint32_t dst;     /* IPv4 server, host order */
	uint32_t src_net; /* client addresses: src_net + (flow % 65536) */
};

/* Builds one IPv4 frame; returns its length. */
static size_t frame4(uint8_t *f, const struct gen_opts *o, uint32_t src, uint8_t l4, uint16_t sport,
		     uint16_t dport, uint8_t tcp_flags, const void *payload, size_t plen)
{
	uint8_t *ip = f + 14, *l4h = ip + 20;
	size_t l4len = (l4 == IPPROTO_TCP ? 20 : 8) + plen;
	uint32_t s, dst = htonl(o->dst), srcn = htonl(src);
	uint16_t v;

	memcpy(f, o->dmac, 6);
	memcpy(f + 6, o->smac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	v = htons(20 + l4len);
	memcpy(ip + 2, &v, 2);
	ip[8] = 64;
	ip[9] = l4;
	memcpy(ip + 12, &srcn, 4);
	memcpy(ip + 16, &dst, 4);
	ip4_csum_set(ip, 20);

	memset(l4h, 0, l4len - plen);
	v = htons(sport);
	memcpy(l4h, &v, 2);
	v = htons(dport);
	memcpy(l4h + 2, &v, 2);
	if (l4 == IPPROTO_TCP) {
		l4h[12] = 5 << 4;
		l4h[13] = tcp_flags;
		l4h[14] = 0xfa; /* window 64000 */
		memcpy(l4h + 20, payload, plen);
	} else {
		v = htons(l4len);
		memcpy(l4h + 4, &v, 2);
		memcpy(l4h + 8, payload, plen);
	}
	/* Pseudo-header (RFC 9293 3.1, RFC 768) then the segment. */
	s = csum_add(0, ip + 12, 8) + l4 + l4len;
	s = csum_add(s, l4h, l4len);
	v = htons(csum_fold(s));
	memcpy(l4h + (l4 == IPPROTO_TCP ? 16 : 6), &v, 2);
	return 14 + 20 + l4len;
}

static const char http_get[] = "GET /index.html HTTP/1.1\r\nHost: bench.test\r\nUser-Agent: pktspec-bench\r\n\r\n";
/* TLS 1.2 record, handshake ClientHello with an empty body after the random (RFC 8446 4.1.2). */
static const uint8_t tls_hello[] = { 0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b, 0x03, 0x03,
				     1,	   2,	 3,    4,    5,	   6,	 7,    8,    9,	   10,	 11,
				     12,   13,	 14,   15,   16,   17,	 18,   19,   20,   21,	 22,
				     23,   24,	 25,   26,   27,   28,	 29,   30,   31,   32,	 0x00,
				     0x00, 0x02, 0x13, 0x01, 0x01, 0x00, 0x00, 0x00 };
/* DNS query for bench.test A IN (RFC 1035 4.1). */
static const uint8_t dns_query[] = { 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
				     5,	   'b',	 'e',  'n',  'c',  'h',	 4,    't',  'e',  's',	 't',  0,
				     0x00, 0x01, 0x00, 0x01 };
static const char ssh_banner[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";

/* One packet as a pcap record, or as a trafgen(8) configuration block of bytes. */
static void emit(FILE *f, bool trafgen, uint64_t ts, const uint8_t *frame, size_t n)
{
	if (!trafgen) {
		pcap_record(f, ts, frame, n, n);
		return;
	}
	fputc('{', f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s0x%02x", i ? "," : "", frame[i]);
	fputs("}\n", f);
}

/*
 * Flow i is one of five kinds, each the first packets of a flow as a client
 * sends them: HTTP (SYN, then a GET), TLS (SYN, then a ClientHello), DNS (a
 * query), SSH (SYN, then the banner), and unknown (UDP with bytes no
 * signature claims). Client addresses and ports make every flow distinct.
 */
int bench_gen(int argc, char **argv)
{
	static const struct option opts[] = { { "flows", required_argument, NULL, 'f' },
					      { "dst-mac", required_argument, NULL, 'd' },
					      { "src-mac", required_argument, NULL, 's' },
					      { "dst", required_argument, NULL, 'D' },
					      { "src-net", required_argument, NULL, 'S' },
					      { "trafgen", no_argument, NULL, 't' },
					      {} };
	struct gen_opts o = { .dmac = { 2, 0, 0, 0, 0, 2 }, .smac = { 2, 0, 0, 0, 0, 1 } };
	unsigned long flows = 100000;
	struct in_addr a;
	uint8_t frame[256];
	uint64_t ts = 1600000000ull * 1000000;
	bool trafgen = false;
	FILE *f;
	int c;

	inet_pton(AF_INET, "198.19.0.1", &a);
	o.dst = ntohl(a.s_addr);
	inet_pton(AF_INET, "198.18.0.0", &a);
	o.src_net = ntohl(a.s_addr);
	while ((c = getopt_long(argc, argv, "f:d:s:D:S:t", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (pks_parse_uint(optarg, 1UL << 24, &flows) || !flows)
				return PKS_EXIT_USAGE;
			break;
		case 'd':
		case 's':
			if (parse_mac(optarg, c == 'd' ? o.dmac : o.smac))
				return PKS_EXIT_USAGE;
			break;
		case 'D':
		case 'S':
			if (inet_pton(AF_INET, optarg, &a) != 1)
				return PKS_EXIT_USAGE;
			*(c == 'D' ? &o.dst : &o.src_net) = ntohl(a.s_addr);
			break;
		case 't':
			trafgen = true;
			break;
		default:
			goto usage;
		}
	}
	if (optind + 1 != argc)
		goto usage;
	f = fopen(argv[optind], "w");
	if (!f || (!trafgen && pcap_header(f)))
		return pks_fail("cannot write %s: %s", argv[optind], strerror(errno));
	if (trafgen)
		fprintf(f, "# pktspec-bench gen: %lu flows, one packet per block (trafgen(8) sends them in turn)\n",
			flows);
	for (unsigned long i = 0; i < flows; i++) {
		/* 65536 client addresses (within a /16 of 198.18.0.0/15), then the next source port. */
		uint32_t src = o.src_net + 2 + (uint32_t)(i % 65000);
		uint16_t sport = 10000 + (uint16_t)((i / 65000) % 50000);
		size_t n;

		switch (i % 5) {
		case 0:
			n = frame4(frame, &o, src, IPPROTO_TCP, sport, 80, 0x02, NULL, 0);
			emit(f, trafgen, ts++, frame, n);
			n = frame4(frame, &o, src, IPPROTO_TCP, sport, 80, 0x18, http_get, sizeof(http_get) - 1);
			break;
		case 1:
			n = frame4(frame, &o, src, IPPROTO_TCP, sport, 443, 0x02, NULL, 0);
			emit(f, trafgen, ts++, frame, n);
			n = frame4(frame, &o, src, IPPROTO_TCP, sport, 443, 0x18, tls_hello, sizeof(tls_hello));
			break;
		case 2:
			n = frame4(frame, &o, src, IPPROTO_UDP, sport, 53, 0, dns_query, sizeof(dns_query));
			break;
		case 3:
			n = frame4(frame, &o, src, IPPROTO_TCP, sport, 22, 0x02, NULL, 0);
			emit(f, trafgen, ts++, frame, n);
			n = frame4(frame, &o, src, IPPROTO_TCP, sport, 22, 0x18, ssh_banner, sizeof(ssh_banner) - 1);
			break;
		default: {
			uint8_t junk[48];

			for (size_t j = 0; j < sizeof(junk); j++)
				junk[j] = (uint8_t)((i * 2654435761u) >> (j % 24)) ^ (uint8_t)(j * 97);
			n = frame4(frame, &o, src, IPPROTO_UDP, sport, 40000, 0, junk, sizeof(junk));
			break;
		}
		}
		emit(f, trafgen, ts++, frame, n);
	}
	if (fclose(f))
		return pks_fail("cannot write %s", argv[optind]);
	return PKS_EXIT_OK;
usage:
	fputs("Usage: pktspec-bench gen [--flows N] [--dst-mac MAC] [--src-mac MAC] [--dst IPV4] "
	      "[--src-net IPV4] [--trafgen] FILE\n",
	      stderr);
	return PKS_EXIT_USAGE;
}

/*
 * The cut programs of the live bench (bpf/pktspec.bpf.c, PKS_BENCH_CUT) read
 * the clock as `pktspec attach` has pktspec read it: the coarse one when the
 * kernel has it (user/loader.c sets pks_cfg.coarse_clock). An object without
 * pks_cfg is left alone.
 */
static void bench_xdp_config(struct bpf_object *obj)
{
	struct bpf_map *ro = bpf_object__find_map_by_name(obj, ".rodata");
	struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vi;
	const struct btf_type *sec;
	struct pks_config cfg;
	const void *image;
	size_t size;
	char *data;
	int id;

	if (!ro || !btf || (id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC)) < 0)
		return;
	image = bpf_map__initial_value(ro, &size);
	if (!image || !(data = malloc(size)))
		return;
	memcpy(data, image, size);
	sec = btf__type_by_id(btf, id);
	vi = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vi++) {
		const struct btf_type *var = btf__type_by_id(btf, vi->type);

		if (strcmp(btf__name_by_offset(btf, var->name_off), "pks_cfg") || vi->offset + sizeof(cfg) > size)
			continue;
		memcpy(&cfg, data + vi->offset, sizeof(cfg));
		cfg.coarse_clock = pks_have_coarse_clock(BPF_PROG_TYPE_XDP);
		memcpy(data + vi->offset, &cfg, sizeof(cfg));
		bpf_map__set_initial_value(ro, data, size);
	}
	free(data);
}

/*
 * pktspec-bench xdp [--stages] OBJ PROG IFACE: attaches one program of a BPF
 * object to IFACE's native XDP hook, its maps pinned by name under
 * /sys/fs/bpf/pktspec reused (the live bench runs the baselines against the
 * table pktspec filled). With --stages every program of the object loads and
 * fills its tail-call table, as the CLI's loader does: a whole classifier
 * built another way (bench_pks_slots.bpf.o). The attachment outlives the
 * command; `ip link set dev IFACE xdpdrv off` removes it.
 */
/*
 * bench_slots_dm's buckets (bpf/bench_slots.h): one inner array of 126 buckets
 * in each slot of pks_bench_dm, created here because an array of maps is
 * filled from user space. The outer map keeps them; their descriptors close.
 * An object without the map needs nothing.
 */
struct bench_dm {
	struct bpf_map *outer;
	__u32 value_size, entries; /* of each inner array */
};

/* Before the load: libbpf drops the inner map's template once the outer map exists. */
static int bench_dm_find(struct bpf_object *obj, struct bench_dm *dm)
{
	struct bpf_map *inner;

	dm->outer = bpf_object__find_map_by_name(obj, "pks_bench_dm");
	if (!dm->outer)
		return 0;
	inner = bpf_map__inner_map(dm->outer);
	if (!inner)
		return -EINVAL;
	dm->value_size = bpf_map__value_size(inner);
	dm->entries = bpf_map__max_entries(inner);
	return 0;
}

static int bench_dm_fill(const struct bench_dm *dm)
{
	__u32 i, n;

	if (!dm->outer)
		return 0;
	n = bpf_map__max_entries(dm->outer);
	for (i = 0; i < n; i++) {
		int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, sizeof(__u32), dm->value_size, dm->entries, NULL);
		int err;

		if (fd < 0)
			return -errno;
		err = bpf_map_update_elem(bpf_map__fd(dm->outer), &i, &fd, BPF_ANY) ? -errno : 0;
		close(fd);
		if (err)
			return err;
	}
	return 0;
}

int bench_xdp(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = PKS_PIN_DIR);
	struct bpf_object *obj;
	struct bpf_program *prog, *target = NULL;
	struct bench_dm dm = {};
	unsigned int ifindex;
	bool stages = argc > 1 && !strcmp(argv[1], "--stages");
	int err;

	if (stages) {
		argc--;
		argv++;
	}
	if (argc != 4) {
		fputs("Usage: pktspec-bench xdp [--stages] OBJ PROG IFACE\n", stderr);
		return PKS_EXIT_USAGE;
	}
	if (pks_need_caps("pktspec-bench xdp", PKS_NEED_LOAD | PKS_NEED_NET_ADMIN))
		return PKS_EXIT_FAIL;
	ifindex = if_nametoindex(argv[3]);
	if (!ifindex)
		return pks_fail("no such interface: %s", argv[3]);
	obj = bpf_object__open_file(argv[1], &oo);
	if (!obj)
		return pks_fail("cannot open %s: %s", argv[1], strerror(errno));
	bpf_object__for_each_program(prog, obj) {
		bool me = !strcmp(bpf_program__name(prog), argv[2]);

		bpf_program__set_autoload(prog, me || stages);
		if (me)
			target = prog;
	}
	if (!target) {
		bpf_object__close(obj);
		return pks_fail("no program %s in %s", argv[2], argv[1]);
	}
	bench_xdp_config(obj);
	err = bench_dm_find(obj, &dm);
	if (!err)
		err = bpf_object__load(obj);
	if (!err && stages)
		err = pks_stages_fill(obj);
	if (!err)
		err = bench_dm_fill(&dm);
	if (!err)
		err = bpf_xdp_attach(ifindex, bpf_program__fd(target), XDP_FLAGS_DRV_MODE, NULL);
	bpf_object__close(obj);
	if (err)
		return pks_fail("cannot attach %s from %s to %s: %s", argv[2], argv[1], argv[3], strerror(-err));
	return PKS_EXIT_OK;
}

/*
 * fill-context N [--expect M]: N DNS-named hosts in pks_hosts, N remembered
 * servers in pks_servers and M announced media endpoints in pks_expect
 * (default: N / 16, at most PKS_EXPECT_MAX), pinned under PKS_PIN_DIR, at
 * random addresses of 2001:db8:ffff::/48 that no benchmark flow has, and
 * never expiring: the context tables of a busy network, every lookup of the
 * bench's new flows in them a miss. Written before `pktspec run` starts,
 * which adopts the first two (their lookup filter bits; doc/design.md, "The
 * lookup filter"). The expectations are written as the engine writes them:
 * pks_ctl's expect_until and their gate raised first (doc/design.md, "The
 * expectation gate"), so that pks_ctl says they are alive for good.
 */
static void fill_addr(uint64_t *x, uint8_t addr[16])
{
	static const uint8_t prefix[6] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff };

	memcpy(addr, prefix, sizeof(prefix));
	/* xorshift64: 10 random bytes under the /48 */
	for (int b = 6; b < 16; b += 5) {
		*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
		memcpy(addr + b, x, 5);
	}
}

/* pks_ctl's engine entry says an expectation may be alive until `until`. */
static int fill_ctl_expect(int fd, uint64_t until)
{
	__u32 slot = PKS_CTL_ENGINE;
	struct pks_ctl c;

	if (bpf_map_lookup_elem(fd, &slot, &c))
		return -errno;
	if (c.expect_until >= until)
		return 0;
	c.expect_until = until;
	return bpf_map_update_elem(fd, &slot, &c, BPF_ANY) ? -errno : 0;
}

int bench_fill_context(int argc, char **argv)
{
	int fd_hosts = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_HOSTS);
	int fd_servers = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_SERVERS);
	int fd_expect = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_EXPECT);
	int fd_ctl = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_CTL);
	int fd_gate = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_EXPECT_GATE);
	unsigned long n = 0, m = 0;
	uint64_t x = 0x9e3779b97f4a7c15ull ^ (uint64_t)time(NULL);
	int err = 0;

	if ((argc != 2 && argc != 4) || pks_parse_uint(argv[1], 1u << 20, &n) || !n ||
	    (argc == 4 && (strcmp(argv[2], "--expect") || pks_parse_uint(argv[3], PKS_EXPECT_MAX, &m)))) {
		fprintf(stderr, "Usage: pktspec-bench fill-context N [--expect M]\n"
				"  N: 1 to 1048576 hosts and as many servers; M: 0 to %u expectations (default N / 16)\n",
			PKS_EXPECT_MAX);
		err = PKS_EXIT_USAGE;
		goto out;
	}
	if (argc == 2)
		m = n / 16 < PKS_EXPECT_MAX ? n / 16 : PKS_EXPECT_MAX;
	/* The gate's pin is absent only under a classifier built before it, which reads no gate. */
	if (fd_hosts < 0 || fd_servers < 0 || fd_expect < 0 || fd_ctl < 0) {
		fprintf(stderr, "pktspec-bench fill-context: no %s, %s, %s or %s under %s: attach pktspec first\n",
			PKS_MAP_HOSTS, PKS_MAP_SERVERS, PKS_MAP_EXPECT, PKS_MAP_CTL, PKS_PIN_DIR);
		err = PKS_EXIT_FAIL;
		goto out;
	}
	for (unsigned long i = 0; i < n && !err; i++) {
		struct pks_host_key hk = {};
		struct pks_host hv = { .expires_ns = ~0ull };
		struct pks_server_key sk = {};
		struct pks_server sv = { .expires_ns = ~0ull, .rule = PKS_R_HTTP_REQUEST, .proto = PKS_P_HTTP };
		uint8_t addr[16];

		fill_addr(&x, addr);
		memcpy(hk.addr, addr, 16);
		snprintf(hv.name, sizeof(hv.name), "fill%lu.bench.test", i);
		memcpy(sk.addr, addr, 16);
		sk.port = 443;
		sk.l4 = IPPROTO_TCP;
		if (bpf_map_update_elem(fd_hosts, &hk, &hv, BPF_ANY) ||
		    bpf_map_update_elem(fd_servers, &sk, &sv, BPF_ANY)) {
			fprintf(stderr, "pktspec-bench fill-context: cannot write entry %lu: %s\n", i, strerror(errno));
			err = PKS_EXIT_FAIL;
		}
	}
	if (!err && m && (err = fill_ctl_expect(fd_ctl, ~0ull))) {
		fprintf(stderr, "pktspec-bench fill-context: cannot write %s: %s\n", PKS_MAP_CTL, strerror(-err));
		err = PKS_EXIT_FAIL;
	}
	for (unsigned long i = 0; i < m && !err; i++) {
		/* An SDP media endpoint, any peer: RTP the engine would expect. */
		struct pks_expect_key k = { .l4 = IPPROTO_UDP };
		struct pks_expect v = { .expires_ns = ~0ull, .rule = PKS_R_SIP_SDP, .proto = PKS_P_RTP };
		int e = 0;

		fill_addr(&x, k.listen_addr);
		k.listen_port = 1024 + (uint16_t)(x % 64512);
		if (fd_gate >= 0)
			e = pks_expect_gate_raise(fd_gate, &k, v.expires_ns);
		if (!e && bpf_map_update_elem(fd_expect, &k, &v, BPF_ANY))
			e = -errno;
		if (e) {
			fprintf(stderr, "pktspec-bench fill-context: cannot write expectation %lu: %s\n", i, strerror(-e));
			err = PKS_EXIT_FAIL;
		}
	}
	if (!err)
		printf("{\"hosts\":%lu,\"servers\":%lu,\"expectations\":%lu}\n", n, n, m);
out:
	{
		int fds[] = { fd_hosts, fd_servers, fd_expect, fd_ctl, fd_gate };

		for (size_t k = 0; k < sizeof(fds) / sizeof(fds[0]); k++)
			if (fds[k] >= 0)
				close(fds[k]);
	}
	return err;
}
