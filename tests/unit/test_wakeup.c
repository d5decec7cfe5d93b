// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * When the kernel wakes the event reader (bpf/context/events.h,
 * pks_cr_wake_lazy): flow and verdict events only when the bytes waiting
 * cross a multiple of PKS_EVENTS_WAKE, copies of control channels (a DNS
 * answer here) at once. The reader is an epoll set on the ring, as the
 * engine's (libbpf's ring_buffer): it becomes ready on a wakeup only.
 */
#include <sys/epoll.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "pkt.h"
#include "pktspec/events.h"
#include "pktspec.skel.h"

struct drained {
	long records;
	uint64_t bytes; /* in the ring (PKS_RB_LEN) */
	int copies;
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct drained *d = ctx;
	const struct pks_event *ev = data;

	d->records++;
	d->bytes += PKS_RB_LEN(size);
	d->copies += ev->type == PKS_EV_PAYLOAD;
	return 0;
}

/* Whether the reader was woken: the epoll set has the ring ready. */
static int woken(struct ring_buffer *rb)
{
	struct epoll_event e;

	return epoll_wait(ring_buffer__epoll_fd(rb), &e, 1, 0);
}

/* A DNS answer from 198.18.0.53: a.test A 198.18.0.7. */
static const uint8_t dns_answer[] = {
	0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 1, 'a', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1,
	0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 7,
};

TEST(wakeup_flow_events_wait_for_the_mark)
{
	struct pks_env env;
	struct drained d = { 0 };
	struct ring_buffer *rb;
	char src[32];
	long sent = 0;

	CHECK_EQ(pks_env_open(&env), 0);
	rb = pks_env_reader(&env, on_record, &d);
	CHECK(rb != NULL);
	CHECK_EQ(woken(rb), 0);
	/*
	 * New flows of no known protocol: one event each. The first goes into an
	 * empty ring that the reader has read to the end, where the kernel's own
	 * policy would wake it: it must not.
	 */
	while (sent < 20000) {
		struct pkt_spec s = PKT_UDP4(src, 40000, "198.18.0.2", 47000);

		snprintf(src, sizeof(src), "198.19.%ld.%ld", sent / 250, sent % 250 + 1);
		s.sport = 40000 + sent % 1000;
		CHECK_EQ(pks_env_run(&env, &s), 0);
		sent++;
		if (woken(rb))
			break;
	}
	CHECK(sent > 1);
	CHECK(sent < 20000);
	/* Woken by the event that crossed the mark, not one before or long after. */
	CHECK_EQ(ring_buffer__consume(rb) > 0, 1);
	CHECK_EQ(d.records, sent);
	CHECK(d.bytes >= PKS_EVENTS_WAKE);
	CHECK(d.bytes - PKS_RB_LEN(sizeof(struct pks_event_flow)) < PKS_EVENTS_WAKE);
	/* Read to the end: no longer ready. */
	CHECK_EQ(woken(rb), 0);
	ring_buffer__free(rb);
	pks_env_close(&env);
}

TEST(wakeup_control_copy_wakes_at_once)
{
	struct pks_env env;
	struct pkt_spec s = PKT_UDP4("198.18.0.53", 53, "198.18.0.1", 40000);
	struct pkt_spec other = PKT_UDP4("198.18.0.1", 40001, "198.18.0.2", 47000);
	struct drained d = { 0 };
	struct ring_buffer *rb;

	CHECK_EQ(pks_env_open(&env), 0);
	rb = pks_env_reader(&env, on_record, &d);
	CHECK(rb != NULL);
	/* An event waits unread, as the lazy ones do ... */
	CHECK_EQ(pks_env_run(&env, &other), 0);
	CHECK_EQ(woken(rb), 0);
	/* ... and the answer's copy wakes the reader all the same. */
	s.payload = dns_answer;
	s.payload_len = sizeof(dns_answer);
	CHECK_EQ(pks_env_run(&env, &s), 0);
	CHECK_EQ(woken(rb), 1);
	CHECK(ring_buffer__consume(rb) >= 3);
	CHECK_EQ(d.copies, 1);
	ring_buffer__free(rb);
	pks_env_close(&env);
}
