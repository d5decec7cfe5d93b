/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * What the libFuzzer targets of tests/fuzz share: reading a structured input
 * (bytes, big-endian numbers, length-prefixed records) that never fails (past
 * the end it reads zeros and empty records), and cutting a stream into
 * segments at points the input chose.
 */
#ifndef PKTSPEC_FUZZ_H
#define PKTSPEC_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fz_u8(struct fz *f)
{
	uint8_t v = 0;

	if (f->n) {
		v = *f->p++;
		f->n--;
	}
	return v;
}

static inline uint16_t fz_u16(struct fz *f)
{
	uint16_t hi = fz_u8(f);

	return (uint16_t)(hi << 8 | fz_u8(f));
}

/* A record: a 16-bit big-endian length, then that many bytes (cut at the end). */
static inline size_t fz_record(struct fz *f, const uint8_t **data)
{
	size_t len = fz_u16(f);

	if (len > f->n)
		len = f->n;
	*data = f->p;
	f->p += len;
	f->n -= len;
	return len;
}

/*
 * Up to 7 cut points of the stream that follows them, sorted, from the
 * input's next bytes: one count byte, then one byte per cut (its position in
 * 256ths of the rest of the input, which is the stream). Returns the number
 * of segments; segment i is [off[i], off[i + 1]), off[nseg] the stream's length.
 */
static inline size_t fz_cuts(struct fz *f, size_t off[9])
{
	size_t ncut = fz_u8(f) % 8, n = 1, len;
	uint8_t at[8];

	for (size_t i = 0; i < ncut; i++)
		at[i] = fz_u8(f);
	len = f->n;
	off[0] = 0;
	for (size_t i = 0; i < ncut; i++) {
		size_t pos = len * at[i] / 256, j = n;

		while (j > 1 && off[j - 1] > pos) {
			off[j] = off[j - 1];
			j--;
		}
		off[j] = pos;
		n++;
	}
	off[n] = len;
	return n;
}

/* A copy of data in a heap object of exactly len bytes (ASan sees reads past it). */
static inline uint8_t *fz_dup(const uint8_t *data, size_t len)
{
	uint8_t *d = malloc(len ? len : 1);

	if (!d)
		abort();
	memcpy(d, data, len);
	return d;
}

#define FZ_CHECK(cond, ...)                                                     \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "invariant broken: " __VA_ARGS__);      \
			fputc('\n', stderr);                                    \
			abort();                                                \
		}                                                               \
	} while (0)

#endif
