// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * libFuzzer target: the context-rule engine (user/engine.c) and every rule
 * it runs (user/rule_*.c: FTP's EPRT |2|, RTSP Transport, SIP/SDP over UDP
 * and TCP streams, DNS over UDP and TCP, TLS/QUIC/HTTP names, server
 * memory), fed the events the kernel would send, through the engine's own
 * dispatch (its static on_event, without a ring buffer; map writes go to no
 * map and are counted as refused).
 *
 * Input: events, each
 *   byte 0: bits 0-1 the type (0, 3 payload; 1 flow; 2 verdict), bit 2 sent
 *           by the server, bit 3 UDP, bit 4 IPv6, bit 5 a retransmission
 *           (same sequence number as the last), bit 6 a copy cut short of
 *           the packet, bit 7 a minute passes first;
 *   byte 1: the kernel's verdict (protocol number);
 *   bytes 2-3: the server's port;
 *   a record (fuzz.h): the payload copy.
 * One flow per (L4, family, server port); the client is fixed.
 * Invariants: ASan/UBSan/LeakSanitizer's; the engine's counters add up.
 */
#include "fuzz.h"
#include "../../user/engine.c"

static struct pks_app *apps_tmpl;
static char (*app_names_tmpl)[PKS_APP_LEN];
static size_t n_apps_tmpl, n_app_names_tmpl;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct pks_engine e = {};
	const char *apps = getenv("PKS_FUZZ_APPS") ? getenv("PKS_FUZZ_APPS") : "dist/apps";

	(void)argc;
	(void)argv;
	/* The shipped application list, when found: names get looked up in it. */
	if (access(apps, R_OK) == 0 && apps_load(&e, apps) == 0) {
		apps_tmpl = e.apps;
		app_names_tmpl = e.app_names;
		n_apps_tmpl = e.n_apps;
		n_app_names_tmpl = e.n_app_names;
	}
	return 0;
}

static struct pks_engine *engine_new(void)
{
	struct pks_engine *e = calloc(1, sizeof(*e));

	if (!e)
		abort();
	e->maps = (struct pks_engine_maps){ .events = -1,  .ctlevents = -1, .flows = -1,   .flows4 = -1,
					    .expect = -1,  .servers = -1,   .hosts = -1,   .names = -1,
					    .done = -1,    .ctxstats = -1,  .ways4 = -1,   .ctl = -1,
					    .opstate = -1, .ophosts = -1,   .filter = -1,  .expect_gate = -1 };
	e->opts.clock = PKS_ENGINE_REPLAY;
	e->opts.server_ttl_ns = PKS_SERVER_TTL_DEFAULT;
	e->opts.expect_ttl_ns = PKS_EXPECT_TTL_DEFAULT;
	e->opts.out = stdout;
	pks_flowtab_init(&e->flows);
	e->apps = apps_tmpl;
	e->app_names = app_names_tmpl;
	e->n_apps = n_apps_tmpl;
	e->n_app_names = n_app_names_tmpl;
	for (struct pks_ctx_rule *r = rules; r; r = r->next) {
		r->state = NULL;
		if (r->init && r->init(e, &r->state))
			abort();
	}
	e->rules_started = true;
	return e;
}

static void engine_free(struct pks_engine *e)
{
	for (struct pks_ctx_rule *r = rules; r; r = r->next) {
		if (r->fini)
			r->fini(e, r->state);
		r->state = NULL;
	}
	free(e->ophosts);
	free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct pks_engine *e = engine_new();
	struct pks_event_payload *ev = malloc(sizeof(*ev));
	uint32_t seq[2] = { 1000, 900000 }, last[2] = { 1000, 900000 };
	uint64_t now = 1000000000ull, payloads = 0, events = 0;
	int n = 0;

	if (!ev)
		abort();
	while (f.n && n++ < 64) {
		uint8_t b0 = fz_u8(&f), proto = fz_u8(&f) % PKS_P__COUNT;
		uint16_t sport = fz_u16(&f);
		const uint8_t *rec;
		size_t len = fz_record(&f, &rec), evsize;
		int dir = (b0 >> 2) & 1;
		struct pks_event *h = &ev->hdr;

		if (len > PKS_SNAP_LEN)
			len = PKS_SNAP_LEN;
		memset(h, 0, sizeof(*h));
		now += b0 & 0x80 ? 61000000000ull : 1000000ull;
		h->ts_ns = now;
		h->type = (b0 & 3) == 1 ? PKS_EV_FLOW : (b0 & 3) == 2 ? PKS_EV_VERDICT : PKS_EV_PAYLOAD;
		h->key.l4 = b0 & 8 ? IPPROTO_UDP : IPPROTO_TCP;
		if (b0 & 0x10) {
			h->key.addr_a[0] = 0x20, h->key.addr_a[1] = 0x01, h->key.addr_a[2] = 0x0d, h->key.addr_a[3] = 0xb8;
			memcpy(h->key.addr_b, h->key.addr_a, 16);
			h->key.addr_a[15] = 1, h->key.addr_b[15] = 2;
		} else {
			pks_addr_v4mapped(h->key.addr_a, htonl(0xc6120001)); /* 198.18.0.1 */
			pks_addr_v4mapped(h->key.addr_b, htonl(0xc6120002));
		}
		h->key.port_a = 40000;
		h->key.port_b = sport;
		h->client = PKS_SIDE_A;
		h->dir = dir;
		h->proto = proto;
		h->confidence = PKS_C_SIGNATURE;
		h->nth = n - 1;
		h->seq = h->key.l4 == IPPROTO_TCP ? (b0 & 0x20 ? last[dir] : seq[dir]) : 0;
		last[dir] = h->seq;
		if (h->key.l4 == IPPROTO_TCP && !(b0 & 0x20))
			seq[dir] += len;
		h->payload_len = len + (b0 & 0x40 ? 100 : 0);
		h->caplen = h->type == PKS_EV_PAYLOAD ? len : 0;
		evsize = sizeof(*h) + h->caplen;
		memcpy(ev->data, rec, h->caplen);
		/* The ring's record: exactly its size, so ASan sees a read past it. */
		uint8_t *copy = fz_dup((const uint8_t *)ev, evsize);

		on_event(e, copy, evsize);
		free(copy);
		events++;
		payloads += h->type == PKS_EV_PAYLOAD;
	}
	FZ_CHECK(e->st.events == events && e->st.payloads == payloads, "events %lu/%lu payloads %lu/%lu",
		 (unsigned long)e->st.events, (unsigned long)events, (unsigned long)e->st.payloads,
		 (unsigned long)payloads);
	engine_free(e);
	free(ev);
	return 0;
}
