// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * The name parsers of the context rules, on their own: TCP stream
 * reassembly, TLS ClientHello/ServerHello, QUIC client Initial decryption
 * (published RFC 9001 / RFC 9369 vectors and crafted packets), and HTTP
 * request heads. Splits at every byte boundary, reordering, duplicates, and
 * hostile lengths. No BPF object is involved.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctx_names_build.h"
#include "harness.h"
#include "http_req.h"
#include "quic_initial.h"
#include "quic_vectors.h"
#include "tcp_reasm.h"
#include "tls_hello.h"

/* ---- helpers ---- */

static size_t unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;

	for (; hex[0] && hex[1] && n < max; hex += 2) {
		unsigned int b;

		sscanf(hex, "%2x", &b);
		out[n++] = (uint8_t)b;
	}
	return n;
}

static int hex_equal(const uint8_t *p, size_t n, const char *hex)
{
	uint8_t want[64];

	return unhex(hex, want, sizeof(want)) == n && !memcmp(p, want, n);
}

/* ---- TCP reassembly ---- */

TEST(ctx_reasm_in_order_and_wrap)
{
	struct pks_reasm r;
	const uint8_t a[] = "hello ", b[] = "world";

	/* The sequence space wraps inside the stream (RFC 9293 3.4). */
	pks_reasm_init_base(&r, 0xfffffffc);
	CHECK_EQ(pks_reasm_add(&r, 0xfffffffc, a, 6), 0);
	CHECK_EQ(pks_reasm_add(&r, 0x00000002, b, 5), 0);
	CHECK_EQ(pks_reasm_len(&r), 11);
	CHECK(!memcmp(pks_reasm_data(&r), "hello world", 11));
	pks_reasm_free(&r);
}

TEST(ctx_reasm_unknown_base_moves_down)
{
	struct pks_reasm r;

	pks_reasm_init(&r);
	CHECK_EQ(pks_reasm_add(&r, 1010, (const uint8_t *)"klmno", 5), 0);
	CHECK_EQ(pks_reasm_len(&r), 5);
	/* An earlier segment arrives late: byte 0 moves down to it. */
	CHECK_EQ(pks_reasm_add(&r, 1000, (const uint8_t *)"abcde", 5), 0);
	CHECK_EQ(pks_reasm_len(&r), 5);
	CHECK(pks_reasm_has_gap(&r));
	CHECK_EQ(pks_reasm_add(&r, 1005, (const uint8_t *)"fghij", 5), 0);
	CHECK_EQ(pks_reasm_len(&r), 15);
	CHECK(!memcmp(pks_reasm_data(&r), "abcdefghijklmno", 15));
	CHECK(!pks_reasm_has_gap(&r));
	pks_reasm_free(&r);
}

TEST(ctx_reasm_overlap_first_copy_wins)
{
	struct pks_reasm r;

	pks_reasm_init_base(&r, 100);
	CHECK_EQ(pks_reasm_add(&r, 100, (const uint8_t *)"abcdef", 6), 0);
	/* A retransmission that overlaps and disagrees: the first copy stays. */
	CHECK_EQ(pks_reasm_add(&r, 103, (const uint8_t *)"XYZghi", 6), 0);
	CHECK_EQ(pks_reasm_len(&r), 9);
	CHECK(!memcmp(pks_reasm_data(&r), "abcdefghi", 9));
	CHECK_EQ(r.conflicts, 3);
	/* Before the known first byte: trimmed, not shifted. */
	CHECK_EQ(pks_reasm_add(&r, 98, (const uint8_t *)"zzab", 4), 0);
	CHECK_EQ(r.dropped, 2);
	CHECK(!memcmp(pks_reasm_data(&r), "abcdefghi", 9));
	pks_reasm_free(&r);
}

