#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# test_live.sh with pktspec attached in generic (skb) XDP mode on both veth ends.
PKS_XDP_MODE=generic exec "$(dirname "$0")/test_live.sh" "$@"
