/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * WebSocket, RFC 6455, recognised by its upgrade: an HTTP/1.1 request with
 * "Upgrade: websocket" answered by "101 Switching Protocols" (4.1, 4.2.2).
 * The upgrade headers rarely fit in the 64-byte window, so the rule is
 * explicit and two-step: http.h marks a flow whose server answered 101, and
 * the first data frame after it (either side) must be a well-formed
 * WebSocket frame (5.2):
 *  - FIN and RSV1..3: RSV2 and RSV3 clear (no extension defines them; RSV1
 *    is permessage-deflate's, RFC 7692 6), opcode continuation 0x0, text
 *    0x1, binary 0x2, close 0x8, ping 0x9 or pong 0xA; control frames
 *    (0x8..0xA) are not fragmented and carry at most 125 bytes (5.5). The
 *    first frame is not a continuation (5.4): this also keeps an h2c
 *    server's SETTINGS frame (00 00 .. 04 ..) from reading as one.
 *  - MASK set on every client frame and clear on every server frame (5.1,
 *    5.3): the mask bit says which side sent it.
 *  - A 7-bit length below 126 means the frame is that long: the segment
 *    holds at least its header, key and payload.
 * An HTTP/2 preface after a 101 is h2c instead (http2.h); it cannot be
 * taken for a frame (its first byte has RSV bits set). The other side's frame
 * confirms.
 */
#ifndef PKTSPEC_BPF_SIG_WEBSOCKET_H
#define PKTSPEC_BPF_SIG_WEBSOCKET_H

#include "text.h"

#define PKS_WS_MASK_KEY 4

static __always_inline int pks_ws_frame_ok(const struct pks_payload *p, int masked, int first)
{
	__u8 b0 = p->b[0], b1 = p->b[1], op = b0 & 0x0f;
	__u32 len = b1 & 0x7f, hdr = 2 + (masked ? PKS_WS_MASK_KEY : 0);

	if (p->len < 2 || (b0 & 0x30))
		return 0;
	if (op != 0x0 && op != 0x1 && op != 0x2 && (op < 0x8 || op > 0xa))
		return 0;
	/* A continuation needs a fragmented message before it (5.4): never first. */
	if (op == 0x0 && first)
		return 0;
	if (!!(b1 & 0x80) != masked)
		return 0;
	if (op >= 0x8 && (!(b0 & 0x80) || len > 125))
		return 0;
	if (len == 126)
		hdr += 2;
	else if (len == 127)
		hdr += 8;
	else
		hdr += len;
	return p->total >= hdr;
}

static __always_inline int pks_sig_websocket(const struct pks_payload *p, struct pks_match *m)
{
	int masked = p->from_client;

	if (p->cookie == PKS_HTTP_UPGRADE_COOKIE && p->flow_proto == PKS_P_HTTP) {
		if (!pks_ws_frame_ok(p, masked, 1))
			return 0;
		m->cookie = PKS_TA_COOKIE(PKS_P_WEBSOCKET, 0);
		m->set_cookie = 1;
		m->upgrade = 1;
		return pks_match_set(m, PKS_P_WEBSOCKET, PKS_R_WEBSOCKET_UPGRADE,
				     masked ? PKS_ROLE_CLIENT : PKS_ROLE_SERVER);
	}
	if (PKS_TA_COOKIE_IS(p->cookie, PKS_P_WEBSOCKET) && p->flow_proto == PKS_P_WEBSOCKET &&
	    pks_ws_frame_ok(p, masked, 0))
		return pks_match_set(m, PKS_P_WEBSOCKET, PKS_R_WEBSOCKET_FRAME,
				     masked ? PKS_ROLE_CLIENT : PKS_ROLE_SERVER);
	return 0;
}

#endif
