// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * pktspec policy: what the tc program does with the packets of a flow once
 * its verdict is known (doc/policy.md).
 *
 * A rule is the same words on the command line and on a line of a policy
 * file:
 *
 *   SELECTOR [app APP] [confidence LEVEL] ACTION...
 *   SELECTOR  a protocol name, "any" (with app), or "pending"
 *   ACTION    mark VALUE[/MASK] | classid MAJOR:MINOR | priority N |
 *             dscp N|NAME | drop | pass
 *
 * `policy list` prints rules in this form, so its output loads again.
 * `policy load` validates the whole file before anything is written, then
 * swaps it in whole (include/pktspec/policy.h: two tables, one live index).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pktspec.h"
#include "pktspec/events.h"
#include "pktspec/policy.h"
#include "pktspec_tc.skel.h"

#define POL_TOKENS_MAX 32    /* words on one rule line: the grammar needs at most 16 */
#define POL_RULES_MAX (PKS_POLICY_MAX / 2) /* one table's worth */

/* DSCP names: class selectors (RFC 2474 4.2.2), AF (RFC 2597 6), EF (RFC 3246), LE (RFC 8622). */
static int dscp_by_name(const char *s)
{
	if (!strcasecmp(s, "be") || !strcasecmp(s, "df"))
		return 0;
	if (!strcasecmp(s, "ef"))
		return 46;
	if (!strcasecmp(s, "le"))
		return 1;
	if (!strncasecmp(s, "cs", 2) && s[2] >= '0' && s[2] <= '7' && !s[3])
		return (s[2] - '0') << 3;
	if (!strncasecmp(s, "af", 2) && s[2] >= '1' && s[2] <= '4' && s[3] >= '1' && s[3] <= '3' && !s[4])
		return ((s[2] - '0') << 3) | ((s[3] - '0') << 1);
	return -1;
}

/*
 * Application IDs are what the context rules write into pks_flow.app: the
 * application list given to 'pktspec run --apps FILE' ("NAME-SUFFIX
 * APPLICATION" per line) numbers its applications from 1 in the order they
 * first appear. 'pktspec policy --apps FILE' reads the same file the same way,
 * so a rule can name the application; without it, rules take the number.
 */
#define POL_APPS_MAX 4096 /* distinct application names read from a list */
#define POL_APP_LEN 32    /* longest application name, with its NUL */

static char app_names[POL_APPS_MAX][POL_APP_LEN];
static int n_app_names;
static bool have_apps;

int pks_apps_read(const char *path)
{
	struct pks_text t;
	char err[1024], *line;

	if (pks_text_open(path, "an application list", &t, err, sizeof(err)))
		return pks_fail("%s", err);
	have_apps = true;
	while ((line = pks_text_line(&t))) {
		char suffix[PKS_NAME_LEN], app[PKS_APP_LEN];
		int i, r = pks_apps_line(line, path, t.lineno, suffix, app, err, sizeof(err));

		if (r < 0) {
			pks_text_free(&t);
			return pks_fail("%s", err);
		}
		if (r == 0)
			continue;
		for (i = 0; i < n_app_names && strcmp(app_names[i], app); i++)
			;
		if (i < n_app_names)
			continue;
		if (n_app_names == POL_APPS_MAX) {
			pks_text_free(&t);
			return pks_fail("%s: more than %d applications", path, POL_APPS_MAX);
		}
		snprintf(app_names[n_app_names++], POL_APP_LEN, "%s", app);
	}
	pks_text_free(&t);
	return 0;
}

/* The default list (pks_apps_default) when none was given; 0, or -1 after an error. */
int pks_apps_read_default(void)
{
	char buf[PATH_MAX];
	const char *def;

	if (have_apps)
		return 0;
	def = pks_apps_default(buf, sizeof(buf));
	return def && pks_apps_read(def) ? -1 : 0;
}

