// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * pktspec probe: will pktspec run on this kernel, and how close is each
 * program to the verifier's limits?
 *
 * It reports the environment (kernel, BTF, the BPF filesystem, capabilities,
 * the program and map types pktspec uses), then loads every program of every
 * object on its own, with private and small maps, and prints the verifier's
 * statistics, or the verifier's reason for refusing it. Nothing is attached
 * or pinned.
 *
 * It also re-runs, on the instructions the kernel was given, the control-flow
 * check of Linux before 6.7: those kernels refuse a loop whose last
 * instruction falls through into its first instead of jumping back to it
 * ("back-edge from insn N to N+1"), before they verify anything. A program
 * that loads here (6.7 or newer) but holds such a loop would not load on
 * Debian 12's 6.1, so the test suite fails on it on any kernel.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pktspec.h"
#include "pktspec.skel.h"
#include "pktspec_egress.skel.h"
#include "pktspec_tc.skel.h"

/* Hash tables are shrunk to this in a probe: verification does not depend on their size. */
#define PROBE_HASH_ENTRIES 1024
#define PROBE_LOG_SIZE 65536
/* With -v, a refused program is loaded once more with the full trace: its tail is what helps. */
#define PROBE_TRACE_SIZE (64u << 20)
#define PROBE_TRACE_LINES 40

/* The objects, opened through their skeletons. */
struct probe_obj {
	const char *name;
	struct bpf_object_skeleton *(*open)(void **skel);
	void (*destroy)(void *skel);
};

#define PROBE_OBJ(n)                                                     \
	static struct bpf_object_skeleton *open_##n(void **skel)          \
	{                                                                 \
		struct n##_bpf *s = n##_bpf__open();                        \
		*skel = s;                                                \
		return s ? s->skeleton : NULL;                            \
	}                                                                 \
	static void destroy_##n(void *skel)                               \
	{                                                                 \
		n##_bpf__destroy(skel);                                   \
	}
PROBE_OBJ(pktspec)
PROBE_OBJ(pktspec_egress)
PROBE_OBJ(pktspec_tc)

static const struct probe_obj probe_objs[] = {
	{ "pktspec", open_pktspec, destroy_pktspec },
	{ "pktspec_egress", open_pktspec_egress, destroy_pktspec_egress },
	{ "pktspec_tc", open_pktspec_tc, destroy_pktspec_tc },
};

/*
 * The control-flow walk of Linux 5.x and 6.0..6.6 (kernel/bpf/verifier.c,
 * check_cfg): a depth-first walk from the first instruction in which every
 * jump may close a loop, but reaching an instruction still on the walk's path
 * by falling through (from an instruction that is not a jump, or a call)
 * is refused. Successors are taken in the kernel's order: the fall-through
 * edge first, then the jump. Returns the number of such edges; the first is
 * in *from, *to.
 */
enum { CFG_NEW = 0, CFG_ON_PATH = 1, CFG_DONE = 2 };

static int insn_succ(const struct bpf_insn *in, int n, int t, int k, int *w, bool *loop_ok)
{
	__u8 cls = BPF_CLASS(in[t].code), op = BPF_OP(in[t].code);

	if (cls == BPF_LD && in[t].code == (BPF_LD | BPF_IMM | BPF_DW)) {
		/* A 64-bit immediate takes two slots. */
		*w = t + 2;
		*loop_ok = false;
		return k == 0;
	}
	if (cls != BPF_JMP && cls != BPF_JMP32) {
		*w = t + 1;
		*loop_ok = false;
		return k == 0;
	}
	if (op == BPF_EXIT)
		return 0;
	if (op == BPF_CALL) {
		if (k == 0) {
			*w = t + 1;
			*loop_ok = false;
			return 1;
		}
		if (k == 1 && in[t].src_reg == BPF_PSEUDO_CALL) {
			*w = t + in[t].imm + 1;
			*loop_ok = false;
			return 1;
		}
		return 0;
	}
	if (op == BPF_JA) {
		*w = t + in[t].off + 1;
		*loop_ok = true;
		return k == 0;
	}
	if (k == 0) {
		*w = t + 1;
		*loop_ok = true;
		return 1;
	}
	if (k == 1) {
		*w = t + in[t].off + 1;
		*loop_ok = true;
		return 1;
	}
	(void)n;
	return 0;
}