TEST(ctx_reasm_window_is_bounded)
{
	struct pks_reasm r;
	static uint8_t big[PKS_REASM_MAX + 100];

	memset(big, 'x', sizeof(big));
	pks_reasm_init_base(&r, 0);
	CHECK_EQ(pks_reasm_add(&r, 0, big, sizeof(big)), 0);
	CHECK_EQ(pks_reasm_len(&r), PKS_REASM_MAX);
	CHECK_EQ(r.dropped, 100);
	CHECK(r.cap <= PKS_REASM_MAX);
	/* Far beyond the window, and a huge length: dropped, nothing allocated. */
	CHECK_EQ(pks_reasm_add(&r, 0x40000000, big, sizeof(big)), 0);
	CHECK_EQ(r.dropped, 100 + sizeof(big));
	pks_reasm_free(&r);

	/* Without a known base, a segment far below does not wipe what is held. */
	pks_reasm_init(&r);
	CHECK_EQ(pks_reasm_add(&r, 500000, (const uint8_t *)"abc", 3), 0);
	CHECK_EQ(pks_reasm_add(&r, 100, (const uint8_t *)"zz", 2), 0);
	CHECK_EQ(pks_reasm_len(&r), 3);
	CHECK(!memcmp(pks_reasm_data(&r), "abc", 3));
	pks_reasm_free(&r);
}

/* ---- TLS ---- */

TEST(ctx_tls_client_hello_fields)
{
	struct buf m, s;
	struct pks_tls_hello h;

	client_hello(&m, &big_hello);
	records(&s, &m, 16384);
	CHECK(s.n > 1500); /* larger than one Ethernet segment: the case this is for */
	CHECK_EQ(pks_tls_parse_records(s.b, s.n, 0, &h), PKS_TLS_COMPLETE);
	CHECK_STR(h.sni, "www.example.org");
	CHECK_STR(h.alpn, "h2,http/1.1");
	CHECK_EQ(h.alpn_count, 2);
	CHECK_EQ(h.version, PKS_TLS_V13); /* GREASE 0x3a3a is not a version */
	CHECK_EQ(h.legacy_version, PKS_TLS_V12);
	CHECK_EQ(h.record_version, PKS_TLS_V10);
	CHECK_EQ(h.hello_len, m.n);
	CHECK_STR(pks_tls_version_name(h.version), "1.3");
}

/* Feeds segments (start offsets into s) in the given order; every state
 * before the last must be "need more", the last must complete. */
static int feed_tcp(const struct buf *s, const size_t *cuts, int nseg, const int *order, int norder,
		    uint32_t isn, int known_base, char *why, size_t whylen)
{
	struct pks_reasm r;
	struct pks_tls_hello h;
	int st = PKS_TLS_NEED_MORE;

	if (known_base)
		pks_reasm_init_base(&r, isn);
	else
		pks_reasm_init(&r);
	for (int k = 0; k < norder; k++) {
		int i = order[k];
		size_t a = cuts[i], b = i + 1 < nseg ? cuts[i + 1] : s->n;

		pks_reasm_add(&r, isn + (uint32_t)a, s->b + a, b - a);
		st = pks_tls_parse_records(pks_reasm_data(&r), pks_reasm_len(&r), 0, &h);
		if (st == PKS_TLS_MALFORMED) {
			snprintf(why, whylen, "malformed after segment %d: %s", k, h.why);
			break;
		}
		if (st == PKS_TLS_COMPLETE && k != norder - 1 && pks_reasm_len(&r) < s->n) {
			snprintf(why, whylen, "complete before all bytes");
			st = PKS_TLS_MALFORMED;
			break;
		}
	}
	if (st == PKS_TLS_COMPLETE && (strcmp(h.sni, "www.example.org") || h.version != PKS_TLS_V13)) {
		snprintf(why, whylen, "wrong fields: sni %.60s", h.sni);
		st = PKS_TLS_MALFORMED;
	}
	pks_reasm_free(&r);
	return st;
}

TEST(ctx_tls_two_segments_every_boundary)
{
	struct buf m, s;
	char why[128] = "";
	/* in order, reversed, first segment retransmitted, second duplicated */
	static const int orders[][4] = { { 0, 1 }, { 1, 0 }, { 0, 0, 1 }, { 1, 0, 1 } };
	static const int lens[] = { 2, 2, 3, 3 };

	client_hello(&m, &big_hello);
	/* Two records: the records themselves split the handshake message. */
	records(&s, &m, 1000);
	for (size_t cut = 1; cut < s.n; cut++) {
		size_t cuts[2] = { 0, cut };

		for (int o = 0; o < 4; o++) {
			uint32_t isn = 0xfffff000u + (uint32_t)cut; /* crosses the wrap for some cuts */
			int st = feed_tcp(&s, cuts, 2, orders[o], lens[o], isn, 1, why, sizeof(why));

			if (st != PKS_TLS_COMPLETE) {
				pks_test_fail(__FILE__, __LINE__, "cut %zu order %d: %s", cut, o, why[0] ? why : "incomplete");
				return;
			}
		}
		/* Without the SYN's sequence number, in order still works. */
		if (feed_tcp(&s, cuts, 2, orders[0], 2, 77, 0, why, sizeof(why)) != PKS_TLS_COMPLETE) {
			pks_test_fail(__FILE__, __LINE__, "cut %zu unknown base: %s", cut, why);
			return;
		}
	}
}

