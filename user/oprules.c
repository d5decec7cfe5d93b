// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * pktspec rules: the operator's own rules (include/pktspec/oprules.h,
 * doc/context.md "Operator rules"). One rule per line of a file, the same
 * words `rules list` prints:
 *
 *   [addr PREFIX] [tcp|udp] [port N[-M]] ACTION...     server address rules
 *   host SUFFIX ACTION...                              host-name rules
 *   ACTION  proto NAME | app APP
 *
 * `rules load` validates the whole file before anything is written, then
 * fills the table that is not live and flips the live index; a bad file
 * changes nothing.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "pktspec.h"
#include "pktspec/oprules.h"

#define OP_TOKENS_MAX 16
#define OP_RULES_MAX (PKS_OPRULES_MAX / 2)

static int parse_prefix(const char *s, struct pks_op_rule *r)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	unsigned long len;
	__u8 a4[4];
	int max;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	memset(r->addr, 0, 16);
	if (inet_pton(AF_INET, buf, a4) == 1) {
		r->addr[10] = r->addr[11] = 0xff;
		memcpy(r->addr + 12, a4, 4);
		max = 32;
	} else if (inet_pton(AF_INET6, buf, r->addr) == 1) {
		max = 128;
	} else {
		return -1;
	}
	if (slash && pks_parse_uint(slash, max, &len))
		return -1;
	if (!slash)
		len = max;
	r->bits = (max == 32 ? 96 : 0) + len;
	/* Bits past the prefix are not part of it. */
	for (int b = r->bits; b < 128; b++)
		r->addr[b / 8] &= ~(0x80 >> (b % 8));
	r->has_addr = 1;
	return 0;
}

static int parse_ports(const char *s, struct pks_op_rule *r)
{
	char buf[16], *dash;
	unsigned long lo, hi;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash)
		*dash++ = 0;
	if (pks_parse_uint(buf, 65535, &lo) || lo == 0)
		return -1;
	hi = lo;
	if (dash && (pks_parse_uint(dash, 65535, &hi) || hi < lo))
		return -1;
	r->lo = lo;
	r->hi = hi;
	return 0;
}

/* A host-name suffix: "corp.example", ".corp.example" or "*.corp.example"; DNS characters only. */
static int parse_host(const char *s, struct pks_op_rule *r)
{
	if (!strncmp(s, "*.", 2))
		s++;
	if (*s == '.')
		s++;
	if (!*s || strlen(s) + 2 > sizeof(r->host))
		return -1;
	for (const char *c = s; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '.' && *c != '_')
			return -1;
	r->host[0] = '.';
	for (size_t i = 0; s[i]; i++)
		r->host[i + 1] = tolower((unsigned char)s[i]);
	r->host[strlen(s) + 1] = 0;
	return 0;
}

