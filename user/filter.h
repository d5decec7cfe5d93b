/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * The daemon's side of the lookup filter (include/pktspec/filter.h): the
 * writer of a table keeps, per slot, what it needs to know when the slot's
 * bit may be cleared, and sets or clears the bit in the pinned map's memory.
 *
 *   expiring tables (pks_servers, pks_hosts): the latest expiry of any entry
 *   written for the slot; a sweep clears the bits whose expiry has passed.
 *   counted tables (pks_restore): how many entries are out for the slot; the
 *   bit clears when the count falls to 0.
 *
 * A bit is set before the entry is written and cleared only once the entry
 * is gone or dead, so the kernel never skips an entry it would use.
 */
#ifndef PKTSPEC_USER_FILTER_H
#define PKTSPEC_USER_FILTER_H

#include <stdbool.h>
#include <stdint.h>
#include "pktspec/filter.h"

struct pks_filter_part {
	__u64 *bits;      /* this table's words in the map's memory; NULL: no filter, nothing to do */
	void *mem;        /* the whole mapping, for munmap */
	uint32_t *until;  /* expiring: per slot, the coarse time after which none is alive; 0: none */
	uint16_t *count;  /* counted: per slot, the entries out */
	uint32_t next_sweep; /* expiring: no slot's time is earlier */
};

/*
 * Maps table's bits of the pks_filter map fd, and adopts what the table (fd
 * table_fd, keys of key_size bytes) already holds: an earlier daemon's entries
 * keep their bits, and bits no entry needs are cleared. counted: a counted
 * table, else an expiring one whose values start with their __u64 expiry.
 * 0 or -errno; fd < 0 leaves the part without a filter (every call a no-op).
 */
int pks_filter_part_open(struct pks_filter_part *p, int fd, enum pks_filter_table table, bool counted,
			 int table_fd, size_t key_size, uint64_t now_ns);
void pks_filter_part_close(struct pks_filter_part *p);

/* Expiring: an entry for slot alive until expires_ns, before it is written. */
void pks_filter_part_until(struct pks_filter_part *p, uint32_t slot, uint64_t expires_ns);
/* Expiring: clears the bits of slots whose every entry has expired by now_ns. */
void pks_filter_part_sweep(struct pks_filter_part *p, uint64_t now_ns);

/* Counted: one more entry for slot (before it is written), one fewer (after it is gone). */
void pks_filter_part_inc(struct pks_filter_part *p, uint32_t slot);
void pks_filter_part_dec(struct pks_filter_part *p, uint32_t slot);
/* Counted: the table is empty; every bit and count goes to 0. */
void pks_filter_part_clear(struct pks_filter_part *p);

#endif
