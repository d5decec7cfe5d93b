// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * ClientHello / ServerHello parsing; see tls_hello.h. Structures follow
 * RFC 8446 4.1.2 (ClientHello), 4.1.3 (ServerHello), 4.2 (extensions) and
 * 5.1 (record layer); server_name is RFC 6066 3, ALPN RFC 7301 3.1.
 */
#include <string.h>

#include "tls_hello.h"

#define TLS_CT_HANDSHAKE 22 /* RFC 8446 5.1 ContentType.handshake */
#define TLS_HS_CLIENT_HELLO 1
#define TLS_HS_SERVER_HELLO 2
#define TLS_RECORD_HDR 5
#define TLS_RECORD_MAX 16384 /* 2^14: "MUST NOT exceed" (RFC 8446 5.1) */
#define TLS_HS_HDR 4         /* msg_type(1) length(3) */

#define EXT_SERVER_NAME 0
#define EXT_ALPN 16
#define EXT_SUPPORTED_VERSIONS 43

/* A read cursor that never passes its end: every take checks first. */
struct cur {
	const uint8_t *p, *end;
};

static int take(struct cur *c, size_t n, const uint8_t **out)
{
	if ((size_t)(c->end - c->p) < n)
		return -1;
	if (out)
		*out = c->p;
	c->p += n;
	return 0;
}

static int take_u8(struct cur *c, unsigned int *v)
{
	const uint8_t *p;

	if (take(c, 1, &p))
		return -1;
	*v = p[0];
	return 0;
}

static int take_u16(struct cur *c, unsigned int *v)
{
	const uint8_t *p;

	if (take(c, 2, &p))
		return -1;
	*v = (unsigned int)p[0] << 8 | p[1];
	return 0;
}

/* A length-prefixed vector (prefix of 1 or 2 bytes) as a sub-cursor. */
static int take_vec(struct cur *c, int prefix, struct cur *sub)
{
	unsigned int n;
	const uint8_t *p;

	if ((prefix == 1 ? take_u8(c, &n) : take_u16(c, &n)) || take(c, n, &p))
		return -1;
	sub->p = p;
	sub->end = p + n;
	return 0;
}

static size_t left(const struct cur *c)
{
	return (size_t)(c->end - c->p);
}

static int malformed(struct pks_tls_hello *out, const char *why)
{
	out->why = why;
	return PKS_TLS_MALFORMED;
}

/* GREASE values 0x0a0a, 0x1a1a, ... 0xfafa (RFC 8701 2) are never real versions. */
static int is_grease(unsigned int v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/*
 * Server names are DNS host names (RFC 6066 3: "ASCII encoding without a
 * trailing dot"). Letters, digits, '-', '.', and '_' (which real names carry
 * although host names should not). Anything else is refused rather than
 * shown: names end up in JSON and terminals.
 */
static int copy_name(const uint8_t *p, size_t n, char *dst)
{
	if (n == 0 || n > PKS_TLS_NAME_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = p[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (uint8_t)(ch - 'A' + 'a');
		else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
			   ch == '_'))
			return -1;
		dst[i] = (char)ch;
	}
	dst[n] = '\0';
	return 0;
}

static int parse_sni(struct cur *e, struct pks_tls_hello *out)
{
	struct cur list;
	int seen = 0;

	if (take_vec(e, 2, &list) || left(e) || !left(&list))
		return malformed(out, "server_name list length");
	while (left(&list)) {
		unsigned int type;
		struct cur name;

		if (take_u8(&list, &type) || take_vec(&list, 2, &name))
			return malformed(out, "server_name entry length");
		if (type != 0) /* only host_name (0) is defined */
			continue;
		/* "MUST NOT contain more than one name of the same name_type" */
		if (seen++)
			return malformed(out, "two host_name entries");
		if (copy_name(name.p, left(&name), out->sni))
			return malformed(out, "server name is not a DNS host name");
	}
	return 0;
}

/* Appends one protocol ID to the comma-separated list, whole or not at all. */
static void alpn_append(struct pks_tls_hello *out, const uint8_t *p, size_t n)
{
	size_t used = strlen(out->alpn), need = n + (used ? 1 : 0);

	if (used + need > PKS_TLS_ALPN_MAX)
		return;
	if (used)
		out->alpn[used++] = ',';
	for (size_t i = 0; i < n; i++)
		/* IDs are opaque bytes (RFC 7301 3.1); show printable ones, others as '?'. */
		out->alpn[used++] = p[i] > 0x20 && p[i] < 0x7f && p[i] != ',' && p[i] != '"' && p[i] != '\\'
					    ? (char)p[i]
					    : '?';
	out->alpn[used] = '\0';
}

