// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * The tc policy program through BPF_PROG_TEST_RUN: the real XDP classifier
 * classifies crafted packets into a private flow table, the real tc program
 * (sharing that table) applies the policy, and the cases check the skb it
 * hands back: mark, priority, DSCP and checksum, drop, and its outcome
 * counters. Also the policy grammar and the policy file checker.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "harness.h"
#include "pkt.h"
#include "pktspec/flow_key.h"
#include "pktspec/policy.h"
#include "pktspec.skel.h"
#include "pktspec_tc.skel.h"

#define TC_ACT_UNSPEC (-1)
#define TC_ACT_SHOT 2

struct tc_env {
	struct pks_env xdp;
	struct pktspec_tc_bpf *tc;
	__u32 table; /* the table rules are written to */
};

/* Loads the tc object sharing the classifier's flow tables (what XDP writes, tc reads). */
static int tc_load(struct pks_env *xdp, void **skel, struct bpf_object **obj)
{
	struct pktspec_tc_bpf *tc = pktspec_tc_bpf__open();
	struct bpf_map *map;
	int err;

	if (!tc)
		return -errno;
	bpf_object__for_each_map(map, tc->obj)
		bpf_map__set_pin_path(map, NULL);
	err = bpf_map__reuse_fd(tc->maps.pks_flows, bpf_map__fd(xdp->skel->maps.pks_flows));
	if (!err)
		err = bpf_map__reuse_fd(tc->maps.pks_flows4, bpf_map__fd(xdp->skel->maps.pks_flows4));
	if (!err)
		err = pktspec_tc_bpf__load(tc);
	if (err) {
		pktspec_tc_bpf__destroy(tc);
		return err;
	}
	*skel = tc;
	*obj = tc->obj;
	return 0;
}

static void tc_destroy(void *skel)
{
	pktspec_tc_bpf__destroy(skel);
}

/* One tc object per process, reset between cases, like the classifier (tests/unit/pkt.h). */
static struct pks_companion tc_obj = { .load = tc_load, .destroy = tc_destroy };

static int tc_env_open(struct tc_env *e)
{
	void *tc;
	int err;

	memset(e, 0, sizeof(*e));
	err = pks_env_open(&e->xdp);
	if (err)
		return err;
	err = pks_companion_open(&tc_obj, &e->xdp, &tc);
	e->tc = tc;
	return err;
}

static void tc_env_close(struct tc_env *e)
{
	pks_companion_close(&tc_obj, e->tc);
	pks_env_close(&e->xdp);
}

/* Adds a rule given as words ("ssh classid 1:10") to the current table. */
static int tc_rule(struct tc_env *e, const char *text)
{
	char buf[256], *tok[32], *save = NULL, err[256];
	struct pks_policy_rule r;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", text);
	for (char *w = strtok_r(buf, " ", &save); w && n < 32; w = strtok_r(NULL, " ", &save))
		tok[n++] = w;
	if (pks_policy_parse(n, tok, &r, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", text, err);
		return -EINVAL;
	}
	r.key.table = e->table;
	return bpf_map_update_elem(bpf_map__fd(e->tc->maps.pks_policy), &r.key, &r.val, BPF_ANY) ? -errno : 0;
}

struct tc_run {
	int retval;
	__u32 mark, priority;
	uint8_t out[4096];
	__u32 out_len;
};

/* Runs a frame through the tc program with mark_in as skb->mark. */
static int tc_run_raw(struct tc_env *e, const uint8_t *frame, size_t len, __u32 mark_in, struct tc_run *res)
{
	struct __sk_buff ctx = { .mark = mark_in };
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = frame, .data_size_in = len, .data_out = res->out,
		    .data_size_out = sizeof(res->out), .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .ctx_out = &ctx, .ctx_size_out = sizeof(ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(bpf_program__fd(e->tc->progs.pks_tc), &topts))
		return -errno;
	res->retval = (int)topts.retval;
	res->mark = ctx.mark;
	res->priority = ctx.priority;
	res->out_len = topts.data_size_out;
	return 0;
}

static int tc_run(struct tc_env *e, const struct pkt_spec *s, __u32 mark_in, struct tc_run *res)
{
	uint8_t frame[2048];
	size_t len = pkt_build(s, frame, sizeof(frame));

	return len ? tc_run_raw(e, frame, len, mark_in, res) : -EMSGSIZE;
}

static __u64 tc_count(struct tc_env *e, int reason)
{
	int ncpu = libbpf_num_possible_cpus();
	struct pks_tc_stats *per_cpu = calloc(ncpu, sizeof(*per_cpu));
	__u32 zero = 0;
	__u64 sum = 0;

	if (!per_cpu)
		return 0;
	if (bpf_map_lookup_elem(bpf_map__fd(e->tc->maps.pks_tc_stats), &zero, per_cpu) == 0)
		for (int c = 0; c < ncpu; c++)
			sum += ((__u64 *)&per_cpu[c])[reason];
	free(per_cpu);
	return sum;
}

static uint16_t ip_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

TEST(tc_no_flow_passes_untouched)
{
	struct tc_env e;
	struct pkt_spec s = PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 22, TCPF_SYN);
	struct tc_run r;

	CHECK(tc_env_open(&e) == 0);
	CHECK(tc_rule(&e, "ssh classid 1:10") == 0);
	CHECK_EQ(tc_run(&e, &s, 0x77, &r), 0);
	CHECK_EQ(r.retval, TC_ACT_UNSPEC);
	CHECK_EQ(r.mark, 0x77);
	CHECK_EQ(r.priority, 0);
	CHECK_EQ(tc_count(&e, PKS_TC_NO_FLOW), 1);
	tc_env_close(&e);
}

