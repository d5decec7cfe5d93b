// SPDX-License-Identifier: MIT OR Apache-2.0
/* pktspec protocols: the protocol table with IDs and well-known ports. */
#include <getopt.h>
#include <netinet/in.h>
#include <string.h>

#include "pktspec.h"

struct port_entry {
	unsigned char l4;
	unsigned short port;
	unsigned char proto;
};

static const struct port_entry ports[] = {
#define PKS_PORT(l4, num, sym) { IPPROTO_##l4, num, PKS_P_##sym },
#include "pktspec/ports.def"
#undef PKS_PORT
};

static const char *const descs[] = {
#define PKS_PROTO(sym, id, name, desc) [id] = desc,
#include "pktspec/protocols.def"
#undef PKS_PROTO
};

/* The protocol a server port suggests: the kernel's pks_port_guess(), from the same table. */
unsigned int pks_port_guess_user(unsigned int l4, unsigned int port)
{
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if (ports[i].l4 == l4 && ports[i].port == port)
			return ports[i].proto;
	return PKS_P_UNKNOWN;
}

const char *pks_proto_desc(unsigned int id)
{
	return id < sizeof(descs) / sizeof(descs[0]) && descs[id] ? descs[id] : "";
}

static void port_list(unsigned int proto, char *buf, size_t len, bool json)
{
	size_t off = 0;
	bool first = true;

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]) && off < len; i++) {
		if (ports[i].proto != proto)
			continue;
		off += snprintf(buf + off, len - off, json ? "%s\"%s/%u\"" : "%s%s/%u", first ? "" : json ? "," : " ",
				ports[i].l4 == IPPROTO_TCP ? "tcp" : "udp", ports[i].port);
		first = false;
	}
}

static const char protocols_help[] = "Usage: pktspec protocols [--json]\n"
				     "List the protocols pktspec names: stable ID, name, default ports.\n"
				     "\n"
				     "  -j, --json           one JSON object per protocol per line\n"
				     "  -h, --help           this help\n";

int cmd_protocols(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	bool json = false;
	char buf[512];
	int c;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(protocols_help, stdout);
			return PKS_EXIT_OK;
		default:
			return pks_usage_error("protocols", "bad option");
		}
	}
	if (optind != argc)
		return pks_usage_error("protocols", "protocols takes no arguments");
	if (!json)
		printf("%-4s %-12s %-44s %s\n", "ID", "NAME", "DESCRIPTION", "PORTS");
	for (unsigned int id = 1; id < PKS_P__COUNT; id++) {
		port_list(id, buf, sizeof(buf), json);
		if (json)
			printf("{\"id\":%u,\"name\":\"%s\",\"description\":\"%s\",\"ports\":[%s]}\n", id,
			       pks_proto_name(id), descs[id], buf);
		else
			printf("%-4u %-12s %-44s %s\n", id, pks_proto_name(id), descs[id], buf);
	}
	return PKS_EXIT_OK;
}