static int cfg_fallthrough_loops(const struct bpf_insn *in, int n, int *from, int *to)
{
	unsigned char *state = calloc(n + 2, 1);
	int *stack = calloc(n + 2, sizeof(int)), *next = calloc(n + 2, sizeof(int));
	int sp = 0, found = 0;

	if (!state || !stack || !next || n <= 0) {
		free(state), free(stack), free(next);
		return 0;
	}
	stack[sp++] = 0;
	state[0] = CFG_ON_PATH;
	while (sp) {
		int t = stack[sp - 1], w;
		bool loop_ok, pushed = false;

		while (insn_succ(in, n, t, next[t], &w, &loop_ok)) {
			next[t]++;
			if (w < 0 || w >= n)
				continue; /* the kernel refuses these for other reasons */
			if (state[w] == CFG_NEW) {
				state[w] = CFG_ON_PATH;
				stack[sp++] = w;
				pushed = true;
				break;
			}
			if (state[w] == CFG_ON_PATH && !loop_ok) {
				if (!found++) {
					*from = t;
					*to = w;
				}
			}
		}
		if (pushed)
			continue;
		state[t] = CFG_DONE;
		sp--;
	}
	free(state), free(stack), free(next);
	return found;
}

struct probe_result {
	const char *object;
	const char *program;
	const char *type;
	bool loaded;
	struct pks_verifier_stats st;
	long xlated;     /* instructions submitted */
	int fallthrough; /* loops kernels before 6.7 refuse */
	int ft_from, ft_to;
	char reason[256];
	char *log;       /* the verifier's log (statistics and reason) */
};

static const char *prog_type_name(enum bpf_prog_type t)
{
	const char *s = libbpf_bpf_prog_type_str(t);

	return s ? s : "unknown";
}

/* Loads one program of an object on its own. */
static int probe_one(const struct probe_obj *po, const char *prog_name, struct probe_result *r)
{
	struct bpf_object_skeleton *sk;
	struct bpf_program *prog, *target = NULL;
	struct bpf_map *map;
	void *skel = NULL;
	int err;

	memset(r, 0, sizeof(*r));
	r->object = po->name;
	r->program = prog_name;
	r->type = "unknown";
	r->st.insns = -1;
	r->log = calloc(1, PROBE_LOG_SIZE);
	if (!r->log)
		return -ENOMEM;
	sk = po->open(&skel);
	if (!sk) {
		snprintf(r->reason, sizeof(r->reason), "cannot open the object: %s", strerror(errno));
		return -errno;
	}
	bpf_object__for_each_map(map, *sk->obj) {
		bpf_map__set_pin_path(map, NULL);
		if (bpf_map__type(map) == BPF_MAP_TYPE_HASH || bpf_map__type(map) == BPF_MAP_TYPE_LRU_HASH)
			bpf_map__set_max_entries(map, PROBE_HASH_ENTRIES);
	}
	bpf_object__for_each_program(prog, *sk->obj) {
		bool me = !strcmp(bpf_program__name(prog), prog_name);

		bpf_program__set_autoload(prog, me);
		if (me)
			target = prog;
	}
	if (!target) {
		po->destroy(skel);
		return -ENOENT;
	}
	r->type = prog_type_name(bpf_program__type(target));
	bpf_program__set_log_buf(target, r->log, PROBE_LOG_SIZE);
	bpf_program__set_log_level(target, 4); /* BPF_LOG_STATS */
	pks_libbpf_forget();
	err = bpf_object__load(*sk->obj);
	r->loaded = err == 0;
	pks_verifier_stats_parse(r->log, &r->st);
	r->xlated = bpf_program__insn_cnt(target);
	if (bpf_program__insns(target))
		r->fallthrough = cfg_fallthrough_loops(bpf_program__insns(target), (int)r->xlated, &r->ft_from,
						       &r->ft_to);
	if (!r->loaded) {
		if (r->log[0])
			pks_verifier_reason(r->log, r->reason, sizeof(r->reason));
		else
			snprintf(r->reason, sizeof(r->reason), "%s (no verifier log: libbpf refused it; -v shows why)",
				 strerror(-err));
	}
	bpf_program__set_log_buf(target, NULL, 0);
	po->destroy(skel);
	return 0;
}

