// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * pktspec replay: every packet of a capture goes through the same XDP object
 * with BPF_PROG_TEST_RUN, into private maps, so a capture gives the verdicts
 * live traffic would have given, without an interface and without touching a
 * live attachment.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pktspec.h"
#include "pktspec.skel.h"
#include "capture.h"
#include "engine.h"

#define ETH_HLEN 14

int pks_replay_file(struct pktspec_bpf *skel, const char *path, struct pks_replay_stats *st, char *err,
		    size_t errlen)
{
	return pks_replay_file_ctx(skel, path, st, err, errlen, NULL);
}

/*
 * The same, with the context rules: after every packet the engine drains the
 * ring buffer and writes back, with the capture's clock, before the next
 * packet runs, as `pktspec run` would have done between them live.
 */
int pks_replay_file_ctx(struct pktspec_bpf *skel, const char *path, struct pks_replay_stats *st, char *err,
			size_t errlen, struct pks_engine *engine)
{
	int prog_fd = bpf_program__fd(skel->progs.pks_xdp);
	struct pks_capture *cap;
	struct pks_frame f;
	char cerr[256];
	int rc, ret = 0;

	memset(st, 0, sizeof(*st));
	ret = pks_capture_open(path, &cap, err, errlen);
	if (ret)
		return ret;
	st->linktype = pks_capture_linktype(cap);
	while ((rc = pks_capture_next(cap, &f, cerr, sizeof(cerr))) == 1) {
		LIBBPF_OPTS(bpf_test_run_opts, topts);

		st->packets++;
		if (f.len < ETH_HLEN) {
			/* Too short for an Ethernet header: the kernel never sees such frames. */
			st->skipped++;
			continue;
		}
		st->truncated += f.cut;
		if (!skel->bss->pks_replay.epoch_ns) {
			/*
			 * Flow entries count time in 32-bit ticks from an epoch
			 * (include/pktspec/pktspec.h): put the first packet in
			 * the middle of their 52 days, so that captures replayed
			 * after it may start up to 26 days earlier or later.
			 */
			__u64 half = 1ull << (PKS_TICK_SHIFT + 31);

			skel->bss->pks_replay.epoch_ns = f.ts_ns > half ? f.ts_ns - half : 1;
		}
		skel->bss->pks_replay.now_ns = f.ts_ns;
		skel->bss->pks_replay.wire_len = f.wire_len;
		topts.data_in = f.data;
		topts.data_size_in = f.len;
		topts.repeat = 1;
		if (bpf_prog_test_run_opts(prog_fd, &topts)) {
			ret = -errno;
			snprintf(err, errlen, "BPF_PROG_TEST_RUN failed on packet %llu of %s: %s",
				 (unsigned long long)st->packets, path, strerror(errno));
			break;
		}
		st->run++;
		if (engine)
			pks_engine_poll(engine, 0);
	}
	if (rc == -EBADMSG) {
		snprintf(err, errlen, "capture %s: %s", strcmp(path, "-") ? path : "stdin", cerr);
		ret = rc;
	} else if (rc < 0) {
		snprintf(err, errlen, "capture %s is corrupt or truncated after %llu packets: %s",
			 strcmp(path, "-") ? path : "stdin", (unsigned long long)st->packets, cerr);
		ret = rc;
	}
	skel->bss->pks_replay.now_ns = 0;
	skel->bss->pks_replay.wire_len = 0;
	pks_capture_close(cap);
	return ret;
}

static const char replay_help[] =
	"Usage: pktspec replay FILE... [--json] [--summary] [--proto NAME] [--stats]\n"
	"FILE '-' reads the capture from standard input.\n"
	"Run every packet of a capture (pcap or pcapng; Ethernet, Linux SLL/SLL2, raw\n"
	"IP, BSD loopback, Cisco HDLC or PPP) through the same XDP classifier with\n"
	"BPF_PROG_TEST_RUN, into private maps, and print the flows as 'flows' does,\n"
	"then (as a table) the per-protocol summary.\n"
	"Needs no interface and does not touch a live attachment. Several files are\n"
	"replayed one after another into one flow table; a bad one (with a malformed\n"
	"record, e.g. one that captured more bytes than its packet had) ends the replay:\n"
	"the flows read until then are printed, and the command exits 1.\n"
	"\n"
	"  -j, --json           one JSON object per flow per line\n"
	"  -s, --summary        only the per-protocol summary (with --json: one object\n"
	"                       per protocol)\n"
	"  -p, --proto NAME     only flows with this protocol\n"
	"      --addr ADDR      only flows with this address on either side\n"
	"      --port N         only flows with this port on either side\n"
	"      --sort KEY       age (capture order, the default), bytes or packets\n"
	"      --stats          also print the reason counters (stderr)\n"
	"  -a, --apps FILE      application list for the DNS/SNI names (default as 'run')\n"
	"      --no-apps        no application list\n"
	"      --no-context     no user-space context rules (the kernel still writes\n"
	"                       the FTP/TFTP expectations it owns)\n"
	"      --max-flows N    IPv4 flow table size, 1024-16777216 (default 262144); both\n"
	"                       tables together may take at most half of MemAvailable\n"
	"                       (128 and 160 bytes an entry)\n"
	"      --max-flows6 N   IPv6 flow table size, 1024-16777216 (default: a quarter of\n"
	"                       --max-flows, 65536)\n"
	"      --flow-table KIND  the IPv4 flow table: lru (an LRU hash, the default) or\n"
	"                       array (4-way buckets, two ways a flow: cheaper per packet,\n"
	"                       a flow may leave early when its bucket is full)\n"
	"      --inspect N      payload packets inspected per direction, 1-4 (default 4)\n"
	"      --tunnel-port KIND=PORT  UDP port a tunnel is opened on (vxlan 4789,\n"
	"                       geneve 6081, gtp-u 2152; 0 turns it off); repeatable\n"
	"  -v, --verbose        libbpf and verifier messages\n"
	"  -h, --help           this help\n";

