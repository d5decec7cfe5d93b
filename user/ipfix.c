// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * IPFIX exporter (see ipfix.h). Message layout, RFC 7011:
 *   Message Header (3.1): version 10, length, export time, sequence number
 *     (data records sent before this message), observation domain ID;
 *   Sets (3.3): ID 2 templates, ID 3 options templates, ID >= 256 data;
 *   variable-length fields (7): one length byte, or 255 and two bytes.
 * Templates and data are encoded from the same field lists below, so the two
 * never disagree.
 */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "pktspec.h"
#include "engine.h"
#include "ipfix.h"

/* Information elements (IANA "IPFIX Information Elements" registry). */
enum {
	IE_OCTET_DELTA = 1,          /* octetDeltaCount */
	IE_PACKET_DELTA = 2,         /* packetDeltaCount */
	IE_PROTOCOL = 4,             /* protocolIdentifier */
	IE_SRC_PORT = 7,             /* sourceTransportPort */
	IE_SRC_V4 = 8,               /* sourceIPv4Address */
	IE_DST_PORT = 11,            /* destinationTransportPort */
	IE_DST_V4 = 12,              /* destinationIPv4Address */
	IE_SRC_V6 = 27,              /* sourceIPv6Address */
	IE_DST_V6 = 28,              /* destinationIPv6Address */
	IE_APP_DESC = 94,            /* applicationDescription */
	IE_APP_ID = 95,              /* applicationId (RFC 6759) */
	IE_APP_NAME = 96,            /* applicationName */
	IE_END_REASON = 136,         /* flowEndReason */
	IE_FLOW_ID = 148,            /* flowId */
	IE_START_MS = 152,           /* flowStartMilliseconds */
	IE_END_MS = 153,             /* flowEndMilliseconds */
	IE_L2_SEGMENT_ID = 351,      /* layer2SegmentId: segment type byte, 24-bit segment ID */
	IE_L2_OCTET_DELTA = 352,     /* layer2OctetDeltaCount */
	IE_HTTP_HOST = 460,          /* httpRequestHost */
	IE_GTPU_TEID = 507,          /* gtpuTEid (draft-voyersriram-opsawg-ipfix-gtpu) */
};

/*
 * layer2SegmentId's most significant byte: the overlay's encapsulation type,
 * as the IANA registry's description of IE 351 lists them (0x00 reserved).
 */
enum {
	L2SEG_VXLAN = 0x01,
	L2SEG_NVGRE = 0x02,
};

#define VARLEN 0xffff

struct ie {
	uint16_t id, len;
};

/*
 * Flow templates are composed: flowId, the addresses of the family, the
 * tunnel element if any, the common fields, httpRequestHost for HTTP-named
 * flows. Template t (index below) = family (0 IPv4, 1 IPv6) + 2 * http + 4 *
 * enum tunnel_ie. The bare templates (t < 4) never carry a tunnel element,
 * so collectors of plain traffic see nothing new.
 */
enum tunnel_ie { TUN_NONE, TUN_L2SEG, TUN_TEID };

#define TPL_COUNT (4 * (TUN_TEID + 1))

static const struct ie addrs[2][2] = {
	{ { IE_SRC_V4, 4 }, { IE_DST_V4, 4 } },
	{ { IE_SRC_V6, 16 }, { IE_DST_V6, 16 } },
};
static const struct ie tunnel_ies[] = {
	[TUN_L2SEG] = { IE_L2_SEGMENT_ID, 8 },
	[TUN_TEID] = { IE_GTPU_TEID, 4 },
};
static const struct ie flow_tail[] = {
	{ IE_SRC_PORT, 2 }, { IE_DST_PORT, 2 }, { IE_PROTOCOL, 1 }, { IE_OCTET_DELTA, 8 },
	{ IE_PACKET_DELTA, 8 }, { IE_L2_OCTET_DELTA, 8 }, { IE_START_MS, 8 }, { IE_END_MS, 8 },
	{ IE_END_REASON, 1 }, { IE_APP_ID, 4 }, { IE_APP_NAME, VARLEN },
};
/* Options template: scope applicationId, then its name and description (RFC 6759 5). */
static const struct ie tpl_apps[] = { { IE_APP_ID, 4 }, { IE_APP_NAME, VARLEN }, { IE_APP_DESC, VARLEN } };

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define TPL_FIELDS_MAX (1 + 2 + 1 + N(flow_tail) + 1)

