#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
#
# `make bench`: measures pktspec and writes
#   .output/bench.json     every figure, machine-readable
#   the terminal report    five sections (tools/bench_report.py)
#   doc/performance.md     the figures block, and doc/performance.png (full runs only)
# It reports; it does not pass or fail on times. See doc/performance.md for
# what each figure means and how it is measured.
#
# BENCH_QUICK=1   fewer rounds, shorter live windows, smaller tables; leaves doc/ alone
# BENCH_CORPUS=DIR  the corpus of captures (default: ../shared/corpus/pcap beside
#                 the main checkout, when it exists); BENCH_CORPUS= to skip it
# BENCH_DOC=0     do not update doc/ after a full run
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=.output
BENCH=$OUT/pktspec-bench
PKTSPEC=$OUT/pktspec

die() { echo "bench: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (BPF_PROG_TEST_RUN, XDP, namespaces): run 'sudo make bench'"
[ -x $BENCH ] && [ -x $PKTSPEC ] || die "build first: make bench"

if [ -n "${BENCH_QUICK:-}" ]; then
	ROUNDS=3 NDPI_LOOPS=2 NDPI_TRIES=1 NDPI_GROUP_TRIES=1 MEM_FLOWS=1000000 RSS_FLOWS=50000 PAIRS=2 PAIR_ROUNDS=2
else
	ROUNDS=7 NDPI_LOOPS=5 NDPI_TRIES=3 NDPI_GROUP_TRIES=1 MEM_FLOWS=1000000 RSS_FLOWS=300000 PAIRS=5 PAIR_ROUNDS=3
fi

# The project's captures, then the shared corpus when there is one. The corpus
# is read where it lies; it is never copied into the repository.
if [ -z "${BENCH_CORPUS+set}" ]; then
	main_tree=$(dirname "$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null || echo "$ROOT/.git")")
	BENCH_CORPUS=""
	for d in "$ROOT/../shared/corpus/pcap" "$main_tree/../shared/corpus/pcap"; do
		[ -d "$d" ] && { BENCH_CORPUS=$(cd "$d" && pwd); break; }
	done
fi
mapfile -t CAPTURES < <(find tests/captures -type f \( -name '*.pcap' -o -name '*.pcapng' \) 2>/dev/null | sort)
if [ -n "$BENCH_CORPUS" ]; then
	mapfile -t -O ${#CAPTURES[@]} CAPTURES < <(find "$BENCH_CORPUS" -maxdepth 1 -type f \
		\( -name '*.pcap' -o -name '*.pcapng' \) | sort)
fi
[ ${#CAPTURES[@]} -gt 0 ] || die "no capture to measure (tests/captures is empty and no corpus was found)"

TMP=$(mktemp -d /tmp/pktspec-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/subsets"
t0=$(date +%s)
step() { echo "bench: [$(($(date +%s) - t0))s] $*" >&2; }

step "1/5 in-kernel cost: ${#CAPTURES[@]} captures, $ROUNDS rounds (BPF_PROG_TEST_RUN)"
$BENCH testrun --rounds $ROUNDS --subsets "$TMP/subsets" --json "$TMP/testrun.json" "${CAPTURES[@]}"

step "2/5 nDPI on the same packets ($NDPI_LOOPS loops, $NDPI_TRIES tries)"
python3 tools/bench_ndpi.py --loops $NDPI_LOOPS --tries $NDPI_TRIES --group-tries $NDPI_GROUP_TRIES \
	"$TMP/subsets" "$TMP/ndpi.json"

# The goals against nDPI are ratios of two figures: each is taken within a
# pair, a test run of pktspec and nDPI on the same packets one right after the
# other, and the report keeps the median over the pairs. Taken minutes apart
# (steps 1 and 2), nDPI's time alone moved by half between runs.
step "2b/5 pktspec and nDPI in $PAIRS pairs (a test run of $PAIR_ROUNDS rounds, then nDPI)"
for i in $(seq "$PAIRS"); do
	$BENCH testrun --rounds $PAIR_ROUNDS --json "$TMP/pair$i.testrun.json" "${CAPTURES[@]}"
	python3 tools/bench_ndpi.py --all-only --loops $NDPI_LOOPS --tries $NDPI_TRIES "$TMP/subsets" "$TMP/pair$i.ndpi.json"
done

step "3/5 live throughput (veth, trafgen)"
# The captures replayed live with tcpreplay: the corpus (nDPI's public
# captures, as the live-speed issue measured), else the project's own.
if [ -n "$BENCH_CORPUS" ]; then
	find "$BENCH_CORPUS" -maxdepth 1 -type f \( -name '*.pcap' -o -name '*.pcapng' \) | sort >"$TMP/replay.txt"
else
	printf '%s\n' "${CAPTURES[@]}" >"$TMP/replay.txt"
fi
BENCH_LIVE_CAPTURES="$TMP/replay.txt" tools/bench_live.sh "$TMP/live.json" "$TMP/rss_run.json"

step "4/5 memory: flow table at $MEM_FLOWS flows; RSS over $RSS_FLOWS new flows"
$BENCH memory --flows $MEM_FLOWS --json "$TMP/memory.json"
$BENCH gen --flows $RSS_FLOWS "$TMP/flows.pcap"
# The resident memory of `pktspec replay` over a capture of new flows (it
# reads back the whole table at the end); that of `pktspec run` under a live
# stream of new flows was taken in step 3, when that command exists.
$BENCH rss -- $PKTSPEC replay --max-flows $((RSS_FLOWS * 2)) "$TMP/flows.pcap" >"$TMP/rss.json"

step "5/5 verifier and load"
OBJS=($OUT/pktspec.bpf.o $OUT/pktspec_egress.bpf.o $OUT/pktspec_tc.bpf.o $OUT/bench_pass.bpf.o $OUT/bench_parse.bpf.o)
$BENCH verifier --json "$TMP/verifier.json" "${OBJS[@]}"

# The tc policy program's cost per packet, measured by its own tool (make bench-tc).
if [ -x $OUT/bench_tc ]; then
	step "tc policy program (bench_tc)"
	$OUT/bench_tc --json >"$TMP/tc.json" || die "bench_tc failed"
fi

step "report"
CMD="${BENCH_CMD:-make bench}${BENCH_QUICK:+ (BENCH_QUICK=1)}"
args=(--out $OUT/bench.json --command "$CMD" --seconds $(($(date +%s) - t0))
	--corpus "${BENCH_CORPUS:-}" --tmp "$TMP")
if [ -z "${BENCH_QUICK:-}" ] && [ "${BENCH_DOC:-1}" != 0 ]; then
	args+=(--doc doc/performance.md --plot doc/performance.png)
fi
python3 tools/bench_report.py "${args[@]}"
