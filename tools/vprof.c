// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * vprof: where a BPF program's verification goes. Loads one program of an
 * object file with the verifier's full trace (log level 2), counts how many
 * times the verifier processed each instruction, and prints the source lines
 * (from the trace's "; source @ file:line" notes) that cost the most.
 *
 *   make tools/vprof  (or: gcc -O2 -o .output/vprof tools/vprof.c -lbpf -lelf -lz)
 *   .output/vprof .output/pktspec.bpf.o pks_copy [N]
 *
 * A developer's tool (doc/design.md, "Verification budget"); run as root.
 * The trace of a large program is large: the buffer is 512 MiB of address space.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#define LOG_SIZE (1u << 29)

struct line_cost {
	char src[160];
	long visits;
};

static int by_visits(const void *a, const void *b)
{
	const struct line_cost *x = a, *y = b;

	return (y->visits > x->visits) - (y->visits < x->visits);
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog, *target = NULL;
	struct bpf_map *map;
	struct line_cost *lines = NULL;
	size_t nlines = 0, cap = 0;
	char *log, *l, cur[160] = "(no source line)";
	long total = 0;
	int top = argc > 3 ? atoi(argv[3]) : 25, err;

	if (argc < 3) {
		fprintf(stderr, "usage: %s OBJECT.bpf.o PROGRAM [TOP]\n", argv[0]);
		return 2;
	}
	log = malloc(LOG_SIZE);
	if (!log)
		return 1;
	log[0] = '\0';
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "cannot open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	bpf_object__for_each_map(map, obj) {
		bpf_map__set_pin_path(map, NULL);
		if (bpf_map__type(map) == BPF_MAP_TYPE_HASH || bpf_map__type(map) == BPF_MAP_TYPE_LRU_HASH)
			bpf_map__set_max_entries(map, 1024);
	}
	bpf_object__for_each_program(prog, obj) {
		int me = !strcmp(bpf_program__name(prog), argv[2]);

		bpf_program__set_autoload(prog, me);
		if (me)
			target = prog;
	}
	if (!target) {
		fprintf(stderr, "no program %s in %s\n", argv[2], argv[1]);
		return 1;
	}
	bpf_program__set_log_buf(target, log, LOG_SIZE);
	bpf_program__set_log_level(target, 2 | 4);
	err = bpf_object__load(obj);
	for (l = log; *l;) {
		size_t n = strcspn(l, "\n");
		char *at;

		if (l[0] == ';' && (at = strstr(l, " @ ")) && (size_t)(at - l) < n) {
			size_t k = n - 2 < sizeof(cur) - 1 ? n - 2 : sizeof(cur) - 1;

			memcpy(cur, l + 2, k);
			cur[k] = '\0';
		} else if (l[0] >= '0' && l[0] <= '9' && strchr(l, ':') && strchr(l, ':') < l + n) {
			size_t i;

			for (i = 0; i < nlines; i++)
				if (!strcmp(lines[i].src, cur))
					break;
			if (i == nlines) {
				if (nlines == cap) {
					cap = cap ? cap * 2 : 256;
					lines = realloc(lines, cap * sizeof(*lines));
					if (!lines)
						return 1;
				}
				snprintf(lines[nlines].src, sizeof(lines[nlines].src), "%s", cur);
				lines[nlines++].visits = 0;
			}
			lines[i].visits++;
			total++;
		}
		l += n;
		if (*l)
			l++;
	}
	qsort(lines, nlines, sizeof(*lines), by_visits);
	printf("%s %s: %s; %ld instruction visits in the trace\n", argv[1], argv[2], err ? "refused" : "loaded",
	       total);
	for (size_t i = 0; i < nlines && (int)i < top; i++)
		printf("%9ld  %s\n", lines[i].visits, lines[i].src);
	return 0;
}
