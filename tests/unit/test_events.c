// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * The events a new flow sends while an engine reads the ring
 * (bpf/pktspec.bpf.c, pks_track and pks_verdict): one flow event, with the
 * verdict its first packet gave. When the signatures read that packet before
 * the packet ends, the event waits for them (after the payload's copy,
 * when one goes out) and carries their verdict, with the guess before them
 * (the port's) as the old one and PKS_EVK_MOVED when they moved it; a
 * verdict event is for a later packet.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "pkt.h"
#include "pktspec/events.h"
#include "pktspec.skel.h"

#define EVS_MAX 8

struct evs {
	int n;
	struct pks_event h[EVS_MAX];
};

static int evs_record(void *ctx, void *data, size_t size)
{
	struct evs *e = ctx;

	if (size >= sizeof(struct pks_event) && e->n < EVS_MAX)
		memcpy(&e->h[e->n], data, sizeof(struct pks_event));
	e->n++;
	return 0;
}

/* Runs s (payload text, or none) as a new flow's first packet; e: the records it sent, in order. */
static int evs_first_packet(struct pkt_spec s, const char *text, struct evs *e)
{
	struct ring_buffer *rb;
	struct pks_env env;
	int err;

	memset(e, 0, sizeof(*e));
	if (pks_env_open(&env))
		return -1;
	rb = pks_env_reader(&env, evs_record, e);
	s.payload = text;
	s.payload_len = text ? strlen(text) : 0;
	err = !rb || pks_env_run(&env, &s) || ring_buffer__consume(rb) < 0;
	ring_buffer__free(rb);
	pks_env_close(&env);
	return err ? -1 : 0;
}

/*
 * Whether event h is of this type and verdict, with the old confidence and
 * PKS_EVK_MOVED as given (a helper's CHECK returns from the helper only: the
 * caller checks pks_test_failed()).
 */
static void evs_is(const struct pks_event *h, int type, int proto, int confidence, int old_confidence, int moved)
{
	CHECK_EQ(h->type, type);
	CHECK_EQ(h->proto, proto);
	CHECK_EQ(h->confidence, confidence);
	CHECK_EQ(h->old_confidence, old_confidence);
	CHECK_EQ(h->kflags & PKS_EVK_MOVED, moved ? PKS_EVK_MOVED : 0);
}

/* An HTTP request as a new flow's first packet, to port. */
static int evs_http(uint16_t port, struct evs *e)
{
	return evs_first_packet(PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", port, TCPF_PSH | TCPF_ACK),
				"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", e);
}

static const uint8_t dns_query[] = {
	0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1,
};

TEST(events_new_flow_read_by_the_signatures_sends_one_event_with_their_verdict)
{
	struct pkt_spec s = PKT_UDP4("198.18.0.1", 40000, "198.18.0.53", 53);
	struct ring_buffer *rb;
	struct pks_env env;
	struct evs e = { 0 };

	CHECK_EQ(pks_env_open(&env), 0);
	rb = pks_env_reader(&env, evs_record, &e);
	CHECK(rb != NULL);
	s.payload = dns_query;
	s.payload_len = sizeof(dns_query);
	CHECK_EQ(pks_env_run(&env, &s), 0);
	CHECK(ring_buffer__consume(rb) >= 0);
	/* A DNS query: no copy (names come from answers), the signature moves the port's guess. */
	CHECK_EQ(e.n, 1);
	evs_is(&e.h[0], PKS_EV_FLOW, PKS_P_DNS, PKS_C_SIGNATURE, PKS_C_PORT, 1);
	CHECK(!pks_test_failed());
	CHECK_EQ(e.h[0].old_proto, PKS_P_DNS);
	/* The flow's next packet, the answer, is no new flow: a verdict event if anything. */
	e.n = 0;
	s = PKT_UDP4("198.18.0.53", 53, "198.18.0.1", 40000);
	CHECK_EQ(pks_env_run(&env, &s), 0);
	CHECK(ring_buffer__consume(rb) >= 0);
	for (int i = 0; i < e.n && i < EVS_MAX; i++)
		CHECK(e.h[i].type != PKS_EV_FLOW);
	ring_buffer__free(rb);
	pks_env_close(&env);
}

/*
 * HTTP on a port that suggests nothing: the flow event with the signature's
 * verdict, then the copy its Host is read from. On port 80 the port's guess
 * wants the copy first: the copy, then the flow event with the signature's
 * verdict, the port's guess as the old one; no verdict event.
 */
TEST(events_new_flow_of_http_with_and_without_a_copy_first)
{
	struct evs e;

	CHECK_EQ(evs_http(40080, &e), 0);
	CHECK_EQ(e.n, 2);
	evs_is(&e.h[0], PKS_EV_FLOW, PKS_P_HTTP, PKS_C_SIGNATURE, PKS_C_NONE, 1);
	CHECK(!pks_test_failed());
	CHECK_EQ(e.h[0].old_proto, PKS_P_UNKNOWN);
	CHECK_EQ(e.h[1].type, PKS_EV_PAYLOAD);
	CHECK_EQ(e.h[1].proto, PKS_P_HTTP);

	CHECK_EQ(evs_http(80, &e), 0);
	CHECK_EQ(e.n, 2);
	CHECK_EQ(e.h[0].type, PKS_EV_PAYLOAD);
	CHECK_EQ(e.h[0].proto, PKS_P_HTTP);
	evs_is(&e.h[1], PKS_EV_FLOW, PKS_P_HTTP, PKS_C_SIGNATURE, PKS_C_PORT, 1);
}

TEST(events_new_flow_nothing_moved_or_nothing_read)
{
	struct evs e;

	/* A payload no signature names, on a port that suggests nothing: one event, nothing moved. */
	CHECK_EQ(evs_first_packet(PKT_UDP4("198.18.0.1", 40000, "198.18.0.2", 47000), "\x01\x02\x03 nothing", &e), 0);
	CHECK_EQ(e.n, 1);
	evs_is(&e.h[0], PKS_EV_FLOW, PKS_P_UNKNOWN, PKS_C_NONE, PKS_C_NONE, 0);
	CHECK(!pks_test_failed());
	/* A SYN: no payload to read, the event goes at once with the port's guess. */
	CHECK_EQ(evs_first_packet(PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 22, TCPF_SYN), NULL, &e), 0);
	CHECK_EQ(e.n, 1);
	evs_is(&e.h[0], PKS_EV_FLOW, PKS_P_SSH, PKS_C_PORT, PKS_C_NONE, 0);
}

/*
 * A keepalive (CRLF) as an HTTP flow's first packet: copied (the port's
 * guess wants it), then nothing for the signatures to read (pks_window ends
 * the packet), and the waiting flow event goes out with the guess.
 */
TEST(events_new_flow_ending_after_its_copy_still_sends_its_event)
{
	struct evs e;

	CHECK_EQ(evs_first_packet(PKT_TCP4("198.18.0.1", 40000, "198.18.0.2", 80, TCPF_PSH | TCPF_ACK), "\r\n", &e),
		 0);
	CHECK_EQ(e.n, 2);
	CHECK_EQ(e.h[0].type, PKS_EV_PAYLOAD);
	evs_is(&e.h[1], PKS_EV_FLOW, PKS_P_HTTP, PKS_C_PORT, PKS_C_NONE, 0);
}
