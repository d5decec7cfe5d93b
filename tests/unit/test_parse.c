// SPDX-License-Identifier: MIT OR Apache-2.0
/* Parser edges through the real XDP object: every packet passes, one reason each. */
#include "harness.h"
#include "pkt.h"

TEST(parse_tcp4_new_flow)
{
	struct pks_env env;
	struct pkt_spec s = PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 80, TCPF_SYN);
	struct pks_flow f;

	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_env_run(&env, &s), 0);
	CHECK_EQ(pks_env_reason(&env, PKS_REASON_NEW_FLOW), 1);
	CHECK_EQ(pks_env_flow(&env, &s, &f), 0);
	CHECK_EQ(f.proto, PKS_P_HTTP);
	CHECK_EQ(f.confidence, PKS_C_PORT);
	CHECK_EQ(f.rule, PKS_R_PORT);
	CHECK(f.flags & PKS_F_SYN);
	CHECK_EQ(f.packets[PKS_DIR_C2S], 1);
	pks_env_close(&env);
}

TEST(parse_bad_ihl_counted_and_passed)
{
	struct pks_env env;
	struct pkt_spec s = PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 80, TCPF_SYN);
	uint8_t frame[256];
	size_t len = pkt_build(&s, frame, sizeof(frame));

	frame[pkt_l3_off(&s)] = 0x44; /* ihl 4: below the minimum of 5 */
	CHECK(pks_env_open(&env) == 0);
	CHECK_EQ(pks_env_run_raw(&env, frame, len), 0);
	CHECK_EQ(pks_env_reason(&env, PKS_REASON_BAD_IHL), 1);
	CHECK_EQ(pks_env_flow_count(&env), 0);
	pks_env_close(&env);
}
