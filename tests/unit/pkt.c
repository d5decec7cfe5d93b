// SPDX-License-Identifier: MIT OR Apache-2.0
/* Packet crafting and BPF_PROG_TEST_RUN plumbing for the unit tests. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pkt.h"
#include "filter.h"
#include "pktspec/events.h"
#include "pktspec/flow_key.h"
#include "pktspec.skel.h"

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static size_t l2_len(const struct pkt_spec *s)
{
	return 14 + 4 * (size_t)s->vlans;
}

/* Ethernet + IPv4 (protocol l4, addresses 198.18.9.1 -> .2) of total length ip_len at buf. */
size_t pkt_outer_ip4(uint8_t *buf, uint8_t l4, size_t ip_len)
{
	memset(buf, 0, 34);
	buf[0] = 0x02;
	buf[6] = 0x02;
	buf[12] = 0x08;
	buf[14] = 0x45;
	buf[16] = ip_len >> 8;
	buf[17] = ip_len & 0xff;
	buf[22] = 64;
	buf[23] = l4;
	inet_pton(AF_INET, "198.18.9.1", buf + 26);
	inet_pton(AF_INET, "198.18.9.2", buf + 30);
	return 34;
}

size_t pkt_vxlan_wrap(uint8_t *buf, uint32_t vni, const uint8_t *inner, size_t n)
{
	size_t udp_len = 8 + 8 + n, off;

	off = pkt_outer_ip4(buf, 17, 20 + udp_len);
	memset(buf + off, 0, 16);
	buf[off] = 50000 >> 8;
	buf[off + 1] = 50000 & 0xff;
	buf[off + 2] = 4789 >> 8;
	buf[off + 3] = 4789 & 0xff;
	buf[off + 4] = udp_len >> 8;
	buf[off + 5] = udp_len & 0xff;
	buf[off + 8] = 0x08; /* I */
	buf[off + 12] = vni >> 16;
	buf[off + 13] = vni >> 8;
	buf[off + 14] = vni;
	memcpy(buf + off + 16, inner, n);
	return off + 16 + n;
}

size_t pkt_gre_nested(uint8_t *buf, int levels, uint16_t flags, const uint8_t *ip, size_t n)
{
	size_t off = 0;

	for (int i = 0; i < levels; i++) {
		size_t rest = (size_t)(levels - i) * (20 + 4) + n;

		if (i == 0) {
			off = pkt_outer_ip4(buf, 47, rest);
		} else {
			/* An inner IPv4 header of its own (no Ethernet): copy the outer one's fields. */
			memcpy(buf + off, buf + 14, 20);
			buf[off + 2] = rest >> 8;
			buf[off + 3] = rest & 0xff;
			buf[off + 19] = 2 + i; /* distinct tunnel endpoints per level */
			off += 20;
		}
		buf[off] = flags >> 8;
		buf[off + 1] = flags & 0xff;
		buf[off + 2] = 0x08;
		buf[off + 3] = 0x00;
		off += 4;
	}
	memcpy(buf + off, ip, n);
	return off + n;
}

size_t pkt_l3_off(const struct pkt_spec *s)
{
	return l2_len(s);
}

size_t pkt_l4_off(const struct pkt_spec *s)
{
	return l2_len(s) + (s->ipv6 ? 40 + s->ext_len : 20 + (size_t)s->ip_options);
}

