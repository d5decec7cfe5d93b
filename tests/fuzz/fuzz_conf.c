// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * libFuzzer target: the operator's files. The first byte picks the parser,
 * the rest is the file:
 *  0: operator rules (user/oprules.c, `pktspec rules load`);
 *  1: policy (user/policy.c, `pktspec policy load`), each rule then
 *     formatted back (pks_policy_format) and the text parsed again: the
 *     same rule;
 *  2: the application list as `policy --apps` reads it (pks_apps_read);
 *  3: the application list as `run --apps` reads it (the engine's
 *     apps_load), then names looked up in it.
 * Invariants: a file either parses or is refused with the count left 0, and
 * what parses is within the parsers' bounds.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
/* The engine's static apps_load, and its lookup. */
#include "../../user/engine.c"

static FILE *errs;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	errs = fopen("/dev/null", "w");
	return 0;
}

/* The file as a path, for the readers that open one. */
static int as_path(const uint8_t *data, size_t size, char *path, size_t len)
{
	int fd = memfd_create("fuzz", 0);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

static void apps_engine(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "www.youtube.com", "a.b.c.example", "", ".", "com", "x" };
	struct pks_engine *e = calloc(1, sizeof(*e));
	char path[64];
	int fd = as_path(data, size, path, sizeof(path));

	if (!e)
		abort();
	if (apps_load(e, path) == 0) {
		FZ_CHECK(e->n_apps <= PKS_APPS_MAX, "%zu entries", e->n_apps);
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			const char *name = NULL;
			uint16_t id = pks_engine_app(e, names[i], &name);

			FZ_CHECK(!id || (id <= e->n_app_names && name), "app %u of %zu", id, e->n_app_names);
			if (id)
				FZ_CHECK(pks_engine_app_name(e, id) != NULL, "no name for app %u", id);
		}
		for (size_t i = 0; i < e->n_apps; i++)
			(void)pks_engine_app(e, e->apps[i].suffix, NULL);
	}
	close(fd);
	free(e->apps);
	free(e->app_names);
	free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mode = size ? data[0] % 4 : 0;
	const uint8_t *text = size ? data + 1 : data;
	size_t n = size ? size - 1 : 0;
	FILE *in = n ? fmemopen((void *)text, n, "r") : fopen("/dev/null", "r");
	char path[64];
	int fd;

	if (!in)
		abort();
	if (mode == 0) {
		struct pks_op_rule *r = NULL;
		size_t count = 0;

		if (pks_oprules_parse_file(in, "fuzz", &r, &count, errs) == 0)
			FZ_CHECK(count == 0 || r, "rules without a table");
		else
			FZ_CHECK(count == 0 && !r, "a refused file returned rules");
		for (size_t i = 0; i < count; i++)
			FZ_CHECK(r[i].bits <= 128, "prefix %u", r[i].bits);
		free(r);
	} else if (mode == 1) {
		struct pks_policy_rule *r = NULL;
		size_t count = 0;

		if (pks_policy_parse_file(in, "fuzz", &r, &count, errs) == 0) {
			for (size_t i = 0; i < count; i++) {
				char buf[512], *tok[64], err[256];
				struct pks_policy_rule back;
				int nt;

				pks_policy_format(&r[i], buf, sizeof(buf));
				nt = pks_words(buf, tok, 64);
				FZ_CHECK(nt > 0 && pks_policy_parse(nt, tok, &back, err, sizeof(err)) == 0,
					 "rule %zu does not parse back: %s", i, nt > 0 ? err : "no words");
				back.line = r[i].line; /* the file's line number is not part of the text */
				FZ_CHECK(!memcmp(&back, &r[i], sizeof(back)), "rule %zu parses back differently", i);
			}
		} else {
			FZ_CHECK(count == 0 && !r, "a refused file returned rules");
		}
		free(r);
	} else if (mode == 2) {
		fd = as_path(text, n, path, sizeof(path));
		(void)pks_apps_read(path);
		close(fd);
	} else {
		apps_engine(text, n);
	}
	fclose(in);
	return 0;
}
