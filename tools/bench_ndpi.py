#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""nDPI's per-packet time on the packets pktspec was measured on (make bench).

`pktspec-bench testrun --subsets DIR` writes, for each group of packets (by the
verdict pktspec gave their flow), DIR/GROUP.pcap and DIR/GROUP.x2.pcap (the
same packets twice, flows continuing). This runs Debian's ndpiReader on both,
--loops times in one process (-l: each loop starts from empty flow state), and
takes from its own report the time it spent processing packets: ndpiReader
prints "nDPI throughput: X pps" over the IP packets, measured from the first
packet to the last (setup excluded, the reading of the file included).

  cold  time(GROUP.pcap) / packets: every flow new, as pktspec's cold pass
  warm  (time(GROUP.x2.pcap) - time(GROUP.pcap)) / packets: the second copy
        meets flows nDPI has already seen and classified

Each takes the fastest of the loops: these are wall times of a few
milliseconds on a shared machine, where preemption only ever adds time, so
the minimum is the undisturbed cost (and the kindest figure for nDPI).
Usage: bench_ndpi.py DIR OUT.json [--loops N]
"""
import json
import os
import re
import subprocess
import sys

NDPI = os.environ.get("NDPI_READER", "/usr/bin/ndpiReader")
UNIT = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}


def run(path, loops):
    """Seconds of packet processing per loop, IP packets, version, flow memory."""
    out = subprocess.run([NDPI, "-l", str(loops), "-i", path], capture_output=True, text=True,
                         timeout=600).stdout
    secs, ip = [], None
    for m in re.finditer(r"IP packets:\s+(\d+)", out):
        ip = int(m.group(1))
    for m in re.finditer(r"nDPI throughput:\s+([\d.]+) ([KMG]?) pps", out):
        pps = float(m.group(1)) * UNIT[m.group(2)]
        if pps > 0 and ip:
            secs.append(ip / pps)
    ver = re.search(r"Using nDPI \(([^)]+)\)", out)
    mem = re.search(r"Flow Memory \(per flow\):\s+([\d.]+) ([KM]?B)", out)
    flow_mem = None
    if mem:
        flow_mem = float(mem.group(1)) * {"B": 1, "KB": 1024, "MB": 1048576}[mem.group(2)]
    return secs, ip, ver.group(1) if ver else None, flow_mem


def main():
    args = sys.argv[1:]
    loops = 10
    if "--loops" in args:
        i = args.index("--loops")
        loops = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    subsets, out = args
    if not os.access(NDPI, os.X_OK):
        print(f"bench_ndpi: {NDPI} is missing (Debian package libndpi-bin)", file=sys.stderr)
        return 1
    groups, version, flow_mem = [], None, None
    for name in sorted(os.listdir(subsets)):
        if not name.endswith(".pcap") or name.endswith(".x2.pcap"):
            continue
        group = name[:-len(".pcap")]
        one, ip1, version, flow_mem = run(os.path.join(subsets, name), loops)
        two, ip2, _, _ = run(os.path.join(subsets, group + ".x2.pcap"), loops)
        if not one or not ip1:
            groups.append({"proto": group, "ip_packets": ip1 or 0, "cold_ns": None, "warm_ns": None})
            continue
        cold = min(one) / ip1 * 1e9
        warm = None
        if two and ip2:
            warm = max(0.0, (min(two) - min(one)) / ip1 * 1e9)
        groups.append({"proto": group, "ip_packets": ip1, "cold_ns": round(cold, 1),
                       "warm_ns": round(warm, 1) if warm is not None else None,
                       "loops": loops})
    total = sum(g["ip_packets"] for g in groups if g["cold_ns"] is not None)
    res = {
        "reader": NDPI, "version": version, "loops": loops,
        "flow_memory_bytes": flow_mem,
        "groups": groups,
        "ip_packets": total,
        "cold_ns": round(sum(g["cold_ns"] * g["ip_packets"] for g in groups
                             if g["cold_ns"] is not None) / total, 1) if total else None,
        "warm_ns": round(sum(g["warm_ns"] * g["ip_packets"] for g in groups
                             if g["warm_ns"] is not None) / total, 1) if total else None,
    }
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
