/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Bounded input files (user/textfile.c); free of BPF headers, so that capture.c can use it too. */
#ifndef PKTSPEC_USER_TEXTFILE_H
#define PKTSPEC_USER_TEXTFILE_H

#include <stddef.h>
#include <stdio.h>

/*
 * The text files the CLI reads (user/textfile.c): policy files, operator rules
 * files, application lists. Each is read whole before a line is parsed: at most
 * PKS_TEXT_MAX bytes, no line longer than PKS_TEXT_LINE_MAX characters, no NUL
 * byte; a path must name a regular file ('-' is stdin, of any kind: the size
 * bound ends the read). Errors are one line in err, naming the file (and line).
 */
#define PKS_TEXT_MAX (4u << 20)
#define PKS_TEXT_LINE_MAX 1024
struct pks_text {
	char *buf;  /* the file, NUL-terminated; pks_text_line cuts its lines in place */
	size_t len;
	size_t pos;
	int lineno; /* of the line pks_text_line returned last */
};
/* what names the kind of file in messages: "a policy file", "an application list". 0 or -errno. */
int pks_text_open(const char *path, const char *what, struct pks_text *t, char *err, size_t errlen);
int pks_text_read(FILE *in, const char *name, const char *what, struct pks_text *t, char *err, size_t errlen);
char *pks_text_line(struct pks_text *t); /* the next line without its '\n'; NULL at the end */
void pks_text_free(struct pks_text *t);
/* An input file opened read-only: a regular file, or -errno with err set (a directory, FIFO, device). */
int pks_input_open(const char *path, char *err, size_t errlen);
int pks_input_check(int fd, const char *name, char *err, size_t errlen);

#endif