/* The refused program once more at log level 1, for the last lines of its trace. */
static void probe_trace(const struct probe_obj *po, const char *prog_name, FILE *out)
{
	struct bpf_object_skeleton *sk;
	struct bpf_program *prog;
	struct bpf_map *map;
	void *skel = NULL;
	char *buf = calloc(1, PROBE_TRACE_SIZE);
	const char *p;
	int lines = 0, err;

	if (!buf)
		return;
	sk = po->open(&skel);
	if (!sk) {
		free(buf);
		return;
	}
	bpf_object__for_each_map(map, *sk->obj) {
		bpf_map__set_pin_path(map, NULL);
		if (bpf_map__type(map) == BPF_MAP_TYPE_HASH || bpf_map__type(map) == BPF_MAP_TYPE_LRU_HASH)
			bpf_map__set_max_entries(map, PROBE_HASH_ENTRIES);
	}
	bpf_object__for_each_program(prog, *sk->obj) {
		bool me = !strcmp(bpf_program__name(prog), prog_name);

		bpf_program__set_autoload(prog, me);
		if (me) {
			bpf_program__set_log_buf(prog, buf, PROBE_TRACE_SIZE);
			bpf_program__set_log_level(prog, 1 | 4);
		}
	}
	err = bpf_object__load(*sk->obj);
	/* The last lines: kernels before 6.4 keep the head of a log that overflows, 6.4+ the tail. */
	p = buf + strlen(buf);
	while (p > buf && lines <= PROBE_TRACE_LINES)
		if (*--p == '\n')
			lines++;
	fprintf(out, "--- %s/%s: the verifier's last lines%s ---\n%s\n", po->name, prog_name,
		err == -ENOSPC ? " (log overflowed: this kernel keeps its head)" : "", p);
	po->destroy(skel);
	free(buf);
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

struct probe_env {
	struct utsname u;
	bool btf, bpffs;
	bool cap_bpf, cap_net_admin, cap_sys_admin, cap_perfmon, cap_sys_resource;
	int xdp, tc, ringbuf, lru, prog_array, percpu;
};

static void probe_env(struct probe_env *e)
{
	struct statfs st;

	uname(&e->u);
	e->btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	e->bpffs = statfs("/sys/fs/bpf", &st) == 0 && (unsigned long)st.f_type == BPF_FS_MAGIC;
	e->cap_bpf = pks_have_cap(PKS_CAP_BPF);
	e->cap_net_admin = pks_have_cap(12 /* CAP_NET_ADMIN */);
	e->cap_sys_admin = pks_have_cap(21 /* CAP_SYS_ADMIN */);
	e->cap_perfmon = pks_have_cap(PKS_CAP_PERFMON);
	e->cap_sys_resource = pks_have_cap(24 /* CAP_SYS_RESOURCE */);
	e->xdp = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL);
	e->tc = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, NULL);
	e->ringbuf = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
	e->lru = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_LRU_HASH, NULL);
	e->prog_array = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_PROG_ARRAY, NULL);
	e->percpu = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_PERCPU_ARRAY, NULL);
}

static const char *yes(int v)
{
	return v > 0 ? "yes" : v == 0 ? "no" : "unknown";
}

