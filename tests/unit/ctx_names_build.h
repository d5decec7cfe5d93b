/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Builders for the name tests: ClientHellos of chosen size (SNI, ALPN,
 * key share, padding), TLS records around them, and protected QUIC client
 * Initial packets (RFC 9001 5.3-5.4) around chosen frames.
 */
#ifndef PKTSPEC_TEST_CTX_NAMES_BUILD_H
#define PKTSPEC_TEST_CTX_NAMES_BUILD_H

#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "quic_initial.h"

struct buf {
	uint8_t b[20000];
	size_t n;
};

static inline void put8(struct buf *b, unsigned int v)
{
	b->b[b->n++] = (uint8_t)v;
}

static inline void put16(struct buf *b, unsigned int v)
{
	put8(b, v >> 8);
	put8(b, v);
}

static inline void put24(struct buf *b, unsigned int v)
{
	put8(b, v >> 16);
	put16(b, v);
}

static inline void putn(struct buf *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

/* Writes a 2-byte length at mark for what followed it. */
static inline void patch16(struct buf *b, size_t mark)
{
	size_t n = b->n - mark - 2;

	b->b[mark] = (uint8_t)(n >> 8);
	b->b[mark + 1] = (uint8_t)n;
}

struct hello_opts {
	const char *sni;
	const char *alpn[4];
	size_t key_share; /* bytes of one key share entry's key_exchange */
	size_t padding;   /* bytes of a padding extension (RFC 7685) */
	int dup_sni;      /* two server_name extensions */
};

/* A ClientHello handshake message (RFC 8446 4.1.2), header included. */
static inline void client_hello(struct buf *b, const struct hello_opts *o)
{
	size_t msg, exts, e, l;

	b->n = 0;
	put8(b, 1);
	msg = b->n;
	put24(b, 0);
	put16(b, 0x0303);
	for (int i = 0; i < 32; i++)
		put8(b, 0x40 + i);
	put8(b, 32); /* session id */
	for (int i = 0; i < 32; i++)
		put8(b, 0x90 + i);
	put16(b, 6);
	put16(b, 0x1301), put16(b, 0x1302), put16(b, 0x1303);
	put8(b, 1), put8(b, 0);
	exts = b->n;
	put16(b, 0);
	for (int k = 0; k < (o->dup_sni ? 2 : 1) && o->sni; k++) {
		put16(b, 0); /* server_name */
		e = b->n;
		put16(b, 0);
		l = b->n;
		put16(b, 0);
		put8(b, 0);
		put16(b, (unsigned int)strlen(o->sni));
		putn(b, o->sni, strlen(o->sni));
		patch16(b, l);
		patch16(b, e);
	}
	put16(b, 0x0a0a), put16(b, 0); /* a GREASE extension (RFC 8701) */
	if (o->alpn[0]) {
		put16(b, 16);
		e = b->n;
		put16(b, 0);
		l = b->n;
		put16(b, 0);
		for (int i = 0; i < 4 && o->alpn[i]; i++) {
			put8(b, (unsigned int)strlen(o->alpn[i]));
			putn(b, o->alpn[i], strlen(o->alpn[i]));
		}
		patch16(b, l);
		patch16(b, e);
	}
	put16(b, 43); /* supported_versions: GREASE, 1.3, 1.2 */
	put16(b, 7);
	put8(b, 6);
	put16(b, 0x3a3a), put16(b, 0x0304), put16(b, 0x0303);
	if (o->key_share) {
		put16(b, 51);
		e = b->n;
		put16(b, 0);
		l = b->n;
		put16(b, 0);
		put16(b, 0x11ec); /* X25519MLKEM768's code point; the bytes are filler */
		put16(b, (unsigned int)o->key_share);
		for (size_t i = 0; i < o->key_share; i++)
			put8(b, (unsigned int)(i * 7 + 3));
		patch16(b, l);
		patch16(b, e);
	}
	if (o->padding) {
		put16(b, 21);
		put16(b, (unsigned int)o->padding);
		for (size_t i = 0; i < o->padding; i++)
			put8(b, 0);
	}
	patch16(b, exts);
	l = b->n - msg - 3;
	b->b[msg] = (uint8_t)(l >> 16);
	b->b[msg + 1] = (uint8_t)(l >> 8);
	b->b[msg + 2] = (uint8_t)l;
}

/* Wraps a handshake message into handshake records of at most rec bytes. */
static inline void records(struct buf *out, const struct buf *msg, size_t rec)
{
	out->n = 0;
	for (size_t off = 0; off < msg->n; off += rec) {
		size_t n = msg->n - off < rec ? msg->n - off : rec;

		put8(out, 22);
		put16(out, 0x0301);
		put16(out, (unsigned int)n);
		putn(out, msg->b + off, n);
	}
}

static const struct hello_opts big_hello = {
	.sni = "Www.Example.ORG", .alpn = { "h2", "http/1.1" }, .key_share = 1216, .padding = 300,
};

/* Protects one client Initial (RFC 9001 5.3, 5.4) around the given frames,
 * padded with PADDING frames to payload_len bytes. */
static inline size_t seal_initial(uint32_t version, const uint8_t *dcid, size_t dcid_len, uint32_t pn,
			   const uint8_t *frames, size_t frames_len, size_t payload_len, uint8_t *out)
{
	struct pks_quic_keys k;
	uint8_t nonce[12], mask[16];
	size_t n = 0, pn_off, len = payload_len + 2 /* pn */ + 16;
	int outl = 0, ok;
	EVP_CIPHER_CTX *ctx;
	unsigned int type = version == PKS_QUIC_V2 ? 1 : 0;

	if (pks_quic_initial_keys(version, dcid, dcid_len, 0, &k))
		return 0;
	out[n++] = (uint8_t)(0xc0 | type << 4 | 0x01); /* 2-byte packet number */
	for (int i = 3; i >= 0; i--)
		out[n++] = (uint8_t)(version >> (8 * i));
	out[n++] = (uint8_t)dcid_len;
	memcpy(out + n, dcid, dcid_len);
	n += dcid_len;
	out[n++] = 4; /* source connection ID */
	memcpy(out + n, "scid", 4);
	n += 4;
	out[n++] = 0; /* token length */
	out[n++] = (uint8_t)(0x40 | len >> 8);
	out[n++] = (uint8_t)len;
	pn_off = n;
	out[n++] = (uint8_t)(pn >> 8);
	out[n++] = (uint8_t)pn;
	uint8_t plain[2000];

	memcpy(plain, frames, frames_len);
	memset(plain + frames_len, 0, payload_len - frames_len);
	memcpy(nonce, k.iv, 12);
	nonce[11] ^= (uint8_t)pn, nonce[10] ^= (uint8_t)(pn >> 8);
	ctx = EVP_CIPHER_CTX_new();
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, k.key, nonce) &&
	     EVP_EncryptUpdate(ctx, NULL, &outl, out, (int)n) &&
	     EVP_EncryptUpdate(ctx, out + n, &outl, plain, (int)payload_len) &&
	     EVP_EncryptFinal_ex(ctx, out + n + outl, &outl) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out + n + payload_len);
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		return 0;
	n += payload_len + 16;
	ctx = EVP_CIPHER_CTX_new();
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, k.hp, NULL) &&
	     EVP_EncryptUpdate(ctx, mask, &outl, out + pn_off + 4, 16);
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		return 0;
	out[0] ^= mask[0] & 0x0f;
	out[pn_off] ^= mask[1];
	out[pn_off + 1] ^= mask[2];
	return n;
}

static inline size_t crypto_frame(uint8_t *out, size_t off, const uint8_t *data, size_t len)
{
	size_t n = 0;

	out[n++] = 0x06;
	out[n++] = (uint8_t)(0x40 | off >> 8), out[n++] = (uint8_t)off;
	out[n++] = (uint8_t)(0x40 | len >> 8), out[n++] = (uint8_t)len;
	memcpy(out + n, data, len);
	return n + len;
}


#endif