size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t max)
{
	size_t l4hdr = s->l4 == 6 ? 20 : s->l4 == 17 ? 8 : 0;
	size_t l3 = l2_len(s), l4 = pkt_l4_off(s);
	size_t len = l4 + l4hdr + s->payload_len;
	uint16_t ethertype = s->ipv6 ? 0x86dd : 0x0800;
	uint8_t srcaddr[16], dstaddr[16];
	uint8_t *p = buf;

	if (len > max)
		return 0;
	memset(buf, 0, len);
	/* Ethernet: locally administered MACs. */
	p[0] = 0x02, p[5] = 0x02, p[6] = 0x02, p[11] = 0x01;
	for (int i = 0; i < s->vlans; i++) {
		uint16_t tpid = (i == 0 && s->vlans > 1) ? 0x88a8 : 0x8100;

		p[12 + 4 * i] = tpid >> 8;
		p[13 + 4 * i] = tpid & 0xff;
		p[14 + 4 * i] = 0;
		p[15 + 4 * i] = 10 + i; /* VLAN ID */
	}
	p[12 + 4 * s->vlans] = ethertype >> 8;
	p[13 + 4 * s->vlans] = ethertype & 0xff;

	if (s->ipv6) {
		uint8_t *ip = p + l3;

		inet_pton(AF_INET6, s->src, srcaddr);
		inet_pton(AF_INET6, s->dst, dstaddr);
		ip[0] = 0x60;
		ip[4] = (len - l3 - 40) >> 8;
		ip[5] = (len - l3 - 40) & 0xff;
		ip[6] = s->ext_len ? s->ext_first : s->l4;
		ip[7] = 64;
		memcpy(ip + 8, srcaddr, 16);
		memcpy(ip + 24, dstaddr, 16);
		if (s->ext_len)
			memcpy(ip + 40, s->ext, s->ext_len);
	} else {
		uint8_t *ip = p + l3;
		size_t ihl = 20 + s->ip_options;

		inet_pton(AF_INET, s->src, srcaddr);
		inet_pton(AF_INET, s->dst, dstaddr);
		ip[0] = 0x40 | (uint8_t)(ihl / 4);
		ip[2] = (len - l3) >> 8;
		ip[3] = (len - l3) & 0xff;
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = s->l4;
		memcpy(ip + 12, srcaddr, 4);
		memcpy(ip + 16, dstaddr, 4);
		for (size_t i = 20; i < ihl; i++)
			ip[i] = 1; /* NOP options */
		uint16_t c = csum_fold(csum_add(0, ip, ihl));
		ip[10] = c >> 8;
		ip[11] = c & 0xff;
	}

	p += l4;
	if (s->l4 == 6) {
		p[0] = s->sport >> 8, p[1] = s->sport & 0xff;
		p[2] = s->dport >> 8, p[3] = s->dport & 0xff;
		p[7] = 1; /* seq */
		p[12] = 5 << 4;
		p[13] = s->tcp_flags;
		p[14] = 0xff, p[15] = 0xff;
	} else if (s->l4 == 17) {
		size_t ulen = 8 + s->payload_len;

		p[0] = s->sport >> 8, p[1] = s->sport & 0xff;
		p[2] = s->dport >> 8, p[3] = s->dport & 0xff;
		p[4] = ulen >> 8, p[5] = ulen & 0xff;
	}
	if (s->payload_len)
		memcpy(p + l4hdr, s->payload, s->payload_len);
	return len;
}

/*
 * One loaded object per process. Loading runs the verifier over every program
 * (about a second, more under load or ASan), so the object loaded by the first
 * pks_env_open() is kept and handed to every later one, reset to the state of a
 * fresh load first: see pks_env_reset(). An object still held (a case opening
 * two environments at once) is not shared: the second gets its own, as before.
 */
static struct pktspec_bpf *shared;
static int shared_held;
/* Incremented each time another object becomes the shared one. */
static unsigned shared_gen;
/* The initial image of each writable global section (.data, .bss), saved at load. */
static struct pks_section sections[PKS_SECTIONS_MAX];
static int n_sections;

static int load(struct pktspec_bpf **out)
{
	struct pks_load_opts lo = { .pinned = false, .max_flows = 4096, .replay = true };

	return pks_load(&lo, out);
}

/* Saves obj's writable sections into secs (at most PKS_SECTIONS_MAX); returns how many. */
static int sections_save(struct bpf_object *obj, struct pks_section *secs)
{
	struct bpf_map *map;
	int n = 0;

	bpf_object__for_each_map(map, obj) {
		size_t size;
		const void *live;

		if (!bpf_map__is_internal(map) || (bpf_map__map_flags(map) & BPF_F_RDONLY_PROG))
			continue;
		live = bpf_map__initial_value(map, &size);
		if (!live || n == PKS_SECTIONS_MAX)
			continue;
		secs[n].image = malloc(size);
		if (!secs[n].image)
			continue;
		memcpy(secs[n].image, live, size);
		secs[n].map = map;
		secs[n].size = size;
		n++;
	}
	return n;
}

static int drop_record(void *ctx, void *data, size_t size)
{
	(void)ctx, (void)data, (void)size;
	return 0;
}