TEST(ctx_tls_three_segments_all_boundaries)
{
	struct buf m, s;
	char why[128] = "";
	static const int orders[][4] = { { 0, 1, 2 }, { 2, 1, 0 }, { 1, 2, 0 }, { 0, 2, 1 }, { 2, 0, 1, 0 } };
	static const int lens[] = { 3, 3, 3, 3, 4 };
	struct hello_opts small = { .sni = "www.example.org", .alpn = { "h2" } };

	/* Every pair of cuts of a short hello carried in two records... */
	client_hello(&m, &small);
	records(&s, &m, 100);
	for (size_t i = 1; i < s.n; i++)
		for (size_t j = i + 1; j < s.n; j++) {
			size_t cuts[3] = { 0, i, j };

			for (int o = 0; o < 5; o++)
				if (feed_tcp(&s, cuts, 3, orders[o], lens[o], 1000, 1, why, sizeof(why)) !=
				    PKS_TLS_COMPLETE) {
					pks_test_fail(__FILE__, __LINE__, "cuts %zu,%zu order %d: %s", i, j, o, why);
					return;
				}
		}
	/* ...and a post-quantum-sized one in three MSS-like pieces at every offset. */
	client_hello(&m, &big_hello);
	records(&s, &m, 16384);
	for (size_t i = 1; i + 536 < s.n; i++) {
		size_t cuts[3] = { 0, i, i + 536 };

		for (int o = 0; o < 5; o++)
			if (feed_tcp(&s, cuts, 3, orders[o], lens[o], 5, 1, why, sizeof(why)) != PKS_TLS_COMPLETE) {
				pks_test_fail(__FILE__, __LINE__, "big cuts %zu order %d: %s", i, o, why);
				return;
			}
	}
}

static int parse_mutated(struct buf *s, size_t at, uint8_t val, const char **why)
{
	struct pks_tls_hello h;
	uint8_t old = s->b[at];
	int st;

	s->b[at] = val;
	st = pks_tls_parse_records(s->b, s->n, 0, &h);
	s->b[at] = old;
	*why = h.why;
	return st;
}

TEST(ctx_tls_malformed_and_absurd)
{
	struct buf m, s;
	struct pks_tls_hello h;
	const char *why;
	struct hello_opts dup = { .sni = "a.example", .dup_sni = 1 };
	struct hello_opts bad = { .sni = "a b.example" };

	client_hello(&m, &big_hello);
	records(&s, &m, 16384);
	/* content type, record version, record length > 2^14, record length 0 */
	CHECK_EQ(parse_mutated(&s, 0, 23, &why), PKS_TLS_MALFORMED);
	CHECK_EQ(parse_mutated(&s, 1, 2, &why), PKS_TLS_MALFORMED);
	CHECK_EQ(parse_mutated(&s, 3, 0x41, &why), PKS_TLS_MALFORMED);
	CHECK_STR(why, "record length over 2^14");
	s.b[3] = 0, s.b[4] = 0;
	CHECK_EQ(pks_tls_parse_records(s.b, s.n, 0, &h), PKS_TLS_MALFORMED);
	records(&s, &m, 16384);
	/* handshake type and an absurd 24-bit length */
	CHECK_EQ(parse_mutated(&s, 5, 2, &why), PKS_TLS_MALFORMED);
	CHECK_EQ(parse_mutated(&s, 6, 0xff, &why), PKS_TLS_MALFORMED);
	CHECK_STR(why, "hello length absurd");
	/* session id length 33 */
	CHECK_EQ(parse_mutated(&s, 5 + 4 + 34, 33, &why), PKS_TLS_MALFORMED);

	client_hello(&m, &dup);
	records(&s, &m, 16384);
	CHECK_EQ(pks_tls_parse_records(s.b, s.n, 0, &h), PKS_TLS_MALFORMED);
	CHECK_STR(h.why, "extension repeated");
	client_hello(&m, &bad);
	records(&s, &m, 16384);
	CHECK_EQ(pks_tls_parse_records(s.b, s.n, 0, &h), PKS_TLS_MALFORMED);
	/* A record that announces more than it holds is only "need more". */
	CHECK_EQ(pks_tls_parse_records(s.b, 20, 0, &h), PKS_TLS_NEED_MORE);
	/* Plain text is not TLS. */
	CHECK_EQ(pks_tls_parse_records((const uint8_t *)"GET / HTTP/1.1\r\n", 16, 0, &h), PKS_TLS_MALFORMED);
}

