#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# tools/bench_report.py writes doc/performance.md's figures and appends a row
# to its History table after each full `make bench` (minutes long, not run in
# `make check`). Twice a change to the goals broke that last step after the
# run, which lost the run's document update. This checks the report's goal
# rows and History row on a made-up run, without measuring anything.
. "$(dirname "$0")/../lib/common.sh"

OUT=$PKS_TMP/report.txt
if PYTHONPATH=$PKS_ROOT/tools python3 - "$PKS_ROOT/doc/performance.md" >"$OUT" 2>&1 <<'PY'; then
import re, sys
import bench_report as br

# Every goal measured, each baseline figure present: distinct values, to see which lands where.
live = {"ratio_ns_pktspec_to_parse": 1.01, "ratio_ns_new_flows_pktspec_to_parse": 1.02,
        "ratio_pktspec_to_pass": 1.03, "ratio_new_flows_pktspec_to_pass": 1.04,
        "ratio_parse_to_pass": 2.03, "ratio_new_flows_parse_to_pass": 2.04,
        "ratio_new_flows_record_to_pass": 3.04, "ratio_ns_new_flows_record_to_parse": 3.02,
        "ratio_ns_pktspec_array_to_parse": 4.01, "ratio_ns_new_flows_pktspec_array_to_parse": 4.02,
        "ratio_pktspec_array_to_pass": 0.43, "ratio_new_flows_pktspec_array_to_pass": 0.44}
b = {"live": live, "summary": {"mib_at_1m_flows": 99.5, "ratio_to_ndpi_cold": 1.06, "ratio_to_ndpi_warm": 1.07,
                               "array_mib_at_1m_flows": 100.0},
     "pktspec_vs_ndpi": {"parse_ratio_cold": 2.06, "parse_ratio_warm": 2.07,
                         "record_ratio_cold": 3.06, "record_ratio_warm": 3.07}}
rows = br.goals(b)
assert len(rows) == len(br.GOALS), rows
for name, v, target, met, base, rec, arr, arr_met in rows:
    assert v is not None, name
    # The baselines' and the array table's figures sit with their own goal: same last digit.
    for other in (base, rec, arr):
        assert other is None or round(other * 100) % 10 == round(v * 100) % 10, (name, v, other)
assert sum(r[4] is not None for r in rows) == 4 and sum(r[5] is not None for r in rows) == 4, rows
assert sum(r[6] is not None for r in rows) == 5, rows
assert [r[3] for r in rows] == [True, True, True, True, True, False, False], [r[3] for r in rows]
assert [r[7] for r in rows] == [False, False, False, False, True, None, None], [r[7] for r in rows]

# The daemon's share of the events (pktspec_run), per mix; none where no event came in the window.
modes = [{"mix": "mixed", "mode": "pktspec_run", "events_read_share": None, "events_read_per_second": 0},
         {"mix": "new-flows", "mode": "pktspec_run", "events_read_share": 0.204, "events_read_per_second": 232077},
         {"mix": "new-flows", "mode": "pktspec"}]
said = br.daemon_events({"modes": modes})
assert "none on the mixed traffic" in said and "20.4% on the new-flows traffic (232,077 a second)" in said, said
assert br.daemon_events({"modes": modes[2:]}) == "", "a run without the counts says nothing of them"

# The context tables full against empty (servers mix), with both receivers' figures.
srv = {"modes": [{"mix": "servers", "mode": "pktspec_run", "bpf_ns_per_packet": 1600.25},
                 {"mix": "servers", "mode": "pktspec_run_full", "bpf_ns_per_packet": 1738.3}],
       "ratio_ns_servers_full_to_empty": 1.086, "ratio_servers_full_to_empty": 0.97}
said = br.context_tables(srv)
assert ("costs 1738.3 BPF ns against 1600.2 with them empty (medians over rounds); within a round, "
        "full against empty is 1.09x (rate 0.97x;") in said, said
