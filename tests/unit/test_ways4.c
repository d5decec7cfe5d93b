// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * The array table of plain IPv4 flows (bpf/ways4.h, --flow-table array) on
 * the real XDP object: flows that share a bucket, the victim when it is full,
 * the CLI's reads, write-backs and deletes in place, and insertions from two
 * CPUs at once into the same few buckets, after which every way must hold a
 * value that belongs to its key.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "pkt.h"
#include "pktspec.skel.h"
#include "pktspec/flow_key.h"
#include "lifecycle.h"

#define W4_FLOWS 1024 /* --max-flows: 512 buckets */

static int w4_open(struct pks_env *env, struct pks_flowtab *t)
{
	struct pks_load_opts lo = { .pinned = false, .max_flows = W4_FLOWS, .table = PKS_TABLE_ARRAY, .replay = true };

	memset(env, 0, sizeof(*env));
	env->clock_ns = 1000000000ull;
	if (pks_load(&lo, &env->skel))
		return -1;
	if (pks_flowtab_for_skel(t, env->skel, true))
		return -1;
	return t->ways ? 0 : -1;
}

static char w4_src[64][24];

/* UDP flow i: 198.18.1.(i % 250 + 1):port -> 198.18.0.2:9999. */
static struct pkt_spec w4_pkt(int i, uint16_t port)
{
	snprintf(w4_src[i % 64], sizeof(w4_src[0]), "198.18.1.%d", i % 250 + 1);
	return (struct pkt_spec)PKT_UDP4(w4_src[i % 64], port, "198.18.0.2", 9999);
}

static __u32 w4_bucket_of(const struct pkt_spec *s, __u32 buckets)
{
	struct pks_flow_key4 k;
	struct in_addr a, b;

	inet_pton(AF_INET, s->src, &a);
	inet_pton(AF_INET, s->dst, &b);
	pks_flow_key4_fill(&k, a.s_addr, s->sport, b.s_addr, s->dport, s->l4);
	return pks_ways4_bucket(pks_ways4_hash(&k), buckets);
}

/* n client ports whose flows (client 0) share one bucket. */
static __u32 w4_same_bucket(__u32 buckets, uint16_t *ports, int n)
{
	struct pkt_spec s = w4_pkt(0, 20000);
	__u32 want = w4_bucket_of(&s, buckets);
	int got = 0;

	ports[got++] = 20000;
	for (uint16_t p = 20001; got < n && p < 60000; p++) {
		s = w4_pkt(0, p);
		if (w4_bucket_of(&s, buckets) == want)
			ports[got++] = p;
	}
	return got == n ? want : ~0u;
}