static void env_print(const struct probe_env *e, bool json, FILE *out)
{
	if (json) {
		fprintf(out, "{\"kernel\":");
		json_str(out, e->u.release);
		fprintf(out, ",\"machine\":");
		json_str(out, e->u.machine);
		fprintf(out,
			",\"btf\":%s,\"bpffs\":%s,\"caps\":{\"bpf\":%s,\"net_admin\":%s,\"sys_admin\":%s,"
			"\"perfmon\":%s,\"sys_resource\":%s},\"features\":{\"xdp\":%s,\"tc\":%s,\"ringbuf\":%s,"
			"\"lru_hash\":%s,\"prog_array\":%s,\"percpu_array\":%s}}\n",
			e->btf ? "true" : "false", e->bpffs ? "true" : "false", e->cap_bpf ? "true" : "false",
			e->cap_net_admin ? "true" : "false", e->cap_sys_admin ? "true" : "false",
			e->cap_perfmon ? "true" : "false", e->cap_sys_resource ? "true" : "false",
			e->xdp > 0 ? "true" : "false", e->tc > 0 ? "true" : "false", e->ringbuf > 0 ? "true" : "false",
			e->lru > 0 ? "true" : "false", e->prog_array > 0 ? "true" : "false",
			e->percpu > 0 ? "true" : "false");
		return;
	}
	fprintf(out, "kernel        Linux %s %s\n", e->u.release, e->u.machine);
	fprintf(out, "BTF           %s\n", e->btf ? "/sys/kernel/btf/vmlinux" : "missing");
	fprintf(out, "/sys/fs/bpf   %s\n",
		e->bpffs ? "a BPF filesystem" : "not a BPF filesystem (attach cannot pin; replay works)");
	fprintf(out, "capabilities  CAP_BPF %s, CAP_NET_ADMIN %s, CAP_SYS_ADMIN %s, CAP_PERFMON %s, "
		     "CAP_SYS_RESOURCE %s\n",
		yes(e->cap_bpf), yes(e->cap_net_admin), yes(e->cap_sys_admin), yes(e->cap_perfmon),
		yes(e->cap_sys_resource));
	fprintf(out, "features      XDP %s, tc %s, ring buffer %s, LRU hash %s, tail calls %s, per-CPU array %s\n",
		yes(e->xdp), yes(e->tc), yes(e->ringbuf), yes(e->lru), yes(e->prog_array), yes(e->percpu));
	fputc('\n', out);
}

static void result_print(const struct probe_result *r, bool json, FILE *out)
{
	if (json) {
		fprintf(out, "{\"object\":\"%s\",\"program\":\"%s\",\"type\":\"%s\",\"loaded\":%s,", r->object,
			r->program, r->type, r->loaded ? "true" : "false");
		fprintf(out, "\"insns_processed\":%ld,\"states\":%ld,\"peak_states\":%ld,\"verify_us\":%ld,", r->st.insns,
			r->st.states, r->st.peak, r->st.time_us);
		fprintf(out, "\"insns\":%ld,\"stack\":", r->xlated);
		json_str(out, r->st.stack);
		fprintf(out, ",\"fallthrough_loops\":%d", r->fallthrough);
		if (!r->loaded) {
			fprintf(out, ",\"error\":");
			json_str(out, r->reason);
			fprintf(out, ",\"log\":[");
			for (const char *l = r->log, *sep = ""; *l;) {
				size_t n = strcspn(l, "\n");
				char line[512];

				if (n) {
					snprintf(line, sizeof(line), "%.*s", (int)(n < 511 ? n : 511), l);
					fputs(sep, out);
					json_str(out, line);
					sep = ",";
				}
				l += n;
				if (*l)
					l++;
			}
			fputc(']', out);
		}
		fprintf(out, "}\n");
		return;
	}
	fprintf(out, "%-15s %-16s %-9s %-7s", r->object, r->program, r->type, r->loaded ? "ok" : "REFUSED");
	if (r->st.insns >= 0)
		fprintf(out, " %9ld %7ld %8ld", r->st.insns, r->st.states, r->st.time_us);
	else
		fprintf(out, " %9s %7s %8s", "-", "-", "-");
	if (r->fallthrough)
		fprintf(out, "  %d loop(s) Linux < 6.7 refuses (insn %d falls through to %d)", r->fallthrough,
			r->ft_from, r->ft_to);
	fputc('\n', out);
	if (!r->loaded)
		fprintf(out, "    the verifier's reason: %s\n", r->reason);
}

