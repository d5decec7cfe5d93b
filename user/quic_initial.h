/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * The client's QUIC Initial packets, decrypted (RFC 9001 5: initial secrets,
 * 5.3 AEAD, 5.4 header protection) with OpenSSL's libcrypto, for the server
 * name in the ClientHello they carry. QUIC version 1 (RFC 9000) and version 2
 * (RFC 9369: its own salt, key labels and long-header type bits).
 *
 * Datagrams are fed one at a time, as they arrive. A datagram may coalesce
 * several packets (RFC 9000 12.2); the ClientHello may be spread over CRYPTO
 * frames of several Initial packets, in any order (RFC 9000 19.6), and is
 * reassembled in a bounded window before the TLS parser reads it. Initial
 * protection gives no confidentiality (anyone can derive the keys from the
 * packet), but the AEAD tag still proves the packet is an Initial of that
 * connection: a random datagram never decrypts.
 */
#ifndef PKTSPEC_QUIC_INITIAL_H
#define PKTSPEC_QUIC_INITIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp_reasm.h"
#include "tls_hello.h"

#define PKS_QUIC_V1 0x00000001u /* RFC 9000 */
#define PKS_QUIC_V2 0x6b3343cfu /* RFC 9369 3.1 */

#define PKS_QUIC_CID_MAX 20 /* RFC 9000 17.2: a v1 connection ID is at most 20 bytes */

struct pks_quic_keys {
	uint8_t key[16]; /* AEAD_AES_128_GCM key */
	uint8_t iv[12];
	uint8_t hp[16];  /* header protection: AES-128-ECB */
};

/*
 * Initial keys for a version and the client's first Destination Connection
 * ID (RFC 9001 5.2); server selects the server's direction. Returns 0, or
 * -EPROTONOSUPPORT for a version without a known salt, -EIO if libcrypto fails.
 */
int pks_quic_initial_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len, int server,
			  struct pks_quic_keys *out);

/*
 * Removes header and packet protection from the Initial packet at pkt (the
 * datagram from it to its end: len bytes). On success returns 0 and sets
 * *pkt_len (the packet's bytes, to step to a coalesced next one), *pn (the
 * truncated packet number expanded against largest_pn, RFC 9000 A.3) and the
 * plaintext payload (at most len bytes) in payload / *payload_len.
 * -EBADMSG: the packet does not authenticate or its header is malformed.
 */
int pks_quic_open_initial(const uint8_t *pkt, size_t len, uint32_t version, const struct pks_quic_keys *k,
			  int64_t largest_pn, uint8_t *payload, size_t *payload_len, size_t *pkt_len, uint64_t *pn);

/* One client-to-server QUIC flow's progress towards its ClientHello. */
struct pks_quic_state {
	uint32_t version;               /* of the first Initial; 0 before it */
	uint8_t dcid[PKS_QUIC_CID_MAX]; /* that the current keys were derived from */
	uint8_t dcid_len;
	bool have_keys;
	struct pks_quic_keys keys;
	int64_t largest_pn;             /* highest Initial packet number opened, -1 none */
	struct pks_reasm crypto;        /* the Initial CRYPTO stream from offset 0 */
	uint32_t initials;              /* Initial packets opened */
	uint32_t refused;               /* packets that did not authenticate or parse */
	const char *why;                /* last refusal */
	/* An authenticated Initial carried malformed frames or a malformed
	 * ClientHello: the flow's own client said it, so no later datagram can
	 * repair it (unlike a datagram that does not authenticate, which anyone
	 * on the path may have sent). */
	bool fatal;
	struct pks_tls_hello hello;     /* complete when pks_quic_client_datagram says so */
};

void pks_quic_init(struct pks_quic_state *s);
void pks_quic_free(struct pks_quic_state *s);

/*
 * Feeds one UDP payload sent by the client. Returns PKS_TLS_COMPLETE once
 * the ClientHello is parsed (s->hello), PKS_TLS_NEED_MORE while it is not
 * complete yet, PKS_TLS_MALFORMED (s->why) when this datagram holds no
 * Initial that authenticates, or the frames or ClientHello are malformed.
 * A malformed datagram leaves what earlier ones gave intact, so a forged
 * packet cannot erase a real ClientHello.
 */
int pks_quic_client_datagram(struct pks_quic_state *s, const uint8_t *dgram, size_t len);

/* Reads a QUIC variable-length integer (RFC 9000 16); returns its size or 0. */
size_t pks_quic_varint(const uint8_t *p, size_t len, uint64_t *v);

#endif
