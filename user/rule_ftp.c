// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Rule 1, FTP: the control connection announces each data connection.
 *
 *   server  227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)   RFC 959 4.1.2, 4.2
 *   server  229 Entering Extended Passive Mode (|||port|)   RFC 2428 3
 *   client  PORT h1,h2,h3,h4,p1,p2                          RFC 959 4.1.2
 *   client  EPRT |proto|address|port|                       RFC 2428 2
 *
 * Passive: the client will connect to the announced server port from a port
 * nobody announced (peer port wildcard). Active: the server will connect to
 * the announced client port, from port 20 usually but not always (vsftpd
 * without connect_from_port_20), so the peer port is a wildcard too. Each
 * expectation is used once (PKS_EXP_ONCE) and expires after the engine's
 * expect TTL. Lines are parsed per payload copy: a reply line split across
 * two TCP segments is not seen (servers send these one-line replies in one
 * write). No state: a flood of replies only churns the bounded pks_expect.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "pktspec.h"
#include "engine.h"
#include "ctx_parse.h"

/* "h1,h2,h3,h4,p1,p2" (RFC 959 4.1.2 host-port); returns 0 and fills addr/port. */
static int parse_host_port(const char *s, const char *end, uint8_t addr[16], uint16_t *port)
{
	unsigned long v[6];
	uint32_t a;

	for (int i = 0; i < 6; i++) {
		if (pks_parse_dec(&s, end, 255, &v[i]))
			return -1;
		if (i < 5 && (s >= end || *s++ != ','))
			return -1;
	}
	a = htonl((uint32_t)(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]));
	pks_addr_v4mapped(addr, a);
	*port = (uint16_t)(v[4] << 8 | v[5]);
	return *port ? 0 : -1;
}

/* "|1|a.b.c.d|port|" or "|2|v6addr|port|" with any delimiter (RFC 2428 2); addr may be empty (EPSV). */
static int parse_extended(const char *s, const char *end, uint8_t addr[16], int *have_addr, uint16_t *port)
{
	char d, buf[INET6_ADDRSTRLEN];
	const char *f[4];
	unsigned long p;
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
	if (n < 4)
		return -1;
	*have_addr = 0;
	if (f[2] > f[1] + 1) {
		size_t len = f[2] - f[1] - 1;
		struct in_addr a4;

		if (len >= sizeof(buf))
			return -1;
		memcpy(buf, f[1] + 1, len);
		buf[len] = 0;
		if (inet_pton(AF_INET6, buf, addr) == 1) {
			*have_addr = 1;
		} else if (inet_pton(AF_INET, buf, &a4) == 1) {
			pks_addr_v4mapped(addr, a4.s_addr);
			*have_addr = 1;
		} else {
			return -1;
		}
	}
	s = f[2] + 1;
	if (pks_parse_dec(&s, f[3], 65535, &p) || s != f[3] || !p)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

static void expect_data(struct pks_engine *e, const uint8_t listen[16], uint16_t port, const uint8_t *peer,
			uint16_t rule)
{
	struct pks_expect_key k = { .l4 = IPPROTO_TCP, .listen_port = port };

	memcpy(k.listen_addr, listen, 16);
	if (peer)
		memcpy(k.peer_addr, peer, 16);
	pks_engine_expect(e, &k, PKS_P_FTP_DATA, rule, 0, PKS_EXP_ONCE);
}

static void ftp_line(struct pks_engine *e, const struct pks_ctx_event *ev, const char *s, const char *end,
		     bool kernel_did)
{
	uint8_t addr[16];
	uint16_t port;
	int have;

	if (ev->hdr->dir == PKS_DIR_S2C) {
		if (end - s >= 4 && !memcmp(s, "227", 3) && (s[3] == ' ' || s[3] == '-')) {
			/* The numbers follow some text, usually in parentheses (RFC 1123 4.1.2.6). */
			const char *p = s + 4;

			while (p < end && !isdigit((unsigned char)*p))
				p++;
			if (parse_host_port(p, end, addr, &port)) {
				pks_engine_count_malformed(e);
				return;
			}
			/* The kernel wrote it already (bpf/ctx.h); again would revive a used one. */
			if (!kernel_did)
				expect_data(e, addr, port, ev->client_addr, PKS_R_FTP_PASV);
			/* Behind NAT the announced address may not be the one the client dials. */
			if (memcmp(addr, ev->server_addr, 16))
				expect_data(e, ev->server_addr, port, ev->client_addr, PKS_R_FTP_PASV);
		} else if (end - s >= 4 && !memcmp(s, "229", 3) && (s[3] == ' ' || s[3] == '-')) {
			const char *p = memchr(s, '(', end - s);

			if (!p || parse_extended(p + 1, end, addr, &have, &port)) {
				pks_engine_count_malformed(e);
				return;
			}
			if (!kernel_did)
				expect_data(e, have ? addr : ev->server_addr, port, ev->client_addr, PKS_R_FTP_EPSV);
		}
		return;
	}
	if (end - s > 5 && !strncasecmp(s, "PORT ", 5)) {
		if (parse_host_port(s + 5, end, addr, &port)) {
			pks_engine_count_malformed(e);
			return;
		}
		if (!kernel_did)
			expect_data(e, addr, port, ev->server_addr, PKS_R_FTP_PORT);
	} else if (end - s > 5 && !strncasecmp(s, "EPRT ", 5)) {
		if (parse_extended(s + 5, end, addr, &have, &port) || !have) {
			pks_engine_count_malformed(e);
			return;
		}
		if (!kernel_did)
			expect_data(e, addr, port, ev->server_addr, PKS_R_FTP_EPRT);
	}
}

static void ftp_event(struct pks_engine *e, void *state, const struct pks_ctx_event *ev)
{
	if (ev->hdr->type != PKS_EV_PAYLOAD || ev->hdr->proto != PKS_P_FTP || ev->hdr->key.l4 != IPPROTO_TCP)
		return;
	bool first = true;

	/* The kernel handles a 227/229 reply or PORT/EPRT command that starts the segment (PKS_EVK_EXPECTED). */
	pks_for_each_line(ev->data, ev->len, line, lend)
	{
		ftp_line(e, ev, line, lend, first && (ev->hdr->kflags & PKS_EVK_EXPECTED));
		first = false;
	}
}

PKS_CTX_RULE(ftp, .event = ftp_event)
