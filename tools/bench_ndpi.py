#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""nDPI's per-packet time on the packets pktspec was measured on (make bench).

`pktspec-bench testrun --subsets DIR` writes, for each group of packets (by the
verdict pktspec gave their flow), DIR/GROUP.pcap and DIR/GROUP.x2.pcap (the
same packets twice, flows continuing), and DIR/all.pcap / all.x2.pcap with
every packet in capture order. This runs Debian's ndpiReader on them, with -l
LOOPS (each loop starts from empty flow state), and measures the CPU time the
process used (user + system, from the kernel's accounting of the child):

  floor  CPU time of the same command on a capture of one packet: start-up,
         the loops' set-up, the report; what every run pays whatever its size
  cold   (cpu(GROUP.pcap) - floor) / (LOOPS x packets): every flow new, as in
         pktspec's cold pass
  warm   (cpu(GROUP.x2.pcap) - cpu(GROUP.pcap)) / (LOOPS x packets): the second
         copy meets flows nDPI has already seen and classified

CPU time, not wall time: on a shared machine a wall clock also counts the time
other processes held the CPU, which varied a hundredfold between loops here;
CPU time only counts nDPI's own. Each try runs the floor, GROUP.pcap and
GROUP.x2.pcap one after the other, so that a try's differences come from runs
made moments apart; the median over the tries is kept (--tries for all.pcap,
which the headline figures rest on; --group-tries for the groups).
nDPI's time includes reading the capture
file; that is part of what a DPI reader does per packet.

The headline figures come from all.pcap (one flow table for everything);
the per-group ones from the group files, less precise for small groups.
ndpiReader's own "nDPI throughput" line (wall time) is kept as reported_ns.
--all-only measures all.pcap alone (no groups): one half of a pair of `make
bench`, the other half a test run of pktspec made right before it, so that the
two are measured moments apart (tools/bench_report.py takes each ratio within
its pair).
Usage: bench_ndpi.py [--loops N] [--tries N] [--group-tries N] [--all-only] DIR OUT.json
"""
import json
import os
import re
import resource
import statistics
import struct
import subprocess
import sys

NDPI = os.environ.get("NDPI_READER", "/usr/bin/ndpiReader")
UNIT = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}


def cpu_run(path, loops):
    """CPU seconds (user + system) of one ndpiReader run, and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([NDPI, "-l", str(loops), "-i", path], capture_output=True, text=True,
                         timeout=600).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out


def parse(out):
    """IP packets, version, flow memory, wall ns per packet of the fastest loop."""
    ip, walls = None, []
    for m in re.finditer(r"IP packets:\s+(\d+)", out):
        ip = int(m.group(1))
    for m in re.finditer(r"nDPI throughput:\s+([\d.]+) ([KMG]?) pps", out):
        pps = float(m.group(1)) * UNIT[m.group(2)]
        if pps > 0:
            walls.append(1e9 / pps)
    ver = re.search(r"Using nDPI \(([^)]+)\)", out)
    mem = re.search(r"Flow Memory \(per flow\):\s+([\d.]+) ([KM]?B)", out)
    flow_mem = None
    if mem:
        flow_mem = float(mem.group(1)) * {"B": 1, "KB": 1024, "MB": 1048576}[mem.group(2)]
    return ip, ver.group(1) if ver else None, flow_mem, min(walls) if walls else None


def write_floor(path):
    """A capture of one UDP datagram to a port no protocol claims."""
    ip = bytes.fromhex("45000024000000004011" "0000" "c6120001" "c6120002")
    udp = bytes.fromhex("9c409c40" "0010" "0000") + b"\x00" * 8
    frame = bytes.fromhex("020000000002" "020000000001" "0800") + ip + udp
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        f.write(struct.pack("<IIII", 1600000000, 0, len(frame), len(frame)) + frame)


def main():
    args = sys.argv[1:]
    opts = {"--loops": 10, "--tries": 3, "--group-tries": 1}
    for o in opts:
        if o in args:
            i = args.index(o)
            opts[o] = int(args[i + 1])
            del args[i:i + 2]
    loops, tries, group_tries = opts["--loops"], opts["--tries"], opts["--group-tries"]
    all_only = "--all-only" in args
    if all_only:
        args.remove("--all-only")
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    subsets, out = args
    if not os.access(NDPI, os.X_OK):
        print(f"bench_ndpi: {NDPI} is missing (Debian package libndpi-bin)", file=sys.stderr)
        return 1
    floor_path = os.path.join(subsets, "_floor.pcap")
    write_floor(floor_path)
    def measure(group, tries):
        """Interleaved tries of floor, GROUP.pcap and GROUP.x2.pcap: each try's
        differences are taken between runs made moments apart, so the machine's
        load drifting between tries cancels; the median of the tries is kept."""
        cold, warm, info = [], [], (None, None, None, None)
        for _ in range(tries):
            f, _ = cpu_run(floor_path, loops)
            one, out = cpu_run(os.path.join(subsets, group + ".pcap"), loops)
            two, _ = cpu_run(os.path.join(subsets, group + ".x2.pcap"), loops)
            info = parse(out)
            cold.append(one - f)
            warm.append(two - one)
        ip, version, flow_mem, wall = info
        res = {"proto": group, "ip_packets": ip or 0, "cold_ns": None, "warm_ns": None,
               "reported_ns": round(wall, 1) if wall else None,
               "version": version, "flow_memory_bytes": flow_mem}
        if ip:
            res["cold_ns"] = round(max(0.0, statistics.median(cold)) / (loops * ip) * 1e9, 1)
            res["warm_ns"] = round(max(0.0, statistics.median(warm)) / (loops * ip) * 1e9, 1)
        return res

    groups = [] if all_only else [
        measure(name[:-len(".pcap")], group_tries) for name in sorted(os.listdir(subsets))
        if name.endswith(".pcap") and not name.endswith(".x2.pcap") and name not in ("all.pcap", "_floor.pcap")]
    # The headline figures rest on all.pcap: --tries; groups get --group-tries.
    every = measure("all", tries)
    version, flow_mem = every.pop("version"), every.pop("flow_memory_bytes")
    for g in groups:
        g.pop("version")
        g.pop("flow_memory_bytes")
    res = {
        "reader": NDPI, "version": version, "loops": loops, "group_tries": group_tries,
        "flow_memory_bytes": flow_mem,
        "tries": tries,
        "measure": "cpu time",
        "reported_ns": every["reported_ns"],
        "ip_packets": every["ip_packets"],
        "cold_ns": every["cold_ns"],
        "warm_ns": every["warm_ns"],
        "groups": groups,
    }
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