static int parse_rule(int n, char **tok, struct pks_op_rule *r, char *err, size_t errlen)
{
	bool has_port = false;

	memset(r, 0, sizeof(*r));
	r->lo = 1;
	r->hi = 65535;
	for (int i = 0; i < n; i++) {
		const char *w = tok[i], *arg = i + 1 < n ? tok[i + 1] : NULL;

		if (!strcmp(w, "tcp") || !strcmp(w, "udp")) {
			if (r->l4)
				return snprintf(err, errlen, "more than one of tcp and udp"), -1;
			r->l4 = w[0] == 't' ? IPPROTO_TCP : IPPROTO_UDP;
			continue;
		}
		if (strcmp(w, "addr") && strcmp(w, "port") && strcmp(w, "host") && strcmp(w, "proto") &&
		    strcmp(w, "app"))
			return snprintf(err, errlen, "unknown word '%s': addr, tcp, udp, port, host, proto or app",
					w), -1;
		if (!arg)
			return snprintf(err, errlen, "%s needs a value", w), -1;
		i++;
		if (!strcmp(w, "addr")) {
			if (r->has_addr)
				return snprintf(err, errlen, "more than one addr"), -1;
			if (parse_prefix(arg, r))
				return snprintf(err, errlen, "addr takes an IPv4 or IPv6 address or prefix, not '%s'",
						arg), -1;
		} else if (!strcmp(w, "port")) {
			if (has_port)
				return snprintf(err, errlen, "more than one port"), -1;
			if (parse_ports(arg, r))
				return snprintf(err, errlen, "port takes N or N-M within 1-65535, not '%s'", arg), -1;
			has_port = true;
		} else if (!strcmp(w, "host")) {
			if (r->host[0])
				return snprintf(err, errlen, "more than one host"), -1;
			if (parse_host(arg, r))
				return snprintf(err, errlen, "host takes a name suffix such as .corp.example, not '%s'",
						arg), -1;
		} else if (!strcmp(w, "proto")) {
			int p = pks_proto_by_name(arg);

			if (r->flags & PKS_OPR_PROTO)
				return snprintf(err, errlen, "more than one proto"), -1;
			if (p <= 0)
				return snprintf(err, errlen, "unknown protocol '%s' (see 'pktspec protocols')", arg), -1;
			r->proto = p;
			r->flags |= PKS_OPR_PROTO;
		} else {
			int a;

			if (r->flags & PKS_OPR_APP)
				return snprintf(err, errlen, "more than one app"), -1;
			a = pks_app_by_name(arg, err, errlen);
			if (a < 0)
				return -1;
			r->app = a;
			r->flags |= PKS_OPR_APP;
		}
	}
	if (!(r->flags & (PKS_OPR_PROTO | PKS_OPR_APP)))
		return snprintf(err, errlen, "a rule needs proto NAME or app APP"), -1;
	if (r->host[0] && (r->has_addr || r->l4 || has_port))
		return snprintf(err, errlen, "host rules take no addr, tcp, udp or port: they apply to named flows"),
		       -1;
	if (!r->host[0] && !r->has_addr && !r->l4 && !has_port)
		return snprintf(err, errlen, "a rule needs addr, tcp, udp, port or host"), -1;
	return 0;
}

int pks_oprules_parse_text(struct pks_text *t, const char *name, struct pks_op_rule **out, size_t *count, FILE *errs)
{
	struct pks_op_rule *rules = calloc(OP_RULES_MAX, sizeof(*rules));
	size_t n = 0;
	int bad = 0;
	char *line;

	*out = NULL;
	*count = 0;
	if (!rules)
		return -ENOMEM;
	while ((line = pks_text_line(t))) {
		char *tok[OP_TOKENS_MAX], err[256];
		int lineno = t->lineno, nt = pks_words(line, tok, OP_TOKENS_MAX);

		if (nt < 0) {
			fprintf(errs, "pktspec: %s:%d: more than %d words\n", name, lineno, OP_TOKENS_MAX);
			bad++;
			continue;
		}
		if (nt == 0)
			continue;
		if (n == OP_RULES_MAX) {
			fprintf(errs, "pktspec: %s:%d: more than %d rules\n", name, lineno, OP_RULES_MAX);
			bad++;
			continue;
		}
		if (parse_rule(nt, tok, &rules[n], err, sizeof(err))) {
			fprintf(errs, "pktspec: %s:%d: %s\n", name, lineno, err);
			bad++;
			continue;
		}
		rules[n++].line = lineno;
	}
	if (bad) {
		free(rules);
		return bad;
	}
	*out = rules;
	*count = n;
	return 0;
}

int pks_oprules_parse_file(FILE *in, const char *name, struct pks_op_rule **out, size_t *count, FILE *errs)
{
	struct pks_text t;
	char err[512];
	int e = pks_text_read(in, name, "a rules file", &t, err, sizeof(err));

	*out = NULL;
	*count = 0;
	if (e == -EINVAL || e == -EFBIG) {
		fprintf(errs, "pktspec: %s\n", err);
		return 1;
	}
	if (e)
		return e;
	e = pks_oprules_parse_text(&t, name, out, count, errs);
	pks_text_free(&t);
	return e;
}

