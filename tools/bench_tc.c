// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * bench_tc: what the tc policy program costs per packet, next to a tc program
 * that only passes, both run here through BPF_PROG_TEST_RUN with the kernel
 * repeating each packet (the test-run harness's own cost is in both numbers,
 * so the difference is what the policy program adds).
 *
 *   .output/bench_tc [--repeat N] [--rounds N] [--json]
 *
 * The flow table is filled by running the real XDP classifier over a TCP
 * handshake and an HTTP exchange, so the measured packets belong to a decided
 * (confirmed) flow, as most packets on a live link do. Cases:
 *   pass        the pass-only program (two instructions: r0 = -1; exit)
 *   policy4     IPv4 packet of a decided flow, policy: classid + mark
 *   policy6     the same over IPv6
 *   no_policy   IPv4 packet of a decided flow whose protocol has no policy
 *   no_flow     IPv4 packet without a flow entry (the pending default)
 * DSCP is not a case of its own: after the first repetition the header
 * already carries the new DSCP, so later ones would measure only the check.
 * Each case runs --rounds times; the median is reported.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "pktspec.h"
#include "pkt.h"
#include "pktspec.skel.h"
#include "pktspec_tc.skel.h"

#define ROUNDS_MAX 51 /* enough for a stable median, bounded for the stack array */

static int load_pass_prog(void)
{
	const struct bpf_insn insns[] = {
		/* r0 = TC_ACT_UNSPEC (-1), the tc program's own "pass, next filter" */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = -1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "pks_tc_pass", "Dual MIT/GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), NULL);
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* Median ns per packet over rounds of `repeat` runs; 0 on failure. */
static double measure(int prog_fd, const struct pkt_spec *s, unsigned int repeat, int rounds, int *retval)
{
	uint8_t frame[2048], out[2048];
	size_t len = pkt_build(s, frame, sizeof(frame));
	__u32 d[ROUNDS_MAX];

	for (int r = 0; r < rounds; r++) {
		LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = frame, .data_size_in = len, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = repeat);

		if (bpf_prog_test_run_opts(prog_fd, &topts))
			return 0;
		d[r] = topts.duration; /* the kernel's average per repetition, ns */
		*retval = (int)topts.retval;
	}
	qsort(d, rounds, sizeof(d[0]), cmp_u32);
	return d[rounds / 2];
}

static int classify(struct pks_env *env, int ipv6, uint16_t cport)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n", resp[] = "HTTP/1.1 200 OK\r\n\r\n";
	const char *c = ipv6 ? "2001:db8::1" : "198.18.0.1", *s = ipv6 ? "2001:db8::2" : "198.18.0.2";
	struct pkt_spec p[3] = {
		{ .ipv6 = ipv6, .src = c, .dst = s, .sport = cport, .dport = 80, .l4 = 6, .tcp_flags = TCPF_SYN },
		{ .ipv6 = ipv6, .src = c, .dst = s, .sport = cport, .dport = 80, .l4 = 6,
		  .tcp_flags = TCPF_PSH | TCPF_ACK, .payload = req, .payload_len = sizeof(req) - 1 },
		{ .ipv6 = ipv6, .src = s, .dst = c, .sport = 80, .dport = cport, .l4 = 6,
		  .tcp_flags = TCPF_PSH | TCPF_ACK, .payload = resp, .payload_len = sizeof(resp) - 1 },
	};
	struct pks_flow_view f;

	for (int i = 0; i < 3; i++)
		if (pks_env_run(env, &p[i]))
			return -EIO;
	if (pks_env_flow(env, &p[0], &f) || f.proto != PKS_P_HTTP || f.confidence != PKS_C_CONFIRMED)
		return -EPROTO;
	return 0;
}

