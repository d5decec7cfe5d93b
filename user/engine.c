// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * The context-rule engine: consumes pks_events, hands every event to every
 * registered rule, and writes what the rules conclude into the pinned maps
 * (see engine.h for the contract with rules).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pktspec.h"
#include "engine.h"
#include "filter.h"
#include "pktspec/flow_key.h"
#include "pktspec/oprules.h"

static struct pks_ctx_rule *rules;

void pks_ctx_rule_register(struct pks_ctx_rule *r)
{
	struct pks_ctx_rule **p = &rules;

	/* Keep registration order stable (link order), whatever constructors do. */
	while (*p)
		p = &(*p)->next;
	r->next = NULL;
	*p = r;
}

struct pks_app {
	char suffix[PKS_NAME_LEN]; /* lower case, with a leading dot */
	uint16_t id;
};

struct pks_engine {
	struct pks_engine_maps maps;
	struct pks_engine_opts opts;
	struct ring_buffer *rb;
	struct ring_buffer *ctl; /* pks_ctlevents alone: read between a batch's lazy events */
	uint64_t now, last_tick;
	uint64_t servers_until, hosts_until; /* what pks_ctl says, as far as this engine raised it */
	struct pks_engine_stats st;
	struct pks_app *apps;
	size_t n_apps;
	char (*app_names)[PKS_APP_LEN]; /* [id - 1] */
	size_t n_app_names;
	bool rules_started;
	struct pks_flowtab flows; /* the flow tables, for the write-back of apps */
	/* The operator's host-name rules (pks_ophosts), reread when pks_opstate's gen moves. */
	struct op_host {
		char suffix[PKS_NAME_LEN];
		struct pks_op_host v;
	} *ophosts;
	size_t n_ophosts;
	uint32_t op_gen;
	bool op_read;
	unsigned int batch_left; /* events this pks_engine_poll may still handle */
	unsigned int lazy_left;  /* pks_events' records until the next look at pks_ctlevents */
	/* The lookup filter's bits of pks_servers and pks_hosts (user/filter.h). */
	struct pks_filter_part fservers, fhosts;
};

/*
 * Events one pks_engine_poll handles at most. libbpf's consume returns only
 * when the ring is empty, and under a stream of new flows the kernel fills it
 * faster than the rules empty it: without a bound, `pktspec run` never came
 * back to its flow-table scans, its metrics or a signal, and its flow
 * lifecycle grew without end (6 GiB in minutes, make bench's new-flows
 * stream). The event that reaches the bound is handled whole first.
 */
#define PKS_ENGINE_BATCH 4096
/* on_event's answer at the bound: libbpf stops there, the event counted as read. */
#define PKS_ENGINE_YIELD (-EINPROGRESS)
/*
 * pks_events' records handled between two looks at pks_ctlevents. A batch of
 * a flood's events takes milliseconds (4096 of them, each through the rules
 * and the flow lifecycle), and a DNS answer's copy that comes meanwhile must
 * not wait for its end: the client's connection follows the answer by less
 * than that. A look at an empty ring reads its two positions, no system call.
 */
#define PKS_ENGINE_CTL_EVERY 32

uint64_t pks_engine_now(const struct pks_engine *e)
{
	return e->now;
}

void pks_engine_count_malformed(struct pks_engine *e)
{
	e->st.malformed++;
}

const struct pks_engine_stats *pks_engine_stats(const struct pks_engine *e)
{
	return &e->st;
}

void pks_addr_v4mapped(uint8_t out[16], uint32_t ipv4_be)
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, &ipv4_be, 4);
}

bool pks_addr_is_v4(const uint8_t a[16])
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return !memcmp(a, prefix, sizeof(prefix));
}

void pks_addr_str(const uint8_t a[16], char *buf, size_t len)
{
	if (pks_addr_is_v4(a))
		inet_ntop(AF_INET, a + 12, buf, len);
	else
		inet_ntop(AF_INET6, a, buf, len);
}

/* --- The application list ------------------------------------------------ */

static int app_id_for(struct pks_engine *e, const char *name)
{
	for (size_t i = 0; i < e->n_app_names; i++)
		if (!strcmp(e->app_names[i], name))
			return (int)i + 1;
	if (e->n_app_names >= PKS_APPS_MAX)
		return -ENOSPC;
	snprintf(e->app_names[e->n_app_names], PKS_APP_LEN, "%s", name);
	return (int)++e->n_app_names;
}

/*
 * Reads "SUFFIX APP" lines (# comments, blank lines ignored). A suffix
 * matches a name equal to it or ending in it at a label boundary, with or
 * without its leading dot.
 */
