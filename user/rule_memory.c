// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Rule 6, server memory: when a flow's verdict becomes "confirmed" (both
 * directions agreed), its server endpoint (address, port, L4) goes into
 * pks_servers with the verdict, for the engine's server TTL (refreshed by
 * every later confirmation). XDP starts later flows to that endpoint with the
 * verdict at confidence "expected" and rule server-memory (and the app the
 * flow's name gave, when the app list knows it), and keeps
 * inspecting them: a contradicting signature overrules it
 * (bpf/context/flow_new.h, pks_apply in bpf/pktspec.bpf.c). Bounded by the LRU map (PKS_SERVERS_MAX); no user state.
 */
#include "pktspec.h"
#include "engine.h"

static void memory_event(struct pks_engine *e, void *state, const struct pks_ctx_event *ev)
{
	const struct pks_event *h = ev->hdr;

	/* A verdict that moved: a verdict event, or a flow event its first payload moved. */
	if ((h->type != PKS_EV_VERDICT && !(h->type == PKS_EV_FLOW && (h->kflags & PKS_EVK_MOVED))) ||
	    h->confidence != PKS_C_CONFIRMED || h->proto == PKS_P_UNKNOWN)
		return;
	/* A guessed client (no handshake seen) may name the wrong endpoint. */
	if (h->key.l4 == IPPROTO_TCP && !(h->flags & PKS_F_SYN))
		return;
	pks_engine_remember(e, &h->key, ev->server_addr, ev->server_port, h->key.l4, h->proto, h->rule);
}

PKS_CTX_RULE(server_memory, .event = memory_event)
