// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Tunnels through the real XDP object (bpf/encap.h): the flow inside is keyed
 * with the tunnel's ID, so two tenants' identical inner flows stay two; a
 * malformed or cut tunnel header, a third tunnel and an over-deep MPLS stack
 * are each counted under their own reason and touch no flow inside; what the
 * context maps hold for one tenant (server memory, DNS names) applies in that
 * tenant's tunnel only.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "harness.h"
#include "pkt.h"
#include "pktspec.skel.h"
#include "engine.h"
#include "pktspec/events.h"
#include "pktspec/flow_key.h"

#define C4 "198.18.0.1"
#define S4 "198.18.0.2"

static const uint8_t dns_query[] = { 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
				     1,    'x',  0,    0x00, 0x01, 0x00, 0x01 };

/* The inner DNS query frame (Ethernet first) into buf; its length. */
static size_t inner_frame(uint8_t *buf, size_t max)
{
	struct pkt_spec s = PKT_UDP4(C4, 40000, S4, 53);

	s.payload = dns_query;
	s.payload_len = sizeof(dns_query);
	return pkt_build(&s, buf, max);
}

/* A VXLAN frame with VNI vni around the inner DNS query. */
static size_t vxlan_frame(uint8_t *buf, uint32_t vni)
{
	uint8_t inner[256];
	size_t n = inner_frame(inner, sizeof(inner));

	return pkt_vxlan_wrap(buf, vni, inner, n);
}

/* `levels` plain GRE headers (IPv4 payload type) nested around the inner DNS query's IP packet. */
static size_t gre_nested(uint8_t *buf, int levels, uint16_t flags)
{
	uint8_t inner[256];
	size_t n = inner_frame(inner, sizeof(inner)) - 14;

	return pkt_gre_nested(buf, levels, flags, inner + 14, n);
}

TEST(encap_vxlan_tenants_stay_two_flows)
{
	struct pks_env env;
	uint8_t frame[512];
	size_t len;

	CHECK(pks_env_open(&env) == 0);
	len = vxlan_frame(frame, 1001);
	CHECK_EQ(pks_env_run_raw(&env, frame, len), 0);
	len = vxlan_frame(frame, 1002);
	CHECK_EQ(pks_env_run_raw(&env, frame, len), 0);
	/* One tunnel flow (the same outer 5-tuple) and one DNS flow per VNI. */
	CHECK_EQ(pks_env_flow_count(&env), 3);
	CHECK_EQ(pks_env_reason(&env, PKS_REASON_NEW_FLOW), 2);
	CHECK_EQ(pks_env_reason(&env, PKS_REASON_BAD_TUNNEL), 0);
	pks_env_close(&env);
}

TEST(encap_vxlan_without_i_flag_is_bad_tunnel)
{
	struct pks_env env;
	uint8_t frame[512];
	size_t len = vxlan_frame(frame, 7);

	frame[34 + 8] = 0x00; /* the I flag cleared */
	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_env_run_raw(&env, frame, len), 0);
	CHECK_EQ(pks_env_reason(&env, PKS_REASON_BAD_TUNNEL), 1);
	CHECK_EQ(pks_env_flow_count(&env), 0);
	pks_env_close(&env);
}

TEST(encap_vxlan_cut_is_trunc_tunnel)
{
	struct pks_env env;
	uint8_t frame[512];

	vxlan_frame(frame, 7);
	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_env_run_raw(&env, frame, 34 + 8 + 4), 0);
	CHECK_EQ(pks_env_reason(&env, PKS_REASON_TRUNC_TUNNEL), 1);
	CHECK_EQ(pks_env_flow_count(&env), 0);
	pks_env_close(&env);
}

TEST(encap_gre_version_is_bad_tunnel)
{
	struct pks_env env;
	uint8_t frame[512];
	size_t len = gre_nested(frame, 1, 0x0002); /* version 2 */

	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_env_run_raw(&env, frame, len), 0);
	CHECK_EQ(pks_env_reason(&env, PKS_REASON_BAD_TUNNEL), 1);
	CHECK_EQ(pks_env_flow_count(&env), 0);
	pks_env_close(&env);
}