/* 256-259 bare, then 261-268 past the options template's 260 (ipfix.h). */
static uint16_t tpl_id(size_t t)
{
	return t < 4 ? PKS_IPFIX_TPL_V4 + t : PKS_IPFIX_TPL_V4_L2SEG + t - 4;
}

/* Template t's fields into out (TPL_FIELDS_MAX); returns how many. */
static size_t tpl_fields(size_t t, struct ie *out)
{
	size_t n = 0;

	out[n++] = (struct ie){ IE_FLOW_ID, 8 };
	out[n++] = addrs[t & 1][0];
	out[n++] = addrs[t & 1][1];
	if (t / 4 != TUN_NONE)
		out[n++] = tunnel_ies[t / 4];
	memcpy(out + n, flow_tail, sizeof(flow_tail));
	n += N(flow_tail);
	if (t & 2)
		out[n++] = (struct ie){ IE_HTTP_HOST, VARLEN };
	return n;
}

/*
 * Which element carries the flow's tunnel (its innermost one, as the key):
 * only tunnels the IANA registry has an element for (doc/export.md says why
 * the others have none). VXLAN: layer2SegmentId type VxLAN, the VNI. gretap:
 * its frames are NVGRE's (RFC 7637: GRE, key present, 0x6558), whose key is
 * the 24-bit VSID then an 8-bit FlowID, per-flow entropy rather than segment:
 * layer2SegmentId type NVGRE, the key's high 24 bits. GTP-U: gtpuTEid.
 */
static enum tunnel_ie tunnel_ie(const struct pks_flow_key *k)
{
	switch (k->encap) {
	case PKS_E_VXLAN:
	case PKS_E_GRETAP:
		return TUN_L2SEG;
	case PKS_E_GTPU:
		return TUN_TEID;
	default:
		return TUN_NONE;
	}
}

static uint64_t l2_segment_id(const struct pks_flow_key *k)
{
	if (k->encap == PKS_E_GRETAP)
		return (uint64_t)L2SEG_NVGRE << 56 | k->tunnel_id >> 8;
	return (uint64_t)L2SEG_VXLAN << 56 | (k->tunnel_id & 0xffffff);
}

/* flowEndReason values (IANA registry for IE 136). */
static uint8_t end_reason_code(enum pks_end_reason r)
{
	switch (r) {
	case PKS_END_IDLE:
		return 0x01; /* idle timeout */
	case PKS_END_ACTIVE:
		return 0x02; /* active timeout */
	case PKS_END_FIN:
	case PKS_END_RST:
		return 0x03; /* end of flow detected */
	case PKS_END_SHUTDOWN:
		return 0x04; /* forced end */
	case PKS_END_EVICTED:
		return 0x05; /* lack of resources */
	default:
		return 0x00;
	}
}

/* --- A bounded writer: every put checks room once; a message that does not fit is not sent. --- */

struct wbuf {
	uint8_t *p;
	size_t len, off;
	bool full;
};

static void put(struct wbuf *w, const void *v, size_t n)
{
	if (w->full || w->len - w->off < n) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->off, v, n);
	w->off += n;
}

static void put8(struct wbuf *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put16(struct wbuf *w, uint16_t v)
{
	v = htons(v);
	put(w, &v, 2);
}

static void put32(struct wbuf *w, uint32_t v)
{
	v = htonl(v);
	put(w, &v, 4);
}

static void put64(struct wbuf *w, uint64_t v)
{
	put32(w, (uint32_t)(v >> 32));
	put32(w, (uint32_t)v);
}

static void put_at16(struct wbuf *w, size_t at, uint16_t v)
{
	if (!w->full && at + 2 <= w->off) {
		w->p[at] = v >> 8;
		w->p[at + 1] = v & 0xff;
	}
}

/* A variable-length string (RFC 7011 7): names here are shorter than 255. */
static void put_varstr(struct wbuf *w, const char *s)
{
	size_t n = strlen(s); /* every caller's string ends in NUL */

	if (n > 254)
		n = 254;

	put8(w, (uint8_t)n);
	put(w, s, n);
}

static void msg_begin(struct wbuf *w, uint32_t export_time, uint32_t seq, uint32_t domain)
{
	put16(w, 10); /* version: IPFIX */
	put16(w, 0);  /* length, set at the end */
	put32(w, export_time);
	put32(w, seq);
	put32(w, domain);
}

static size_t msg_end(struct wbuf *w)
{
	if (w->full)
		return 0;
	put_at16(w, 2, (uint16_t)w->off);
	return w->off;
}

static size_t set_begin(struct wbuf *w, uint16_t set_id)
{
	size_t at = w->off;

	put16(w, set_id);
	put16(w, 0);
	return at;
}

static void set_end(struct wbuf *w, size_t at)
{
	put_at16(w, at + 2, (uint16_t)(w->off - at));
}

static void put_fields(struct wbuf *w, const struct ie *ies, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		put16(w, ies[i].id);
		put16(w, ies[i].len);
	}
}

