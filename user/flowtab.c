// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * The flow tables as the CLI sees them: pks_flows4 (plain IPv4, 16-byte key;
 * or the array table pks_ways4, mapped into our memory) and pks_flows (IPv6,
 * the 44-byte key) read as one table of wide keys, their
 * packed 48-byte values (include/pktspec/pktspec.h) decoded into struct
 * pks_flow_view: full times in nanoseconds, the client side, the directions
 * that matched, the port's guess.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pktspec.h"
#include "pktspec/flow_key.h"
#include "pktspec/events.h"
#include "pktspec.skel.h"

/* Records per batch syscall; a bucket longer than that gets a bigger batch (ENOSPC). */
#define PKS_FLOWS_BATCH 1024

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * Ticks back to nanoseconds. A replayed table counts from the replay's epoch
 * and needs nothing more. A live one counts from boot in 32 bits, which wrap
 * every 52 days of uptime: the time is the latest one before now (or just
 * after it: a packet counted while we read) that has these low 32 bits.
 */
__u64 pks_flowtab_ns(const struct pks_flowtab *t, __u32 ticks)
{
	__u64 now, now_ticks;
	__u32 behind;

	if (t->clock == PKS_CLOCK_REALTIME)
		return t->epoch_ns + ((__u64)ticks << PKS_TICK_SHIFT);
	now = t->now_ns ? t->now_ns : mono_ns();
	now_ticks = now >> PKS_TICK_SHIFT;
	behind = (__u32)now_ticks - ticks;
	if (behind > 0x80000000u) /* ahead of our clock */
		return (now_ticks + (__u32)(ticks - (__u32)now_ticks)) << PKS_TICK_SHIFT;
	return (now_ticks - behind) << PKS_TICK_SHIFT;
}

void pks_flow_decode(const struct pks_flowtab *t, const struct pks_flow_key *key, const struct pks_flow *f,
		     struct pks_flow_view *v)
{
	int client = pks_flow_client(f);
	__u16 server_port = client == PKS_SIDE_A ? key->port_b : key->port_a;

	memset(v, 0, sizeof(*v));
	v->first_ns = pks_flowtab_ns(t, f->first);
	v->last_ns = pks_flowtab_ns(t, f->last);
	if (v->last_ns < v->first_ns)
		v->last_ns = v->first_ns;
	v->bytes[0] = f->bytes[0];
	v->bytes[1] = f->bytes[1];
	v->packets[0] = f->packets[0];
	v->packets[1] = f->packets[1];
	v->cookie = f->cookie;
	v->rule = f->rule;
	v->proto = f->proto;
	v->confidence = f->confidence;
	v->guess = pks_port_guess_user(key->l4, server_port);
	v->client = client;
	v->flags = f->flags;
	v->sig_dirs = pks_flow_sig(f, PKS_DIR_C2S) | pks_flow_sig(f, PKS_DIR_S2C) << 1;
	v->inspected[0] = pks_flow_inspected(f, PKS_DIR_C2S);
	v->inspected[1] = pks_flow_inspected(f, PKS_DIR_S2C);
	v->app = f->app;
	v->ctx = f->ctx;
	v->copied[0] = f->copied[0];
	v->copied[1] = f->copied[1];
}

/* Nanoseconds back to ticks: from the replay's epoch, else the low 32 bits of boot time. */
static __u32 flowtab_ticks(const struct pks_flowtab *t, __u64 ns)
{
	if (t->clock == PKS_CLOCK_REALTIME)
		return ns > t->epoch_ns ? (__u32)((ns - t->epoch_ns) >> PKS_TICK_SHIFT) : 0;
	return (__u32)(ns >> PKS_TICK_SHIFT);
}

void pks_flow_encode(const struct pks_flowtab *t, const struct pks_flow_view *v, struct pks_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->first = flowtab_ticks(t, v->first_ns);
	f->last = flowtab_ticks(t, v->last_ns);
	f->bytes[0] = v->bytes[0];
	f->bytes[1] = v->bytes[1];
	f->packets[0] = v->packets[0];
	f->packets[1] = v->packets[1];
	f->cookie = v->cookie;
	f->rule = v->rule;
	f->app = v->app;
	f->proto = v->proto;
	f->confidence = v->confidence;
	f->flags = v->flags;
	f->ctx = v->ctx;
	f->copied[0] = v->copied[0];
	f->copied[1] = v->copied[1];
	f->inspected = (__u8)((v->inspected[0] & 0xf) | (v->inspected[1] & 0xf) << 4);
	f->bits = (v->client == PKS_SIDE_B ? PKS_B_CLIENT_B : 0) | (v->sig_dirs & 1 ? PKS_B_SIG_C2S : 0) |
		  (v->sig_dirs & 2 ? PKS_B_SIG_S2C : 0);
}