TEST(ways4_full_bucket_evicts_the_quietest_flow)
{
	struct pks_env env;
	struct pks_flowtab t;
	struct pks_flow_view v;
	uint16_t ports[PKS_WAYS4 + 1];
	__u64 entries, cap;

	CHECK(w4_open(&env, &t) == 0);
	CHECK_EQ(t.buckets, pks_ways4_buckets_for(W4_FLOWS));
	CHECK(w4_same_bucket(t.buckets, ports, PKS_WAYS4 + 1) != ~0u);
	/* Four flows fill the bucket, 10 ms apart (each tick is about 1 ms). */
	for (int i = 0; i < PKS_WAYS4; i++) {
		struct pkt_spec s = w4_pkt(0, ports[i]);

		env.clock_ns += 10000000;
		CHECK(pks_env_run(&env, &s) == 0);
	}
	/* The first speaks again: the second is now the quietest. */
	{
		struct pkt_spec s = w4_pkt(0, ports[0]);

		env.clock_ns += 10000000;
		CHECK(pks_env_run(&env, &s) == 0);
	}
	for (int i = 0; i < PKS_WAYS4; i++) {
		struct pkt_spec s = w4_pkt(0, ports[i]);

		CHECK(pks_env_flow(&env, &s, &v) == 0);
		CHECK_EQ(v.packets[PKS_DIR_C2S], i == 0 ? 2u : 1u);
	}
	{
		struct pkt_spec s = w4_pkt(0, ports[PKS_WAYS4]);

		env.clock_ns += 10000000;
		CHECK(pks_env_run(&env, &s) == 0);
		CHECK(pks_env_flow(&env, &s, &v) == 0);
	}
	for (int i = 0; i < PKS_WAYS4; i++) {
		struct pkt_spec s = w4_pkt(0, ports[i]);

		CHECK_EQ(pks_env_flow(&env, &s, &v) == 0, i != 1);
	}
	CHECK(pks_flowtab_fill(&t, &entries, &cap) == 0);
	CHECK_EQ(entries, (__u64)PKS_WAYS4);
	CHECK_EQ(cap, (__u64)t.buckets * PKS_WAYS4 + bpf_map__max_entries(env.skel->maps.pks_flows));
	/* Created 5, in the table 4: the eviction shows in the kernel-side count. */
	CHECK_EQ(pks_env_flow_count(&env), PKS_WAYS4);
	{
		struct pks_evictions ev;

		CHECK(pks_evictions_read(bpf_map__fd(env.skel->maps.pks_stats), bpf_map__fd(env.skel->maps.pks_ledger),
					 &t, &ev) == 0);
		CHECK_EQ(ev.created, (uint64_t)PKS_WAYS4 + 1);
		CHECK_EQ(ev.evicted, 1);
	}
	pks_flowtab_close(&t);
	pks_env_close(&env);
}

