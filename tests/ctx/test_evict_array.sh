#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# test_evict.sh with the IPv4 flows in the array table (--flow-table array):
# the daemon's scans read the mapped array, see the flooded-out flows gone,
# and bring them back from pks_restore with their verdicts and sides.
# test-timeout: 300
PKS_FLOW_TABLE=array exec "$(dirname "$0")/test_evict.sh" "$@"
