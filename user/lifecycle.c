// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Flow lifecycle (see lifecycle.h): scans of pks_flows, end decisions,
 * deletions and one record per ended flow.
 *
 * The tracker keeps, per flow the table holds, what the last scan saw and
 * what the last record reported, in an open-addressing hash table (linear
 * probing, backward-shift deletion: no tombstones, so a table that churns
 * millions of flows never degrades). It grows with the flow table and never
 * holds more entries than the kernel's table had at one scan.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pktspec.h"
#include "pktspec/flow_key.h"
#include "lifecycle.h"
#include "filter.h"

/* Flows a scan takes between two calls of the flow table's between hook (pktspec run: its control ring). */
#define PKS_LC_BETWEEN 256

static const char *const end_names[PKS_END__COUNT] = {
	[PKS_END_NONE] = "none",       [PKS_END_IDLE] = "idle",       [PKS_END_ACTIVE] = "active",
	[PKS_END_FIN] = "fin",         [PKS_END_RST] = "rst",         [PKS_END_EVICTED] = "evicted",
	[PKS_END_SHUTDOWN] = "shutdown", [PKS_END_RESTORED] = "restored",
};

const char *pks_end_reason_name(unsigned int r)
{
	return r < PKS_END__COUNT ? end_names[r] : "none";
}

struct lc_entry {
	struct pks_flow_key key;
	struct pks_flow_view last;  /* as the last scan saw it */
	uint64_t id;                /* this daemon's flow number */
	uint64_t rep_bytes[2];      /* reported by earlier records (interim) */
	uint64_t rep_packets[2];
	uint64_t report_ns;         /* flow clock of the last record, or first packet */
	uint32_t gen;               /* scan that last saw it */
	bool pending;               /* evicted, in pks_restore, expected back */
	bool context;               /* the engine wrote its pks_names or pks_done entry (pks_lifecycle_context) */
	uint32_t name;              /* the shutdown's read of pks_names: index + 1, 0 none */
};

struct pks_lifecycle {
	struct pks_flowtab flows;
	int names_fd, done_fd;
	int restore_fd, ctl_fd, ledger_fd, stats_fd; /* pks_restore, pks_ctl, pks_ledger, pks_stats; -1: none */
	bool restore_on;                             /* pks_ctl's restore field is 1 (as last written or read) */
	struct pks_filter_part filter;               /* the restore bits of pks_filter: flows out per slot */
	uint64_t synced_deleted, synced_written; /* what pks_ledger has of counts */
	struct pks_lifecycle_opts o;
	pks_flow_record_fn emit;
	void *ctx;
	struct lc_entry *tab; /* used entries of cap */
	size_t cap, used;
	uint64_t *slot;       /* the index: scap slots, a power of two, used <= scap / 2 */
	size_t scap;
	uint32_t gen;
	uint64_t scan_ns; /* flow clock of the last scan */
	uint64_t next_id;
	struct pks_flow_set set; /* reused by every scan */
	struct pks_lifecycle_counts counts;
	/*
	 * The shutdown: the kernel's maps go with the detach, so nothing is
	 * deleted from them; names_read when one read of pks_names found the
	 * flows' names (names, n_names).
	 */
	bool flushing, names_read;
	struct pks_flow_name *names;
	size_t n_names;
};

/*
 * The tracker: entries packed in one array (what a flow costs is its entry,
 * about 160 bytes), found through an open-addressing index kept at most half
 * full. A slot holds the key's hash in its high 32 bits and the entry number
 * + 1 in its low 32 (0: empty), so that a probe, a removal's shifts and a
 * growth read no entry but the one they look for. With a full table of
 * 327,680 flows that is 52 MB of entries and 8 MB of index, where slots
 * holding whole entries at half load took three times as much and twice
 * that while growing.
 */
static uint32_t lc_hash(const struct pks_flow_key *k)
{
	return (uint32_t)pks_key_hash(k, sizeof(*k) / 4);
}

static uint64_t lc_slot_value(uint32_t hash, size_t idx)
{
	return (uint64_t)hash << 32 | (uint32_t)(idx + 1);
}

/* The slot that holds entry number idx (it is there: the caller owns it). */
static size_t lc_slot_of(const struct pks_lifecycle *lc, size_t idx)
{
	uint32_t h = lc_hash(&lc->tab[idx].key);
	size_t mask = lc->scap - 1, i = h & mask;

	while (lc->slot[i] != lc_slot_value(h, idx))
		i = (i + 1) & mask;
	return i;
}

static struct lc_entry *lc_find(struct pks_lifecycle *lc, const struct pks_flow_key *k)
{
	uint32_t h = lc_hash(k);
	size_t mask = lc->scap - 1;

	for (size_t i = h & mask; lc->slot[i]; i = (i + 1) & mask) {
		struct lc_entry *e;

		if ((uint32_t)(lc->slot[i] >> 32) != h)
			continue;
		e = &lc->tab[(uint32_t)lc->slot[i] - 1];
		if (!memcmp(&e->key, k, sizeof(*k)))
			return e;
	}
	return NULL;
}

/* A slot value into the first free slot from its home. */
static void lc_place(struct pks_lifecycle *lc, uint64_t v)
{
	size_t mask = lc->scap - 1, i = (uint32_t)(v >> 32) & mask;

	while (lc->slot[i])
		i = (i + 1) & mask;
	lc->slot[i] = v;
}

