// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * The egress classifier through BPF_PROG_TEST_RUN: the real XDP object sees
 * what a server receives, the real tc egress object (sharing every pinned map
 * of it, as on a live attachment) sees what the server sends, and the cases
 * check that both land in one flow entry exactly as if XDP had seen both:
 * confirmation by the reply, per-direction counters, GSO skbs counted as the
 * segments they leave as, a context rule fed from the server's direction,
 * and the tc policy program acting on the verdict the egress pass just made.
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
#include "pktspec_egress.skel.h"
#include "pktspec_tc.skel.h"

#define TC_ACT_UNSPEC (-1)

struct eg_env {
	struct pks_env xdp;
	struct pktspec_egress_bpf *eg;
};

/* Loads the egress object sharing every pinned map of the classifier, as a live attachment does. */
static int eg_load(struct pks_env *xdp, void **skel, struct bpf_object **obj)
{
	struct pktspec_egress_bpf *eg = pktspec_egress_bpf__open();
	int err;

	if (!eg)
		return -errno;
	eg->rodata->pks_cfg.replay = 1; /* the tests set its clock (pks_replay.now_ns) */
	err = pks_share_maps(eg->obj, xdp->skel->obj);
	if (!err)
		err = pks_skel_load(eg->skeleton, "the egress classifier");
	if (err) {
		pktspec_egress_bpf__destroy(eg);
		return err;
	}
	*skel = eg;
	*obj = eg->obj;
	return 0;
}

static void eg_destroy(void *skel)
{
	pktspec_egress_bpf__destroy(skel);
}

/* One egress object per process, reset between cases, like the classifier (tests/unit/pkt.h). */
static struct pks_companion eg_obj = { .load = eg_load, .destroy = eg_destroy };

static int eg_open(struct eg_env *e)
{
	void *eg;
	int err;

	memset(e, 0, sizeof(*e));
	err = pks_env_open(&e->xdp);
	if (err)
		return err;
	err = pks_companion_open(&eg_obj, &e->xdp, &eg);
	e->eg = eg;
	return err;
}

static void eg_close(struct eg_env *e)
{
	pks_companion_close(&eg_obj, e->eg);
	pks_env_close(&e->xdp);
}

/* Sends one frame out through the egress program, on the XDP env's clock. */
static int eg_send_raw(struct eg_env *e, const uint8_t *frame, size_t len, __u32 gso_segs)
{
	struct __sk_buff ctx = { .gso_segs = gso_segs };
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = frame, .data_size_in = len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	e->xdp.clock_ns += 1000000;
	e->eg->bss->pks_replay.now_ns = e->xdp.clock_ns;
	if (bpf_prog_test_run_opts(bpf_program__fd(e->eg->progs.pks_egress), &topts))
		return -errno;
	return (int)topts.retval == TC_ACT_UNSPEC ? 0 : -EBADMSG;
}

static int eg_send(struct eg_env *e, const struct pkt_spec *s, __u32 gso_segs)
{
	uint8_t frame[4096];
	size_t len = pkt_build(s, frame, sizeof(frame));

	return len ? eg_send_raw(e, frame, len, gso_segs) : -EMSGSIZE;
}

static const char http_req[] = "GET /index.html HTTP/1.1\r\nHost: example.test\r\nAccept: */*\r\n\r\n";
static const char http_resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