void pks_flowtab_init(struct pks_flowtab *t)
{
	memset(t, 0, sizeof(*t));
	t->fd4 = t->fd6 = t->fdw = -1;
	t->clock = PKS_CLOCK_MONOTONIC;
}

int pks_flowtab_use_ways(struct pks_flowtab *t, int fdw)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	if (fdw <= 0) /* none (0: a struct of fds left zero, as pks_engine_maps allows) */
		return 0;
	if (bpf_obj_get_info_by_fd(fdw, &info, &len))
		return -errno;
	if (info.max_entries <= 1 || info.value_size != sizeof(struct pks_bucket4))
		return 0; /* the LRU hash holds IPv4 flows */
	t->ways_len = ((size_t)info.max_entries * sizeof(struct pks_bucket4) + page - 1) / page * page;
	p = mmap(NULL, t->ways_len, PROT_READ | PROT_WRITE, MAP_SHARED, fdw, 0);
	if (p == MAP_FAILED) {
		t->ways_len = 0;
		return -errno;
	}
	t->ways = p;
	t->buckets = info.max_entries;
	t->fdw = fdw;
	return 0;
}

/* Whether a way's two key words are w (the used word first, as the kernel writes it last). */
static bool way_holds(const struct pks_way4 *way, const __u64 w[2])
{
	const __u64 *kw = (const __u64 *)way;

	return __atomic_load_n(&kw[1], __ATOMIC_ACQUIRE) == w[1] && __atomic_load_n(&kw[0], __ATOMIC_ACQUIRE) == w[0];
}

/*
 * A way's key words and value as one consistent reading: false when the
 * way is free, or when the kernel (or another reader's delete) changed its
 * key while we read it. The kernel writes a way's used word last and
 * clears it first (bpf/ways4.h).
 */
static bool way_read(const struct pks_way4 *way, struct pks_flow_key4 *k, struct pks_flow *f)
{
	const __u64 *kw = (const __u64 *)way;
	__u64 w[2];

	w[1] = __atomic_load_n(&kw[1], __ATOMIC_ACQUIRE);
	w[0] = __atomic_load_n(&kw[0], __ATOMIC_ACQUIRE);
	memcpy(k, w, sizeof(*k));
	if (!k->pad[0])
		return false;
	if (f)
		memcpy(f, &way->val, sizeof(*f));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (!way_holds(way, w))
		return false;
	k->pad[0] = 0;
	return true;
}

/* The way holding k4, or NULL. */
static struct pks_way4 *way_find(const struct pks_flowtab *t, const struct pks_flow_key4 *k4)
{
	struct pks_bucket4 *b = &t->ways[pks_ways4_bucket(pks_ways4_hash(k4), t->buckets)];
	__u64 w[2];

	pks_ways4_words(k4, w);
	for (int i = 0; i < PKS_WAYS4; i++)
		if (way_holds(&b->way[i], w))
			return &b->way[i];
	return NULL;
}

/* Reads k4's value from the array table: 0, or -ENOENT. */
static int ways_get(const struct pks_flowtab *t, const struct pks_flow_key4 *k4, struct pks_flow *f)
{
	struct pks_way4 *way = way_find(t, k4);
	struct pks_flow_key4 got;

	if (!way || !way_read(way, &got, f) || memcmp(&got, k4, sizeof(got)))
		return -ENOENT;
	return 0;
}

/*
 * Writes k4's value in place (BPF_EXIST; the array table takes no
 * insertions from user space): 0, -ENOENT, or -EOPNOTSUPP for another flag.
 * The key is checked before and after the copy. A flow the kernel evicted
 * during the copy (its bucket full, its way given to a new flow) reports
 * -ENOENT, but the new flow's value may carry what we wrote: the one race
 * the array table has that the LRU hash's update does not (doc/design.md,
 * "Flow tables"). It needs a full bucket and a copy of 48 bytes to meet.
 */
