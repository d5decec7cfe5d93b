// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * libFuzzer target: QUIC client Initials (user/quic_initial.c): header
 * protection, AEAD, frames, the CRYPTO stream's reassembly and the
 * ClientHello in it, as rule_names runs them on a flow's client datagrams.
 *
 * Input: a mode byte, then records (fuzz.h: 16-bit length, bytes).
 *  - mode bit 0 clear: each record is a datagram as received.
 *  - mode bit 0 set: each record is the plaintext frames of one Initial,
 *    which the target protects (tests/unit/ctx_names_build.h seal_initial,
 *    version 1, or 2 with mode bit 1; packet numbers from 0, or out of order
 *    with bit 2) so that the fuzzer reaches the frame and hello parsers
 *    behind the AEAD.
 * Invariants: once complete, the answer stays complete; the hello's strings
 * are terminated; pks_quic_varint never reads past the bytes it is given.
 */
#include "fuzz.h"
#include "quic_initial.h"
#include "ctx_names_build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t dcid[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };
	struct fz f = { data, size };
	uint8_t mode = fz_u8(&f);
	struct pks_quic_state *s = malloc(sizeof(*s));
	static uint8_t sealed[2100];
	int complete = 0, n = 0;

	if (!s)
		abort();
	pks_quic_init(s);
	while (f.n && n++ < 16) {
		const uint8_t *rec;
		size_t len = fz_record(&f, &rec), dlen = len;
		uint8_t *dgram;
		uint64_t v;
		int st;

		if (mode & 1) {
			uint32_t version = mode & 2 ? PKS_QUIC_V2 : PKS_QUIC_V1;
			uint32_t pn = mode & 4 ? (uint32_t)(16 - n) : (uint32_t)(n - 1);

			if (len > 1800)
				len = 1800;
			dlen = seal_initial(version, dcid, sizeof(dcid), pn, rec, len, len < 1162 ? 1162 : len, sealed);
			if (!dlen)
				continue;
			rec = sealed;
		}
		dgram = fz_dup(rec, dlen);
		FZ_CHECK(pks_quic_varint(dgram, dlen, &v) <= dlen, "varint past the bytes");
		st = pks_quic_client_datagram(s, dgram, dlen);
		free(dgram);
		if (complete)
			FZ_CHECK(st == PKS_TLS_COMPLETE, "complete, then %d", st);
		if (st == PKS_TLS_COMPLETE) {
			complete = 1;
			FZ_CHECK(memchr(s->hello.sni, 0, sizeof(s->hello.sni)) &&
					 memchr(s->hello.alpn, 0, sizeof(s->hello.alpn)),
				 "unterminated");
		}
	}
	pks_quic_free(s);
	free(s);
	return 0;
}
