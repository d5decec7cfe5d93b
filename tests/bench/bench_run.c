// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * In-kernel cost per packet, and verifier cost per program.
 *
 * testrun: every packet of the captures goes through three programs with
 * BPF_PROG_TEST_RUN, and the kernel's own duration (ns per run, measured
 * around the program inside the kernel) is kept per packet:
 *   pass    bench_pass: returns XDP_PASS (the floor: the test-run loop itself)
 *   parse   bench_parse: pktspec's parser and flow key, one lookup in
 *           pktspec's own flow map, no classification
 *   record  bench_record: the same parse and lookup, and a missed flow
 *           inserted into a table of its own (emptied with pktspec's): the
 *           least a program that keeps flows does for a new one
 *   pktspec the classifier as shipped, loaded by the CLI's loader
 * The four run one after the other on each packet, so they see the same map
 * state and the same moment's noise.
 *
 * cold: the captures in order, each into an empty flow map, every packet run
 *   once (repeat = 1: a repeat would run the same packet into the flow it just
 *   created). That is what new flows and first payloads cost. The pass over
 *   the captures is done --rounds times (the map emptied each time) and each
 *   packet keeps the median of its rounds, which filters out the interrupts
 *   and preemptions of a shared machine.
 * warm: after the last cold round of a capture, every packet again, --rounds
 *   times in a row with repeat = 1, keeping the median: its flow exists and
 *   is decided, or done inspecting (the first of those runs may still move
 *   it; the median is the settled cost). Measured like cold, so the two
 *   compare directly.
 * warm_repeat: a sample of the warm packets also runs with repeat = --repeat,
 *   where the kernel reads its clock once for all the repeats: the cost
 *   without the clock read that repeat = 1 includes in every figure above
 *   (about 30 ns here). Only a sample, because every test run with repeat > 1
 *   swaps the XDP dispatcher twice, which takes milliseconds.
 *
 * Packets are grouped by the verdict pktspec gave their flow at the end of
 * the cold pass (bench_key finds a packet's flow with the kernel's own
 * parser), and by the reason pktspec counted for them. --subsets DIR writes
 * each group as DIR/GROUP.pcap (and GROUP.x2.pcap: every packet twice), and
 * all packets as DIR/all.pcap and all.x2.pcap, so that nDPI can be run on
 * exactly the same packets (tools/bench_ndpi.py).
 *
 * verifier: each BPF object is loaded as the CLI would load it, with private
 * maps; hash maps shrink to 1024 entries so that the load time is the
 * verifier's and not the allocation of a large table.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pktspec.h"
#include "pktspec.skel.h"
#include "bench_pass.skel.h"
#include "bench_parse.skel.h"
#include "capture.h"
#include "bench.h"
#include <math.h>

#define ETH_HLEN 14

enum { P_PASS, P_PARSE, P_RECORD, P_PKTSPEC, P__COUNT };
static const char *const prog_names[P__COUNT] = { "pass", "parse", "record", "pktspec" };

/* Not a flow packet (non-IP, ICMP, later fragment, malformed) / flow not found. */
#define G_NOT_FLOW (PKS_P__COUNT)
#define G_NO_FLOW (PKS_P__COUNT + 1)
#define G__COUNT (PKS_P__COUNT + 2)

struct bpkt {
	uint8_t *data;
	uint32_t len, wire_len;
	int cap;
	int reason; /* pktspec's reason on the first cold round */
	int group;
	bool has_key;
	struct pks_flow_key key;
	uint32_t *cold;     /* rounds x P__COUNT samples */
	double cold_ns[P__COUNT];
	double warm_ns[P__COUNT];
	double rep_ns[P__COUNT]; /* warm, repeat = N, when sampled */
	bool sampled;
};

struct bcap {
	const char *path;
	size_t first, n; /* packets [first, first + n) */
	uint64_t records, skipped;
};

struct bench {
	struct pktspec_bpf *pks;
	struct bench_pass_bpf *pass;
	struct bench_parse_bpf *parse;
	int fd[P__COUNT];
	struct pks_flowtab flows;
	int key_fd, stats_fd;
	int rec_fd4, rec_fd6; /* bench_record's own tables */
	struct bpkt *pk;
	size_t npk, cappk;
	struct bcap *caps;
	int ncaps;
	int rounds, repeat;
	size_t stride; /* every stride-th packet is also run with repeat = N */
};

static const char *group_name(int g)
{
	if (g == G_NOT_FLOW)
		return "not-flow";
	if (g == G_NO_FLOW)
		return "no-flow";
	return pks_proto_name(g);
}

static int load_programs(struct bench *b)
{
	struct pks_load_opts lo = { .pinned = false };
	struct bpf_map *map;
	int err;

	if (pks_load(&lo, &b->pks))
		return -1;
	b->pass = bench_pass_bpf__open_and_load();
	if (!b->pass) {
		fprintf(stderr, "pktspec-bench: cannot load bench_pass: %s\n", strerror(errno));
		return -1;
	}
	b->parse = bench_parse_bpf__open();
	if (!b->parse) {
		fprintf(stderr, "pktspec-bench: cannot open bench_parse: %s\n", strerror(errno));
		return -1;
	}
	bpf_object__for_each_map(map, b->parse->obj)
		bpf_map__set_pin_path(map, NULL);
	/* The array-table baselines are for the live bench only: not their programs, nor their 16 MiB of tables. */
	bpf_program__set_autoload(b->parse->progs.bench_slots, false);
	bpf_program__set_autoload(b->parse->progs.bench_slots_dm, false);
	bpf_map__set_autocreate(b->parse->maps.pks_bench_slots, false);
	bpf_map__set_autocreate(b->parse->maps.pks_bench_dm, false);
	/* The baseline looks flows up in pktspec's own table, in the state pktspec sees. */
	err = bpf_map__reuse_fd(b->parse->maps.pks_flows, bpf_map__fd(b->pks->maps.pks_flows));
	if (!err)
		err = bpf_map__reuse_fd(b->parse->maps.pks_flows4, bpf_map__fd(b->pks->maps.pks_flows4));
	if (!err)
		err = bench_parse_bpf__load(b->parse);
	if (err) {
		fprintf(stderr, "pktspec-bench: cannot load bench_parse: %s\n", strerror(-err));
		return -1;
	}
	b->fd[P_PASS] = bpf_program__fd(b->pass->progs.bench_pass);
	b->fd[P_PARSE] = bpf_program__fd(b->parse->progs.bench_parse);
	b->fd[P_RECORD] = bpf_program__fd(b->parse->progs.bench_record);
	b->rec_fd4 = bpf_map__fd(b->parse->maps.bench_rec4);
	b->rec_fd6 = bpf_map__fd(b->parse->maps.bench_rec6);
	b->fd[P_PKTSPEC] = bpf_program__fd(b->pks->progs.pks_xdp);
	b->key_fd = bpf_program__fd(b->parse->progs.bench_key);
	err = pks_flowtab_for_skel(&b->flows, b->pks, true);
	if (err) {
		fprintf(stderr, "pktspec-bench: cannot read pktspec's flow table: %s\n", strerror(-err));
		return -1;
	}
	b->stats_fd = bpf_map__fd(b->pks->maps.pks_stats);
	return 0;
}

static int read_captures(struct bench *b, char **paths, int n)
{
	b->caps = calloc(n, sizeof(*b->caps));
	if (!b->caps)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct bcap *c = &b->caps[b->ncaps++];
		struct pks_capture *cap;
		struct pks_frame f;
		char err[512];
		int rc;

		c->path = paths[i];
		c->first = b->npk;
		if (pks_capture_open(paths[i], &cap, err, sizeof(err))) {
			fprintf(stderr, "pktspec-bench: %s\n", err);
			return -EINVAL;
		}
		while ((rc = pks_capture_next(cap, &f, err, sizeof(err))) == 1) {
			struct bpkt *p;

			c->records++;
			if (f.len < ETH_HLEN) {
				c->skipped++;
				continue;
			}
			if (pks_grow(&b->pk, &b->cappk, b->npk + 1, sizeof(*b->pk), 4096))
				return -ENOMEM;
			p = &b->pk[b->npk];
			memset(p, 0, sizeof(*p));
			p->data = malloc(f.len);
			p->cold = calloc((size_t)b->rounds * P__COUNT, sizeof(*p->cold));
			if (!p->data || !p->cold)
				return -ENOMEM;
			memcpy(p->data, f.data, f.len);
			p->len = f.len;
			p->wire_len = f.wire_len;
			p->cap = i;
			b->npk++;
		}
		pks_capture_close(cap);
		/* A capture cut short still gives its readable packets; say so. */
		if (rc < 0)
			fprintf(stderr, "pktspec-bench: %s: %s (using the %llu packets before)\n", paths[i], err,
				(unsigned long long)c->records);
		c->n = b->npk - c->first;
	}
	return 0;
}

