// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * The daemon's side of the lookup filter: user/filter.h,
 * include/pktspec/filter.h, doc/design.md ("The lookup filter").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>

#include "filter.h"

/*
 * Slot times in units of 2^30 ns (about 1.07 s): an expiry rounds up, and
 * one unit more keeps a bit set past a kernel clock that lags the event
 * times the sweep reads (the coarse clock of a packet, an earlier capture
 * time in replay).
 */
#define TICK_SHIFT 30

/* The map's memory as mapped: its one value, in whole pages. */
static size_t map_bytes(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (sizeof(struct pks_filter) + page - 1) / page * page;
}

static uint32_t coarse_until(uint64_t expires_ns)
{
	uint64_t u = (expires_ns >> TICK_SHIFT) + 2;

	/* Past 2^32 units (146 years of boot time; an entry that never expires): kept for good. */
	return u > UINT32_MAX ? UINT32_MAX : (uint32_t)u;
}

static void bit_set(struct pks_filter_part *p, uint32_t slot)
{
	__atomic_fetch_or(&p->bits[pks_filter_word(slot)], pks_filter_mask(slot), __ATOMIC_SEQ_CST);
}

static void bit_clear(struct pks_filter_part *p, uint32_t slot)
{
	__atomic_fetch_and(&p->bits[pks_filter_word(slot)], ~pks_filter_mask(slot), __ATOMIC_SEQ_CST);
}

/* The table's entries: each one's slot is counted, or its expiry kept. */
static void adopt(struct pks_filter_part *p, int table_fd, size_t key_size, uint64_t now_ns)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	uint8_t key[64], next[64];
	void *val = NULL;
	bool first = true;

	if (key_size > sizeof(key) || bpf_obj_get_info_by_fd(table_fd, &info, &len) || info.key_size != key_size)
		return;
	if (p->until && (info.value_size < sizeof(__u64) || !(val = malloc(info.value_size))))
		return;
	while (bpf_map_get_next_key(table_fd, first ? NULL : key, next) == 0) {
		uint32_t slot = pks_filter_slot(next, key_size / 4);
		__u64 exp;

		first = false;
		memcpy(key, next, key_size);
		if (p->count) {
			if (p->count[slot] < UINT16_MAX)
				p->count[slot]++;
			continue;
		}
		if (bpf_map_lookup_elem(table_fd, next, val))
			continue;
		memcpy(&exp, val, sizeof(exp));
		if (exp > now_ns && coarse_until(exp) > p->until[slot])
			p->until[slot] = coarse_until(exp);
	}
	free(val);
}

int pks_filter_part_open(struct pks_filter_part *p, int fd, enum pks_filter_table table, bool counted,
			 int table_fd, size_t key_size, uint64_t now_ns)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	memset(p, 0, sizeof(*p));
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.value_size != sizeof(struct pks_filter) || info.max_entries != 1 || !(info.map_flags & BPF_F_MMAPABLE))
		return -EINVAL;
	if (counted)
		p->count = calloc(PKS_FILTER_SLOTS, sizeof(*p->count));
	else
		p->until = calloc(PKS_FILTER_SLOTS, sizeof(*p->until));
	if (!p->count && !p->until)
		return -ENOMEM;
	p->mem = mmap(NULL, map_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p->mem == MAP_FAILED) {
		int err = -errno;

		p->mem = NULL;
		pks_filter_part_close(p);
		return err;
	}
	p->bits = ((struct pks_filter *)p->mem)->bits[table];
	if (table_fd >= 0)
		adopt(p, table_fd, key_size, now_ns);
	/* Bits of the entries there stay set; bits no entry needs (an earlier daemon's) go. */
	p->next_sweep = UINT32_MAX;
	for (uint32_t w = 0; w < PKS_FILTER_WORDS; w++) {
		__u64 v = 0;

		for (uint32_t b = 0; b < 64; b++) {
			uint32_t s = w * 64 + b;

			if (p->count ? p->count[s] != 0 : p->until[s] != 0)
				v |= 1ull << b;
			if (p->until && p->until[s] && p->until[s] < p->next_sweep)
				p->next_sweep = p->until[s];
		}
		__atomic_store_n(&p->bits[w], v, __ATOMIC_SEQ_CST);
	}
	return 0;
}

void pks_filter_part_close(struct pks_filter_part *p)
{
	if (p->mem)
		munmap(p->mem, map_bytes());
	free(p->until);
	free(p->count);
	memset(p, 0, sizeof(*p));
}

void pks_filter_part_until(struct pks_filter_part *p, uint32_t slot, uint64_t expires_ns)
{
	uint32_t u = coarse_until(expires_ns);

	if (!p->bits || !p->until)
		return;
	slot &= PKS_FILTER_SLOTS - 1;
	if (u > p->until[slot])
		p->until[slot] = u;
	if (u < p->next_sweep)
		p->next_sweep = u;
	bit_set(p, slot);
}

void pks_filter_part_sweep(struct pks_filter_part *p, uint64_t now_ns)
{
	uint32_t now = (uint32_t)(now_ns >> TICK_SHIFT), next = UINT32_MAX;

	if (!p->bits || !p->until || now < p->next_sweep)
		return;
	for (uint32_t s = 0; s < PKS_FILTER_SLOTS; s++) {
		uint32_t u = p->until[s];

		if (!u)
			continue;
		if (u <= now) {
			p->until[s] = 0;
			bit_clear(p, s);
		} else if (u < next) {
			next = u;
		}
	}
	p->next_sweep = next;
}

void pks_filter_part_inc(struct pks_filter_part *p, uint32_t slot)
{
	if (!p->bits || !p->count)
		return;
	slot &= PKS_FILTER_SLOTS - 1;
	if (p->count[slot] < UINT16_MAX)
		p->count[slot]++;
	bit_set(p, slot);
}

void pks_filter_part_dec(struct pks_filter_part *p, uint32_t slot)
{
	if (!p->bits || !p->count)
		return;
	slot &= PKS_FILTER_SLOTS - 1;
	/* A count that reached the maximum is never trusted to fall to 0 (clear() resets it). */
	if (!p->count[slot] || p->count[slot] == UINT16_MAX)
		return;
	if (--p->count[slot] == 0)
		bit_clear(p, slot);
}

void pks_filter_part_clear(struct pks_filter_part *p)
{
	if (!p->bits || !p->count)
		return;
	memset(p->count, 0, PKS_FILTER_SLOTS * sizeof(*p->count));
	for (uint32_t w = 0; w < PKS_FILTER_WORDS; w++)
		__atomic_store_n(&p->bits[w], 0, __ATOMIC_SEQ_CST);
}