size_t pks_ipfix_encode_templates(uint8_t *buf, size_t len, uint32_t export_time, uint32_t seq, uint32_t domain)
{
	struct wbuf w = { .p = buf, .len = len };
	size_t set;

	msg_begin(&w, export_time, seq, domain);
	set = set_begin(&w, 2);
	for (size_t t = 0; t < TPL_COUNT; t++) {
		struct ie ies[TPL_FIELDS_MAX];
		size_t n = tpl_fields(t, ies);

		put16(&w, tpl_id(t));
		put16(&w, (uint16_t)n);
		put_fields(&w, ies, n);
	}
	set_end(&w, set);
	set = set_begin(&w, 3);
	put16(&w, PKS_IPFIX_TPL_APPS);
	put16(&w, (uint16_t)N(tpl_apps));
	put16(&w, 1); /* scope field count: applicationId */
	put_fields(&w, tpl_apps, N(tpl_apps));
	set_end(&w, set);
	return msg_end(&w);
}

static void put_app_id(struct wbuf *w, unsigned int proto)
{
	put8(w, PKS_IPFIX_ENGINE);
	put8(w, (proto >> 16) & 0xff);
	put16(w, proto & 0xffff);
}

/*
 * Options data: applicationId -> name, description for protocols from *next
 * on, as many as fit; *next is where the following message starts.
 */
static size_t encode_apps(uint8_t *buf, size_t len, uint32_t export_time, uint32_t seq, uint32_t domain,
			  unsigned int *next, unsigned int *records)
{
	struct wbuf w = { .p = buf, .len = len };
	size_t set;

	*records = 0;
	msg_begin(&w, export_time, seq, domain);
	set = set_begin(&w, PKS_IPFIX_TPL_APPS);
	while (*next < PKS_P__COUNT) {
		size_t before = w.off;

		put_app_id(&w, *next);
		put_varstr(&w, pks_proto_name(*next));
		put_varstr(&w, pks_proto_desc(*next));
		if (w.full) {
			w.full = false;
			w.off = before;
			break;
		}
		(*next)++;
		(*records)++;
	}
	set_end(&w, set);
	return *records ? msg_end(&w) : 0;
}

static uint64_t epoch_ms(uint64_t ns, enum pks_clock clock)
{
	return (pks_epoch_ns(ns, clock) + 500000) / 1000000;
}

/* One direction of a flow as a data record of template ies. */
static void put_record(struct wbuf *w, const struct ie *ies, size_t n, const struct pks_flow_record *r, int dir,
		       enum pks_clock clock)
{
	int a_is_client = r->val.client == PKS_SIDE_A;
	const uint8_t *client = a_is_client ? r->key.addr_a : r->key.addr_b;
	const uint8_t *server = a_is_client ? r->key.addr_b : r->key.addr_a;
	uint16_t cport = a_is_client ? r->key.port_a : r->key.port_b;
	uint16_t sport = a_is_client ? r->key.port_b : r->key.port_a;
	const uint8_t *src = dir == PKS_DIR_C2S ? client : server, *dst = dir == PKS_DIR_C2S ? server : client;
	/* The kernel counts frames (Ethernet header included); IP octets leave out its 14 bytes. */
	uint64_t l2 = r->delta_bytes[dir], pk = r->delta_packets[dir];
	uint64_t ip = l2 > pk * 14 ? l2 - pk * 14 : 0;