/* A client's HTTP exchange with this server: request in at XDP, reply out at egress. */
static void http_server_side(int ipv6)
{
	const char *c = ipv6 ? "2001:db8::1" : "198.18.0.1", *s = ipv6 ? "2001:db8::2" : "198.18.0.2";
	struct pkt_spec syn = { .ipv6 = ipv6, .src = c, .dst = s, .sport = 41000, .dport = 80, .l4 = 6,
				.tcp_flags = TCPF_SYN };
	struct pkt_spec synack = { .ipv6 = ipv6, .src = s, .dst = c, .sport = 80, .dport = 41000, .l4 = 6,
				   .tcp_flags = TCPF_SYN | TCPF_ACK };
	struct pkt_spec req = syn, resp = synack;
	uint8_t frame[4096];
	size_t resp_len;
	struct eg_env e;
	struct pks_flow_view f;

	req.tcp_flags = TCPF_PSH | TCPF_ACK;
	req.payload = http_req, req.payload_len = sizeof(http_req) - 1;
	resp.tcp_flags = TCPF_PSH | TCPF_ACK;
	resp.payload = http_resp, resp.payload_len = sizeof(http_resp) - 1;
	resp_len = pkt_build(&resp, frame, sizeof(frame));

	CHECK(eg_open(&e) == 0);
	CHECK_EQ(pks_env_run(&e.xdp, &syn), 0);
	CHECK_EQ(eg_send(&e, &synack, 0), 0);
	CHECK_EQ(pks_env_run(&e.xdp, &req), 0);
	CHECK_EQ(pks_env_flow(&e.xdp, &req, &f), 0);
	CHECK_EQ(f.proto, PKS_P_HTTP);
	CHECK_EQ(f.confidence, PKS_C_SIGNATURE); /* where XDP alone stops on a server */
	CHECK_EQ(eg_send(&e, &resp, 0), 0);
	CHECK_EQ(pks_env_flow(&e.xdp, &req, &f), 0);
	CHECK_EQ(f.confidence, PKS_C_CONFIRMED);
	CHECK_EQ(f.rule, PKS_R_HTTP_RESPONSE);
	CHECK_EQ(pks_env_flow_count(&e.xdp), 1);
	CHECK_EQ(f.packets[PKS_DIR_C2S], 2);
	CHECK_EQ(f.packets[PKS_DIR_S2C], 2);
	CHECK_EQ(f.bytes[PKS_DIR_S2C], pkt_build(&synack, frame, sizeof(frame)) + resp_len);
	/* The shared reason counters: the egress packets are counted there too. */
	CHECK_EQ(pks_env_reason(&e.xdp, PKS_REASON_NEW_FLOW), 1);
	CHECK_EQ(pks_env_reason(&e.xdp, PKS_REASON_INSPECTED), 2);
	CHECK_EQ(pks_env_reason(&e.xdp, PKS_REASON_TRACKED), 1);
	eg_close(&e);
}

TEST(egress_reply_confirms_v4)
{
	http_server_side(0);
}

TEST(egress_reply_confirms_v6)
{
	http_server_side(1);
}

/* A TSO skb leaves as gso_segs packets, each with the headers: count those. */
TEST(egress_gso_counts_segments)
{
	static uint8_t big[3000];
	struct pkt_spec syn = PKT_TCP4("198.18.0.1", 41001, "198.18.0.2", 22, TCPF_SYN);
	struct pkt_spec data = PKT_TCP4("198.18.0.2", 22, "198.18.0.1", 41001, TCPF_ACK);
	uint8_t frame[4096];
	size_t len;
	struct eg_env e;
	struct pks_flow_view f;

	memset(big, 0xa5, sizeof(big));
	data.payload = big, data.payload_len = sizeof(big);
	len = pkt_build(&data, frame, sizeof(frame));
	CHECK(len > 0);
	CHECK(eg_open(&e) == 0);
	CHECK_EQ(pks_env_run(&e.xdp, &syn), 0);
	CHECK_EQ(eg_send_raw(&e, frame, len, 3), 0);
	CHECK_EQ(pks_env_flow(&e.xdp, &syn, &f), 0);
	CHECK_EQ(f.packets[PKS_DIR_S2C], 3);
	CHECK_EQ(f.bytes[PKS_DIR_S2C], len + 2 * pkt_l4_off(&data) + 2 * 20 /* TCP header */);
	/* Its payload was read from the skb for the window, as at XDP. */
	CHECK_EQ(f.inspected[PKS_DIR_S2C], 1);
	eg_close(&e);
}

/*
 * Passive FTP with only the server's interface attached: the 227 reply goes
 * out through egress, the kernel FTP rule writes the expectation from that
 * copy, and the client's data connection is ftp-data "expected" from its SYN.
 */
TEST(egress_ftp_pasv_reply_expects_data_flow)
{
	static const char pasv[] = "227 Entering Passive Mode (198,18,0,2,195,81).\r\n";
	struct pkt_spec syn = PKT_TCP4("198.18.0.1", 41002, "198.18.0.2", 21, TCPF_SYN);
	struct pkt_spec reply = PKT_TCP4("198.18.0.2", 21, "198.18.0.1", 41002, TCPF_PSH | TCPF_ACK);
	struct pkt_spec dsyn = PKT_TCP4("198.18.0.1", 41003, "198.18.0.2", 195 * 256 + 81, TCPF_SYN);
	struct eg_env e;
	struct pks_flow_view f;

	reply.payload = pasv, reply.payload_len = sizeof(pasv) - 1;
	CHECK(eg_open(&e) == 0);
	CHECK_EQ(pks_env_run(&e.xdp, &syn), 0);
	CHECK_EQ(eg_send(&e, &reply, 0), 0);
	CHECK_EQ(pks_env_run(&e.xdp, &dsyn), 0);
	CHECK_EQ(pks_env_flow(&e.xdp, &dsyn, &f), 0);
	CHECK_EQ(f.proto, PKS_P_FTP_DATA);
	CHECK_EQ(f.confidence, PKS_C_EXPECTED);
	CHECK_EQ(f.rule, PKS_R_FTP_PASV);
	eg_close(&e);
}