static int apps_load(struct pks_engine *e, const char *path)
{
	struct pks_text t;
	char err[1024], *line;
	int ret = 0;

	ret = pks_text_open(path, "an application list", &t, err, sizeof(err));
	if (ret)
		return pks_fail("%s", err), ret;
	e->apps = calloc(PKS_APPS_MAX, sizeof(*e->apps));
	e->app_names = calloc(PKS_APPS_MAX, sizeof(*e->app_names));
	if (!e->apps || !e->app_names) {
		pks_text_free(&t);
		return -ENOMEM;
	}
	while ((line = pks_text_line(&t))) {
		char suffix[PKS_NAME_LEN], app[PKS_APP_LEN];
		int id, r = pks_apps_line(line, path, t.lineno, suffix, app, err, sizeof(err));

		if (r < 0) {
			pks_fail("%s", err);
			ret = -EINVAL;
			break;
		}
		if (r == 0)
			continue;
		if (e->n_apps >= PKS_APPS_MAX) {
			pks_fail("%s: more than %d entries", path, PKS_APPS_MAX);
			ret = -E2BIG;
			break;
		}
		id = app_id_for(e, app);
		if (id < 0) {
			ret = id;
			break;
		}
		for (char *c = suffix; *c; c++)
			*c = tolower((unsigned char)*c);
		snprintf(e->apps[e->n_apps].suffix, PKS_NAME_LEN, "%s%.*s", suffix[0] == '.' ? "" : ".", PKS_NAME_LEN - 2,
			 suffix);
		e->apps[e->n_apps].id = id;
		e->n_apps++;
	}
	pks_text_free(&t);
	return ret;
}

uint16_t pks_engine_app(const struct pks_engine *e, const char *host, const char **name)
{
	char low[PKS_NAME_LEN + 1];
	size_t hl, best_len = 0;
	uint16_t best = 0;

	if (name)
		*name = NULL;
	if (!host || !e->n_apps)
		return 0;
	/* "." + host, lower case, so that ".youtube.com" matches "youtube.com" too. */
	low[0] = '.';
	for (hl = 0; host[hl] && hl < PKS_NAME_LEN - 1; hl++)
		low[hl + 1] = tolower((unsigned char)host[hl]);
	low[hl + 1] = 0;
	hl++;
	if (hl > 1 && low[hl - 1] == '.') /* a fully qualified "name." */
		low[--hl] = 0;
	for (size_t i = 0; i < e->n_apps; i++) {
		size_t sl = strlen(e->apps[i].suffix);

		if (sl <= hl && sl > best_len && !strcmp(low + hl - sl, e->apps[i].suffix)) {
			best = e->apps[i].id;
			best_len = sl;
		}
	}
	if (best && name)
		*name = e->app_names[best - 1];
	return best;
}

const char *pks_engine_app_name(const struct pks_engine *e, uint16_t id)
{
	return id && id <= e->n_app_names ? e->app_names[id - 1] : NULL;
}

/* --- Writing results ------------------------------------------------------ */

static int map_write(struct pks_engine *e, int fd, const void *k, const void *v)
{
	if (bpf_map_update_elem(fd, k, v, BPF_ANY)) {
		e->st.map_errors++;
		return -errno;
	}
	return 0;
}

/*
 * pks_ctl (include/pktspec/events.h): which engine reads the events, and how
 * long the engine's expectations live. Only this engine writes those fields.
 */
static void ctl_update(struct pks_engine *e, bool consumer, uint64_t expect_until)
{
	__u32 slot = PKS_CTL_ENGINE;
	struct pks_ctl c;

	if (e->maps.ctl <= 0 || bpf_map_lookup_elem(e->maps.ctl, &slot, &c))
		return;
	if (consumer)
		c.consumer = getpid();
	else if (c.consumer == (__u64)getpid())
		c.consumer = 0;
	if (expect_until > c.expect_until)
		c.expect_until = expect_until;
	bpf_map_update_elem(e->maps.ctl, &slot, &c, BPF_ANY);
}

static void ctl_expect_until(struct pks_engine *e, uint64_t until)
{
	ctl_update(e, true, until);
}

/*
 * Raises pks_ctl's servers_until or hosts_until (the field at off) to until,
 * before an entry that expires then is written: the kernel looks a table up
 * only while its field is in the future. *seen: the highest this engine has
 * written, so that a refreshed entry costs no system call.
 */