	for (size_t i = 0; i < n; i++) {
		switch (ies[i].id) {
		case IE_FLOW_ID:
			put64(w, r->id);
			break;
		case IE_SRC_V4:
			put(w, src + 12, 4);
			break;
		case IE_DST_V4:
			put(w, dst + 12, 4);
			break;
		case IE_SRC_V6:
			put(w, src, 16);
			break;
		case IE_DST_V6:
			put(w, dst, 16);
			break;
		case IE_SRC_PORT:
			put16(w, dir == PKS_DIR_C2S ? cport : sport);
			break;
		case IE_DST_PORT:
			put16(w, dir == PKS_DIR_C2S ? sport : cport);
			break;
		case IE_PROTOCOL:
			put8(w, r->key.l4);
			break;
		case IE_OCTET_DELTA:
			put64(w, ip);
			break;
		case IE_PACKET_DELTA:
			put64(w, pk);
			break;
		case IE_L2_OCTET_DELTA:
			put64(w, l2);
			break;
		case IE_START_MS:
			put64(w, epoch_ms(r->since_ns, clock));
			break;
		case IE_END_MS:
			put64(w, epoch_ms(r->val.last_ns, clock));
			break;
		case IE_END_REASON:
			put8(w, end_reason_code(r->reason));
			break;
		case IE_APP_ID:
			put_app_id(w, r->val.proto);
			break;
		case IE_APP_NAME:
			put_varstr(w, pks_proto_name(r->val.proto));
			break;
		case IE_HTTP_HOST:
			put_varstr(w, r->named ? r->name.host : "");
			break;
		case IE_L2_SEGMENT_ID:
			put64(w, l2_segment_id(&r->key));
			break;
		case IE_GTPU_TEID:
			put32(w, r->key.tunnel_id);
			break;
		}
	}
}

static bool http_named(const struct pks_flow_record *r)
{
	return r->named && r->name.source == PKS_NAME_HTTP && r->name.host[0];
}

size_t pks_ipfix_encode_flow(uint8_t *buf, size_t len, const struct pks_flow_record *r, enum pks_clock clock,
			     uint32_t export_time, uint32_t seq, uint32_t domain, unsigned int *records)
{
	struct wbuf w = { .p = buf, .len = len };
	bool v4 = pks_addr_is_v4(r->key.addr_a) && pks_addr_is_v4(r->key.addr_b), http = http_named(r);
	size_t t = (v4 ? 0 : 1) + (http ? 2 : 0) + 4 * tunnel_ie(&r->key), set;
	struct ie ies[TPL_FIELDS_MAX];
	size_t n = tpl_fields(t, ies);

	*records = 0;
	msg_begin(&w, export_time, seq, domain);
	set = set_begin(&w, tpl_id(t));
	for (int dir = PKS_DIR_C2S; dir <= PKS_DIR_S2C; dir++) {
		/* The reverse direction only when it carried something since the last record. */
		if (dir == PKS_DIR_S2C && !r->delta_packets[dir])
			continue;
		put_record(&w, ies, n, r, dir, clock);
		(*records)++;
	}
	set_end(&w, set);
	return msg_end(&w);
}

/* --- The exporter ---------------------------------------------------------- */

struct pks_ipfix {
	int fd;
	struct pks_ipfix_opts o;
	char target[256];
	struct pks_flow_record *queue; /* ring of PKS_IPFIX_QUEUE_MAX */
	size_t head, n;
	uint32_t seq;                  /* data records sent: the next message's sequence number */
	uint64_t next_templates_ns;    /* CLOCK_MONOTONIC */
	struct pks_ipfix_stats st;
};

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * PKS_SEC + t.tv_nsec;
}

int pks_ipfix_check_target(const char *s)
{
	char host[256], port[8];

	return pks_split_hostport(s, host, sizeof(host), port, sizeof(port));
}

