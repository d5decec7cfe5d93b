// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * libFuzzer target: TLS hello reassembly and parsing (user/tcp_reasm.c,
 * user/tls_hello.c), as rule_names runs them on a TCP stream.
 *
 * Input: a flags byte (bit 0: parse a ServerHello; bit 1: send the segments
 * last first; bit 2: send every segment twice; bit 3: start the stream at a
 * known base, as after a SYN), the cut points (fuzz.h fz_cuts), then the
 * stream. After every segment the contiguous bytes are parsed, as the rule
 * does. Invariants: a complete hello lies within the bytes given, its SNI
 * is lower case and terminated; the reassembled bytes are the stream's.
 */
#include <ctype.h>

#include "fuzz.h"
#include "tcp_reasm.h"
#include "tls_hello.h"

static void check_hello(int st, const struct pks_tls_hello *h, size_t len)
{
	if (st != PKS_TLS_COMPLETE)
		return;
	FZ_CHECK(memchr(h->sni, 0, sizeof(h->sni)) && memchr(h->alpn, 0, sizeof(h->alpn)), "unterminated");
	FZ_CHECK(h->hello_len <= len, "hello of %u bytes in %zu", h->hello_len, len);
	for (const char *c = h->sni; *c; c++)
		FZ_CHECK(!isupper((unsigned char)*c), "SNI %s not lower case", h->sni);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	uint8_t flags = fz_u8(&f);
	int server = flags & 1;
	size_t off[9], nseg;
	const uint32_t base = 0xfffff000u; /* the sequence number wraps inside the stream */
	struct pks_reasm r;
	struct pks_tls_hello h;
	uint8_t *stream;
	int st;

	nseg = fz_cuts(&f, off);
	stream = fz_dup(f.p, f.n);
	/* The stream alone. */
	check_hello(pks_tls_parse_records(stream, f.n, server, &h), &h, f.n);
	check_hello(pks_tls_parse_handshake(stream, f.n, server, &h), &h, f.n);

	if (flags & 8)
		pks_reasm_init_base(&r, base);
	else
		pks_reasm_init(&r);
	for (size_t k = 0; k < nseg * (flags & 4 ? 2 : 1); k++) {
		size_t i = k % nseg;

		if (flags & 2)
			i = nseg - 1 - i;
		uint8_t *seg = fz_dup(stream + off[i], off[i + 1] - off[i]);

		pks_reasm_add(&r, base + (uint32_t)off[i], seg, off[i + 1] - off[i]);
		free(seg);
		FZ_CHECK(pks_reasm_len(&r) <= PKS_REASM_MAX, "reassembled %zu", pks_reasm_len(&r));
		if ((flags & 8) && pks_reasm_len(&r))
			FZ_CHECK(!memcmp(pks_reasm_data(&r), stream, pks_reasm_len(&r)), "reassembly differs");
		st = pks_tls_parse_records(pks_reasm_data(&r), pks_reasm_len(&r), server, &h);
		check_hello(st, &h, pks_reasm_len(&r));
	}
	pks_reasm_free(&r);
	free(stream);
	return 0;
}