static void ctl_table_until(struct pks_engine *e, size_t off, uint64_t *seen, uint64_t until)
{
	__u32 slot = PKS_CTL_ENGINE;
	struct pks_ctl c;
	__u64 field;

	if (until <= *seen || e->maps.ctl <= 0 || bpf_map_lookup_elem(e->maps.ctl, &slot, &c))
		return;
	memcpy(&field, (char *)&c + off, sizeof(field));
	if (until > field) {
		memcpy((char *)&c + off, &until, sizeof(until));
		if (bpf_map_update_elem(e->maps.ctl, &slot, &c, BPF_ANY))
			return;
	}
	*seen = until;
}

static int gate_element_raise(int gate_fd, __u32 i, __u32 u)
{
	__u32 cur = 0;

	if (bpf_map_lookup_elem(gate_fd, &i, &cur))
		return -errno;
	if (cur < u && bpf_map_update_elem(gate_fd, &i, &u, BPF_ANY))
		return -errno;
	return 0;
}

int pks_expect_gate_raise(int gate_fd, const struct pks_expect_key *k, uint64_t expires_ns)
{
	__u32 slot = pks_expect_gate_slot(k), u = pks_expect_gate_until(expires_ns);
	int err = gate_element_raise(gate_fd, pks_expect_gate_l1_index(slot, PKS_CTL_ENGINE), u);

	return err ? err : gate_element_raise(gate_fd, pks_expect_gate_index(slot, PKS_CTL_ENGINE), u);
}

static int expect_gate_raise(struct pks_engine *e, const struct pks_expect_key *k, uint64_t expires_ns)
{
	int err = e->maps.expect_gate > 0 ? pks_expect_gate_raise(e->maps.expect_gate, k, expires_ns) : 0;

	if (err)
		e->st.map_errors++;
	return err;
}

int pks_engine_expect(struct pks_engine *e, const struct pks_flow_key *fk, const struct pks_expect_key *k,
		      uint8_t proto, uint16_t rule, uint64_t ttl_ns, uint8_t flags)
{
	struct pks_expect v = {};
	struct pks_expect_key key = *k;
	int err;

	memset(key.pad, 0, sizeof(key.pad));
	pks_scope_of_key(&key.scope, fk);
	if (!key.listen_port)
		return -EINVAL;
	v.expires_ns = e->now + (ttl_ns ? ttl_ns : e->opts.expect_ttl_ns);
	v.proto = proto;
	v.rule = rule;
	v.flags = flags;
	/* Before the entry: XDP must not skip pks_expect once the entry is there. */
	ctl_expect_until(e, v.expires_ns);
	err = expect_gate_raise(e, &key, v.expires_ns);
	if (!err)
		err = map_write(e, e->maps.expect, &key, &v);
	if (!err)
		e->st.expects++;
	if (!err && pks_verbose) {
		char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

		pks_addr_str(key.listen_addr, a, sizeof(a));
		pks_addr_str(key.peer_addr, b, sizeof(b));
		fprintf(stderr, "pktspec: expect %s %s port %u from %s port %u (%s)\n", pks_proto_name(proto), a,
			key.listen_port, b, key.peer_port, pks_rule_name(rule));
	}
	return err;
}

int pks_engine_unexpect(struct pks_engine *e, const struct pks_expect_key *k)
{
	struct pks_expect_key key = *k;

	memset(key.pad, 0, sizeof(key.pad));
	if (bpf_map_delete_elem(e->maps.expect, &key) && errno != ENOENT)
		return -errno;
	return 0;
}

/*
 * A DNS TTL of 0 (dnsmasq's default for local names) means "do not cache",
 * yet the client connects right after: names live at least this long.
 */
#define PKS_HOST_TTL_MIN_S 10
#define PKS_HOST_TTL_MAX_S (7 * 86400)

/* The pks_hosts key of an address in flow fk's tunnel. */
static void host_key(struct pks_host_key *k, const struct pks_flow_key *fk, const uint8_t addr[16])
{
	memcpy(k->addr, addr, 16);
	pks_scope_of_key(&k->scope, fk);
}

int pks_engine_host(struct pks_engine *e, const struct pks_flow_key *fk, const uint8_t addr[16], const char *name,
		    uint32_t ttl_s, uint16_t app)
{
	struct pks_host_key k;
	struct pks_host v = {};
	int err;

	if (ttl_s < PKS_HOST_TTL_MIN_S)
		ttl_s = PKS_HOST_TTL_MIN_S;
	if (ttl_s > PKS_HOST_TTL_MAX_S)
		ttl_s = PKS_HOST_TTL_MAX_S;
	host_key(&k, fk, addr);
	v.expires_ns = e->now + (uint64_t)ttl_s * 1000000000ull;
	snprintf(v.name, sizeof(v.name), "%s", name);
	v.app = app ? app : pks_engine_app(e, name, NULL);
	ctl_table_until(e, offsetof(struct pks_ctl, hosts_until), &e->hosts_until, v.expires_ns);
	pks_filter_part_until(&e->fhosts, PKS_FILTER_SLOT_OF(&k), v.expires_ns);
	err = map_write(e, e->maps.hosts, &k, &v);
	if (!err)
		e->st.hosts++;
	return err;
}

