// SPDX-License-Identifier: MIT OR Apache-2.0
/* Bounded reassembly of the start of a byte stream; see tcp_reasm.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_reasm.h"

/* Allocation step: most ClientHellos and request heads fit in the first one. */
#define REASM_STEP 2048

static bool have_bit(const uint8_t *have, uint32_t i)
{
	return have[i >> 3] & (1u << (i & 7));
}

static void set_bit(uint8_t *have, uint32_t i)
{
	have[i >> 3] |= 1u << (i & 7);
}

void pks_reasm_init(struct pks_reasm *r)
{
	memset(r, 0, sizeof(*r));
}

void pks_reasm_init_base(struct pks_reasm *r, uint32_t seq)
{
	memset(r, 0, sizeof(*r));
	r->base = seq;
	r->base_known = true;
	r->started = true;
}

void pks_reasm_free(struct pks_reasm *r)
{
	free(r->buf);
	free(r->have);
	r->buf = r->have = NULL;
	r->cap = 0;
}

/* Makes room for bytes [0, need); need <= PKS_REASM_MAX. */
static int reasm_reserve(struct pks_reasm *r, uint32_t need)
{
	uint32_t cap = r->cap ? r->cap : REASM_STEP;
	uint8_t *buf, *have;

	if (need <= r->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > PKS_REASM_MAX)
		cap = PKS_REASM_MAX;
	buf = realloc(r->buf, cap);
	if (!buf)
		return -ENOMEM;
	r->buf = buf;
	have = realloc(r->have, cap / 8);
	if (!have)
		return -ENOMEM;
	memset(have + r->cap / 8, 0, (cap - r->cap) / 8);
	r->have = have;
	r->cap = cap;
	return 0;
}

/*
 * Without a known base, a segment below the current byte 0 moves byte 0 down
 * by d: what is held moves up by d, and what then falls beyond the window is
 * dropped (the start of a stream matters more than its later bytes).
 */
static int reasm_shift_up(struct pks_reasm *r, uint32_t d)
{
	uint32_t high = r->high + d > PKS_REASM_MAX ? PKS_REASM_MAX : r->high + d;
	uint8_t *buf, *have;
	uint32_t cap;

	if (r->high == 0) {
		r->base -= d;
		return 0;
	}
	cap = high < REASM_STEP ? REASM_STEP : high;
	cap = (cap + 7) & ~7u;
	buf = malloc(cap);
	have = calloc(1, cap / 8);
	if (!buf || !have) {
		free(buf);
		free(have);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < r->high; i++) {
		if (!have_bit(r->have, i))
			continue;
		if (i + d >= high) {
			r->dropped++;
			continue;
		}
		buf[i + d] = r->buf[i];
		set_bit(have, i + d);
	}
	free(r->buf);
	free(r->have);
	r->buf = buf;
	r->have = have;
	r->cap = cap;
	r->high = high;
	r->base -= d;
	r->contig = 0; /* byte 0 is the new segment's, not yet written */
	return 0;
}

int pks_reasm_add(struct pks_reasm *r, uint32_t seq, const uint8_t *data, size_t len)
{
	int32_t off;
	uint32_t start, end;
	size_t skip = 0, avail;
	int err;

	if (len == 0)
		return 0;
	if (!r->started) {
		r->base = seq;
		r->started = true;
	}
	/* Serial-number arithmetic: sequence numbers wrap (RFC 9293 3.4). */
	off = (int32_t)(seq - r->base);
	if (off < 0) {
		uint32_t below = (uint32_t)-(int64_t)off;

		if (r->base_known || below >= PKS_REASM_MAX) {
			/* Before the stream's first byte, or too far below to be the
			 * same stream's start: not part of the window. */
			if (below >= len) {
				r->dropped += len;
				return 0;
			}
			r->dropped += below;
			skip = below;
			off = 0;
		} else {
			err = reasm_shift_up(r, below);
			if (err)
				return err;
			off = 0;
		}
	}
	start = (uint32_t)off;
	avail = len - skip;
	if (start >= PKS_REASM_MAX) {
		r->dropped += avail;
		return 0;
	}
	/* Clamped first so that the sum below cannot wrap. */
	if (avail > PKS_REASM_MAX) {
		r->dropped += avail - PKS_REASM_MAX;
		avail = PKS_REASM_MAX;
	}
	end = start + (uint32_t)avail;
	if (end > PKS_REASM_MAX) {
		r->dropped += end - PKS_REASM_MAX;
		end = PKS_REASM_MAX;
	}
	err = reasm_reserve(r, end);
	if (err)
		return err;
	for (uint32_t i = start; i < end; i++) {
		uint8_t b = data[skip + (i - start)];

		if (have_bit(r->have, i)) {
			if (r->buf[i] != b)
				r->conflicts++;
			continue;
		}
		r->buf[i] = b;
		set_bit(r->have, i);
	}
	if (end > r->high)
		r->high = end;
	while (r->contig < r->high && have_bit(r->have, r->contig))
		r->contig++;
	return 0;
}