int pks_app_by_name(const char *s, char *err, size_t errlen)
{
	unsigned long v;

	if (pks_parse_uint(s, 0xffff, &v) == 0 && v > 0)
		return (int)v;
	for (int i = 0; i < n_app_names; i++)
		if (!strcmp(app_names[i], s))
			return i + 1;
	if (have_apps)
		snprintf(err, errlen, "application '%s' is not in the application list", s);
	else
		snprintf(err, errlen, "app takes an application ID from 1 to 65535, or a name with --apps FILE, "
			 "not '%s'", s);
	return -1;
}

/* tc writes class IDs as hexadecimal MAJOR:MINOR ("1:10" is 0x00010010), and so do we. */
static int parse_classid(const char *s, __u32 *out)
{
	char *end;
	unsigned long maj, min;

	if (!isxdigit((unsigned char)*s))
		return -1;
	maj = strtoul(s, &end, 16);
	if (*end != ':' || maj == 0 || maj > 0xffff)
		return -1;
	s = end + 1;
	if (!isxdigit((unsigned char)*s))
		return -1;
	min = strtoul(s, &end, 16);
	if (*end || min > 0xffff)
		return -1;
	*out = (__u32)(maj << 16 | min);
	return 0;
}

int pks_policy_parse(int n, char **tok, struct pks_policy_rule *r, char *err, size_t errlen)
{
	bool any_action = false, pass = false, conf_given = false, app_given = false;
	int i = 1, p;

	memset(r, 0, sizeof(*r));
	if (n < 1) {
		snprintf(err, errlen, "empty rule");
		return -EINVAL;
	}
	if (!strcmp(tok[0], "pending")) {
		r->key.match = PKS_PM_PENDING;
	} else if (!strcmp(tok[0], "any")) {
		r->key.match = PKS_PM_APP;
	} else if ((p = pks_proto_by_name(tok[0])) >= 0) {
		r->key.match = PKS_PM_PROTO;
		r->key.proto = p;
	} else {
		snprintf(err, errlen, "unknown protocol '%s' (see 'pktspec protocols'; or 'any', 'pending')",
			 tok[0]);
		return -EINVAL;
	}

	for (; i < n; i++) {
		const char *w = tok[i], *arg = i + 1 < n ? tok[i + 1] : NULL;
		bool takes_arg = strcmp(w, "drop") && strcmp(w, "pass");
		unsigned long v;

		if (takes_arg && !arg) {
			snprintf(err, errlen, "'%s' needs a value", w);
			return -EINVAL;
		}
		if (!strcmp(w, "app")) {
			int a = pks_app_by_name(arg, err, errlen);

			if (a < 0)
				return -EINVAL;
			r->key.app = a;
			app_given = true;
		} else if (!strcmp(w, "confidence")) {
			int c = pks_confidence_by_name(arg);

			if (c < 0) {
				snprintf(err, errlen,
					 "unknown confidence '%s' (none, port, signature, confirmed, expected, "
					 "dns, user)",
					 arg);
				return -EINVAL;
			}
			r->val.min_confidence = c;
			conf_given = true;
		} else if (!strcmp(w, "mark")) {
			char buf[64], *slash;
			unsigned long m = 0xffffffffUL;

			snprintf(buf, sizeof(buf), "%s", arg);
			slash = strchr(buf, '/');
			if (slash)
				*slash++ = 0;
			if (pks_parse_uint(buf, 0xffffffffUL, &v) ||
			    (slash && (pks_parse_uint(slash, 0xffffffffUL, &m) || m == 0))) {
				snprintf(err, errlen, "mark takes VALUE or VALUE/MASK (32-bit numbers, mask not 0), "
					 "not '%s'", arg);
				return -EINVAL;
			}
			if (v & ~m) {
				snprintf(err, errlen, "mark value %#lx has bits outside its mask %#lx", v, m);
				return -EINVAL;
			}
			r->val.mark = v;
			r->val.mark_mask = m;
			any_action = true;
		} else if (!strcmp(w, "classid")) {
			if (parse_classid(arg, &r->val.classid)) {
				snprintf(err, errlen, "classid takes MAJOR:MINOR in hexadecimal as tc writes it "
					 "(e.g. 1:10), not '%s'", arg);
				return -EINVAL;
			}
			any_action = true;
		} else if (!strcmp(w, "priority")) {
			if (pks_parse_uint(arg, 0xffffffffUL, &v)) {
				snprintf(err, errlen, "priority takes a 32-bit number, not '%s'", arg);
				return -EINVAL;
			}
			r->val.priority = v;
			r->val.set_priority = PKS_PS_SET;
			any_action = true;
		} else if (!strcmp(w, "dscp")) {
			int d = dscp_by_name(arg);

			if (d < 0 && (pks_parse_uint(arg, 63, &v) == 0))
				d = (int)v;
			if (d < 0) {
				snprintf(err, errlen, "dscp takes 0-63 or a name (be, ef, le, cs0-cs7, af11-af43), "
					 "not '%s'", arg);
				return -EINVAL;
			}
			r->val.dscp = d;
			r->val.set_dscp = PKS_PS_SET;
			any_action = true;
		} else if (!strcmp(w, "drop")) {
			r->val.verdict = PKS_PV_DROP;
			any_action = true;
			continue;
		} else if (!strcmp(w, "pass")) {
			pass = true;
			continue;
		} else {
			snprintf(err, errlen, "unknown word '%s' (app, confidence, mark, classid, priority, dscp, "
				 "drop, pass)", w);
			return -EINVAL;
		}
		i++; /* the value */
	}

	if (r->key.match == PKS_PM_APP && !app_given) {
		snprintf(err, errlen, "'any' selects by application: give 'app ID'");
		return -EINVAL;
	}
	if (r->key.match == PKS_PM_PENDING && (app_given || conf_given)) {
		snprintf(err, errlen, "'pending' is for flows without a verdict: no app or confidence");
		return -EINVAL;
	}
	if (!any_action && !pass) {
		snprintf(err, errlen, "no action (mark, classid, priority, dscp, drop, or pass)");
		return -EINVAL;
	}
	if (pass && r->val.verdict == PKS_PV_DROP) {
		snprintf(err, errlen, "drop and pass contradict each other");
		return -EINVAL;
	}
	if (r->val.verdict == PKS_PV_DROP &&
	    (r->val.mark_mask || r->val.classid || r->val.set_priority || r->val.set_dscp)) {
		snprintf(err, errlen, "drop takes no other action: a dropped packet is not marked");
		return -EINVAL;
	}
	if (r->val.classid && r->val.set_priority) {
		/* The tc program selects the class through skb->priority (pktspec_tc.bpf.c). */
		snprintf(err, errlen, "classid and priority both set skb->priority: give one");
		return -EINVAL;
	}
	return 0;
}

