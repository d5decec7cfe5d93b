// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * pktspec top: a live view of the busiest protocols and flows, redrawn every
 * interval with plain ANSI escapes (VT100: works in any terminal and over
 * ssh, no curses). Rates come from the difference between two reads of the
 * flow table. Keys: q quits, b/p/f sort by bytes, packets or flows, n shows
 * the next protocol only, a all protocols again.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <bpf/bpf.h>

#include "pktspec.h"

enum top_sort { TOP_BYTES, TOP_PACKETS, TOP_FLOWS };

struct top {
	struct pks_flowtab tab;
	struct pks_flow_set now, prev;
	double dt;            /* seconds between the two reads */
	enum top_sort sort;
	int proto;            /* -1: all */
	int rows, cols;
	bool interactive;
};

static volatile sig_atomic_t top_stop;
static struct termios saved_tty;
static bool tty_raw;

static void top_on_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

static void tty_restore(void)
{
	if (!tty_raw)
		return;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	/* Cursor back, main screen back. */
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	tty_raw = false;
}

static int tty_setup(void)
{
	struct termios raw;

	if (tcgetattr(STDIN_FILENO, &saved_tty))
		return -errno;
	raw = saved_tty;
	raw.c_lflag &= ~(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw))
		return -errno;
	tty_raw = true;
	atexit(tty_restore);
	/* Alternate screen, cursor hidden: the shell's screen comes back on exit. */
	fputs("\033[?1049h\033[?25l", stdout);
	return 0;
}

static void term_size(struct top *t)
{
	struct winsize ws;

	t->rows = 24;
	t->cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
		t->rows = ws.ws_row;
		t->cols = ws.ws_col;
	}
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct pks_flow_rec *)a)->key, &((const struct pks_flow_rec *)b)->key,
		      sizeof(struct pks_flow_key));
}

/* What the flow carried since the previous read (0 for a new flow's first read: its totals). */
static void flow_delta(const struct top *t, const struct pks_flow_rec *r, uint64_t *bytes, uint64_t *packets)
{
	const struct pks_flow_rec *p = t->prev.n ? bsearch(r, t->prev.recs, t->prev.n, sizeof(*r), key_cmp) : NULL;
	uint64_t b = r->val.bytes[0] + r->val.bytes[1], k = (uint64_t)r->val.packets[0] + r->val.packets[1];
	uint64_t pb = 0, pk = 0;

	if (p && p->val.first_ns == r->val.first_ns) {
		pb = p->val.bytes[0] + p->val.bytes[1];
		pk = (uint64_t)p->val.packets[0] + p->val.packets[1];
	}
	*bytes = b > pb ? b - pb : 0;
	*packets = k > pk ? k - pk : 0;
}

/* Human units: 1.2k, 3.4M, ... */
static void human(char *buf, size_t len, double v)
{
	static const char units[] = " kMGTP";
	int u = 0;

	while (v >= 1000 && u < 5) {
		v /= 1000;
		u++;
	}
	if (u)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f", v);
}

struct top_flow {
	const struct pks_flow_rec *r;
	uint64_t key; /* what it is sorted by */
	double bps, pps;
};

static int top_flow_cmp(const void *a, const void *b)
{
	const struct top_flow *x = a, *y = b;

	return x->key > y->key ? -1 : x->key < y->key;
}

static const char *const sort_names[] = { "bytes", "packets", "flows" };