int pks_engine_host_get(struct pks_engine *e, const struct pks_flow_key *fk, const uint8_t addr[16],
			struct pks_host *out)
{
	struct pks_host_key k;

	host_key(&k, fk, addr);
	if (bpf_map_lookup_elem(e->maps.hosts, &k, out))
		return -ENOENT;
	if (out->expires_ns <= e->now)
		return -ENOENT;
	out->name[sizeof(out->name) - 1] = 0;
	return 0;
}

/*
 * The flow's app: the list's answer for its host, else for its DNS name,
 * else the one the DNS rule found along the CNAME chain (hint).
 */
static void name_set_app(struct pks_engine *e, struct pks_flow_name *v, uint16_t hint)
{
	const char *app = NULL;
	uint16_t id = pks_engine_app(e, v->host, &app);

	if (!id && v->dns_host[0])
		id = pks_engine_app(e, v->dns_host, &app);
	if (!id && hint) {
		id = hint;
		app = pks_engine_app_name(e, hint);
	} else if (!id && v->app_id) {
		id = v->app_id; /* keep what an earlier name gave */
		app = pks_engine_app_name(e, id);
	}
	v->app_id = id;
	snprintf(v->app, sizeof(v->app), "%s", app ? app : "");
}

/* The server endpoint of a flow in the kernel table; -ENOENT when it is gone. */
static int flow_server(struct pks_engine *e, const struct pks_flow_key *k, struct pks_server_key *sk)
{
	struct pks_flow f;
	int b_is_server;

	if (pks_flowtab_get_raw(&e->flows, k, &f))
		return -ENOENT;
	b_is_server = pks_flow_client(&f) == PKS_SIDE_A;
	memset(sk, 0, sizeof(*sk));
	memcpy(sk->addr, b_is_server ? k->addr_b : k->addr_a, 16);
	sk->port = b_is_server ? k->port_b : k->port_a;
	sk->l4 = k->l4;
	pks_scope_of_key(&sk->scope, k);
	return 0;
}

/*
 * What a name taught reaches policy: the app goes into the flow's kernel
 * entry (pks_flow.app, which the tc program reads from the next packet on),
 * and into the memory of its server when there is one, so that the next flow
 * to that endpoint has it from its first packet (bpf/context/flow_new.h).
 */
static void flow_app_write_back(struct pks_engine *e, const struct pks_flow_key *k, uint16_t app, int user_proto)
{
	struct pks_server_key sk;
	struct pks_server sv;
	int r;

	if ((!app && user_proto < 0) || e->flows.fd4 < 0 || e->flows.fd6 < 0)
		return;
	r = pks_flowtab_set_app(&e->flows, k, app, user_proto);
	if (r > 0)
		e->st.apps++;
	else if (r < 0 && r != -ENOENT)
		e->st.map_errors++;
	if (!app || e->maps.servers < 0 || flow_server(e, k, &sk))
		return;
	if (bpf_map_lookup_elem(e->maps.servers, &sk, &sv) || sv.app == app)
		return;
	sv.app = app;
	/* BPF_EXIST: only a memory a confirmed flow made; a name alone makes none. */
	if (bpf_map_update_elem(e->maps.servers, &sk, &sv, BPF_EXIST) == 0)
		e->st.apps++;
}

/* Rereads the live table of the operator's host-name rules when a load changed them. */
static void op_hosts_refresh(struct pks_engine *e)
{
	struct pks_op_state st;
	struct pks_op_host_key k, next;
	void *prev = NULL;
	__u32 zero = 0, live;

	if (e->maps.opstate <= 0 || e->maps.ophosts <= 0 || bpf_map_lookup_elem(e->maps.opstate, &zero, &st))
		return;
	if (e->op_read && st.gen == e->op_gen)
		return;
	if (!e->ophosts && !(e->ophosts = calloc(PKS_OPHOSTS_MAX, sizeof(*e->ophosts))))
		return;
	live = st.live & 1;
	e->n_ophosts = 0;
	while (bpf_map_get_next_key(e->maps.ophosts, prev, &next) == 0 && e->n_ophosts < PKS_OPHOSTS_MAX) {
		struct op_host *h = &e->ophosts[e->n_ophosts];

		k = next;
		prev = &k;
		if (k.table != live || bpf_map_lookup_elem(e->maps.ophosts, &k, &h->v))
			continue;
		memcpy(h->suffix, k.suffix, sizeof(h->suffix));
		h->suffix[sizeof(h->suffix) - 1] = 0;
		e->n_ophosts++;
	}
	e->op_gen = st.gen;
	e->op_read = true;
}

