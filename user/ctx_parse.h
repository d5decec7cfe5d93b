/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Small bounded parsing helpers for the context rules: every function takes
 * an explicit end and never reads past it (payload copies are not
 * NUL-terminated and may be cut anywhere).
 */
#ifndef PKTSPEC_CTX_PARSE_H
#define PKTSPEC_CTX_PARSE_H

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* The end of the line starting at s: its '\n', or end. */
static inline const char *pks_line_end(const char *s, const char *end)
{
	const char *nl;

	if (s >= end)
		return end;
	nl = memchr(s, '\n', end - s);
	return nl ? nl : end;
}

/* The line's end without a trailing '\r'. */
static inline const char *pks_trim_cr(const char *s, const char *e)
{
	return e > s && e[-1] == '\r' ? e - 1 : e;
}

/* for each line [s, e) of buf (CRLF or LF; the last line may lack one). */
#define pks_for_each_line(buf, len, s, e)                                                              \
	for (const char *s = (const char *)(buf), *_pend = s + (len), *_nl = pks_line_end(s, _pend),        \
			*e = pks_trim_cr(s, _nl);                                                          \
	     s < _pend; s = _nl < _pend ? _nl + 1 : _pend, _nl = pks_line_end(s, _pend), e = pks_trim_cr(s, _nl))

/* A decimal number of at most max at *s; advances *s. 0 or -1. */
static inline int pks_parse_dec(const char **s, const char *end, unsigned long max, unsigned long *out)
{
	const char *p = *s;
	unsigned long v = 0;

	if (p >= end || !isdigit((unsigned char)*p))
		return -1;
	for (; p < end && isdigit((unsigned char)*p); p++) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > max)
			return -1;
	}
	*s = p;
	*out = v;
	return 0;
}

/* Whether [s, e) starts with the (case-insensitive) prefix. */
static inline int pks_has_prefix(const char *s, const char *e, const char *prefix)
{
	size_t n = strlen(prefix);

	return (size_t)(e - s) >= n && !strncasecmp(s, prefix, n);
}

static inline const char *pks_skip_space(const char *s, const char *e)
{
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

#endif /* PKTSPEC_CTX_PARSE_H */