static int parse_alpn(struct cur *e, int server, struct pks_tls_hello *out)
{
	struct cur list;

	/* ProtocolNameList protocol_name_list<2..2^16-1> */
	if (take_vec(e, 2, &list) || left(e) || left(&list) < 2)
		return malformed(out, "ALPN list length");
	while (left(&list)) {
		struct cur name;

		/* opaque ProtocolName<1..2^8-1> */
		if (take_vec(&list, 1, &name) || !left(&name))
			return malformed(out, "ALPN protocol length");
		if (out->alpn_count < UINT8_MAX)
			out->alpn_count++;
		alpn_append(out, name.p, left(&name));
	}
	/* The server selects exactly one (RFC 7301 3.1). */
	if (server && out->alpn_count != 1)
		return malformed(out, "ServerHello ALPN is not one protocol");
	return 0;
}

static int parse_versions(struct cur *e, int server, struct pks_tls_hello *out)
{
	unsigned int v = 0, best = 0;
	struct cur list;

	if (server) {
		/* ServerHello: selected_version (RFC 8446 4.2.1) */
		if (take_u16(e, &v) || left(e))
			return malformed(out, "supported_versions length");
		out->version = (uint16_t)v;
		return 0;
	}
	/* ProtocolVersion versions<2..254> */
	if (take_vec(e, 1, &list) || left(e) || left(&list) < 2 || left(&list) % 2)
		return malformed(out, "supported_versions length");
	while (left(&list)) {
		take_u16(&list, &v);
		if (!is_grease(v) && v > best)
			best = v;
	}
	if (best)
		out->version = (uint16_t)best;
	return 0;
}

/* body: the hello after its 4-byte handshake header. */
static int parse_hello(const uint8_t *body, size_t len, int server, struct pks_tls_hello *out)
{
	struct cur c = { body, body + len }, sid, exts;
	unsigned int v, seen = 0;

	if (take_u16(&c, &v) || take(&c, 32, NULL)) /* legacy_version, random */
		return malformed(out, "hello shorter than its fixed fields");
	if ((v >> 8) != 3)
		return malformed(out, "legacy_version is not 3.x");
	out->legacy_version = (uint16_t)v;
	out->version = (uint16_t)v;
	if (take_vec(&c, 1, &sid) || left(&sid) > 32) /* legacy_session_id<0..32> */
		return malformed(out, "session id length");
	if (server) {
		/* cipher_suite, legacy_compression_method */
		if (take(&c, 3, NULL))
			return malformed(out, "ServerHello cipher suite");
	} else {
		struct cur suites, comp;

		/* CipherSuite cipher_suites<2..2^16-2> */
		if (take_vec(&c, 2, &suites) || left(&suites) < 2 || left(&suites) % 2)
			return malformed(out, "cipher suites length");
		/* opaque legacy_compression_methods<1..2^8-1> */
		if (take_vec(&c, 1, &comp) || !left(&comp))
			return malformed(out, "compression methods length");
	}
	/* Hellos before TLS 1.2 may end here (RFC 5246 7.4.1.2). */
	if (!left(&c))
		return PKS_TLS_COMPLETE;
	/* Extension extensions<8..2^16-1>, and nothing after it. */
	if (take_vec(&c, 2, &exts) || left(&c))
		return malformed(out, "extensions length");
	while (left(&exts)) {
		unsigned int type, bit = 0;
		struct cur e;
		int err = 0;

		if (take_u16(&exts, &type) || take_vec(&exts, 2, &e))
			return malformed(out, "extension length");
		switch (type) {
		case EXT_SERVER_NAME:
			bit = 1;
			/* A server's server_name is empty (RFC 6066 3): nothing to read. */
			if (!server)
				err = parse_sni(&e, out);
			break;
		case EXT_ALPN:
			bit = 2;
			err = parse_alpn(&e, server, out);
			break;
		case EXT_SUPPORTED_VERSIONS:
			bit = 4;
			err = parse_versions(&e, server, out);
			break;
		}
		if (err)
			return err;
		/* "There MUST NOT be more than one extension of the same type" (4.2);
		 * two server names would leave the answer ambiguous. */
		if (seen & bit)
			return malformed(out, "extension repeated");
		seen |= bit;
	}
	return PKS_TLS_COMPLETE;
}