static int run(int fd, const struct bpkt *p, int repeat, uint32_t *duration)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->data, .data_size_in = p->len, .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	*duration = o.duration;
	return 0;
}

/*
 * The number of entries of a flow map, which it empties when del: keys first
 * (get_next_key continues from a key), then deletes. Negative on failure.
 */
static long walk_flows(int fd, bool del)
{
	struct pks_flow_key *keys = NULL, k, next;
	size_t n = 0, cap = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		if (pks_grow(&keys, &cap, n + 1, sizeof(*keys), 1024)) {
			free(keys);
			return -ENOMEM;
		}
		keys[n++] = next;
		k = next;
		prev = &k;
	}
	for (size_t i = 0; del && i < n; i++)
		bpf_map_delete_elem(fd, &keys[i]);
	free(keys);
	return (long)n;
}

static int clear_flows(int fd)
{
	return walk_flows(fd, true) < 0 ? -ENOMEM : 0;
}

static long count_flows(int fd4, int fd6)
{
	long n4 = walk_flows(fd4, false), n6 = walk_flows(fd6, false);

	return n4 < 0 || n6 < 0 ? -1 : n4 + n6;
}

static int stats_total(int fd, __u64 *sum)
{
	return pks_stats_read(fd, sum);
}

static int cold_pass(struct bench *b, struct bcap *c, int round)
{
	__u64 before[PKS_REASON__COUNT], after[PKS_REASON__COUNT];

	if (clear_flows(b->flows.fd4) || clear_flows(b->flows.fd6) || clear_flows(b->rec_fd4) ||
	    clear_flows(b->rec_fd6))
		return -ENOMEM;
	if (round == 0 && stats_total(b->stats_fd, before))
		return -EIO;
	for (size_t i = c->first; i < c->first + c->n; i++) {
		struct bpkt *p = &b->pk[i];

		for (int g = 0; g < P__COUNT; g++) {
			uint32_t d;
			int err = run(b->fd[g], p, 1, &d);

			if (err) {
				fprintf(stderr, "pktspec-bench: BPF_PROG_TEST_RUN of %s on packet %zu of %s: %s\n",
					prog_names[g], i - c->first + 1, c->path, strerror(-err));
				return err;
			}
			p->cold[round * P__COUNT + g] = d;
		}
		if (round == 0) {
			if (stats_total(b->stats_fd, after))
				return -EIO;
			p->reason = -1;
			for (int r = 0; r < PKS_REASON__COUNT; r++)
				if (after[r] != before[r])
					p->reason = r;
			memcpy(before, after, sizeof(before));
		}
	}
	if (round == 0) {
		/* The verdict each packet's flow ended with: its group. */
		for (size_t i = c->first; i < c->first + c->n; i++) {
			struct bpkt *p = &b->pk[i];
			struct pks_flow val;

			if (!p->has_key)
				p->group = G_NOT_FLOW;
			else if (pks_flowtab_get_raw(&b->flows, &p->key, &val))
				p->group = G_NO_FLOW;
			else
				p->group = val.proto < PKS_P__COUNT ? val.proto : PKS_P_UNKNOWN;
		}
	}
	return 0;
}