int pks_engine_for_skel(struct pktspec_bpf *skel, const char *apps_path, struct pks_engine **out)
{
	struct pks_engine_opts eo = { .apps_path = apps_path };

	return pks_engine_for_skel_opts(skel, &eo, out);
}

int pks_engine_for_skel_opts(struct pktspec_bpf *skel, const struct pks_engine_opts *o, struct pks_engine **out)
{
	struct pks_engine_opts eo = *o;
	struct pks_engine_maps m = {
		.events = bpf_map__fd(skel->maps.pks_events),
		.ctlevents = bpf_map__fd(skel->maps.pks_ctlevents),
		.flows = bpf_map__fd(skel->maps.pks_flows),
		.flows4 = bpf_map__fd(skel->maps.pks_flows4),
		.ways4 = bpf_map__fd(skel->maps.pks_ways4),
		.expect = bpf_map__fd(skel->maps.pks_expect),
		.servers = bpf_map__fd(skel->maps.pks_servers),
		.hosts = bpf_map__fd(skel->maps.pks_hosts),
		.names = bpf_map__fd(skel->maps.pks_names),
		.done = bpf_map__fd(skel->maps.pks_done),
		.ctxstats = bpf_map__fd(skel->maps.pks_ctxstats),
		.ctl = bpf_map__fd(skel->maps.pks_ctl),
		.opstate = bpf_map__fd(skel->maps.pks_opstate),
		.ophosts = bpf_map__fd(skel->maps.pks_ophosts),
		.filter = bpf_map__fd(skel->maps.pks_filter),
		.expect_gate = bpf_map__fd(skel->maps.pks_expect_gate),
	};

	eo.clock = PKS_ENGINE_REPLAY;
	return pks_engine_new(&m, &eo, out);
}

int cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "proto", required_argument, NULL, 'p' },
					      { "stats", no_argument, NULL, 'T' },
					      { "summary", no_argument, NULL, 's' },
					      { "addr", required_argument, NULL, 'A' },
					      { "port", required_argument, NULL, 'P' },
					      { "sort", required_argument, NULL, 'S' },
					      { "apps", required_argument, NULL, 'a' },
					      { "no-apps", no_argument, NULL, 'n' },
					      { "no-context", no_argument, NULL, 'N' },
					      { "max-flows", required_argument, NULL, 'F' },
		{ "max-flows6", required_argument, NULL, '6' },
		{ "flow-table", required_argument, NULL, 'K' },
					      { "inspect", required_argument, NULL, 'I' },
					      { "tunnel-port", required_argument, NULL, 'U' },
					      { "verbose", no_argument, NULL, 'v' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	struct pks_print_opts po = { .proto = -1, .clock = PKS_CLOCK_REALTIME };
	struct pks_load_opts lo = { .pinned = false, .replay = true };
	struct pktspec_bpf *skel = NULL;
	struct pks_flow_set set;
	struct pks_flowtab tab;
	bool stats = false, context = true, summary = false;
	const char *apps = NULL;
	char apps_buf[PATH_MAX];
	bool no_apps = false, any_run = false;
	struct pks_engine *engine = NULL;
	unsigned long v;
	int c, ret = PKS_EXIT_OK;

	while ((c = getopt_long(argc, argv, "jp:sa:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			po.json = true;
			break;
		case 'p':
			if (pks_parse_proto_opt("replay", optarg, &po.proto))
				return PKS_EXIT_USAGE;
			break;
		case 'T':
			stats = true;
			break;
		case 's':
			summary = true;
			break;
		case 'A':
		case 'P':
		case 'S':
			if (pks_parse_listing_opt("replay", c, optarg, &po))
				return PKS_EXIT_USAGE;
			break;
		case 'a':
			apps = optarg;
			no_apps = false;
			break;
		case 'n':
			no_apps = true;
			apps = NULL;
			break;
		case 'N':
			context = false;
			break;
		case 'F':
			if (pks_max_flows_opt("replay", "--max-flows", optarg, &lo.max_flows))
				return PKS_EXIT_USAGE;
			break;
		case '6':
			if (pks_max_flows_opt("replay", "--max-flows6", optarg, &lo.max_flows6))
				return PKS_EXIT_USAGE;
			break;
		case 'K':
			if (pks_flow_table_opt("replay", optarg, &lo.table))
				return PKS_EXIT_USAGE;
			break;
		case 'I':
			if (pks_parse_uint(optarg, PKS_INSPECT_MAX, &v) || v < 1)
				return pks_usage_error("replay", "--inspect takes a number from 1 to %d",
						       PKS_INSPECT_MAX);
			lo.inspect_max = v;
			break;
		case 'U':
			if (pks_tunnel_port_opt(&lo, optarg))
				return pks_usage_error("replay", "--tunnel-port takes vxlan=PORT, geneve=PORT or gtp-u=PORT (0-65535)");
			break;
		case 'v':
			pks_verbose++;
			break;
		case 'h':
			fputs(replay_help, stdout);
			return PKS_EXIT_OK;
		default:
			return pks_usage_error("replay", "bad option");
		}
	}
	if (optind >= argc)
		return pks_usage_error("replay", "replay needs a capture file");
	for (int i = optind, from_stdin = 0; i < argc; i++) {
		char why[PATH_MAX + 64];
		int fd;

		if (!strcmp(argv[i], "-")) {
			if (from_stdin++)
				return pks_usage_error("replay", "'-' (stdin) can be given once");
			continue;
		}
		if (access(argv[i], R_OK) < 0)
			return pks_fail("cannot read capture %s: %s", argv[i], strerror(errno));
		/* A directory or a device is refused before anything is loaded. */
		fd = pks_input_open(argv[i], why, sizeof(why));
		if (fd < 0)
			return pks_fail("capture %s", why);
		close(fd);
	}
	if (pks_flows_memory_check(&lo))
		return PKS_EXIT_FAIL;
	if (pks_need_caps("replay", PKS_NEED_LOAD | PKS_NEED_NET_ADMIN))
		return PKS_EXIT_FAIL;
	if (pks_load(&lo, &skel))
		return PKS_EXIT_FAIL;
	if (!apps && !no_apps)
		apps = pks_apps_default(apps_buf, sizeof(apps_buf));
	if (context && pks_engine_for_skel(skel, apps, &engine)) {
		pktspec_bpf__destroy(skel);
		return PKS_EXIT_FAIL;
	}
	po.names_fd = context ? bpf_map__fd(skel->maps.pks_names) : -1;

	for (int i = optind; i < argc; i++) {
		struct pks_replay_stats st;
		char err[PATH_MAX + 512];
		int failed = pks_replay_file_ctx(skel, argv[i], &st, err, sizeof(err), engine) != 0;

		if (failed) {
			pks_fail("%s", err);
			ret = PKS_EXIT_FAIL;
		}
		any_run |= st.run > 0;
		if (stats)
			fprintf(stderr, "%s: %llu packets, %llu run, %llu too short, %llu cut to %d bytes\n",
				strcmp(argv[i], "-") ? argv[i] : "stdin", (unsigned long long)st.packets,
				(unsigned long long)st.run, (unsigned long long)st.skipped,
				(unsigned long long)st.truncated, PKS_CAPTURE_FRAME_MAX);
		/*
		 * A bad file ends the replay: the files before it and its readable
		 * part are still printed, then the command fails (exit 1).
		 */
		if (failed)
			break;
	}
	if (ret && !any_run)
		goto out; /* a failure before any packet ran: only the error */

	if (pks_flowtab_for_skel(&tab, skel, true) || pks_flows_read(&tab, &set)) {
		ret = pks_fail("cannot read the flow table");
		goto out;
	}
	pks_flows_filter(&set, &po);
	pks_flows_order(&set, po.sort);
	if (!summary)
		pks_flows_print(&set, &po, stdout);
	if (summary || (!po.json && set.n)) {
		struct pks_summary sum = {};

		for (size_t i = 0; i < set.n; i++)
			pks_summary_add(&sum, &set.recs[i]);
		if (!summary)
			fputc('\n', stdout);
		pks_summary_print(&sum, po.json, stdout);
	}
	pks_flows_free(&set);
	if (stats) {
		__u64 reasons[PKS_REASON__COUNT];

		if (pks_stats_read(bpf_map__fd(skel->maps.pks_stats), reasons) == 0)
			for (int r = 0; r < PKS_REASON__COUNT; r++)
				if (reasons[r])
					fprintf(stderr, "  %-16s %llu\n", pks_reason_name(r),
						(unsigned long long)reasons[r]);
	}
out:
	pks_engine_free(engine);
	pktspec_bpf__destroy(skel);
	return ret;
}
