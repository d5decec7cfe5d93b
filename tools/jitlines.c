// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * jitlines: where a loaded BPF program's time goes, per source line, from a
 * perf profile. perf names a JIT image `bpf_prog_<tag>_<name>` and gives each
 * sample an offset in it; the kernel keeps a line table for the image
 * (bpf_prog_info's jited_line_info beside line_info and the program's BTF).
 * This puts each sample of the program on its source line: a sample in the
 * program itself on the line of its instruction, a sample in a helper or map
 * function it called (a hash lookup, an insertion) on the line of the call.
 *
 *   perf record -a -g -- sleep 2          (while the program runs, live traffic)
 *   perf script -F ip,sym,symoff | .output/jitlines pks_track [N]
 *
 * The program must still be loaded when jitlines runs (it reads the table from
 * the kernel), and be the same load that perf saw: the tag in perf's names
 * must match. Prints the N (default 25) lines with the most samples, each with
 * how many were the program's own and the functions the rest were in.
 * A developer's tool (doc/performance.md); run as root.
 *
 *   gcc -O2 -o .output/jitlines tools/jitlines.c -lbpf -lelf -lz
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

struct line {
	unsigned long long addr; /* first JIT byte of the line */
	const char *where;       /* file:line */
	const char *src;         /* the source text */
	long self, called;       /* samples in the program, and in what it called there */
	char callees[160];       /* the called functions seen, comma-separated (cut) */
};

static struct line *lines;
static unsigned int nlines;
static unsigned long long image_start, image_end;
static char tag[17];

static int by_total(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	long tx = x->self + x->called, ty = y->self + y->called;

	return (ty > tx) - (ty < tx);
}

/* The loaded program called name (the kernel keeps 15 characters of it): the one loaded last. */
static int find_prog(const char *name)
{
	__u32 id = 0, found = 0;
	int fd = -1;

	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int f = bpf_prog_get_fd_by_id(id);

		if (f < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(f, &info, &len) && !strncmp(info.name, name, sizeof(info.name) - 1) &&
		    id > found) {
			if (fd >= 0)
				close(fd);
			fd = f;
			found = id;
			continue;
		}
		close(f);
	}
	return fd;
}

static int load_lines(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), nl, njl, nk, lrs;
	__u64 *jl, *ks;
	__u32 *fl;
	char *li;
	struct btf *btf;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	nl = info.nr_line_info, njl = info.nr_jited_line_info, nk = info.nr_jited_ksyms, lrs = info.line_info_rec_size;
	if (!nl || nl != njl || !nk || !info.btf_id) {
		fprintf(stderr, "jitlines: the program has no JIT line table (%u lines, %u JIT lines)\n", nl, njl);
		return -ENOENT;
	}
	for (int i = 0; i < 8; i++)
		snprintf(tag + 2 * i, 3, "%02x", info.tag[i]);
	li = calloc(nl, lrs), jl = calloc(njl, 8), ks = calloc(nk, 8), fl = calloc(nk, 4);
	if (!li || !jl || !ks || !fl)
		return -ENOMEM;
	memset(&info, 0, sizeof(info));
	info.nr_line_info = nl, info.line_info_rec_size = lrs, info.line_info = (unsigned long)li;
	info.nr_jited_line_info = njl, info.jited_line_info_rec_size = 8, info.jited_line_info = (unsigned long)jl;
	info.nr_jited_ksyms = nk, info.jited_ksyms = (unsigned long)ks;
	info.nr_jited_func_lens = nk, info.jited_func_lens = (unsigned long)fl;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		return -errno;
	/* The main function only: pktspec's programs inline everything they call. */
	image_start = ks[0], image_end = ks[0] + fl[0];
	lines = calloc(nl, sizeof(*lines));
	if (!lines)
		return -ENOMEM;
	for (__u32 i = 0; i < nl; i++) {
		const struct bpf_line_info *l = (const void *)(li + (size_t)i * lrs);
		const char *file = btf__name_by_offset(btf, l->file_name_off), *src = btf__name_by_offset(btf, l->line_off);
		const char *base = file ? strrchr(file, '/') : NULL;
		char *where;

		if (jl[i] < image_start || jl[i] >= image_end)
			continue;
		if (asprintf(&where, "%s:%u", base ? base + 1 : file ? file : "?", l->line_col >> 10) < 0)
			return -ENOMEM;
		while (src && (*src == ' ' || *src == '\t'))
			src++;
		lines[nlines++] = (struct line){ .addr = jl[i], .where = where, .src = src ? src : "" };
	}
	return 0;
}

/* The line whose JIT bytes hold addr (a return address: pass the byte before it). */
static struct line *line_at(unsigned long long addr)
{
	struct line *best = NULL;

	for (unsigned int i = 0; i < nlines; i++)
		if (lines[i].addr <= addr && (!best || lines[i].addr > best->addr))
			best = &lines[i];
	return best;
}