TEST(ctx_tls_every_byte_mutated_and_random_input)
{
	struct buf m, s;
	struct pks_tls_hello h;
	const char *why;
	static uint8_t rnd[4096];
	unsigned int seed = 12345;

	client_hello(&m, &big_hello);
	records(&s, &m, 700);
	/* Under ASan this proves no length is followed past its container. */
	for (size_t i = 0; i < s.n; i++) {
		int st1 = parse_mutated(&s, i, (uint8_t)~s.b[i], &why);
		int st2 = parse_mutated(&s, i, 0xff, &why);

		CHECK(st1 >= PKS_TLS_MALFORMED && st1 <= PKS_TLS_COMPLETE);
		CHECK(st2 >= PKS_TLS_MALFORMED && st2 <= PKS_TLS_COMPLETE);
	}
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)rand_r(&seed) % sizeof(rnd);

		for (size_t i = 0; i < n; i++)
			rnd[i] = (uint8_t)rand_r(&seed);
		if (round % 2)
			rnd[0] = 22, rnd[1] = 3; /* look like a record to go deeper */
		int st = pks_tls_parse_records(rnd, n, 0, &h);

		/* Random bytes never produce a name. */
		CHECK(st != PKS_TLS_COMPLETE || h.sni[0] == '\0');
		pks_tls_parse_handshake(rnd, n, round % 2, &h);
	}
}

TEST(ctx_tls_server_hello_version_and_alpn)
{
	struct buf b, s;
	struct pks_tls_hello h;
	size_t msg, exts;

	b.n = 0;
	put8(&b, 2);
	msg = b.n;
	put24(&b, 0);
	put16(&b, 0x0303);
	for (int i = 0; i < 32; i++)
		put8(&b, i);
	put8(&b, 0);
	put16(&b, 0x1301);
	put8(&b, 0);
	exts = b.n;
	put16(&b, 0);
	put16(&b, 43), put16(&b, 2), put16(&b, 0x0304);
	put16(&b, 16), put16(&b, 5), put16(&b, 3), put8(&b, 2), putn(&b, "h2", 2);
	patch16(&b, exts);
	b.b[msg + 2] = (uint8_t)(b.n - msg - 3);
	records(&s, &b, 16384);
	CHECK_EQ(pks_tls_parse_records(s.b, s.n, 1, &h), PKS_TLS_COMPLETE);
	CHECK_EQ(h.version, PKS_TLS_V13);
	CHECK_STR(h.alpn, "h2");
	CHECK(h.is_server);
	/* A ClientHello is not what the server sends. */
	CHECK_EQ(pks_tls_parse_records(s.b, s.n, 0, &h), PKS_TLS_MALFORMED);
}

/* ---- QUIC ---- */

TEST(ctx_quic_rfc9001_keys)
{
	uint8_t dcid[8];
	struct pks_quic_keys c, s;

	unhex(RFC_DCID, dcid, sizeof(dcid));
	CHECK_EQ(pks_quic_initial_keys(PKS_QUIC_V1, dcid, 8, 0, &c), 0);
	CHECK(hex_equal(c.key, 16, RFC9001_CLIENT_KEY));
	CHECK(hex_equal(c.iv, 12, RFC9001_CLIENT_IV));
	CHECK(hex_equal(c.hp, 16, RFC9001_CLIENT_HP));
	CHECK_EQ(pks_quic_initial_keys(PKS_QUIC_V1, dcid, 8, 1, &s), 0);
	CHECK(hex_equal(s.key, 16, RFC9001_SERVER_KEY));
	CHECK(hex_equal(s.iv, 12, RFC9001_SERVER_IV));
	CHECK(hex_equal(s.hp, 16, RFC9001_SERVER_HP));
	CHECK_EQ(pks_quic_initial_keys(0xff00001d, dcid, 8, 0, &c), -EPROTONOSUPPORT);
}