int pks_ipfix_new(const struct pks_ipfix_opts *o, struct pks_ipfix **out)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV }, *ai = NULL;
	char host[256], port[8];
	struct pks_ipfix *x;
	int err;

	*out = NULL;
	if (pks_split_hostport(o->target, host, sizeof(host), port, sizeof(port)))
		return pks_fail("--ipfix takes HOST:PORT or [IPv6]:PORT, not '%s'", o->target), -EINVAL;
	err = getaddrinfo(host, port, &hints, &ai);
	if (err)
		return pks_fail("--ipfix %s: %s", o->target, gai_strerror(err)), -EINVAL;
	x = calloc(1, sizeof(*x));
	if (!x || !(x->queue = calloc(PKS_IPFIX_QUEUE_MAX, sizeof(*x->queue)))) {
		free(x);
		freeaddrinfo(ai);
		return -ENOMEM;
	}
	x->fd = -1;
	x->o = *o;
	if (!x->o.refresh_ns)
		x->o.refresh_ns = PKS_IPFIX_REFRESH_DEFAULT;
	snprintf(x->target, sizeof(x->target), "%s", o->target);
	x->fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (x->fd < 0 || connect(x->fd, ai->ai_addr, ai->ai_addrlen)) {
		err = -errno;
		pks_fail("--ipfix %s: %s", o->target, strerror(errno));
		freeaddrinfo(ai);
		pks_ipfix_free(x);
		return err;
	}
	freeaddrinfo(ai);
	x->o.target = x->target;
	*out = x;
	return 0;
}

enum send_result { SENT, LATER, LOST };

/* One datagram, never blocking: LATER when the socket cannot take it now. */
static enum send_result send_msg(struct pks_ipfix *x, const uint8_t *msg, size_t len, unsigned int records)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		ssize_t n = send(x->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n == (ssize_t)len) {
			x->st.messages++;
			x->st.bytes += len;
			x->seq += records;
			return SENT;
		}
		if (n < 0 && (errno == EAGAIN || errno == ENOBUFS))
			return LATER;
		x->st.send_errors++;
		/* ECONNREFUSED reports an earlier datagram's ICMP error: this one was not sent, try once more. */
		if (n < 0 && errno == ECONNREFUSED && attempt == 0)
			continue;
		break;
	}
	x->st.dropped += records;
	return LOST; /* done with: never retried forever */
}

static void send_templates(struct pks_ipfix *x)
{
	uint8_t msg[PKS_IPFIX_MSG_MAX];
	uint32_t now = (uint32_t)time(NULL);
	unsigned int next = 0, records;
	size_t len = pks_ipfix_encode_templates(msg, sizeof(msg), now, x->seq, x->o.domain);

	if (!len || send_msg(x, msg, len, 0) == LATER)
		return; /* the socket is full: try at the next flush */
	x->st.templates++;
	while ((len = encode_apps(msg, sizeof(msg), now, x->seq, x->o.domain, &next, &records)) > 0)
		send_msg(x, msg, len, records);
	x->next_templates_ns = mono_ns() + x->o.refresh_ns;
}

void pks_ipfix_add(struct pks_ipfix *x, const struct pks_flow_record *r)
{
	if (r->reason == PKS_END_NONE || r->reason == PKS_END_RESTORED)
		return; /* a restore carries no deltas: the flow's next record does */
	if (x->n == PKS_IPFIX_QUEUE_MAX) {
		x->st.dropped += 1 + (r->delta_packets[PKS_DIR_S2C] != 0);
		return;
	}
	x->queue[(x->head + x->n) % PKS_IPFIX_QUEUE_MAX] = *r;
	x->n++;
}

void pks_ipfix_flush(struct pks_ipfix *x)
{
	uint8_t msg[PKS_IPFIX_MSG_MAX];

	if (mono_ns() >= x->next_templates_ns)
		send_templates(x);
	if (!x->next_templates_ns)
		return; /* no templates out yet: data would be undecodable */
	while (x->n) {
		const struct pks_flow_record *r = &x->queue[x->head];
		unsigned int records;
		size_t len = pks_ipfix_encode_flow(msg, sizeof(msg), r, x->o.clock, (uint32_t)time(NULL), x->seq,
						   x->o.domain, &records);

		enum send_result res = len ? send_msg(x, msg, len, records) : LOST;

		if (res == LATER)
			return;
		if (res == SENT)
			x->st.records += records;
		x->head = (x->head + 1) % PKS_IPFIX_QUEUE_MAX;
		x->n--;
	}
}

void pks_ipfix_free(struct pks_ipfix *x)
{
	if (!x)
		return;
	if (x->fd >= 0 && x->queue)
		pks_ipfix_flush(x);
	if (x->fd >= 0)
		close(x->fd);
	x->st.dropped += x->n;
	free(x->queue);
	free(x);
}

const struct pks_ipfix_stats *pks_ipfix_stats(const struct pks_ipfix *x)
{
	return &x->st;
}