static void add_callee(struct line *l, const char *sym)
{
	size_t n = strlen(l->callees), s = strcspn(sym, "+ \n");
	const char *p = l->callees;

	if (!s)
		return;
	while (*p) {
		size_t k = strcspn(p, ",");

		if (k == s && !strncmp(p, sym, s))
			return;
		p += k;
		if (*p == ',')
			p++;
	}
	if (n + s + 2 < sizeof(l->callees))
		snprintf(l->callees + n, sizeof(l->callees) - n, "%s%.*s", n ? "," : "", (int)s, sym);
}

/* Entries of one source line (the table has one per JIT range) into its first. */
static void merge_lines(void)
{
	for (unsigned int i = 0; i < nlines; i++)
		for (unsigned int j = 0; j < i; j++)
			if (!strcmp(lines[i].where, lines[j].where)) {
				lines[j].self += lines[i].self;
				lines[j].called += lines[i].called;
				lines[i].self = lines[i].called = 0;
				for (const char *p = lines[i].callees; *p;) {
					size_t k = strcspn(p, ",");
					char one[64];

					snprintf(one, sizeof(one), "%.*s", (int)(k < 63 ? k : 63), p);
					add_callee(&lines[j], one);
					p += k;
					if (*p == ',')
						p++;
				}
				break;
			}
}

/* One sample's frames, the leaf first: counts it against this program's line, if it is in it. */
static void take_sample(char frames[][256], int n, const char *prefix, long *other)
{
	for (int i = 0; i < n; i++) {
		char *sym = strchr(frames[i], ' '), *plus;
		unsigned long long off;
		struct line *l;

		if (!sym)
			continue;
		sym++;
		if (strncmp(sym, "bpf_prog_", 9))
			continue;
		/* The first BPF program in the chain is the one the sample is in (tail calls leave no frame). */
		if (strncmp(sym, prefix, strlen(prefix))) {
			(*other)++;
			return;
		}
		plus = strstr(sym, "+0x");
		if (!plus)
			return;
		off = strtoull(plus + 3, NULL, 16);
		l = line_at(image_start + off - (i ? 1 : 0));
		if (!l)
			return;
		if (i == 0) {
			l->self++;
		} else {
			char *leaf = strchr(frames[0], ' ');

			l->called++;
			if (leaf)
				add_callee(l, leaf + 1);
		}
		return;
	}
}

int main(int argc, char **argv)
{
	char frames[128][256], buf[512], prefix[64];
	long other = 0, total = 0;
	int fd, err, n = 0, top = argc > 2 ? atoi(argv[2]) : 25;

	if (argc < 2 || argc > 3 || top <= 0) {
		fprintf(stderr, "usage: perf script -F ip,sym,symoff | jitlines PROGRAM [N]\n");
		return 2;
	}
	fd = find_prog(argv[1]);
	if (fd < 0) {
		fprintf(stderr, "jitlines: no loaded BPF program called %s\n", argv[1]);
		return 1;
	}
	err = load_lines(fd);
	if (err) {
		fprintf(stderr, "jitlines: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	snprintf(prefix, sizeof(prefix), "bpf_prog_%s_", tag);
	while (1) {
		char *s = fgets(buf, sizeof(buf), stdin), *p = buf;

		while (s && (*p == ' ' || *p == '\t'))
			p++;
		if (!s || *p == '\n' || *p == '\0') {
			if (n) {
				take_sample(frames, n, prefix, &other);
				total++;
			}
			n = 0;
			if (!s)
				break;
			continue;
		}
		if (n < (int)(sizeof(frames) / sizeof(frames[0])))
			snprintf(frames[n++], sizeof(frames[0]), "%.255s", p); /* a longer line is cut */
	}
	merge_lines();
	qsort(lines, nlines, sizeof(*lines), by_total);
	{
		long mine = 0;

		for (unsigned int i = 0; i < nlines; i++)
			mine += lines[i].self + lines[i].called;
		printf("%s (tag %s): %ld of %ld samples; %ld in other BPF programs\n", argv[1], tag, mine, total, other);
		if (!mine)
			fprintf(stderr, "jitlines: no sample of this load of %s (is the tag in perf's names %s?)\n",
				argv[1], tag);
	}
	printf("%7s %7s  %-24s %s\n", "samples", "own", "line", "source [called]");
	for (unsigned int i = 0; i < nlines && (int)i < top; i++) {
		const struct line *l = &lines[i];

		if (!l->self && !l->called)
			break;
		printf("%7ld %7ld  %-24s %.90s%s%s%s\n", l->self + l->called, l->self, l->where, l->src,
		       l->callees[0] ? " [" : "", l->callees, l->callees[0] ? "]" : "");
	}
	return 0;
}
