// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Two CPUs meeting one new flow at once (doc/design.md, "Stages"): a
 * new flow's entry is inserted by pks_track, or by pks_verdict when the
 * signatures read its first payload, and another CPU may have inserted the
 * same key between the entry's lookup and that insertion. The insertion then
 * gets -EEXIST, and the packet must become one more of the other CPU's entry:
 * counted into it once, inspected against it, no second entry and no
 * creation counted. A test run has one CPU, so the fixture
 * tests/unit/race.bpf.c plays the other: put in a slot of the tail-call
 * table, it inserts the flow just before the stage that inserts it.
 * Each case runs on both flow tables (the LRU hash and the array table,
 * whose insertion hands back the other CPU's entry).
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "pkt.h"
#include "pktspec.skel.h"
#include "race.skel.h"
#include "lifecycle.h"

#define RACE_PACKETS 100 /* the other CPU's packets in its entry */
#define RACE_BYTES 9000

struct race_case {
	struct pks_env env;
	struct pks_flowtab tab;
	struct race_bpf *r;
};

static int race_open(struct race_case *c, enum pks_table_kind table)
{
	struct pks_load_opts lo = { .pinned = false, .max_flows = 4096, .table = table, .replay = true };
	struct pks_flow v = { .packets = { RACE_PACKETS, 0 }, .bytes = { RACE_BYTES, 0 } };
	__u32 zero = 0;

	memset(c, 0, sizeof(*c));
	c->env.clock_ns = 1000000000ull;
	if (pks_load(&lo, &c->env.skel) || pks_flowtab_for_skel(&c->tab, c->env.skel, true))
		return -1;
	c->r = race_bpf__open();
	if (!c->r)
		return -1;
	/* The same table: the array's bucket count is the classifier's. */
	c->r->rodata->pks_ways4_buckets = c->env.skel->rodata->pks_ways4_buckets;
	if (pks_share_maps(c->r->obj, c->env.skel->obj) || race_bpf__load(c->r))
		return -1;
	v.first = v.last = 1;
	return bpf_map_update_elem(bpf_map__fd(c->r->maps.race_val), &zero, &v, BPF_ANY);
}

static void race_close(struct race_case *c)
{
	race_bpf__destroy(c->r);
	pks_flowtab_close(&c->tab);
	pks_env_close(&c->env);
}

/* The slot of the classifier's tail-call table that holds prog, or -1. */
static int slot_of(struct race_case *c, const struct bpf_program *prog)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int stages = bpf_map__fd(c->env.skel->maps.pks_stages);

	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
		return -1;
	for (__u32 i = 0; i < bpf_map__max_entries(c->env.skel->maps.pks_stages); i++) {
		__u32 id;

		if (bpf_map_lookup_elem(stages, &i, &id) == 0 && id == info.id)
			return (int)i;
	}
	return -1;
}

/* The fixture in before stage `at`: it inserts the flow, then goes on to `at` itself. */
static int race_before(struct race_case *c, const struct bpf_program *at)
{
	int slot = slot_of(c, at), fd = bpf_program__fd(c->r->progs.race_insert), next = bpf_program__fd(at);
	__u32 zero = 0, s = (__u32)slot;

	if (slot < 0 || bpf_map_update_elem(bpf_map__fd(c->r->maps.race_next), &zero, &next, BPF_ANY))
		return -1;
	return bpf_map_update_elem(bpf_map__fd(c->env.skel->maps.pks_stages), &s, &fd, BPF_ANY);
}

static uint64_t race_created(struct race_case *c)
{
	struct pks_evictions ev;

	if (pks_evictions_read(bpf_map__fd(c->env.skel->maps.pks_stats), bpf_map__fd(c->env.skel->maps.pks_ledger),
			       &c->tab, &ev))
		return UINT64_MAX;
	return ev.created;
}

/*
 * verdict: a UDP flow's first packet, with a payload the signatures read;
 * the fixture inserts the flow before the first UDP stage, so pks_verdict's
 * insertion meets it, and the packet is inspected against that entry (the
 * chain runs again from the window, and the fixture with it, whose second
 * insertion is refused). Else a SYN, nothing to inspect: the fixture inserts
 * the flow before pks_track, whose insertion meets it. Either way the packet
 * is counted once into the other CPU's entry, and nothing else is created.
 */
static void meets_other_cpu(enum pks_table_kind table, bool verdict)
{
	struct pkt_spec p = verdict ? PKT_UDP4("198.18.5.1", 30000, "198.18.3.1", 9999)
				    : PKT_TCP4("198.18.5.1", 40000, "198.18.3.1", 5432, TCPF_SYN);
	struct pks_flow_view v;
	struct race_case c;

	if (verdict) {
		p.payload = "\x7f\x13junk of no protocol";
		p.payload_len = 22;
	}
	CHECK(race_open(&c, table) == 0);
	CHECK(race_before(&c, verdict ? c.env.skel->progs.pks_sg_udp_core : c.env.skel->progs.pks_track) == 0);
	CHECK(pks_env_run(&c.env, &p) == 0);
	CHECK_EQ(c.r->bss->race_inserted, 1);
	CHECK_EQ(c.r->bss->race_runs, verdict ? 2 : 1);
	CHECK(pks_env_flow(&c.env, &p, &v) == 0);
	CHECK_EQ(v.packets[PKS_DIR_C2S], RACE_PACKETS + 1);
	CHECK_EQ(v.packets[PKS_DIR_S2C], 0);
	CHECK(v.bytes[PKS_DIR_C2S] > RACE_BYTES);
	if (verdict)
		CHECK_EQ(v.inspected[PKS_DIR_C2S], 1);
	else
		CHECK(v.flags & PKS_F_SYN);
	CHECK_EQ(pks_env_flow_count(&c.env), 1);
	CHECK_EQ(race_created(&c), 0);
	CHECK_EQ(pks_env_reason(&c.env, PKS_REASON_NEW_FLOW), 1);
	CHECK_EQ(pks_env_reason(&c.env, PKS_REASON_STAGE_FAIL), 0);
	CHECK_EQ(pks_env_reason(&c.env, PKS_REASON_FLOW_FULL), 0);
	race_close(&c);
}

TEST(race_verdict_insertion_meets_other_cpu)
{
	meets_other_cpu(PKS_TABLE_LRU, true);
	meets_other_cpu(PKS_TABLE_ARRAY, true);
}

TEST(race_track_insertion_meets_other_cpu)
{
	meets_other_cpu(PKS_TABLE_LRU, false);
	meets_other_cpu(PKS_TABLE_ARRAY, false);
}
