// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Opening, configuring and loading the BPF objects: the verifier's statistics
 * kept per program, the classifier's tail-call table filled, and a refusal
 * explained (which program the kernel's verifier rejected, and why).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pktspec.h"
#include "pktspec.skel.h"

/* BPF_LOG_STATS: the verifier's summary only, a few hundred bytes; never the instruction trace. */
#define PKS_LOG_STATS 4
#define PKS_LOG_SIZE 16384

const char *pks_kernel_release(void)
{
	static struct utsname u;

	if (!u.release[0] && uname(&u) < 0)
		return "unknown";
	return u.release;
}

static bool adopt_one(struct bpf_map *map, const char *name, __u32 *entries)
{
	char path[128];
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", PKS_PIN_DIR, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
		bpf_map__set_max_entries(map, info.max_entries);
		if (entries)
			*entries = info.max_entries;
	}
	close(fd);
	return true;
}

/*
 * Gives an object's flow tables the size of the pinned ones, which libbpf
 * must reuse (it refuses a pinned map of another size), and their kind: the
 * array table is in use when the pinned pks_ways4 has more than one bucket.
 * Returns whether pinned tables exist.
 */
bool pks_flows_adopt_pinned_size(const struct pks_flow_maps *m)
{
	bool a = adopt_one(m->flows4, PKS_MAP_FLOWS4, NULL), b = adopt_one(m->flows, PKS_MAP_FLOWS, NULL);
	__u32 buckets = 0;

	if (adopt_one(m->ways4, PKS_MAP_WAYS4, &buckets) && buckets > 1)
		*m->buckets4 = buckets;
	return a || b;
}

/*
 * Whether the kernel has bpf_ktime_get_coarse_ns (Linux 5.11+) and
 * bpf_jiffies64 (5.5+) for programs of this type: the fast path reads the
 * coarse clock instead of the exact one, which the flows' millisecond ticks
 * do not need, and only once per jiffy (pks_config.coarse_clock).
 */
bool pks_have_coarse_clock(int type)
{
	return libbpf_probe_bpf_helper(type, BPF_FUNC_ktime_get_coarse_ns, NULL) == 1 &&
	       libbpf_probe_bpf_helper(type, BPF_FUNC_jiffies64, NULL) == 1;
}

/* The IPv6 table's size: --max-flows6, else a quarter of --max-flows (at least the minimum); 0: the default. */
static unsigned int flows6_size(const struct pks_load_opts *o)
{
	if (o->max_flows6)
		return o->max_flows6;
	if (o->max_flows)
		return o->max_flows / 4 > PKS_FLOWS_MIN ? o->max_flows / 4 : PKS_FLOWS_MIN;
	return 0;
}

__u32 pks_ways4_buckets_for(unsigned int max_flows)
{
	__u64 ways = 2ull * (max_flows ? max_flows : PKS_FLOWS_DEFAULT);

	return (__u32)((ways + PKS_WAYS4 - 1) / PKS_WAYS4);
}

/*
 * The array table leaves the LRU hash one entry (and the LRU hash leaves
 * the array one bucket): both maps exist in every object, the programs use
 * the one .rodata names.
 */
void pks_flows_set_size(const struct pks_flow_maps *m, const struct pks_load_opts *o)
{
	unsigned int six = flows6_size(o);

	if (o->table == PKS_TABLE_ARRAY) {
		__u32 n = pks_ways4_buckets_for(o->max_flows);

		bpf_map__set_max_entries(m->flows4, 1);
		bpf_map__set_max_entries(m->ways4, n);
		*m->buckets4 = n;
	} else if (o->max_flows) {
		bpf_map__set_max_entries(m->flows4, o->max_flows);
	}
	if (six)
		bpf_map__set_max_entries(m->flows, six);
}

int pks_flow_table_opt(const char *cmd, const char *arg, enum pks_table_kind *kind)
{
	if (!strcmp(arg, "lru"))
		*kind = PKS_TABLE_LRU;
	else if (!strcmp(arg, "array"))
		*kind = PKS_TABLE_ARRAY;
	else
		return pks_usage_error(cmd, "--flow-table takes lru or array, not '%s'", arg);
	return 0;
}

