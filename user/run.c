// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * pktspec run: the context-rule engine in the foreground (a terminal, or the
 * systemd unit dist/pktspec.service). Attaches when asked, consumes the
 * pinned event ring, applies the rules (user/engine.h), writes their results
 * into the pinned maps and prints flows and verdict changes as they happen.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pktspec.h"
#include "engine.h"
#include "pktspec/filter.h"
#include "pktspec/oprules.h"
#include "ipfix.h"
#include "lifecycle.h"
#include "metrics.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char run_help[] =
	"Usage: pktspec run [-i IFACE]... [options]\n"
	"Run the context rules: consume the classifier's events, learn expected flows\n"
	"(FTP, SIP/SDP, RTSP, TFTP), server names (DNS) and server memory, write them\n"
	"back into the pinned maps so that XDP classifies later flows from their first\n"
	"packet, and print flows and verdict changes (read in batches, at least every\n"
	"50 ms). Stops on SIGINT or SIGTERM. Without -i it serves the interfaces\n"
	"'pktspec attach' attached.\n"
	"One run serves the pinned maps: a second one exits 1 naming the first.\n"
	"It also ends flows (TCP FIN/RST, idle and active timeouts), removes them\n"
	"from the flow table and reports each one: as a line or JSON, over IPFIX,\n"
	"and in Prometheus metrics (doc/export.md).\n"
	"\n"
	"  -i, --interface IFACE  attach to IFACE first (repeatable); an attachment of\n"
	"                         this build already there (after a crash) is adopted\n"
	"  -m, --mode MODE        native (drv) or generic (skb), for -i (default: native)\n"
	"      --detach-on-exit   detach the -i interfaces when stopping\n"
	"  -a, --apps FILE        application list: 'NAME-SUFFIX APPLICATION' per line\n"
	"                         (default: " PKS_APPS_ETC ", else the list installed\n"
	"                         in PREFIX/share/pktspec/apps)\n"
	"      --no-apps          no application list\n"
	"      --server-ttl SEC   how long server memory lasts (default 600)\n"
	"      --expect-ttl SEC   how long an announced flow is expected (default 60)\n"
	"      --linger SEC       a TCP flow ends this long after a RST or the FIN of\n"
	"                         both sides (default 2; 0 ends it at the next scan)\n"
	"      --fin-timeout SEC  idle timeout of TCP flows with one FIN (default 15)\n"
	"      --tcp-timeout SEC  idle timeout of other TCP flows (default 300)\n"
	"      --udp-timeout SEC  idle timeout of UDP flows (default 60)\n"
	"      --active-timeout SEC  interim record of a longer flow (default 1800)\n"
	"      --ipfix HOST:PORT  export ended flows over IPFIX (UDP) to a collector\n"
	"      --ipfix-domain N   IPFIX observation domain ID (default 0)\n"
	"      --ipfix-refresh SEC  re-send the IPFIX templates this often (default 60)\n"
	"      --metrics ADDR:PORT  serve Prometheus metrics at http://ADDR:PORT/metrics\n"
	"  -j, --json             one JSON object per event per line (flow, verdict,\n"
	"                         end, interim)\n"
	"  -q, --quiet            print nothing per event\n"
	"  -v, --verbose          libbpf messages, expectations as they are written, and\n"
	"                         on exit the engine's and the kernel's context counters\n"
	"                         (events sent, lost because a ring was full, ...)\n"
	"  -h, --help             this help\n";

#define PKS_RUN_IFACES_MAX 64

/* attach/detach through their commands, their one-line report on stderr (stdout is for events). */
static int run_cmd(int (*cmd)(int, char **), char **argv, int argc)
{
	int saved, ret;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved >= 0)
		dup2(STDERR_FILENO, STDOUT_FILENO);
	optind = 0; /* getopt starts afresh for the command */
	ret = cmd(argc, argv);
	fflush(stdout);
	if (saved >= 0) {
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	return ret;
}

/*
 * Detaches the first n of ifaces, last first: all of them, or only those this
 * run attached (not those it adopted). Returns 0, or -1 when one failed.
 */
static int detach_ifaces(const char **ifaces, int n, const bool *adopted, bool all)
{
	int err = 0;

	for (int i = n - 1; i >= 0; i--) {
		char *av[] = { "detach", (char *)ifaces[i], NULL };

		if (adopted[i] && !all)
			continue;
		if (run_cmd(cmd_detach, av, 2) != PKS_EXIT_OK)
			err = -1;
	}
	return err;
}