static const char *match_name(__u8 m)
{
	return m == PKS_PM_APP ? "app" : m == PKS_PM_PENDING ? "pending" : "proto";
}

void pks_policy_format(const struct pks_policy_rule *r, char *buf, size_t len)
{
	const struct pks_policy *v = &r->val;
	size_t off = 0;

#define OUT(...) off += snprintf(buf + off, off < len ? len - off : 0, __VA_ARGS__)
	if (r->key.match == PKS_PM_PENDING)
		OUT("pending");
	else if (r->key.match == PKS_PM_APP)
		OUT("any");
	else
		OUT("%s", pks_proto_name(r->key.proto));
	if (r->key.app)
		OUT(" app %u", r->key.app);
	if (v->min_confidence)
		OUT(" confidence %s", pks_confidence_name(v->min_confidence));
	if (v->verdict == PKS_PV_DROP)
		OUT(" drop");
	if (v->mark_mask == 0xffffffffU)
		OUT(" mark %#x", v->mark);
	else if (v->mark_mask)
		OUT(" mark %#x/%#x", v->mark, v->mark_mask);
	if (v->classid)
		OUT(" classid %x:%x", v->classid >> 16, v->classid & 0xffff);
	if (v->set_priority)
		OUT(" priority %u", v->priority);
	if (v->set_dscp)
		OUT(" dscp %u", v->dscp);
	if (v->verdict != PKS_PV_DROP && !v->mark_mask && !v->classid && !v->set_priority && !v->set_dscp)
		OUT(" pass");
#undef OUT
}