/* Whether rule r's prefix holds the prefix (addr, bits). */
static bool prefix_holds(const struct pks_op_rule *r, const __u8 *addr, int bits)
{
	if (r->bits > bits)
		return false;
	for (int b = 0; b < r->bits; b++)
		if ((r->addr[b / 8] ^ addr[b / 8]) & (0x80 >> (b % 8)))
			return false;
	return true;
}

static int by_specificity(const void *a, const void *b)
{
	const struct pks_op_rule *x = *(const struct pks_op_rule *const *)a, *y = *(const struct pks_op_rule *const *)b;

	if (x->bits != y->bits)
		return y->bits - x->bits;
	return x->line - y->line;
}

/* The trie entry of prefix (l4, addr/bits): every rule that applies there, most specific first. */
static int build_entry(const struct pks_op_rule *rules, size_t n, const struct pks_op_rule *own, __u8 l4,
		       struct pks_op_entry *v, FILE *errs)
{
	const struct pks_op_rule *apply[PKS_OP_RANGES];
	int k = 0;

	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		const struct pks_op_rule *r = &rules[i];

		if (r->host[0] || (r->l4 && r->l4 != l4) || !prefix_holds(r, own->addr, own->bits))
			continue;
		if (k == PKS_OP_RANGES) {
			fprintf(errs, "pktspec: line %d: more than %d rules apply to its prefix (its own and wider ones)\n",
				own->line, PKS_OP_RANGES);
			return -E2BIG;
		}
		apply[k++] = r;
	}
	qsort(apply, k, sizeof(apply[0]), by_specificity);
	for (int i = 0; i < k; i++) {
		v->r[i].lo = apply[i]->lo;
		v->r[i].hi = apply[i]->hi;
		v->r[i].app = apply[i]->app;
		v->r[i].proto = apply[i]->proto;
		v->r[i].flags = PKS_OPR_USED | (apply[i]->flags & (PKS_OPR_PROTO | PKS_OPR_APP)) |
				(apply[i]->bits == own->bits ? PKS_OPR_OWN : 0);
		v->line[i] = apply[i]->line;
	}
	return 0;
}

static void op_key(struct pks_op_key *k, __u32 table, __u8 l4, const struct pks_op_rule *r)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = 16 + r->bits;
	k->table = table;
	k->l4 = l4;
	memcpy(k->addr, r->addr, 16);
}

/* Deletes the keys of one map whose table byte (at table_off) is table. */
static int clear_keys(int fd, size_t table_off, __u32 table)
{
	/* Room for either key type. */
	union {
		struct pks_op_key r;
		struct pks_op_host_key h;
	} k, next;
	void *prev = NULL;

	/* Deleting while walking: restart from the first key after each deletion. */
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		if (((const __u8 *)&k)[table_off] == table) {
			if (bpf_map_delete_elem(fd, &k) && errno != ENOENT)
				return -errno;
			prev = NULL;
			continue;
		}
		prev = &k;
	}
	return 0;
}

/* Deletes every entry of one table of both maps. */
static int clear_table(int rules_fd, int hosts_fd, __u32 table)
{
	int err = clear_keys(rules_fd, offsetof(struct pks_op_key, table), table);

	return err ? err : clear_keys(hosts_fd, offsetof(struct pks_op_host_key, table), table);
}

/* Whether a rule before rules[i] has its prefix and applies to l4 (the trie's lookup is not exact). */
static bool same_prefix_before(const struct pks_op_rule *rules, size_t i, __u8 l4)
{
	for (size_t j = 0; j < i; j++)
		if (!rules[j].host[0] && (!rules[j].l4 || rules[j].l4 == l4) && rules[j].bits == rules[i].bits &&
		    !memcmp(rules[j].addr, rules[i].addr, 16))
			return true;
	return false;
}