/* Whether name in the pin directory still names fd's map: not once the last detach removed the pins. */
static bool still_pinned(const char *name, int fd)
{
	struct bpf_map_info a = {}, b = {};
	__u32 la = sizeof(a), lb = sizeof(b);
	char path[256];
	int pfd;
	bool same;

	snprintf(path, sizeof(path), "%s/%s", PKS_PIN_DIR, name);
	pfd = bpf_obj_get(path);
	if (pfd < 0)
		return false;
	same = !bpf_obj_get_info_by_fd(fd, &a, &la) && !bpf_obj_get_info_by_fd(pfd, &b, &lb) && a.id == b.id;
	close(pfd);
	return same;
}

static int open_pinned(const char *name, int *fd)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", PKS_PIN_DIR, name);
	*fd = bpf_obj_get(path);
	if (*fd >= 0)
		return 0;
	/* The classifier is there but lacks this map: an older pktspec pinned it (pks_ctlevents came later). */
	if (errno == ENOENT && access(PKS_PIN_DIR "/" PKS_MAP_EVENTS, F_OK) == 0)
		return pks_fail("the classifier pinned in %s has no %s: an older pktspec attached it; detach it "
				"('pktspec detach IFACE') and attach again",
				PKS_PIN_DIR, name),
		       -ENOENT;
	return pks_fail("no %s at %s (%s): attach to an interface first (-i IFACE or 'pktspec attach')", name,
			path, strerror(errno)),
	       -errno;
}

/* The kernel's context counters (pks_ctxstats), summed over CPUs, on stderr. */
static void print_ctx_stats(int fd)
{
	static const char *const names[] = { "ev_flow",	       "ev_verdict",   "ev_payload",	 "lost_flow",
					     "lost_verdict",   "lost_payload", "snap_cut",	 "expect_hit",
					     "expect_expired", "memory_hit",   "memory_overruled", "host_hit",
					     "done",	       "user_hit" };
	struct pks_ctx_stats sum;

	_Static_assert(sizeof(names) / sizeof(names[0]) == sizeof(struct pks_ctx_stats) / 8,
		       "one name per pks_ctx_stats field");
	if (pks_ctx_stats_read(fd, &sum))
		return;
	for (size_t f = 0; f < sizeof(names) / sizeof(names[0]); f++)
		fprintf(stderr, "  %-18s %llu\n", names[f], (unsigned long long)((__u64 *)&sum)[f]);
}

/* How often the daemon scans the flow table for ended flows. */
#define PKS_SCAN_INTERVAL PKS_SEC

struct run_sinks {
	bool print, json;
	struct pks_ipfix *ipfix;
};

/* Every record of the lifecycle: printed (unless -q) and exported. */
static void run_emit(void *ctx, const struct pks_flow_record *r)
{
	struct run_sinks *s = ctx;

	if (s->print)
		pks_flow_record_print(stdout, r, s->json, PKS_CLOCK_MONOTONIC);
	if (s->ipfix)
		pks_ipfix_add(s->ipfix, r);
}

/* The flow table's between hook: the control ring, read while a scan goes on. */
static void run_between(void *ctx)
{
	pks_engine_poll_ctl(ctx);
}

/* New-flow and verdict events into the lifecycle (ctx: the daemon's tracker, once it exists). */
static void run_on_flow(void *ctx, const struct pks_event_flow *ev)
{
	struct pks_lifecycle **lc = ctx;

	if (*lc)
		pks_lifecycle_event(*lc, ev);
}

/* The engine wrote a flow's name or done mark (ctx: the daemon's tracker, once it exists). */
static void run_on_context(void *ctx, const struct pks_flow_key *k)
{
	struct pks_lifecycle **lc = ctx;

	if (*lc)
		pks_lifecycle_context(*lc, k);
}

/*
 * After a scan that found the flow table evicting (the kernel-side count,
 * doc/design.md "Evictions"): one line, or one JSON event, with the total.
 * Returns the total shown.
 */