static int add_rule(struct pktspec_tc_bpf *tc, const char *text)
{
	char buf[128], *tok[16], *save = NULL, err[256];
	struct pks_policy_rule r;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", text);
	for (char *w = strtok_r(buf, " ", &save); w && n < 16; w = strtok_r(NULL, " ", &save))
		tok[n++] = w;
	if (pks_policy_parse(n, tok, &r, err, sizeof(err)))
		return -EINVAL;
	return bpf_map_update_elem(bpf_map__fd(tc->maps.pks_policy), &r.key, &r.val, BPF_ANY) ? -errno : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "repeat", required_argument, NULL, 'r' },
					      { "rounds", required_argument, NULL, 'n' },
					      { "json", no_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	static const char payload[100];
	unsigned long repeat = 1000000, rounds = 5, v;
	struct pktspec_tc_bpf *tc = NULL;
	struct bpf_map *map;
	struct pks_env env = {};
	bool json = false;
	int c, pass_fd = -1, tc_fd, ret = PKS_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "r:n:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (pks_parse_uint(optarg, 100000000, &v) || v < 1)
				return pks_usage_error(NULL, "--repeat takes 1 to 100000000");
			repeat = v;
			break;
		case 'n':
			if (pks_parse_uint(optarg, ROUNDS_MAX, &v) || v < 1)
				return pks_usage_error(NULL, "--rounds takes 1 to %d", ROUNDS_MAX);
			rounds = v;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			printf("Usage: bench_tc [--repeat N] [--rounds N] [--json]\n"
			       "ns per packet of the tc policy program and of a pass-only tc program\n");
			return PKS_EXIT_OK;
		default:
			return PKS_EXIT_USAGE;
		}
	}
	if (pks_need_caps("bench_tc", PKS_NEED_LOAD | PKS_NEED_NET_ADMIN))
		return PKS_EXIT_FAIL;
	pks_libbpf_logging();

	struct pks_load_opts lo = { .pinned = false, .max_flows = 4096, .replay = true };

	if (pks_load(&lo, &env.skel))
		return PKS_EXIT_FAIL;
	env.clock_ns = 1000000000ull;
	tc = pktspec_tc_bpf__open();
	if (!tc) {
		pks_fail("cannot open the tc object: %s", strerror(errno));
		goto out;
	}
	bpf_object__for_each_map(map, tc->obj)
		bpf_map__set_pin_path(map, NULL);
	if (bpf_map__reuse_fd(tc->maps.pks_flows, bpf_map__fd(env.skel->maps.pks_flows)) ||
	    bpf_map__reuse_fd(tc->maps.pks_flows4, bpf_map__fd(env.skel->maps.pks_flows4)) ||
	    pktspec_tc_bpf__load(tc)) {
		pks_fail("cannot load the tc program: %s", strerror(errno));
		goto out;
	}
	pass_fd = load_pass_prog();
	if (pass_fd < 0) {
		pks_fail("cannot load the pass-only program: %s", strerror(errno));
		goto out;
	}
	tc_fd = bpf_program__fd(tc->progs.pks_tc);
	if (classify(&env, 0, 40000) || classify(&env, 1, 40000) || classify(&env, 0, 40001) ||
	    add_rule(tc, "http classid 1:20 mark 0x20/0xff")) {
		pks_fail("cannot set up the flows and policy to measure");
		goto out;
	}

	struct pkt_spec p4 = PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 80, TCPF_ACK);
	struct pkt_spec p6 = PKT_TCP6("2001:db8::1", 40000, "2001:db8::2", 80, TCPF_ACK);
	struct pkt_spec nf = PKT_TCP4("198.18.0.1", 50000, "198.18.0.2", 80, TCPF_ACK);

	p4.payload = p6.payload = nf.payload = payload;
	p4.payload_len = p6.payload_len = nf.payload_len = sizeof(payload);

	int rv_pass = 0, rv = 0;
	double pass = measure(pass_fd, &p4, repeat, rounds, &rv_pass);
	double pol4 = measure(tc_fd, &p4, repeat, rounds, &rv);
	double pol6 = measure(tc_fd, &p6, repeat, rounds, &rv);
	double noflow = measure(tc_fd, &nf, repeat, rounds, &rv);

	/* The same decided IPv4 flow with the policy gone. */
	struct pks_policy_rule r;
	char *del[] = { "http", "pass" }, err[128];
	double nopol = 0;

	if (pks_policy_parse(2, del, &r, err, sizeof(err)) == 0 &&
	    bpf_map_delete_elem(bpf_map__fd(tc->maps.pks_policy), &r.key) == 0)
		nopol = measure(tc_fd, &p4, repeat, rounds, &rv);
	if (!pass || !pol4 || !pol6 || !noflow || !nopol) {
		pks_fail("a test run failed: %s", strerror(errno));
		goto out;
	}
	if (json) {
		printf("{\"repeat\":%lu,\"rounds\":%lu,\"ns_per_packet\":{\"pass\":%.0f,\"policy4\":%.0f,"
		       "\"policy6\":%.0f,\"no_policy\":%.0f,\"no_flow\":%.0f},\"ratio_policy4_to_pass\":%.2f,"
		       "\"added_ns_policy4\":%.0f}\n",
		       repeat, rounds, pass, pol4, pol6, nopol, noflow, pol4 / pass, pol4 - pass);
	} else {
		printf("tc program cost per packet (BPF_PROG_TEST_RUN, %lu repetitions, median of %lu rounds)\n",
		       repeat, rounds);
		printf("  %-10s %6.0f ns  pass-only program\n", "pass", pass);
		printf("  %-10s %6.0f ns  IPv4, decided flow, policy classid + mark  (%.2fx pass, +%.0f ns)\n",
		       "policy4", pol4, pol4 / pass, pol4 - pass);
		printf("  %-10s %6.0f ns  IPv6, decided flow, policy classid + mark  (%.2fx pass, +%.0f ns)\n",
		       "policy6", pol6, pol6 / pass, pol6 - pass);
		printf("  %-10s %6.0f ns  IPv4, decided flow, no policy for it       (%.2fx pass)\n", "no_policy",
		       nopol, nopol / pass);
		printf("  %-10s %6.0f ns  IPv4, no flow entry (pending default)      (%.2fx pass)\n", "no_flow",
		       noflow, noflow / pass);
	}
	ret = PKS_EXIT_OK;
out:
	if (pass_fd >= 0)
		close(pass_fd);
	pktspec_tc_bpf__destroy(tc);
	pks_env_close(&env);
	return ret;
}
