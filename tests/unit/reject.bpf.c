// SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0)
/*
 * A test object the verifier refuses on every kernel (tests/unit/test_load.c):
 * pks_fine loads, pks_unchecked reads the packet without checking its end.
 * It proves that a refusal is reported as the verifier's, with the program's
 * name and the verifier's reason, not as a mismatch of pinned maps.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int pks_fine(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int pks_unchecked(struct xdp_md *ctx)
{
	return *(__u8 *)(long)ctx->data;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
