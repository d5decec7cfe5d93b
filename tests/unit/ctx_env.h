/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Context-rule tests: the real XDP object (pkt.h) plus the engine on its
 * private maps, drained after every packet as `pktspec replay` does.
 *
 *   struct ctx_env c; CHECK(ctx_open(&c, NULL) == 0);
 *   CHECK(ctx_run(&c, &spec) == 0);     // one packet, then the engine
 *   ctx_close(&c);
 */
#ifndef PKTSPEC_TEST_CTX_ENV_H
#define PKTSPEC_TEST_CTX_ENV_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pkt.h"
#include "engine.h"
#include "pktspec/flow_key.h"
#include "pktspec.skel.h"

struct ctx_env {
	struct pks_env env;
	struct pks_engine *eng;
};

/* The environment and an engine with these options (hooks, an application list). */
static inline int ctx_open_opts(struct ctx_env *c, const struct pks_engine_opts *o)
{
	int err;

	memset(c, 0, sizeof(*c));
	err = pks_env_open(&c->env);
	if (err)
		return err;
	err = pks_engine_for_skel_opts(c->env.skel, o, &c->eng);
	if (err)
		pks_env_close(&c->env);
	return err;
}

static inline int ctx_open(struct ctx_env *c, const char *apps)
{
	struct pks_engine_opts eo = { .apps_path = apps };

	return ctx_open_opts(c, &eo);
}

static inline void ctx_close(struct ctx_env *c)
{
	pks_engine_free(c->eng);
	pks_env_close(&c->env);
}

static inline int ctx_run(struct ctx_env *c, const struct pkt_spec *s)
{
	int err = pks_env_run(&c->env, s);

	if (!err)
		pks_engine_poll(c->eng, 0);
	return err;
}

/* Runs s with a text payload. */
static inline int ctx_run_text(struct ctx_env *c, struct pkt_spec s, const char *text)
{
	s.payload = text;
	s.payload_len = strlen(text);
	return ctx_run(c, &s);
}

static inline void ctx_addr16(int ipv6, const char *text, uint8_t *out)
{
	memset(out, 0, 16);
	if (ipv6) {
		inet_pton(AF_INET6, text, out);
	} else {
		out[10] = out[11] = 0xff;
		inet_pton(AF_INET, text, out + 12);
	}
}

static inline void ctx_key(const struct pkt_spec *s, struct pks_flow_key *k)
{
	uint8_t src[16], dst[16];

	ctx_addr16(s->ipv6, s->src, src);
	ctx_addr16(s->ipv6, s->dst, dst);
	pks_flow_key_fill(k, src, s->sport, dst, s->dport, s->l4);
}

/* The flow's name record; -ENOENT when it has none. */
static inline int ctx_name(struct ctx_env *c, const struct pkt_spec *s, struct pks_flow_name *n)
{
	struct pks_flow_key k;

	ctx_key(s, &k);
	if (bpf_map_lookup_elem(bpf_map__fd(c->env.skel->maps.pks_names), &k, n))
		return -errno;
	return 0;
}

/* An application list in a temporary file (path: a mkstemp template); the caller unlinks it. */
static inline void ctx_write_apps(char *path, const char *text)
{
	int fd = mkstemp(path);

	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			path[0] = 0;
		close(fd);
	}
}


static inline uint64_t ctx_stat(struct ctx_env *c, size_t field_off)
{
	int ncpu = libbpf_num_possible_cpus();
	struct pks_ctx_stats per[ncpu > 0 ? ncpu : 1];
	__u32 zero = 0;
	uint64_t sum = 0;

	if (ncpu <= 0 || bpf_map_lookup_elem(bpf_map__fd(c->env.skel->maps.pks_ctxstats), &zero, per))
		return 0;
	for (int i = 0; i < ncpu; i++)
		sum += *(uint64_t *)((char *)&per[i] + field_off);
	return sum;
}
#define CTX_STAT(c, field) ctx_stat((c), offsetof(struct pks_ctx_stats, field))

/* Runs s with its TCP sequence number set to seq. */
static inline int ctx_run_seq(struct ctx_env *c, const struct pkt_spec *s, uint32_t seq)
{
	uint8_t frame[4096];
	size_t len = pkt_build(s, frame, sizeof(frame)), off = pkt_l4_off(s);
	int err;

	if (!len || s->l4 != 6)
		return -EINVAL;
	frame[off + 4] = seq >> 24;
	frame[off + 5] = seq >> 16;
	frame[off + 6] = seq >> 8;
	frame[off + 7] = seq;
	err = pks_env_run_raw(&c->env, frame, len);
	if (!err)
		pks_engine_poll(c->eng, 0);
	return err;
}

#endif
