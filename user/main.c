// SPDX-License-Identifier: MIT OR Apache-2.0
/* pktspec: speculative application-protocol classification at XDP. */
#include <stdlib.h>
#include <string.h>

#include "pktspec.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "attach", cmd_attach, "load the classifier and attach it to an interface" },
	{ "detach", cmd_detach, "detach from an interface, removing its pins" },
	{ "status", cmd_status, "attachments, flow table fill, reason counters" },
	{ "flows", cmd_flows, "the flow table with verdicts (table, JSON or per-protocol summary)" },
	{ "top", cmd_top, "a live view of the busiest protocols and flows" },
	{ "replay", cmd_replay, "run a capture through the classifier and print its flows" },
	{ "protocols", cmd_protocols, "the protocol table: IDs, names, ports" },
	{ "policy", cmd_policy, "tc policy by verdict: mark, class, priority, DSCP, drop" },
	{ "rules", cmd_rules, "the operator's rules: protocol and app by server prefix, port, host name" },
	{ "run", cmd_run, "the daemon: context rules, flow ends, JSON/IPFIX/Prometheus export" },
	{ "probe", cmd_probe, "check this kernel: load every program, verifier statistics" },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: pktspec [-v] COMMAND [options]\n"
		     "       pktspec --version | --help\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'pktspec COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			pks_verbose++;
		} else if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			printf("pktspec %s\n", PKS_VERSION);
			return PKS_EXIT_OK;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return PKS_EXIT_OK;
		} else {
			return pks_usage_error(NULL, "unknown option '%s'", argv[i]);
		}
	}
	if (i >= argc) {
		usage(stderr);
		return PKS_EXIT_USAGE;
	}
	pks_libbpf_logging();
	{
		/* A command, or an unambiguous prefix of one (iproute2 style: "pktspec st"). */
		size_t len = strlen(argv[i]), n = sizeof(commands) / sizeof(commands[0]);
		const struct command *found = NULL;
		int matches = 0;

		for (size_t c = 0; c < n; c++) {
			if (!strcmp(argv[i], commands[c].name)) {
				found = &commands[c];
				matches = 1;
				break;
			}
			if (len && !strncmp(argv[i], commands[c].name, len)) {
				found = &commands[c];
				matches++;
			}
		}
		if (matches > 1)
			return pks_usage_error(NULL, "'%s' is ambiguous: it begins more than one command", argv[i]);
		if (found)
			return found->run(argc - i, argv + i); /* getopt_long sees the command as argv[0] */
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return PKS_EXIT_OK;
	}
	return pks_usage_error(NULL, "unknown command '%s'", argv[i]);
}
