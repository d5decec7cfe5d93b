// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * libFuzzer target: every payload signature of bpf/sig/ compiled as plain C.
 *
 * Input: a 6-byte header (source port, destination port, both big-endian;
 * the direction's packet count; the flow's verdict so far) and the payload.
 * The payload is given to the signatures the way the classifier does
 * (bpf/pktspec.bpf.c pks_hook_window): its first PKS_WIN bytes in the
 * window, zero past len, total the whole payload's length. Each of TCP and
 * UDP, sent by the client and by the server, runs
 *  - the stage chain of that L4 in table order (pks_sig_stage_run, first
 *    match wins), with the cookie a match set carried to the next packet,
 *    as the flow's state would carry it;
 *  - every signature function on its own.
 * Invariants, checked with abort() so that libFuzzer keeps the input:
 *  - no read outside the window: the payload is a heap object of its own
 *    size, so ASan sees any access past it;
 *  - a signature does not decide on bytes it was not given: the same call
 *    with the window filled past len with 0xff instead of zeros gives the
 *    same answer;
 *  - no signature matches an empty payload;
 *  - a match names a protocol, rule and role that exist.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "signatures.h"

typedef int (*sig_fn)(const struct pks_payload *, struct pks_match *);

struct sig_row {
	const char *name;
	sig_fn fn;
	__u8 l4;
};

static const struct sig_row sigs[] = {
#define PKS_SIG(stage, name) { #name, pks_sig_##name, 0 },
#include "sig/signatures.def"
};

#define NSIGS (sizeof(sigs) / sizeof(sigs[0]))
static __u8 sig_l4[NSIGS];
static __u8 sig_mid[NSIGS]; /* the row's stage serves only flows picked up mid-session */

static void fail(const char *what, const char *name, const struct pks_payload *p)
{
	fprintf(stderr, "fuzz_sig: %s: %s (l4 %u, from_client %u, len %u, total %u, ports %u->%u)\n", what, name,
		p->l4, p->from_client, p->len, p->total, p->sport, p->dport);
	abort();
}

static void check_match(const char *name, const struct pks_payload *p, const struct pks_match *m)
{
	if (m->proto >= PKS_P__COUNT || m->rule >= PKS_R__COUNT || m->role > PKS_ROLE_SERVER)
		fail("a match outside the tables", name, p);
}

/* The window of one packet: a heap object of exactly sizeof(struct pks_payload). */
static struct pks_payload *window(const uint8_t *data, size_t n, __u8 fill)
{
	struct pks_payload *p = malloc(sizeof(*p));

	if (!p)
		abort();
	memset(p, 0, sizeof(*p));
	p->len = n < PKS_WIN ? n : PKS_WIN;
	memcpy(p->b, data, p->len);
	memset(p->b + p->len, fill, PKS_WIN - p->len);
	p->total = n;
	return p;
}

static void set_meta(struct pks_payload *p, const struct pks_payload *from)
{
	p->sport = from->sport;
	p->dport = from->dport;
	p->cookie = from->cookie;
	p->l4 = from->l4;
	p->from_client = from->from_client;
	p->nth = from->nth;
	p->flow_proto = from->flow_proto;
	p->flow_mid = from->flow_mid;
	p->flow_upgrade = from->flow_upgrade;
	p->flow_rule = from->flow_rule;
}

/* One signature, with zeros and with 0xff past len: the same answer. */
static void run_one(size_t i, const struct pks_payload *p, const uint8_t *data, size_t n)
{
	struct pks_payload *q = window(data, n, 0xff);
	struct pks_match a = {}, b = {};
	int ra, rb;

	set_meta(q, p);
	ra = sigs[i].fn(p, &a);
	rb = sigs[i].fn(q, &b);
	a.forget = b.forget = 0; /* scratch */
	if (ra)
		check_match(sigs[i].name, p, &a);
	/* The classifier skips a mid-session stage for other flows (PKS_STAGE_MID). */
	if (ra && sig_mid[i] && !p->flow_mid)
		fail("a mid-session stage's row matched a flow whose handshake was seen", sigs[i].name, p);
	if (ra != rb || (ra && memcmp(&a, &b, sizeof(a))))
		fail("the answer depends on bytes past len", sigs[i].name, p);
	free(q);
}