TEST(tc_classid_and_mark_by_verdict)
{
	struct tc_env e;
	struct pkt_spec s = PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 22, TCPF_SYN);
	struct pkt_spec back = PKT_TCP4("198.18.0.2", 22, "198.18.0.1", 40000, TCPF_SYN | TCPF_ACK);
	struct tc_run r;

	CHECK(tc_env_open(&e) == 0);
	CHECK(tc_rule(&e, "ssh classid 1:10 mark 0x10/0xff") == 0);
	CHECK_EQ(pks_env_run(&e.xdp, &s), 0); /* port 22: ssh, confidence port */
	CHECK_EQ(tc_run(&e, &s, 0x1234, &r), 0);
	CHECK_EQ(r.retval, TC_ACT_UNSPEC);
	CHECK_EQ(r.mark, 0x1210); /* bits outside the mask kept */
	CHECK_EQ(r.priority, 0x00010010);
	/* The other direction is the same flow. */
	CHECK_EQ(tc_run(&e, &back, 0, &r), 0);
	CHECK_EQ(r.mark, 0x10);
	CHECK_EQ(r.priority, 0x00010010);
	CHECK_EQ(tc_count(&e, PKS_TC_APPLIED), 2);
	tc_env_close(&e);
}

TEST(tc_priority_action)
{
	struct tc_env e;
	struct pkt_spec s = PKT_TCP6("2001:db8::1", 40000, "2001:db8::2", 80, TCPF_SYN);
	struct tc_run r;

	CHECK(tc_env_open(&e) == 0);
	CHECK(tc_rule(&e, "http priority 6") == 0);
	CHECK_EQ(pks_env_run(&e.xdp, &s), 0);
	CHECK_EQ(tc_run(&e, &s, 0, &r), 0);
	CHECK_EQ(r.priority, 6);
	CHECK_EQ(r.mark, 0);
	tc_env_close(&e);
}

TEST(tc_min_confidence_waits_for_confirmation)
{
	static const char cbanner[] = "SSH-2.0-OpenSSH_9.2p1\r\n", sbanner[] = "SSH-2.0-OpenSSH_9.2p1 Debian\r\n";
	struct tc_env e;
	struct pkt_spec syn = PKT_TCP4("198.18.0.1", 40001, "198.18.0.2", 22, TCPF_SYN);
	struct pkt_spec c = PKT_TCP4("198.18.0.1", 40001, "198.18.0.2", 22, TCPF_PSH | TCPF_ACK);
	struct pkt_spec sv = PKT_TCP4("198.18.0.2", 22, "198.18.0.1", 40001, TCPF_PSH | TCPF_ACK);
	struct pks_flow_view f;
	struct tc_run r;

	c.payload = cbanner, c.payload_len = sizeof(cbanner) - 1;
	sv.payload = sbanner, sv.payload_len = sizeof(sbanner) - 1;
	CHECK(tc_env_open(&e) == 0);
	CHECK(tc_rule(&e, "ssh confidence confirmed mark 1") == 0);
	CHECK(tc_rule(&e, "pending mark 9") == 0);
	CHECK_EQ(pks_env_run(&e.xdp, &syn), 0);
	CHECK_EQ(tc_run(&e, &syn, 0, &r), 0);
	CHECK_EQ(r.mark, 9); /* a port guess is not yet what the policy asks for */
	CHECK_EQ(tc_count(&e, PKS_TC_PENDING), 1);
	CHECK_EQ(pks_env_run(&e.xdp, &sv), 0);
	CHECK_EQ(pks_env_run(&e.xdp, &c), 0);
	CHECK_EQ(pks_env_flow(&e.xdp, &c, &f), 0);
	CHECK_EQ(f.confidence, PKS_C_CONFIRMED);
	CHECK_EQ(tc_run(&e, &c, 0, &r), 0);
	CHECK_EQ(r.mark, 1);
	CHECK_EQ(tc_count(&e, PKS_TC_APPLIED), 1);
	tc_env_close(&e);
}