static int warm_pass(struct bench *b, struct bcap *c)
{
	for (size_t i = c->first; i < c->first + c->n; i++) {
		struct bpkt *p = &b->pk[i];

		for (int g = 0; g < P__COUNT; g++) {
			double v[64];
			int k;

			for (k = 0; k < b->rounds && k < 64; k++) {
				uint32_t d;
				int err = run(b->fd[g], p, 1, &d);

				if (err) {
					fprintf(stderr, "pktspec-bench: BPF_PROG_TEST_RUN of %s (warm) on %s: %s\n",
						prog_names[g], c->path, strerror(-err));
					return err;
				}
				v[k] = d;
			}
			p->warm_ns[g] = summarize(v, k).median;
		}
		/*
		 * A sample also runs with repeat = N: the kernel then reads its clock
		 * once for N runs, which shows the cost without the clock's, but
		 * swaps the XDP dispatcher twice per call (milliseconds): hence a sample.
		 */
		if (b->stride && i % b->stride == 0) {
			p->sampled = true;
			for (int g = 0; g < P__COUNT; g++) {
				uint32_t d;
				int err = run(b->fd[g], p, b->repeat, &d);

				if (err) {
					fprintf(stderr, "pktspec-bench: BPF_PROG_TEST_RUN of %s (repeat) on %s: %s\n",
						prog_names[g], c->path, strerror(-err));
					return err;
				}
				p->rep_ns[g] = d;
			}
		}
	}
	return 0;
}