static void print_json(const struct pks_policy_rule *r, FILE *out)
{
	const struct pks_policy *v = &r->val;
	char classid[16] = "";

	if (v->classid)
		snprintf(classid, sizeof(classid), "%x:%x", v->classid >> 16, v->classid & 0xffff);
	fprintf(out, "{\"match\":\"%s\",\"proto\":\"%s\",\"app\":%u,\"min_confidence\":\"%s\",\"verdict\":\"%s\"",
		match_name(r->key.match), r->key.match == PKS_PM_PROTO ? pks_proto_name(r->key.proto) : "",
		r->key.app, pks_confidence_name(v->min_confidence), v->verdict == PKS_PV_DROP ? "drop" : "pass");
	if (v->mark_mask)
		fprintf(out, ",\"mark\":%u,\"mark_mask\":%u", v->mark, v->mark_mask);
	if (v->classid)
		fprintf(out, ",\"classid\":\"%s\"", classid);
	if (v->set_priority)
		fprintf(out, ",\"priority\":%u", v->priority);
	if (v->set_dscp)
		fprintf(out, ",\"dscp\":%u", v->dscp);
	fprintf(out, "}\n");
}

/* Splits a line into at most max words, dropping a # comment; returns the count or -1 when too many. */
int pks_words(char *line, char **tok, int max)
{
	int n = 0;
	char *hash = strchr(line, '#'), *save = NULL, *w;

	if (hash)
		*hash = 0;
	for (w = strtok_r(line, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max)
			return -1;
		tok[n++] = w;
	}
	return n;
}

static bool same_selector(const struct pks_policy_key *a, const struct pks_policy_key *b)
{
	return a->match == b->match && a->proto == b->proto && a->app == b->app;
}

int pks_policy_parse_text(struct pks_text *t, const char *name, struct pks_policy_rule **out, size_t *count,
			  FILE *errs)
{
	struct pks_policy_rule *rules = NULL;
	size_t n = 0, cap = 0;
	int bad = 0;
	char *line;

	*out = NULL;
	*count = 0;
	while ((line = pks_text_line(t))) {
		char *tok[POL_TOKENS_MAX], err[256];
		struct pks_policy_rule r;
		int lineno = t->lineno, nt = pks_words(line, tok, POL_TOKENS_MAX);

		if (nt < 0) {
			fprintf(errs, "pktspec: %s:%d: more than %d words\n", name, lineno, POL_TOKENS_MAX);
			bad++;
			continue;
		}
		if (nt == 0)
			continue;
		if (pks_policy_parse(nt, tok, &r, err, sizeof(err))) {
			fprintf(errs, "pktspec: %s:%d: %s\n", name, lineno, err);
			bad++;
			continue;
		}
		r.line = lineno;
		for (size_t i = 0; i < n; i++) {
			if (same_selector(&rules[i].key, &r.key)) {
				fprintf(errs, "pktspec: %s:%d: the same flows as line %d\n", name, lineno, rules[i].line);
				bad++;
				goto next;
			}
		}
		if (n == POL_RULES_MAX) {
			fprintf(errs, "pktspec: %s:%d: more than %d rules\n", name, lineno, POL_RULES_MAX);
			bad++;
			continue;
		}
		if (pks_grow(&rules, &cap, n + 1, sizeof(*rules), 16)) {
			free(rules);
			return -ENOMEM;
		}
		rules[n++] = r;
next:;
	}
	if (bad) {
		free(rules);
		return bad;
	}
	*out = rules;
	*count = n;
	return 0;
}