static int fill_table(int rules_fd, int hosts_fd, __u32 table, const struct pks_op_rule *rules, size_t n,
		      __u32 *entries, __u32 *hosts, FILE *errs)
{
	*entries = *hosts = 0;
	for (size_t i = 0; i < n; i++) {
		const struct pks_op_rule *r = &rules[i];

		if (r->host[0]) {
			struct pks_op_host_key hk = { .table = table };
			struct pks_op_host hv = { .app = r->app, .proto = r->proto, .flags = r->flags, .line = r->line };

			memcpy(hk.suffix, r->host, strlen(r->host));
			if (bpf_map_update_elem(hosts_fd, &hk, &hv, BPF_ANY))
				return -errno;
			(*hosts)++;
			continue;
		}
		for (__u8 l4 = IPPROTO_TCP; l4 <= IPPROTO_UDP; l4 += IPPROTO_UDP - IPPROTO_TCP) {
			struct pks_op_key k;
			struct pks_op_entry v;
			int err;

			if (r->l4 && r->l4 != l4)
				continue;
			if (same_prefix_before(rules, i, l4))
				continue; /* an earlier rule with the same prefix built the entry */
			op_key(&k, table, l4, r);
			err = build_entry(rules, n, r, l4, &v, errs);
			if (err)
				return err;
			if (bpf_map_update_elem(rules_fd, &k, &v, BPF_NOEXIST))
				return -errno;
			(*entries)++;
		}
	}
	return 0;
}

int pks_oprules_replace(int rules_fd, int state_fd, int hosts_fd, const struct pks_op_rule *rules, size_t n,
			FILE *errs)
{
	struct pks_op_state st = {};
	__u32 zero = 0, live, next, entries, hosts;
	int err;

	if (bpf_map_lookup_elem(state_fd, &zero, &st))
		return -errno;
	live = st.live & 1;
	next = !live;
	err = clear_table(rules_fd, hosts_fd, next);
	if (!err)
		err = fill_table(rules_fd, hosts_fd, next, rules, n, &entries, &hosts, errs);
	if (err) {
		clear_table(rules_fd, hosts_fd, next);
		return err;
	}
	st.live = next;
	st.count[next] = entries;
	st.hosts[next] = hosts;
	st.gen++;
	if (bpf_map_update_elem(state_fd, &zero, &st, BPF_ANY)) {
		err = -errno;
		clear_table(rules_fd, hosts_fd, next);
		return err;
	}
	/* The old table is no longer read: empty it. */
	st.count[live] = st.hosts[live] = 0;
	bpf_map_update_elem(state_fd, &zero, &st, BPF_ANY);
	return clear_table(rules_fd, hosts_fd, live);
}

/* --- list ------------------------------------------------------------------ */

static void format_rule(const struct pks_op_rule *r, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = 0;
	if (r->host[0]) {
		o += snprintf(buf + o, len - o, "host %s", r->host);
	} else {
		if (r->has_addr) {
			char a[INET6_ADDRSTRLEN];
			static const __u8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
			bool v4 = r->bits >= 96 && !memcmp(r->addr, mapped, sizeof(mapped));

			inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? r->addr + 12 : r->addr, a, sizeof(a));
			o += snprintf(buf + o, len - o, "addr %s/%d ", a, v4 ? r->bits - 96 : r->bits);
		}
		if (r->l4)
			o += snprintf(buf + o, len - o, "%s ", r->l4 == IPPROTO_TCP ? "tcp" : "udp");
		if (r->lo != 1 || r->hi != 65535)
			o += r->lo == r->hi ? snprintf(buf + o, len - o, "port %u ", r->lo)
					    : snprintf(buf + o, len - o, "port %u-%u ", r->lo, r->hi);
		if (o && buf[o - 1] == ' ')
			buf[--o] = 0;
	}
	if (r->flags & PKS_OPR_PROTO)
		o += snprintf(buf + o, len - o, " proto %s", pks_proto_name(r->proto));
	if (r->flags & PKS_OPR_APP)
		snprintf(buf + o, len - o, " app %u", r->app);
}

static int by_line(const void *a, const void *b)
{
	const struct pks_op_rule *x = a, *y = b;

	return x->line != y->line ? x->line - y->line : x->l4 - y->l4;
}

