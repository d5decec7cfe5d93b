// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * QUIC client Initial decryption and CRYPTO stream reassembly; see
 * quic_initial.h. Packet layout: RFC 9000 17.2 (long header) and 17.2.2
 * (Initial); protection: RFC 9001 5.2-5.4; version 2: RFC 9369 3.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "quic_initial.h"

/* RFC 9001 5.2 */
static const uint8_t salt_v1[20] = { 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
				     0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a };
/* RFC 9369 3.3.1 */
static const uint8_t salt_v2[20] = { 0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
				     0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9 };

#define AEAD_TAG 16
#define HP_SAMPLE 16
#define PN_MAX_LEN 4
/* Long packet types as v1 numbers them (RFC 9000 17.2); v2 rotates them (RFC 9369 3.2). */
enum { LT_INITIAL = 0, LT_0RTT = 1, LT_HANDSHAKE = 2, LT_RETRY = 3 };

/* Frame types a client Initial may carry (RFC 9000 12.4, Table 3). */
#define FT_PADDING 0x00
#define FT_PING 0x01
#define FT_ACK 0x02
#define FT_ACK_ECN 0x03
#define FT_CRYPTO 0x06
#define FT_CLOSE 0x1c

size_t pks_quic_varint(const uint8_t *p, size_t len, uint64_t *v)
{
	size_t n;
	uint64_t x;

	if (len < 1)
		return 0;
	n = (size_t)1 << (p[0] >> 6);
	if (len < n)
		return 0;
	x = p[0] & 0x3f;
	for (size_t i = 1; i < n; i++)
		x = x << 8 | p[i];
	*v = x;
	return n;
}

/* HKDF-Extract and a one-block HKDF-Expand (RFC 5869) over HMAC-SHA256: every
 * output here is at most 32 bytes, one HMAC block. */
static int hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len, uint8_t prk[32])
{
	unsigned int n = 32;

	return HMAC(EVP_sha256(), salt, (int)salt_len, ikm, ikm_len, prk, &n) && n == 32 ? 0 : -EIO;
}

/* HKDF-Expand-Label (RFC 8446 7.1) with an empty context. */
static int hkdf_expand_label(const uint8_t secret[32], const char *label, uint8_t *out, size_t out_len)
{
	uint8_t info[2 + 1 + 6 + 32 + 1 + 1], t[32];
	size_t label_len = strlen(label), n = 0;
	unsigned int tn = sizeof(t);

	if (out_len > sizeof(t) || label_len > 32)
		return -EINVAL;
	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)(6 + label_len);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, label_len);
	n += label_len;
	info[n++] = 0; /* context length */
	info[n++] = 1; /* HKDF-Expand block counter T(1) */
	if (!HMAC(EVP_sha256(), secret, 32, info, n, t, &tn) || tn != sizeof(t))
		return -EIO;
	memcpy(out, t, out_len);
	return 0;
}

int pks_quic_initial_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len, int server,
			  struct pks_quic_keys *out)
{
	const uint8_t *salt;
	const char *lk, *li, *lh;
	uint8_t initial[32], secret[32];
	int err;

	if (version == PKS_QUIC_V1) {
		salt = salt_v1;
		lk = "quic key", li = "quic iv", lh = "quic hp";
	} else if (version == PKS_QUIC_V2) {
		salt = salt_v2;
		lk = "quicv2 key", li = "quicv2 iv", lh = "quicv2 hp";
	} else {
		return -EPROTONOSUPPORT;
	}
	err = hkdf_extract(salt, 20, dcid, dcid_len, initial);
	if (!err)
		err = hkdf_expand_label(initial, server ? "server in" : "client in", secret, 32);
	if (!err)
		err = hkdf_expand_label(secret, lk, out->key, sizeof(out->key));
	if (!err)
		err = hkdf_expand_label(secret, li, out->iv, sizeof(out->iv));
	if (!err)
		err = hkdf_expand_label(secret, lh, out->hp, sizeof(out->hp));
	return err;
}

/* The header protection mask: AES-128-ECB of the sample (RFC 9001 5.4.3). */
static int hp_mask(const uint8_t hp[16], const uint8_t sample[16], uint8_t mask[16])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	if (!ctx)
		return -EIO;
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, hp, NULL) && EVP_CIPHER_CTX_set_padding(ctx, 0) &&
	     EVP_EncryptUpdate(ctx, mask, &n, sample, 16) && n == 16;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

