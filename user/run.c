// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * pktspec run: the context-rule engine in the foreground (a terminal, or the
 * systemd unit dist/pktspec.service). Attaches when asked, consumes the
 * pinned event ring, applies the rules (user/engine.h), writes their results
 * into the pinned maps and prints flows and verdict changes as they happen.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pktspec.h"
#include "engine.h"

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
	"packet, and print flows and verdict changes as they happen. Stops on SIGINT or\n"
	"SIGTERM. Without -i it serves the interfaces 'pktspec attach' attached.\n"
	"\n"
	"  -i, --interface IFACE  attach to IFACE first (repeatable)\n"
	"  -m, --mode MODE        native or generic, for -i (default: native)\n"
	"      --detach-on-exit   detach what -i attached when stopping\n"
	"  -a, --apps FILE        application list: 'NAME-SUFFIX APPLICATION' per line\n"
	"      --server-ttl SEC   how long server memory lasts (default 600)\n"
	"      --expect-ttl SEC   how long an announced flow is expected (default 60)\n"
	"  -j, --json             one JSON object per event per line\n"
	"  -q, --quiet            print nothing per event\n"
	"  -v, --verbose          libbpf messages, expectations as they are written, and\n"
	"                         on exit the engine's and the kernel's context counters\n"
	"                         (events sent, lost because the ring was full, ...)\n"
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

static int open_pinned(const char *name, int *fd)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", PKS_PIN_DIR, name);
	*fd = bpf_obj_get(path);
	if (*fd < 0)
		return pks_fail("no %s at %s (%s): attach to an interface first (-i IFACE or 'pktspec attach')",
				name, path, strerror(errno)),
		       -errno;
	return 0;
}

/* The kernel's context counters (pks_ctxstats), summed over CPUs, on stderr. */
static void print_ctx_stats(int fd)
{
	static const char *const names[] = { "ev_flow",	       "ev_verdict",   "ev_payload",	 "lost_flow",
					     "lost_verdict",   "lost_payload", "snap_cut",	 "expect_hit",
					     "expect_expired", "memory_hit",   "memory_overruled", "host_hit",
					     "done" };
	int ncpu = libbpf_num_possible_cpus();
	struct pks_ctx_stats *per;
	__u32 zero = 0;

	_Static_assert(sizeof(names) / sizeof(names[0]) == sizeof(struct pks_ctx_stats) / 8,
		       "one name per pks_ctx_stats field");
	if (ncpu <= 0 || !(per = calloc(ncpu, sizeof(*per))))
		return;
	if (bpf_map_lookup_elem(fd, &zero, per) == 0) {
		for (size_t f = 0; f < sizeof(names) / sizeof(names[0]); f++) {
			unsigned long long sum = 0;

			for (int c = 0; c < ncpu; c++)
				sum += ((__u64 *)&per[c])[f];
			fprintf(stderr, "  %-18s %llu\n", names[f], sum);
		}
	}
	free(per);
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = { { "interface", required_argument, NULL, 'i' },
					      { "mode", required_argument, NULL, 'm' },
					      { "detach-on-exit", no_argument, NULL, 'D' },
					      { "apps", required_argument, NULL, 'a' },
					      { "server-ttl", required_argument, NULL, 'S' },
					      { "expect-ttl", required_argument, NULL, 'E' },
					      { "json", no_argument, NULL, 'j' },
					      { "quiet", no_argument, NULL, 'q' },
					      { "verbose", no_argument, NULL, 'v' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	struct pks_engine_opts eo = { .print = true, .clock = PKS_ENGINE_LIVE };
	struct pks_engine_maps maps;
	struct pks_engine *e = NULL;
	const char *ifaces[PKS_RUN_IFACES_MAX];
	const char *mode = "native";
	int n_ifaces = 0, attached = 0, c, ret = PKS_EXIT_FAIL;
	bool detach = false;
	unsigned long v;
	struct sigaction sa = {};
	int *fds[] = { &maps.events, &maps.flows, &maps.expect, &maps.servers, &maps.hosts, &maps.names, &maps.done,
		       &maps.ctxstats };
	static const char *const names[] = { PKS_MAP_EVENTS, PKS_MAP_FLOWS, PKS_MAP_EXPECT, PKS_MAP_SERVERS,
					     PKS_MAP_HOSTS,  PKS_MAP_NAMES, PKS_MAP_DONE,   PKS_MAP_CTXSTATS };

	while ((c = getopt_long(argc, argv, "i:m:a:jqvh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (n_ifaces == PKS_RUN_IFACES_MAX)
				return pks_usage_error("run", "at most %d interfaces", PKS_RUN_IFACES_MAX);
			ifaces[n_ifaces++] = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "native") && strcmp(optarg, "generic"))
				return pks_usage_error("run", "unknown mode '%s': use native or generic", optarg);
			mode = optarg;
			break;
		case 'D':
			detach = true;
			break;
		case 'a':
			eo.apps_path = optarg;
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
	if (detach && !n_ifaces)
		return pks_usage_error("run", "--detach-on-exit needs -i IFACE");
	if (pks_need_caps("run", PKS_NEED_LOAD | PKS_NEED_NET_ADMIN))
		return PKS_EXIT_FAIL;
	if (pks_need_bpffs())
		return PKS_EXIT_FAIL;

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		*fds[i] = -1;
	for (; attached < n_ifaces; attached++) {
		char *av[] = { "attach", "--mode", (char *)mode, (char *)ifaces[attached], NULL };

		if (run_cmd(cmd_attach, av, 4) != PKS_EXIT_OK)
			goto out;
	}
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (open_pinned(names[i], fds[i]))
			goto out;
	if (pks_engine_new(&maps, &eo, &e))
		goto out;

	sa.sa_handler = on_signal; /* no SA_RESTART: the poll returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "pktspec: running the context rules; stop with Ctrl-C\n");
	ret = PKS_EXIT_OK;
	while (!stop) {
		int n = pks_engine_poll(e, 500);

		if (n < 0 && n != -EINTR) {
			ret = pks_fail("reading events: %s", strerror(-n));
			break;
		}
	}
	if (pks_verbose) {
		const struct pks_engine_stats *st = pks_engine_stats(e);

		fprintf(stderr,
			"pktspec: %llu events (%llu flows, %llu verdicts, %llu payloads); wrote %llu expected flows, "
			"%llu server names, %llu flow names, %llu server memories; %llu map errors, %llu malformed\n",
			(unsigned long long)st->events, (unsigned long long)st->flows,
			(unsigned long long)st->verdicts, (unsigned long long)st->payloads,
			(unsigned long long)st->expects, (unsigned long long)st->hosts, (unsigned long long)st->names,
			(unsigned long long)st->remembered, (unsigned long long)st->map_errors,
			(unsigned long long)st->malformed);
		print_ctx_stats(maps.ctxstats);
	}
out:
	pks_engine_free(e);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
	/* Nothing half-attached: what this run attached before failing goes too. */
	if (detach || attached < n_ifaces) {
		for (int i = attached - 1; i >= 0; i--) {
			char *av[] = { "detach", (char *)ifaces[i], NULL };

			if (run_cmd(cmd_detach, av, 2) != PKS_EXIT_OK)
				ret = PKS_EXIT_FAIL;
		}
	}
	return ret;
}