/* One line, cut to the terminal's width. */
static void line(const struct top *t, int *row, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void line(const struct top *t, int *row, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (*row >= t->rows)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if ((int)strlen(buf) > t->cols)
		buf[t->cols] = 0;
	fputs(buf, stdout);
	fputs(t->interactive ? "\033[K\r\n" : "\n", stdout);
	(*row)++;
}

static void draw(struct top *t)
{
	struct pks_summary sum = {};
	double pbytes[PKS_P__COUNT] = {}, ppk[PKS_P__COUNT] = {};
	unsigned int order[PKS_P__COUNT];
	struct top_flow *fl = calloc(t->now.n ? t->now.n : 1, sizeof(*fl));
	size_t nf = 0, np;
	char tbuf[32], a[16], b[16], c[16], d[16];
	time_t wall = time(NULL);
	int row = 0;

	if (!fl)
		return;
	for (size_t i = 0; i < t->now.n; i++) {
		const struct pks_flow_rec *r = &t->now.recs[i];
		uint64_t db, dp;

		flow_delta(t, r, &db, &dp);
		pks_summary_add(&sum, r);
		pbytes[r->val.proto < PKS_P__COUNT ? r->val.proto : 0] += db;
		ppk[r->val.proto < PKS_P__COUNT ? r->val.proto : 0] += dp;
		if (t->proto >= 0 && r->val.proto != t->proto)
			continue;
		fl[nf].r = r;
		fl[nf].bps = t->dt > 0 ? db * 8 / t->dt : 0;
		fl[nf].pps = t->dt > 0 ? dp / t->dt : 0;
		fl[nf].key = t->sort == TOP_PACKETS ? (uint64_t)r->val.packets[0] + r->val.packets[1]
			   : t->sort == TOP_BYTES   ? r->val.bytes[0] + r->val.bytes[1]
						    : UINT64_MAX - r->val.first_ns; /* flows: newest first */
		nf++;
	}
	qsort(fl, nf, sizeof(*fl), top_flow_cmp);
	np = pks_summary_order(&sum, order);
	if (t->sort != TOP_BYTES) {
		/* Reorder the protocols by packets or flows (insertion sort: at most PKS_P__COUNT). */
		for (size_t i = 1; i < np; i++) {
			unsigned int p = order[i];
			struct pks_summary_cell x;
			size_t j = i;

			pks_summary_proto(&sum, p, &x);
			while (j > 0) {
				struct pks_summary_cell y;

				pks_summary_proto(&sum, order[j - 1], &y);
				if ((t->sort == TOP_PACKETS ? y.packets : y.flows) >= (t->sort == TOP_PACKETS ? x.packets : x.flows))
					break;
				order[j] = order[j - 1];
				j--;
			}
			order[j] = p;
		}
	}

	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", localtime(&wall));
	if (t->interactive)
		fputs("\033[H", stdout);
	line(t, &row, "pktspec top  %s  flows %zu  sort: %s  proto: %s", tbuf, t->now.n, sort_names[t->sort],
	     t->proto >= 0 ? pks_proto_name(t->proto) : "all");
	line(t, &row, "keys: q quit  b bytes  p packets  f flows  n next protocol  a all protocols");
	line(t, &row, "%s", "");
	line(t, &row, "%-14s %8s %10s %10s %10s %10s", "PROTO", "FLOWS", "PACKETS", "BYTES", "PKT/S", "BIT/S");
	for (size_t i = 0; i < np && row < t->rows / 2; i++) {
		struct pks_summary_cell x;

		pks_summary_proto(&sum, order[i], &x);
		human(a, sizeof(a), x.packets);
		human(b, sizeof(b), x.bytes);
		human(c, sizeof(c), t->dt > 0 ? ppk[order[i]] / t->dt : 0);
		human(d, sizeof(d), t->dt > 0 ? pbytes[order[i]] * 8 / t->dt : 0);
		line(t, &row, "%-14s %8llu %10s %10s %10s %10s", pks_proto_name(order[i]), (unsigned long long)x.flows, a,
		     b, c, d);
	}
	line(t, &row, "%s", "");
	line(t, &row, "%-4s %-41s %-41s %-10s %-9s %8s %8s %8s %8s", "L4", "CLIENT", "SERVER", "PROTO", "CONF",
	     "PACKETS", "BYTES", "PKT/S", "BIT/S");
	for (size_t i = 0; i < nf && row < t->rows; i++) {
		char cl[INET6_ADDRSTRLEN], sv[INET6_ADDRSTRLEN], cep[64], sep[64];
		const struct pks_flow_view *v = &fl[i].r->val;
		uint16_t cp, sp;

		pks_flow_endpoints(fl[i].r, cl, sv, sizeof(cl), &cp, &sp);
		snprintf(cep, sizeof(cep), strchr(cl, ':') ? "[%s]:%u" : "%s:%u", cl, cp);
		snprintf(sep, sizeof(sep), strchr(sv, ':') ? "[%s]:%u" : "%s:%u", sv, sp);
		human(a, sizeof(a), (double)v->packets[0] + v->packets[1]);
		human(b, sizeof(b), (double)(v->bytes[0] + v->bytes[1]));
		human(c, sizeof(c), fl[i].pps);
		human(d, sizeof(d), fl[i].bps);
		line(t, &row, "%-4s %-41s %-41s %-10s %-9s %8s %8s %8s %8s", pks_l4_name(fl[i].r->key.l4), cep, sep,
		     pks_proto_name(v->proto), pks_confidence_name(v->confidence), a, b, c, d);
	}
	if (t->interactive)
		fputs("\033[J", stdout); /* clear what an earlier, longer frame left */
	fflush(stdout);
	free(fl);
}

/* Reads the table; keeps the previous read for rates. */
static int refresh(struct top *t, double dt)
{
	struct pks_flow_set tmp = t->prev;
	int err;

	t->prev = t->now;
	t->now = tmp;
	err = pks_flows_reread(&t->tab, &t->now);
	if (err)
		return err;
	if (t->now.n)
		qsort(t->now.recs, t->now.n, sizeof(*t->now.recs), key_cmp);
	t->dt = dt;
	return 0;
}

/* n: the next protocol present in the table after the current filter. */
static void next_proto(struct top *t)
{
	struct pks_summary sum = {};
	unsigned int order[PKS_P__COUNT];
	size_t np;

	for (size_t i = 0; i < t->now.n; i++)
		pks_summary_add(&sum, &t->now.recs[i]);
	np = pks_summary_order(&sum, order);
	if (!np)
		return;
	for (size_t i = 0; i < np; i++)
		if ((int)order[i] == t->proto) {
			t->proto = (int)order[(i + 1) % np];
			return;
		}
	t->proto = (int)order[0];
}

static const char top_help[] =
	"Usage: pktspec top [--interval SEC] [--sort bytes|packets|flows] [--proto NAME] [--once]\n"
	"A live view of the flow table: protocols (flows, packets, bytes, rates) and the\n"
	"busiest flows, redrawn every interval. Keys: q quits, b/p/f sort by bytes,\n"
	"packets or flows, n shows the next protocol only, a all protocols again.\n"
	"\n"
	"  -d, --interval SEC   seconds between redraws, 1-3600 (default 1)\n"
	"  -s, --sort KEY       bytes (default), packets or flows\n"
	"  -p, --proto NAME     only flows of this protocol\n"
	"  -1, --once           print one frame (rates over one interval) and exit; the\n"
	"                       default when stdout is not a terminal\n"
	"  -h, --help           this help\n";

int cmd_top(int argc, char **argv)
{
	static const struct option opts[] = { { "interval", required_argument, NULL, 'd' },
					      { "sort", required_argument, NULL, 's' },
					      { "proto", required_argument, NULL, 'p' },
					      { "once", no_argument, NULL, '1' },
					      { "verbose", no_argument, NULL, 'v' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	struct top t = { .proto = -1 };
	struct sigaction sa = {};
	unsigned long interval = 1;
	bool once = false;
	int c, ret = PKS_EXIT_OK;

	while ((c = getopt_long(argc, argv, "d:s:p:1vh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (pks_parse_uint(optarg, 3600, &interval) || interval < 1)
				return pks_usage_error("top", "--interval takes seconds from 1 to 3600");
			break;
		case 's':
			if (!strcmp(optarg, "bytes"))
				t.sort = TOP_BYTES;
			else if (!strcmp(optarg, "packets"))
				t.sort = TOP_PACKETS;
			else if (!strcmp(optarg, "flows"))
				t.sort = TOP_FLOWS;
			else
				return pks_usage_error("top", "--sort takes bytes, packets or flows");
			break;
		case 'p':
			if (pks_parse_proto_opt("top", optarg, &t.proto))
				return PKS_EXIT_USAGE;
			break;
		case '1':
			once = true;
			break;
		case 'v':
			pks_verbose++;
			break;
		case 'h':
			fputs(top_help, stdout);
			return PKS_EXIT_OK;
		default:
			return pks_usage_error("top", "bad option");
		}
	}
	if (optind != argc)
		return pks_usage_error("top", "top takes no arguments");
	if (pks_need_caps("top", PKS_NEED_BPF) || pks_need_bpffs())
		return PKS_EXIT_FAIL;
	if (pks_flowtab_pinned(&t.tab))
		return pks_fail("no flow table at %s/%s (%s): attach to an interface first", PKS_PIN_DIR,
				PKS_MAP_FLOWS4, strerror(errno));
	t.interactive = !once && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	sa.sa_handler = top_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (t.interactive && tty_setup()) {
		pks_flowtab_close(&t.tab);
		return pks_fail("cannot set up the terminal: %s", strerror(errno));
	}
	if (refresh(&t, 0)) {
		ret = pks_fail("cannot read the flow table: %s", strerror(errno));
		goto out;
	}
	while (!top_stop) {
		struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
		struct timespec t0, t1;
		int waited_ms = 0, wait_ms = (int)interval * 1000;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		/* Wait an interval, or less when a key comes. */
		while (!top_stop && waited_ms < wait_ms) {
			char k = 0;
			int n = poll(&in, t.interactive ? 1 : 0, wait_ms - waited_ms);

			clock_gettime(CLOCK_MONOTONIC, &t1);
			waited_ms = (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
			if (n <= 0 || read(STDIN_FILENO, &k, 1) != 1)
				continue;
			if (k == 'q' || k == 'Q')
				top_stop = 1;
			else if (k == 'b' || k == 'p' || k == 'f')
				t.sort = k == 'b' ? TOP_BYTES : k == 'p' ? TOP_PACKETS : TOP_FLOWS;
			else if (k == 'n')
				next_proto(&t);
			else if (k == 'a')
				t.proto = -1;
			else
				continue;
			break; /* redraw at once with what the key changed */
		}
		if (top_stop)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (refresh(&t, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9)) {
			ret = pks_fail("cannot read the flow table: %s", strerror(errno));
			break;
		}
		term_size(&t);
		if (!t.interactive)
			t.rows = 1 << 20; /* a frame on a pipe is not cut to a screen */
		draw(&t);
		if (once || !t.interactive)
			break;
	}
out:
	tty_restore();
	pks_flows_free(&t.now);
	pks_flows_free(&t.prev);
	pks_flowtab_close(&t.tab);
	return ret;
}