int pks_policy_parse_file(FILE *in, const char *name, struct pks_policy_rule **out, size_t *count, FILE *errs)
{
	struct pks_text t;
	char err[512];
	int e = pks_text_read(in, name, "a policy file", &t, err, sizeof(err));

	*out = NULL;
	*count = 0;
	if (e == -EINVAL || e == -EFBIG) {
		fprintf(errs, "pktspec: %s\n", err);
		return 1;
	}
	if (e)
		return e;
	e = pks_policy_parse_text(&t, name, out, count, errs);
	pks_text_free(&t);
	return e;
}

/* The policy maps, pinned (and created when missing); close with pol_close. */
struct pol_maps {
	struct pktspec_tc_bpf *skel;
	int policy_fd;
	int state_fd;
};

static int pol_open(struct pol_maps *m)
{
	int err = pks_policy_maps_open(&m->skel);

	if (err)
		return err;
	m->policy_fd = bpf_map__fd(m->skel->maps.pks_policy);
	m->state_fd = bpf_map__fd(m->skel->maps.pks_pol_state);
	return 0;
}

static void pol_close(struct pol_maps *m)
{
	pktspec_tc_bpf__destroy(m->skel);
	m->skel = NULL;
}

static __u32 live_table(int state_fd)
{
	struct pks_pol_state st = {};
	__u32 zero = 0;

	if (bpf_map_lookup_elem(state_fd, &zero, &st))
		return 0;
	return st.live & 1;
}

/* Reads every rule of one table; returns the count or -errno. */
static int read_table(int fd, __u32 table, struct pks_policy_rule **out)
{
	struct pks_policy_key k, next;
	struct pks_policy_rule *rules = NULL;
	void *prev = NULL;
	size_t cap = 0;
	int n = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct pks_policy v;

		k = next;
		prev = &k;
		if (k.table != table || bpf_map_lookup_elem(fd, &k, &v))
			continue;
		if (pks_grow(&rules, &cap, (size_t)n + 1, sizeof(*rules), 16)) {
			free(rules);
			return -ENOMEM;
		}
		memset(&rules[n], 0, sizeof(rules[n]));
		rules[n].key = k;
		rules[n].val = v;
		n++;
	}
	*out = rules;
	return n;
}

/* Deletes every entry of one table. */
static int clear_table(int fd, __u32 table)
{
	struct pks_policy_rule *rules;
	int n = read_table(fd, table, &rules), err = 0;

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, &rules[i].key) && errno != ENOENT)
			err = -errno;
	free(rules);
	return err;
}

/*
 * Replaces the whole policy: fill the table that is not live, flip the live
 * index (one element write, so the tc program sees one table or the other),
 * then empty the old table. On a failure before the flip nothing changed.
 */
static int replace_all(const struct pol_maps *m, const struct pks_policy_rule *rules, size_t n)
{
	__u32 live = live_table(m->state_fd), next = !live, zero = 0;
	struct pks_pol_state st = { .live = next };
	int err;

	err = clear_table(m->policy_fd, next);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		struct pks_policy_key k = rules[i].key;

		k.table = next;
		if (bpf_map_update_elem(m->policy_fd, &k, &rules[i].val, BPF_ANY)) {
			err = -errno;
			clear_table(m->policy_fd, next);
			return err;
		}
	}
	if (bpf_map_update_elem(m->state_fd, &zero, &st, BPF_ANY)) {
		err = -errno;
		clear_table(m->policy_fd, next);
		return err;
	}
	return clear_table(m->policy_fd, live);
}

static int rule_cmp(const void *a, const void *b)
{
	const struct pks_policy_rule *x = a, *y = b;

	if (x->key.match != y->key.match)
		return x->key.match - y->key.match;
	if (x->key.proto != y->key.proto)
		return x->key.proto - y->key.proto;
	return x->key.app - y->key.app;
}

