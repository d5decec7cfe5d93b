// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * The text files the CLI reads (policy files, operator rules files,
 * application lists): read whole, bounded, and checked before any line is
 * parsed, so that a bad one changes nothing. See pktspec.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pktspec.h"
#include "pktspec/events.h"

static const char *file_kind(mode_t m)
{
	return S_ISDIR(m)    ? "a directory"
	       : S_ISFIFO(m) ? "a FIFO"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
	       : S_ISSOCK(m) ? "a socket"
			     : "not a regular file";
}

int pks_input_check(int fd, const char *name, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st))
		return snprintf(err, errlen, "cannot read %s: %s", name, strerror(errno)), -errno;
	if (!S_ISREG(st.st_mode))
		return snprintf(err, errlen, "%s is %s, not a regular file", name, file_kind(st.st_mode)), -EINVAL;
	return 0;
}

int pks_input_open(const char *path, char *err, size_t errlen)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer before it is refused. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), e;

	if (fd < 0)
		return e = -errno, snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno)), e;
	e = pks_input_check(fd, path, err, errlen);
	if (e) {
		close(fd);
		return e;
	}
	return fd;
}

int pks_text_read(FILE *in, const char *name, const char *what, struct pks_text *t, char *err, size_t errlen)
{
	size_t cap = 64 * 1024, n = 0, line_start = 0;
	char *buf = malloc(cap + 1);
	int lineno = 1;

	memset(t, 0, sizeof(*t));
	if (!buf)
		return snprintf(err, errlen, "cannot read %s: out of memory", name), -ENOMEM;
	for (;;) {
		size_t got;

		if (n == cap) {
			/* One byte past the limit tells "too large" from "exactly the limit". */
			size_t ncap = cap * 2 > PKS_TEXT_MAX + 1 ? PKS_TEXT_MAX + 1 : cap * 2;
			char *nb;

			if (ncap == cap)
				break;
			nb = realloc(buf, ncap + 1);
			if (!nb) {
				free(buf);
				return snprintf(err, errlen, "cannot read %s: out of memory", name), -ENOMEM;
			}
			buf = nb;
			cap = ncap;
		}
		got = fread(buf + n, 1, cap - n, in);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(in)) {
		int e = errno ? errno : EIO;

		free(buf);
		return snprintf(err, errlen, "cannot read %s: %s", name, strerror(e)), -e;
	}
	if (n > PKS_TEXT_MAX) {
		free(buf);
		return snprintf(err, errlen, "%s is larger than %u MiB, the limit for %s", name, PKS_TEXT_MAX >> 20,
				what),
		       -EFBIG;
	}
	buf[n] = '\0';
	/* Every line: no NUL byte (it would end the line early and lose the rest), not too long. */
	for (size_t i = 0; i <= n; i++) {
		if (i < n && buf[i] == '\0') {
			free(buf);
			return snprintf(err, errlen, "%s:%d: NUL byte (%s must be text)", name, lineno, what), -EINVAL;
		}
		if (i == n || buf[i] == '\n') {
			if (i - line_start > PKS_TEXT_LINE_MAX) {
				free(buf);
				return snprintf(err, errlen, "%s:%d: line longer than %d characters", name, lineno,
						PKS_TEXT_LINE_MAX),
				       -EINVAL;
			}
			line_start = i + 1;
			lineno++;
		}
	}
	t->buf = buf;
	t->len = n;
	return 0;
}

int pks_text_open(const char *path, const char *what, struct pks_text *t, char *err, size_t errlen)
{
	FILE *in;
	int fd, e;

	memset(t, 0, sizeof(*t));
	if (!strcmp(path, "-")) {
		/* stdin may be a pipe or a device: the size bound still ends the read. */
		return pks_text_read(stdin, "stdin", what, t, err, errlen);
	}
	fd = pks_input_open(path, err, errlen);
	if (fd < 0)
		return fd;
	in = fdopen(fd, "r");
	if (!in) {
		e = -errno;
		close(fd);
		return snprintf(err, errlen, "cannot read %s: %s", path, strerror(-e)), e;
	}
	e = pks_text_read(in, path, what, t, err, errlen);
	fclose(in);
	return e;
}

char *pks_text_line(struct pks_text *t)
{
	char *l, *nl;

	if (!t->buf || t->pos >= t->len)
		return NULL;
	l = t->buf + t->pos;
	nl = strchr(l, '\n');
	if (nl) {
		*nl = '\0';
		t->pos = (size_t)(nl - t->buf) + 1;
	} else {
		t->pos = t->len;
	}
	t->lineno++;
	return l;
}

void pks_text_free(struct pks_text *t)
{
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

int pks_apps_line(char *line, const char *name, int lineno, char *suffix, char *app, char *err, size_t errlen)
{
	char s[PKS_NAME_LEN + 1], a[PKS_APP_LEN + 1], extra, *hash = strchr(line, '#');
	int fields;

	if (hash)
		*hash = 0;
	fields = sscanf(line, "%128s %32s %c", s, a, &extra);
	if (fields <= 0)
		return 0;
	if (fields != 2 || strlen(s) >= PKS_NAME_LEN - 1 || strlen(a) >= PKS_APP_LEN)
		return snprintf(err, errlen,
				"%s:%d: expected 'NAME-SUFFIX APPLICATION' (suffix < %d, application < %d characters)",
				name, lineno, PKS_NAME_LEN - 1, PKS_APP_LEN),
		       -1;
	strcpy(suffix, s);
	strcpy(app, a);
	return 1;
}
