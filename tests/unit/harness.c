// SPDX-License-Identifier: MIT OR Apache-2.0
/* The unit-test runner: runs registered cases, prints PASS/FAIL lines. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "pkt.h"
#include "pktspec.h"

static struct pks_test *tests, **tail = &tests;
static char failure[1024];
static int failed;

void pks_test_register(struct pks_test *t)
{
	/* Constructors run in link order; keep registration order. */
	*tail = t;
	tail = &t->next;
}

void pks_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (failed)
		return;
	failed = 1;
	n = snprintf(failure, sizeof(failure), "%s:%d: ", file, line);
	va_start(ap, fmt);
	vsnprintf(failure + n, sizeof(failure) - n, fmt, ap);
	va_end(ap);
}

int pks_test_failed(void)
{
	return failed;
}

static int wanted(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strstr(name, argv[i]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int n_fail = 0, times = getenv("PKS_TEST_TIMES") != NULL;
	struct timespec t0, t1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("PKS_TEST_VERBOSE"))
		pks_verbose = 2;
	pks_libbpf_logging();
	for (struct pks_test *t = tests; t; t = t->next) {
		if (!wanted(t->name, argc, argv))
			continue;
		failed = 0;
		failure[0] = 0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		t->fn();
		pks_env_case_end();
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (times) /* PKS_TEST_TIMES=1: each case's wall time, on stderr */
			fprintf(stderr, "# %s: %.0f ms\n", t->name,
				(t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
		if (failed) {
			printf("FAIL: %s: %s\n", t->name, failure);
			n_fail++;
		} else {
			printf("PASS: %s\n", t->name);
		}
	}
	pks_env_release();
	return n_fail ? 1 : 0;
}