assert br.context_tables({"modes": []}) == "", "a run without the servers mix says nothing of it"

# Against nDPI: each ratio taken within its pair (a test run, then nDPI right
# after it), the median over the pairs kept. The machine here slows down in
# the third pair. Warm, the median of the ratios (0.4, 0.3, 0.4: 0.4) differs
# from the ratio of the medians (200 / 600); cold, the slow pair's 0.3 is
# left out of the median (0.25) and only shows in the range.
def testrun(cold, warm, parse=100.0, record=110.0):
    g = lambda pk: {"pktspec": {"mean_ns": pk}, "parse": {"mean_ns": parse}, "record": {"mean_ns": record}}
    # A not-flow group weighs nothing: nDPI counts IP packets only.
    return {"by_proto": [{"proto": "http", "packets": 3, "cold": g(cold), "warm": g(warm)},
                         {"proto": "not-flow", "packets": 1000, "cold": g(9e9), "warm": g(9e9)}],
            "rounds": 3}
ndpi = lambda cold, warm: {"cold_ns": cold, "warm_ns": warm, "loops": 5, "tries": 3}
pairs = [(testrun(250.0, 200.0), ndpi(1000.0, 500.0)), (testrun(260.0, 180.0), ndpi(1040.0, 600.0)),
         (testrun(600.0, 400.0), ndpi(2000.0, 1000.0))]
v = br.vs_ndpi_figures(testrun(250.0, 200.0), ndpi(2500.0, 1000.0), pairs, 40.0)
assert (v["ratio_cold"], v["ratio_warm"]) == (0.25, 0.4), v
assert v["ratio_cold_range"] == [0.25, 0.3] and v["ratio_warm_range"] == [0.3, 0.4], v
assert (v["pktspec_cold_ns"], v["ndpi_cold_ns"], v["pktspec_cold_noclock_ns"]) == (260.0, 1040.0, 220.0), v
assert v["ratio_cold_noclock"] == 0.212, v  # median of (250 - 40) / 1000, (260 - 40) / 1040, (600 - 40) / 2000
assert (v["parse_ratio_cold"], v["record_ratio_warm"]) == (0.096, 0.183), v
assert (v["unpaired_ratio_cold"], v["pairs"], v["pair_rounds"], v["pair_loops"]) == (0.1, 3, 3, 5), v
title, text, md = br.ndpi_section(v, {"version": "4.2.0", "reader": "ndpiReader", "ip_packets": 3,
                                      "tries": 3, "loops": 5}, 1000)
assert "median over 3 pairs" in md and "the median of 3 tries" in md and "| 0.250-0.300 |" in md and "0.10x cold" in md, md
# A run without pairs: the ratios of the main test run and nDPI's headline figures.
v = br.vs_ndpi_figures(testrun(250.0, 200.0), ndpi(2500.0, 1000.0), [], 40.0)
assert (v["ratio_cold"], v["ratio_warm"], v["pairs"]) == (0.1, 0.2, 0) and "ratio_cold_range" not in v, v
assert "range over pairs" not in br.ndpi_section(v, {"version": "4.2.0", "reader": "ndpiReader", "ip_packets": 3,
                                                     "tries": 3, "loops": 5}, 1000)[2]

# The History row has the columns of the document's History header.
doc = open(sys.argv[1]).read()
head = re.search(r"^\| date \| commit \| kernel \|.*\|$", doc, re.M)
assert head, "no History header in doc/performance.md"
row = br.history_row(b, {"date": "2026-01-01 00:00 UTC", "commit": "abc1234", "kernel": "6.1"})
assert row.count("|") == head.group(0).count("|"), (row, head.group(0))
assert br.HIST_END in doc, "no History end marker"
print("ok", row)
PY
	pks_pass report_rows
else
	pks_fail report_rows "$(tail -n 5 "$OUT")"
fi
pks_done