TEST(ctx_quic_rfc9369_keys)
{
	uint8_t dcid[8];
	struct pks_quic_keys c;

	unhex(RFC_DCID, dcid, sizeof(dcid));
	CHECK_EQ(pks_quic_initial_keys(PKS_QUIC_V2, dcid, 8, 0, &c), 0);
	CHECK(hex_equal(c.key, 16, RFC9369_CLIENT_KEY));
	CHECK(hex_equal(c.iv, 12, RFC9369_CLIENT_IV));
	CHECK(hex_equal(c.hp, 16, RFC9369_CLIENT_HP));
}

static void check_rfc_packet(const char *hex, uint32_t version)
{
	uint8_t pkt[1200], dcid[8], payload[1200], want_payload[300];
	struct pks_quic_keys k;
	struct pks_quic_state s;
	size_t plen, pktlen, n;
	uint64_t pn;

	CHECK_EQ(unhex(hex, pkt, sizeof(pkt)), 1200);
	unhex(RFC_DCID, dcid, sizeof(dcid));
	CHECK_EQ(pks_quic_initial_keys(version, dcid, 8, 0, &k), 0);
	CHECK_EQ(pks_quic_open_initial(pkt, sizeof(pkt), version, &k, -1, payload, &plen, &pktlen, &pn), 0);
	CHECK_EQ(pn, 2);
	CHECK_EQ(pktlen, 1200);
	CHECK_EQ(plen, 1162); /* the Length field 0x449e minus a 4-byte packet number and the tag */
	n = unhex(RFC_CLIENT_CRYPTO_FRAME, want_payload, sizeof(want_payload));
	CHECK(!memcmp(payload, want_payload, n));
	for (size_t i = n; i < plen; i++)
		CHECK_EQ(payload[i], 0); /* PADDING */

	pks_quic_init(&s);
	CHECK_EQ(pks_quic_client_datagram(&s, pkt, sizeof(pkt)), PKS_TLS_COMPLETE);
	CHECK_STR(s.hello.sni, "example.com");
	CHECK_STR(s.hello.alpn, "alpn");
	CHECK_EQ(s.hello.version, PKS_TLS_V13);
	CHECK_EQ(s.largest_pn, 2);
	CHECK_EQ(s.version, version);
	pks_quic_free(&s);
}

TEST(ctx_quic_rfc9001_client_initial)
{
	check_rfc_packet(rfc9001_client_initial, PKS_QUIC_V1);
}

TEST(ctx_quic_rfc9369_client_initial)
{
	check_rfc_packet(rfc9369_client_initial, PKS_QUIC_V2);
}

TEST(ctx_quic_tampered_and_truncated)
{
	uint8_t pkt[1200];
	struct pks_quic_state s;

	unhex(rfc9001_client_initial, pkt, sizeof(pkt));
	/* One flipped bit anywhere after the header fails authentication. */
	for (size_t i = 30; i < sizeof(pkt); i += 97) {
		pkt[i] ^= 0x10;
		pks_quic_init(&s);
		CHECK_EQ(pks_quic_client_datagram(&s, pkt, sizeof(pkt)), PKS_TLS_MALFORMED);
		CHECK_STR(s.why, "Initial packet does not authenticate");
		CHECK(!s.fatal); /* anyone could have sent it: not the flow's verdict */
		CHECK_EQ(s.hello.sni[0], '\0');
		pks_quic_free(&s);
		pkt[i] ^= 0x10;
	}
	/* Every truncation: the Length field no longer fits, or the tag fails. */
	for (size_t n = 0; n < sizeof(pkt); n++) {
		pks_quic_init(&s);
		CHECK_EQ(pks_quic_client_datagram(&s, pkt, n), PKS_TLS_MALFORMED);
		pks_quic_free(&s);
	}
	/* An unknown version (draft-29) and a Version Negotiation lookalike. */
	pkt[4] = 0x1d, pkt[1] = 0xff;
	pks_quic_init(&s);
	CHECK_EQ(pks_quic_client_datagram(&s, pkt, sizeof(pkt)), PKS_TLS_MALFORMED);
	CHECK_STR(s.why, "QUIC version without known Initial keys");
	pks_quic_free(&s);
}

