// SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0)
/*
 * Benchmark baseline: the cheapest XDP program there is. Its cost under
 * BPF_PROG_TEST_RUN or on a live interface is the floor every other program is
 * measured against (the test-run loop, the driver, the XDP hook itself), so
 * pktspec's figures are reported as ratios to it (tests/bench, `make bench`).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int bench_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