static uint64_t run_evictions(const struct pks_lifecycle *lc, uint64_t shown, bool json)
{
	const struct pks_lifecycle_counts *c = pks_lifecycle_counts(lc);

	if (c->table_evictions <= shown)
		return shown;
	if (json)
		printf("{\"event\":\"evictions\",\"evicted\":%llu,\"new\":%llu,\"restored\":%llu,\"repaired\":%llu,"
		       "\"expected_back\":%llu}\n",
		       (unsigned long long)c->table_evictions, (unsigned long long)(c->table_evictions - shown),
		       (unsigned long long)c->restored, (unsigned long long)c->repaired, (unsigned long long)c->pending);
	else
		printf("evictions: %llu flows evicted by the full flow table (%llu new); %llu restored, %llu repaired, "
		       "%llu expected back\n",
		       (unsigned long long)c->table_evictions, (unsigned long long)(c->table_evictions - shown),
		       (unsigned long long)c->restored, (unsigned long long)c->repaired, (unsigned long long)c->pending);
	fflush(stdout);
	return c->table_evictions;
}

static const char *timeout_name(int c)
{
	return c == 'L' ? "linger" : c == 'F' ? "fin-timeout" : c == 'T' ? "tcp-timeout" : c == 'U' ? "udp-timeout"
												    : "active-timeout";
}