static int lc_grow_index(struct pks_lifecycle *lc, size_t scap)
{
	uint64_t *slot = calloc(scap, sizeof(*slot)), *old = lc->slot;
	size_t ocap = lc->scap;

	if (!slot)
		return -ENOMEM;
	lc->slot = slot;
	lc->scap = scap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i])
			lc_place(lc, old[i]);
	free(old);
	return 0;
}

static struct lc_entry *lc_insert(struct pks_lifecycle *lc, const struct pks_flow_key *k)
{
	struct lc_entry *e;

	if (lc->used >= UINT32_MAX - 1)
		return NULL;
	if (lc->used == lc->cap) {
		struct lc_entry *tab = realloc(lc->tab, lc->cap * 2 * sizeof(*tab));

		if (!tab)
			return NULL;
		lc->tab = tab;
		lc->cap *= 2;
	}
	if ((lc->used + 1) * 2 > lc->scap && lc_grow_index(lc, lc->scap * 2))
		return NULL;
	e = &lc->tab[lc->used];
	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->id = ++lc->next_id;
	lc_place(lc, lc_slot_value(lc_hash(k), lc->used++));
	return e;
}

/*
 * Removes an entry: backward-shift deletion in the index (a slot after the
 * hole moves up unless its home lies cyclically between the hole and it),
 * then the last entry moves into the freed place, so the entry that was at
 * e's place afterwards is the one that was last.
 */
static void lc_remove(struct pks_lifecycle *lc, struct lc_entry *e)
{
	size_t mask = lc->scap - 1, idx = (size_t)(e - lc->tab), last = lc->used - 1;
	size_t hole = lc_slot_of(lc, idx);

	for (size_t i = (hole + 1) & mask; lc->slot[i]; i = (i + 1) & mask) {
		size_t home = (uint32_t)(lc->slot[i] >> 32) & mask;

		if (((i - home) & mask) >= ((i - hole) & mask)) {
			lc->slot[hole] = lc->slot[i];
			hole = i;
		}
	}
	lc->slot[hole] = 0;
	if (idx != last) {
		size_t at = lc_slot_of(lc, last);

		lc->slot[at] = lc_slot_value((uint32_t)(lc->slot[at] >> 32), idx);
		lc->tab[idx] = lc->tab[last];
	}
	lc->used--;
}

int pks_lifecycle_new(const struct pks_flowtab *flows, int names_fd, int done_fd, const struct pks_lifecycle_opts *o,
		      pks_flow_record_fn emit, void *ctx, struct pks_lifecycle **out)
{
	struct pks_lifecycle *lc = calloc(1, sizeof(*lc));

	*out = NULL;
	if (!lc)
		return -ENOMEM;
	lc->flows = *flows;
	lc->flows.owned = false; /* the caller's to close */
	lc->names_fd = names_fd;
	lc->done_fd = done_fd;
	lc->restore_fd = lc->ctl_fd = lc->ledger_fd = lc->stats_fd = -1;
	lc->o = *o;
	if (!lc->o.linger_ns)
		lc->o.linger_ns = 0; /* 0 is a valid linger: end at the next scan */
	if (!lc->o.fin_timeout_ns)
		lc->o.fin_timeout_ns = PKS_FIN_TIMEOUT_DEFAULT;
	if (!lc->o.tcp_timeout_ns)
		lc->o.tcp_timeout_ns = PKS_TCP_TIMEOUT_DEFAULT;
	if (!lc->o.udp_timeout_ns)
		lc->o.udp_timeout_ns = PKS_UDP_TIMEOUT_DEFAULT;
	if (!lc->o.active_timeout_ns)
		lc->o.active_timeout_ns = PKS_ACTIVE_TIMEOUT_DEFAULT;
	if (!lc->o.pending_max || lc->o.pending_max > PKS_RESTORE_MAX)
		lc->o.pending_max = PKS_RESTORE_MAX;
	lc->emit = emit;
	lc->ctx = ctx;
	lc->cap = 1024;
	lc->scap = 2048;
	lc->tab = calloc(lc->cap, sizeof(*lc->tab));
	lc->slot = calloc(lc->scap, sizeof(*lc->slot));
	if (!lc->tab || !lc->slot) {
		free(lc->tab);
		free(lc->slot);
		free(lc);
		return -ENOMEM;
	}
	*out = lc;
	return 0;
}

void pks_lifecycle_free(struct pks_lifecycle *lc)
{
	if (!lc)
		return;
	free(lc->tab);
	free(lc->slot);
	pks_flows_free(&lc->set);
	pks_filter_part_close(&lc->filter);
	free(lc);
}

const struct pks_lifecycle_counts *pks_lifecycle_counts(const struct pks_lifecycle *lc)
{
	return &lc->counts;
}

uint64_t pks_lifecycle_evictions(const struct pks_lifecycle *lc)
{
	return lc->counts.evicted;
}

