/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * ClientHello and ServerHello parsing for the TLS and QUIC context rules:
 * server name (SNI, RFC 6066 3), ALPN (RFC 7301 3.1) and versions (RFC 8446
 * 4.1.2, 4.2.1).
 *
 * The input is untrusted: every length is checked against its container and
 * against the bounds below before it is followed, nothing is read past the
 * given length, and the parser keeps no state between calls. Callers pass the
 * reassembled start of the stream again when more bytes arrive; the answer is
 * "need more", "malformed" (with a reason), or "complete".
 */
#ifndef PKTSPEC_TLS_HELLO_H
#define PKTSPEC_TLS_HELLO_H

#include <stddef.h>
#include <stdint.h>

enum pks_tls_status {
	PKS_TLS_MALFORMED = -1, /* not a ClientHello/ServerHello we accept; why says which check */
	PKS_TLS_NEED_MORE = 0,  /* a valid prefix: give more bytes */
	PKS_TLS_COMPLETE = 1,   /* parsed; the result is filled */
};

/*
 * A handshake message larger than this is refused as absurd: a ClientHello
 * with a post-quantum key share is under 2 KiB, and the records that carry it
 * are reassembled from a 16 KiB window anyway.
 */
#define PKS_TLS_HELLO_MAX 16384
/* DNS names are at most 253 characters (RFC 1035 2.3.4 without the root). */
#define PKS_TLS_NAME_MAX 253
/* ALPN protocol IDs kept, comma separated ("h2,http/1.1"). */
#define PKS_TLS_ALPN_MAX 127

/* Version codes on the wire (RFC 8446 4.1.2, RFC 5246, RFC 4346, RFC 2246). */
#define PKS_TLS_V10 0x0301
#define PKS_TLS_V11 0x0302
#define PKS_TLS_V12 0x0303
#define PKS_TLS_V13 0x0304

struct pks_tls_hello {
	char sni[PKS_TLS_NAME_MAX + 1];   /* host_name, lower case; "" when absent */
	char alpn[PKS_TLS_ALPN_MAX + 1];  /* offered (ClientHello) or selected (ServerHello); "" when absent */
	uint16_t record_version;          /* first record's version; 0 for QUIC (no records) */
	uint16_t legacy_version;          /* the hello's legacy_version */
	/*
	 * ClientHello: highest version offered, from supported_versions
	 * (RFC 8446 4.2.1) without GREASE values (RFC 8701), else
	 * legacy_version. ServerHello: the selected version, the same way.
	 */
	uint16_t version;
	uint8_t alpn_count;               /* protocol IDs in the list (all, kept or not) */
	uint8_t is_server;                /* 1: parsed a ServerHello */
	uint32_t hello_len;               /* bytes of the handshake message with its header */
	const char *why;                  /* PKS_TLS_MALFORMED: which check refused it */
};

/*
 * TLS over TCP: stream holds the start of one direction (records of content
 * type handshake, possibly splitting the message, RFC 8446 5.1). want_server
 * selects which message is expected there (ClientHello from the client,
 * ServerHello from the server).
 */
int pks_tls_parse_records(const uint8_t *stream, size_t len, int want_server, struct pks_tls_hello *out);

/*
 * QUIC: msgs holds the start of the Initial CRYPTO stream, handshake messages
 * without records (RFC 9001 4.1.3).
 */
int pks_tls_parse_handshake(const uint8_t *msgs, size_t len, int want_server, struct pks_tls_hello *out);

/* "1.3", "1.2", ... for a version code, or NULL for an unknown one. */
const char *pks_tls_version_name(uint16_t v);

#endif