static void close_maps(int rfd, int sfd, int hfd)
{
	int fds[3] = { rfd, sfd, hfd };

	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* The live table's rules as loaded (a rule for TCP and UDP is one line again). */
static int read_live(struct pks_op_rule **out, size_t *count)
{
	int rfd = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_OPRULES), sfd = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_OPSTATE),
	    hfd = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_OPHOSTS), err = 0;
	struct pks_op_rule *rules = calloc(PKS_OPRULES_MAX * PKS_OP_RANGES / 2 + PKS_OPHOSTS_MAX, sizeof(*rules));
	struct pks_op_state st = {};
	struct pks_op_key k, next;
	struct pks_op_host_key hk, hnext;
	void *prev = NULL;
	size_t n = 0, m = 0;
	__u32 zero = 0;

	if (rfd < 0 || sfd < 0 || hfd < 0 || !rules) {
		err = rules ? -errno : -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_elem(sfd, &zero, &st)) {
		err = -errno;
		goto out;
	}
	while (bpf_map_get_next_key(rfd, prev, &next) == 0) {
		struct pks_op_entry v;

		k = next;
		prev = &k;
		if (k.table != (st.live & 1) || bpf_map_lookup_elem(rfd, &k, &v))
			continue;
		for (int i = 0; i < PKS_OP_RANGES && (v.r[i].flags & PKS_OPR_USED); i++) {
			struct pks_op_rule *r = &rules[n];

			if (!(v.r[i].flags & PKS_OPR_OWN))
				continue;
			memset(r, 0, sizeof(*r));
			memcpy(r->addr, k.addr, 16);
			r->bits = k.prefixlen - 16;
			r->has_addr = r->bits > 0;
			r->l4 = k.l4;
			r->lo = v.r[i].lo;
			r->hi = v.r[i].hi;
			r->app = v.r[i].app;
			r->proto = v.r[i].proto;
			r->flags = v.r[i].flags & (PKS_OPR_PROTO | PKS_OPR_APP);
			r->line = v.line[i];
			n++;
		}
	}
	prev = NULL;
	while (bpf_map_get_next_key(hfd, prev, &hnext) == 0) {
		struct pks_op_host hv;
		struct pks_op_rule *r = &rules[n];

		hk = hnext;
		prev = &hk;
		if (hk.table != (st.live & 1) || bpf_map_lookup_elem(hfd, &hk, &hv))
			continue;
		memset(r, 0, sizeof(*r));
		memcpy(r->host, hk.suffix, sizeof(r->host) - 1);
		r->app = hv.app;
		r->proto = hv.proto;
		r->flags = hv.flags;
		r->line = hv.line;
		n++;
	}
	qsort(rules, n, sizeof(*rules), by_line);
	/* One line that covered TCP and UDP came back as two entries: merge them. */
	for (size_t i = 0; i < n; i++) {
		if (m && rules[m - 1].line == rules[i].line && !rules[i].host[0]) {
			rules[m - 1].l4 = 0;
			continue;
		}
		rules[m++] = rules[i];
	}
out:
	close_maps(rfd, sfd, hfd);
	if (err) {
		free(rules);
		return err;
	}
	*out = rules;
	*count = m;
	return 0;
}

static const char rules_help[] =
	"Usage: pktspec rules [--apps FILE] load FILE\n"
	"       pktspec rules list\n"
	"       pktspec rules clear\n"
	"The operator's own rules, which override what pktspec guesses. A rule, one per\n"
	"line of FILE ('-' reads stdin):\n"
	"\n"
	"  [addr PREFIX] [tcp|udp] [port N[-M]] ACTION...   flows to these servers\n"
	"  host SUFFIX ACTION...                            flows named so (SNI, Host, DNS)\n"
	"  ACTION    proto NAME   the flow's protocol, confidence 'user', rule 'user'\n"
	"            app APP      the flow's application: its ID, or its name with --apps\n"
	"\n"
	"Address rules apply when the classifier creates the flow, from its first packet\n"
	"(the most specific prefix first, then file order); host rules when 'pktspec run'\n"
	"names the flow. load replaces every rule, or changes nothing when any line is\n"
	"wrong. Needs the classifier attached. See doc/context.md.\n"
	"\n"
	"  -a, --apps FILE      application list, so rules can name applications\n"
	"  -h, --help           this help\n";

