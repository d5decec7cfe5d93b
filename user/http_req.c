// SPDX-License-Identifier: MIT OR Apache-2.0
/* HTTP/1.x request head: host and User-Agent; see http_req.h. */
#include <string.h>

#include "http_req.h"

/* tchar (RFC 9110 5.6.2): the characters of methods and field names. */
static int is_tchar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

static int malformed(struct pks_http_req *out, const char *why)
{
	out->why = why;
	return PKS_TLS_MALFORMED;
}

/* Case-insensitive comparison of a field name with a lower-case literal. */
static int name_is(const uint8_t *p, size_t n, const char *lit)
{
	if (strlen(lit) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower(p[i]) != (uint8_t)lit[i])
			return 0;
	return 1;
}

/*
 * authority = [ userinfo "@" ] host [ ":" port ] (RFC 3986 3.2), as a Host
 * value or a request target carries it. host is a reg-name, IPv4 address or
 * bracketed IP literal; kept lower case, without the port.
 */
static int parse_authority(const uint8_t *p, size_t n, struct pks_http_req *out)
{
	size_t i, hlen, at = n;
	unsigned long port = 0;

	for (i = 0; i < n; i++)
		if (p[i] == '@')
			at = i;
	/* userinfo is deprecated in http URIs (RFC 9110 4.2.4); skip it. */
	if (at < n) {
		p += at + 1;
		n -= at + 1;
	}
	if (n && p[0] == '[') {
		for (i = 1; i < n && p[i] != ']'; i++)
			if (!((p[i] >= '0' && p[i] <= '9') || (lower(p[i]) >= 'a' && lower(p[i]) <= 'f') ||
			      p[i] == ':' || p[i] == '.'))
				return malformed(out, "IP literal in the authority");
		if (i == n)
			return malformed(out, "IP literal without ']'");
		hlen = i + 1;
	} else {
		for (i = 0; i < n && p[i] != ':'; i++) {
			uint8_t c = lower(p[i]);

			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
				return malformed(out, "host is not a host name");
		}
		hlen = i;
	}
	if (hlen > PKS_HTTP_HOST_MAX)
		return malformed(out, "host name too long");
	if (hlen < n) {
		if (p[hlen] != ':')
			return malformed(out, "text after the host");
		for (i = hlen + 1; i < n; i++) {
			if (p[i] < '0' || p[i] > '9' || (port = port * 10 + (p[i] - '0')) > 65535)
				return malformed(out, "port in the authority");
		}
	}
	for (i = 0; i < hlen; i++)
		out->host[i] = (char)lower(p[i]);
	out->host[hlen] = '\0';
	out->port = (uint16_t)port;
	return 0;
}

int pks_host_is_ip(const char *h)
{
	int parts = 0;

	if (h[0] == '[')
		return 1;
	/* IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet */
	while (*h) {
		unsigned int v = 0, digits = 0;

		while (*h >= '0' && *h <= '9' && digits < 4)
			v = v * 10 + (unsigned int)(*h++ - '0'), digits++;
		if (!digits || digits > 3 || v > 255)
			return 0;
		parts++;
		if (*h == '.' && parts < 4)
			h++;
		else if (*h)
			return 0;
	}
	return parts == 4;
}

/* The request target's authority, for absolute-form and authority-form (RFC 9112 3.2.2-3). */
static int target_authority(const uint8_t *t, size_t n, int is_connect, struct pks_http_req *out)
{
	size_t i, end;

	if (is_connect)
		return parse_authority(t, n, out) ? PKS_TLS_MALFORMED : 1;
	if (n == 0 || t[0] == '/' || (n == 1 && t[0] == '*'))
		return 0; /* origin-form, asterisk-form: the host is in Host */
	/* absolute-URI: scheme ":" hier-part; an http(s) one names "//" authority. */
	for (i = 0; i < n && t[i] != ':'; i++)
		if (!((lower(t[i]) >= 'a' && lower(t[i]) <= 'z') || (i && ((t[i] >= '0' && t[i] <= '9') ||
									   t[i] == '+' || t[i] == '-' || t[i] == '.'))))
			return malformed(out, "request target is not a URI");
	if (i == 0 || i + 3 > n || t[i + 1] != '/' || t[i + 2] != '/')
		return malformed(out, "request target is not a URI with an authority");
	i += 3;
	for (end = i; end < n && t[end] != '/' && t[end] != '?' && t[end] != '#'; end++)
		;
	if (end == i)
		return malformed(out, "empty authority in the request target");
	return parse_authority(t + i, end - i, out) ? PKS_TLS_MALFORMED : 1;
}

