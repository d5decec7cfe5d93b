#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# test_live.sh with IPv4 flows in the array table (--flow-table array): the
# same verdicts in `pktspec flows`, in bpftool's dump of pks_ways4, and in a
# replay through the same table.
PKS_FLOW_TABLE=array exec "$(dirname "$0")/test_live.sh" "$@"