static int open_maps(int *rfd, int *sfd, int *hfd)
{
	*rfd = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_OPRULES);
	*sfd = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_OPSTATE);
	*hfd = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_OPHOSTS);
	if (*rfd >= 0 && *sfd >= 0 && *hfd >= 0)
		return 0;
	pks_fail("cannot open the rule maps in %s: %s (is the classifier attached?)", PKS_PIN_DIR,
		 strerror(errno));
	return -1;
}

int cmd_rules(int argc, char **argv)
{
	static const struct option opts[] = { { "apps", required_argument, NULL, 'a' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	struct pks_op_rule *rules = NULL;
	const char *sub;
	size_t n = 0;
	int c, e, rfd = -1, sfd = -1, hfd = -1, lock_fd = -1, ret = PKS_EXIT_FAIL;

	while ((c = getopt_long(argc, argv, "+a:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (pks_apps_read(optarg))
				return PKS_EXIT_FAIL;
			break;
		case 'h':
			fputs(rules_help, stdout);
			return PKS_EXIT_OK;
		default:
			return pks_usage_error("rules", "bad option");
		}
	}
	if (optind >= argc)
		return pks_usage_error("rules", "rules needs a subcommand: load, list or clear");
	if (pks_apps_read_default())
		return PKS_EXIT_FAIL;
	sub = argv[optind++];
	if (!strcmp(sub, "load")) {
		const char *path;
		struct pks_text t;
		char err[1024];

		if (optind + 1 != argc)
			return pks_usage_error("rules", "load takes one file name");
		path = argv[optind];
		if (pks_text_open(path, "a rules file", &t, err, sizeof(err)))
			return pks_fail("%s; the rules were not changed", err);
		e = pks_oprules_parse_text(&t, strcmp(path, "-") ? path : "stdin", &rules, &n, stderr);
		pks_text_free(&t);
		if (e < 0)
			return pks_fail("cannot read %s: %s", path, strerror(-e));
		if (e > 0)
			return pks_fail("%s: %d bad line%s; the rules were not changed", path, e, e > 1 ? "s" : "");
	} else if (!strcmp(sub, "list") || !strcmp(sub, "clear")) {
		if (optind != argc)
			return pks_usage_error("rules", "%s takes no arguments", sub);
	} else {
		return pks_usage_error("rules", "unknown subcommand '%s': load, list or clear", sub);
	}
	if (pks_need_caps("rules", PKS_NEED_BPF) || pks_need_bpffs())
		goto out;
	if (!strcmp(sub, "list")) {
		e = read_live(&rules, &n);
		if (e == -ENOENT) {
			printf("no rules: nothing attached\n");
			ret = PKS_EXIT_OK;
			goto out;
		}
		if (e) {
			pks_fail("cannot read the rules: %s", strerror(-e));
			goto out;
		}
		if (!n)
			printf("no rules\n");
		for (size_t i = 0; i < n; i++) {
			char buf[320];

			format_rule(&rules[i], buf, sizeof(buf));
			printf("%s\n", buf);
		}
		ret = PKS_EXIT_OK;
		goto out;
	}
	lock_fd = pks_lock();
	if (lock_fd < 0 || open_maps(&rfd, &sfd, &hfd))
		goto out;
	e = pks_oprules_replace(rfd, sfd, hfd, rules, n, stderr);
	if (e) {
		pks_fail("cannot write the rules (unchanged): %s", strerror(-e));
		goto out;
	}
	if (!strcmp(sub, "load"))
		printf("loaded %zu rule%s\n", n, n == 1 ? "" : "s");
	ret = PKS_EXIT_OK;
out:
	close_maps(rfd, sfd, hfd);
	if (lock_fd >= 0)
		close(lock_fd);
	free(rules);
	return ret;
}