static int aead_open(const struct pks_quic_keys *k, uint64_t pn, const uint8_t *aad, size_t aad_len,
		     const uint8_t *ct, size_t ct_len, const uint8_t tag[AEAD_TAG], uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t nonce[12];
	int n = 0, fin = 0, ok;

	if (!ctx)
		return -EIO;
	/* The nonce is the IV XORed with the packet number, left-padded (RFC 9001 5.3). */
	memcpy(nonce, k->iv, sizeof(nonce));
	for (int i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, NULL, NULL) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, sizeof(nonce), NULL) &&
	     EVP_DecryptInit_ex(ctx, NULL, NULL, k->key, nonce) &&
	     EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) &&
	     EVP_DecryptUpdate(ctx, out, &n, ct, (int)ct_len) &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AEAD_TAG, (void *)tag) &&
	     EVP_DecryptFinal_ex(ctx, out + n, &fin) > 0;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -EBADMSG;
}

/* A long header's fields, read without protection removed. */
struct long_hdr {
	uint32_t version;
	int type;              /* LT_*, in v1 numbering */
	const uint8_t *dcid;
	uint8_t dcid_len;
	size_t pn_off;         /* Initial, 0-RTT, Handshake: where the packet number starts */
	size_t end;            /* one past the packet */
};

static int version_known(uint32_t v)
{
	return v == PKS_QUIC_V1 || v == PKS_QUIC_V2;
}

/* Parses the long header at p (len bytes to the end of the datagram). */
static int parse_long(const uint8_t *p, size_t len, struct long_hdr *h, const char **why)
{
	size_t off = 5, n;
	uint64_t tok_len, length;
	int bits;

	if (len < 7 || !(p[0] & 0x80)) {
		*why = "not a QUIC long header";
		return -EBADMSG;
	}
	h->version = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
	if (!version_known(h->version)) {
		*why = h->version ? "QUIC version without known Initial keys" : "version negotiation from a client";
		return -EPROTONOSUPPORT;
	}
	/* The fixed bit is 1 in every packet of these versions unless greased by a
	 * transport parameter (RFC 9287), which cannot apply to a first flight. */
	if (!(p[0] & 0x40)) {
		*why = "QUIC fixed bit is zero";
		return -EBADMSG;
	}
	bits = (p[0] >> 4) & 3;
	/* v2 types: Initial 0b01, 0-RTT 0b10, Handshake 0b11, Retry 0b00 (RFC 9369 3.2). */
	h->type = h->version == PKS_QUIC_V2 ? (bits + 3) & 3 : bits;
	h->dcid_len = p[off++];
	if (h->dcid_len > PKS_QUIC_CID_MAX || off + h->dcid_len + 1 > len) {
		*why = "QUIC destination connection ID length";
		return -EBADMSG;
	}
	h->dcid = p + off;
	off += h->dcid_len;
	n = p[off++]; /* source connection ID */
	if (n > PKS_QUIC_CID_MAX || off + n > len) {
		*why = "QUIC source connection ID length";
		return -EBADMSG;
	}
	off += n;
	if (h->type == LT_RETRY) {
		*why = "Retry packet from a client";
		return -EBADMSG;
	}
	if (h->type == LT_INITIAL) {
		n = pks_quic_varint(p + off, len - off, &tok_len);
		if (!n || tok_len > len - off - n) {
			*why = "QUIC token length";
			return -EBADMSG;
		}
		off += n + (size_t)tok_len;
	}
	n = pks_quic_varint(p + off, len - off, &length);
	if (!n || length > len - off - n) {
		*why = "QUIC packet length beyond the datagram";
		return -EBADMSG;
	}
	off += n;
	h->pn_off = off;
	h->end = off + (size_t)length;
	return 0;
}

/* RFC 9000 A.3: the full packet number closest to the next expected one. */
static uint64_t decode_pn(int64_t largest, uint64_t truncated, unsigned int pn_bits)
{
	uint64_t expected = (uint64_t)(largest + 1), win = 1ull << pn_bits, hwin = win / 2, mask = win - 1;
	uint64_t candidate = (expected & ~mask) | truncated;

	if (candidate + hwin <= expected && candidate < (1ull << 62) - win)
		return candidate + win;
	if (candidate > expected + hwin && candidate >= win)
		return candidate - win;
	return candidate;
}

