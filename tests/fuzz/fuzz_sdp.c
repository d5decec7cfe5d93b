// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * libFuzzer target: SIP/RTSP message framing and SDP (user/sdp_parse.c):
 * pks_msg_split, the header lookups rule_sip and rule_rtsp make, and the
 * SDP body. Invariants: the head lies within the message; a header
 * value within the head; at most PKS_SDP_MEDIA_MAX media, each with a port.
 */
#include "fuzz.h"
#include "sdp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *msg = (char *)fz_dup(data, size);
	static const char *const names[][2] = {
		{ "Content-Length", "l" }, { "Content-Type", "c" }, { "Call-ID", "i" },
		{ "Transport", NULL },     { "CSeq", NULL },        { "Via", "v" },
	};
	size_t head = 0, body = 0;
	struct pks_sdp sdp;

	if (pks_msg_split(msg, size, &head, &body) == 0) {
		FZ_CHECK(head <= size && body <= 1u << 20, "head %zu body %zu of %zu", head, body, size);
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			const char *v = NULL, *vend = NULL;

			if (pks_msg_header(msg, head, names[i][0], names[i][1], &v, &vend) == 0)
				FZ_CHECK(v >= msg && v <= vend && vend <= msg + head, "value outside the head");
		}
		if (body <= size - head && pks_sdp_parse(msg + head, body, &sdp) == 0) {
			FZ_CHECK(sdp.n >= 0 && sdp.n <= PKS_SDP_MEDIA_MAX, "%d media", sdp.n);
			for (int i = 0; i < sdp.n; i++)
				FZ_CHECK(sdp.m[i].rtp_port, "media %d without a port", i);
		}
	}
	/* The whole input as an SDP body. */
	if (pks_sdp_parse(msg, size, &sdp) == 0)
		FZ_CHECK(sdp.n >= 0 && sdp.n <= PKS_SDP_MEDIA_MAX, "%d media", sdp.n);
	free(msg);
	return 0;
}