/* Trims optional whitespace (SP, HTAB) around a field value. */
static void trim(const uint8_t **p, size_t *n)
{
	while (*n && ((*p)[0] == ' ' || (*p)[0] == '\t'))
		(*p)++, (*n)--;
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

static int parse_request_line(const uint8_t *l, size_t n, struct pks_http_req *out, int *host_from_target)
{
	size_t m, t0, t1;
	int r;

	for (m = 0; m < n && is_tchar(l[m]); m++)
		;
	if (m == 0 || m >= sizeof(out->method) || m == n || l[m] != ' ')
		return malformed(out, "request method");
	memcpy(out->method, l, m);
	out->method[m] = '\0';
	t0 = m + 1;
	for (t1 = t0; t1 < n && l[t1] > ' ' && l[t1] < 0x7f; t1++)
		;
	if (t1 == t0 || t1 == n || l[t1] != ' ')
		return malformed(out, "request target");
	/* HTTP-version = "HTTP/" DIGIT "." DIGIT, and 1.x here (RFC 9112 2.3). */
	if (n - t1 - 1 != 8 || memcmp(l + t1 + 1, "HTTP/1.", 7) || l[t1 + 8] < '0' || l[t1 + 8] > '9')
		return malformed(out, "HTTP version");
	out->version_minor = (uint8_t)(l[t1 + 8] - '0');
	r = target_authority(l + t0, t1 - t0, !strcmp(out->method, "CONNECT"), out);
	if (r < 0)
		return r;
	*host_from_target = r;
	out->from_target = (uint8_t)r;
	return 0;
}

int pks_http_parse_request(const uint8_t *stream, size_t len, struct pks_http_req *out)
{
	size_t pos = 0, lines = 0;
	int host_from_target = 0, host_seen = 0;

	memset(out, 0, sizeof(*out));
	if (len > PKS_HTTP_HEAD_MAX)
		len = PKS_HTTP_HEAD_MAX;
	for (;;) {
		/* No bytes yet (a server that spoke first) may come as NULL: never memchr(NULL, ..., 0). */
		const uint8_t *l = stream + pos, *nl = len > pos ? memchr(l, '\n', len - pos) : NULL;
		size_t n;

		if (!nl) {
			/* A partial request line must still look like one: a method. */
			if (lines == 0) {
				for (size_t i = 0; i < len - pos && l[i] != ' '; i++)
					if (!is_tchar(l[i]) || i + 1 >= sizeof(out->method))
						return malformed(out, "request method");
			}
			if (len < PKS_HTTP_HEAD_MAX)
				return PKS_TLS_NEED_MORE;
			if (lines == 0)
				return malformed(out, "request line longer than the head window");
			/* The window is full: what the complete lines said is the answer. */
			return PKS_TLS_COMPLETE;
		}
		n = (size_t)(nl - l);
		pos += n + 1;
		/* CRLF ends a line; a bare LF is accepted (RFC 9112 2.2). */
		if (n && l[n - 1] == '\r')
			n--;
		if (lines++ == 0) {
			int err = parse_request_line(l, n, out, &host_from_target);

			if (err)
				return err;
			continue;
		}
		if (n == 0)
			return PKS_TLS_COMPLETE; /* the empty line ends the head */
		if (l[0] == ' ' || l[0] == '\t')
			continue; /* obs-fold continuation (RFC 9112 5.2): not Host or User-Agent */

		size_t c;

		for (c = 0; c < n && is_tchar(l[c]); c++)
			;
		/* "No whitespace is allowed between the field name and colon" (RFC 9112 5.1) */
		if (c == 0 || c == n || l[c] != ':')
			return malformed(out, "header field name");
		const uint8_t *v = l + c + 1;
		size_t vn = n - c - 1;

		trim(&v, &vn);
		if (name_is(l, c, "host")) {
			/* More than one Host is answered 400 (RFC 9112 3.2). */
			if (host_seen++)
				return malformed(out, "two Host fields");
			/* An absolute-form target's authority wins over Host (RFC 9112 3.2.2). */
			if (!host_from_target && vn && parse_authority(v, vn, out))
				return PKS_TLS_MALFORMED;
		} else if (name_is(l, c, "user-agent") && !out->user_agent[0]) {
			size_t k = vn < PKS_HTTP_UA_MAX ? vn : PKS_HTTP_UA_MAX;

			/* Shown in tables and JSON: controls and obs-text become '?'. */
			for (size_t i = 0; i < k; i++)
				out->user_agent[i] = v[i] >= 0x20 && v[i] < 0x7f ? (char)v[i] : '?';
			out->user_agent[k] = '\0';
		}
	}
}