static int open_packet(const uint8_t *pkt, const struct long_hdr *h, const struct pks_quic_keys *k,
		       int64_t largest_pn, uint8_t *payload, size_t *payload_len, uint64_t *pn)
{
	uint8_t hdr[1 + 4 + 1 + PKS_QUIC_CID_MAX + 1 + PKS_QUIC_CID_MAX + 8 + 8 + PN_MAX_LEN];
	uint8_t mask[16];
	size_t pn_len, body;
	uint64_t truncated = 0;
	int err;

	/* The sample starts 4 bytes after the packet number's start, as if it
	 * were 4 bytes long (RFC 9001 5.4.2); the packet must hold it. */
	if (h->end < h->pn_off + PN_MAX_LEN + HP_SAMPLE)
		return -EBADMSG;
	err = hp_mask(k->hp, pkt + h->pn_off + PN_MAX_LEN, mask);
	if (err)
		return err;
	/* Token bytes sit between the connection IDs and the packet number; the
	 * AAD is the whole header, so it is read in place and only the first
	 * byte and the packet number are rewritten into a copy of the tail. */
	uint8_t first = pkt[0] ^ (mask[0] & 0x0f); /* long header: 4 protected bits */
	pn_len = (size_t)(first & 0x03) + 1;
	for (size_t i = 0; i < pn_len; i++) {
		uint8_t b = pkt[h->pn_off + i] ^ mask[1 + i];

		truncated = truncated << 8 | b;
	}
	*pn = decode_pn(largest_pn, truncated, (unsigned int)(8 * pn_len));
	body = h->end - h->pn_off - pn_len;
	if (body < AEAD_TAG)
		return -EBADMSG;

	/* AAD: the unprotected header, first byte through the packet number. */
	size_t aad_len = h->pn_off + pn_len;
	uint8_t *aad = aad_len <= sizeof(hdr) ? hdr : malloc(aad_len);

	if (!aad)
		return -ENOMEM;
	memcpy(aad, pkt, h->pn_off);
	aad[0] = first;
	for (size_t i = 0; i < pn_len; i++)
		aad[h->pn_off + i] = pkt[h->pn_off + i] ^ mask[1 + i];
	err = aead_open(k, *pn, aad, aad_len, pkt + aad_len, body - AEAD_TAG, pkt + h->end - AEAD_TAG, payload);
	if (aad != hdr)
		free(aad);
	if (err)
		return err;
	/* Reserved bits must be zero once protection is off (RFC 9000 17.2). */
	if (first & 0x0c)
		return -EBADMSG;
	*payload_len = body - AEAD_TAG;
	return 0;
}

int pks_quic_open_initial(const uint8_t *pkt, size_t len, uint32_t version, const struct pks_quic_keys *k,
			  int64_t largest_pn, uint8_t *payload, size_t *payload_len, size_t *pkt_len, uint64_t *pn)
{
	struct long_hdr h;
	const char *why;
	int err = parse_long(pkt, len, &h, &why);

	if (err)
		return -EBADMSG;
	if (h.version != version || h.type != LT_INITIAL)
		return -EBADMSG;
	err = open_packet(pkt, &h, k, largest_pn, payload, payload_len, pn);
	if (err)
		return err;
	*pkt_len = h.end;
	return 0;
}

void pks_quic_init(struct pks_quic_state *s)
{
	memset(s, 0, sizeof(*s));
	s->largest_pn = -1;
	/* CRYPTO offsets start at 0 in each packet number space (RFC 9000 19.6). */
	pks_reasm_init_base(&s->crypto, 0);
}

void pks_quic_free(struct pks_quic_state *s)
{
	pks_reasm_free(&s->crypto);
}

/* Walks the frames of one opened Initial; CRYPTO data goes to the stream. */
static int read_frames(struct pks_quic_state *s, const uint8_t *p, size_t len)
{
	size_t off = 0, n;

	while (off < len) {
		uint64_t type, v[4];

		n = pks_quic_varint(p + off, len - off, &type);
		if (!n)
			goto bad;
		off += n;
		switch (type) {
		case FT_PADDING:
		case FT_PING:
			break;
		case FT_ACK:
		case FT_ACK_ECN: {
			/* Largest Acknowledged, ACK Delay, ACK Range Count, First ACK Range */
			uint64_t ranges;

			for (int i = 0; i < 4; i++) {
				n = pks_quic_varint(p + off, len - off, &v[i]);
				if (!n)
					goto bad;
				off += n;
			}
			ranges = v[2];
			/* Each range is at least two bytes: a count beyond that is a lie. */
			if (ranges > (len - off) / 2)
				goto bad;
			for (uint64_t r = 0; r < 2 * ranges + (type == FT_ACK_ECN ? 3 : 0); r++) {
				n = pks_quic_varint(p + off, len - off, &v[0]);
				if (!n)
					goto bad;
				off += n;
			}
			break;
		}
		case FT_CRYPTO:
			for (int i = 0; i < 2; i++) {
				n = pks_quic_varint(p + off, len - off, &v[i]);
				if (!n)
					goto bad;
				off += n;
			}
			if (v[1] > len - off) {
				s->why = "CRYPTO frame longer than its packet";
				return PKS_TLS_MALFORMED;
			}
			/* Offsets past the window are dropped by the reassembler;
			 * only the first 16 KiB can hold the ClientHello. */
			if (v[0] < PKS_REASM_MAX && pks_reasm_add(&s->crypto, (uint32_t)v[0], p + off, (size_t)v[1]))
				return PKS_TLS_MALFORMED;
			off += (size_t)v[1];
			break;
		case FT_CLOSE:
			/* Error Code, Frame Type, Reason Phrase Length, Reason Phrase */
			for (int i = 0; i < 3; i++) {
				n = pks_quic_varint(p + off, len - off, &v[i]);
				if (!n)
					goto bad;
				off += n;
			}
			if (v[2] > len - off)
				goto bad;
			off += (size_t)v[2];
			break;
		default:
			s->why = "frame type not allowed in an Initial packet";
			return PKS_TLS_MALFORMED;
		}
	}
	return PKS_TLS_NEED_MORE;
bad:
	s->why = "truncated frame in an Initial packet";
	return PKS_TLS_MALFORMED;
}