static const char probe_help[] =
	"Usage: pktspec probe [options]\n"
	"Check that this kernel runs pktspec: the environment (kernel, BTF, the BPF\n"
	"filesystem, capabilities, program and map types), then every BPF program of\n"
	"every object loaded on its own, with private maps, and the verifier's\n"
	"statistics (processed instructions, states, time) or its reason for refusing.\n"
	"Programs holding a loop that Linux before 6.7 refuses are named too.\n"
	"Nothing is attached or pinned. Exit status 0 when every program loads and\n"
	"none holds such a loop, 1 otherwise.\n"
	"\n"
	"  -j, --json       one JSON object per line: the environment, then each program\n"
	"  -v, --verbose    for a refused program, the last lines of the verifier's trace\n"
	"  -h, --help       this help\n";

int cmd_probe(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct probe_env env;
	bool json = false;
	int c, refused = 0, looped = 0, total = 0;

	while ((c = getopt_long(argc, argv, "jvh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'v':
			pks_verbose++;
			break;
		case 'h':
			fputs(probe_help, stdout);
			return PKS_EXIT_OK;
		default:
			return pks_usage_error("probe", "unknown option");
		}
	}
	if (optind != argc)
		return pks_usage_error("probe", "unexpected argument '%s'", argv[optind]);
	probe_env(&env);
	env_print(&env, json, stdout);
	fflush(stdout);
	/* The environment is worth seeing even when the programs cannot be tried. */
	if (pks_need_caps("probe", PKS_NEED_LOAD | PKS_NEED_NET_ADMIN))
		return PKS_EXIT_FAIL;
	if (!json)
		printf("%-15s %-16s %-9s %-7s %9s %7s %8s\n", "object", "program", "type", "result", "insns", "states",
		       "time_us");
	for (size_t o = 0; o < sizeof(probe_objs) / sizeof(probe_objs[0]); o++) {
		const struct probe_obj *po = &probe_objs[o];
		struct bpf_object_skeleton *sk;
		struct bpf_program *prog;
		char **names = NULL;
		void *skel = NULL;
		size_t cap = 0;
		int n = 0;

		/* The program names first, from one opening (nothing loaded). */
		sk = po->open(&skel);
		if (!sk)
			return pks_fail("cannot open the %s object: %s", po->name, strerror(errno));
		bpf_object__for_each_program(prog, *sk->obj) {
			if (pks_grow(&names, &cap, (size_t)n + 1, sizeof(*names), 16))
				break;
			names[n++] = strdup(bpf_program__name(prog));
		}
		po->destroy(skel);

		for (int i = 0; i < n; i++) {
			struct probe_result r;

			if (!names[i])
				continue;
			probe_one(po, names[i], &r);
			result_print(&r, json, stdout);
			fflush(stdout);
			total++;
			refused += !r.loaded;
			looped += r.loaded && r.fallthrough;
			if (!r.loaded && pks_verbose)
				probe_trace(po, names[i], json ? stderr : stdout);
			free(r.log);
			free(names[i]);
		}
		free(names);
	}
	if (!json) {
		printf("\n%d programs: %d loaded, %d refused", total, total - refused, refused);
		if (looped)
			printf(", %d of the loaded would be refused by Linux before 6.7", looped);
		printf("\n");
	}
	return refused || looped ? PKS_EXIT_FAIL : PKS_EXIT_OK;
}