int pks_max_flows_opt(const char *cmd, const char *opt, const char *arg, unsigned int *out)
{
	unsigned long v;

	if (pks_parse_uint(arg, PKS_FLOWS_MAX, &v) || v < PKS_FLOWS_MIN)
		return pks_usage_error(cmd, "%s takes a number from %u to %u, not '%s'", opt, PKS_FLOWS_MIN,
				       PKS_FLOWS_MAX, arg);
	*out = (unsigned int)v;
	return 0;
}

/* MemAvailable of /proc/meminfo in bytes; 0 when it cannot be read. */
static unsigned long long mem_available(void)
{
	unsigned long long kib = 0;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return kib * 1024;
}

#define ROUND8(n) (((n) + 7) & ~(size_t)7)
/* What one entry of an LRU hash costs the kernel: key and value, 8-byte aligned, and its own element header. */
#define LRU_ENTRY(key) (ROUND8(sizeof(key)) + ROUND8(sizeof(struct pks_flow)) + PKS_LRU_ENTRY_OVERHEAD)

unsigned long long pks_flows_memory(const struct pks_load_opts *o)
{
	unsigned long long four = o->max_flows ? o->max_flows : PKS_FLOWS_DEFAULT;
	unsigned long long six = flows6_size(o) ? flows6_size(o) : PKS_FLOWS6_DEFAULT;

	return four * LRU_ENTRY(struct pks_flow_key4) + six * LRU_ENTRY(struct pks_flow_key);
}

int pks_flows_memory_check(const struct pks_load_opts *o)
{
	unsigned long long need, avail;

	if (!o->max_flows && !o->max_flows6)
		return 0; /* the defaults: about 44 MiB */
	need = pks_flows_memory(o);
	avail = mem_available();
	if (avail && need > avail / 2)
		return pks_fail("flow tables of %u IPv4 and %u IPv6 entries need %llu MiB of kernel memory, more "
				"than half of the %llu MiB available (MemAvailable): give a smaller --max-flows",
				o->max_flows ? o->max_flows : PKS_FLOWS_DEFAULT,
				flows6_size(o) ? flows6_size(o) : PKS_FLOWS6_DEFAULT, (need + (1 << 20) - 1) >> 20,
				avail >> 20);
	return 0;
}

static long stat_after(const char *log, const char *key)
{
	const char *p = strstr(log, key);

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

void pks_verifier_stats_parse(const char *log, struct pks_verifier_stats *st)
{
	const char *p;

	memset(st, 0, sizeof(*st));
	st->insns = stat_after(log, "processed ");
	st->states = stat_after(log, "total_states ");
	st->peak = stat_after(log, "peak_states ");
	st->time_us = stat_after(log, "verification time ");
	p = strstr(log, "stack depth ");
	if (p) {
		size_t n = strcspn(p + 12, "\n");

		if (n >= sizeof(st->stack))
			n = sizeof(st->stack) - 1;
		memcpy(st->stack, p + 12, n);
		st->stack[n] = '\0';
	}
}

static bool is_stats_line(const char *l, size_t n)
{
	static const char *const stats[] = { "processed ", "verification time ", "stack depth ", "max_states",
					     "insn ", "-- " };

	if (n == 0)
		return true;
	for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++)
		if (n >= strlen(stats[i]) && !strncmp(l, stats[i], strlen(stats[i])))
			return true;
	return false;
}

/*
 * The verifier's reason: the last block of lines that are not statistics (an
 * error and the notes that follow it, such as "invalid access to packet ...",
 * "R1 offset is outside of the packet"), at most three lines, joined by "; ".
 */
void pks_verifier_reason(const char *log, char *out, size_t len)
{
	const char *lines[3];
	size_t lens[3], used = 0;
	int n = 0, last_stat = 1;

	for (const char *l = log; *l;) {
		size_t k = strcspn(l, "\n");

		if (is_stats_line(l, k)) {
			last_stat = 1;
		} else {
			if (last_stat)
				n = 0; /* a new block */
			if (n == 3) {
				memmove(lines, lines + 1, 2 * sizeof(lines[0]));
				memmove(lens, lens + 1, 2 * sizeof(lens[0]));
				n = 2;
			}
			lines[n] = l;
			lens[n++] = k;
			last_stat = 0;
		}
		l += k;
		if (*l)
			l++;
	}
	if (!n) {
		snprintf(out, len, "no reason given");
		return;
	}
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		int w = snprintf(out + used, len - used, "%s%.*s", i ? "; " : "", (int)lens[i], lines[i]);

		if (w < 0 || (size_t)w >= len - used)
			break;
		used += w;
	}
}