/* The operator's rule for a host name (longest suffix wins), or NULL. */
static const struct pks_op_host *op_host_find(struct pks_engine *e, const char *host)
{
	char low[PKS_NAME_LEN + 1];
	const struct pks_op_host *best = NULL;
	size_t hl, best_len = 0;

	if (!host[0])
		return NULL;
	low[0] = '.';
	for (hl = 0; host[hl] && hl < PKS_NAME_LEN - 1; hl++)
		low[hl + 1] = tolower((unsigned char)host[hl]);
	hl++;
	low[hl] = 0;
	for (size_t i = 0; i < e->n_ophosts; i++) {
		size_t sl = strlen(e->ophosts[i].suffix);

		if (sl <= hl && sl > best_len && !strcmp(low + hl - sl, e->ophosts[i].suffix)) {
			best = &e->ophosts[i].v;
			best_len = sl;
		}
	}
	return best;
}

/*
 * The operator's host-name rules override the app list: the app goes where
 * the list's would; returns the rule's protocol, or -1.
 */
static int op_host_apply(struct pks_engine *e, struct pks_flow_name *v)
{
	const struct pks_op_host *r;
	const char *app;

	op_hosts_refresh(e);
	if (!e->n_ophosts)
		return -1;
	r = op_host_find(e, v->host);
	if (!r)
		r = op_host_find(e, v->dns_host);
	if (!r)
		return -1;
	if (r->flags & PKS_OPR_APP) {
		v->app_id = r->app;
		app = pks_engine_app_name(e, r->app);
		snprintf(v->app, sizeof(v->app), "%s", app ? app : "");
	}
	return (r->flags & PKS_OPR_PROTO) ? r->proto : -1;
}

static int name_update_hint(struct pks_engine *e, const struct pks_flow_key *k, struct pks_flow_name *v,
			    uint16_t hint)
{
	int err, user_proto;

	v->updated_ns = e->now;
	name_set_app(e, v, hint);
	user_proto = op_host_apply(e, v);
	err = map_write(e, e->maps.names, k, v);
	if (!err) {
		e->st.names++;
		if (e->opts.on_context)
			e->opts.on_context(e->opts.on_context_ctx, k);
	}
	flow_app_write_back(e, k, v->app_id, user_proto);
	return err;
}

static int name_update(struct pks_engine *e, const struct pks_flow_key *k, struct pks_flow_name *v)
{
	return name_update_hint(e, k, v, 0);
}

static void name_get(struct pks_engine *e, const struct pks_flow_key *k, struct pks_flow_name *v)
{
	if (bpf_map_lookup_elem(e->maps.names, k, v))
		memset(v, 0, sizeof(*v));
}

int pks_engine_flow_name(struct pks_engine *e, const struct pks_flow_key *k, const char *host,
			 enum pks_name_source source)
{
	return pks_engine_flow_name_app(e, k, host, source, 0);
}

int pks_engine_flow_name_app(struct pks_engine *e, const struct pks_flow_key *k, const char *host,
			     enum pks_name_source source, uint16_t app)
{
	struct pks_flow_name v;

	if (!host || !*host)
		return -EINVAL;
	name_get(e, k, &v);
	if (source == PKS_NAME_DNS) {
		snprintf(v.dns_host, sizeof(v.dns_host), "%s", host);
		if (v.source != PKS_NAME_NONE && v.source != PKS_NAME_DNS)
			return name_update_hint(e, k, &v, app); /* what the flow itself said stays its host */
	} else if (v.source == PKS_NAME_DNS && !v.dns_host[0]) {
		snprintf(v.dns_host, sizeof(v.dns_host), "%s", v.host);
	}
	snprintf(v.host, sizeof(v.host), "%s", host);
	v.source = source;
	return name_update_hint(e, k, &v, app);
}

int pks_engine_flow_tls(struct pks_engine *e, const struct pks_flow_key *k, const char *alpn, uint16_t version)
{
	struct pks_flow_name v;

	name_get(e, k, &v);
	if (alpn)
		snprintf(v.alpn, sizeof(v.alpn), "%s", alpn);
	if (version)
		v.tls_version = version;
	return name_update(e, k, &v);
}

int pks_engine_flow_agent(struct pks_engine *e, const struct pks_flow_key *k, const char *agent)
{
	struct pks_flow_name v;

	if (!agent)
		return -EINVAL;
	name_get(e, k, &v);
	snprintf(v.agent, sizeof(v.agent), "%s", agent);
	return name_update(e, k, &v);
}

