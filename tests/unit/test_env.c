// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * The test environment itself (pkt.c): one object per process, reset between
 * cases. env_reset_1_leaves_state fills every table of the object and returns
 * without closing it, as a failed CHECK would; env_reset_2_sees_none, the next
 * case, gets the same object back and must find it as a fresh load leaves it.
 */
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "pkt.h"
#include "pktspec/events.h"
#include "pktspec.skel.h"

static struct pktspec_bpf *left_behind;

static int is_hash(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_LRU_HASH || t == BPF_MAP_TYPE_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH || t == BPF_MAP_TYPE_LPM_TRIE;
}

static int is_array(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY;
}

/* Bytes of one lookup of the map (per-CPU maps: every CPU's copy). */
static size_t value_bytes(const struct bpf_map *map)
{
	enum bpf_map_type t = bpf_map__type(map);

	if (t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH)
		return (bpf_map__value_size(map) + 7) / 8 * 8 * libbpf_num_possible_cpus();
	return bpf_map__value_size(map);
}


static int ring_count(void *ctx, void *data, size_t size)
{
	(void)data, (void)size;
	(*(long *)ctx)++;
	return 0;
}

/* Records in the event ring, consumed. */
static long ring_records(struct pktspec_bpf *skel)
{
	long n = 0;
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(skel->maps.pks_events), ring_count, &n, NULL);

	if (!rb)
		return -1;
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return n;
}

TEST(env_reset_1_leaves_state)
{
	struct pks_env env;
	struct pks_ctl on = { .consumer = 1 };
	struct pkt_spec s4 = PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 80, TCPF_SYN);
	struct pkt_spec s6 = PKT_UDP6("2001:db8::1", 40001, "2001:db8::2", 53);
	struct bpf_map *map;
	__u32 engine = PKS_CTL_ENGINE;
	int filled = 0;

	CHECK_EQ(pks_env_open(&env), 0);
	left_behind = env.skel;
	/* An engine is listening: new flows send events into the ring. */
	CHECK_EQ(bpf_map_update_elem(bpf_map__fd(env.skel->maps.pks_ctl), &engine, &on, BPF_ANY), 0);
	s6.payload = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00";
	s6.payload_len = 12;
	CHECK_EQ(pks_env_run(&env, &s4), 0);
	CHECK_EQ(pks_env_run(&env, &s6), 0);
	/* Every other table gets an entry too: a key of zeroes, a value of ones. */
	bpf_object__for_each_map(map, env.skel->obj) {
		enum bpf_map_type t = bpf_map__type(map);
		size_t vb = value_bytes(map);
		uint8_t *key = calloc(1, bpf_map__key_size(map) + 1), *val = malloc(vb);
		int err = 0;

		if (!key || !val) {
			free(key);
			free(val);
			CHECK(!"out of memory");
		}
		memset(val, 1, vb);
		if (bpf_map__map_flags(map) & BPF_F_RDONLY_PROG)
			; /* .rodata: the same configuration for every case */
		else if (is_array(t) || (is_hash(t) && pks_map_count(bpf_map__fd(map), bpf_map__key_size(map)) == 0))
			err = bpf_map_update_elem(bpf_map__fd(map), key, val, BPF_ANY) ? -errno : 1;
		free(key);
		free(val);
		if (err < 0)
			pks_test_fail(__FILE__, __LINE__, "cannot write into %s: %s", bpf_map__name(map), strerror(-err));
		CHECK(err >= 0);
		filled += err;
	}
	CHECK(filled > 10);
	/* The state is there ... */
	CHECK_EQ(pks_env_flow_count(&env), 2);
	CHECK(pks_env_reason(&env, PKS_REASON_NEW_FLOW) >= 2);
	/* ... and this case ends without pks_env_close(), as one whose CHECK failed. */
}

TEST(env_reset_2_sees_none)
{
	struct pks_env env;
	struct pkt_spec s4 = PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 80, TCPF_SYN);
	struct pks_flow_view f;
	struct bpf_map *map;
	int checked = 0;

	CHECK_EQ(pks_env_open(&env), 0);
	/* The same object back (when the previous case ran in this process): reset, not reloaded. */
	if (left_behind)
		CHECK(env.skel == left_behind);
	CHECK_EQ(pks_env_flow_count(&env), 0);
	CHECK_EQ(pks_env_flow(&env, &s4, &f), -ENOENT);
	for (int r = 0; r < PKS_REASON__COUNT; r++)
		CHECK_EQ(pks_env_reason(&env, r), 0);
	CHECK_EQ(ring_records(env.skel), 0);
	bpf_object__for_each_map(map, env.skel->obj) {
		enum bpf_map_type t = bpf_map__type(map);
		int fd = bpf_map__fd(map);

		if (bpf_map__map_flags(map) & BPF_F_RDONLY_PROG)
			continue;
		if (is_hash(t)) {
			long n = pks_map_count(fd, bpf_map__key_size(map));

			if (n != 0)
				pks_test_fail(__FILE__, __LINE__, "%s has %ld entries", bpf_map__name(map), n);
			CHECK_EQ(n, 0);
			checked++;
		} else if (is_array(t) && !strstr(bpf_map__name(map), ".data")) {
			/* Arrays and .bss start as zeroes (.data would start as its initial values). */
			size_t vb = value_bytes(map);
			uint8_t *val = malloc(vb);
			int dirty = !val;

			for (__u32 i = 0; !dirty && i < bpf_map__max_entries(map); i++) {
				if (bpf_map_lookup_elem(fd, &i, val)) {
					dirty = 1;
					break;
				}
				for (size_t b = 0; b < vb; b++)
					dirty |= val[b] != 0;
				if (dirty)
					pks_test_fail(__FILE__, __LINE__, "%s[%u] is not zero", bpf_map__name(map), i);
			}
			free(val);
			CHECK(!dirty);
			checked++;
		}
	}
	CHECK(checked > 10);
	/* And it behaves as a fresh load: one new flow, counted once. */
	CHECK_EQ(pks_env_run(&env, &s4), 0);
	CHECK_EQ(pks_env_flow_count(&env), 1);
	CHECK_EQ(pks_env_reason(&env, PKS_REASON_NEW_FLOW), 1);
	CHECK_EQ(ring_records(env.skel), 0); /* no engine listens any more */
	pks_env_close(&env);
}

/* Two environments open at once are two objects: neither sees the other's flows. */
TEST(env_two_at_once_are_separate)
{
	struct pks_env a, b;
	struct pkt_spec s4 = PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 80, TCPF_SYN);

	CHECK_EQ(pks_env_open(&a), 0);
	CHECK_EQ(pks_env_open(&b), 0);
	CHECK(a.skel != b.skel);
	CHECK_EQ(pks_env_run(&a, &s4), 0);
	CHECK_EQ(pks_env_flow_count(&a), 1);
	CHECK_EQ(pks_env_flow_count(&b), 0);
	pks_env_close(&b);
	pks_env_close(&a);
	/* The shared one comes back clean. */
	CHECK_EQ(pks_env_open(&a), 0);
	CHECK_EQ(pks_env_flow_count(&a), 0);
	pks_env_close(&a);
}
