// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * The new-flow filter (bpf/fresh.h, --new-flow-filter) on the real XDP
 * object: a key it has not seen lately goes to insertion without a lookup;
 * a known flow it takes for a new one comes back from the insertion as
 * itself, with the same counters and verdict as without the filter; in
 * auto mode it turns on for a CPU only after a flood's worth of new flows
 * in one period, and off again two periods after the flood.
 *
 * The filter's on/off state and its flood count are per CPU, so each case
 * runs its packets on one CPU.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "pkt.h"
#include "pktspec.skel.h"

#define FRESH_PERIOD (1ull << PKS_FRESH_SHIFT)

/* A classifier of its own with this filter mode (and table), its clock at the start of a period. */
static int fresh_open(struct pks_env *env, unsigned int mode, enum pks_table_kind table)
{
	struct pks_load_opts lo = { .pinned = false, .max_flows = 65536, .fresh_mode = mode, .table = table };

	memset(env, 0, sizeof(*env));
	env->clock_ns = 1000 * FRESH_PERIOD;
	return pks_load(&lo, &env->skel);
}

static void fresh_close(struct pks_env *env)
{
	pktspec_bpf__destroy(env->skel);
	env->skel = NULL;
}

/* The calling thread on one CPU (the one it is on); *old keeps its mask. */
static int fresh_one_cpu(cpu_set_t *old)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	if (cpu < 0 || sched_getaffinity(0, sizeof(*old), old))
		return -1;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return sched_setaffinity(0, sizeof(one), &one);
}

static struct pks_stats fresh_stats(struct pks_env *env)
{
	struct pks_stats st = {};

	pks_stats_read(bpf_map__fd(env->skel->maps.pks_stats), &st);
	return st;
}

static const uint8_t dns_query[] = { 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
				     5,    'f',  'r',  'e',  's',  'h',  4,    't',  'e',  's',  't',  0,
				     0x00, 0x01, 0x00, 0x01 };
static const char http_get[] = "GET / HTTP/1.1\r\nHost: fresh.test\r\n\r\n";

/*
 * One DNS flow over IPv4, one HTTP flow over IPv6: a first packet, a second
 * 1 ms later, and each flow's next packet after a gap of `gap_ns`.
 */
static int fresh_script(struct pks_env *env, uint64_t gap_ns)
{
	struct pkt_spec q = PKT_UDP4("198.18.1.1", 40000, "198.18.0.2", 53);
	struct pkt_spec syn = PKT_TCP6("2001:db8::1", 41000, "2001:db8::2", 80, TCPF_SYN);
	struct pkt_spec synack = PKT_TCP6("2001:db8::2", 80, "2001:db8::1", 41000, TCPF_SYN | TCPF_ACK);
	struct pkt_spec get = PKT_TCP6("2001:db8::1", 41000, "2001:db8::2", 80, TCPF_ACK | TCPF_PSH);

	q.payload = dns_query;
	q.payload_len = sizeof(dns_query);
	get.payload = http_get;
	get.payload_len = sizeof(http_get) - 1;
	if (pks_env_run(env, &q) || pks_env_run(env, &syn) || pks_env_run(env, &q) || pks_env_run(env, &synack))
		return -1;
	env->clock_ns += gap_ns;
	return pks_env_run(env, &q) || pks_env_run(env, &get) ? -1 : 0;
}

static int fresh_views(struct pks_env *env, struct pks_flow_view v[2])
{
	struct pkt_spec q = PKT_UDP4("198.18.1.1", 40000, "198.18.0.2", 53);
	struct pkt_spec syn = PKT_TCP6("2001:db8::1", 41000, "2001:db8::2", 80, TCPF_SYN);

	return pks_env_flow(env, &q, &v[0]) || pks_env_flow(env, &syn, &v[1]) ? -1 : 0;
}

