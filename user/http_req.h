/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * The host a plain HTTP/1.x request names and its User-Agent, from the
 * request head (RFC 9112 2-3, 5; RFC 9110 7.2 Host, 10.1.5 User-Agent).
 *
 * The input is the reassembled start of the client's stream, passed again as
 * it grows; the parser keeps no state. The head may be spread over several
 * segments: lines are read only once complete.
 */
#ifndef PKTSPEC_HTTP_REQ_H
#define PKTSPEC_HTTP_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "tls_hello.h" /* enum pks_tls_status: the same three answers */

/* Bytes of the head read at most: servers refuse longer heads with 431
 * anyway (nginx's default large buffer is 8 KiB). */
#define PKS_HTTP_HEAD_MAX 8192
#define PKS_HTTP_HOST_MAX 253
#define PKS_HTTP_UA_MAX 255

struct pks_http_req {
	char method[16];
	char host[PKS_HTTP_HOST_MAX + 1]; /* lower case, without port; "" when absent */
	uint16_t port;                    /* from the authority, 0 when none given */
	char user_agent[PKS_HTTP_UA_MAX + 1]; /* "" when absent; cut at PKS_HTTP_UA_MAX */
	uint8_t version_minor;            /* HTTP/1.x */
	uint8_t from_target;              /* host came from an absolute-form or authority-form target */
	const char *why;                  /* PKS_TLS_MALFORMED: which check refused it */
};

/*
 * PKS_TLS_COMPLETE once the head ended (empty line) or the window is full,
 * PKS_TLS_NEED_MORE for a valid prefix, PKS_TLS_MALFORMED when the bytes are
 * not an HTTP/1.x request head.
 */
int pks_http_parse_request(const uint8_t *stream, size_t len, struct pks_http_req *out);

/*
 * Whether a host is an address literal (dotted IPv4, RFC 3986 3.2.2, or a
 * bracketed IPv6 one) rather than a name: it adds nothing to the server's
 * address, so it does not replace a name the DNS gave.
 */
int pks_host_is_ip(const char *host);

#endif