static int ways_put(const struct pks_flowtab *t, const struct pks_flow_key4 *k4, const struct pks_flow *f,
		    __u64 flags)
{
	struct pks_way4 *way;
	__u64 w[2];

	if (flags != BPF_EXIST && flags != BPF_ANY)
		return -EOPNOTSUPP;
	way = way_find(t, k4);
	if (!way)
		return flags == BPF_ANY ? -EOPNOTSUPP : -ENOENT;
	memcpy(&way->val, f, sizeof(*f));
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	pks_ways4_words(k4, w);
	return way_holds(way, w) ? 0 : -ENOENT;
}

/* Frees k4's way: one compare-and-exchange of its used word, so a way the kernel just gave another flow stays. */
static int ways_del(const struct pks_flowtab *t, const struct pks_flow_key4 *k4)
{
	struct pks_way4 *way = way_find(t, k4);
	__u64 w[2];

	if (!way)
		return -ENOENT;
	pks_ways4_words(k4, w);
	if (!__atomic_compare_exchange_n(&((__u64 *)way)[1], &w[1], 0, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return -ENOENT;
	return 0;
}

int pks_flowtab_pinned(struct pks_flowtab *t)
{
	int fd;

	pks_flowtab_init(t);
	t->fd4 = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_FLOWS4);
	if (t->fd4 < 0)
		return -errno;
	t->fd6 = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_FLOWS);
	if (t->fd6 < 0) {
		int err = -errno;

		close(t->fd4);
		t->fd4 = -1;
		return err;
	}
	t->owned = true;
	fd = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_WAYS4);
	if (fd >= 0) {
		int err = pks_flowtab_use_ways(t, fd);

		if (!t->ways)
			close(fd);
		if (err) {
			pks_flowtab_close(t);
			return err;
		}
	}
	return 0;
}

int pks_flowtab_for_skel(struct pks_flowtab *t, const struct pktspec_bpf *skel, bool replay)
{
	pks_flowtab_init(t);
	t->fd4 = bpf_map__fd(skel->maps.pks_flows4);
	t->fd6 = bpf_map__fd(skel->maps.pks_flows);
	if (replay && skel->bss) {
		t->clock = PKS_CLOCK_REALTIME;
		t->epoch_ns = skel->bss->pks_replay.epoch_ns;
	}
	/* The LRU hash holds IPv4 flows unless the loader gave the array its buckets. */
	return skel->rodata->pks_ways4_buckets ? pks_flowtab_use_ways(t, bpf_map__fd(skel->maps.pks_ways4)) : 0;
}

void pks_flowtab_close(struct pks_flowtab *t)
{
	if (t->ways)
		munmap(t->ways, t->ways_len);
	if (t->owned) {
		if (t->fd4 >= 0)
			close(t->fd4);
		if (t->fd6 >= 0)
			close(t->fd6);
		if (t->fdw >= 0 && t->ways)
			close(t->fdw);
	}
	pks_flowtab_init(t);
}

static int raw_get(const struct pks_flowtab *t, const struct pks_flow_key *key, struct pks_flow *f)
{
	int err;

	if (pks_flow_key_is4(key)) {
		struct pks_flow_key4 k4;

		pks_flow_key_to4(key, &k4);
		if (t->ways)
			return ways_get(t, &k4, f);
		err = bpf_map_lookup_elem(t->fd4, &k4, f);
	} else {
		err = bpf_map_lookup_elem(t->fd6, key, f);
	}
	return err ? -errno : 0;
}

int pks_flowtab_get_raw(const struct pks_flowtab *t, const struct pks_flow_key *key, struct pks_flow *f)
{
	return raw_get(t, key, f);
}

int pks_flowtab_put_raw(const struct pks_flowtab *t, const struct pks_flow_key *key, const struct pks_flow *f,
			__u64 flags)
{
	int err;

	if (pks_flow_key_is4(key)) {
		struct pks_flow_key4 k4;

		pks_flow_key_to4(key, &k4);
		if (t->ways)
			return ways_put(t, &k4, f, flags);
		err = bpf_map_update_elem(t->fd4, &k4, f, flags);
	} else {
		err = bpf_map_update_elem(t->fd6, key, f, flags);
	}
	return err ? -errno : 0;
}

