#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Replays captures and checks their per-flow verdicts against .expect files.

Every tests/captures/**/NAME.pcap[ng] with a NAME.expect beside it is one case.
Expectation lines (blank lines and # comments ignored):

    L4 SERVER_PORT PROTO CONFIDENCE [RULE]

  L4           tcp | udp | *
  SERVER_PORT  a port number, or * for any
  PROTO        a protocol name (pktspec protocols), or * for any
  CONFIDENCE   an exact confidence name (none, port, signature, confirmed,
               expected, dns, user), or max:NAME for "at most NAME" in the
               order none < port < signature < confirmed, or several exact
               names joined by "|" (confirmed|expected: a later connection to
               a server the context rules remember is "expected")
  RULE         optional: the rule that made the verdict (as `pktspec flows`
               prints it), * for any, or several names joined by "|"

Every flow of the replay that matches a line's L4 and SERVER_PORT must satisfy
its PROTO and CONFIDENCE, and each line must match at least one flow. A flow
that no line names fails the case, unless the file has the line `other ignore`.
Lines are tried in order; the first line whose L4 and port match a flow judges it.

Usage: check_expect.py PKTSPEC [SUBSTRING...]
Prints PASS:/FAIL: lines for tests/run.
"""
import json
import os
import subprocess
import sys

ORDER = {"none": 0, "port": 1, "signature": 2, "confirmed": 3}
ALL_CONF = ["none", "port", "signature", "confirmed", "expected", "dns", "user"]


def parse_expect(path):
    lines, ignore_other = [], False
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line == "other ignore":
                ignore_other = True
                continue
            parts = line.split()
            if len(parts) not in (4, 5):
                raise ValueError(f"{path}:{n}: expected 'L4 PORT PROTO CONFIDENCE [RULE]'")
            l4, port, proto, conf = parts[:4]
            rule = parts[4] if len(parts) == 5 else "*"
            if l4 not in ("tcp", "udp", "*"):
                raise ValueError(f"{path}:{n}: bad L4 '{l4}'")
            if port != "*" and not port.isdigit():
                raise ValueError(f"{path}:{n}: bad port '{port}'")
            c = conf[4:] if conf.startswith("max:") else conf
            if any(x not in ALL_CONF for x in c.split("|")) or (conf.startswith("max:") and c not in ORDER):
                raise ValueError(f"{path}:{n}: bad confidence '{conf}'")
            lines.append({"n": n, "l4": l4, "port": port, "proto": proto, "conf": conf, "rule": rule, "hits": 0})
    return lines, ignore_other


def conf_ok(want, got):
    if want.startswith("max:"):
        return got in ORDER and ORDER[got] <= ORDER[want[4:]]
    return got in want.split("|")


def check(pktspec, pcap, expect):
    try:
        lines, ignore_other = parse_expect(expect)
    except ValueError as e:
        return str(e)
    r = subprocess.run([pktspec, "replay", "--json", pcap], capture_output=True, text=True)
    if r.returncode != 0:
        return f"replay exited {r.returncode}: {r.stderr.strip()}"
    problems = []
    for raw in r.stdout.splitlines():
        flow = json.loads(raw)
        desc = (f"{flow['l4']} {flow['client']}:{flow['client_port']} -> {flow['server']}:"
                f"{flow['server_port']} = {flow['proto']}/{flow['confidence']}/{flow['rule']}")
        for ln in lines:
            if ln["l4"] not in ("*", flow["l4"]):
                continue
            if ln["port"] != "*" and int(ln["port"]) != flow["server_port"]:
                continue
            ln["hits"] += 1
            if (ln["proto"] not in ("*", flow["proto"]) or not conf_ok(ln["conf"], flow["confidence"]) or
                    (ln["rule"] != "*" and flow["rule"] not in ln["rule"].split("|"))):
                problems.append(f"line {ln['n']} wants {ln['proto']}/{ln['conf']}/{ln['rule']}: {desc}")
            break
        else:
            if not ignore_other:
                problems.append(f"no line names {desc}")
    for ln in lines:
        if not ln["hits"]:
            problems.append(f"line {ln['n']} ({ln['l4']} {ln['port']}) matched no flow")
    return "; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else "")


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    pktspec, filters = sys.argv[1], sys.argv[2:]
    root = os.path.dirname(os.path.abspath(__file__))
    cases = []
    for d, _, files in os.walk(root):
        for f in sorted(files):
            if f.endswith((".pcap", ".pcapng")):
                base = os.path.join(d, f.rsplit(".", 1)[0])
                if os.path.exists(base + ".expect"):
                    cases.append((os.path.join(d, f), base + ".expect"))
    failed = 0
    for pcap, expect in sorted(cases):
        name = "capture:" + os.path.relpath(pcap, root)
        if filters and not any(x in name for x in filters):
            continue
        why = check(pktspec, pcap, expect)
        if why:
            print(f"FAIL: {name}: {why}")
            failed += 1
        else:
            print(f"PASS: {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
