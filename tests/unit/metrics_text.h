/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* The metrics exposition as text, and a test of one of its lines, for the unit tests. */
#ifndef PKTSPEC_TESTS_METRICS_TEXT_H
#define PKTSPEC_TESTS_METRICS_TEXT_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "metrics.h"

/* What pks_metrics_render writes for src, in a buffer the caller frees; NULL on error. */
static inline char *metrics_text_of(const struct pks_metrics_src *src)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	pks_metrics_render(src, f);
	fclose(f);
	return buf;
}

/* Whether the metrics text has the line "\nNAME VALUE\n". */
static inline bool metrics_line(const char *text, const char *name, unsigned long long value)
{
	char want[160];

	snprintf(want, sizeof(want), "\n%s %llu\n", name, value);
	return text && strstr(text, want) != NULL;
}

#endif /* PKTSPEC_TESTS_METRICS_TEXT_H */