int pks_lifecycle_set_restore(struct pks_lifecycle *lc, int restore_fd, int ctl_fd, int ledger_fd, int stats_fd,
			      int filter_fd)
{
	__u32 slot = PKS_CTL_ENGINE;
	struct pks_ctl c;

	lc->restore_fd = restore_fd;
	lc->ctl_fd = ctl_fd;
	lc->ledger_fd = ledger_fd;
	lc->stats_fd = stats_fd;
	/* An earlier daemon's entries may be out: the field stays until a scan finds the map empty, their bits too. */
	lc->restore_on = ctl_fd >= 0 && bpf_map_lookup_elem(ctl_fd, &slot, &c) == 0 && c.restore;
	pks_filter_part_close(&lc->filter);
	if (restore_fd < 0)
		return 0;
	return pks_filter_part_open(&lc->filter, filter_fd, PKS_FILTER_RESTORE, true, restore_fd,
				    sizeof(struct pks_flow_key), 0);
}

/*
 * e is no longer expected back: its pks_restore entry was used by the kernel
 * (gone), or is deleted here (del), then its bit may clear. At shutdown the
 * entries stay for the next daemon, and so do their bits.
 */
static void pending_end(struct pks_lifecycle *lc, struct lc_entry *e, bool del)
{
	e->pending = false;
	lc->counts.pending--;
	if (lc->restore_fd < 0 || lc->flushing)
		return;
	if (del)
		bpf_map_delete_elem(lc->restore_fd, &e->key);
	pks_filter_part_dec(&lc->filter, PKS_FILTER_SLOT_OF(&e->key));
}

/*
 * pks_ctl's restore field in the engine's entry (include/pktspec/events.h):
 * whether the kernel looks pks_restore up at a new flow. The engine writes
 * the entry's other fields, in this thread: read, change one, write.
 */
static int ctl_restore(struct pks_lifecycle *lc, bool on)
{
	__u32 slot = PKS_CTL_ENGINE;
	struct pks_ctl c;

	if (lc->ctl_fd < 0)
		return -ENOENT; /* without it the kernel would never read an entry */
	if (bpf_map_lookup_elem(lc->ctl_fd, &slot, &c))
		return -errno;
	c.restore = on;
	if (bpf_map_update_elem(lc->ctl_fd, &slot, &c, BPF_ANY))
		return -errno;
	lc->restore_on = on;
	return 0;
}