TEST(tc_pending_default_for_unknown_flows)
{
	struct tc_env e;
	struct pkt_spec s = PKT_UDP4("198.18.0.1", 40000, "198.18.0.2", 9999);
	struct tc_run r;

	CHECK(tc_env_open(&e) == 0);
	CHECK(tc_rule(&e, "pending classid 1:99") == 0);
	/* No flow entry at all: before the XDP program saw it. */
	CHECK_EQ(tc_run(&e, &s, 0, &r), 0);
	CHECK_EQ(r.priority, 0x00010099);
	CHECK_EQ(tc_count(&e, PKS_TC_NO_FLOW), 1);
	/* An entry without a verdict: the port says nothing. */
	CHECK_EQ(pks_env_run(&e.xdp, &s), 0);
	CHECK_EQ(tc_run(&e, &s, 0, &r), 0);
	CHECK_EQ(r.priority, 0x00010099);
	CHECK_EQ(tc_count(&e, PKS_TC_PENDING), 1);
	tc_env_close(&e);
}

TEST(tc_no_policy_passes_untouched)
{
	struct tc_env e;
	struct pkt_spec s = PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 80, TCPF_SYN);
	struct tc_run r;

	CHECK(tc_env_open(&e) == 0);
	CHECK(tc_rule(&e, "ssh drop") == 0);
	CHECK(tc_rule(&e, "pending drop") == 0); /* not for flows with a verdict */
	CHECK_EQ(pks_env_run(&e.xdp, &s), 0);
	CHECK_EQ(tc_run(&e, &s, 5, &r), 0);
	CHECK_EQ(r.retval, TC_ACT_UNSPEC);
	CHECK_EQ(r.mark, 5);
	CHECK_EQ(tc_count(&e, PKS_TC_NO_POLICY), 1);
	tc_env_close(&e);
}

TEST(tc_drop)
{
	struct tc_env e;
	struct pkt_spec s = PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 22, TCPF_SYN);
	struct tc_run r;

	CHECK(tc_env_open(&e) == 0);
	CHECK(tc_rule(&e, "ssh drop") == 0);
	CHECK_EQ(pks_env_run(&e.xdp, &s), 0);
	CHECK_EQ(tc_run(&e, &s, 0, &r), 0);
	CHECK_EQ(r.retval, TC_ACT_SHOT);
	CHECK_EQ(tc_count(&e, PKS_TC_DROPPED), 1);
	tc_env_close(&e);
}

TEST(tc_dscp_ipv4_checksum)
{
	struct tc_env e;
	struct pkt_spec s = PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 80, TCPF_SYN);
	uint8_t frame[256];
	size_t len = pkt_build(&s, frame, sizeof(frame)), l3 = pkt_l3_off(&s);
	struct tc_run r;

	frame[l3 + 1] = 0x01; /* ECT(1): the ECN bits must survive */
	frame[l3 + 10] = frame[l3 + 11] = 0;
	{
		uint16_t c = ip_csum(frame + l3, 20);

		frame[l3 + 10] = c >> 8, frame[l3 + 11] = c & 0xff;
	}
	CHECK(tc_env_open(&e) == 0);
	CHECK(tc_rule(&e, "http dscp ef") == 0);
	CHECK_EQ(pks_env_run_raw(&e.xdp, frame, len), 0);
	CHECK_EQ(tc_run_raw(&e, frame, len, 0, &r), 0);
	CHECK_EQ(r.out_len, len);
	CHECK_EQ(r.out[l3 + 1], (46 << 2) | 0x01);
	CHECK_EQ(ip_csum(r.out + l3, 20), 0); /* a valid header sums to 0xffff */
	CHECK(memcmp(r.out + l3 + 12, frame + l3 + 12, len - l3 - 12) == 0);
	tc_env_close(&e);
}