/* Non-flow packets pass and are counted under their reason, like at XDP. */
TEST(egress_malformed_counted)
{
	static const uint8_t arp[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06 };
	struct pkt_spec s = PKT_TCP4("198.18.0.2", 80, "198.18.0.1", 41004, TCPF_ACK);
	uint8_t frame[256];
	size_t len = pkt_build(&s, frame, sizeof(frame));
	struct eg_env e;

	CHECK(eg_open(&e) == 0);
	CHECK_EQ(eg_send_raw(&e, arp, sizeof(arp), 0), 0);
	CHECK_EQ(pks_env_reason(&e.xdp, PKS_REASON_NON_IP), 1);
	CHECK_EQ(eg_send_raw(&e, frame, len - 4, 0), 0); /* TCP header cut short */
	CHECK_EQ(pks_env_reason(&e.xdp, PKS_REASON_TRUNC_TCP), 1);
	CHECK_EQ(pks_env_flow_count(&e.xdp), 0);
	eg_close(&e);
}

/*
 * On one egress hook the classifier runs before the policy filter (a lower
 * tc priority number, user/egress.c): the policy then acts on the verdict
 * the same packet produced. Here the two run in that order on the reply
 * that confirms the flow, and a policy asking for "confirmed" applies to it.
 */
TEST(egress_policy_sees_verdict_of_same_packet)
{
	struct pkt_spec syn = PKT_TCP4("198.18.0.1", 41005, "198.18.0.2", 80, TCPF_SYN);
	struct pkt_spec req = PKT_TCP4("198.18.0.1", 41005, "198.18.0.2", 80, TCPF_PSH | TCPF_ACK);
	struct pkt_spec resp = PKT_TCP4("198.18.0.2", 80, "198.18.0.1", 41005, TCPF_PSH | TCPF_ACK);
	struct pks_policy_rule r;
	char *words[] = { "http", "confidence", "confirmed", "mark", "7" }, err[256];
	struct pktspec_tc_bpf *tc;
	struct bpf_map *map;
	uint8_t frame[4096];
	size_t len;
	struct eg_env e;
	struct __sk_buff ctx = {};
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = frame, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .ctx_out = &ctx, .ctx_size_out = sizeof(ctx), .repeat = 1);

	req.payload = http_req, req.payload_len = sizeof(http_req) - 1;
	resp.payload = http_resp, resp.payload_len = sizeof(http_resp) - 1;
	len = pkt_build(&resp, frame, sizeof(frame));
	topts.data_size_in = len;
	CHECK(eg_open(&e) == 0);
	tc = pktspec_tc_bpf__open();
	CHECK(tc);
	bpf_object__for_each_map(map, tc->obj)
		bpf_map__set_pin_path(map, NULL);
	CHECK_EQ(bpf_map__reuse_fd(tc->maps.pks_flows, bpf_map__fd(e.xdp.skel->maps.pks_flows)), 0);
	CHECK_EQ(bpf_map__reuse_fd(tc->maps.pks_flows4, bpf_map__fd(e.xdp.skel->maps.pks_flows4)), 0);
	CHECK_EQ(pktspec_tc_bpf__load(tc), 0);
	CHECK_EQ(pks_policy_parse(5, words, &r, err, sizeof(err)), 0);
	CHECK_EQ(bpf_map_update_elem(bpf_map__fd(tc->maps.pks_policy), &r.key, &r.val, BPF_ANY), 0);

	CHECK_EQ(pks_env_run(&e.xdp, &syn), 0);
	CHECK_EQ(pks_env_run(&e.xdp, &req), 0);
	/* Policy alone before the reply: a signature is not what it asks for. */
	CHECK_EQ(bpf_prog_test_run_opts(bpf_program__fd(tc->progs.pks_tc), &topts), 0);
	CHECK_EQ(ctx.mark, 0);
	/* Classifier first, then policy, on the reply itself. */
	CHECK_EQ(eg_send_raw(&e, frame, len, 0), 0);
	CHECK_EQ(bpf_prog_test_run_opts(bpf_program__fd(tc->progs.pks_tc), &topts), 0);
	CHECK_EQ(ctx.mark, 7);
	pktspec_tc_bpf__destroy(tc);
	eg_close(&e);
}