/* The stage chain of p's L4, as the classifier runs it; returns whether one matched. */
static int run_chain(const struct pks_payload *p, struct pks_match *m)
{
	for (__u32 s = pks_sig_stage_first(p->l4); s < PKS_SG__COUNT; s = pks_sig_stage_next(s))
		if (pks_sig_stage_runs(s, p) && pks_sig_stage_run(s, p, m))
			return 1;
	return 0;
}

static void empty_payload(__u8 l4, int from_client, const struct pks_payload *meta)
{
	struct pks_payload *p = window((const uint8_t *)"", 0, 0);
	struct pks_match m = {};

	set_meta(p, meta);
	p->l4 = l4;
	p->from_client = from_client;
	if (run_chain(p, &m) && m.proto != PKS_P_UNKNOWN)
		fail("a verdict on an empty payload", "stage chain", p);
	for (size_t i = 0; i < NSIGS; i++) {
		memset(&m, 0, sizeof(m));
		if (sigs[i].fn(p, &m) && m.proto != PKS_P_UNKNOWN)
			fail("a verdict on an empty payload", sigs[i].name, p);
	}
	free(p);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Each row's L4 is its stage's: signatures that serve both have a row in each. */
	size_t i = 0;
#define PKS_SIG(stage, name) sig_mid[i] = pks_sig_stage_mid(PKS_SG_##stage), sig_l4[i++] = pks_sig_stage_l4(PKS_SG_##stage);
#include "sig/signatures.def"
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const __u8 l4s[] = { IPPROTO_TCP, IPPROTO_UDP };
	uint8_t hdr[6] = {};
	const uint8_t *pl;
	size_t n;

	memcpy(hdr, data, size < sizeof(hdr) ? size : sizeof(hdr));
	pl = size > sizeof(hdr) ? data + sizeof(hdr) : data + size;
	n = size > sizeof(hdr) ? size - sizeof(hdr) : 0;

	for (size_t k = 0; k < 2; k++) {
		__u32 cookie = 0;

		for (int dir = 1; dir >= 0; dir--) {
			struct pks_payload *p = window(pl, n, 0);
			struct pks_match m = {};

			p->l4 = l4s[k];
			p->from_client = dir;
			p->sport = dir ? (hdr[0] << 8 | hdr[1]) : (hdr[2] << 8 | hdr[3]);
			p->dport = dir ? (hdr[2] << 8 | hdr[3]) : (hdr[0] << 8 | hdr[1]);
			p->nth = hdr[4] & 15;
			p->flow_mid = (hdr[4] >> 4) & 1; /* picked up mid-session (bpf/sig/midstream.h) */
			p->flow_proto = hdr[5] % PKS_P__COUNT;
			/* An announced upgrade (HTTP 101, STUN), and a verdict made after STUN (bpf/sig/rtp.h). */
			p->flow_upgrade = (hdr[4] >> 5) & 1;
			p->flow_rule = (hdr[4] >> 6) & 1 ? PKS_R_RTP_AFTER_STUN : PKS_R_NONE;
			p->cookie = cookie;
			if (n == 0) {
				empty_payload(l4s[k], dir, p);
			} else {
				if (run_chain(p, &m)) {
					check_match("stage chain", p, &m);
					if (m.set_cookie)
						cookie = m.cookie;
				}
				for (size_t i = 0; i < NSIGS; i++)
					if (sig_l4[i] == p->l4)
						run_one(i, p, pl, n);
			}
			free(p);
		}
	}
	if (n)
		for (size_t k = 0; k < 2; k++) {
			struct pks_payload meta = { .sport = hdr[0] << 8 | hdr[1], .dport = hdr[2] << 8 | hdr[3] };

			empty_payload(l4s[k], 1, &meta);
		}
	return 0;
}
