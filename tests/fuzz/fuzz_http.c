// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * libFuzzer target: HTTP request heads (user/http_req.c) over a reassembled
 * TCP stream, as rule_names parses them after every segment.
 *
 * Input: a flags byte (bit 1: segments last first), the cut points (fuzz.h),
 * then the client's stream. Invariants: a complete head's host is lower
 * case, terminated and within its bound, the method terminated; the answer
 * for the whole stream is the same however it arrived.
 */
#include <ctype.h>

#include "fuzz.h"
#include "http_req.h"
#include "tcp_reasm.h"

static void check_req(int st, const struct pks_http_req *q)
{
	if (st != PKS_TLS_COMPLETE)
		return;
	FZ_CHECK(memchr(q->method, 0, sizeof(q->method)) && memchr(q->host, 0, sizeof(q->host)) &&
			 memchr(q->user_agent, 0, sizeof(q->user_agent)),
		 "unterminated");
	for (const char *c = q->host; *c; c++)
		FZ_CHECK(!isupper((unsigned char)*c), "host %s not lower case", q->host);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	uint8_t flags = fz_u8(&f);
	size_t off[9], nseg = fz_cuts(&f, off);
	uint8_t *stream = fz_dup(f.p, f.n);
	struct pks_http_req whole, q;
	struct pks_reasm r;
	int st_whole, st = PKS_TLS_NEED_MORE;

	st_whole = pks_http_parse_request(stream, f.n, &whole);
	check_req(st_whole, &whole);
	pks_reasm_init_base(&r, 1000);
	for (size_t k = 0; k < nseg; k++) {
		size_t i = flags & 2 ? nseg - 1 - k : k;
		uint8_t *seg = fz_dup(stream + off[i], off[i + 1] - off[i]);

		pks_reasm_add(&r, 1000 + (uint32_t)off[i], seg, off[i + 1] - off[i]);
		free(seg);
		st = pks_http_parse_request(pks_reasm_data(&r), pks_reasm_len(&r), &q);
		check_req(st, &q);
	}
	if (f.n <= PKS_REASM_MAX && pks_reasm_len(&r) == f.n) {
		FZ_CHECK(st == st_whole, "whole %d, segmented %d", st_whole, st);
		if (st == PKS_TLS_COMPLETE)
			FZ_CHECK(!strcmp(q.host, whole.host) && q.port == whole.port, "host differs");
	}
	pks_reasm_free(&r);
	free(stream);
	return 0;
}
