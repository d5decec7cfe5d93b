// SPDX-License-Identifier: MIT OR Apache-2.0
/* Bounded in-order TCP reassembly for the context rules (see ctx_stream.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctx_stream.h"

struct pks_stream_table {
	struct pks_stream **s; /* max slots, NULL when free */
	size_t max, n;
	uint64_t clock;
};

int pks_stream_table_new(size_t max, struct pks_stream_table **out)
{
	struct pks_stream_table *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->s = calloc(max, sizeof(*t->s));
	if (!t->s) {
		free(t);
		return -ENOMEM;
	}
	t->max = max;
	*out = t;
	return 0;
}

void pks_stream_table_free(struct pks_stream_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->max; i++)
		free(t->s[i]);
	free(t->s);
	free(t);
}

size_t pks_stream_count(const struct pks_stream_table *t)
{
	return t->n;
}

static bool same(const struct pks_stream *s, const struct pks_flow_key *k, uint8_t dir)
{
	return s->dir == dir && !memcmp(&s->key, k, sizeof(*k));
}

/* Linear search: the table is small (hundreds) and payload events are few per flow. */
static struct pks_stream **slot_of(struct pks_stream_table *t, const struct pks_flow_key *k, uint8_t dir)
{
	for (size_t i = 0; i < t->max; i++)
		if (t->s[i] && same(t->s[i], k, dir))
			return &t->s[i];
	return NULL;
}

static struct pks_stream **slot_new(struct pks_stream_table *t)
{
	struct pks_stream **lru = NULL;

	for (size_t i = 0; i < t->max; i++) {
		if (!t->s[i])
			return &t->s[i];
		if (!lru || t->s[i]->used < (*lru)->used)
			lru = &t->s[i];
	}
	/* Full: the least recently used stream goes. */
	free(*lru);
	*lru = NULL;
	t->n--;
	return lru;
}

static void restart(struct pks_stream *s, uint32_t seq)
{
	s->len = 0;
	s->skip = 0;
	s->next_seq = seq;
	s->gap = true;
	s->cut = false;
}

struct pks_stream *pks_stream_add(struct pks_stream_table *t, const struct pks_ctx_event *ev)
{
	const struct pks_event *h = ev->hdr;
	struct pks_stream **slot = slot_of(t, &h->key, h->dir), *s;
	const uint8_t *data = ev->data;
	uint32_t len = ev->len, seq = h->seq, room;

	if (!slot) {
		slot = slot_new(t);
		*slot = calloc(1, sizeof(**slot));
		if (!*slot)
			return NULL;
		t->n++;
		s = *slot;
		s->key = h->key;
		s->dir = h->dir;
		s->next_seq = seq;
		/* The first copy of a direction is its first payload: no gap. */
		s->gap = h->nth != 0;
	}
	s = *slot;
	s->used = ++t->clock;

	if (s->cut || (int32_t)(seq - s->next_seq) > 0) {
		restart(s, seq); /* a hole we cannot fill */
	} else if ((int32_t)(seq - s->next_seq) < 0) {
		uint32_t old = s->next_seq - seq;

		if (old >= len)
			return NULL; /* all of it seen before: a retransmission */
		data += old;
		len -= old;
		seq = s->next_seq;
	}
	if (!len)
		return NULL;
	if (s->skip) {
		uint32_t n = s->skip < len ? s->skip : len;

		s->skip -= n;
		data += n;
		len -= n;
		s->next_seq += n;
	}
	room = PKS_STREAM_BUF - s->len;
	if (len > room) {
		/* The rule did not consume: it cannot use more of this message. */
		restart(s, seq + len);
		return s;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->next_seq += len;
	if (ev->len < h->payload_len)
		s->cut = true; /* the rest of the segment is a hole */
	return s;
}

void pks_stream_consume(struct pks_stream *s, uint32_t n)
{
	if (n >= s->len) {
		s->skip += n - s->len;
		s->len = 0;
		return;
	}
	memmove(s->buf, s->buf + n, s->len - n);
	s->len -= n;
}

void pks_stream_forget(struct pks_stream_table *t, const struct pks_flow_key *k, uint8_t dir)
{
	struct pks_stream **slot = slot_of(t, k, dir);

	if (slot) {
		free(*slot);
		*slot = NULL;
		t->n--;
	}
}