TEST(ways4_cli_reads_writes_back_and_deletes_in_place)
{
	struct pks_env env;
	struct pks_flowtab t;
	struct pks_flow_view v;
	struct pks_flow_key k;
	struct pks_flow f;
	uint8_t a[16] = { [10] = 0xff, [11] = 0xff }, b[16] = { [10] = 0xff, [11] = 0xff };
	struct pkt_spec s = w4_pkt(3, 41000);
	static const char query[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05"
				    "bench\x04"
				    "test\x00\x00\x01\x00\x01";

	CHECK(w4_open(&env, &t) == 0);
	s = (struct pkt_spec)PKT_UDP4("198.18.1.4", 41000, "198.18.0.2", 53);
	s.payload = query;
	s.payload_len = sizeof(query) - 1;
	CHECK(pks_env_run(&env, &s) == 0);
	inet_pton(AF_INET, "198.18.1.4", a + 12);
	inet_pton(AF_INET, "198.18.0.2", b + 12);
	pks_flow_key_fill(&k, a, 41000, b, 53, 17);
	CHECK(pks_flowtab_get(&t, &k, &v) == 0);
	CHECK_EQ(v.proto, PKS_P_DNS);
	/* Nothing reaches the LRU hash: IPv4 flows are in the array. */
	{
		struct pks_flow_key4 k4, next;

		pks_flow_key_to4(&k, &k4);
		CHECK(bpf_map_get_next_key(bpf_map__fd(env.skel->maps.pks_flows4), NULL, &next) != 0);
	}
	/* The daemon's write-back of an app, in place. */
	CHECK_EQ(pks_flowtab_set_app(&t, &k, 42, -1), 1);
	CHECK(pks_flowtab_get(&t, &k, &v) == 0);
	CHECK_EQ(v.app, 42);
	CHECK_EQ(v.proto, PKS_P_DNS);
	/* User space never inserts into the array. */
	CHECK(pks_flowtab_get_raw(&t, &k, &f) == 0);
	CHECK_EQ(pks_flowtab_put_raw(&t, &k, &f, BPF_NOEXIST), -EOPNOTSUPP);
	/* A delete frees the way; a second one finds nothing; so does a write-back. */
	CHECK_EQ(pks_flowtab_del(&t, &k), 0);
	CHECK_EQ(pks_flowtab_del(&t, &k), -ENOENT);
	CHECK_EQ(pks_flowtab_get(&t, &k, &v), -ENOENT);
	CHECK_EQ(pks_flowtab_put_raw(&t, &k, &f, BPF_EXIST), -ENOENT);
	CHECK_EQ(pks_env_flow_count(&env), 0);
	/* The flow's next packet makes it anew, in a free way of its bucket. */
	CHECK(pks_env_run(&env, &s) == 0);
	CHECK(pks_flowtab_get(&t, &k, &v) == 0);
	CHECK_EQ(v.packets[PKS_DIR_C2S], 1u);
	CHECK_EQ(v.app, 0);
	pks_flowtab_close(&t);
	pks_env_close(&env);
}

/*
 * Two threads, each on its own CPU, run new UDP flows through the program
 * at once, all in the same 8 buckets, so that insertions meet under the
 * same locks and evict each other, while a third reads the table. Flow i's
 * frames are 42 + i bytes: a way whose value is not its key's (written to
 * the wrong way, or torn between two insertions) shows as bytes that are
 * not packets x (42 + i). What this cannot do is meet the lock's race on
 * demand: a test run's system call is a hundred times longer than an
 * insertion's stores, and a build without the lock passed it five times
 * out of five. The lock's part rests on bpf/ways4.h's design.
 */
#define W4_THREADS 2
#define W4_PER_THREAD 96
#define W4_ROUNDS 200

struct w4_thread {
	int prog_fd, cpu, base;
	uint16_t *ports;
	int err;
};

static void *w4_run(void *arg)
{
	struct w4_thread *th = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(th->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	for (int r = 0; r < W4_ROUNDS && !th->err; r++) {
		for (int j = 0; j < W4_PER_THREAD; j++) {
			int i = th->base + j;
			struct pkt_spec s = PKT_UDP4("198.18.1.1", th->ports[i], "198.18.0.2", 9999);
			static const uint8_t zeros[256];
			uint8_t frame[512];
			size_t len;
			LIBBPF_OPTS(bpf_test_run_opts, o, .repeat = 1);

			s.payload = zeros;
			s.payload_len = (size_t)i;
			len = pkt_build(&s, frame, sizeof(frame));
			o.data_in = frame;
			o.data_size_in = (__u32)len;
			if (!len || bpf_prog_test_run_opts(th->prog_fd, &o) || o.retval != 2)
				th->err = -1;
		}
	}
	return NULL;
}

/* Whether flow i (-1: not one of the test's) has packets x (42 + i) bytes, and a packet at least. */
static bool w4_bytes_right(__u64 packets, __u64 bytes, int i)
{
	return i >= 0 && packets >= 1 && bytes == packets * (__u64)(42 + i);
}

/*
 * Whether flow i's entry stays wrong: a copy taken while its packet counted
 * (packets and bytes are two stores) is read again until it settles; an
 * entry gone meanwhile is not wrong.
 */
static int w4_settled_wrong(const struct pks_flowtab *t, const struct pks_flow_key *k, int i)
{
	for (int tries = 0; tries < 100; tries++) {
		struct pks_flow f;

		if (pks_flowtab_get_raw(t, k, &f))
			return 0;
		if (w4_bytes_right((__u64)f.packets[PKS_DIR_C2S] + f.packets[PKS_DIR_S2C],
				   f.bytes[PKS_DIR_C2S] + f.bytes[PKS_DIR_S2C], i))
			return 0;
		usleep(10);
	}
	return 1;
}

/* Flows in the table whose bytes are not packets x (42 + i) for good; -1 when it cannot be read. */
static int w4_torn(const struct pks_flowtab *t, const uint16_t *ports, int n)
{
	struct pks_flow_set set;
	int torn = 0;

	if (pks_flows_read(t, &set))
		return -1;
	for (size_t r = 0; r < set.n; r++) {
		const struct pks_flow_rec *rec = &set.recs[r];
		__u16 cport = rec->key.port_a == 9999 ? rec->key.port_b : rec->key.port_a;
		int i = -1;

		for (int j = 0; j < n; j++)
			if (ports[j] == cport)
				i = j;
		if (!w4_bytes_right((__u64)rec->val.packets[PKS_DIR_C2S] + rec->val.packets[PKS_DIR_S2C],
				    rec->val.bytes[PKS_DIR_C2S] + rec->val.bytes[PKS_DIR_S2C], i))
			torn += w4_settled_wrong(t, &rec->key, i);
	}
	pks_flows_free(&set);
	return torn;
}

struct w4_reader {
	const struct pks_flowtab *t;
	const uint16_t *ports;
	int n, torn, reads;
	volatile int stop;
};

/* Reads the table over and over while the writers run: a torn way is caught while it lives, not only at the end. */
static void *w4_read(void *arg)
{
	struct w4_reader *rd = arg;

	while (!rd->stop) {
		int t = w4_torn(rd->t, rd->ports, rd->n);

		if (t)
			rd->torn += t < 0 ? 1 : t;
		rd->reads++;
	}
	return NULL;
}

TEST(ways4_concurrent_insertions_never_tear_a_way)
{
	struct w4_reader rd = { 0 };
	pthread_t rtid;
	struct w4_thread th[W4_THREADS];
	pthread_t tid[W4_THREADS];
	uint16_t *ports = calloc(W4_THREADS * W4_PER_THREAD, sizeof(*ports));
	struct pks_env env;
	struct pks_flowtab t;
	struct pks_flow_set set;
	__u32 buckets[8];
	int n = 0, ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);

	CHECK(ports != NULL);
	CHECK(w4_open(&env, &t) == 0);
	/* Client ports whose flows fall into 8 buckets: 192 flows for 32 ways. */
	for (int b = 0; b < 8; b++) {
		struct pkt_spec s = PKT_UDP4("198.18.1.1", (uint16_t)(1024 + b), "198.18.0.2", 9999);

		buckets[b] = w4_bucket_of(&s, t.buckets);
	}
	for (uint16_t p = 1024; n < W4_THREADS * W4_PER_THREAD && p < 65535; p++) {
		struct pkt_spec s = PKT_UDP4("198.18.1.1", p, "198.18.0.2", 9999);
		__u32 bk = w4_bucket_of(&s, t.buckets);

		for (int b = 0; b < 8; b++)
			if (bk == buckets[b]) {
				ports[n++] = p;
				break;
			}
	}
	CHECK_EQ(n, W4_THREADS * W4_PER_THREAD);
	rd = (struct w4_reader){ .t = &t, .ports = ports, .n = n };
	CHECK(pthread_create(&rtid, NULL, w4_read, &rd) == 0);
	for (int i = 0; i < W4_THREADS; i++) {
		th[i] = (struct w4_thread){ .prog_fd = bpf_program__fd(env.skel->progs.pks_xdp),
					    .cpu = i % (ncpu > 0 ? ncpu : 1), .base = i * W4_PER_THREAD, .ports = ports };
		CHECK(pthread_create(&tid[i], NULL, w4_run, &th[i]) == 0);
	}
	for (int i = 0; i < W4_THREADS; i++)
		pthread_join(tid[i], NULL);
	rd.stop = 1;
	pthread_join(rtid, NULL);
	for (int i = 0; i < W4_THREADS; i++)
		CHECK_EQ(th[i].err, 0);
	CHECK(rd.reads > 0);
	CHECK_EQ(rd.torn, 0);
	CHECK_EQ(w4_torn(&t, ports, n), 0);
	CHECK(pks_flows_read(&t, &set) == 0);
	CHECK(set.n > 0 && set.n <= 8 * PKS_WAYS4);
	pks_flows_free(&set);
	free(ports);
	pks_flowtab_close(&t);
	pks_env_close(&env);
}