TEST(encap_gre_two_levels_opened_three_not)
{
	struct pks_env env;
	uint8_t frame[512];
	size_t len;

	CHECK(pks_env_open(&env) == 0);
	len = gre_nested(frame, 2, 0);
	CHECK_EQ(pks_env_run_raw(&env, frame, len), 0);
	/* Two tunnel flows and the DNS flow inside both. */
	CHECK_EQ(pks_env_flow_count(&env), 3);
	CHECK_EQ(pks_env_reason(&env, PKS_REASON_NEW_FLOW), 1);
	pks_env_close(&env);

	CHECK(pks_env_open(&env) == 0);
	len = gre_nested(frame, 3, 0);
	CHECK_EQ(pks_env_run_raw(&env, frame, len), 0);
	CHECK_EQ(pks_env_reason(&env, PKS_REASON_TUNNEL_TOO_DEEP), 1);
	CHECK_EQ(pks_env_flow_count(&env), 2); /* the two tunnels opened; nothing inside the third */
	pks_env_close(&env);
}

TEST(encap_mpls_stack_too_deep)
{
	struct pks_env env;
	struct pkt_spec s = PKT_UDP4(C4, 40000, S4, 53);
	uint8_t inner[256], frame[512];
	size_t n, off = 14;

	s.payload = dns_query;
	s.payload_len = sizeof(dns_query);
	n = pkt_build(&s, inner, sizeof(inner));
	memcpy(frame, inner, 12);
	frame[12] = 0x88;
	frame[13] = 0x47;
	for (int i = 0; i < 7; i++, off += 4) { /* seven labels, none the bottom one */
		frame[off] = 0;
		frame[off + 1] = 0x10;
		frame[off + 2] = 0;
		frame[off + 3] = 64;
	}
	memcpy(frame + off, inner + 14, n - 14);
	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_env_run_raw(&env, frame, off + n - 14), 0);
	CHECK_EQ(pks_env_reason(&env, PKS_REASON_MPLS_TOO_DEEP), 1);
	CHECK_EQ(pks_env_flow_count(&env), 0);
	/* With the bottom-of-stack bit on the third label, the flow below is keyed. */
	frame[14 + 8 + 2] = 0x01;
	memmove(frame + 14 + 12, frame + off, n - 14);
	CHECK_EQ(pks_env_run_raw(&env, frame, 14 + 12 + n - 14), 0);
	CHECK_EQ(pks_env_flow_count(&env), 1);
	pks_env_close(&env);
}

/* The inner DNS flow of VXLAN VNI vni, from the kernel's table. */
static int vxlan_inner_flow(struct pks_env *env, uint32_t vni, struct pks_flow_view *v)
{
	struct pks_flowtab t;
	struct pks_flow_key k;
	uint8_t c[16] = { [10] = 0xff, [11] = 0xff }, srv[16] = { [10] = 0xff, [11] = 0xff };

	inet_pton(AF_INET, C4, c + 12);
	inet_pton(AF_INET, S4, srv + 12);
	pks_flow_key_fill(&k, c, 40000, srv, 53, 17);
	k.encap = PKS_E_VXLAN;
	k.depth = 1;
	k.tunnel_id = vni;
	if (pks_flowtab_for_skel(&t, env->skel, true))
		return -1;
	return pks_flowtab_get(&t, &k, v);
}

/*
 * Server memory and a DNS name written for the server inside VNI 1001 (as the
 * daemon writes them from that tenant's flows): a new flow to the same address
 * and port in VNI 1001 starts from them, the same flow in VNI 1002 does not.
 */