/* msgs: the handshake byte stream (records removed) of len bytes so far. */
static int parse_messages(const uint8_t *msgs, size_t len, int server, struct pks_tls_hello *out)
{
	uint32_t body;

	if (len < 1)
		return PKS_TLS_NEED_MORE;
	if (msgs[0] != (server ? TLS_HS_SERVER_HELLO : TLS_HS_CLIENT_HELLO))
		return malformed(out, server ? "first message is not a ServerHello" : "first message is not a ClientHello");
	if (len < TLS_HS_HDR)
		return PKS_TLS_NEED_MORE;
	body = (uint32_t)msgs[1] << 16 | (uint32_t)msgs[2] << 8 | msgs[3];
	/* The fixed fields alone take 38 bytes (version, random, session id length...). */
	if (body < 38)
		return malformed(out, "hello length too short");
	if (body > PKS_TLS_HELLO_MAX - TLS_HS_HDR)
		return malformed(out, "hello length absurd");
	if (len < TLS_HS_HDR + body)
		return PKS_TLS_NEED_MORE;
	out->hello_len = TLS_HS_HDR + body;
	return parse_hello(msgs + TLS_HS_HDR, body, server, out);
}

static void reset(struct pks_tls_hello *out, int server)
{
	memset(out, 0, sizeof(*out));
	out->is_server = (uint8_t)!!server;
}

int pks_tls_parse_handshake(const uint8_t *msgs, size_t len, int want_server, struct pks_tls_hello *out)
{
	reset(out, want_server);
	return parse_messages(msgs, len, want_server, out);
}

int pks_tls_parse_records(const uint8_t *stream, size_t len, int want_server, struct pks_tls_hello *out)
{
	/* The hello's bytes gathered from the records that carry it. */
	uint8_t msg[PKS_TLS_HELLO_MAX];
	size_t have = 0, pos = 0;
	int first = 1;

	reset(out, want_server);
	while (pos < len) {
		const uint8_t *h = stream + pos;
		size_t avail = len - pos, rlen, n;
		uint16_t version;
		int st;

		/* A record header needs its first three bytes to be judged. */
		if (h[0] != TLS_CT_HANDSHAKE)
			return malformed(out, first ? "not a handshake record" : "record type changed inside the hello");
		if (avail < 3)
			return PKS_TLS_NEED_MORE;
		version = (uint16_t)(h[1] << 8 | h[2]);
		if (h[1] != 3)
			return malformed(out, "record version is not 3.x");
		if (first)
			out->record_version = version;
		if (avail < TLS_RECORD_HDR)
			return PKS_TLS_NEED_MORE;
		rlen = (size_t)h[3] << 8 | h[4];
		if (rlen == 0)
			/* "Implementations MUST NOT send zero-length fragments of Handshake types" */
			return malformed(out, "empty handshake record");
		if (rlen > TLS_RECORD_MAX)
			return malformed(out, "record length over 2^14");
		/* Bytes of this record's body at hand: a partial record still helps. */
		n = avail - TLS_RECORD_HDR < rlen ? avail - TLS_RECORD_HDR : rlen;
		if (n > sizeof(msg) - have)
			return malformed(out, "hello length absurd");
		memcpy(msg + have, h + TLS_RECORD_HDR, n);
		have += n;
		st = parse_messages(msg, have, want_server, out);
		if (st != PKS_TLS_NEED_MORE)
			return st;
		if (n < rlen)
			return PKS_TLS_NEED_MORE;
		pos += TLS_RECORD_HDR + rlen;
		first = 0;
	}
	return PKS_TLS_NEED_MORE;
}

const char *pks_tls_version_name(uint16_t v)
{
	switch (v) {
	case 0x0300:
		return "ssl3.0";
	case PKS_TLS_V10:
		return "1.0";
	case PKS_TLS_V11:
		return "1.1";
	case PKS_TLS_V12:
		return "1.2";
	case PKS_TLS_V13:
		return "1.3";
	}
	return NULL;
}