static int find_keys(struct bench *b)
{
	for (size_t i = 0; i < b->npk; i++) {
		struct bpkt *p = &b->pk[i];
		uint32_t d;
		int err = run(b->key_fd, p, 1, &d);

		if (err) {
			fprintf(stderr, "pktspec-bench: BPF_PROG_TEST_RUN of bench_key: %s\n", strerror(-err));
			return err;
		}
		p->has_key = b->parse->bss->bench_key_reason == 0;
		if (p->has_key)
			p->key = b->parse->bss->bench_key_out;
	}
	return 0;
}

static double median_u32(uint32_t *v, int n, int stride)
{
	double tmp[64];

	if (n > 64)
		n = 64;
	for (int i = 0; i < n; i++)
		tmp[i] = v[i * stride];
	return summarize(tmp, n).median;
}

/* Summaries of one phase for the packets a filter selects; writes them as JSON. */
struct sel {
	int group;  /* -1: any */
	int reason; /* -1: any */
};

enum phase { PH_COLD, PH_WARM, PH_REPEAT };

static bool selected(const struct bpkt *p, const struct sel *s, enum phase ph)
{
	return (s->group < 0 || p->group == s->group) && (s->reason < 0 || p->reason == s->reason) &&
	       (ph != PH_REPEAT || p->sampled);
}

static double phase_ns(const struct bpkt *p, enum phase ph, int g)
{
	return ph == PH_COLD ? p->cold_ns[g] : ph == PH_WARM ? p->warm_ns[g] : p->rep_ns[g];
}

static void write_phase(struct jw *w, const char *key, struct bench *b, const struct sel *s, enum phase ph)
{
	struct summary sm[P__COUNT];
	double *v = malloc(b->npk * sizeof(*v));

	if (!v)
		return;
	jw_obj(w, key);
	for (int g = 0; g < P__COUNT; g++) {
		size_t n = 0;

		for (size_t i = 0; i < b->npk; i++)
			if (selected(&b->pk[i], s, ph))
				v[n++] = phase_ns(&b->pk[i], ph, g);
		sm[g] = summarize(v, n);
		jw_summary(w, prog_names[g], &sm[g]);
	}
	jw_num(w, "ratio_pass", ratio(sm[P_PKTSPEC].mean, sm[P_PASS].mean));
	jw_num(w, "ratio_parse", ratio(sm[P_PKTSPEC].mean, sm[P_PARSE].mean));
	jw_num(w, "ratio_record", ratio(sm[P_PKTSPEC].mean, sm[P_RECORD].mean));
	jw_num(w, "ratio_pass_median", ratio(sm[P_PKTSPEC].median, sm[P_PASS].median));
	jw_num(w, "ratio_parse_median", ratio(sm[P_PKTSPEC].median, sm[P_PARSE].median));
	jw_num(w, "added_over_pass_ns", round((sm[P_PKTSPEC].mean - sm[P_PASS].mean) * 10) / 10);
	jw_num(w, "added_over_parse_ns", round((sm[P_PKTSPEC].mean - sm[P_PARSE].mean) * 10) / 10);
	jw_obj_end(w);
	free(v);
}

