// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Rule 1, FTP, the daemon's part: EPRT with an IPv6 address (RFC 2428 2).
 *
 * Who owns what (doc/context.md, "One owner per decision"): the data
 * connection's first packet follows its announcement within microseconds, so
 * the kernel owns the FTP announcements it can read at the start of a
 * segment: 227 (PASV, RFC 959 4.1.2, also the server's own address behind
 * NAT), 229 (EPSV, RFC 2428 3), PORT and EPRT with an IPv4 address
 * (bpf/context/ftp.h, pks_cr_ftp_announce). The one form whose text the
 * kernel does not parse is EPRT |2|IPv6|port|: it is this rule's alone.
 * Active mode gives the daemon time: the server connects only after its own
 * work. The server connects from port 20 usually but not always, so the peer
 * port is a wildcard. Used once, expires after the engine's expect TTL. No
 * state.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "pktspec.h"
#include "engine.h"
#include "ctx_parse.h"

/*
 * "|2|v6addr|port|" with any delimiter (RFC 2428 2). Only the IPv6 form:
 * "|1|a.b.c.d|port|" is the kernel's (bpf/context/ftp.h), and so are 227, 229 and PORT.
 */
static int parse_eprt_v6(const char *s, const char *end, uint8_t addr[16], uint16_t *port)
{
	char d, buf[INET6_ADDRSTRLEN];
	const char *f[4];
	unsigned long p;
	size_t len;
	int n = 0;

	if (s >= end)
		return -1;
	d = *s;
	/* RFC 2428: the delimiter is a printable character (33-126) other than digits. */
	if (d < 33 || d > 126 || isdigit((unsigned char)d))
		return -1;
	for (const char *c = s; c < end && n < 4; c++)
		if (*c == d)
			f[n++] = c;
	if (n < 4 || f[1] != f[0] + 2 || f[0][1] != '2')
		return -1;
	len = f[2] - f[1] - 1;
	if (!len || len >= sizeof(buf))
		return -1;
	memcpy(buf, f[1] + 1, len);
	buf[len] = 0;
	if (inet_pton(AF_INET6, buf, addr) != 1)
		return -1;
	s = f[2] + 1;
	if (pks_parse_dec(&s, f[3], 65535, &p) || s != f[3] || !p)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

static void ftp_event(struct pks_engine *e, void *state, const struct pks_ctx_event *ev)
{
	struct pks_expect_key k = { .l4 = IPPROTO_TCP };
	uint8_t addr[16];
	uint16_t port;

	if (ev->hdr->type != PKS_EV_PAYLOAD || ev->hdr->proto != PKS_P_FTP || ev->hdr->key.l4 != IPPROTO_TCP ||
	    ev->hdr->dir != PKS_DIR_C2S)
		return;
	pks_for_each_line(ev->data, ev->len, line, lend)
	{
		if (lend - line <= 7 || strncasecmp(line, "EPRT ", 5) || line[6] != '2')
			continue;
		if (parse_eprt_v6(line + 5, lend, addr, &port)) {
			pks_engine_count_malformed(e);
			continue;
		}
		/* The server connects to the announced client endpoint, from any port. */
		memcpy(k.listen_addr, addr, 16);
		k.listen_port = port;
		memcpy(k.peer_addr, ev->server_addr, 16);
		pks_engine_expect(e, &ev->hdr->key, &k, PKS_P_FTP_DATA, PKS_R_FTP_EPRT, 0, PKS_EXP_ONCE);
	}
}

PKS_CTX_RULE(ftp, .event = ftp_event)