static uint64_t *timeout_field(struct pks_lifecycle_opts *o, int c)
{
	return c == 'L' ? &o->linger_ns : c == 'F' ? &o->fin_timeout_ns : c == 'T' ? &o->tcp_timeout_ns
						    : c == 'U' ? &o->udp_timeout_ns : &o->active_timeout_ns;
}

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * PKS_SEC + t.tv_nsec;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = { { "interface", required_argument, NULL, 'i' },
					      { "mode", required_argument, NULL, 'm' },
					      { "detach-on-exit", no_argument, NULL, 'D' },
					      { "apps", required_argument, NULL, 'a' },
					      { "no-apps", no_argument, NULL, 'n' },
					      { "server-ttl", required_argument, NULL, 'S' },
					      { "expect-ttl", required_argument, NULL, 'E' },
					      { "linger", required_argument, NULL, 'L' },
					      { "fin-timeout", required_argument, NULL, 'F' },
					      { "tcp-timeout", required_argument, NULL, 'T' },
					      { "udp-timeout", required_argument, NULL, 'U' },
					      { "active-timeout", required_argument, NULL, 'A' },
					      { "ipfix", required_argument, NULL, 'X' },
					      { "ipfix-domain", required_argument, NULL, 'O' },
					      { "ipfix-refresh", required_argument, NULL, 'R' },
					      { "metrics", required_argument, NULL, 'M' },
					      { "json", no_argument, NULL, 'j' },
					      { "quiet", no_argument, NULL, 'q' },
					      { "verbose", no_argument, NULL, 'v' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	struct pks_engine_opts eo = { .print = true, .clock = PKS_ENGINE_LIVE };
	struct pks_lifecycle_opts lo = { .linger_ns = PKS_LINGER_DEFAULT };
	struct pks_ipfix_opts xo = { .clock = PKS_CLOCK_MONOTONIC };
	struct run_sinks sinks = {};
	struct pks_lifecycle *lc = NULL;
	struct pks_metrics *metrics = NULL;
	const char *metrics_addr = NULL;
	struct pks_engine_maps maps;
	struct pks_flowtab flowtab;
	struct pks_engine *e = NULL;
	const char *ifaces[PKS_RUN_IFACES_MAX];
	const char *mode = "native";
	int n_ifaces = 0, attached = 0, c, ret = PKS_EXIT_FAIL;
	uint64_t next_scan = 0, evictions_shown = 0;
	int stats_fd = -1, lock_fd, daemon_fd = -1, restore_fd = -1, ledger_fd = -1;
	bool detach = false, detached = false, no_apps = false, mode_given = false, created_dir = false;
	bool adopted[PKS_RUN_IFACES_MAX] = {};
	char apps_buf[PATH_MAX];
	unsigned long v;
	struct sigaction sa = {};
	int *fds[] = { &maps.events,  &maps.ctlevents, &maps.flows,  &maps.flows4,   &maps.ways4,   &maps.expect,
		       &maps.servers, &maps.hosts,     &maps.names,  &maps.done,     &maps.ctxstats, &maps.ctl,
		       &maps.opstate, &maps.ophosts,   &maps.filter, &maps.expect_gate };
	static const char *const names[] = { PKS_MAP_EVENTS,  PKS_MAP_CTLEVENTS, PKS_MAP_FLOWS,  PKS_MAP_FLOWS4,
					     PKS_MAP_WAYS4,   PKS_MAP_EXPECT,    PKS_MAP_SERVERS, PKS_MAP_HOSTS,
					     PKS_MAP_NAMES,   PKS_MAP_DONE,      PKS_MAP_CTXSTATS, PKS_MAP_CTL,
					     PKS_MAP_OPSTATE, PKS_MAP_OPHOSTS,   PKS_MAP_FILTER, PKS_MAP_EXPECT_GATE };

	pks_flowtab_init(&flowtab);
	while ((c = getopt_long(argc, argv, "i:m:a:jqvh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (n_ifaces == PKS_RUN_IFACES_MAX)
				return pks_usage_error("run", "at most %d interfaces", PKS_RUN_IFACES_MAX);
			ifaces[n_ifaces++] = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "native") && strcmp(optarg, "generic") && strcmp(optarg, "drv") &&
			    strcmp(optarg, "skb"))
				return pks_usage_error("run", "unknown mode '%s': use native (drv) or generic (skb)",
						       optarg);
			mode = optarg;
			mode_given = true;
			break;
		case 'D':
			detach = true;
			break;
		case 'a':
			eo.apps_path = optarg;
			no_apps = false;
			break;
		case 'n':
			no_apps = true;
			eo.apps_path = NULL;
			break;
		case 'S':
		case 'E':
			if (pks_parse_uint(optarg, 30 * 86400, &v) || v < 1)
				return pks_usage_error("run", "--%s takes seconds from 1 to %d",
						       c == 'S' ? "server-ttl" : "expect-ttl", 30 * 86400);
			if (c == 'S')
				eo.server_ttl_ns = v * 1000000000ull;
			else
				eo.expect_ttl_ns = v * 1000000000ull;
			break;
		case 'L':
		case 'F':
		case 'T':
		case 'U':
		case 'A':
			if (pks_parse_uint(optarg, 30 * 86400, &v) || (c != 'L' && v < 1))
				return pks_usage_error("run", "--%s takes seconds from %d to %d", timeout_name(c),
						       c == 'L' ? 0 : 1, 30 * 86400);
			*timeout_field(&lo, c) = v * PKS_SEC;
			break;
		case 'X':
			xo.target = optarg;
			break;
		case 'O':
			if (pks_parse_uint(optarg, 0xffffffffUL, &v))
				return pks_usage_error("run", "--ipfix-domain takes a number from 0 to 4294967295");
			xo.domain = v;
			break;
		case 'R':
			if (pks_parse_uint(optarg, 86400, &v) || v < 1)
				return pks_usage_error("run", "--ipfix-refresh takes seconds from 1 to 86400");
			xo.refresh_ns = v * PKS_SEC;
			break;
		case 'M':
			metrics_addr = optarg;
			break;
		case 'j':
			eo.json = true;
			break;
		case 'q':
			eo.print = false;
			break;
		case 'v':
			pks_verbose++;
			break;
		case 'h':
			fputs(run_help, stdout);
			return PKS_EXIT_OK;
		default:
			return pks_usage_error("run", "bad option");
		}
	}
	if (optind != argc)
		return pks_usage_error("run", "run takes no arguments (interfaces go with -i)");
	if (!eo.apps_path && !no_apps)
		eo.apps_path = pks_apps_default(apps_buf, sizeof(apps_buf));
	if (pks_verbose)
		fprintf(stderr, "pktspec: application list: %s\n", eo.apps_path ? eo.apps_path : "none");
	if (detach && !n_ifaces)
		return pks_usage_error("run", "--detach-on-exit needs -i IFACE");
	if (xo.target && pks_ipfix_check_target(xo.target))
		return pks_usage_error("run", "--ipfix takes HOST:PORT or [IPv6]:PORT, not '%s'", xo.target);
	if (metrics_addr && pks_metrics_check_addr(metrics_addr))
		return pks_usage_error("run", "--metrics takes ADDR:PORT or [IPv6]:PORT, not '%s'", metrics_addr);
	if (pks_need_caps("run", PKS_NEED_LOAD | PKS_NEED_NET_ADMIN))
		return PKS_EXIT_FAIL;
	if (pks_need_bpffs())
		return PKS_EXIT_FAIL;

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		*fds[i] = -1;
	/*
	 * One daemon per pinned event ring, under attach's lock: a second run
	 * names the first and stops here, before it attaches anything. An
	 * interface that already carries this classifier on these maps (a
	 * restart after a crash) is adopted as it is.
	 */
	lock_fd = pks_lock();
	if (lock_fd < 0)
		return PKS_EXIT_FAIL;
	daemon_fd = pks_daemon_lock(&created_dir);
	for (int i = 0; daemon_fd >= 0 && i < n_ifaces; i++) {
		int r = pks_attach_adopt(ifaces[i], mode_given ? mode : NULL);

		if (r < 0) {
			close(daemon_fd);
			daemon_fd = -1;
		} else if (r > 0) {
			adopted[i] = true;
			fprintf(stderr, "pktspec: %s already carries this classifier: serving it as it is\n", ifaces[i]);
		}
	}
	if (daemon_fd < 0 && created_dir)
		rmdir(PKS_PIN_DIR);
	close(lock_fd);
	if (daemon_fd < 0)
		return PKS_EXIT_FAIL;
	for (; attached < n_ifaces; attached++) {
		char *av[] = { "attach", "--mode", (char *)mode, (char *)ifaces[attached], NULL };

		if (!adopted[attached] && run_cmd(cmd_attach, av, 4) != PKS_EXIT_OK)
			goto out;
	}
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (open_pinned(names[i], fds[i]))
			goto out;
	if (open_pinned(PKS_MAP_STATS, &stats_fd))
		goto out;
	eo.on_flow = run_on_flow;
	eo.on_flow_ctx = &lc;
	eo.on_context = run_on_context;
	eo.on_context_ctx = &lc;
	if (pks_engine_new(&maps, &eo, &e))
		goto out;
	sinks.print = eo.print;
	sinks.json = eo.json;
	if (pks_flowtab_pinned(&flowtab)) {
		pks_fail("cannot open the flow tables in %s: %s", PKS_PIN_DIR, strerror(errno));
		goto out;
	}
	flowtab.between = run_between;
	flowtab.between_ctx = e;
	if (pks_lifecycle_new(&flowtab, maps.names, maps.done, &lo, run_emit, &sinks, &lc)) {
		pks_fail("cannot start the flow lifecycle: %s", strerror(ENOMEM));
		goto out;
	}
	/* Evictions: counted and survived (doc/design.md); an attachment older than these maps has neither. */
	restore_fd = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_RESTORE);
	ledger_fd = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_LEDGER);
	{
		int err = pks_lifecycle_set_restore(lc, restore_fd, maps.ctl, ledger_fd, stats_fd, maps.filter);

		if (err) {
			pks_fail("cannot map the lookup filter (%s) for pks_restore: %s", PKS_MAP_FILTER, strerror(-err));
			goto out;
		}
	}
	if (xo.target && pks_ipfix_new(&xo, &sinks.ipfix))
		goto out;
	if (metrics_addr) {
		struct pks_metrics_src src = { .lc = lc, .engine = e, .ipfix = sinks.ipfix, .flows = &flowtab,
					       .filter_fd = maps.filter, .gate_fd = maps.expect_gate,
					       .stats_fd = stats_fd, .ctxstats_fd = maps.ctxstats };

		if (pks_metrics_new(metrics_addr, &src, &metrics))
			goto out;
	}

	sa.sa_handler = on_signal; /* no SA_RESTART: the poll returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "pktspec: running the context rules; stop with Ctrl-C\n");
	ret = PKS_EXIT_OK;
	while (!stop) {
		struct pollfd pfd[2] = { { .fd = pks_engine_fd(e), .events = POLLIN },
					 { .fd = metrics ? pks_metrics_fd(metrics) : -1, .events = POLLIN } };
		uint64_t now = mono_ns();
		int n, wait_ms = now >= next_scan ? 0 : (int)((next_scan - now + 999999) / 1000000);

		/* Most events do not wake the reader (bpf/context/events.h, pks_cr_wake_lazy): look anyway. */
		if (wait_ms > PKS_EVENTS_LATENCY_MS)
			wait_ms = PKS_EVENTS_LATENCY_MS;

		if (poll(pfd, 2, wait_ms) < 0 && errno != EINTR) {
			ret = pks_fail("waiting for events: %s", strerror(errno));
			break;
		}
		n = pks_engine_poll(e, 0);
		if (n < 0 && n != -EINTR) {
			ret = pks_fail("reading events: %s", strerror(-n));
			break;
		}
		if (mono_ns() >= next_scan) {
			n = pks_lifecycle_scan(lc, mono_ns());
			if (n < 0)
				pks_fail("scanning the flow table: %s", strerror(-n));
			else if (sinks.print)
				evictions_shown = run_evictions(lc, evictions_shown, sinks.json);
			next_scan = mono_ns() + PKS_SCAN_INTERVAL;
		}
		/*
		 * Events and records go out once a turn, not one write each: under
		 * a flood a scan ends hundreds of thousands of flows, and a write
		 * a record was a fifth of the daemon's time.
		 */
		fflush(stdout);
		if (sinks.ipfix)
			pks_ipfix_flush(sinks.ipfix);
		if (metrics)
			pks_metrics_run(metrics);
	}
	/*
	 * --detach-on-exit: the interfaces go first, so that the flows' last
	 * state is final. Every flow ends when the tables go with the last
	 * attachment, and the last records say so; while another attachment
	 * keeps the tables, its flows go on (the next daemon ends them).
	 */
	if (detach) {
		if (detach_ifaces(ifaces, attached, adopted, true))
			ret = PKS_EXIT_FAIL;
		detached = true;
		if (lc && !still_pinned(PKS_MAP_FLOWS, maps.flows)) {
			/* What the kernel sent before the detach, names and verdicts included (a ring's worth at most). */
			for (int i = 0; i < 256 && pks_engine_poll(e, 0) > 0; i++)
				;
			pks_lifecycle_flush(lc, PKS_END_SHUTDOWN);
			fflush(stdout);
		} else if (lc) {
			fprintf(stderr, "pktspec: another attachment keeps the flow table: its flows go on\n");
		}
	}
	if (pks_verbose) {
		const struct pks_engine_stats *st = pks_engine_stats(e);

		fprintf(stderr,
			"pktspec: %llu events (%llu flows, %llu verdicts, %llu payloads); wrote %llu expected flows, "
			"%llu server names, %llu flow names, %llu server memories, %llu apps; %llu map errors, "
			"%llu malformed\n",
			(unsigned long long)st->events, (unsigned long long)st->flows,
			(unsigned long long)st->verdicts, (unsigned long long)st->payloads,
			(unsigned long long)st->expects, (unsigned long long)st->hosts, (unsigned long long)st->names,
			(unsigned long long)st->remembered, (unsigned long long)st->apps, (unsigned long long)st->map_errors,
			(unsigned long long)st->malformed);
		print_ctx_stats(maps.ctxstats);
		if (lc)
			fprintf(stderr,
				"pktspec: %llu flow table scans, %llu evictions (%llu seen by the scans), %llu restored "
				"by the kernel, %llu repaired, %llu expected back, %llu not kept (pks_restore full), "
				"%llu deletions refused\n",
				(unsigned long long)pks_lifecycle_counts(lc)->scans,
				(unsigned long long)pks_lifecycle_counts(lc)->table_evictions,
				(unsigned long long)pks_lifecycle_evictions(lc),
				(unsigned long long)pks_lifecycle_counts(lc)->restored,
				(unsigned long long)pks_lifecycle_counts(lc)->repaired,
				(unsigned long long)pks_lifecycle_counts(lc)->pending,
				(unsigned long long)pks_lifecycle_counts(lc)->restore_full,
				(unsigned long long)pks_lifecycle_counts(lc)->delete_errors);
	}