int pks_engine_done(struct pks_engine *e, const struct pks_flow_key *k, uint8_t first8)
{
	__u8 mark = first8;
	int err = map_write(e, e->maps.done, k, &mark);

	if (!err && e->opts.on_context)
		e->opts.on_context(e->opts.on_context_ctx, k);
	return err;
}

int pks_engine_remember(struct pks_engine *e, const struct pks_flow_key *fk, const uint8_t addr[16], uint16_t port,
			uint8_t l4, uint8_t proto, uint16_t rule)
{
	struct pks_server_key k = {};
	struct pks_server v = {};
	struct pks_flow_name n;
	int err;

	memcpy(k.addr, addr, 16);
	k.port = port;
	k.l4 = l4;
	if (fk)
		pks_scope_of_key(&k.scope, fk);
	v.expires_ns = e->now + e->opts.server_ttl_ns;
	v.proto = proto;
	v.rule = rule;
	if (fk) {
		name_get(e, fk, &n);
		v.app = n.app_id;
	}
	ctl_table_until(e, offsetof(struct pks_ctl, servers_until), &e->servers_until, v.expires_ns);
	pks_filter_part_until(&e->fservers, PKS_FILTER_SLOT_OF(&k), v.expires_ns);
	err = map_write(e, e->maps.servers, &k, &v);
	if (!err)
		e->st.remembered++;
	return err;
}

/* --- Events --------------------------------------------------------------- */

/* An event's time as nanoseconds since the epoch (live events carry CLOCK_MONOTONIC). */
static uint64_t event_time(const struct pks_engine *e, uint64_t ns)
{
	return pks_epoch_ns(ns, e->opts.clock == PKS_ENGINE_REPLAY ? PKS_CLOCK_REALTIME : PKS_CLOCK_MONOTONIC);
}

/* lookup: whether pks_names may hold the flow's name (pks_flow_context_possible). */
static void print_event(struct pks_engine *e, const struct pks_ctx_event *c, bool lookup)
{
	const struct pks_event *h = c->hdr;
	char cl[INET6_ADDRSTRLEN], sv[INET6_ADDRSTRLEN];
	struct pks_flow_name n;
	FILE *out = e->opts.out ? e->opts.out : stdout;
	const char *l4 = pks_l4_name(h->key.l4);
	bool named;

	pks_addr_str(c->client_addr, cl, sizeof(cl));
	pks_addr_str(c->server_addr, sv, sizeof(sv));
	named = lookup && bpf_map_lookup_elem(e->maps.names, &h->key, &n) == 0 && n.host[0];
	if (e->opts.json) {
		uint64_t t = event_time(e, h->ts_ns); /* once: PKS_SEC6 reads its argument twice */

		fprintf(out,
			"{\"event\":\"%s\",\"time\":" PKS_SEC6_FMT ",\"l4\":\"%s\",\"client\":\"%s\",\"client_port\":%u,"
			"\"server\":\"%s\",\"server_port\":%u,\"proto\":\"%s\",\"confidence\":\"%s\",\"rule\":\"%s\","
			"\"old_proto\":\"%s\",\"old_confidence\":\"%s\",\"at_first_packet\":%s",
			h->type == PKS_EV_FLOW ? "flow" : "verdict", PKS_SEC6(t), l4, cl, c->client_port, sv,
			c->server_port, pks_proto_name(h->proto), pks_confidence_name(h->confidence),
			pks_rule_name(h->rule), pks_proto_name(h->old_proto), pks_confidence_name(h->old_confidence),
			(h->ctx & PKS_X_AT_FIRST) ? "true" : "false");
		if (named)
			fprintf(out, ",\"host\":\"%s\"", n.host);
		if (named && n.app[0])
			fprintf(out, ",\"app\":\"%s\"", n.app);
		/* The same tunnel fields as `flows --json` and the end records. */
		if (h->key.encap)
			fprintf(out, ",\"tunnel\":\"%s\",\"tunnel_id\":%u,\"tunnel_depth\":%u",
				pks_encap_name(h->key.encap), h->key.tunnel_id, h->key.depth);
		fprintf(out, "}\n");
	} else {
		fprintf(out, "%-7s %s %s:%u -> %s:%u %s/%s (%s)%s%s%s%s", h->type == PKS_EV_FLOW ? "flow" : "verdict", l4,
			cl, c->client_port, sv, c->server_port, pks_proto_name(h->proto),
			pks_confidence_name(h->confidence), pks_rule_name(h->rule), named ? " host=" : "",
			named ? n.host : "", named && n.app[0] ? " app=" : "", named ? n.app : "");
		if (h->key.encap)
			fprintf(out, " in %s %u", pks_encap_name(h->key.encap), h->key.tunnel_id);
		fprintf(out, "\n");
	}
}

