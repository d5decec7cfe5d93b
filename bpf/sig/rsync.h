/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * rsync daemon protocol (rsync's "csprotocol.txt", rsyncd.conf(5)): on
 * connect both sides send a greeting line "@RSYNCD: <major>.<minor>"
 * (older peers send only "<major>"), optionally followed by the digest names
 * the peer offers (protocol 31), and a newline. Server first, the client
 * answers with its own; the other side's greeting confirms.
 */
#ifndef PKTSPEC_BPF_SIG_RSYNC_H
#define PKTSPEC_BPF_SIG_RSYNC_H

#include "sig.h"

static __always_inline int pks_sig_rsync(const struct pks_payload *p, struct pks_match *m)
{
	__u8 d0, d1;

	if (p->len < 12 || pks_be32(p, 0) != PKS_C4('@', 'R', 'S', 'Y') ||
	    pks_be32(p, 4) != PKS_C4('N', 'C', 'D', ':') || p->b[8] != ' ')
		return 0;
	/* A protocol version of one or two digits, then ".", " " or a newline. */
	d0 = p->b[9];
	d1 = p->b[10];
	if (!pks_is_digit(d0))
		return 0;
	if (pks_is_digit(d1))
		d1 = p->b[11];
	if (d1 != '.' && d1 != '\n' && d1 != ' ')
		return 0;
	return pks_match_set(m, PKS_P_RSYNC, PKS_R_RSYNC_GREETING, PKS_ROLE_ANY);
}

#endif