/* At the end of a scan: nothing expected back and pks_restore empty (only this daemon writes it), the lookups stop. */
static void restore_quiet(struct pks_lifecycle *lc)
{
	struct pks_flow_key k;

	if (!lc->restore_on || lc->counts.pending || lc->restore_fd < 0)
		return;
	if (bpf_map_get_next_key(lc->restore_fd, NULL, &k) == 0 || errno != ENOENT)
		return;
	if (ctl_restore(lc, false) == 0)
		pks_filter_part_clear(&lc->filter);
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static unsigned int proto_idx(unsigned int p)
{
	return p < PKS_P__COUNT ? p : PKS_P_UNKNOWN;
}

static unsigned int conf_idx(unsigned int c)
{
	return c < PKS_C__COUNT ? c : PKS_C_NONE;
}

/* Counts what the flow carried since the last scan under its current verdict (monotonic per series). */
static void count_traffic(struct pks_lifecycle *lc, struct lc_entry *e, const struct pks_flow_view *v, bool fresh)
{
	uint64_t pk = (uint64_t)v->packets[0] + v->packets[1], by = v->bytes[0] + v->bytes[1];
	uint64_t opk = fresh ? 0 : (uint64_t)e->last.packets[0] + e->last.packets[1];
	uint64_t oby = fresh ? 0 : e->last.bytes[0] + e->last.bytes[1];
	unsigned int p = proto_idx(v->proto), c = conf_idx(v->confidence);

	lc->counts.packets[p][c] += sub0(pk, opk);
	lc->counts.bytes[p][c] += sub0(by, oby);
}

/*
 * Whether pks_names or pks_done may hold an entry of e's flow: the engine said
 * it wrote one, or the flow's last state says the engine may have (before
 * this daemon, or with the flow's event lost).
 */
static bool lc_context_possible(const struct lc_entry *e)
{
	return e->context || pks_flow_context_possible(e->last.ctx, e->last.copied);
}

/*
 * Fills a record from an entry's last state and reports its deltas (none for
 * a restore: what came since the eviction goes to the flow's next record).
 * live: the flow goes on (interim, an eviction it is expected back from).
 * Returns whether pks_names held a name for the flow.
 */
static bool emit_record(struct pks_lifecycle *lc, struct lc_entry *e, enum pks_end_reason reason, bool live)
{
	struct pks_flow_record r = {};
	const struct pks_flow_view *v = &e->last;

	r.key = e->key;
	r.val = *v;
	r.reason = reason;
	r.live = live || reason == PKS_END_ACTIVE || reason == PKS_END_RESTORED;
	r.id = e->id;
	r.since_ns = e->report_ns > v->first_ns ? e->report_ns : v->first_ns;
	for (int d = 0; d < 2 && reason != PKS_END_RESTORED; d++) {
		r.delta_bytes[d] = sub0(v->bytes[d], e->rep_bytes[d]);
		r.delta_packets[d] = sub0(v->packets[d], e->rep_packets[d]);
		e->rep_bytes[d] = v->bytes[d];
		e->rep_packets[d] = v->packets[d];
	}
	if (lc->names_read) /* the shutdown read every name at once */
		r.named = e->name != 0;
	else
		r.named = lc->names_fd >= 0 && lc_context_possible(e) &&
			  bpf_map_lookup_elem(lc->names_fd, &e->key, &r.name) == 0;
	if (r.named) {
		if (lc->names_read)
			r.name = lc->names[e->name - 1];
		r.name.host[sizeof(r.name.host) - 1] = 0;
		r.name.app[sizeof(r.name.app) - 1] = 0;
		r.name.alpn[sizeof(r.name.alpn) - 1] = 0;
		r.name.agent[sizeof(r.name.agent) - 1] = 0;
		r.name.dns_host[sizeof(r.name.dns_host) - 1] = 0;
	}
	lc->counts.ended[proto_idx(v->proto)][reason < PKS_END__COUNT ? reason : PKS_END_NONE]++;
	if (lc->emit)
		lc->emit(lc->ctx, &r);
	return r.named;
}

/* Deletes a flow's entries in the per-flow context maps the daemon owns: its name only when it had one. */
static void forget_context(struct pks_lifecycle *lc, const struct lc_entry *e, bool named)
{
	if (lc->names_fd >= 0 && named)
		bpf_map_delete_elem(lc->names_fd, &e->key);
	if (lc->done_fd >= 0 && lc_context_possible(e))
		bpf_map_delete_elem(lc->done_fd, &e->key);
}

void pks_lifecycle_context(struct pks_lifecycle *lc, const struct pks_flow_key *k)
{
	struct lc_entry *e = lc_find(lc, k);

	if (e)
		e->context = true;
}

/* A newer reading of e's flow (the same first packet): its traffic counted, kept as the last state. */
static void take_reading(struct pks_lifecycle *lc, struct lc_entry *e, const struct pks_flow_view *v)
{
	count_traffic(lc, e, v, false);
	e->last = *v;
}

/*
 * The end of a flow whose last state e holds: out of the tables (not at the
 * shutdown, whose maps go with it), reported, forgotten.
 */
static void finish_flow(struct pks_lifecycle *lc, struct lc_entry *e, enum pks_end_reason reason)
{
	bool named;

	if (!lc->flushing) {
		int derr = pks_flowtab_del(&lc->flows, &e->key);

		if (!derr)
			lc->counts.deleted++; /* pks_ledger: not an eviction */
		else if (derr != -ENOENT)
			lc->counts.delete_errors++;
	}
	if (e->pending)
		pending_end(lc, e, true);
	/* The record reads the flow's name before it goes. */
	named = emit_record(lc, e, reason, false);
	if (!lc->flushing)
		forget_context(lc, e, named);
	lc_remove(lc, e);
}

/*
 * Removes a flow the daemon ended from the kernel's tables, then reports it.
 * A packet that came after the scan read the flow keeps it (unless forced):
 * returns whether it ended.
 */
static bool end_flow(struct pks_lifecycle *lc, struct lc_entry *e, enum pks_end_reason reason, bool force)
{
	struct pks_flow_view fresh;

	if (pks_flowtab_get(&lc->flows, &e->key, &fresh) == 0 && fresh.first_ns == e->last.first_ns) {
		bool busy = !force && fresh.last_ns > e->last.last_ns;

		take_reading(lc, e, &fresh);
		if (busy)
			return false;
	}
	finish_flow(lc, e, reason);
	return true;
}

/* A midstream flow's client was flipped: its directions swapped, and what was reported with them. */
static void swap_reported(struct lc_entry *e)
{
	uint64_t b = e->rep_bytes[0], p = e->rep_packets[0];

	e->rep_bytes[0] = e->rep_bytes[1];
	e->rep_bytes[1] = b;
	e->rep_packets[0] = e->rep_packets[1];
	e->rep_packets[1] = p;
}

/* Signed age: a packet may be newer than the clock read before the scan. */
static bool older_than(uint64_t now, uint64_t t, uint64_t limit)
{
	return now > t && now - t >= limit;
}

static enum pks_end_reason end_reason(const struct pks_lifecycle *lc, const struct pks_flow_view *v, uint8_t l4,
				      uint64_t now)
{
	if (l4 == IPPROTO_TCP) {
		if ((v->flags & PKS_F_RST) && older_than(now, v->last_ns, lc->o.linger_ns))
			return PKS_END_RST;
		if ((v->flags & PKS_F_FIN_A) && (v->flags & PKS_F_FIN_B) &&
		    older_than(now, v->last_ns, lc->o.linger_ns))
			return PKS_END_FIN;
		if (v->flags & (PKS_F_FIN_A | PKS_F_FIN_B | PKS_F_RST))
			return older_than(now, v->last_ns, lc->o.fin_timeout_ns) ? PKS_END_IDLE : PKS_END_NONE;
		return older_than(now, v->last_ns, lc->o.tcp_timeout_ns) ? PKS_END_IDLE : PKS_END_NONE;
	}
	return older_than(now, v->last_ns, lc->o.udp_timeout_ns) ? PKS_END_IDLE : PKS_END_NONE;
}

/*
 * Whether an evicted flow is expected back and worth its state: a verdict from
 * its payload (or better), no FIN or RST, and more than one packet. A port
 * guess is rebuilt as well from the next packet. A flow of one packet is what
 * a flood of new flows is made of (a query, a first request from a random
 * address): held as waiting, such flows took every place pks_restore has for
 * the idle timeout, and the flows the flood evicted found none. A real flow
 * of one packet so far loses little: its next packet is another first
 * message (an answer, a server's hello), which the signatures read again.
 */
static bool expected_back(const struct pks_flow_view *v)
{
	return v->confidence >= PKS_C_SIGNATURE && !(v->flags & (PKS_F_FIN | PKS_F_RST)) &&
	       (uint64_t)v->packets[0] + v->packets[1] > 1;
}

/*
 * The tracker's copy as the kernel is to take it back. A flow returns
 * midstream, where no first message can settle a verdict any more: one still
 * open on server memory (PKS_X_MEMORY, doc/context.md) is kept as decided.
 * Otherwise its next continuation bytes would count as the first message the
 * remembered protocol did not send, and turn the flow unknown. The kernel
 * sends an event when a banner backs the memory (bpf/pktspec.bpf.c,
 * pks_verdict), so this is for a copy whose later events were lost (a full
 * ring) or came after the eviction.
 */
static void encode_returning(struct pks_lifecycle *lc, const struct lc_entry *e, struct pks_flow *f)
{
	pks_flow_encode(&lc->flows, &e->last, f);
	if (f->ctx & PKS_X_MEMORY) {
		f->ctx &= ~PKS_X_MEMORY;
		f->flags |= PKS_F_DECIDED;
	}
}

/* The flow's last state into pks_restore, for the kernel to rebuild it from at its next packet. */
static int write_restore(struct pks_lifecycle *lc, struct lc_entry *e)
{
	struct pks_flow f;

	if (lc->restore_fd < 0)
		return -ENOENT;
	/* The kernel looks first, then the entry is there. */
	if (!lc->restore_on && ctl_restore(lc, true))
		return -EIO;
	encode_returning(lc, e, &f);
	pks_filter_part_inc(&lc->filter, PKS_FILTER_SLOT_OF(&e->key));
	if (bpf_map_update_elem(lc->restore_fd, &e->key, &f, BPF_ANY)) {
		int err = -errno;

		pks_filter_part_dec(&lc->filter, PKS_FILTER_SLOT_OF(&e->key));
		return err;
	}
	lc->counts.restore_written++;
	return 0;
}

/*
 * A flow expected back is back as a new entry (its packet came before the
 * restore entry was written, or the restore entry was lost): the entry gets
 * the tracker's copy of the verdict, client side and flags, and the old
 * counters plus the new ones (turned around if the new entry took the other
 * side for the client). A packet counted between the read and the write is
 * lost, as in pks_flowtab_set_app. cur: the repaired entry.
 */
static int repair(struct pks_lifecycle *lc, struct lc_entry *e, struct pks_flow_view *cur)
{
	struct pks_flow now, f;
	int swap, err;

	err = pks_flowtab_get_raw(&lc->flows, &e->key, &now);
	if (err)
		return err;
	encode_returning(lc, e, &f);
	swap = pks_flow_client(&now) != pks_flow_client(&f);
	for (int d = 0; d < 2; d++) {
		f.packets[d] += now.packets[swap ? !d : d];
		f.bytes[d] += now.bytes[swap ? !d : d];
	}
	f.last = now.last;
	f.flags |= now.flags & (PKS_F_FIN | PKS_F_FIN_A | PKS_F_FIN_B | PKS_F_RST);
	err = pks_flowtab_put_raw(&lc->flows, &e->key, &f, BPF_EXIST);
	if (err)
		return err;
	if (lc->restore_fd >= 0)
		bpf_map_delete_elem(lc->restore_fd, &e->key);
	pks_flow_decode(&lc->flows, &e->key, &f, cur);
	return 0;
}

/* The tracker's deletions and restore entries added to pks_ledger (one daemon writes it). */
static void ledger_sync(struct pks_lifecycle *lc)
{
	uint64_t dd = lc->counts.deleted - lc->synced_deleted;
	uint64_t dw = lc->counts.restore_written - lc->synced_written;
	struct pks_ledger l;
	__u32 zero = 0;

	if (lc->ledger_fd < 0 || (!dd && !dw))
		return;
	if (bpf_map_lookup_elem(lc->ledger_fd, &zero, &l))
		return;
	l.deleted += dd;
	l.restore_written += dw;
	if (bpf_map_update_elem(lc->ledger_fd, &zero, &l, BPF_ANY))
		return;
	lc->synced_deleted = lc->counts.deleted;
	lc->synced_written = lc->counts.restore_written;
}

/* Entries the programs created, summed over CPUs (struct pks_stats after the reasons). */
static int stats_created(int stats_fd, uint64_t *created, uint64_t *restored)
{
	int ncpu = libbpf_num_possible_cpus();
	struct pks_stats *per_cpu;
	__u32 zero = 0;
	int err = 0;

	*created = *restored = 0;
	if (ncpu <= 0)
		return -EINVAL;
	per_cpu = calloc(ncpu, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(stats_fd, &zero, per_cpu))
		err = -errno;
	for (int c = 0; c < ncpu && !err; c++) {
		*created += per_cpu[c].flows_created;
		*restored += per_cpu[c].flows_restored;
	}
	free(per_cpu);
	return err;
}

/*
 * The kernel-side eviction count after a scan: created (read before the
 * table) minus deleted minus the entries the scan left. Entries created while
 * the scan read are in the table but not in created, so a busy table makes
 * it lower, never higher; it only grows.
 */
static void table_evictions(struct pks_lifecycle *lc, uint64_t created, uint64_t deleted_before)
{
	uint64_t deleted = 0, left = lc->set.n - (lc->counts.deleted - deleted_before);
	struct pks_ledger l;
	__u32 zero = 0;

	if (lc->ledger_fd >= 0 && bpf_map_lookup_elem(lc->ledger_fd, &zero, &l) == 0)
		deleted = l.deleted;
	else
		deleted = lc->counts.deleted;
	if (created > deleted + left && created - deleted - left > lc->counts.table_evictions)
		lc->counts.table_evictions = created - deleted - left;
}

/*
 * Scans see a flow at most once a second, and a flood evicts in less: a flow
 * decided since the last scan (or created since: the tracker did not know it)
 * would be found gone with no verdict in the tracker's copy, ended instead of
 * restored. Its event comes first and carries the entry as that packet left
 * it, so the tracker takes its copy from the event, with no read of the
 * table: under a flood the daemon reads its events late, and the table may
 * have evicted the flow by then, which is when the copy matters most. The
 * next scan takes it on from this copy (counted once: the traffic to the
 * event is counted here).
 *
 * Left to the scan, which has the rules for them: a flow pending in
 * pks_restore; a new one under the key of a known flow; a copy older than
 * the tracker's (the scan read the table after the event was sent); and a
 * flow the tracker does not know whose event is older than the linger at
 * the last scan, which that scan may have ended (a scan ends a flow quiet
 * for the linger at least), so that a late event cannot bring it back.
 */
void pks_lifecycle_event(struct pks_lifecycle *lc, const struct pks_event_flow *ev)
{
	const struct pks_event *h = &ev->hdr;
	struct pks_flow_view v;
	struct lc_entry *e;

	if ((h->type != PKS_EV_FLOW && h->type != PKS_EV_VERDICT) || h->confidence < PKS_C_SIGNATURE)
		return;
	pks_flow_decode(&lc->flows, &h->key, &ev->flow, &v);
	if (!expected_back(&v))
		return;
	e = lc_find(lc, &h->key);
	if (!e) {
		if (h->ts_ns + lc->o.linger_ns <= lc->scan_ns)
			return;
		e = lc_insert(lc, &h->key);
		if (!e)
			return;
		e->report_ns = v.first_ns;
		count_traffic(lc, e, &v, true);
	} else if (e->pending || v.first_ns != e->last.first_ns ||
		   (uint64_t)v.packets[0] + v.packets[1] < (uint64_t)e->last.packets[0] + e->last.packets[1]) {
		return;
	} else {
		if (v.client != e->last.client)
			swap_reported(e);
		count_traffic(lc, e, &v, false);
	}
	e->last = v;
	lc->counts.noted++;
}

/*
 * Same 5-tuple, new flow (v): the old one was removed and recreated between
 * two reads. The old one's record goes; e then stands for the new one, whose
 * traffic the caller counts as fresh.
 */
static void replace_flow(struct pks_lifecycle *lc, struct lc_entry *e, const struct pks_flow_view *v)
{
	if (e->pending) {
		pending_end(lc, e, true);
	} else {
		lc->counts.evicted++;
	}
	emit_record(lc, e, PKS_END_EVICTED, false);
	memset(e->rep_bytes, 0, sizeof(e->rep_bytes));
	memset(e->rep_packets, 0, sizeof(e->rep_packets));
	e->id = ++lc->next_id;
	e->report_ns = v->first_ns;
}

/* Step n of a scan's walk: the flow table's between hook, every PKS_LC_BETWEEN steps. */
static void lc_between(const struct pks_lifecycle *lc, size_t n)
{
	if (lc->flows.between && n % PKS_LC_BETWEEN == PKS_LC_BETWEEN - 1)
		lc->flows.between(lc->flows.between_ctx);
}

int pks_lifecycle_scan(struct pks_lifecycle *lc, uint64_t now)
{
	uint64_t created = 0, restored = 0, deleted_before = lc->counts.deleted;
	bool have_created;
	int err, ended = 0;

	have_created = lc->stats_fd >= 0 && stats_created(lc->stats_fd, &created, &restored) == 0;
	err = pks_flows_reread(&lc->flows, &lc->set);
	if (err)
		return err;
	lc->gen++;
	lc->scan_ns = now;
	lc->counts.scans++;
	memset(lc->counts.active, 0, sizeof(lc->counts.active));
	lc->counts.entries = lc->set.n;
	for (size_t i = 0; i < lc->set.n; i++) {
		const struct pks_flow_rec *rec = &lc->set.recs[i];
		struct pks_flow_view cur = rec->val;
		const struct pks_flow_view *v = &cur;
		struct lc_entry *e;
		bool fresh;
		enum pks_end_reason why;

		/* Under a flood a scan takes a second or more: the control ring is read meanwhile. */
		lc_between(lc, i);
		e = lc_find(lc, &rec->key);
		fresh = !e;

		if (!e) {
			e = lc_insert(lc, &rec->key);
			if (!e)
				return -ENOMEM;
			e->report_ns = v->first_ns;
		} else if (e->gen == lc->gen) {
			continue; /* listed twice in one scan: counted once */
		} else if (v->first_ns != e->last.first_ns && lc->restore_fd >= 0 && expected_back(&e->last) &&
			   repair(lc, e, &cur) == 0) {
			/* Evicted and back as a new entry before the restore: the same flow goes on. */
			if (e->pending) {
				pending_end(lc, e, false); /* repair() deleted the entry */
			} else {
				emit_record(lc, e, PKS_END_EVICTED, true);
				lc->counts.evicted++;
			}
			lc->counts.repaired++;
			count_traffic(lc, e, v, false);
			e->last = *v;
			emit_record(lc, e, PKS_END_RESTORED, true);
		} else if (v->first_ns != e->last.first_ns) {
			replace_flow(lc, e, v);
			fresh = true;
		} else if (e->pending) {
			/* Rebuilt by the kernel from pks_restore (which it deleted): its first packet's time says it is the same flow. */
			pending_end(lc, e, false);
			lc->counts.restored++;
			count_traffic(lc, e, v, false);
			e->last = *v;
			emit_record(lc, e, PKS_END_RESTORED, true);
		} else if (v->client != e->last.client) {
			swap_reported(e);
		}
		count_traffic(lc, e, v, fresh);
		e->last = *v;
		e->gen = lc->gen;
		why = end_reason(lc, v, rec->key.l4, now);
		if (why != PKS_END_NONE) {
			/* e may move in the table once removed: keep what the counts need. */
			unsigned int p = proto_idx(v->proto), c = conf_idx(v->confidence);

			if (end_flow(lc, e, why, false)) {
				ended++;
				continue;
			}
			lc->counts.active[p][c]++;
			continue;
		}
		lc->counts.active[proto_idx(v->proto)][conf_idx(v->confidence)]++;
		if (older_than(now, e->report_ns, lc->o.active_timeout_ns)) {
			emit_record(lc, e, PKS_END_ACTIVE, true);
			e->report_ns = now;
		}
	}
	/*
	 * What the tracker knew and this scan did not list was removed behind its
	 * back. A flow expected back waits in pks_restore until its idle timeout.
	 */
	for (size_t i = 0, steps = 0; i < lc->used; steps++) {
		struct lc_entry *e = &lc->tab[i];

		/* Under a flood nearly every flow the last scan listed is gone by this one: the same hook. */
		lc_between(lc, steps);
		if (e->gen == lc->gen) {
			i++;
			continue;
		}
		if (!e->pending) {
			bool back = expected_back(&e->last);

			lc->counts.evicted++;
			/*
			 * No more flows wait than pks_restore holds: past that its LRU
			 * would drop their entries, and the tracker would keep copies
			 * the kernel can no longer use, without bound under a flood of
			 * new flows. Such a flow ends now, as one not expected back.
			 */
			if (back && lc->counts.pending >= lc->o.pending_max) {
				lc->counts.restore_full++;
			} else if (back && write_restore(lc, e) == 0) {
				emit_record(lc, e, PKS_END_EVICTED, true);
				e->pending = true;
				lc->counts.pending++;
				i++;
				continue;
			}
		} else if (end_reason(lc, &e->last, e->key.l4, now) == PKS_END_NONE) {
			i++;
			continue;
		} else {
			pending_end(lc, e, true);
		}
		forget_context(lc, e, emit_record(lc, e, PKS_END_EVICTED, false));
		lc_remove(lc, e);
		/* the last entry moved into place i */
	}
	lc->counts.entries -= (uint64_t)ended;
	restore_quiet(lc);
	ledger_sync(lc);
	if (have_created)
		table_evictions(lc, created, deleted_before);
	return ended;
}

/* The shutdown's read of pks_names: each tracked flow's name, kept for its record. */
static int flush_names(void *ctx, const void *keys, const void *vals, __u32 n)
{
	struct pks_lifecycle *lc = ctx;
	struct pks_flow_name *grown = realloc(lc->names, (lc->n_names + n) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	lc->names = grown;
	for (__u32 i = 0; i < n; i++) {
		struct lc_entry *e = lc_find(lc, (const struct pks_flow_key *)keys + i);

		if (!e)
			continue;
		lc->names[lc->n_names] = ((const struct pks_flow_name *)vals)[i];
		e->name = (uint32_t)++lc->n_names;
	}
	return 0;
}

/* The flows' names from one read of pks_names instead of a lookup per flow; false (none kept) when it fails. */
static bool flush_read_names(struct pks_lifecycle *lc)
{
	for (size_t i = 0; i < lc->used; i++)
		lc->tab[i].name = 0;
	lc->n_names = 0;
	return lc->names_fd < 0 || pks_map_batches(lc->names_fd, sizeof(struct pks_flow_key),
						   sizeof(struct pks_flow_name), flush_names, lc) == 0;
}

void pks_lifecycle_flush(struct pks_lifecycle *lc, enum pks_end_reason reason)
{
	/*
	 * The caller has detached the last interface, so one read of the tables
	 * is every flow's last state, including the flows no scan has seen yet
	 * (up to a second of them: under a flood, hundreds of thousands). The
	 * names come from one read of pks_names. Nothing is deleted: the maps go
	 * when the daemon closes them, and a deletion per flow made stopping
	 * under a flood take 7-9 s. When the read fails, each tracked flow ends
	 * with its own lookup.
	 */
	lc->flushing = true;
	if (pks_flows_reread(&lc->flows, &lc->set) == 0) {
		for (size_t i = 0; i < lc->set.n; i++) {
			const struct pks_flow_rec *rec = &lc->set.recs[i];
			struct lc_entry *e = lc_find(lc, &rec->key);
			bool fresh = !e;

			if (!e) {
				e = lc_insert(lc, &rec->key);
				if (!e)
					break; /* out of memory: the flows tracked so far still end */
				e->report_ns = rec->val.first_ns;
			} else if (rec->val.first_ns != e->last.first_ns) {
				replace_flow(lc, e, &rec->val);
				fresh = true;
			}
			count_traffic(lc, e, &rec->val, fresh);
			e->last = rec->val;
		}
		lc->names_read = flush_read_names(lc);
		while (lc->used)
			finish_flow(lc, &lc->tab[lc->used - 1], reason);
		lc->names_read = false;
		free(lc->names);
		lc->names = NULL;
		lc->n_names = 0;
	}
	while (lc->used)
		end_flow(lc, &lc->tab[lc->used - 1], reason, true);
	lc->flushing = false;
}

void pks_flow_record_print(FILE *out, const struct pks_flow_record *r, bool json, enum pks_clock clock)
{
	struct pks_flow_rec fr = { .key = r->key, .val = r->val };
	const struct pks_flow_view *v = &r->val;
	uint64_t dur = v->last_ns > v->first_ns ? v->last_ns - v->first_ns : 0;
	const char *event = r->reason == PKS_END_ACTIVE	 ? "interim"
			    : r->reason == PKS_END_RESTORED ? "restored"
			    : r->live			 ? "evicted"
							 : "end";

	if (json) {
		int64_t off = pks_epoch_offset(clock); /* the record's time is its last seen, to the digit */

		fprintf(out, "{\"event\":\"%s\",\"time\":" PKS_SEC6_FMT ",\"reason\":\"%s\",\"flow_id\":%llu,", event,
			PKS_SEC6(pks_epoch_add(v->last_ns, off)), pks_end_reason_name(r->reason),
			(unsigned long long)r->id);
		pks_flow_json_fields_at(out, &fr, off, r->named ? &r->name : NULL);
		fprintf(out, ",\"delta_packets_c2s\":%llu,\"delta_packets_s2c\":%llu,\"delta_bytes_c2s\":%llu,"
			     "\"delta_bytes_s2c\":%llu}\n",
			(unsigned long long)r->delta_packets[0], (unsigned long long)r->delta_packets[1],
			(unsigned long long)r->delta_bytes[0], (unsigned long long)r->delta_bytes[1]);
	} else {
		char client[INET6_ADDRSTRLEN], server[INET6_ADDRSTRLEN];
		uint64_t ms = (dur + 500000) / 1000000; /* the duration, rounded to the millisecond */
		uint16_t cport, sport;

		pks_flow_endpoints(&fr, client, server, sizeof(client), &cport, &sport);
		fprintf(out, "%-7s %s %s%s%s:%u -> %s%s%s:%u %s/%s (%s) %s pkts %u/%u bytes %llu/%llu %llu.%03llus%s%s%s%s\n",
			event, pks_l4_name(r->key.l4), strchr(client, ':') ? "[" : "", client,
			strchr(client, ':') ? "]" : "", cport, strchr(server, ':') ? "[" : "", server,
			strchr(server, ':') ? "]" : "", sport, pks_proto_name(v->proto),
			pks_confidence_name(v->confidence), pks_rule_name(v->rule), pks_end_reason_name(r->reason),
			v->packets[0], v->packets[1], (unsigned long long)v->bytes[0], (unsigned long long)v->bytes[1],
			(unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000),
			r->named && r->name.host[0] ? " host=" : "", r->named ? r->name.host : "",
			r->named && r->name.app[0] ? " app=" : "", r->named ? r->name.app : "");
	}
}

int pks_evictions_read(int stats_fd, int ledger_fd, const struct pks_flowtab *t, struct pks_evictions *ev)
{
	struct pks_ledger l;
	__u32 zero = 0;
	__u64 cap, entries;
	int err;

	memset(ev, 0, sizeof(*ev));
	/* Created before the tables: a flow created during the count lowers the result, never raises it. */
	err = stats_created(stats_fd, &ev->created, &ev->restored);
	if (err)
		return err;
	err = pks_flowtab_fill(t, &entries, &cap);
	if (err)
		return err;
	ev->entries = entries;
	ev->capacity = cap;
	/* Deleted after the tables, for the same reason. */
	if (ledger_fd >= 0 && bpf_map_lookup_elem(ledger_fd, &zero, &l) == 0) {
		ev->deleted = l.deleted;
		ev->restore_written = l.restore_written;
	}
	ev->evicted = ev->created > ev->deleted + ev->entries ? ev->created - ev->deleted - ev->entries : 0;
	return 0;
}