/* A post-quantum-sized ClientHello spread over npkt Initial packets. */
static void quic_split(uint32_t version, int npkt, int coalesce, int reverse, int dup)
{
	static const uint8_t dcid[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct buf m;
	uint8_t dgram[3][3000], frames[2000];
	size_t dlen[3] = { 0 }, chunk, per;
	struct pks_quic_state s;
	struct hello_opts o = big_hello;
	int st = PKS_TLS_NEED_MORE;

	o.sni = "quic.example.net";
	o.alpn[0] = "h3", o.alpn[1] = NULL;
	client_hello(&m, &o);
	chunk = (m.n + npkt - 1) / npkt;
	for (int p = 0; p < npkt; p++) {
		size_t off = (size_t)p * chunk, n = m.n - off < chunk ? m.n - off : chunk, f = 0;
		size_t half = n / 2;

		/* Frames in reverse offset order inside the packet, with an ACK and
		 * a PING among them, like a client that scrambles its CRYPTO frames. */
		f += crypto_frame(frames + f, off + half, m.b + off + half, n - half);
		frames[f++] = 0x02, frames[f++] = 0, frames[f++] = 0, frames[f++] = 0, frames[f++] = 0; /* ACK */
		frames[f++] = 0x01; /* PING */
		f += crypto_frame(frames + f, off, m.b + off, half);
		per = f + 40 > 1100 ? f + 40 : 1100;
		int d = coalesce ? 0 : p;
		size_t k = seal_initial(version, dcid, 8, (uint32_t)p, frames, f, per, dgram[d] + dlen[d]);

		CHECK(k > 0);
		dlen[d] += k;
	}
	pks_quic_init(&s);
	int nd = coalesce ? 1 : npkt;

	for (int i = 0; i < nd; i++) {
		int d = reverse ? nd - 1 - i : i;

		for (int r = 0; r < (dup ? 2 : 1); r++) {
			st = pks_quic_client_datagram(&s, dgram[d], dlen[d]);
			if (i < nd - 1 && st != PKS_TLS_NEED_MORE) {
				pks_test_fail(__FILE__, __LINE__, "datagram %d: status %d (%s)", i, st, s.why);
				pks_quic_free(&s);
				return;
			}
		}
	}
	CHECK_EQ(st, PKS_TLS_COMPLETE);
	CHECK_STR(s.hello.sni, "quic.example.net");
	CHECK_STR(s.hello.alpn, "h3");
	/* A duplicate of the last datagram is not opened: the hello was complete. */
	CHECK_EQ(s.initials, (uint32_t)(dup ? 2 * npkt - 1 : npkt));
	pks_quic_free(&s);
}

TEST(ctx_quic_v1_crypto_over_two_packets)
{
	quic_split(PKS_QUIC_V1, 2, 0, 0, 0);
	if (!pks_test_failed())
		quic_split(PKS_QUIC_V1, 2, 0, 1, 0);
}

TEST(ctx_quic_v1_crypto_over_three_packets_dup)
{
	quic_split(PKS_QUIC_V1, 3, 0, 1, 1);
}

TEST(ctx_quic_v2_crypto_over_three_packets)
{
	quic_split(PKS_QUIC_V2, 3, 0, 0, 0);
	if (!pks_test_failed())
		quic_split(PKS_QUIC_V2, 3, 0, 1, 0);
}

TEST(ctx_quic_coalesced_initials)
{
	quic_split(PKS_QUIC_V1, 2, 1, 0, 0);
	if (!pks_test_failed())
		quic_split(PKS_QUIC_V2, 2, 1, 0, 0);
}

TEST(ctx_quic_forbidden_frames_and_lengths)
{
	static const uint8_t dcid[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	uint8_t pkt[1500], frames[64];
	struct pks_quic_state s;
	size_t n;

	/* A STREAM frame cannot be in an Initial (RFC 9000 12.4). */
	frames[0] = 0x08, frames[1] = 0, frames[2] = 'x';
	n = seal_initial(PKS_QUIC_V1, dcid, 8, 0, frames, 3, 1162, pkt);
	pks_quic_init(&s);
	CHECK_EQ(pks_quic_client_datagram(&s, pkt, n), PKS_TLS_MALFORMED);
	CHECK_STR(s.why, "frame type not allowed in an Initial packet");
	CHECK(s.fatal);
	pks_quic_free(&s);
	/* A CRYPTO frame longer than its packet. */
	frames[0] = 0x06, frames[1] = 0, frames[2] = 0x7f, frames[3] = 0xff, frames[4] = 1;
	n = seal_initial(PKS_QUIC_V1, dcid, 8, 0, frames, 5, 1162, pkt);
	pks_quic_init(&s);
	CHECK_EQ(pks_quic_client_datagram(&s, pkt, n), PKS_TLS_MALFORMED);
	pks_quic_free(&s);
	/* An ACK with an absurd range count. */
	frames[0] = 0x02, frames[1] = 0, frames[2] = 0, frames[3] = 0xbf, frames[4] = 0xff, frames[5] = 0xff,
	frames[6] = 0xff, frames[7] = 0;
	n = seal_initial(PKS_QUIC_V1, dcid, 8, 0, frames, 8, 1162, pkt);
	pks_quic_init(&s);
	CHECK_EQ(pks_quic_client_datagram(&s, pkt, n), PKS_TLS_MALFORMED);
	pks_quic_free(&s);
	/* A CRYPTO stream whose ClientHello claims 16 MiB. */
	frames[0] = 0x06, frames[1] = 0, frames[2] = 4, frames[3] = 1, frames[4] = 0xff, frames[5] = 0xff,
	frames[6] = 0xff;
	n = seal_initial(PKS_QUIC_V1, dcid, 8, 0, frames, 7, 1162, pkt);
	pks_quic_init(&s);
	CHECK_EQ(pks_quic_client_datagram(&s, pkt, n), PKS_TLS_MALFORMED);
	CHECK_STR(s.why, "hello length absurd");
	pks_quic_free(&s);
}

TEST(ctx_quic_garbage_never_names)
{
	uint8_t d[1300], pkt[1200];
	struct pks_quic_state s;
	unsigned int seed = 99;

	for (int round = 0; round < 500; round++) {
		size_t n = 1 + (size_t)rand_r(&seed) % sizeof(d);

		for (size_t i = 0; i < n; i++)
			d[i] = (uint8_t)rand_r(&seed);
		d[0] |= 0xc0;
		if (round % 2 && n > 5)
			d[1] = 0, d[2] = 0, d[3] = 0, d[4] = 1;
		pks_quic_init(&s);
		CHECK_EQ(pks_quic_client_datagram(&s, d, n), PKS_TLS_MALFORMED);
		pks_quic_free(&s);
	}
	/* A forged datagram after a real ClientHello changes nothing. */
	unhex(rfc9001_client_initial, pkt, sizeof(pkt));
	pks_quic_init(&s);
	CHECK_EQ(pks_quic_client_datagram(&s, pkt, sizeof(pkt)), PKS_TLS_COMPLETE);
	CHECK_EQ(pks_quic_client_datagram(&s, d, 1200), PKS_TLS_COMPLETE);
	CHECK_STR(s.hello.sni, "example.com");
	pks_quic_free(&s);
}

/* ---- HTTP ---- */

static const char http_head[] = "GET /index.html?q=1 HTTP/1.1\r\n"
				"Host: WWW.Example.COM:8080\r\n"
				"User-Agent: curl/7.88.1\r\n"
				"Accept: */*\r\n"
				"\r\n";

TEST(ctx_http_host_and_user_agent)
{
	struct pks_http_req r;

	CHECK_EQ(pks_http_parse_request((const uint8_t *)http_head, strlen(http_head), &r), PKS_TLS_COMPLETE);
	CHECK_STR(r.method, "GET");
	CHECK_STR(r.host, "www.example.com");
	CHECK_EQ(r.port, 8080);
	CHECK_STR(r.user_agent, "curl/7.88.1");
	CHECK_EQ(r.version_minor, 1);
}

TEST(ctx_http_split_every_boundary)
{
	size_t n = strlen(http_head);
	struct pks_http_req r;

	for (size_t cut = 1; cut < n; cut++) {
		struct pks_reasm a;
		const size_t order[2][2] = { { 0, cut }, { cut, 0 } };

		/* Every prefix is "need more", never malformed and never complete. */
		CHECK_EQ(pks_http_parse_request((const uint8_t *)http_head, cut, &r), PKS_TLS_NEED_MORE);
		for (int o = 0; o < 2; o++) {
			pks_reasm_init_base(&a, 4242);
			for (int k = 0; k < 2; k++) {
				size_t off = order[o][k], end = off == 0 ? cut : n;

				pks_reasm_add(&a, 4242 + (uint32_t)off, (const uint8_t *)http_head + off, end - off);
			}
			CHECK_EQ(pks_http_parse_request(pks_reasm_data(&a), pks_reasm_len(&a), &r), PKS_TLS_COMPLETE);
			CHECK_STR(r.host, "www.example.com");
			CHECK_STR(r.user_agent, "curl/7.88.1");
			pks_reasm_free(&a);
		}
	}
}

static int http(const char *s, struct pks_http_req *r)
{
	return pks_http_parse_request((const uint8_t *)s, strlen(s), r);
}

TEST(ctx_http_target_forms)
{
	struct pks_http_req r;

	/* absolute-form wins over Host (RFC 9112 3.2.2) */
	CHECK_EQ(http("GET http://user@Proxy.Example/x HTTP/1.1\r\nHost: other.example\r\n\r\n", &r),
		 PKS_TLS_COMPLETE);
	CHECK_STR(r.host, "proxy.example");
	CHECK(r.from_target);
	CHECK_EQ(http("CONNECT tunnel.example:443 HTTP/1.1\r\nHost: tunnel.example:443\r\n\r\n", &r),
		 PKS_TLS_COMPLETE);
	CHECK_STR(r.host, "tunnel.example");
	CHECK_EQ(r.port, 443);
	CHECK_EQ(http("OPTIONS * HTTP/1.1\nHost: [2001:DB8::2]:80\n\n", &r), PKS_TLS_COMPLETE);
	CHECK_STR(r.host, "[2001:db8::2]");
	CHECK_EQ(http("GET / HTTP/1.0\r\nUser-Agent: old\tagent \x01\xff\r\n\r\n", &r), PKS_TLS_COMPLETE);
	CHECK_STR(r.host, "");
	CHECK_STR(r.user_agent, "old?agent ??");
}

TEST(ctx_http_malformed)
{
	struct pks_http_req r;
	static char big[PKS_HTTP_HEAD_MAX + 100];

	CHECK_EQ(http("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &r), PKS_TLS_MALFORMED);
	CHECK_STR(r.why, "two Host fields");
	CHECK_EQ(http("GET / HTTP/1.1\r\nHost : a\r\n\r\n", &r), PKS_TLS_MALFORMED);
	CHECK_EQ(http("GET / HTTP/2.0\r\n\r\n", &r), PKS_TLS_MALFORMED);
	CHECK_EQ(http("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", &r), PKS_TLS_MALFORMED);
	CHECK_EQ(http("GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n", &r), PKS_TLS_MALFORMED);
	CHECK_EQ(http("\x16\x03\x01\x02\x00\x01", &r), PKS_TLS_MALFORMED);
	CHECK_EQ(http("SSH-2.0-OpenSSH_9.2", &r), PKS_TLS_MALFORMED);
	/* A head longer than the window: the complete lines still answer. */
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "GET / HTTP/1.1\r\nHost: x.example\r\nX-Long: ", 41);
	CHECK_EQ(http(big, &r), PKS_TLS_COMPLETE);
	CHECK_STR(r.host, "x.example");
	/* A request line that never ends within the window is not a request. */
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "GET /", 5);
	CHECK_EQ(http(big, &r), PKS_TLS_MALFORMED);
}

TEST(ctx_http_host_address_literals)
{
	CHECK(pks_host_is_ip("198.18.0.2"));
	CHECK(pks_host_is_ip("[2001:db8::2]"));
	CHECK(pks_host_is_ip("0.0.0.0"));
	CHECK(!pks_host_is_ip("256.1.1.1"));
	CHECK(!pks_host_is_ip("1.2.3"));
	CHECK(!pks_host_is_ip("1.2.3.4.5"));
	CHECK(!pks_host_is_ip("1.2.3.4."));
	CHECK(!pks_host_is_ip("1.2.3.0004"));
	CHECK(!pks_host_is_ip("1.2.3.example"));
	CHECK(!pks_host_is_ip("www.example.com"));
	CHECK(!pks_host_is_ip("123.example"));
}
