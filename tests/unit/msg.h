/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * A bounded byte builder for the payloads the signature tests write field by
 * field (binary protocol headers): what does not fit is left out, and the
 * test's length check then fails.
 */
#ifndef PKTSPEC_TEST_MSG_H
#define PKTSPEC_TEST_MSG_H

#include <stdint.h>
#include <string.h>

struct msg {
	uint8_t b[200];
	size_t n;
};

static inline void put(struct msg *m, const void *p, size_t n)
{
	if (m->n + n <= sizeof(m->b)) {
		memcpy(m->b + m->n, p, n);
		m->n += n;
	}
}

static inline void put8(struct msg *m, uint8_t v)
{
	put(m, &v, 1);
}

static inline void be16(struct msg *m, uint16_t v)
{
	put8(m, v >> 8), put8(m, v & 0xff);
}

static inline void be32(struct msg *m, uint32_t v)
{
	be16(m, v >> 16), be16(m, v & 0xffff);
}

static inline void le16(struct msg *m, uint16_t v)
{
	put8(m, v & 0xff), put8(m, v >> 8);
}

static inline void le32(struct msg *m, uint32_t v)
{
	le16(m, v & 0xffff), le16(m, v >> 16);
}

static inline void zeros(struct msg *m, size_t n)
{
	while (n--)
		put8(m, 0);
}

static inline void str(struct msg *m, const char *s)
{
	put(m, s, strlen(s));
}

#endif