TEST(encap_context_stays_in_its_tunnel)
{
	struct pks_env env;
	struct pks_server_key sk = { .port = 53, .l4 = 17 };
	struct pks_server sv = { .expires_ns = ~0ull, .proto = PKS_P_DNS, .rule = PKS_R_DNS_RESPONSE, .app = 3 };
	struct pks_host_key hk = { 0 };
	struct pks_host hv = { .expires_ns = ~0ull, .name = "tenant-one.example", .app = 3 };
	struct pks_flow_view v;
	uint8_t frame[512];
	size_t len;

	CHECK(pks_env_open(&env) == 0);
	sk.addr[10] = sk.addr[11] = 0xff;
	inet_pton(AF_INET, S4, sk.addr + 12);
	memcpy(hk.addr, sk.addr, 16);
	sk.scope = (struct pks_scope){ .encap = PKS_E_VXLAN, .depth = 1, .tunnel_id = 1001 };
	hk.scope = sk.scope;
	CHECK_EQ(bpf_map_update_elem(bpf_map__fd(env.skel->maps.pks_servers), &sk, &sv, BPF_ANY), 0);
	CHECK_EQ(bpf_map_update_elem(bpf_map__fd(env.skel->maps.pks_hosts), &hk, &hv, BPF_ANY), 0);
	CHECK_EQ(pks_env_tables_alive(&env), 0);

	len = vxlan_frame(frame, 1001);
	CHECK_EQ(pks_env_run_raw(&env, frame, len), 0);
	CHECK_EQ(vxlan_inner_flow(&env, 1001, &v), 0);
	CHECK_EQ(v.rule, PKS_R_SERVER_MEMORY);
	CHECK_EQ(v.confidence, PKS_C_EXPECTED);
	CHECK_EQ(v.app, 3);
	CHECK(v.ctx & PKS_X_NAMED);

	len = vxlan_frame(frame, 1002);
	CHECK_EQ(pks_env_run_raw(&env, frame, len), 0);
	CHECK_EQ(vxlan_inner_flow(&env, 1002, &v), 0);
	CHECK(v.rule != PKS_R_SERVER_MEMORY);
	CHECK(v.confidence != PKS_C_EXPECTED);
	CHECK_EQ(v.app, 0);
	CHECK(!(v.ctx & PKS_X_NAMED));
	pks_env_close(&env);
}

/*
 * The daemon's side: a DNS answer inside VNI 1001 names its address for VNI
 * 1001 only (the pks_hosts key carries the tunnel), and the engine's printed
 * events say which tunnel a flow came in, as `flows --json` does.
 */
TEST(encap_dns_name_and_events_carry_the_tunnel)
{
	static const uint8_t answer[] = { 0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
					  1,    'x',  0,    0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x01, 0x00,
					  0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 198,  18,   0,    77 };
	struct pks_engine_opts eo = { .print = true, .json = true };
	struct pkt_spec rs = PKT_UDP4(S4, 53, C4, 40000);
	struct pks_host_key hk = { .addr = { [10] = 0xff, [11] = 0xff, 198, 18, 0, 77 } };
	struct pks_engine *eng;
	struct pks_env env;
	struct pks_host hv;
	uint8_t inner[256], frame[512];
	char *out = NULL;
	size_t outlen = 0, n;

	CHECK(pks_env_open(&env) == 0);
	eo.out = open_memstream(&out, &outlen);
	CHECK(eo.out != NULL);
	CHECK_EQ(pks_engine_for_skel_opts(env.skel, &eo, &eng), 0);
	n = vxlan_frame(frame, 1001);
	CHECK_EQ(pks_env_run_raw(&env, frame, n), 0);
	rs.payload = answer;
	rs.payload_len = sizeof(answer);
	n = pkt_build(&rs, inner, sizeof(inner));
	n = pkt_vxlan_wrap(frame, 1001, inner, n);
	CHECK_EQ(pks_env_run_raw(&env, frame, n), 0);
	pks_engine_poll(eng, 0);
	fflush(eo.out);

	hk.scope = (struct pks_scope){ .encap = PKS_E_VXLAN, .depth = 1, .tunnel_id = 1001 };
	CHECK_EQ(bpf_map_lookup_elem(bpf_map__fd(env.skel->maps.pks_hosts), &hk, &hv), 0);
	CHECK_STR(hv.name, "x");
	hk.scope.tunnel_id = 1002;
	CHECK(bpf_map_lookup_elem(bpf_map__fd(env.skel->maps.pks_hosts), &hk, &hv) != 0);
	memset(&hk.scope, 0, sizeof(hk.scope));
	CHECK(bpf_map_lookup_elem(bpf_map__fd(env.skel->maps.pks_hosts), &hk, &hv) != 0);
	CHECK(out && strstr(out, "\"event\":\"flow\"") && strstr(out, "\"server_port\":53"));
	CHECK(strstr(out, "\"tunnel\":\"vxlan\",\"tunnel_id\":1001,\"tunnel_depth\":1") != NULL);
	pks_engine_free(eng);
	fclose(eo.out);
	free(out);
	pks_env_close(&env);
}
