// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * The daemon's side of the lookup filter (user/filter.c): which bits it sets
 * and when it clears them, read back through the map as the kernel reads it.
 * That the kernel skips a lookup on a clear bit is in test_ctx_dns.c and
 * test_evict.c (..._gated_by_filter).
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "pkt.h"
#include "filter.h"
#include "pktspec/events.h"
#include "pktspec.skel.h"

#define SEC_NS 1000000000ull

static int filter_fd(struct pks_env *env)
{
	return bpf_map__fd(env->skel->maps.pks_filter);
}

/* pks_restore's part: the bit stays while any flow of its slot is out. */
TEST(filter_counted_bit_follows_the_count)
{
	struct pks_filter_part p;
	struct pks_env env;

	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_filter_part_open(&p, filter_fd(&env), PKS_FILTER_RESTORE, true, -1, 0, 0), 0);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_RESTORE, 77), 0);
	pks_filter_part_inc(&p, 77);
	pks_filter_part_inc(&p, 77);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_RESTORE, 77), 1);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_SERVERS, 77), 0); /* another table's bit */
	pks_filter_part_dec(&p, 77);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_RESTORE, 77), 1);
	pks_filter_part_dec(&p, 77);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_RESTORE, 77), 0);
	/* One fewer than none is none: a later one sets it again. */
	pks_filter_part_dec(&p, 77);
	pks_filter_part_inc(&p, 77);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_RESTORE, 77), 1);
	pks_filter_part_inc(&p, PKS_FILTER_SLOTS - 1);
	pks_filter_part_clear(&p);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_RESTORE, 77), 0);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_RESTORE, PKS_FILTER_SLOTS - 1), 0);
	pks_filter_part_inc(&p, 77);
	pks_filter_part_dec(&p, 77);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_RESTORE, 77), 0);
	pks_filter_part_close(&p);
	pks_env_close(&env);
}

/* pks_servers' and pks_hosts' parts: a slot's bit goes only once its latest entry has expired, never before. */
TEST(filter_expiring_bit_outlives_the_latest_entry)
{
	struct pks_filter_part p;
	struct pks_env env;

	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_filter_part_open(&p, filter_fd(&env), PKS_FILTER_HOSTS, false, -1, 0, 0), 0);
	pks_filter_part_until(&p, 5, 100 * SEC_NS);
	pks_filter_part_until(&p, 5, 200 * SEC_NS);
	pks_filter_part_until(&p, 6, 50 * SEC_NS);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_HOSTS, 5), 1);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_HOSTS, 6), 1);
	pks_filter_part_sweep(&p, 50 * SEC_NS); /* 6 expires now: the kernel's clock may lag, it stays */
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_HOSTS, 6), 1);
	pks_filter_part_sweep(&p, 150 * SEC_NS);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_HOSTS, 6), 0);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_HOSTS, 5), 1); /* its first entry is dead, its second is not */
	pks_filter_part_sweep(&p, 200 * SEC_NS);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_HOSTS, 5), 1);
	pks_filter_part_sweep(&p, 204 * SEC_NS);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_HOSTS, 5), 0);
	/* An entry that never expires (~0) keeps its bit, however late the sweep. */
	pks_filter_part_until(&p, 7, ~0ull);
	pks_filter_part_sweep(&p, 1000000 * SEC_NS);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_HOSTS, 7), 1);
	pks_filter_part_close(&p);
	pks_env_close(&env);
}

/*
 * A daemon starting on pinned maps: the entries an earlier one wrote keep
 * their bits (the live one's), the dead ones' and stray bits go.
 */
TEST(filter_adopts_what_the_table_holds)
{
	struct pks_host_key live = {}, dead = {};
	struct pks_host v = { .expires_ns = 100 * SEC_NS };
	struct pks_filter_part p;
	struct pks_env env;
	uint32_t sl, sd;
	int hosts;

	CHECK(pks_env_open(&env) == 0);
	hosts = bpf_map__fd(env.skel->maps.pks_hosts);
	live.addr[10] = live.addr[11] = dead.addr[10] = dead.addr[11] = 0xff;
	inet_pton(AF_INET, "198.18.0.2", live.addr + 12);
	inet_pton(AF_INET, "198.18.0.3", dead.addr + 12);
	sl = PKS_FILTER_SLOT_OF(&live);
	sd = PKS_FILTER_SLOT_OF(&dead);
	CHECK(sl != sd && sl != 9 && sd != 9);
	CHECK_EQ(bpf_map_update_elem(hosts, &live, &v, BPF_ANY), 0);
	v.expires_ns = 10 * SEC_NS;
	CHECK_EQ(bpf_map_update_elem(hosts, &dead, &v, BPF_ANY), 0);
	/* An earlier daemon's bits: the dead entry's and a stray one. */
	CHECK_EQ(pks_filter_part_open(&p, filter_fd(&env), PKS_FILTER_HOSTS, false, -1, 0, 0), 0);
	pks_filter_part_until(&p, sd, 10 * SEC_NS);
	pks_filter_part_until(&p, 9, 1000 * SEC_NS);
	pks_filter_part_close(&p);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_HOSTS, 9), 1);
	CHECK_EQ(pks_filter_part_open(&p, filter_fd(&env), PKS_FILTER_HOSTS, false, hosts, sizeof(live), 50 * SEC_NS),
		 0);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_HOSTS, sl), 1);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_HOSTS, sd), 0);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_HOSTS, 9), 0);
	/* The adopted entry's expiry is kept: the sweep after it clears its bit. */
	pks_filter_part_sweep(&p, 99 * SEC_NS);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_HOSTS, sl), 1);
	pks_filter_part_sweep(&p, 104 * SEC_NS);
	CHECK_EQ(pks_env_filter_bit(&env, PKS_FILTER_HOSTS, sl), 0);
	pks_filter_part_close(&p);
	pks_env_close(&env);
}

/* A map that is not the filter (another build's pin) is refused, not written over. */
TEST(filter_refuses_another_map)
{
	struct pks_filter_part p;
	struct pks_env env;

	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_filter_part_open(&p, bpf_map__fd(env.skel->maps.pks_ctl), PKS_FILTER_HOSTS, false, -1, 0, 0),
		 -EINVAL);
	CHECK(p.bits == NULL);
	pks_filter_part_until(&p, 1, SEC_NS); /* a part without a filter does nothing */
	pks_env_close(&env);
}