static void tick(struct pks_engine *e)
{
	/* About once a second of flow clock; the clock may jump in a replay. */
	if (e->now < e->last_tick + 1000000000ull && e->now >= e->last_tick)
		return;
	e->last_tick = e->now;
	pks_filter_part_sweep(&e->fservers, e->now);
	pks_filter_part_sweep(&e->fhosts, e->now);
	for (struct pks_ctx_rule *r = rules; r; r = r->next)
		if (r->tick)
			r->tick(e, r->state, e->now);
}

static void handle_event(struct pks_engine *e, void *data, size_t size)
{
	const struct pks_event *h = data;
	struct pks_ctx_event c = {};
	int a_is_client;

	e->st.events++;
	if (size < sizeof(*h))
		return;
	c.hdr = h;
	if (h->type == PKS_EV_PAYLOAD) {
		c.data = (const uint8_t *)data + sizeof(*h);
		c.len = h->caplen;
		if (c.len > size - sizeof(*h))
			c.len = size - sizeof(*h);
		e->st.payloads++;
	} else if (h->type == PKS_EV_FLOW) {
		e->st.flows++;
	} else if (h->type == PKS_EV_VERDICT) {
		e->st.verdicts++;
	} else {
		return;
	}
	a_is_client = h->client == PKS_SIDE_A;
	c.client_addr = a_is_client ? h->key.addr_a : h->key.addr_b;
	c.server_addr = a_is_client ? h->key.addr_b : h->key.addr_a;
	c.client_port = a_is_client ? h->key.port_a : h->key.port_b;
	c.server_port = a_is_client ? h->key.port_b : h->key.port_a;
	if (h->type == PKS_EV_PAYLOAD && h->dir == PKS_DIR_S2C) {
		c.src_addr = c.server_addr;
		c.dst_addr = c.client_addr;
		c.src_port = c.server_port;
		c.dst_port = c.client_port;
	} else {
		c.src_addr = c.client_addr;
		c.dst_addr = c.server_addr;
		c.src_port = c.client_port;
		c.dst_port = c.server_port;
	}
	if (h->ts_ns > e->now)
		e->now = h->ts_ns;
	c.now = e->now;
	for (struct pks_ctx_rule *r = rules; r; r = r->next)
		r->event(e, r->state, &c);
	if (e->opts.print && h->type != PKS_EV_PAYLOAD) {
		const struct pks_event_flow *ef = data;

		/* The rules ran first: a name written for this event is in. A short record: look anyway. */
		print_event(e, &c,
			    size < sizeof(*ef) || pks_flow_context_possible(ef->flow.ctx, ef->flow.copied));
	}
	if (e->opts.on_flow && h->type != PKS_EV_PAYLOAD && size >= sizeof(struct pks_event_flow))
		e->opts.on_flow(e->opts.on_flow_ctx, data);
	tick(e);
}

/* A record of either ring, read by pks_engine_poll: handled, and counted in its batch. */
static int on_event(void *ctx, void *data, size_t size)
{
	struct pks_engine *e = ctx;

	handle_event(e, data, size);
	return --e->batch_left ? 0 : PKS_ENGINE_YIELD;
}

/* A record of pks_ctlevents read between lazy records: all of them, at once. */
static int on_ctl_between(void *ctx, void *data, size_t size)
{
	handle_event(ctx, data, size);
	return 0;
}

/*
 * A record of pks_events (flows, verdicts, first messages' copies); every
 * PKS_ENGINE_CTL_EVERY of them, what pks_ctlevents holds by then is handled
 * before the next. (The two readers of pks_ctlevents share its consumer
 * position, in the page the kernel maps to both, and never run at once.)
 */
static int on_lazy_event(void *ctx, void *data, size_t size)
{
	struct pks_engine *e = ctx;
	int ret = on_event(ctx, data, size);

	if (!--e->lazy_left) {
		e->lazy_left = PKS_ENGINE_CTL_EVERY;
		ring_buffer__consume(e->ctl); /* on_ctl_between fails nothing */
	}
	return ret;
}

/* The filter's parts for pks_servers and pks_hosts, with the entries an earlier daemon left there. */
static int filters_open(struct pks_engine *e)
{
	int fd = e->maps.filter > 0 ? e->maps.filter : -1, err;

	err = pks_filter_part_open(&e->fservers, fd, PKS_FILTER_SERVERS, false, e->maps.servers > 0 ? e->maps.servers : -1,
				   sizeof(struct pks_server_key), e->now);
	if (!err)
		err = pks_filter_part_open(&e->fhosts, fd, PKS_FILTER_HOSTS, false, e->maps.hosts > 0 ? e->maps.hosts : -1,
					   sizeof(struct pks_host_key), e->now);
	if (err)
		pks_fail("cannot map the lookup filter (%s): %s", PKS_MAP_FILTER, strerror(-err));
	return err;
}