/*
 * Makes copy k of a frame a different flow: the third octet of both IPv4
 * addresses (the 14th byte of both IPv6 ones) XOR k, the IPv4 header
 * checksum recomputed. Ports and payload stay, so every protocol's dissector
 * sees what it saw; private addresses stay private. nDPI checks neither TCP
 * nor UDP checksums, so those are left as they are.
 */
static void mangle(uint8_t *f, uint32_t len, unsigned int k)
{
	uint16_t type;
	uint32_t off = frame_l3(f, len, &type);

	if (type == 0x0800 && off + 20 <= len) {
		uint32_t ihl = (f[off] & 0xf) * 4;

		if (ihl < 20 || off + ihl > len)
			return;
		f[off + 14] ^= k;
		f[off + 18] ^= k;
		ip4_csum_set(f + off, ihl);
	} else if (type == 0x86dd && off + 40 <= len) {
		f[off + 8 + 13] ^= k;
		f[off + 24 + 13] ^= k;
	}
}

/*
 * GROUP.pcap holds the group's packets, repeated as distinct flows (mangle)
 * until there are about SUBSET_TARGET of them: a DPI reader's start-up costs
 * tens of milliseconds, which a few hundred packets could not be told from.
 * GROUP.x2.pcap is GROUP.pcap twice: the second half meets known flows.
 * all.pcap is every packet once, in capture order. Time is synthetic and
 * monotonic, 10 us apart: the captures' own clocks disagree.
 */
#define SUBSET_TARGET 10000
#define SUBSET_COPIES_MAX 64

static int write_subsets(struct bench *b, const char *dir)
{
	uint8_t frame[PKS_CAPTURE_FRAME_MAX];

	/* g == -1: every packet, in capture order ("all"). */
	for (int g = -1; g < G__COUNT; g++) {
		const char *name = g < 0 ? "all" : group_name(g);
		char path1[4096], path2[4096];
		uint64_t ts = 1600000000ull * 1000000;
		unsigned int copies = 1;
		FILE *f1, *f2;
		size_t n = 0;

		for (size_t i = 0; i < b->npk; i++)
			n += g < 0 || b->pk[i].group == g;
		if (!n)
			continue;
		if (g >= 0 && g != G_NOT_FLOW) {
			copies = (SUBSET_TARGET + n - 1) / n;
			if (copies > SUBSET_COPIES_MAX)
				copies = SUBSET_COPIES_MAX;
		}
		snprintf(path1, sizeof(path1), "%s/%s.pcap", dir, name);
		snprintf(path2, sizeof(path2), "%s/%s.x2.pcap", dir, name);
		f1 = fopen(path1, "w");
		f2 = fopen(path2, "w");
		if (!f1 || !f2 || pcap_header(f1) || pcap_header(f2)) {
			fprintf(stderr, "pktspec-bench: cannot write %s: %s\n", path1, strerror(errno));
			if (f1)
				fclose(f1);
			if (f2)
				fclose(f2);
			return -EIO;
		}
		for (int pass = 0; pass < 2; pass++) {
			for (unsigned int k = 0; k < copies; k++) {
				for (size_t i = 0; i < b->npk; i++) {
					const struct bpkt *p = &b->pk[i];
					uint32_t wire = p->wire_len > p->len ? p->wire_len : p->len;

					if (g >= 0 && p->group != g)
						continue;
					memcpy(frame, p->data, p->len);
					if (k)
						mangle(frame, p->len, k);
					if (pass == 0)
						pcap_record(f1, ts, frame, p->len, wire);
					pcap_record(f2, ts, frame, p->len, wire);
					ts += 10;
				}
			}
		}
		if (fclose(f1) | fclose(f2)) {
			fprintf(stderr, "pktspec-bench: cannot write subsets in %s\n", dir);
			return -EIO;
		}
	}
	return 0;
}

