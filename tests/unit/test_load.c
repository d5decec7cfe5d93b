// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Loading: a program the kernel's verifier refuses is named, with the
 * verifier's reason, in one line (user/loader.c); the classifier's stages are
 * all in its tail-call table after a load; pktspec probe's view of the
 * control flow matches the kernel's before 6.7 on hand-made programs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "pkt.h"
#include "pktspec.h"
#include "pktspec.skel.h"
#include "reject.skel.h"

/* Runs fn with stderr going to a buffer; returns what it wrote. */
static int with_stderr(char *buf, size_t len, int (*fn)(void *), void *arg)
{
	char path[] = "/tmp/pktspec-test-stderr.XXXXXX";
	int fd = mkstemp(path), saved = dup(2), ret;
	ssize_t n;

	if (fd < 0 || saved < 0)
		return -errno;
	unlink(path);
	fflush(stderr);
	dup2(fd, 2);
	ret = fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, len - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return ret;
}

static int load_reject(void *arg)
{
	struct reject_bpf *skel = arg;

	return pks_skel_load(skel->skeleton, "the test object");
}

TEST(load_verifier_refusal_named)
{
	struct reject_bpf *skel = reject_bpf__open();
	char err[4096];
	int ret;

	CHECK(skel);
	ret = with_stderr(err, sizeof(err), load_reject, skel);
	reject_bpf__destroy(skel);
	CHECK(ret != 0);
	CHECK(strstr(err, "the kernel's verifier") != NULL);
	CHECK(strstr(err, "rejected program pks_unchecked of the test object") != NULL);
	/* The verifier's own words, not an errno. */
	CHECK(strstr(err, "invalid access to packet") != NULL);
	CHECK(strstr(err, "pinned") == NULL);
	/* One line. */
	CHECK(strchr(err, '\n') == strrchr(err, '\n'));
}

TEST(load_fills_every_stage)
{
	struct pks_env env;
	struct bpf_map *map = NULL, *m;
	__u32 slots, i;

	CHECK_EQ(pks_env_open(&env), 0);
	bpf_object__for_each_map(m, env.skel->obj)
		if (bpf_map__type(m) == BPF_MAP_TYPE_PROG_ARRAY)
			map = m;
	CHECK(map);
	slots = bpf_map__max_entries(map);
	CHECK(slots >= 4);
	for (i = 0; i < slots; i++) {
		__u32 id = 0;

		if (bpf_map_lookup_elem(bpf_map__fd(map), &i, &id)) {
			pks_test_fail(__FILE__, __LINE__, "tail-call slot %u is empty", i);
			break;
		}
	}
	pks_env_close(&env);
}
