/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * A bounded scan for decimal numbers in a payload copy, each number followed
 * by one separator byte: what the kernel's FTP rule (context/ftp.h) reads its
 * host-ports and ports with. The kernel owns this parse; the engine never
 * sees its state.
 */
#ifndef PKTSPEC_BPF_CONTEXT_SCAN_H
#define PKTSPEC_BPF_CONTEXT_SCAN_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pktspec/pktspec.h"
#include "pktspec/events.h"

#define PKS_KEXP_SCAN 80 /* bytes of a reply or command scanned: the line fits */
#define PKS_KEXP_NUMS 6  /* numbers in a host-port (RFC 959 4.1.2) */

struct pks_kexp_nums {
	__u32 v[PKS_KEXP_NUMS];
	__u8 seps[PKS_KEXP_NUMS];
	__u8 count;     /* numbers wanted */
	__u8 skip_text; /* skip bytes before the first digit */
	__u8 field;     /* numbers read so far */
	__u8 digits;    /* digits of the current number */
	__u8 pos;       /* bytes stepped so far */
	__u8 first;     /* position of the first digit */
	__u8 kind;      /* enum pks_kexp_kind (context/ftp.h) being read */
	__u8 start;     /* where in the copy the numbers start */
	__u32 val;
};

/*
 * One byte of a scan for decimal numbers, each followed by one separator
 * byte (recorded in seps): 0 for more, 1 when `count` numbers were read, -1
 * when the bytes are not of that form. With skip_text, bytes before the first
 * digit are skipped (227's free text). The scan's state lives in a per-CPU
 * map value, which the verifier does not track, and is read and written
 * through a volatile pointer, so that the compiler cannot keep it in
 * registers (which the verifier does track): every byte's paths join again at
 * the next byte, and the scan costs a few paths per byte, not one path per
 * parse state.
 */
static __always_inline int pks_kexp_step(volatile struct pks_kexp_nums *o, __u32 c)
{
	__u32 field;

	o->pos++;
	if (c >= '0' && c <= '9') {
		if (!o->digits && !o->field)
			o->first = o->pos - 1;
		o->val = o->val * 10 + (c - '0');
		if (++o->digits > 5)
			return -1;
		return 0;
	}
	if (!o->digits)
		return (o->field || !o->skip_text) ? -1 : 0; /* two separators in a row */
	field = o->field;
	if (field >= PKS_KEXP_NUMS)
		return -1;
	o->v[field] = o->val;
	o->seps[field] = c;
	o->field = field + 1;
	if (o->field >= o->count)
		return 1;
	o->val = 0;
	o->digits = 0;
	return 0;
}

/*
 * Runs pks_kexp_step over the copy from `start`; 0 when the numbers were
 * read. 64-bit n and start, so that the checks bound the registers the
 * verifier follows.
 */
static __always_inline int pks_kexp_scan(const struct pks_event_payload *ev, __u64 n, __u64 start,
					 struct pks_kexp_nums *o)
{
	__u64 i;

	if (start > 8)
		return -1;
	for (i = 0; i < PKS_KEXP_SCAN; i++) {
		int r;

		if (start + i >= n)
			return -1;
		r = pks_kexp_step((volatile struct pks_kexp_nums *)o, ev->data[start + i]);
		if (r)
			return r > 0 ? 0 : -1;
	}
	return -1;
}

#endif /* PKTSPEC_BPF_CONTEXT_SCAN_H */