TEST(fresh_known_flow_taken_for_new_comes_back_as_itself)
{
	struct pks_env on, off;
	struct pks_flow_view von[2], voff[2];
	struct pks_stats st;
	cpu_set_t old;

	CHECK(fresh_one_cpu(&old) == 0);
	CHECK(fresh_open(&on, PKS_FRESH_ALWAYS, PKS_TABLE_DEFAULT) == 0);
	CHECK(fresh_open(&off, PKS_FRESH_NEVER, PKS_TABLE_DEFAULT) == 0);
	/* A gap of four periods: the filter no longer remembers either flow. */
	CHECK(fresh_script(&on, 4 * FRESH_PERIOD) == 0);
	CHECK(fresh_script(&off, 4 * FRESH_PERIOD) == 0);
	sched_setaffinity(0, sizeof(old), &old);

	st = fresh_stats(&on);
	/* Skipped: the two first packets, and the two after the gap, which found their flows. */
	CHECK_EQ(st.fresh_skipped, 4);
	CHECK_EQ(st.fresh_stale, 2);
	CHECK_EQ(st.flows_created, 2);
	CHECK_EQ(pks_stats_reasons(&st)[PKS_REASON_NEW_FLOW], 2);
	CHECK_EQ(fresh_stats(&off).fresh_skipped, 0);
	CHECK_EQ(pks_stats_reasons(&st)[PKS_REASON_NEW_FLOW],
		 pks_env_reason(&off, PKS_REASON_NEW_FLOW));
	for (int r = 0; r < PKS_REASON__COUNT; r++)
		CHECK_EQ(pks_env_reason(&on, r), pks_env_reason(&off, r));

	/* The same flows, counters and verdicts as with every packet looked up. */
	CHECK(fresh_views(&on, von) == 0);
	CHECK(fresh_views(&off, voff) == 0);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(von[i].packets[0], voff[i].packets[0]);
		CHECK_EQ(von[i].packets[1], voff[i].packets[1]);
		CHECK_EQ(von[i].bytes[0], voff[i].bytes[0]);
		CHECK_EQ(von[i].bytes[1], voff[i].bytes[1]);
		CHECK_EQ(von[i].first_ns, voff[i].first_ns);
		CHECK_EQ(von[i].last_ns, voff[i].last_ns);
		CHECK_EQ(von[i].proto, voff[i].proto);
		CHECK_EQ(von[i].confidence, voff[i].confidence);
		CHECK_EQ(von[i].rule, voff[i].rule);
		CHECK_EQ(von[i].flags, voff[i].flags);
	}
	CHECK_EQ(von[0].packets[0], 3);
	CHECK_EQ(von[1].packets[0] + von[1].packets[1], 3);
	CHECK_EQ(von[0].proto, PKS_P_DNS);
	CHECK_EQ(von[1].proto, PKS_P_HTTP);
	fresh_close(&on);
	fresh_close(&off);
}

TEST(fresh_remembers_a_flow_for_a_period)
{
	struct pks_env env;
	struct pks_stats st;
	cpu_set_t old;

	CHECK(fresh_one_cpu(&old) == 0);
	CHECK(fresh_open(&env, PKS_FRESH_ALWAYS, PKS_TABLE_DEFAULT) == 0);
	/* Within the next period the slot still answers: the later packets are looked up. */
	CHECK(fresh_script(&env, FRESH_PERIOD) == 0);
	sched_setaffinity(0, sizeof(old), &old);
	st = fresh_stats(&env);
	CHECK_EQ(st.fresh_skipped, 2);
	CHECK_EQ(st.fresh_stale, 0);
	CHECK_EQ(st.flows_created, 2);
	fresh_close(&env);
}

/* n new UDP flows (from base), all at the same time. */
static int fresh_flood(struct pks_env *env, int base, int n)
{
	for (int i = base; i < base + n; i++) {
		char src[24];
		struct pkt_spec s;

		snprintf(src, sizeof(src), "198.19.%d.%d", i / 250 % 250, i % 250 + 1);
		s = (struct pkt_spec)PKT_UDP4(src, 1024 + i / 62500, "198.18.0.2", 40000);
		env->clock_ns -= 1000000; /* pks_env_run moves the clock 1 ms on: keep it */
		if (pks_env_run(env, &s))
			return -1;
	}
	return 0;
}

