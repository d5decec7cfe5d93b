/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/* Capture reading for replay (user/capture.c). */
#ifndef PKTSPEC_USER_CAPTURE_H
#define PKTSPEC_USER_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

/*
 * BPF_PROG_TEST_RUN takes at most a page less XDP headroom and the shared-info
 * tailroom for one linear XDP frame (about 3.5 KB on x86 with 4 KB pages).
 * Classification needs the headers and the first payload bytes, so longer
 * frames (GRO/TSO super-packets in captures taken on the host) are cut here
 * and their real length is passed to the program for the byte counters.
 */
#define PKS_CAPTURE_FRAME_MAX 2048

struct pks_capture;

struct pks_frame {
	const uint8_t *data; /* an Ethernet frame, valid until the next call */
	size_t len;          /* < 14: the record held no packet replay can run */
	uint64_t ts_ns;      /* capture timestamp, ns since the epoch */
	uint32_t wire_len;   /* the frame's length on the wire */
	int cut;             /* the frame was longer than PKS_CAPTURE_FRAME_MAX */
};

/* path: a regular file, or "-" for stdin (a pipe is fine). */
int pks_capture_open(const char *path, struct pks_capture **out, char *err, size_t errlen);
/*
 * 1: a frame; 0: end of capture; -EBADMSG: a malformed record (more bytes captured
 * than the packet had, or than the snapshot length; err names the record);
 * another -errno: corrupt or truncated (err says why).
 */
int pks_capture_next(struct pks_capture *c, struct pks_frame *f, char *err, size_t errlen);
int pks_capture_linktype(const struct pks_capture *c);
void pks_capture_close(struct pks_capture *c);

#endif