out:
	pks_metrics_free(metrics);
	pks_flowtab_close(&flowtab);
	if (sinks.ipfix) {
		const struct pks_ipfix_stats *xs;

		pks_ipfix_flush(sinks.ipfix);
		xs = pks_ipfix_stats(sinks.ipfix);
		if (pks_verbose || xs->dropped)
			fprintf(stderr, "pktspec: IPFIX to %s: %llu records in %llu messages, %llu dropped, %llu send errors\n",
				xo.target, (unsigned long long)xs->records, (unsigned long long)xs->messages,
				(unsigned long long)xs->dropped, (unsigned long long)xs->send_errors);
		pks_ipfix_free(sinks.ipfix);
	}
	pks_lifecycle_free(lc);
	pks_engine_free(e);
	if (stats_fd >= 0)
		close(stats_fd);
	if (restore_fd >= 0)
		close(restore_fd);
	if (ledger_fd >= 0)
		close(ledger_fd);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	/* Nothing half-attached: what this run attached before failing goes too (not what it adopted). */
	if (!detached && (detach || attached < n_ifaces) && detach_ifaces(ifaces, attached, adopted, detach))
		ret = PKS_EXIT_FAIL;
	if (created_dir) {
		/* An empty pin directory this run made only to lock it (nothing attached) goes. */
		lock_fd = pks_lock();
		rmdir(PKS_PIN_DIR);
		if (lock_fd >= 0)
			close(lock_fd);
	}
	close(daemon_fd);
	return ret;
}