TEST(fresh_auto_turns_on_for_a_flood_and_off_after_it)
{
	struct pks_env env;
	cpu_set_t old;

	CHECK(fresh_one_cpu(&old) == 0);
	CHECK(fresh_open(&env, PKS_FRESH_AUTO, PKS_TABLE_DEFAULT) == 0);
	/* One short of the flood's count in one period: still off. */
	CHECK(fresh_flood(&env, 0, PKS_FRESH_NEW_DEFAULT - 1) == 0);
	CHECK_EQ(fresh_stats(&env).fresh_skipped, 0);
	/* The count reached: on from the next new flow. */
	CHECK(fresh_flood(&env, PKS_FRESH_NEW_DEFAULT - 1, 1) == 0);
	CHECK_EQ(fresh_stats(&env).fresh_skipped, 0);
	CHECK(fresh_flood(&env, PKS_FRESH_NEW_DEFAULT, 10) == 0);
	CHECK_EQ(fresh_stats(&env).fresh_skipped, 10);
	/* Still on two periods later, with no more flood... */
	env.clock_ns += 2 * FRESH_PERIOD;
	CHECK(fresh_flood(&env, PKS_FRESH_NEW_DEFAULT + 10, 1) == 0);
	CHECK_EQ(fresh_stats(&env).fresh_skipped, 11);
	/* ...and off in the third. */
	env.clock_ns += FRESH_PERIOD;
	CHECK(fresh_flood(&env, PKS_FRESH_NEW_DEFAULT + 11, 5) == 0);
	sched_setaffinity(0, sizeof(old), &old);
	CHECK_EQ(fresh_stats(&env).fresh_skipped, 11);
	CHECK_EQ(fresh_stats(&env).flows_created, PKS_FRESH_NEW_DEFAULT + 16);
	CHECK_EQ(pks_env_flow_count(&env), PKS_FRESH_NEW_DEFAULT + 16);
	fresh_close(&env);
}

TEST(fresh_never_looks_every_packet_up)
{
	struct pks_env env;
	cpu_set_t old;

	CHECK(fresh_one_cpu(&old) == 0);
	CHECK(fresh_open(&env, PKS_FRESH_NEVER, PKS_TABLE_DEFAULT) == 0);
	CHECK(fresh_flood(&env, 0, PKS_FRESH_NEW_DEFAULT + 10) == 0);
	CHECK(fresh_script(&env, 4 * FRESH_PERIOD) == 0);
	sched_setaffinity(0, sizeof(old), &old);
	CHECK_EQ(fresh_stats(&env).fresh_skipped, 0);
	CHECK_EQ(fresh_stats(&env).flows_created, PKS_FRESH_NEW_DEFAULT + 12);
	fresh_close(&env);
}

/* The array table's miss reads the bucket its insertion reads anyway: its IPv4 flows are always looked up. */
TEST(fresh_not_in_front_of_the_array_table)
{
	struct pks_env env;
	struct pks_stats st;
	cpu_set_t old;

	CHECK(fresh_one_cpu(&old) == 0);
	CHECK(fresh_open(&env, PKS_FRESH_ALWAYS, PKS_TABLE_ARRAY) == 0);
	CHECK(fresh_script(&env, 4 * FRESH_PERIOD) == 0);
	sched_setaffinity(0, sizeof(old), &old);
	st = fresh_stats(&env);
	/* Only the IPv6 flow, in pks_flows: its first packet and the one after the gap. */
	CHECK_EQ(st.fresh_skipped, 2);
	CHECK_EQ(st.fresh_stale, 1);
	CHECK_EQ(st.flows_created, 2);
	fresh_close(&env);
}

/* A flow that keeps speaking while the filter is on is looked up every time, however long it lasts. */
TEST(fresh_flow_seen_keeps_its_slot)
{
	struct pkt_spec q = PKT_UDP4("198.18.1.1", 40000, "198.18.0.2", 53);
	struct pks_env env;
	struct pks_stats st;
	cpu_set_t old;

	q.payload = dns_query;
	q.payload_len = sizeof(dns_query);
	CHECK(fresh_one_cpu(&old) == 0);
	CHECK(fresh_open(&env, PKS_FRESH_ALWAYS, PKS_TABLE_DEFAULT) == 0);
	for (int i = 0; i < 12; i++) {
		CHECK(pks_env_run(&env, &q) == 0);
		env.clock_ns += FRESH_PERIOD / 2;
	}
	sched_setaffinity(0, sizeof(old), &old);
	st = fresh_stats(&env);
	CHECK_EQ(st.fresh_skipped, 1);
	CHECK_EQ(st.fresh_stale, 0);
	fresh_close(&env);
}