/* Deletes every entry of a hash-like map: the keys first, then the deletes. */
static int map_empty(struct bpf_map *map)
{
	int fd = bpf_map__fd(map);
	size_t ksz = bpf_map__key_size(map), n = 0, cap = 0;
	uint8_t *keys = NULL, *prev = NULL;
	int err = 0;

	for (;;) {
		if (n == cap) {
			uint8_t *k = realloc(keys, (cap = cap ? 2 * cap : 64) * ksz);

			if (!k) {
				free(keys);
				return -ENOMEM;
			}
			keys = k;
		}
		if (bpf_map_get_next_key(fd, prev, keys + n * ksz))
			break;
		prev = keys + n * ksz;
		n++;
	}
	if (errno != ENOENT)
		err = -errno;
	for (size_t i = 0; i < n && !err; i++)
		if (bpf_map_delete_elem(fd, keys + i * ksz) && errno != ENOENT)
			err = -errno;
	free(keys);
	return err;
}

/* Zeroes every element of an array (per-CPU: every CPU's copy). */
static int map_zero(struct bpf_map *map)
{
	int fd = bpf_map__fd(map), ncpu = 1;
	size_t vsz = bpf_map__value_size(map);
	void *zero;
	int err = 0;

	if (bpf_map__type(map) == BPF_MAP_TYPE_PERCPU_ARRAY) {
		ncpu = libbpf_num_possible_cpus();
		if (ncpu <= 0)
			return -EINVAL;
		vsz = (vsz + 7) / 8 * 8;
	}
	zero = calloc(ncpu, vsz);
	if (!zero)
		return -ENOMEM;
	for (__u32 i = 0; i < bpf_map__max_entries(map) && !err; i++)
		if (bpf_map_update_elem(fd, &i, zero, BPF_ANY))
			err = -errno;
	free(zero);
	return err;
}

/* Consumes whatever a ring buffer holds. */
static int ring_drain(struct bpf_map *map)
{
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(map), drop_record, NULL, NULL);
	int n;

	if (!rb)
		return -errno;
	n = ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return n < 0 ? n : 0;
}

/* pks_env_reset()'s work on any object, its sections' images in secs. */
static int obj_reset(struct bpf_object *obj, const struct pks_section *secs, int n_secs)
{
	struct bpf_map *map;
	int err = 0;

	bpf_object__for_each_map(map, obj) {
		if (bpf_map__map_flags(map) & BPF_F_RDONLY_PROG)
			continue; /* .rodata: the configuration, frozen at load */
		if (bpf_map__is_internal(map)) {
			__u32 zero = 0;
			int i;

			for (i = 0; i < n_secs; i++)
				if (secs[i].map == map && secs[i].size == bpf_map__value_size(map))
					break;
			if (i == n_secs)
				return -ENOENT;
			if (bpf_map_update_elem(bpf_map__fd(map), &zero, secs[i].image, BPF_ANY))
				return -errno;
			continue;
		}
		switch (bpf_map__type(map)) {
		case BPF_MAP_TYPE_PROG_ARRAY:
			continue; /* the stage chain, filled at load */
		case BPF_MAP_TYPE_HASH:
		case BPF_MAP_TYPE_LRU_HASH:
		case BPF_MAP_TYPE_PERCPU_HASH:
		case BPF_MAP_TYPE_LRU_PERCPU_HASH:
		case BPF_MAP_TYPE_LPM_TRIE:
			err = map_empty(map);
			break;
		case BPF_MAP_TYPE_ARRAY:
		case BPF_MAP_TYPE_PERCPU_ARRAY:
			err = map_zero(map);
			break;
		case BPF_MAP_TYPE_RINGBUF:
			err = ring_drain(map);
			break;
		default:
			err = -EOPNOTSUPP; /* a kind this reset does not know: load afresh */
			break;
		}
		if (err)
			return err;
	}
	return 0;
}

int pks_env_reset(struct pktspec_bpf *skel)
{
	return obj_reset(skel->obj, sections, n_sections);
}

static void sections_free(struct pks_section *secs, int *n)
{
	for (int i = 0; i < *n; i++)
		free(secs[i].image);
	*n = 0;
}