/*
 * The daemon's write-back of what it learnt about a flow (its app; with
 * user_proto >= 0, an operator rule's protocol at confidence "user") into the
 * kernel entry, which the tc policy program reads from the next packet on.
 * Only the one field changes, but a map update replaces the whole value: a
 * packet the classifier counts between the lookup and the update loses its
 * counter increment (and, at worst, a verdict step it took in that window,
 * which the next payload packet takes again). The window is one syscall
 * long and happens once per named flow. BPF_EXIST: a flow that ended
 * meanwhile is not brought back. Returns 1 when written, 0 when the entry
 * already had this app, or -errno (-ENOENT: no such flow).
 */
int pks_flowtab_set_app(const struct pks_flowtab *t, const struct pks_flow_key *key, __u16 app, int user_proto)
{
	struct pks_flow f;
	int err = raw_get(t, key, &f);

	if (err)
		return err;
	if (f.app == app && (user_proto < 0 || (f.proto == user_proto && f.confidence == PKS_C_USER)))
		return 0;
	f.app = app;
	if (user_proto >= 0) {
		/* An operator's host-name rule: their protocol, decided, as XDP does for address rules. */
		f.proto = user_proto;
		f.confidence = PKS_C_USER;
		f.rule = PKS_R_USER;
		f.flags |= PKS_F_DECIDED;
		f.ctx &= ~PKS_X_MEMORY;
	}
	err = pks_flowtab_put_raw(t, key, &f, BPF_EXIST);
	return err ? err : 1;
}

int pks_flowtab_get(const struct pks_flowtab *t, const struct pks_flow_key *key, struct pks_flow_view *v)
{
	struct pks_flow f;
	int err = raw_get(t, key, &f);

	if (!err)
		pks_flow_decode(t, key, &f, v);
	return err;
}

int pks_flowtab_del(const struct pks_flowtab *t, const struct pks_flow_key *key)
{
	int err;

	if (pks_flow_key_is4(key)) {
		struct pks_flow_key4 k4;

		pks_flow_key_to4(key, &k4);
		if (t->ways)
			return ways_del(t, &k4);
		err = bpf_map_delete_elem(t->fd4, &k4);
	} else {
		err = bpf_map_delete_elem(t->fd6, key);
	}
	return err ? -errno : 0;
}

static int set_grow(struct pks_flow_set *set, size_t need)
{
	return pks_grow(&set->recs, &set->cap, need, sizeof(*set->recs), 256);
}

/*
 * One table with BPF_MAP_LOOKUP_BATCH (5.6+; a hash map's batches walk the
 * buckets, so an entry that stays in the table is seen exactly once even
 * while the classifier adds and the LRU evicts others).
 */
int pks_map_batches(int fd, size_t ksize, size_t vsize, pks_batch_fn fn, void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 chunk = PKS_FLOWS_BATCH, count;
	char *keys = NULL, *vals = NULL;
	/* The batch token is the kernel's bucket index; a key's room is more than enough. */
	struct pks_flow_key tok_in, tok_out;
	void *in = NULL;
	int err = 0;

	for (;;) {
		if (!keys) {
			keys = calloc(chunk, ksize);
			vals = calloc(chunk, vsize);
			if (!keys || !vals) {
				err = -ENOMEM;
				break;
			}
		}
		count = chunk;
		err = bpf_map_lookup_batch(fd, in, &tok_out, keys, vals, &count, &opts);
		if (err && errno == ENOSPC && count == 0 && chunk < (1u << 20)) {
			/* One bucket holds more than chunk entries: retry it with more room. */
			free(keys);
			free(vals);
			keys = NULL;
			vals = NULL;
			chunk *= 4;
			continue;
		}
		if (err && errno != ENOENT) {
			err = -errno;
			break;
		}
		if (count) {
			int cerr = fn(ctx, keys, vals, count);

			if (cerr) {
				err = cerr;
				break;
			}
		}
		if (err) { /* ENOENT: that was the last batch */
			err = 0;
			break;
		}
		tok_in = tok_out;
		in = &tok_in;
	}
	free(keys);
	free(vals);
	return err;
}