TEST(tc_dscp_ipv6_traffic_class)
{
	struct tc_env e;
	struct pkt_spec s = PKT_TCP6("2001:db8::1", 40000, "2001:db8::2", 80, TCPF_SYN);
	uint8_t frame[256];
	size_t len = pkt_build(&s, frame, sizeof(frame)), l3 = pkt_l3_off(&s);
	struct tc_run r;

	/* Traffic class 0x02 (ECT(0)), flow label 0x12345. */
	frame[l3] = 0x60, frame[l3 + 1] = 0x21, frame[l3 + 2] = 0x23, frame[l3 + 3] = 0x45;
	CHECK(tc_env_open(&e) == 0);
	CHECK(tc_rule(&e, "http dscp af41") == 0);
	CHECK_EQ(pks_env_run_raw(&e.xdp, frame, len), 0);
	CHECK_EQ(tc_run_raw(&e, frame, len, 0, &r), 0);
	/* AF41 = 34: traffic class 34 << 2 | 2 = 0x8a. */
	CHECK_EQ(r.out[l3], 0x68);
	CHECK_EQ(r.out[l3 + 1], 0xa1);
	CHECK_EQ(r.out[l3 + 2], 0x23);
	CHECK_EQ(r.out[l3 + 3], 0x45);
	tc_env_close(&e);
}

TEST(tc_app_policy_more_specific_first)
{
	struct tc_env e;
	struct pkt_spec s = PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 443, TCPF_SYN);
	struct pks_flow_key k;
	struct pks_flowtab t;
	struct pks_flow f;
	uint8_t a[16] = { [10] = 0xff, [11] = 0xff, 198, 18, 0, 1 }, b[16] = { [10] = 0xff, [11] = 0xff, 198, 18, 0, 2 };
	struct tc_run r;

	CHECK(tc_env_open(&e) == 0);
	CHECK(tc_rule(&e, "tls mark 1") == 0);
	CHECK(tc_rule(&e, "any app 7 mark 2") == 0);
	CHECK_EQ(pks_env_run(&e.xdp, &s), 0);
	CHECK_EQ(tc_run(&e, &s, 0, &r), 0);
	CHECK_EQ(r.mark, 1); /* no application yet */
	/* What the context rules do when a name (SNI, DNS) tells the application. */
	CHECK(pks_flowtab_for_skel(&t, e.xdp.skel, true) == 0);
	pks_flow_key_fill(&k, a, 40000, b, 443, 6);
	CHECK(pks_flowtab_get_raw(&t, &k, &f) == 0);
	f.app = 7;
	CHECK(pks_flowtab_put_raw(&t, &k, &f, BPF_EXIST) == 0);
	CHECK_EQ(tc_run(&e, &s, 0, &r), 0);
	CHECK_EQ(r.mark, 2);
	CHECK(tc_rule(&e, "tls app 7 mark 3") == 0);
	CHECK_EQ(tc_run(&e, &s, 0, &r), 0);
	CHECK_EQ(r.mark, 3);
	tc_env_close(&e);
}

TEST(tc_reads_only_the_live_table)
{
	struct tc_env e;
	struct pkt_spec s = PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 22, TCPF_SYN);
	struct pks_pol_state st = { .live = 1 };
	__u32 zero = 0;
	struct tc_run r;

	CHECK(tc_env_open(&e) == 0);
	e.table = 1;
	CHECK(tc_rule(&e, "ssh mark 4") == 0);
	CHECK_EQ(pks_env_run(&e.xdp, &s), 0);
	CHECK_EQ(tc_run(&e, &s, 0, &r), 0);
	CHECK_EQ(r.mark, 0); /* table 1 is not live yet */
	CHECK(bpf_map_update_elem(bpf_map__fd(e.tc->maps.pks_pol_state), &zero, &st, BPF_ANY) == 0);
	CHECK_EQ(tc_run(&e, &s, 0, &r), 0);
	CHECK_EQ(r.mark, 4);
	tc_env_close(&e);
}