int pks_env_open(struct pks_env *env)
{
	int err;

	memset(env, 0, sizeof(*env));
	env->clock_ns = 1000000000ull;
	if (getenv("PKS_TEST_RELOAD")) /* the old way, for comparison: a fresh object every time */
		return load(&env->skel);
	if (shared && !shared_held) {
		if (pks_env_reset(shared) == 0) {
			shared_held = 1;
			env->skel = shared;
			return 0;
		}
		pktspec_bpf__destroy(shared); /* cannot be reset: replace it */
		shared = NULL;
		sections_free(sections, &n_sections);
	}
	err = load(&env->skel);
	if (err || shared)
		return err;
	/* The first object (or the first after a replacement) becomes the shared one. */
	n_sections = sections_save(env->skel->obj, sections);
	shared = env->skel;
	shared_gen++;
	shared_held = 1;
	return 0;
}

void pks_env_close(struct pks_env *env)
{
	if (env->skel && env->skel == shared)
		shared_held = 0;
	else if (env->skel)
		pktspec_bpf__destroy(env->skel);
	env->skel = NULL;
}

/* The companions kept so far (each a static of its test file). */
static struct pks_companion *companions;

void pks_env_case_end(void)
{
	/* A case that returned early (a failed CHECK) without closing: its objects are free again. */
	shared_held = 0;
	for (struct pks_companion *c = companions; c; c = c->next)
		c->held = 0;
}

static void companion_drop(struct pks_companion *c)
{
	if (c->skel)
		c->destroy(c->skel);
	c->skel = NULL;
	c->obj = NULL;
	c->held = 0;
	sections_free(c->sections, &c->n_sections);
}

int pks_companion_open(struct pks_companion *c, struct pks_env *env, void **skel)
{
	struct bpf_object *obj;
	void *fresh;
	int err;

	*skel = NULL;
	/* Kept, free, and bound to the shared classifier this env holds: reset and hand out. */
	if (c->skel && !c->held && env->skel == shared && c->gen == shared_gen && !getenv("PKS_TEST_RELOAD")) {
		if (obj_reset(c->obj, c->sections, c->n_sections) == 0) {
			c->held = 1;
			*skel = c->skel;
			return 0;
		}
		companion_drop(c); /* cannot be reset: load afresh */
	}
	err = c->load(env, &fresh, &obj);
	if (err)
		return err;
	*skel = fresh;
	/* Kept only when bound to the shared classifier, and none is kept (or it is stale). */
	if (env->skel != shared || getenv("PKS_TEST_RELOAD") || (c->skel && (c->held || c->gen == shared_gen)))
		return 0;
	if (c->skel)
		companion_drop(c);
	if (!c->registered) {
		c->next = companions;
		companions = c;
		c->registered = 1;
	}
	c->skel = fresh;
	c->obj = obj;
	c->gen = shared_gen;
	c->n_sections = sections_save(obj, c->sections);
	c->held = 1;
	return 0;
}

void pks_companion_close(struct pks_companion *c, void *skel)
{
	if (!skel)
		return;
	if (skel == c->skel)
		c->held = 0;
	else
		c->destroy(skel);
}

long pks_map_count(int fd, size_t key_size)
{
	uint8_t k[256], next[256];
	void *prev = NULL;
	long n = 0;

	if (key_size > sizeof(k))
		return -1;
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(k, next, key_size);
		prev = k;
		n++;
	}
	return n;
}

void pks_env_release(void)
{
	for (struct pks_companion *c = companions; c; c = c->next)
		companion_drop(c); /* before the classifier whose maps they share */
	if (shared)
		pktspec_bpf__destroy(shared);
	shared = NULL;
	shared_held = 0;
	sections_free(sections, &n_sections);
}

/* The filter's bits of a table set for the entries it holds, as its daemon writer sets them (user/filter.c). */
static int env_filter_adopt(struct pks_env *env, enum pks_filter_table table, int table_fd, size_t key_size)
{
	struct pks_filter_part p;
	int err = pks_filter_part_open(&p, bpf_map__fd(env->skel->maps.pks_filter), table,
				       table == PKS_FILTER_RESTORE, table_fd, key_size, 0);

	pks_filter_part_close(&p);
	return err;
}

