/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * A small unit-test harness for pktspec: TEST(name) registers a case; the
 * runner (tests/unit/harness.c) runs them all, or those whose name contains an
 * argument, and prints "PASS: name" / "FAIL: name: why" lines for tests/run.
 *
 * Most cases run the real BPF object through BPF_PROG_TEST_RUN on a crafted
 * packet with private (unpinned) maps, then assert on the flow entry and on the
 * reason counters: see pkt.h.
 */
#ifndef PKTSPEC_TEST_HARNESS_H
#define PKTSPEC_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

struct pks_test {
	const char *name;
	void (*fn)(void);
	struct pks_test *next;
};

void pks_test_register(struct pks_test *t);
/* Records a failure of the running case (first message kept). */
void pks_test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int pks_test_failed(void);

#define TEST(id)                                                                   \
	static void test_##id(void);                                               \
	static struct pks_test pks_test_##id = { .name = #id, .fn = test_##id };   \
	__attribute__((constructor)) static void pks_test_reg_##id(void)           \
	{                                                                          \
		pks_test_register(&pks_test_##id);                                 \
	}                                                                          \
	static void test_##id(void)

/* Checks: on failure record it and return from the case. */
#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			pks_test_fail(__FILE__, __LINE__, "%s", #cond);          \
			return;                                                  \
		}                                                                \
	} while (0)

#define CHECK_EQ(a, b)                                                                          \
	do {                                                                                    \
		long long _a = (long long)(a), _b = (long long)(b);                             \
		if (_a != _b) {                                                                 \
			pks_test_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, _a, \
				      #b, _b);                                                  \
			return;                                                                 \
		}                                                                               \
	} while (0)

#define CHECK_STR(a, b)                                                                         \
	do {                                                                                    \
		const char *_a = (a), *_b = (b);                                                \
		if (strcmp(_a, _b)) {                                                           \
			pks_test_fail(__FILE__, __LINE__, "%s is \"%s\", expected \"%s\"", #a, _a, _b); \
			return;                                                                 \
		}                                                                               \
	} while (0)

#endif