/* Opens one Initial with the flow's keys, or with keys from its own DCID. */
static int open_with_keys(struct pks_quic_state *s, const uint8_t *pkt, const struct long_hdr *h,
			  uint8_t *payload, size_t *payload_len, uint64_t *pn)
{
	struct pks_quic_keys k;

	if (s->have_keys && s->version == h->version &&
	    open_packet(pkt, h, &s->keys, s->largest_pn, payload, payload_len, pn) == 0)
		return 0;
	/* The first Initial, or one sent after a Retry: the client derives keys
	 * from the Destination Connection ID it sends (RFC 9001 5.2). */
	if (s->have_keys && s->version == h->version && h->dcid_len == s->dcid_len &&
	    !memcmp(h->dcid, s->dcid, s->dcid_len))
		return -EBADMSG;
	if (pks_quic_initial_keys(h->version, h->dcid, h->dcid_len, 0, &k))
		return -EIO;
	if (open_packet(pkt, h, &k, s->have_keys ? s->largest_pn : -1, payload, payload_len, pn))
		return -EBADMSG;
	s->keys = k;
	s->have_keys = true;
	s->version = h->version;
	memcpy(s->dcid, h->dcid, h->dcid_len);
	s->dcid_len = h->dcid_len;
	return 0;
}

int pks_quic_client_datagram(struct pks_quic_state *s, const uint8_t *dgram, size_t len)
{
	size_t off = 0;
	uint8_t *payload;
	int opened = 0, st = PKS_TLS_NEED_MORE;

	if (s->hello.hello_len)
		return PKS_TLS_COMPLETE;
	/* UDP payloads are at most 65527 bytes; the plaintext is never longer. */
	if (len == 0 || len > 65535) {
		s->why = "empty or oversized datagram";
		s->refused++;
		return PKS_TLS_MALFORMED;
	}
	payload = malloc(len);
	if (!payload)
		return PKS_TLS_MALFORMED;
	/* Coalesced packets follow one another until a short header (whose
	 * length is the rest of the datagram) or the end (RFC 9000 12.2). */
	while (off < len && (dgram[off] & 0x80)) {
		struct long_hdr h;
		size_t plen;
		uint64_t pn;
		const char *why = NULL;

		if (parse_long(dgram + off, len - off, &h, &why)) {
			s->why = why;
			st = PKS_TLS_MALFORMED;
			break;
		}
		if (h.type == LT_INITIAL) {
			if (open_with_keys(s, dgram + off, &h, payload, &plen, &pn)) {
				s->why = "Initial packet does not authenticate";
				st = PKS_TLS_MALFORMED;
				break;
			}
			opened++;
			s->initials++;
			if ((int64_t)pn > s->largest_pn)
				s->largest_pn = (int64_t)pn;
			st = read_frames(s, payload, plen);
			if (st == PKS_TLS_MALFORMED) {
				s->fatal = true;
				break;
			}
		}
		/* 0-RTT and Handshake packets carry nothing for this rule. */
		off += h.end;
	}
	free(payload);
	if (st == PKS_TLS_MALFORMED || !opened) {
		if (!opened && st != PKS_TLS_MALFORMED)
			s->why = "datagram without a client Initial";
		s->refused++;
		return PKS_TLS_MALFORMED;
	}
	st = pks_tls_parse_handshake(pks_reasm_data(&s->crypto), pks_reasm_len(&s->crypto), 0, &s->hello);
	if (st == PKS_TLS_MALFORMED) {
		s->why = s->hello.why;
		s->hello.hello_len = 0;
		s->fatal = true;
	}
	return st;
}