static const char policy_help[] =
	"Usage: pktspec policy [--apps FILE] set RULE...\n"
	"       pktspec policy [--apps FILE] del SELECTOR [app APP]\n"
	"       pktspec policy list [--json]\n"
	"       pktspec policy clear\n"
	"       pktspec policy [--apps FILE] load FILE\n"
	"What the tc program (pktspec attach IFACE --tc) does with a flow's packets once\n"
	"its verdict is known. Policies are pinned in " PKS_PIN_DIR "/" PKS_MAP_POLICY " and\n"
	"stay until changed. A RULE, on the command line or on a line of FILE:\n"
	"\n"
	"  SELECTOR [app APP] [confidence LEVEL] ACTION...\n"
	"  SELECTOR  a protocol name ('pktspec protocols'), 'any' (needs app: every\n"
	"            protocol of that application), or 'pending' (flows without a\n"
	"            verdict yet; the default is to pass them untouched)\n"
	"  app APP   only flows the context rules gave this application: its ID, or\n"
	"            its name with --apps FILE (the list given to 'pktspec run --apps')\n"
	"  confidence LEVEL  only verdicts at least this sure: none, port, signature,\n"
	"            confirmed, expected, dns, user (in that order)\n"
	"  ACTION    mark VALUE[/MASK]   set these bits of skb->mark\n"
	"            classid MAJOR:MINOR place in this tc class (hex, as tc writes it)\n"
	"            priority N          set skb->priority\n"
	"            dscp N|NAME         rewrite DSCP: 0-63, be, ef, le, cs0-cs7, af11-af43\n"
	"            drop                drop the packets\n"
	"            pass                nothing (e.g. to exempt an application)\n"
	"\n"
	"load replaces the whole policy with FILE's rules ('-' reads stdin), or changes\n"
	"nothing when any line is wrong; every wrong line is reported with its number.\n"
	"See doc/policy.md.\n"
	"\n"
	"  -a, --apps FILE      application list, so rules can name applications\n"
	"  -j, --json           list: one JSON object per rule per line\n"
	"  -h, --help           this help\n";

static int policy_list(bool json)
{
	struct pks_policy_rule *rules = NULL;
	int fd, n;

	fd = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_POLICY);
	if (fd < 0) {
		if (errno != ENOENT)
			return pks_fail("cannot open %s/%s: %s", PKS_PIN_DIR, PKS_MAP_POLICY, strerror(errno));
		if (!json)
			printf("no policy: every packet passes untouched\n");
		return PKS_EXIT_OK;
	}
	{
		int sfd = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_POL_STATE);
		__u32 live = sfd >= 0 ? live_table(sfd) : 0;

		if (sfd >= 0)
			close(sfd);
		n = read_table(fd, live, &rules);
	}
	close(fd);
	if (n < 0)
		return pks_fail("cannot read the policy: %s", strerror(-n));
	if (n > 0) /* an empty policy reads no table: rules stays NULL, which qsort must not get */
		qsort(rules, n, sizeof(*rules), rule_cmp);
	if (!json && n == 0)
		printf("no policy: every packet passes untouched\n");
	for (int i = 0; i < n; i++) {
		char buf[256];

		if (json) {
			print_json(&rules[i], stdout);
			continue;
		}
		pks_policy_format(&rules[i], buf, sizeof(buf));
		printf("%s\n", buf);
	}
	free(rules);
	return PKS_EXIT_OK;
}

