#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Assembles `make bench`'s measurements into .output/bench.json, prints the
report, and (full runs) rewrites the figures block of doc/performance.md and
the plot doc/performance.png (gnuplot).

Usage: bench_report.py --tmp DIR --out FILE --command CMD [--seconds N]
       [--corpus DIR] [--doc FILE --plot FILE]
       bench_report.py --from-json FILE [--doc FILE]
The second form prints the report of a run kept in FILE (its .output/bench.json)
again and, with --doc, writes its figures block and history row (no plot: the
plot reads the run's measurement files).
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys

# nDPI's per-group time is shown only for groups timed over this many packets.
NDPI_MIN_PACKETS = 5000
BEGIN = "<!-- bench:begin (tools/bench_report.py writes this block) -->"
END = "<!-- bench:end -->"


def load(path):
    with open(path) as f:
        return json.load(f)


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "arch": platform.machine(), "commit": commit,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def fmt(v, nd=0):
    if v is None:
        return "-"
    return f"{v:.{nd}f}"


def x(r):
    return "-" if not r else f"{r:.2f}x"


def table(rows, header):
    """Plain-text and markdown renderings of one table."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    txt = ["  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in
                     enumerate(zip(r, widths))) for r in [header] + rows]
    md = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    md += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join("  " + t for t in txt), "\n".join(md)


PROGS = ("pktspec", "parse", "record")


def ip_means(tr):
    """Each program's mean ns per packet over the packets nDPI counts (IP
    packets: every verdict group but not-flow), cold and warm, in one test run."""
    ip = [g for g in tr["by_proto"] if g["proto"] != "not-flow"]
    n = sum(g["packets"] for g in ip)
    return {(phase, prog): (sum(g[phase][prog]["mean_ns"] * g["packets"] for g in ip) / n if n else None)
            for phase in ("cold", "warm") for prog in PROGS}


def ratio(a, b):
    return a / b if a and b else None


def vs_ndpi_figures(tr, nd, pairs, clock):
    """pktspec (and the two baselines) against nDPI, cold and warm.

    With pairs, each (test run, nDPI on the same packets) measured one right
    after the other, every ratio is taken within its pair and the median over
    the pairs is kept, with its range: the machine's speed drifts between
    minutes (nDPI's own time moved by half between runs), far less between
    two runs a few seconds apart. The ns figures are then the medians over the
    pairs. Without pairs (an older run), the ratios are of the main test run
    (tr) and nDPI's headline tries (nd), measured minutes apart.
    """
    main = ip_means(tr)
    if pairs:
        per = []
        for t, n in pairs:
            m = ip_means(t)
            per.append({"ndpi_cold_ns": n["cold_ns"], "ndpi_warm_ns": n["warm_ns"],
                        **{f"{prog}_{ph}_ns": m[(ph, prog)] for ph in ("cold", "warm") for prog in PROGS}})
    else:
        per = [{"ndpi_cold_ns": nd["cold_ns"], "ndpi_warm_ns": nd["warm_ns"],
                **{f"{prog}_{ph}_ns": main[(ph, prog)] for ph in ("cold", "warm") for prog in PROGS}}]

    def ratios(ph, prog, minus=0.0):
        out = []
        for p in per:
            v = p[f"{prog}_{ph}_ns"]
            r = ratio(v - minus if v else None, p[f"ndpi_{ph}_ns"])
            if r is not None:
                out.append(r)
        return out

    def med(ph, prog, minus=0.0):
        r = ratios(ph, prog, minus)
        return round(statistics.median(r), 3) if r else None

    def med_ns(key, minus=0.0):
        v = [p[key] - minus for p in per if p[key]]
        return round(statistics.median(v), 1) if v else None

    res = {
        "testrun_clock_ns": round(clock, 1),
        "pairs": len(pairs),
        "pktspec_cold_ns": med_ns("pktspec_cold_ns"), "pktspec_warm_ns": med_ns("pktspec_warm_ns"),
        "pktspec_cold_noclock_ns": med_ns("pktspec_cold_ns", clock),
        "pktspec_warm_noclock_ns": med_ns("pktspec_warm_ns", clock),
        "ndpi_cold_ns": med_ns("ndpi_cold_ns"), "ndpi_warm_ns": med_ns("ndpi_warm_ns"),
        "ratio_cold": med("cold", "pktspec"), "ratio_warm": med("warm", "pktspec"),
        "ratio_cold_noclock": med("cold", "pktspec", clock), "ratio_warm_noclock": med("warm", "pktspec", clock),
        # The parse+lookup baseline on the same packets: the least a flow-keyed XDP program costs.
        "parse_ratio_cold": med("cold", "parse"), "parse_ratio_warm": med("warm", "parse"),
        # ... and with each new flow inserted (bench_record): the least a program that keeps flows costs.
        "record_ratio_cold": med("cold", "record"), "record_ratio_warm": med("warm", "record"),
    }
    if pairs:
        for ph in ("cold", "warm"):
            r = ratios(ph, "pktspec")
            res[f"ratio_{ph}_range"] = [round(min(r), 3), round(max(r), 3)] if r else None
        res["pair_rounds"], res["pair_loops"] = pairs[0][0]["rounds"], pairs[0][1]["loops"]
        res["pair_tries"] = pairs[0][1].get("tries", 1)
        res["per_pair"] = [{k: (round(v, 1) if isinstance(v, float) else v) for k, v in p.items()} for p in per]
        # The same ratio from the figures of steps 1 and 2, measured minutes apart: for comparison.
        for ph in ("cold", "warm"):
            r = ratio(main[(ph, "pktspec")], nd[f"{ph}_ns"])
            res[f"unpaired_ratio_{ph}"] = round(r, 3) if r is not None else None
    return res


def build(a):
    tmp = a.tmp
    tr = load(os.path.join(tmp, "testrun.json"))
    nd = load(os.path.join(tmp, "ndpi.json"))
    live = load(os.path.join(tmp, "live.json"))
    mem = load(os.path.join(tmp, "memory.json"))
    rss = load(os.path.join(tmp, "rss.json"))
    run_path = os.path.join(tmp, "rss_run.json")
    rss_run = load(run_path) if os.path.exists(run_path) else None
    ver = load(os.path.join(tmp, "verifier.json"))
    ndg = {g["proto"]: g for g in nd["groups"]}
    tc_path = os.path.join(tmp, "tc.json")
    tc = load(tc_path) if os.path.exists(tc_path) else None
    # The kernel matrix of the last `make check` or `make vm` (tests/vm), when there is one.
    kernels_path = os.path.join(os.path.dirname(os.path.abspath(a.out)), "kernels.json")
    kernels = load(kernels_path)["kernels"] if os.path.exists(kernels_path) else None

    # The test run's own clock read, in every repeat = 1 figure: XDP_PASS at
    # repeat = 1 less XDP_PASS at repeat = N (one clock read per N runs).
    clock = max(0.0, tr["warm"]["pass"]["mean_ns"] - tr["warm_repeat"]["pass"]["mean_ns"])
    pairs = []
    for i in range(1, 1000):
        tp, np_ = os.path.join(tmp, f"pair{i}.testrun.json"), os.path.join(tmp, f"pair{i}.ndpi.json")
        if not (os.path.exists(tp) and os.path.exists(np_)):
            break
        pairs.append((load(tp), load(np_)))
    vs_ndpi = vs_ndpi_figures(tr, nd, pairs, clock)
    big = max(mem["tables"], key=lambda t: t["max_entries"])
    return {
        "machine": machine(),
        "command": a.command,
        "seconds": a.seconds,
        "corpus": a.corpus or None,
        "testrun": tr,
        "ndpi": nd,
        "pktspec_vs_ndpi": vs_ndpi,
        "live": live,
        "memory": {**mem, "ndpi_flow_memory_bytes": nd.get("flow_memory_bytes"),
                   "rss_replay": rss, "rss_run": rss_run},
        "verifier": ver,
        "verifier_per_kernel": kernels,
        "tc": tc,
        "summary": {
            "cold_ratio_pass": tr["cold"]["ratio_pass"],
            "cold_ratio_parse": tr["cold"]["ratio_parse"],
            "warm_ratio_pass": tr["warm"]["ratio_pass"],
            "warm_ratio_parse": tr["warm"]["ratio_parse"],
            "warm_repeat_ratio_pass": tr["warm_repeat"]["ratio_pass"],
            "warm_repeat_ratio_parse": tr["warm_repeat"]["ratio_parse"],
            "ratio_to_ndpi_cold": vs_ndpi["ratio_cold"],
            "ratio_to_ndpi_warm": vs_ndpi["ratio_warm"],
            "ratio_to_ndpi_cold_noclock": vs_ndpi["ratio_cold_noclock"],
            "ratio_to_ndpi_warm_noclock": vs_ndpi["ratio_warm_noclock"],
            "live_ratio_to_pass": live.get("ratio_pktspec_to_pass"),
            "live_new_flows_ratio_to_pass": live.get("ratio_new_flows_pktspec_to_pass"),
            "bytes_per_flow": mem["bytes_per_flow_memlock"],
            "mib_at_1m_flows": round(big["memlock_bytes"] / 1048576, 1),
            "array_mib_at_1m_flows": mem["array"]["mib_at_flows_memlock"] if mem.get("array") else None,
            "array_held_at_1m_flows": (round(mem["array"]["flows_held"] / mem["array"]["flows_inserted"], 4)
                                       if mem.get("array") else None),
            "max_rss_kb_replay": rss["max_rss_kb"],
            "max_rss_kb_run": rss_run["max_rss_kb"] if rss_run else None,
        },
    }, ndg


# The goals of issue 12, each a ratio measured in the same run (doc/performance.md).
# The last two fields name, where they apply, the same ratio for two baseline
# programs in the same run: parse+lookup (parse, key, one flow lookup; no
# classification) and parse+lookup+insert (bench_record: the same, and each
# new flow inserted into an LRU table like pktspec's). A goal that
# parse+lookup misses is out of reach of any program that keys flows; one
# that parse+lookup+insert misses, of any program that keeps them. For the
# new-flow cost goal, the second field is bench_record's own cost in units of
# parse+lookup: what the insertion alone takes of the allowance.
GOALS = [
    ("decided packet, live: pktspec / parse+lookup (BPF ns)", "live", "ratio_ns_pktspec_to_parse", "<=", 1.3, None,
     None, ("live", "ratio_ns_pktspec_array_to_parse")),
    ("new flow, live: pktspec / parse+lookup (BPF ns)", "live", "ratio_ns_new_flows_pktspec_to_parse", "<=", 3.0,
     None, ("live", "ratio_ns_new_flows_record_to_parse"), ("live", "ratio_ns_new_flows_pktspec_array_to_parse")),
    ("live rate, mixed: pktspec / XDP_PASS (packets/s)", "live", "ratio_pktspec_to_pass", ">=", 0.95,
     ("live", "ratio_parse_to_pass"), None, ("live", "ratio_pktspec_array_to_pass")),
    ("live rate, new flows: pktspec / XDP_PASS (packets/s)", "live", "ratio_new_flows_pktspec_to_pass", ">=", 0.85,
     ("live", "ratio_new_flows_parse_to_pass"), ("live", "ratio_new_flows_record_to_pass"),
     ("live", "ratio_new_flows_pktspec_array_to_pass")),
    ("map memory at 1 M flows (MiB)", "summary", "mib_at_1m_flows", "<=", 128, None, None,
     ("summary", "array_mib_at_1m_flows")),
    ("per packet vs nDPI, cold (CPU time, same packets)", "summary", "ratio_to_ndpi_cold", "<=", 0.15,
     ("pktspec_vs_ndpi", "parse_ratio_cold"), ("pktspec_vs_ndpi", "record_ratio_cold"), None),
    ("per packet vs nDPI, warm", "summary", "ratio_to_ndpi_warm", "<=", 0.15,
     ("pktspec_vs_ndpi", "parse_ratio_warm"), ("pktspec_vs_ndpi", "record_ratio_warm"), None),
]


def goals(b):
    """(goal, measured, target, met, parse+lookup's figure, parse+lookup+insert's figure,
    the figure with --flow-table array, whether that meets the target) rows."""
    rows = []
    for name, where, key, op, target, base, rec, arr in GOALS:
        v = b.get(where, {}).get(key)
        met = None if v is None else (v <= target if op == "<=" else v >= target)
        bv = (b.get(base[0]) or {}).get(base[1]) if base else None
        rv = (b.get(rec[0]) or {}).get(rec[1]) if rec else None
        av = (b.get(arr[0]) or {}).get(arr[1]) if arr else None
        amet = None if av is None else (av <= target if op == "<=" else av >= target)
        rows.append((name, v, f"{op} {target}", met, bv, rv, av, amet))
    return rows


def history_row(b, m):
    """The History table's row for a run: date, commit, kernel, then each goal's measured figure."""
    cells = [m["date"], m["commit"], m["kernel"]] + [fmt(v, 3) if isinstance(v, float) else fmt(v)
                                                     for _, v, *_ in goals(b)]
    return "| " + " | ".join(str(c) for c in cells) + " |"


def issue_table(live):
    """Kernel ns per packet, live, in the form of the live-speed issue's table:
    captures replayed with tcpreplay (first pass, passes 2 to 5), then the two
    trafgen mixes; XDP_PASS, pktspec and parse+lookup in the same run."""
    ns = {(m_["mix"], m_["mode"]): m_["bpf_ns_per_packet"] for m_ in live["modes"]}
    rows = []

    def rng(e):
        if not e or e.get("min_ns") is None:
            return "-"
        return f"{e['bpf_ns_per_packet']:.1f} ({e['min_ns']:.1f}-{e['max_ns']:.1f})"

    rp = live.get("replay")
    if rp:
        by = {(e["phase"], e["mode"]): e for e in rp["modes"]}
        for phase, label, r_pass in (("later", "captures replayed 5x (tcpreplay), passes 2-5: flows seen",
                                      rp.get("ratio_later_pktspec_to_pass")),
                                     ("first", "the same, first pass: new flows", rp.get("ratio_first_pktspec_to_pass"))):
            parse = by.get((phase, "parse"))
            rows.append([label, rng(by.get((phase, "pass"))), rng(by.get((phase, "pktspec"))), x(r_pass),
                         rng(parse) if parse else "-",
                         x(rp.get("ratio_later_pktspec_to_parse")) if phase == "later" else "-", "-"])
    for mix, label, rpp in (("mixed", "trafgen mixed (20,000 flows over and over)",
                             live.get("ratio_ns_pktspec_to_parse")),
                            ("new-flows", "trafgen new flows (every packet a new flow)",
                             live.get("ratio_ns_new_flows_pktspec_to_parse"))):
        a, b_, c = ns.get((mix, "pass")), ns.get((mix, "pktspec")), ns.get((mix, "parse"))
        rec = ns.get((mix, "record"))
        rows.append([label, fmt(a, 1), fmt(b_, 1), x(b_ / a) if a and b_ else "-", fmt(c, 1), x(rpp),
                     fmt(rec, 1) if rec else "-"])
    t, m = table(rows, ["traffic (live, veth, native XDP)", "XDP_PASS ns", "pktspec ns", "pktspec/PASS",
                        "parse+lookup ns", "pktspec/parse+lookup", "parse+lookup+insert ns"])
    if rp:
        rw = rp["rewrite"]
        lo = ", ".join(f"{k} {v}" for k, v in rw["left_out"].items() if v)
        note = (f"Replay: {rw['frames']} frames of {rw['captures']} captures, addresses moved into "
                f"198.18.0.0/15 and 2001:db8::/32 by pktspec-bench rewrite (left out: {lo or 'none'}), "
                f"{rp['generator']}, median (and range) over rounds; the parse+lookup baseline runs against the "
                "table pktspec filled. Kernel bpf_stats run time per packet")
    else:
        note = "Replay: no captures were given (BENCH_LIVE_CAPTURES); kernel bpf_stats run time per packet"
    return t, m, note


def daemon_events(live):
    """What share of the kernel's events the daemon got, per mix (pktspec_run), as a sentence."""
    parts = []
    for m_ in live["modes"]:
        if m_["mode"] != "pktspec_run" or "events_read_per_second" not in m_:
            continue
        if m_.get("events_read_share") is None:
            parts.append(f"none on the {m_['mix']} traffic (its flows were made before the window)")
        else:
            parts.append(f"{m_['events_read_share'] * 100:.1f}% on the {m_['mix']} traffic "
                         f"({m_['events_read_per_second']:,} a second)")
    if not parts:
        return ""
    return ("Of the kernel's events (new flows, verdicts, payload copies) the daemon got "
            + " and ".join(parts) + "; a full ring refused the rest, and counted them. ")


def context_tables(live):
    """New flows to many servers with the context tables full against empty (servers mix), as a sentence."""
    r_ns, r_rate = live.get("ratio_ns_servers_full_to_empty"), live.get("ratio_servers_full_to_empty")
    if r_ns is None:
        return ""
    ns = {m_["mode"]: m_.get("bpf_ns_per_packet") for m_ in live["modes"] if m_["mix"] == "servers"}
    return (f"New flows each to a random server of 198.18.0.0/16, with the daemon: with its context tables "
            f"full (16,384 DNS-named hosts, 16,384 remembered servers and 1,024 announced media endpoints, "
            f"none of them this traffic's: "
            f"pktspec_run_full) a packet costs {fmt(ns.get('pktspec_run_full'), 1)} BPF ns against "
            f"{fmt(ns.get('pktspec_run'), 1)} with them empty (medians over rounds); within a round, full "
            f"against empty is {x(r_ns)} (rate {x(r_rate)}; medians of the rounds' ratios). The lookup filter "
            "and the expectation gate keep a new flow's lookups in them to the keys they may hold "
            "(doc/design.md). ")


def ndpi_section(v, nd, repeat):
    """Section 2: pktspec against nDPI (v: the run's pktspec_vs_ndpi, nd: nDPI's
    headline figures, repeat: the test run's repeat for the clock's figure)."""
    paired = bool(v.get("pairs"))

    def span(ph):
        r = v.get(f"ratio_{ph}_range")
        return f"{r[0]:.3f}-{r[1]:.3f}" if r else "-"

    rows = [[label, fmt(v[f"pktspec_{ph}_ns"], 1), fmt(v[f"ndpi_{ph}_ns"], 1), x(v[f"ratio_{ph}"])]
            + ([span(ph)] if paired else [])
            + [fmt(v[f"pktspec_{ph}_noclock_ns"], 1), x(v[f"ratio_{ph}_noclock"])]
            for label, ph in (("cold (new flows)", "cold"), ("warm (flows seen)", "warm"))]
    t, m = table(rows, ["phase", "pktspec ns", "nDPI ns", "pktspec/nDPI"] + (["range over pairs"] if paired else [])
                 + ["pktspec ns, no clock", "pktspec/nDPI, no clock"])
    note = (f"nDPI {nd['version']} ({nd['reader']}), {nd['ip_packets']} IP packets, CPU time, start-up "
            f"subtracted; nDPI's time includes reading the file; pktspec's includes the test run's clock read "
            f"({v['testrun_clock_ns']} ns, from XDP_PASS at repeat = 1 and {repeat}), removed in the "
            f"\"no clock\" columns. ")
    if paired:
        note += (f"Each ratio is the median over {v['pairs']} pairs, each a test run of pktspec "
                 f"({v['pair_rounds']} rounds) and right after it nDPI ({v['pair_loops']} loops, the median of "
                 f"{v.get('pair_tries', 1)} tries) on the same "
                 f"packets, the ratio taken within the pair; the ns figures are the medians over the pairs. "
                 f"From section 1's test run and nDPI's headline figure (median of {nd['tries']} tries of "
                 f"{nd['loops']} loops), measured minutes apart, the ratios read {x(v.get('unpaired_ratio_cold'))} "
                 f"cold and {x(v.get('unpaired_ratio_warm'))} warm")
    else:
        note += f"nDPI: median of {nd['tries']} tries of {nd['loops']} loops, measured after pktspec's test run"
    return ("2. Side by side with nDPI", "  " + note + "\n" + t, note + ".\n\n" + m)


def sections(b, ndg):
    """(title, text, markdown) per section."""
    tr, out = b["testrun"], []

    def verdict(ok):
        return "met" if ok else "NOT MET" if ok is False else "-"

    held = b.get("summary", {}).get("array_held_at_1m_flows")
    rows = [[g, fmt(v, 3) if isinstance(v, float) else fmt(v), t, verdict(ok),
             fmt(bv, 3) if bv is not None else "", fmt(rv, 3) if rv is not None else "",
             (f"{fmt(av, 3) if isinstance(av, float) else fmt(av)}: {verdict(aok)}" +
              (f" ({held * 100:.1f}% of the flows held)" if "memory" in g and held is not None else ""))
             if av is not None else ""]
            for g, v, t, ok, bv, rv, av, aok in goals(b)]
    t, m = table(rows, ["goal", "measured", "target", "", "parse+lookup alone", "parse+lookup+insert alone",
                        "--flow-table array"])
    out.append(("0. Goals", t, m + "\n\nEach ratio is taken within one run, on the same traffic, as the "
                "median of rounds (live) or over the same packets (nDPI). \"parse+lookup alone\" is the same "
                "ratio for the baseline program that parses, keys and looks the flow up and does nothing else: "
                "where it misses the target itself, no flow-keyed XDP program meets it on this machine. "
                "\"parse+lookup+insert alone\" (bench_record) also inserts each new flow into an LRU table of "
                "pktspec's size: where it misses the target, no XDP program that keeps its flows in a kernel "
                "table meets it here. On the new-flow cost row it is bench_record's own cost in units of "
                "parse+lookup. \"--flow-table array\" is pktspec as shipped with its IPv4 flows in the array "
                "table (bpf/ways4.h), measured in the same rounds against the same baselines (the LRU "
                "parse+lookup); its memory row holds the flows a fill of 1 M flows leaves in their buckets."))

    rows = []
    for phase, label in (("cold", "cold"), ("warm", "warm"), ("warm_repeat", f"warm, repeat={tr['repeat']}")):
        p = tr[phase]
        for prog in ("pass", "parse", "record", "pktspec"):
            s = p.get(prog)
            if not s:  # a run from before bench_record (--from-json)
                continue
            rows.append([label if prog == "pass" else "", prog, s["n"], fmt(s["mean_ns"], 1),
                         fmt(s["median_ns"], 1), fmt(s["p99_ns"], 1),
                         x(p["ratio_pass"]) if prog == "pktspec" else "",
                         x(p["ratio_parse"]) if prog == "pktspec" else ""])
    t1, m1 = table(rows, ["phase", "program", "packets", "mean ns", "median ns", "p99 ns",
                          "vs XDP_PASS", "vs parse+lookup"])
    rows = []
    for g in tr["by_proto"]:
        n = ndg.get(g["proto"], {})
        if n.get("ip_packets", 0) < NDPI_MIN_PACKETS:
            n = {}  # too few packets to tell nDPI's time from its start-up
        c, w = g["cold"], g["warm"]
        rows.append([g["proto"], g["packets"], g["flows"], fmt(c["pktspec"]["mean_ns"], 1),
                     fmt(w["pktspec"]["mean_ns"], 1), x(c["ratio_pass"]), x(c["ratio_parse"]),
                     fmt(n.get("cold_ns"), 1), fmt(n.get("warm_ns"), 1),
                     x(c["pktspec"]["mean_ns"] / n["cold_ns"]) if n.get("cold_ns") else "-"])
    t2, m2 = table(rows, ["verdict", "packets", "flows", "cold ns", "warm ns", "cold vs PASS",
                          "cold vs parse", "nDPI cold ns", "nDPI warm ns", "pktspec/nDPI"])
    rows = [[r["reason"], r["packets"], fmt(r["cold"]["pktspec"]["mean_ns"], 1),
             fmt(r["cold"]["pktspec"]["p99_ns"], 1), x(r["cold"]["ratio_pass"]), x(r["cold"]["ratio_parse"])]
            for r in tr["by_reason"]]
    t3, m3 = table(rows, ["pktspec reason", "packets", "cold mean ns", "cold p99 ns", "vs PASS", "vs parse"])
    tcs = ""
    if b.get("tc"):
        tc = b["tc"]
        ns = tc["ns_per_packet"]
        tcs = (f"tc policy program (make bench-tc, repeat = {tc['repeat']}): pass-only {ns['pass']} ns, "
               f"policy on a decided IPv4 flow {ns['policy4']} ns ({x(tc['ratio_policy4_to_pass'])}), "
               f"IPv6 {ns['policy6']} ns, no policy {ns['no_policy']} ns, no flow {ns['no_flow']} ns")
    out.append(("1. In-kernel cost per packet (BPF_PROG_TEST_RUN, kernel-measured)",
                f"{tr['packets']} packets from {len(tr['captures'])} captures; {tr['rounds']} cold rounds\n"
                + t1 + "\n\n  by verdict of the packet's flow (cold: pktspec; nDPI on the same packets):\n" + t2
                + "\n\n  by what pktspec did with the packet:\n" + t3 + ("\n\n  " + tcs if tcs else ""),
                f"{tr['packets']} packets from {len(tr['captures'])} captures, {tr['rounds']} cold rounds.\n\n"
                + m1 + "\n\nBy the verdict of each packet's flow (nDPI on exactly the same packets):\n\n" + m2
                + "\n\nBy what pktspec did with the packet (cold):\n\n" + m3 + ("\n\n" + tcs + "." if tcs else "")))

    out.append(ndpi_section(b["pktspec_vs_ndpi"], b["ndpi"], tr["repeat"]))

    live = b["live"]
    rows = [[m_["mix"], m_["mode"], m_["pps"], x(m_.get("rate_to_pass")), fmt(m_["bpf_ns_per_packet"], 1),
             m_["rounds"]]
            for m_ in live["modes"]]
    t, m = table(rows, ["traffic", "receiver", "packets/s", "rate / XDP_PASS", "BPF ns/packet", "rounds"])
    note = (f"pktspec/XDP_PASS rate: {x(live.get('ratio_pktspec_to_pass'))} (mixed), "
            f"{x(live.get('ratio_new_flows_pktspec_to_pass'))} (new flows) (targets: at least 0.95x and 0.85x); "
            f"pktspec/no XDP: {x(live.get('ratio_pktspec_to_none'))} (veth's XDP path itself costs); "
            f"with its daemon (`pktspec run -q`) reading the events, pktspec/XDP_PASS rate "
            f"{x(live.get('ratio_pktspec_run_to_pass'))} (mixed), "
            f"{x(live.get('ratio_new_flows_pktspec_run_to_pass'))} (new flows), BPF ns / parse+lookup "
            f"{x(live.get('ratio_ns_pktspec_run_to_parse'))} (mixed), "
            f"{x(live.get('ratio_ns_new_flows_pktspec_run_to_parse'))} (new flows). "
            + daemon_events(live) + context_tables(live) +
            "BPF ns/packet under load include the kernel's statistics clock reads and the cache misses "
            "of a table the test run keeps hot. Receivers besides pktspec: parse (parse, key, one lookup in "
            "the LRU table pktspec filled), record (the same, and each new flow inserted into an LRU table "
            "of its own), slots (parse, key, the flow in a 4-way array table, inserted on a miss: "
            "bpf/bench_slots.h), pktspec_array (pktspec attached with --flow-table array: bpf/ways4.h), "
            "pktspec_run (pktspec attached, and its daemon `pktspec run -q` reading the events meanwhile), "
            "pktspec_run_full (the same, its context tables filled first), "
            "cut_* (pktspec's entry stopped after the parse, the lookup, the counters); rate / XDP_PASS "
            "is the median over rounds of each round's ratio")
    out.append(("3. Live throughput (veth, native XDP, trafgen)", t + "\n  " + note, m + "\n\n" + note + "."))
    t, m, note = issue_table(live)
    out.append(("3b. Live cost per packet, as the live-speed issue measured it", t + "\n  " + note,
                m + "\n\n" + note + "."))

    mem = b["memory"]
    rows = [[t_["max_entries"], t_["flows_held"], f"{t_['memlock_bytes'] / 1048576:.1f}",
             f"{t_['vmalloc_bytes'] / 1048576:.1f}"] for t_ in mem["tables"]]
    t, m = table(rows, ["table entries", "flows held", "memlock MiB", "vmalloc MiB"])
    rss, run = mem["rss_replay"], mem.get("rss_run")
    if run and run.get("rss_kb_samples"):
        smp = run["rss_kb_samples"]
        run_s = (f"; pktspec run on the receiver under the live new-flows stream ({run['seconds']} s): "
                 f"peak RSS {run['max_rss_kb'] / 1024:.1f} MiB, {smp[len(smp) // 4] / 1024:.1f} MiB after a "
                 f"quarter of the time, {max(smp[len(smp) // 2:]) / 1024:.1f} MiB at most in the second half")
    else:
        run_s = "; pktspec run: not available in this build"
    note = (f"bytes per flow: {fmt(mem['bytes_per_flow_memlock'], 1)} (memlock slope), "
            f"{fmt(mem['bytes_per_flow_vmalloc'], 1)} (vmalloc slope); key {mem['key_bytes']} B + value "
            f"{mem['value_bytes']} B + map overhead (target at 1M flows: at most 128 MiB); nDPI's own flow struct: "
            f"{fmt(mem.get('ndpi_flow_memory_bytes'))} B. "
            f"pktspec replay over a capture of new flows: peak RSS {rss['max_rss_kb'] / 1024:.1f} MiB" + run_s)
    out.append(("4. Memory", t + "\n  " + note, m + "\n\n" + note + "."))

    rows = []
    for o in b["verifier"]:
        for p in o["programs"]:
            rows.append([os.path.basename(o["object"]), p["name"], p["verified_insns"], p["xlated_insns"],
                         p["jited_bytes"], fmt(o["load_ms"], 1)])
    t, m = table(rows, ["object", "program", "verified insns", "xlated insns", "jited bytes", "load ms"])
    out.append(("5. Verifier and load", t, m + "\n\nLoad time is the object's, hash maps shrunk to 1024 "
                "entries so that it is the verifier's time and not a table allocation."))

    ks = b.get("verifier_per_kernel")
    if ks:
        names = []
        for k in ks:
            for p in k.get("programs") or []:
                n = f"{p.get('object')}/{p.get('program')}"
                if n not in names:
                    names.append(n)
        rows = []
        for n in names:
            cells = []
            for k in ks:
                p = next((p for p in k.get("programs") or [] if f"{p.get('object')}/{p.get('program')}" == n), None)
                cells.append("" if p is None else p.get("insns_processed") if p.get("loaded") else "refused")
            rows.append([n] + cells)
        t, m = table(rows, ["program"] + [k.get("series") or k["kernel"] for k in ks])
        out.append(("5b. Verifier per kernel", t, m + "\n\nProcessed instructions per program on each kernel of the "
                    "last kernel matrix (tests/vm: `make check` or `make vm`, .output/kernels.json); the budget is "
                    "400,000 on every kernel."))
        rows = []
        for k in ks:
            t_ = k.get("testrun")
            if not t_:
                continue
            where = "host, native" if k.get("where") == "host" else f"qemu, {k.get('accel') or '?'}"
            rows.append([k.get("series") or k["kernel"], where, x(t_.get("cold_pktspec_to_parse")),
                         x(t_.get("cold_pktspec_to_record")), x(t_.get("warm_pktspec_to_parse")),
                         x(t_.get("repeat_pktspec_to_parse")), x(t_.get("warm_pktspec_to_pass"))])
        if rows:
            t, m = table(rows, ["kernel", "where", "cold: pktspec / parse+lookup", "cold: pktspec / +insert",
                                "warm: pktspec / parse+lookup", "warm, repeat: pktspec / parse+lookup",
                                "warm: pktspec / XDP_PASS"])
            note = ("pktspec-bench testrun on 100 generated flows (HTTP, TLS, DNS, SSH, unknown; 160 packets) "
                    "inside each guest of the last kernel matrix, and on the host. Under TCG the guests' "
                    "times are the emulator's: their ratios show how long a path each kernel's JIT, inlined "
                    "map calls and tail calls make of the same programs, not how fast the kernel runs them; "
                    "only the host's figures are times. Every column but \"warm, repeat\" reads the clock "
                    "once per run, which costs some guests microseconds (the 5.10 guest's XDP_PASS takes "
                    "about 8 us a run, 6.1's about 0.1) and flattens their ratios; \"warm, repeat\" (a sample "
                    "of 32 packets, 200 runs per clock read) is the column to compare across kernels")
            out.append(("5c. Cost per packet per kernel (test run, kernel matrix)", t + "\n  " + note,
                        m + "\n\n" + note + "."))
    return out


def plot(b, ndg, path, tmp):
    rows = [g for g in b["testrun"]["by_proto"]
            if g["proto"] not in ("not-flow", "no-flow") and ndg.get(g["proto"], {}).get("cold_ns")
            and ndg[g["proto"]]["ip_packets"] >= NDPI_MIN_PACKETS]
    rows.sort(key=lambda g: -g["packets"])
    rows = rows[:14]
    dat = os.path.join(tmp, "plot.dat")
    with open(dat, "w") as f:
        for g in rows:
            f.write(f"{g['proto']}({g['packets']}) {g['cold']['pktspec']['mean_ns']} "
                    f"{ndg[g['proto']]['cold_ns']} {g['cold']['pass']['mean_ns']}\n")
    m = b["machine"]
    script = f"""
set terminal pngcairo size 900,420 font ",9" noenhanced
set output "{path}"
set title "Cost per packet by verdict, new flows (cold), log scale: pktspec in-kernel vs nDPI {b['ndpi']['version']}\\n{m['cpu']}, {m['nproc']} CPUs, Linux {m['kernel']}, {m['date']}"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel "ns per packet"
set yrange [10:*]
set xtics rotate by -35 left
set grid ytics
set key top left
plot "{dat}" using 4:xtic(1) title "XDP_PASS (test-run floor)", '' using 2 title "pktspec", '' using 3 title "nDPI (ndpiReader)"
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


HIST_END = "<!-- bench history end -->"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from-json")
    ap.add_argument("--tmp")
    ap.add_argument("--out")
    ap.add_argument("--command")
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("--corpus", default="")
    ap.add_argument("--doc")
    ap.add_argument("--plot")
    a = ap.parse_args()

    if a.from_json:
        b = load(a.from_json)
        ndg = {g["proto"]: g for g in b["ndpi"]["groups"]}
        a.out, a.plot = a.from_json, None
    else:
        if not (a.tmp and a.out and a.command):
            ap.error("--tmp, --out and --command are required (or --from-json)")
        b, ndg = build(a)
        with open(a.out, "w") as f:
            json.dump(b, f, indent=1)
    secs = sections(b, ndg)
    m = b["machine"]
    print(f"\npktspec bench: {m['cpu']}, {m['nproc']} CPUs, Linux {m['kernel']}, commit {m['commit']}, "
          f"{m['date']}, {b['seconds']} s")
    for title, text, _ in secs:
        print(f"\n{title}\n{text}")
    s = b["summary"]
    print(f"\nsummary: pktspec/XDP_PASS {x(s['cold_ratio_pass'])} cold, {x(s['warm_ratio_pass'])} warm "
          f"({x(s['warm_repeat_ratio_pass'])} with repeat); pktspec/parse+lookup {x(s['cold_ratio_parse'])} "
          f"cold, {x(s['warm_ratio_parse'])} warm; pktspec/nDPI {x(s['ratio_to_ndpi_cold'])} cold, "
          f"{x(s['ratio_to_ndpi_warm'])} warm ({x(s['ratio_to_ndpi_cold_noclock'])} and "
          f"{x(s['ratio_to_ndpi_warm_noclock'])} without the test-run clock); live rate vs XDP_PASS {x(s['live_ratio_to_pass'])}; "
          f"{fmt(s['bytes_per_flow'])} B/flow; {s['mib_at_1m_flows']} MiB at 1M flows")
    print(f"JSON: {a.out}")

    if a.plot:
        plot(b, ndg, a.plot, a.tmp)
        print(f"plot: {a.plot}")
    if a.doc:
        with open(a.doc) as f:
            doc = f.read()
        if BEGIN not in doc or END not in doc:
            print(f"bench: {a.doc} has no figures block ({BEGIN} ... {END})", file=sys.stderr)
            return 1
        block = [BEGIN, "",
                 f"Measured {m['date']} on {m['cpu']} ({m['nproc']} CPUs), Linux {m['kernel']}, "
                 f"commit {m['commit']}, with `{b['command']}` ({b['seconds']} s).", ""]
        for title, _, md in secs:
            block += [f"### {title}", "", md, ""]
        block += [END]
        doc = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: "\n".join(block), doc, flags=re.S)
        # The history: one row per full run, appended, so that a regression shows.
        if HIST_END in doc:
            doc = doc.replace(HIST_END, history_row(b, m) + "\n" + HIST_END)
        with open(a.doc, "w") as f:
            f.write(doc)
        print(f"doc: {a.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
