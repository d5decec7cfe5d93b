// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Rule 1, TFTP: a read or write request (RFC 1350 5: opcode 1 RRQ or 2 WRQ,
 * filename NUL, mode NUL, options after it, RFC 2347) goes to port 69, and
 * the server answers from a new port ("TID", RFC 1350 4) to the client's
 * port. The expectation: the client's address and port, from the server's
 * address, any port; the flow's client is the requester. Used once.
 */
#include <string.h>
#include <strings.h>

#include "pktspec.h"
#include "engine.h"

/* Whether [s, s + len) holds a printable NUL-terminated string; returns its length + 1, or 0. */
static size_t cstring(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == 0)
			return i ? i + 1 : 0;
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	}
	return 0;
}

static void tftp_event(struct pks_engine *e, void *state, const struct pks_ctx_event *ev)
{
	const struct pks_event *h = ev->hdr;
	const uint8_t *d = ev->data;
	size_t fn, mode;
	struct pks_expect_key k = { .l4 = IPPROTO_UDP };

	if (h->type != PKS_EV_PAYLOAD || h->proto != PKS_P_TFTP || h->key.l4 != IPPROTO_UDP ||
	    h->dir != PKS_DIR_C2S || h->nth != 0)
		return;
	memcpy(k.listen_addr, ev->client_addr, 16);
	k.listen_port = ev->client_port;
	memcpy(k.peer_addr, ev->server_addr, 16);
	fn = ev->len >= 4 ? cstring(d + 2, ev->len - 2) : 0;
	mode = fn ? cstring(d + 2 + fn, ev->len - 2 - fn) : 0;
	if (ev->len < 4 || d[0] != 0 || (d[1] != 1 && d[1] != 2) || !mode ||
	    (strcasecmp((const char *)d + 2 + fn, "octet") && strcasecmp((const char *)d + 2 + fn, "netascii") &&
	     strcasecmp((const char *)d + 2 + fn, "mail"))) {
		pks_engine_count_malformed(e);
		/* The kernel looked at the opcode only (bpf/ctx.h): take its expectation back. */
		if (h->kflags & PKS_EVK_EXPECTED)
			pks_engine_unexpect(e, &k);
		return;
	}
	/* The kernel wrote it already when it could; writing it again would revive a used one. */
	if (!(h->kflags & PKS_EVK_EXPECTED))
		pks_engine_expect(e, &k, PKS_P_TFTP, PKS_R_TFTP_REQUEST, 0, PKS_EXP_ONCE | PKS_EXP_LISTENER_CLIENT);
	/* One request per client port: nothing more to read. */
	pks_engine_done(e, &h->key);
}

PKS_CTX_RULE(tftp, .event = tftp_event)