int cmd_policy(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "apps", required_argument, NULL, 'a' },
					      { "verbose", no_argument, NULL, 'v' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	struct pol_maps m = {};
	struct pks_policy_rule r, *rules = NULL;
	const char *sub;
	char err[1024];
	bool json = false;
	size_t n = 0;
	int c, lock_fd, ret = PKS_EXIT_FAIL, e;

	/* "+": stop at the first word, so rule words are never taken for options. */
	while ((c = getopt_long(argc, argv, "+ja:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (pks_apps_read(optarg))
				return PKS_EXIT_FAIL;
			break;
		case 'j':
			json = true;
			break;
		case 'v':
			pks_verbose++;
			break;
		case 'h':
			fputs(policy_help, stdout);
			return PKS_EXIT_OK;
		default:
			return pks_usage_error("policy", "bad option");
		}
	}
	if (optind >= argc)
		return pks_usage_error("policy", "policy needs a subcommand: set, del, list, clear or load");
	if (pks_apps_read_default())
		return PKS_EXIT_FAIL;
	sub = argv[optind++];
	if (!strcmp(sub, "list")) {
		for (; optind < argc; optind++) {
			if (!strcmp(argv[optind], "--json") || !strcmp(argv[optind], "-j"))
				json = true;
			else
				return pks_usage_error("policy", "list takes only --json");
		}
	} else if (json) {
		return pks_usage_error("policy", "--json is for list");
	}

	if (!strcmp(sub, "set") || !strcmp(sub, "del")) {
		if (optind >= argc)
			return pks_usage_error("policy", "%s needs a rule", sub);
		if (!strcmp(sub, "del")) {
			/* A selector alone: parse it with a placeholder action. */
			char *tok[POL_TOKENS_MAX + 1];
			int nt = argc - optind;

			if (nt > POL_TOKENS_MAX)
				return pks_usage_error("policy", "too many words");
			memcpy(tok, argv + optind, nt * sizeof(*tok));
			tok[nt] = "pass";
			if (pks_policy_parse(nt + 1, tok, &r, err, sizeof(err)))
				return pks_usage_error("policy", "%s", err);
		} else if (pks_policy_parse(argc - optind, argv + optind, &r, err, sizeof(err))) {
			return pks_usage_error("policy", "%s", err);
		}
	} else if (!strcmp(sub, "load")) {
		struct pks_text t;
		const char *path;

		if (optind + 1 != argc)
			return pks_usage_error("policy", "load takes one file name");
		path = argv[optind];
		if (pks_text_open(path, "a policy file", &t, err, sizeof(err)))
			return pks_fail("%s; the policy was not changed", err);
		e = pks_policy_parse_text(&t, strcmp(path, "-") ? path : "stdin", &rules, &n, stderr);
		pks_text_free(&t);
		if (e < 0)
			return pks_fail("cannot read %s: %s", path, strerror(-e));
		if (e > 0)
			return pks_fail("%s: %d bad line%s; the policy was not changed", path, e, e > 1 ? "s" : "");
	} else if (!strcmp(sub, "clear")) {
		if (optind != argc)
			return pks_usage_error("policy", "clear takes no arguments");
	} else if (strcmp(sub, "list")) {
		return pks_usage_error("policy", "unknown subcommand '%s': set, del, list, clear or load", sub);
	}

	if (pks_need_caps("policy", PKS_NEED_BPF))
		goto out_free;
	if (pks_need_bpffs())
		goto out_free;
	if (!strcmp(sub, "list")) {
		ret = policy_list(json);
		goto out_free;
	}
	lock_fd = pks_lock();
	if (lock_fd < 0)
		goto out_free;
	if (pol_open(&m))
		goto out_unlock;

	if (!strcmp(sub, "set")) {
		r.key.table = live_table(m.state_fd);
		if (bpf_map_update_elem(m.policy_fd, &r.key, &r.val, BPF_ANY)) {
			pks_fail("cannot write the policy: %s%s", strerror(errno),
				 errno == E2BIG ? " (the policy table is full)" : "");
			goto out_close;
		}
	} else if (!strcmp(sub, "del")) {
		r.key.table = live_table(m.state_fd);
		if (bpf_map_delete_elem(m.policy_fd, &r.key)) {
			if (errno == ENOENT)
				pks_fail("no policy for '%s%s%.0u'", argv[optind], r.key.app ? " app " : "",
					 r.key.app);
			else
				pks_fail("cannot delete the policy: %s", strerror(errno));
			goto out_close;
		}
	} else {
		e = replace_all(&m, rules, n);
		if (e) {
			pks_fail("cannot write the policy (unchanged): %s", strerror(-e));
			goto out_close;
		}
		if (!strcmp(sub, "load"))
			printf("loaded %zu rule%s\n", n, n == 1 ? "" : "s");
	}
	ret = PKS_EXIT_OK;
out_close:
	pol_close(&m);
out_unlock:
	close(lock_fd);
out_free:
	free(rules);
	return ret;
}