int pks_share_maps(struct bpf_object *obj, struct bpf_object *from)
{
	struct bpf_map *map, *twin;
	int err;

	bpf_object__for_each_map(map, obj) {
		/* Per-object scratch maps are not pinned and not shared. */
		if (!bpf_map__pin_path(map))
			continue;
		twin = bpf_object__find_map_by_name(from, bpf_map__name(map));
		/* A map with no twin (the egress stage chain's own, bpf/hook.h) stays private. */
		if (twin) {
			err = bpf_map__reuse_fd(map, bpf_map__fd(twin));
			if (err)
				return err;
		}
		bpf_map__set_pin_path(map, NULL);
	}
	return 0;
}

/* The tail-call table's slots by program name: include/pktspec/pktspec.h. */
static const char *const stage_names[] = {
#define PKS_FIXED_STAGE(sym, name) name,
	PKS_FIXED_STAGES(PKS_FIXED_STAGE)
#undef PKS_FIXED_STAGE
#define PKS_STAGE(stage, l4) "pks_sg_" #stage,
#include "../bpf/sig/signatures.def"
};

int pks_stages_fill(struct bpf_object *obj)
{
	__u32 slots = sizeof(stage_names) / sizeof(stage_names[0]);
	struct bpf_map *map = NULL, *m;

	/* pks_stages, or pks_stages_eg in the egress classifier (bpf/hook.h): the one tail-call table. */
	bpf_object__for_each_map(m, obj)
		if (bpf_map__type(m) == BPF_MAP_TYPE_PROG_ARRAY)
			map = m;
	if (!map)
		return 0; /* not a classifier object */
	if (bpf_map__max_entries(map) != slots) {
		pks_fail("the classifier's tail-call table has %u slots, this build knows %u",
			 bpf_map__max_entries(map), slots);
		return -EINVAL;
	}
	for (__u32 i = 0; i < slots; i++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(obj, stage_names[i]);
		int fd = prog ? bpf_program__fd(prog) : -1;

		if (fd < 0) {
			pks_fail("the classifier's stage %s is missing from the object", stage_names[i]);
			return -ENOENT;
		}
		if (bpf_map_update_elem(bpf_map__fd(map), &i, &fd, BPF_ANY)) {
			int err = -errno;

			pks_fail("cannot fill the classifier's tail-call table (stage %s): %s", stage_names[i],
				 strerror(errno));
			return err;
		}
	}
	return 0;
}

/* Explains a failed load from the programs' logs and libbpf's warnings. */
static void load_failed(struct bpf_object *obj, char **logs, const char *what, int err)
{
	struct bpf_program *prog, *rejected = NULL;
	const char *rejected_log = NULL;
	char reason[256];
	int i = 0;

	/* Programs load in object order and libbpf stops at the first refusal: the last log written is its. */
	bpf_object__for_each_program(prog, obj) {
		if (logs[i] && logs[i][0]) {
			rejected = prog;
			rejected_log = logs[i];
		}
		i++;
	}
	if (pks_libbpf_said("couldn't reuse pinned map") || pks_libbpf_said("can't use pinned map")) {
		pks_fail("cannot load %s: the maps pinned in %s do not match this build, --max-flows or "
			 "--flow-table (detach every interface first, or pass the same options, or none: "
			 "then the pinned tables are taken as they are)",
			 what, PKS_PIN_DIR);
		return;
	}
	if (rejected && pks_libbpf_said("BPF program load failed")) {
		pks_verifier_reason(rejected_log, reason, sizeof(reason));
		pks_fail("the kernel's verifier (Linux %s) rejected program %s of %s: %s%s", pks_kernel_release(),
			 bpf_program__name(rejected), what, reason,
			 pks_verbose ? "" : " (run with -v for the verifier's last lines, or 'pktspec probe')");
		if (pks_verbose) {
			fprintf(stderr, "pktspec: verifier log of %s:\n", bpf_program__name(rejected));
			fputs(rejected_log, stderr);
		}
		return;
	}
	if (err == -EPERM || err == -EACCES) {
		pks_fail("cannot load %s: permission denied (needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN, or "
			 "CAP_SYS_ADMIN, in the initial user namespace; Linux before 5.11 also CAP_SYS_RESOURCE "
			 "for locked memory)",
			 what);
		return;
	}
	pks_fail("cannot load %s: %s (run with -v for libbpf's messages)", what, strerror(-err));
}