TEST(tc_not_flow_and_malformed_pass)
{
	struct tc_env e;
	struct pkt_spec icmp = PKT_TCP4("198.18.0.1", 0, "198.18.0.2", 0, 0);
	struct pkt_spec s = PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 22, TCPF_SYN);
	uint8_t frame[256];
	size_t len;
	struct tc_run r;

	icmp.l4 = 1;
	CHECK(tc_env_open(&e) == 0);
	CHECK(tc_rule(&e, "pending drop") == 0);
	CHECK_EQ(tc_run(&e, &icmp, 0, &r), 0);
	CHECK_EQ(r.retval, TC_ACT_UNSPEC);
	CHECK_EQ(tc_count(&e, PKS_TC_NOT_FLOW), 1);
	len = pkt_build(&s, frame, sizeof(frame));
	frame[pkt_l3_off(&s)] = 0x44; /* ihl 4 */
	CHECK_EQ(tc_run_raw(&e, frame, len, 0, &r), 0);
	CHECK_EQ(r.retval, TC_ACT_UNSPEC);
	CHECK_EQ(tc_count(&e, PKS_TC_MALFORMED), 1);
	tc_env_close(&e);
}

static int parse_text(const char *text, struct pks_policy_rule *r, char *err, size_t errlen)
{
	char buf[256], *tok[32], *save = NULL;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", text);
	for (char *w = strtok_r(buf, " ", &save); w && n < 32; w = strtok_r(NULL, " ", &save))
		tok[n++] = w;
	return pks_policy_parse(n, tok, r, err, errlen);
}

TEST(policy_rule_round_trip)
{
	static const char *const rules[] = {
		"ssh classid 1:10", "http app 3 confidence confirmed mark 0x10/0xff dscp 34",
		"any app 12 drop", "pending priority 7", "tls pass", "quic mark 0x1",
	};
	char err[256], text[256];
	struct pks_policy_rule r, again;

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		CHECK(parse_text(rules[i], &r, err, sizeof(err)) == 0);
		pks_policy_format(&r, text, sizeof(text));
		CHECK(parse_text(text, &again, err, sizeof(err)) == 0);
		CHECK(memcmp(&r.key, &again.key, sizeof(r.key)) == 0);
		CHECK(memcmp(&r.val, &again.val, sizeof(r.val)) == 0);
	}
	CHECK(parse_text("http dscp af41 classid 1:a", &r, err, sizeof(err)) == 0);
	CHECK_EQ(r.val.dscp, 34);
	CHECK_EQ(r.val.classid, 0x0001000a);
}

TEST(policy_rule_errors)
{
	static const char *const bad[] = {
		"nosuchproto mark 1", "ssh", "ssh mark", "ssh mark 0x100/0xff", "ssh mark 1/0",
		"ssh classid 0:1", "ssh classid 10", "ssh dscp 64", "ssh dscp cs8", "ssh drop mark 1",
		"ssh classid 1:1 priority 3", "any mark 1", "pending app 3 mark 1", "ssh app 0 mark 1",
		"ssh app youtube mark 1", "ssh confidence sure mark 1", "ssh frobnicate", "ssh drop pass",
	};
	char err[256];
	struct pks_policy_rule r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		if (parse_text(bad[i], &r, err, sizeof(err)) != -EINVAL) {
			pks_test_fail(__FILE__, __LINE__, "'%s' was accepted", bad[i]);
			return;
		}
		CHECK(err[0] != 0);
	}
}

TEST(policy_file_reports_every_bad_line)
{
	static const char text[] = "# comment\n"
				   "ssh classid 1:10\n"
				   "\n"
				   "http dscp 99\n"
				   "tls mark 1 # fine\n"
				   "bogus drop\n"
				   "ssh mark 2\n";
	FILE *in = fmemopen((void *)text, sizeof(text) - 1, "r");
	char *msgs = NULL;
	size_t msglen = 0, n = 99;
	FILE *errs = open_memstream(&msgs, &msglen);
	struct pks_policy_rule *rules = (void *)1;
	int ret;

	CHECK(in && errs);
	ret = pks_policy_parse_file(in, "p.conf", &rules, &n, errs);
	fclose(in);
	fclose(errs);
	CHECK_EQ(ret, 3);
	CHECK(rules == NULL);
	CHECK_EQ(n, 0);
	CHECK(strstr(msgs, "p.conf:4: dscp takes") != NULL);
	CHECK(strstr(msgs, "p.conf:6: unknown protocol 'bogus'") != NULL);
	CHECK(strstr(msgs, "p.conf:7: the same flows as line 2") != NULL);
	free(msgs);
}