int pks_env_tables_alive(struct pks_env *env)
{
	int fd = bpf_map__fd(env->skel->maps.pks_ctl);
	__u32 engine = PKS_CTL_ENGINE;
	struct pks_ctl c;

	if (bpf_map_lookup_elem(fd, &engine, &c))
		return -errno;
	c.servers_until = c.hosts_until = ~0ull;
	if (bpf_map_update_elem(fd, &engine, &c, BPF_ANY))
		return -errno;
	return env_filter_adopt(env, PKS_FILTER_SERVERS, bpf_map__fd(env->skel->maps.pks_servers),
				sizeof(struct pks_server_key)) ?:
	       env_filter_adopt(env, PKS_FILTER_HOSTS, bpf_map__fd(env->skel->maps.pks_hosts),
				sizeof(struct pks_host_key));
}

int pks_env_filter_bit(struct pks_env *env, int table, uint32_t slot)
{
	struct pks_filter *f = malloc(sizeof(*f));
	__u32 zero = 0;
	int r = -1;

	if (f && bpf_map_lookup_elem(bpf_map__fd(env->skel->maps.pks_filter), &zero, f) == 0)
		r = pks_filter_bit(f, table, slot);
	free(f);
	return r;
}

int pks_env_restore_bits(struct pks_env *env)
{
	return env_filter_adopt(env, PKS_FILTER_RESTORE, bpf_map__fd(env->skel->maps.pks_restore),
				sizeof(struct pks_flow_key));
}

struct ring_buffer *pks_env_reader(struct pks_env *env, int (*fn)(void *ctx, void *data, size_t size), void *ctx)
{
	struct pks_ctl on = { .consumer = 1 };
	__u32 engine = PKS_CTL_ENGINE;

	if (bpf_map_update_elem(bpf_map__fd(env->skel->maps.pks_ctl), &engine, &on, BPF_ANY))
		return NULL;
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(env->skel->maps.pks_ctlevents), fn, ctx, NULL);

	if (rb && ring_buffer__add(rb, bpf_map__fd(env->skel->maps.pks_events), fn, ctx)) {
		ring_buffer__free(rb);
		return NULL;
	}
	return rb;
}

int pks_env_run_raw(struct pks_env *env, const uint8_t *frame, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = frame, .data_size_in = len, .repeat = 1);

	env->clock_ns += 1000000;
	env->skel->bss->pks_replay.now_ns = env->clock_ns;
	env->skel->bss->pks_replay.wire_len = 0;
	if (bpf_prog_test_run_opts(bpf_program__fd(env->skel->progs.pks_xdp), &topts))
		return -errno;
	return topts.retval == 2 /* XDP_PASS */ ? 0 : -EBADMSG;
}

int pks_env_run(struct pks_env *env, const struct pkt_spec *s)
{
	uint8_t frame[4096];
	size_t len = pkt_build(s, frame, sizeof(frame));

	if (!len)
		return -EMSGSIZE;
	return pks_env_run_raw(env, frame, len);
}

static void addr16(int ipv6, const char *text, uint8_t *out)
{
	memset(out, 0, 16);
	if (ipv6) {
		inet_pton(AF_INET6, text, out);
	} else {
		out[10] = out[11] = 0xff;
		inet_pton(AF_INET, text, out + 12);
	}
}

int pks_env_flow(struct pks_env *env, const struct pkt_spec *s, struct pks_flow_view *out)
{
	struct pks_flowtab t;
	struct pks_flow_key k;
	uint8_t src[16], dst[16];

	addr16(s->ipv6, s->src, src);
	addr16(s->ipv6, s->dst, dst);
	pks_flow_key_fill(&k, src, s->sport, dst, s->dport, s->l4);
	int err;

	err = pks_flowtab_for_skel(&t, env->skel, true);
	if (!err)
		err = pks_flowtab_get(&t, &k, out);
	pks_flowtab_close(&t);
	return err;
}

uint64_t pks_env_reason(struct pks_env *env, int reason)
{
	__u64 sum[PKS_REASON__COUNT];

	if (reason < 0 || reason >= PKS_REASON__COUNT)
		return 0;
	if (pks_stats_read(bpf_map__fd(env->skel->maps.pks_stats), sum))
		return 0;
	return sum[reason];
}

long pks_env_flow_count(struct pks_env *env)
{
	struct pks_flow_set set;
	long n;

	struct pks_flowtab t;

	if (pks_flowtab_for_skel(&t, env->skel, true) || pks_flows_read(&t, &set)) {
		pks_flowtab_close(&t);
		return -1;
	}
	pks_flowtab_close(&t);
	n = (long)set.n;
	pks_flows_free(&set);
	return n;
}