struct read_one_ctx {
	const struct pks_flowtab *t;
	struct pks_flow_set *set;
	bool v4;
};

static int read_one_batch(void *ctx, const void *keys, const void *vals, __u32 count)
{
	struct read_one_ctx *c = ctx;
	size_t ksize = c->v4 ? sizeof(struct pks_flow_key4) : sizeof(struct pks_flow_key);

	if (set_grow(c->set, c->set->n + count))
		return -ENOMEM;
	for (__u32 i = 0; i < count; i++) {
		struct pks_flow_rec *r = &c->set->recs[c->set->n++];
		const void *k = (const char *)keys + i * ksize;

		if (c->v4)
			pks_flow_key_from4(k, &r->key);
		else
			memcpy(&r->key, k, sizeof(r->key));
		pks_flow_decode(c->t, &r->key, (const struct pks_flow *)vals + i, &r->val);
	}
	if (c->t->between)
		c->t->between(c->t->between_ctx);
	return 0;
}

static int read_one(const struct pks_flowtab *t, int fd, bool v4, struct pks_flow_set *set)
{
	struct read_one_ctx c = { .t = t, .set = set, .v4 = v4 };

	return pks_map_batches(fd, v4 ? sizeof(struct pks_flow_key4) : sizeof(struct pks_flow_key),
			       sizeof(struct pks_flow), read_one_batch, &c);
}

/* The array table: every way in use, read in place. */
static int read_ways(const struct pks_flowtab *t, struct pks_flow_set *set)
{
	for (__u32 b = 0; b < t->buckets; b++) {
		if (t->between && b % (PKS_FLOWS_BATCH / PKS_WAYS4) == 0)
			t->between(t->between_ctx);
		for (int i = 0; i < PKS_WAYS4; i++) {
			struct pks_flow_key4 k4;
			struct pks_flow f;
			struct pks_flow_rec *r;

			if (!way_read(&t->ways[b].way[i], &k4, &f))
				continue;
			if (set_grow(set, set->n + 1))
				return -ENOMEM;
			r = &set->recs[set->n++];
			pks_flow_key_from4(&k4, &r->key);
			pks_flow_decode(t, &r->key, &f, &r->val);
		}
	}
	return 0;
}

int pks_flows_reread(const struct pks_flowtab *t, struct pks_flow_set *set)
{
	int err;

	set->n = 0;
	err = t->ways ? read_ways(t, set) : read_one(t, t->fd4, true, set);
	if (!err)
		err = read_one(t, t->fd6, false, set);
	return err;
}

int pks_flows_read(const struct pks_flowtab *t, struct pks_flow_set *set)
{
	int err;

	memset(set, 0, sizeof(*set));
	err = pks_flows_reread(t, set);
	if (err)
		pks_flows_free(set);
	return err;
}

/* A map's max_entries into *n (0 without a map): 0 or -errno. */
static int map_entries(int fd, __u64 *n)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	*n = 0;
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*n = info.max_entries;
	return 0;
}

int pks_flowtab_capacity(const struct pks_flowtab *t, __u64 *cap4, __u64 *cap6)
{
	int err = 0;

	if (t->ways)
		*cap4 = (__u64)t->buckets * PKS_WAYS4;
	else
		err = map_entries(t->fd4, cap4);
	return err ? err : map_entries(t->fd6, cap6);
}

int pks_flowtab_fill(const struct pks_flowtab *t, __u64 *entries, __u64 *capacity)
{
	const int fds[2] = { t->fd4, t->fd6 };
	__u64 cap4, cap6;
	int err = pks_flowtab_capacity(t, &cap4, &cap6);

	if (err)
		return err;
	*entries = 0;
	*capacity = cap4 + cap6;
	for (int i = 0; i < 2; i++) {
		/* Room for either key. */
		struct pks_flow_key k, next;
		void *prev = NULL;

		if (i == 0 && t->ways) {
			for (__u32 b = 0; b < t->buckets; b++)
				for (int w = 0; w < PKS_WAYS4; w++)
					*entries += t->ways[b].way[w].used != 0;
			continue;
		}
		while (bpf_map_get_next_key(fds[i], prev, &next) == 0) {
			k = next;
			prev = &k;
			(*entries)++;
		}
	}
	return 0;
}