TEST(policy_file_good)
{
	static const char text[] = "ssh classid 1:10\nhttp classid 1:20 # web\npending pass\n";
	FILE *in = fmemopen((void *)text, sizeof(text) - 1, "r");
	struct pks_policy_rule *rules = NULL;
	size_t n = 0;

	CHECK(in);
	CHECK_EQ(pks_policy_parse_file(in, "p.conf", &rules, &n, stderr), 0);
	fclose(in);
	CHECK_EQ(n, 3);
	CHECK_EQ(rules[1].key.proto, PKS_P_HTTP);
	CHECK_EQ(rules[1].val.classid, 0x00010020);
	CHECK_EQ(rules[1].line, 2);
	CHECK_EQ(rules[2].key.match, PKS_PM_PENDING);
	free(rules);
}

TEST(tc_dscp_behind_vlan_tags_and_ip_options)
{
	struct tc_env e;
	struct pkt_spec s = PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 22, TCPF_SYN);
	uint8_t frame[256];
	size_t len, l3;
	struct tc_run r;

	s.vlans = 2;      /* QinQ: the IP header starts at 22 */
	s.ip_options = 8; /* ihl 7: the checksum covers 28 bytes */
	len = pkt_build(&s, frame, sizeof(frame));
	l3 = pkt_l3_off(&s);
	CHECK(tc_env_open(&e) == 0);
	CHECK(tc_rule(&e, "ssh dscp cs6 mark 0x5") == 0);
	CHECK_EQ(pks_env_run_raw(&e.xdp, frame, len), 0);
	CHECK_EQ(tc_run_raw(&e, frame, len, 0, &r), 0);
	CHECK_EQ(r.mark, 5);
	CHECK_EQ(r.out[l3 + 1], 48 << 2);
	CHECK_EQ(ip_csum(r.out + l3, 28), 0);
	CHECK(memcmp(r.out, frame, l3 + 1) == 0); /* nothing before the TOS byte moved */
	tc_env_close(&e);
}

TEST(tc_ipv6_extension_headers)
{
	/* Hop-by-hop options (8 bytes, PadN) then TCP: the flow is found behind them. */
	static const uint8_t hbh[8] = { 6, 0, 1, 4, 0, 0, 0, 0 };
	struct tc_env e;
	struct pkt_spec s = PKT_TCP6("2001:db8::1", 40000, "2001:db8::2", 80, TCPF_SYN);
	struct tc_run r;

	s.ext = hbh, s.ext_len = sizeof(hbh), s.ext_first = 0;
	CHECK(tc_env_open(&e) == 0);
	CHECK(tc_rule(&e, "http classid 2:3") == 0);
	CHECK_EQ(pks_env_run(&e.xdp, &s), 0);
	CHECK_EQ(tc_run(&e, &s, 0, &r), 0);
	CHECK_EQ(r.priority, 0x00020003);
	tc_env_close(&e);
}

/* The outer IPv4 header of a frame from pkt_outer_ip4 (at 14) given its checksum. */
static void outer_csum(uint8_t *frame)
{
	uint16_t c;

	frame[24] = frame[25] = 0;
	c = ip_csum(frame + 14, 20);
	frame[24] = c >> 8;
	frame[25] = c & 0xff;
}

/* SSH's SYN from 198.18.0.1:40000 in VXLAN with VNI vni; returns the frame's length. */
static size_t ssh_in_vxlan(uint8_t *frame, size_t max, uint32_t vni)
{
	struct pkt_spec s = PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 22, TCPF_SYN);
	uint8_t inner[256];
	size_t n = pkt_build(&s, inner, sizeof(inner)), len;

	if (!n || 34 + 16 + n > max)
		return 0;
	len = pkt_vxlan_wrap(frame, vni, inner, n);
	outer_csum(frame);
	return len;
}

/*
 * A tunnel's packet: the flow inside selects the policy, and DSCP goes to the
 * outer header (valid checksum, the packet inside untouched). The same inner
 * 5-tuple in another VNI has no entry: the tunnel's own flow selects.
 */