int pks_engine_new(const struct pks_engine_maps *maps, const struct pks_engine_opts *o, struct pks_engine **out)
{
	struct pks_engine *e = calloc(1, sizeof(*e));
	int err;

	*out = NULL;
	if (!e)
		return -ENOMEM;
	e->maps = *maps;
	e->opts = *o;
	pks_flowtab_init(&e->flows);
	e->flows.fd4 = maps->flows4;
	e->flows.fd6 = maps->flows;
	err = pks_flowtab_use_ways(&e->flows, maps->ways4);
	if (err)
		goto fail;
	if (!e->opts.server_ttl_ns)
		e->opts.server_ttl_ns = PKS_SERVER_TTL_DEFAULT;
	if (!e->opts.expect_ttl_ns)
		e->opts.expect_ttl_ns = PKS_EXPECT_TTL_DEFAULT;
	if (o->apps_path) {
		err = apps_load(e, o->apps_path);
		if (err)
			goto fail;
	}
	err = filters_open(e);
	if (err)
		goto fail;
	/*
	 * One reader over both rings, the control channels' first: libbpf
	 * consumes them in the order they were added. A second reader of
	 * pks_ctlevents alone takes what comes there while a batch of
	 * pks_events is being read (on_lazy_event): a DNS answer's copy waits
	 * behind at most PKS_ENGINE_CTL_EVERY of a flood's events.
	 */
	e->rb = ring_buffer__new(maps->ctlevents, on_event, e, NULL);
	if (e->rb && ring_buffer__add(e->rb, maps->events, on_lazy_event, e)) {
		ring_buffer__free(e->rb);
		e->rb = NULL;
	}
	if (e->rb)
		e->ctl = ring_buffer__new(maps->ctlevents, on_ctl_between, e, NULL);
	if (!e->rb || !e->ctl) {
		err = -errno;
		pks_fail("cannot open the event ring buffers: %s", strerror(errno));
		goto fail;
	}
	for (struct pks_ctx_rule *r = rules; r; r = r->next) {
		r->state = NULL;
		if (r->init && (err = r->init(e, &r->state))) {
			pks_fail("context rule %s: cannot start: %s", r->name, strerror(-err));
			goto fail;
		}
	}
	e->rules_started = true;
	ctl_update(e, true, 0);
	*out = e;
	return 0;
fail:
	pks_engine_free(e);
	return err;
}

void pks_engine_free(struct pks_engine *e)
{
	if (!e)
		return;
	if (e->rules_started)
		ctl_update(e, false, 0);
	for (struct pks_ctx_rule *r = rules; r; r = r->next) {
		if (e->rules_started && r->fini)
			r->fini(e, r->state);
		r->state = NULL;
	}
	ring_buffer__free(e->rb);
	ring_buffer__free(e->ctl);
	pks_filter_part_close(&e->fservers);
	pks_filter_part_close(&e->fhosts);
	pks_flowtab_close(&e->flows);
	free(e->apps);
	free(e->app_names);
	free(e->ophosts);
	free(e);
}

int pks_engine_poll(struct pks_engine *e, int timeout_ms)
{
	int n;

	e->batch_left = PKS_ENGINE_BATCH;
	e->lazy_left = PKS_ENGINE_CTL_EVERY;
	n = timeout_ms ? ring_buffer__poll(e->rb, timeout_ms) : ring_buffer__consume(e->rb);
	return n == PKS_ENGINE_YIELD ? PKS_ENGINE_BATCH : n;
}

int pks_engine_poll_ctl(struct pks_engine *e)
{
	return ring_buffer__consume(e->ctl);
}

int pks_engine_fd(struct pks_engine *e)
{
	return ring_buffer__epoll_fd(e->rb);
}

int pks_ctx_stats_read(int fd, struct pks_ctx_stats *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct pks_ctx_stats *per;
	__u32 zero = 0;
	int err = 0;

	if (ncpu <= 0)
		return -EINVAL;
	per = calloc(ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(fd, &zero, per) == 0) {
		for (size_t f = 0; f < sizeof(*sum) / 8; f++)
			for (int c = 0; c < ncpu; c++)
				((__u64 *)sum)[f] += ((__u64 *)&per[c])[f];
	} else {
		err = -errno;
	}
	free(per);
	return err;
}