static const char testrun_help[] =
	"Usage: pktspec-bench testrun [--rounds R] [--repeat N] [--sample S] [--subsets DIR] [--json FILE]\n"
	"                             CAPTURE...\n"
	"  --rounds R   cold passes (median per packet) and warm runs per packet (default 7)\n"
	"  --repeat N   repeat count for the warm sample (default 1000)\n"
	"  --sample S   packets in the warm sample run with repeat = N (default 48, 0: none)\n"
	"  --subsets DIR  write each verdict group's packets as DIR/GROUP.pcap and GROUP.x2.pcap\n";

int bench_testrun(int argc, char **argv)
{
	static const struct option opts[] = { { "rounds", required_argument, NULL, 'r' },
					      { "repeat", required_argument, NULL, 'n' },
					      { "subsets", required_argument, NULL, 's' },
					      { "sample", required_argument, NULL, 'S' },
					      { "json", required_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	struct bench b = { .rounds = 7, .repeat = 1000 };
	unsigned long sample = 48;
	const char *subsets = NULL, *json = NULL;
	FILE *out = stdout;
	unsigned long v;
	double t0 = now_sec(), t_cold, t_warm = 0;
	struct jw w;
	int c, ret = PKS_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "r:n:s:S:j:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (pks_parse_uint(optarg, 64, &v) || !v)
				return (fprintf(stderr, "pktspec-bench: --rounds takes 1 to 64\n"), PKS_EXIT_USAGE);
			b.rounds = v;
			break;
		case 'n':
			if (pks_parse_uint(optarg, 1000000, &v) || !v)
				return (fprintf(stderr, "pktspec-bench: --repeat takes 1 to 1000000\n"), PKS_EXIT_USAGE);
			b.repeat = v;
			break;
		case 's':
			subsets = optarg;
			break;
		case 'S':
			if (pks_parse_uint(optarg, 100000, &sample))
				return (fprintf(stderr, "pktspec-bench: --sample takes 0 to 100000\n"), PKS_EXIT_USAGE);
			break;
		case 'j':
			json = optarg;
			break;
		case 'h':
			fputs(testrun_help, stdout);
			return PKS_EXIT_OK;
		default:
			fputs(testrun_help, stderr);
			return PKS_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(testrun_help, stderr);
		return PKS_EXIT_USAGE;
	}
	if (pks_need_caps("pktspec-bench testrun", PKS_NEED_LOAD | PKS_NEED_NET_ADMIN))
		return PKS_EXIT_FAIL;
	if (read_captures(&b, argv + optind, argc - optind))
		goto out;
	if (!b.npk) {
		pks_fail("no packet to run in the captures given");
		goto out;
	}
	if (load_programs(&b) || find_keys(&b))
		goto out;
	b.stride = sample ? (b.npk + sample - 1) / sample : 0;

	for (int r = 0; r < b.rounds; r++) {
		for (int i = 0; i < b.ncaps; i++) {
			struct bcap *cp = &b.caps[i];

			if (!cp->n)
				continue;
			if (cold_pass(&b, cp, r))
				goto out;
			if (r == b.rounds - 1) {
				double t = now_sec();

				if (warm_pass(&b, cp))
					goto out;
				t_warm += now_sec() - t;
			}
		}
	}
	t_cold = now_sec() - t0 - t_warm;
	for (size_t i = 0; i < b.npk; i++)
		for (int g = 0; g < P__COUNT; g++)
			b.pk[i].cold_ns[g] = median_u32(b.pk[i].cold + g, b.rounds, P__COUNT);

	if (subsets && write_subsets(&b, subsets))
		goto out;

	if (json && !(out = fopen(json, "w"))) {
		pks_fail("cannot write %s: %s", json, strerror(errno));
		out = stdout;
		goto out;
	}
	jw_init(&w, out);
	jw_obj(&w, NULL);
	jw_int(&w, "packets", (long long)b.npk);
	jw_int(&w, "rounds", b.rounds);
	jw_int(&w, "repeat", b.repeat);
	jw_int(&w, "repeat_sample", (long long)(b.stride ? (b.npk + b.stride - 1) / b.stride : 0));
	jw_num(&w, "seconds_cold", round(t_cold * 100) / 100);
	jw_num(&w, "seconds_warm", round(t_warm * 100) / 100);
	jw_arr(&w, "captures");
	for (int i = 0; i < b.ncaps; i++) {
		jw_obj(&w, NULL);
		jw_str(&w, "path", b.caps[i].path);
		jw_int(&w, "records", (long long)b.caps[i].records);
		jw_int(&w, "run", (long long)b.caps[i].n);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	/* The flows each table holds after the last capture's passes: record keeps every flow pktspec keeps. */
	jw_obj(&w, "flows_last_capture");
	jw_int(&w, "pktspec", count_flows(b.flows.fd4, b.flows.fd6));
	jw_int(&w, "record", count_flows(b.rec_fd4, b.rec_fd6));
	jw_obj_end(&w);
	write_phase(&w, "cold", &b, &(struct sel){ -1, -1 }, PH_COLD);
	write_phase(&w, "warm", &b, &(struct sel){ -1, -1 }, PH_WARM);
	write_phase(&w, "warm_repeat", &b, &(struct sel){ -1, -1 }, PH_REPEAT);
	jw_arr(&w, "by_reason");
	for (int r = 0; r < PKS_REASON__COUNT; r++) {
		size_t n = 0;

		for (size_t i = 0; i < b.npk; i++)
			n += b.pk[i].reason == r;
		if (!n)
			continue;
		jw_obj(&w, NULL);
		jw_str(&w, "reason", pks_reason_name(r));
		jw_int(&w, "packets", (long long)n);
		write_phase(&w, "cold", &b, &(struct sel){ -1, r }, PH_COLD);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_arr(&w, "by_proto");
	for (int g = 0; g < G__COUNT; g++) {
		size_t n = 0, flows = 0;

		for (size_t i = 0; i < b.npk; i++) {
			n += b.pk[i].group == g;
			flows += b.pk[i].group == g && b.pk[i].reason == PKS_REASON_NEW_FLOW;
		}
		if (!n)
			continue;
		jw_obj(&w, NULL);
		jw_str(&w, "proto", group_name(g));
		jw_int(&w, "packets", (long long)n);
		jw_int(&w, "flows", (long long)flows);
		write_phase(&w, "cold", &b, &(struct sel){ g, -1 }, PH_COLD);
		write_phase(&w, "warm", &b, &(struct sel){ g, -1 }, PH_WARM);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	ret = PKS_EXIT_OK;
out:
	if (out != stdout && fclose(out)) {
		pks_fail("cannot write %s", json);
		ret = PKS_EXIT_FAIL;
	}
	for (size_t i = 0; i < b.npk; i++) {
		free(b.pk[i].data);
		free(b.pk[i].cold);
	}
	free(b.pk);
	free(b.caps);
	bench_parse_bpf__destroy(b.parse);
	bench_pass_bpf__destroy(b.pass);
	pktspec_bpf__destroy(b.pks);
	return ret;
}

/* ---- verifier ---- */

static long verified_from_log(const char *log)
{
	const char *p = NULL, *q = log;
	long n = -1;

	/* The last "processed N insns" line is the whole program's. */
	while ((q = strstr(q, "processed ")) != NULL) {
		p = q;
		q++;
	}
	if (p && sscanf(p, "processed %ld insns", &n) == 1)
		return n;
	return -1;
}

static struct bpf_object *open_private(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_map *map;

	if (!obj)
		return NULL;
	bpf_object__for_each_map(map, obj) {
		enum bpf_map_type t = bpf_map__type(map);

		bpf_map__set_pin_path(map, NULL);
		if ((t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_LRU_HASH || t == BPF_MAP_TYPE_PERCPU_HASH ||
		     t == BPF_MAP_TYPE_LRU_PERCPU_HASH) &&
		    bpf_map__max_entries(map) > 1024)
			bpf_map__set_max_entries(map, 1024);
	}
	return obj;
}

#define LOADS 3
#define VLOG_SIZE (16 << 20)

int bench_verifier(int argc, char **argv)
{
	const char *json = NULL;
	FILE *out = stdout;
	struct jw w;
	int ret = PKS_EXIT_OK, i = 1;

	if (argc > 2 && !strcmp(argv[1], "--json")) {
		json = argv[2];
		i = 3;
	}
	if (i >= argc) {
		fputs("Usage: pktspec-bench verifier [--json FILE] OBJ...\n", stderr);
		return PKS_EXIT_USAGE;
	}
	if (pks_need_caps("pktspec-bench verifier", PKS_NEED_LOAD | PKS_NEED_NET_ADMIN))
		return PKS_EXIT_FAIL;
	if (json && !(out = fopen(json, "w")))
		return pks_fail("cannot write %s: %s", json, strerror(errno));
	jw_init(&w, out);
	jw_arr(&w, NULL);
	for (; i < argc; i++) {
		double times[LOADS];
		struct bpf_object *obj = NULL;
		struct bpf_program *prog;
		int err = 0;

		for (int l = 0; l < LOADS; l++) {
			double t;

			bpf_object__close(obj);
			obj = open_private(argv[i]);
			if (!obj) {
				err = -errno;
				break;
			}
			t = now_sec();
			err = bpf_object__load(obj);
			times[l] = (now_sec() - t) * 1000;
			if (err)
				break;
		}
		if (err) {
			pks_fail("cannot load %s: %s", argv[i], strerror(-err));
			bpf_object__close(obj);
			ret = PKS_EXIT_FAIL;
			continue;
		}
		jw_obj(&w, NULL);
		jw_str(&w, "object", argv[i]);
		jw_num(&w, "load_ms", round(summarize(times, LOADS).median * 100) / 100);
		jw_arr(&w, "programs");
		bpf_object__for_each_program(prog, obj) {
			struct bpf_prog_info info = {};
			__u32 len = sizeof(info);
			long verified = -1;
			const char *source = "prog_info";

			if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
				verified = info.verified_insns;
			if (verified <= 0) {
				/* Kernels before 5.16 have no verified_insns: ask the verifier's log. */
				struct bpf_object *o2 = open_private(argv[i]);
				char *log = calloc(1, VLOG_SIZE);
				struct bpf_program *p2 = o2 ? bpf_object__find_program_by_name(o2, bpf_program__name(prog)) : NULL;

				if (p2 && log) {
					bpf_program__set_log_level(p2, 1);
					bpf_program__set_log_buf(p2, log, VLOG_SIZE);
					if (!bpf_object__load(o2))
						verified = verified_from_log(log);
					source = "verifier_log";
				}
				bpf_object__close(o2);
				free(log);
			}
			jw_obj(&w, NULL);
			jw_str(&w, "name", bpf_program__name(prog));
			jw_int(&w, "verified_insns", verified);
			jw_str(&w, "verified_from", source);
			jw_int(&w, "xlated_insns", info.xlated_prog_len / 8);
			jw_int(&w, "jited_bytes", info.jited_prog_len);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		jw_obj_end(&w);
		bpf_object__close(obj);
	}
	jw_arr_end(&w);
	if (out != stdout && fclose(out))
		return pks_fail("cannot write %s", json);
	return ret;
}
