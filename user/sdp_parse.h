/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Media streams announced by an SDP body (RFC 4566, RFC 3605 a=rtcp, RFC 5761 a=rtcp-mux). */
#ifndef PKTSPEC_SDP_PARSE_H
#define PKTSPEC_SDP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define PKS_SDP_MEDIA_MAX 8 /* m= lines looked at (audio, video, a few more) */

struct pks_sdp_media {
	uint8_t addr[16];   /* the connection address (media c=, else session c=) */
	uint16_t rtp_port;
	uint16_t rtcp_port; /* 0 with rtcp-mux */
};

struct pks_sdp {
	int n;
	int skipped; /* m= lines not RTP over UDP, with port 0, or beyond the bound */
	struct pks_sdp_media m[PKS_SDP_MEDIA_MAX];
};

/* Parses an SDP body; returns 0 when at least one RTP stream was announced. */
int pks_sdp_parse(const char *body, size_t len, struct pks_sdp *out);

/*
 * A SIP or RTSP message in buf: the length of its head (start line and headers
 * up to and including the blank line) and of its body (Content-Length, or
 * "l:" in SIP's compact form; 0 when absent). -1 when the head is incomplete,
 * -2 when it is malformed.
 */
int pks_msg_split(const char *buf, size_t len, size_t *head, size_t *body);

/* The value of header `name` (or its compact form, when not NULL) in a message head. */
int pks_msg_header(const char *head, size_t len, const char *name, const char *compact, const char **val,
		   const char **vend);

#endif