int pks_skel_load(struct bpf_object_skeleton *s, const char *what)
{
	struct bpf_object *obj = *s->obj;
	struct bpf_program *prog;
	char **logs;
	int n = 0, i = 0, err;

	bpf_object__for_each_program(prog, obj)
		n++;
	logs = calloc(n ? n : 1, sizeof(*logs));
	if (!logs)
		return -ENOMEM;
	bpf_object__for_each_program(prog, obj) {
		if (bpf_program__autoload(prog)) {
			logs[i] = calloc(1, PKS_LOG_SIZE);
			if (logs[i]) {
				bpf_program__set_log_buf(prog, logs[i], PKS_LOG_SIZE);
				bpf_program__set_log_level(prog, PKS_LOG_STATS);
			}
		}
		i++;
	}
	pks_libbpf_forget();
	err = bpf_object__load_skeleton(s);
	if (err)
		load_failed(obj, logs, what, err);
	else
		err = pks_stages_fill(obj);
	/* The buffers are the programs' only until load returns. */
	bpf_object__for_each_program(prog, obj)
		bpf_program__set_log_buf(prog, NULL, 0);
	for (i = 0; i < n; i++)
		free(logs[i]);
	free(logs);
	return err;
}

/*
 * Opens the skeleton, configures .rodata and map sizes between open and load,
 * and loads it. Pinned: maps are shared through PKS_PIN_DIR (reused when
 * already pinned, pinned when new). Private: no map is pinned, so a replay
 * never touches a live attachment.
 */
int pks_load(const struct pks_load_opts *o, struct pktspec_bpf **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = PKS_PIN_DIR);
	struct pktspec_bpf *skel;
	struct bpf_map *map;
	int err;

	*out = NULL;
	if (o->pinned && mkdir(PKS_PIN_DIR, 0700) < 0 && errno != EEXIST) {
		err = -errno;
		pks_fail("cannot create %s: %s", PKS_PIN_DIR, strerror(errno));
		return err;
	}
	skel = pktspec_bpf__open_opts(&open_opts);
	if (!skel) {
		err = -errno;
		pks_fail("cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	bpf_object__for_each_map(map, skel->obj) {
		if (!o->pinned)
			bpf_map__set_pin_path(map, NULL);
	}
	pks_flows_set_size(&PKS_FLOW_MAPS(skel), o);
	/* Another interface attached with no table options: the tables already pinned, whatever their kind. */
	if (o->pinned && o->table == PKS_TABLE_DEFAULT && !o->max_flows && !o->max_flows6)
		pks_flows_adopt_pinned_size(&PKS_FLOW_MAPS(skel));
	if (o->inspect_max)
		skel->rodata->pks_cfg.inspect_max = o->inspect_max;
	pks_tunnel_ports_apply(o, &skel->rodata->pks_cfg);
	skel->rodata->pks_cfg.coarse_clock = pks_have_coarse_clock(BPF_PROG_TYPE_XDP);
	skel->rodata->pks_cfg.replay = o->replay;

	err = pks_skel_load(skel->skeleton, "the classifier");
	if (err) {
		pktspec_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

/* The UDP tunnels whose port is configurable, in struct pks_load_opts.tunnel_ports order. */
static const char *const tunnel_port_kinds[3] = { "vxlan", "geneve", "gtp-u" };

int pks_tunnel_port_opt(struct pks_load_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	unsigned long v;

	if (!eq)
		return -EINVAL;
	for (int i = 0; i < 3; i++) {
		if (strlen(tunnel_port_kinds[i]) != (size_t)(eq - arg) || strncmp(arg, tunnel_port_kinds[i], eq - arg))
			continue;
		if (pks_parse_uint(eq + 1, 65535, &v))
			return -EINVAL;
		o->tunnel_ports[i] = v + 1;
		return 0;
	}
	return -EINVAL;
}

/* Writes the --tunnel-port choices into the configuration before load. */
void pks_tunnel_ports_apply(const struct pks_load_opts *o, volatile struct pks_config *cfg)
{
	if (o->tunnel_ports[0])
		cfg->vxlan_port = o->tunnel_ports[0] - 1;
	if (o->tunnel_ports[1])
		cfg->geneve_port = o->tunnel_ports[1] - 1;
	if (o->tunnel_ports[2])
		cfg->gtpu_port = o->tunnel_ports[2] - 1;
}
