#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Judges what a kernel of the matrix reported (tests/vm/test_kernels.sh).

    judge.py kernel --label L --results FILE --summary OUT.json [--console FILE]
                    [--guest] [--replay-ref FILE --capture NAME=FLOWS ...] [--meta K=V ...]
    judge.py merge OUT.json SUMMARY.json...
    judge.py table KERNELS.json

'kernel' reads the "@pks TAG TEXT" lines (tests/vm/guest.sh; the host's own
probe is written in the same form), prints one "PASS: L check" or
"FAIL: L check: why" line per check and writes the kernel's summary: the
probe's figures per program and each check's result. With --guest every check
of guest.sh must have run; a guest that did not finish is a FAIL with the
console's last lines. 'merge' joins the summaries into one JSON document
(.output/kernels.json), which doc/design.md's table and `make bench` read.
'table' prints that document as a Markdown table: processed instructions per
program (rows) and kernel (columns), or "refused".
"""
import argparse
import json
import re
import sys
from collections import defaultdict

# Pins a detach may leave by design: the policy is configuration (doc/policy.md).
POLICY_PINS = {"/sys/fs/bpf/pktspec", "/sys/fs/bpf/pktspec/pks_policy", "/sys/fs/bpf/pktspec/pks_pol_state"}


class Report:
    def __init__(self, label):
        self.label = label
        self.checks = {}

    def ok(self, name, detail=""):
        self.checks[name] = {"result": "pass", "detail": detail}
        print(f"PASS: {self.label} {name}" + (f" ({detail})" if detail else ""))

    def fail(self, name, why):
        why = " ".join(str(why).split())
        self.checks[name] = {"result": "fail", "detail": why}
        print(f"FAIL: {self.label} {name}: {why}")

    def expect(self, name, cond, why, detail=""):
        if cond:
            self.ok(name, detail)
        else:
            self.fail(name, why)
        return cond


def read_results(path):
    """TAG -> {"out": [...], "err": [...], "rc": int or None}, and the tags in order."""
    steps = defaultdict(lambda: {"out": [], "err": [], "rc": None})
    order = []
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        line = line.rstrip("\r")
        if not line.startswith("@pks "):
            continue
        rest = line[5:]
        tag, _, text = rest.partition(" ")
        m = re.fullmatch(r"(.+)-(out|err|rc)", tag)
        if m:
            step, kind = m.groups()
            if step not in steps:
                order.append(step)
            if kind == "rc":
                steps[step]["rc"] = int(text) if text.strip().lstrip("-").isdigit() else None
            else:
                steps[step][kind].append(text)
        else:
            if tag not in steps:
                order.append(tag)
            steps[tag]["out"].append(text)
    return steps, order


def jsonl(lines):
    out = []
    for line in lines:
        line = line.strip()
        if line.startswith("{") or line.startswith("["):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


def why_failed(step, what):
    err = [e for e in step["err"] if e.strip()]
    tail = "; ".join(err[-3:]) if err else "no message"
    return f"{what} exited {step['rc']}: {tail}"


def tail_of(path, n=15):
    try:
        with open(path, errors="replace") as f:
            lines = [l.rstrip() for l in f.read().splitlines() if l.strip()]
    except FileNotFoundError:
        return "no console output"
    # Drop terminal escapes the firmware prints.
    lines = [re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", l) for l in lines]
    return " | ".join(lines[-n:])


def flow_key(f):
    a = (f.get("client"), f.get("client_port"))
    b = (f.get("server"), f.get("server_port"))
    lo, hi = sorted([a, b], key=lambda e: (str(e[0]), e[1] or 0))
    return (f.get("l4"), lo, hi)


def flow_name(f):
    return f"{f.get('l4')} {f.get('client')}:{f.get('client_port')} > {f.get('server')}:{f.get('server_port')}"


def verdict(f):
    return f"{f.get('proto')} {f.get('confidence')} {f.get('rule')}"


# Processed instructions a program may cost on any kernel (issue 9; doc/design.md,
# "Verification budget"); the host's own, stricter budget is tests/kernel/test_budget.sh's.
BUDGET = 400000


def judge_probe(rep, steps, summary):
    step = steps.get("probe")
    if step is None or step["rc"] is None:
        rep.fail("probe", "pktspec probe did not run")
        return
    objs = jsonl(step["out"])
    header = next((o for o in objs if isinstance(o, dict) and "program" not in o), None)
    progs = [o for o in objs if isinstance(o, dict) and "program" in o]
    summary["probe"] = {"rc": step["rc"], "header": header}
    summary["programs"] = progs
    if not progs:
        rep.fail("probe", why_failed(step, "pktspec probe --json") + " (no program reported)")
        return
    all_loaded = True
    for p in progs:
        # Objects share program names (the egress classifier is the XDP one compiled for tc).
        name = f"probe {p.get('object')}/{p.get('program')}"
        if p.get("loaded"):
            loops = p.get("fallthrough_loops")
            insns = p.get("insns_processed")
            if loops:
                rep.fail(name, f"loads here, but holds {loops} loop(s) that Linux before 6.7 refuses")
            elif not isinstance(insns, int) or insns < 0 or insns > BUDGET:
                rep.fail(name, f"{insns} insns processed: over the budget of {BUDGET:,} (doc/design.md)")
            else:
                rep.ok(name, f"{insns} insns processed")
        else:
            all_loaded = False
            log = [l for l in (p.get("log") or []) if str(l).strip()]
            rep.fail(name, f"not loaded: {p.get('error', 'no error given')}" +
                     (f"; verifier: {' / '.join(str(l) for l in log[-4:])}" if log else ""))
    # probe exits 0 only when every program loads and none holds a loop that
    # Linux before 6.7 refuses (a latch falling through into its header).
    loopy = [f"{p.get('object')}/{p.get('program')}" for p in progs if p.get("fallthrough_loops")]
    want_rc = 0 if all_loaded and not loopy else 1
    why = ("every program loaded" if all_loaded else "not every program loaded") + \
        (f", loops Linux before 6.7 refuses in {' '.join(loopy)}" if loopy else "")
    rep.expect("probe exit status", step["rc"] == want_rc, f"exited {step['rc']}, expected {want_rc} ({why})",
               f"{step['rc']}")


def judge_replay(rep, steps, ref_path, captures, summary, tag="replay"):
    step = steps.get(tag)
    what = "pktspec replay --json" + (" --flow-table array" if tag == "replay-array" else "")
    with open(ref_path) as f:
        ref = jsonl(f.read().splitlines())
    owner = {}
    for name, path in captures:
        with open(path) as f:
            for fl in jsonl(f.read().splitlines()):
                owner.setdefault(flow_key(fl), name)
    names = [n for n, _ in captures]
    expected = defaultdict(dict)
    for fl in ref:
        expected[owner.get(flow_key(fl), "?")][flow_key(fl)] = fl
    if step is None or step["rc"] is None:
        for n in names:
            rep.fail(f"{tag} {n}", f"{what} did not run")
        return
    if step["rc"] != 0:
        for n in names:
            rep.fail(f"{tag} {n}", why_failed(step, what))
        return
    got = defaultdict(dict)
    for fl in jsonl(step["out"]):
        got[owner.get(flow_key(fl), "?")][flow_key(fl)] = fl
    summary[tag.replace("-", "_") + "_flows"] = sum(len(v) for v in got.values())
    for n in names + (["?"] if "?" in got or "?" in expected else []):
        exp, have = expected.get(n, {}), got.get(n, {})
        problems = []
        for k, fl in exp.items():
            g = have.get(k)
            if g is None:
                problems.append(f"{flow_name(fl)} missing (host: {verdict(fl)})")
            elif g != fl:
                diff = [f"{key} host {fl.get(key)!r} guest {g.get(key)!r}"
                        for key in sorted(set(fl) | set(g)) if fl.get(key) != g.get(key)]
                problems.append(f"{flow_name(fl)}: " + ", ".join(diff[:4]))
        for k, g in have.items():
            if k not in exp:
                problems.append(f"{flow_name(g)} not on the host (guest: {verdict(g)})")
        label = f"{tag} {n}" if n != "?" else f"{tag} (flows of no capture)"
        rep.expect(label, not problems and exp, "; ".join(problems[:3]) or "no flows",
                   f"{len(exp)} flows as on the host")


def find_flow(flows, l4, server, port):
    for f in flows:
        if f.get("l4") == l4 and f.get("server") == server and f.get("server_port") == port:
            return f
    return None


def ran_ok(rep, steps, tag, name, what):
    step = steps.get(tag)
    if step is None or step["rc"] is None:
        rep.fail(name, f"{what} did not run")
        return None
    if step["rc"] != 0:
        rep.fail(name, why_failed(step, what))
        return None
    return step


TESTRUN_PROGS = ("pass", "parse", "record", "pktspec")


def judge_testrun(rep, steps, summary):
    """pktspec-bench's test run on 100 generated flows: it must run, time all
    four programs and keep every flow (pktspec's table and the insertion
    baseline's); its figures go to the summary. No time is judged: under TCG
    they are the emulator's."""
    if not ran_ok(rep, steps, "testrun-gen", "testrun", "pktspec-bench gen --flows 100"):
        return
    step = ran_ok(rep, steps, "testrun", "testrun", "pktspec-bench testrun")
    if not step:
        return
    try:
        tr = json.loads("\n".join(step["out"]))
    except ValueError as e:
        rep.fail("testrun", f"pktspec-bench testrun printed no JSON ({e})")
        return
    phases = {}
    for ph in ("cold", "warm", "warm_repeat"):
        p = tr.get(ph) or {}
        phases[ph] = {g: (p.get(g) or {}).get("mean_ns") for g in TESTRUN_PROGS}
    timed = all(isinstance(v, (int, float)) and v > 0 for p in phases.values() for v in p.values())
    flows = tr.get("flows_last_capture")

    def r(ph, a, b):
        x, y = phases[ph][a], phases[ph][b]
        return round(x / y, 3) if x and y else None

    summary["testrun"] = {
        "packets": tr.get("packets"), "flows": flows, "mean_ns": phases,
        "cold_pktspec_to_parse": r("cold", "pktspec", "parse"),
        "cold_pktspec_to_record": r("cold", "pktspec", "record"),
        "warm_pktspec_to_parse": r("warm", "pktspec", "parse"),
        "warm_pktspec_to_pass": r("warm", "pktspec", "pass"),
        "repeat_pktspec_to_parse": r("warm_repeat", "pktspec", "parse"),
    }
    rep.expect("testrun", timed and tr.get("packets") == 160 and flows == {"pktspec": 100, "record": 100},
               f"packets {tr.get('packets')} (160 expected), flows kept {flows} (100 each expected), "
               f"mean ns {phases}",
               f"pktspec/parse+lookup {summary['testrun']['cold_pktspec_to_parse']} cold, "
               f"{summary['testrun']['warm_pktspec_to_parse']} warm")


def judge_live(rep, steps):
    if ran_ok(rep, steps, "live-servers", "live servers", "httpd and dnsmasq"):
        rep.ok("live servers", "busybox httpd, dnsmasq")
    if ran_ok(rep, steps, "live-attach", "live attach", "pktspec attach vs"):
        rep.ok("live attach", "native XDP on the server's veth")
    if ran_ok(rep, steps, "live-http4", "live http ipv4", "wget http://198.18.0.2/"):
        size = steps.get("live-http4-size", {"out": []})["out"]
        rep.expect("live http ipv4", size and size[0].split()[0] == "20000",
                   f"got {' '.join(size) or 'nothing'} instead of 20000 bytes", "20000 bytes")
    if ran_ok(rep, steps, "live-http6", "live http ipv6", "wget http://[2001:db8::2]/"):
        rep.ok("live http ipv6")
    if ran_ok(rep, steps, "live-dns", "live dns", "nslookup pktspec.test"):
        rep.ok("live dns")
    st = ran_ok(rep, steps, "live-status", "live status", "pktspec status --json")
    if st:
        s = next(iter(jsonl(st["out"])), {})
        att = [a for a in s.get("attached", []) if a.get("ifname") == "vs"]
        entries = s.get("flows", {}).get("entries", 0)
        rep.expect("live status", att and att[0].get("mode") == "native" and entries >= 3,
                   f"status shows attachments {s.get('attached')} and {entries} flows",
                   f"vs native, {entries} flows")
    fl = ran_ok(rep, steps, "live-flows", "live flows", "pktspec flows --json")
    if fl:
        flows = jsonl(fl["out"])
        for l4, server, port, proto, name in (("tcp", "198.18.0.2", 80, "http", "live flows http ipv4"),
                                              ("tcp", "2001:db8::2", 80, "http", "live flows http ipv6"),
                                              ("udp", "198.18.0.2", 53, "dns", "live flows dns")):
            f = find_flow(flows, l4, server, port)
            rep.expect(name, f and f.get("proto") == proto and f.get("confidence") in ("signature", "confirmed")
                       and f.get("packets_c2s", 0) > 0,
                       f"flow to {server}:{port}: {verdict(f) if f else 'not in the table'}",
                       verdict(f) if f else "")
    if ran_ok(rep, steps, "live-detach", "live detach", "pktspec detach vs"):
        rep.ok("live detach")
    pins = steps.get("live-pins", {"out": []})["out"]
    rep.expect("live nothing pinned", "live-pins" in steps and not [p for p in pins if p.strip()],
               f"left behind: {' '.join(pins)}" if pins else "the pin listing did not run")


def judge_tc(rep, steps):
    for tag, what in (("tc-policy-http", "pktspec policy set http drop"),
                      ("tc-policy-dns", "pktspec policy set dns dscp ef")):
        name = f"tc policy {what.split()[3]}"
        if ran_ok(rep, steps, tag, name, what):
            rep.ok(name, " ".join(what.split()[3:]))
    attached = ran_ok(rep, steps, "tc-attach", "tc attach", "pktspec attach vs --tc --egress --flow-table array")
    if attached:
        rep.ok("tc attach", "XDP, egress classifier, tc policy on ingress and egress; the array table")
    else:
        # What follows judges the policy at work: without it, each is a FAIL, not a vacuous PASS.
        for name in ("tc status", "tc drop http", "tc dns passes", "tc dscp ef", "tc detach"):
            rep.fail(name, "not attached")
    if attached:
        st = ran_ok(rep, steps, "tc-status", "tc status", "pktspec status --json")
        if st:
            s = next(iter(jsonl(st["out"])), {})
            hooks = sorted(f"{t.get('hook')}:{t.get('program', 'policy')}" for t in s.get("tc", []))
            rep.expect("tc status", hooks == ["egress:classifier", "egress:policy", "ingress:policy"],
                       f"tc attachments {hooks}", " ".join(hooks))
        http = steps.get("tc-http")
        stats = steps.get("tc-stats")
        dropped = None
        if stats and stats["rc"] == 0:
            try:
                dump = json.loads("\n".join(stats["out"]))
                dropped = sum(v["value"]["dropped"] for e in dump for v in e["formatted"]["values"])
            except (ValueError, KeyError, TypeError):
                dropped = None
        hf = find_flow(jsonl(steps.get("tc-flows", {"out": []})["out"]), "tcp", "198.18.0.2", 80)
        rep.expect("tc drop http",
                   http and http["rc"] not in (0, None) and dropped and hf and hf.get("proto") == "http",
                   f"wget exited {http and http['rc']}, {dropped} packets dropped, "
                   f"flow {verdict(hf) if hf else 'missing'}",
                   f"wget got nothing, {dropped} packets dropped")
        if ran_ok(rep, steps, "tc-dns", "tc dns passes", "nslookup pktspec.test (policy: dscp ef)"):
            rep.ok("tc dns passes")
        d = steps.get("tc-dscp")
        sent = None
        if d and d["rc"] == 0:
            m = re.search(r"Sent \d+ bytes (\d+) pkt", "\n".join(d["out"]))
            sent = int(m.group(1)) if m else None
        rep.expect("tc dscp ef", sent, f"the client's u32 filter for DSCP EF counted {sent} packets",
                   f"{sent} DNS answers arrived with DSCP EF")
        if ran_ok(rep, steps, "tc-detach", "tc detach", "pktspec detach vs"):
            q = steps.get("tc-qdisc", {"out": []})["out"]
            rep.expect("tc detach", not any("clsact" in l for l in q), f"clsact left on vs: {' '.join(q)}",
                       "clsact removed")
    pins = [p for p in steps.get("tc-pins", {"out": []})["out"] if p.strip()]
    left = [p for p in pins if p not in POLICY_PINS]
    rep.expect("tc nothing pinned but the policy", "tc-pins" in steps and not left,
               f"left behind: {' '.join(left)}" if "tc-pins" in steps else "the pin listing did not run")


def cmd_kernel(a):
    rep = Report(a.label)
    steps, order = read_results(a.results)
    summary = {"kernel": a.label, "programs": [], "probe": None}
    for kv in a.meta or []:
        k, _, v = kv.partition("=")
        summary[k] = int(v) if v.isdigit() else v
    if a.guest:
        booted = "kernel" in steps
        finished = "done" in steps
        if a.qemu_rc == "none":
            how = "the guest could not be started"
        elif a.qemu_rc == "124" or a.qemu_rc == "137":
            how = f"no end within {a.timeout} s, qemu killed"
        elif a.qemu_rc not in ("0", None):
            how = f"qemu exited {a.qemu_rc}: {tail_of(a.qemu_log, 3)}"
        else:
            how = "the guest reset (a panic, or a fault before the console came up)"
        if not booted:
            rep.fail("boot", f"the guest never reported; {how} (console: {tail_of(a.console)})")
        elif not finished:
            last = order[-1] if order else "?"
            rep.fail("boot", f"the guest stopped after '{last}'; {how} (console: {tail_of(a.console)})")
        else:
            rep.ok("boot", steps["kernel"]["out"][0] if steps["kernel"]["out"] else "")
        if booted:
            m = steps.get("modules")
            rep.expect("modules", m and m["rc"] == 0, why_failed(m, "insmod") if m else "not loaded")
    judge_probe(rep, steps, summary)
    judge_testrun(rep, steps, summary)
    if a.replay_ref:
        caps = [tuple(c.split("=", 1)) for c in a.capture or []]
        judge_replay(rep, steps, a.replay_ref, caps, summary)
        if a.guest:
            judge_replay(rep, steps, a.replay_ref, caps, summary, "replay-array")
    if a.guest:
        judge_live(rep, steps)
        judge_tc(rep, steps)
    summary["checks"] = rep.checks
    with open(a.summary, "w") as f:
        json.dump(summary, f, indent=1)
    return 0 if all(c["result"] == "pass" for c in rep.checks.values()) else 1


def cmd_merge(a):
    kernels = []
    for p in a.summaries:
        try:
            with open(p) as f:
                kernels.append(json.load(f))
        except (OSError, ValueError):
            pass
    with open(a.out, "w") as f:
        json.dump({"kernels": kernels}, f, indent=1)
        f.write("\n")
    return 0


def cmd_table(a):
    with open(a.kernels) as f:
        kernels = json.load(f)["kernels"]
    names = []
    for k in kernels:
        for p in k.get("programs") or []:
            n = f"{p.get('object')}/{p.get('program')}"
            if n not in names:
                names.append(n)
    cols = [(k.get("series") or k["kernel"]) + (" (host)" if k.get("where") == "host" else "") for k in kernels]
    print("| program | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for n in names:
        cells = []
        for k in kernels:
            p = next((p for p in k.get("programs") or [] if f"{p.get('object')}/{p.get('program')}" == n), None)
            if p is None:
                cells.append("")
            elif p.get("loaded"):
                cells.append(f"{p.get('insns_processed'):,}")
            else:
                cells.append("refused")
        print(f"| {n} | " + " | ".join(cells) + " |")
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("kernel")
    k.add_argument("--label", required=True)
    k.add_argument("--results", required=True)
    k.add_argument("--summary", required=True)
    k.add_argument("--console")
    k.add_argument("--guest", action="store_true")
    k.add_argument("--qemu-log")
    k.add_argument("--qemu-rc")
    k.add_argument("--timeout")
    k.add_argument("--replay-ref")
    k.add_argument("--capture", action="append")
    k.add_argument("--meta", action="append")
    m = sub.add_parser("merge")
    m.add_argument("out")
    m.add_argument("summaries", nargs="*")
    t = sub.add_parser("table")
    t.add_argument("kernels")
    a = ap.parse_args()
    return {"kernel": cmd_kernel, "merge": cmd_merge, "table": cmd_table}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