TEST(tc_tunnel_flow_inside_selects_the_policy)
{
	struct tc_env e;
	uint8_t frame[512];
	size_t len = ssh_in_vxlan(frame, sizeof(frame), 1001);
	struct tc_run r;

	CHECK(len > 0);
	CHECK(tc_env_open(&e) == 0);
	CHECK(tc_rule(&e, "ssh classid 1:10 dscp ef") == 0);
	CHECK(tc_rule(&e, "vxlan mark 0x9") == 0);
	CHECK_EQ(pks_env_run_raw(&e.xdp, frame, len), 0);
	CHECK_EQ(pks_env_flow_count(&e.xdp), 2); /* the tunnel's flow and SSH's inside */
	CHECK_EQ(tc_run_raw(&e, frame, len, 0, &r), 0);
	CHECK_EQ(r.retval, TC_ACT_UNSPEC);
	CHECK_EQ(r.priority, 0x00010010);
	CHECK_EQ(r.mark, 0);
	CHECK_EQ(r.out[15], 46 << 2);
	CHECK_EQ(ip_csum(r.out + 14, 20), 0);
	CHECK(memcmp(r.out + 26, frame + 26, len - 26) == 0);
	CHECK_EQ(tc_count(&e, PKS_TC_TUNNEL), 1);
	CHECK_EQ(tc_count(&e, PKS_TC_APPLIED), 1);

	len = ssh_in_vxlan(frame, sizeof(frame), 1002);
	CHECK_EQ(tc_run_raw(&e, frame, len, 0, &r), 0);
	CHECK_EQ(r.mark, 9);
	CHECK_EQ(r.priority, 0);
	CHECK_EQ(r.out[15], 0);
	CHECK_EQ(tc_count(&e, PKS_TC_TUNNEL), 1);
	CHECK_EQ(tc_count(&e, PKS_TC_APPLIED), 2);
	tc_env_close(&e);
}

/* Two GRE tunnels deep, as the classifier opens them: the innermost flow selects. */
TEST(tc_tunnel_two_levels)
{
	struct pkt_spec s = PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 22, TCPF_SYN);
	uint8_t inner[256], frame[512];
	size_t n = pkt_build(&s, inner, sizeof(inner)), len;
	struct tc_env e;
	struct tc_run r;

	CHECK(n > 14);
	len = pkt_gre_nested(frame, 2, 0, inner + 14, n - 14);
	CHECK(tc_env_open(&e) == 0);
	CHECK(tc_rule(&e, "ssh priority 7") == 0);
	CHECK_EQ(pks_env_run_raw(&e.xdp, frame, len), 0);
	CHECK_EQ(tc_run_raw(&e, frame, len, 0, &r), 0);
	CHECK_EQ(r.priority, 7);
	CHECK_EQ(tc_count(&e, PKS_TC_TUNNEL), 1);
	tc_env_close(&e);
}

/*
 * The flow inside without a verdict: with no policy for the tunnel, the
 * pending default applies as to any pending flow; a policy for the tunnel
 * applies before it.
 */
TEST(tc_tunnel_pending_inside)
{
	struct pkt_spec s = PKT_UDP4("198.18.0.1", 40000, "198.18.0.2", 40001);
	uint8_t inner[256], frame[512];
	size_t n = pkt_build(&s, inner, sizeof(inner)), len;
	struct tc_env e;
	struct tc_run r;

	len = pkt_vxlan_wrap(frame, 7, inner, n);
	CHECK(tc_env_open(&e) == 0);
	CHECK(tc_rule(&e, "pending mark 0x3") == 0);
	CHECK_EQ(pks_env_run_raw(&e.xdp, frame, len), 0);
	CHECK_EQ(tc_run_raw(&e, frame, len, 0, &r), 0);
	CHECK_EQ(r.mark, 3);
	CHECK_EQ(tc_count(&e, PKS_TC_PENDING), 1);
	CHECK(tc_rule(&e, "vxlan mark 0x9") == 0);
	CHECK_EQ(tc_run_raw(&e, frame, len, 0, &r), 0);
	CHECK_EQ(r.mark, 9);
	CHECK_EQ(tc_count(&e, PKS_TC_TUNNEL), 0);
	tc_env_close(&e);
}
