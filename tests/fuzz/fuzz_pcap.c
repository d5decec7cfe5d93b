// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * libFuzzer target: the capture reader of `pktspec replay` (user/capture.c):
 * pcap and pcapng through libpcap, every link type turned into an Ethernet
 * frame. Invariants: a frame fits the reader's buffer, a frame of at least
 * an Ethernet header is what replay runs, and reading ends (at most the
 * records the bytes can hold).
 */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pks_capture *c = NULL;
	struct pks_frame fr;
	char path[64], err[512];
	size_t frames = 0;
	int fd = memfd_create("fuzz", 0), rc;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (pks_capture_open(path, &c, err, sizeof(err)) == 0) {
		while ((rc = pks_capture_next(c, &fr, err, sizeof(err))) == 1) {
			FZ_CHECK(fr.len <= PKS_CAPTURE_FRAME_MAX, "frame of %zu bytes", fr.len);
			if (fr.len >= 14) {
				/* replay reads the whole frame: ASan sees a short one */
				volatile uint8_t x = 0;

				for (size_t i = 0; i < fr.len; i++)
					x ^= fr.data[i];
				(void)x;
			}
			FZ_CHECK(++frames <= size / 8 + 1, "%zu frames from %zu bytes", frames, size);
		}
		pks_capture_close(c);
	} else {
		FZ_CHECK(err[0], "refused without a message");
	}
	close(fd);
	return 0;
}
