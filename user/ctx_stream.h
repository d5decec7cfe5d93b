/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * In-order reassembly of one direction of a TCP connection from payload
 * copies, for rules that parse messages spanning segments (DNS over TCP,
 * SIP over TCP). Bounded: at most `max` streams (the least recently used is
 * evicted) of at most PKS_STREAM_BUF buffered bytes each.
 *
 * Copies arrive in kernel order. A retransmission (seq before the next
 * expected byte) contributes only its new bytes; a gap (a later segment, or
 * bytes the copy cut) cannot be filled, so the buffer restarts at the next
 * segment with `gap` set: the rule then knows it may be mid-message.
 */
#ifndef PKTSPEC_CTX_STREAM_H
#define PKTSPEC_CTX_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define PKS_STREAM_BUF 4096

struct pks_stream {
	struct pks_flow_key key;
	uint8_t dir;
	bool gap;          /* the buffer may start in the middle of a message */
	bool cut;          /* the last copy was cut: a hole follows the buffer */
	uint32_t next_seq; /* sequence number of the byte after the buffer */
	uint32_t skip;     /* bytes still to discard (the rest of an oversized message) */
	uint32_t len;
	uint64_t used;     /* for LRU eviction */
	uint8_t buf[PKS_STREAM_BUF];
};

struct pks_stream_table;

int pks_stream_table_new(size_t max, struct pks_stream_table **out);
void pks_stream_table_free(struct pks_stream_table *t);
/*
 * Adds a TCP payload event's bytes to its stream and returns the stream, or
 * NULL when nothing new was added (retransmission) or memory ran out.
 */
struct pks_stream *pks_stream_add(struct pks_stream_table *t, const struct pks_ctx_event *ev);
/* Discards n buffered bytes (a parsed message); more than buffered sets skip. */
void pks_stream_consume(struct pks_stream *s, uint32_t n);
/* Forgets a stream (the flow is done). */
void pks_stream_forget(struct pks_stream_table *t, const struct pks_flow_key *k, uint8_t dir);
size_t pks_stream_count(const struct pks_stream_table *t);

#endif
