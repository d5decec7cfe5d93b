#!/usr/bin/python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""pktspec's accuracy report against nDPI's verdicts on the shared corpus.

Replays every capture in CORPUS/pcap with `pktspec replay --json` (one replay
per capture, so flows of different captures never share a table), matches
each flow with CORPUS/labels.csv by capture and unordered 5-tuple plus L4,
maps nDPI's plain_proto names to pktspec's protocol names, and prints:

  - per-protocol agreement and decided share over the scored flows: TCP/UDP
    flows nDPI decided by payload (confidence DPI*) whose protocol pktspec names;
  - a confusion table (nDPI -> pktspec) over all flows nDPI decided by payload;
  - flows pktspec left undecided;
  - false positives: pktspec names a protocol that nDPI's payload verdict
    contradicts (split into port guesses and payload verdicts);
  - the share of decided flows already settled by the first payload packet of
    each direction (a second replay with --inspect 1 gives the same verdict);
  - the scored flows left undecided, counted per cause (encapsulation not
    opened, other transport, picked up mid-session, several protocols on one
    5-tuple, other), derived from replay's flows and reason counters;
  - where /usr/bin/ndpiReader (Debian's libndpi-bin, nDPI 4.2) exists, its
    verdicts on the same captures as a second opinion;
  - random payload (issue 14): a million generated flows of random bytes
    (tests/captures/negative/make-random-flows.py, in batches of 200,000,
    a fresh seed printed) and the ones pktspec named, which should be none.

A JSON summary goes to .output/accuracy.json. This is a measurement, not a
test: it never fails on figures, and exits 0 when the corpus is absent.

Usage: tools/accuracy.py [--pktspec PATH] [--corpus DIR] [--json PATH] [--no-ndpi]
                         [--random-flows N] [--random-seed S] [-v]
  --random-flows  random-payload flows to check (default 1000000; 0: none)
  --random-seed   their seed (default: a fresh one; batch k uses seed + k)
"""
import argparse
import collections
import csv
import importlib.util
import ipaddress
import json
import os
import random
import re
import shutil
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

# plain_proto names (corpus README, "nDPI names vs plain protocol names") that do
# not normalise to a pktspec name by themselves.
SPECIAL = {
    "ipsec/ike": "ike",
    "mssql-tds": "mssql",
    "smb2/3": "smb2",
    "smb": "smb",
    "http/2": "http2",
    "ftp-data": "ftp-data",
    "nat-pmp": "nat-pmp",
    "resp": "redis",
}
# Mail and FTP over TLS: implicit TLS on these ports starts with a ClientHello
# (pktspec says tls); STARTTLS on the cleartext port starts with the banner.
TLS_WRAPPED = {"smtp/tls": ("smtp", {465}), "pop3/tls": ("pop3", {995}),
               "imap/tls": ("imap", {993}), "ftp/tls": ("ftp", {990})}
# pktspec names that agree with an nDPI family although spelled apart: nDPI
# folds HTTP proxy requests (HTTP_Proxy, HTTP_Connect) into HTTP.
EQUIVALENT = {"http": {"http", "http-proxy"}}


def accepted(row):
    """The pktspec names that agree with a labelled flow.

    Besides EQUIVALENT: a STARTTLS flow (SMTPS/POPS/IMAPS/FTPS on the cleartext
    port) carries both the cleartext protocol and TLS, and nDPI's own label for
    SMB inside NetBIOS is NetBIOS.SMBvN, so netbios names its carrier."""
    want = row["pks_name"]
    ok = set(EQUIVALENT.get(want, {want}))
    if row["plain_proto"].lower() in TLS_WRAPPED:
        ok.add("tls")
    if row["ndpi_label"].startswith("NetBIOS.SMB"):
        ok.add("netbios")
    return ok


def norm(name):
    return re.sub(r"[^a-z0-9]", "", name.lower())


def pktspec_protocols(pktspec):
    r = subprocess.run([pktspec, "protocols", "--json"], capture_output=True, text=True, check=True)
    return [json.loads(line)["name"] for line in r.stdout.splitlines()]


def map_name(plain, port_a, port_b, names):
    """pktspec's name for an nDPI plain_proto, or None when pktspec has no such protocol."""
    low = plain.lower()
    if low in TLS_WRAPPED:
        clear, tls_ports = TLS_WRAPPED[low]
        return "tls" if (port_a in tls_ports or port_b in tls_ports) else clear
    if low in SPECIAL:
        return SPECIAL[low] if SPECIAL[low] in names else None
    by_norm = {norm(n): n for n in names}
    return by_norm.get(norm(plain))


def ip_norm(text):
    try:
        return ipaddress.ip_address(text.strip("[]")).compressed
    except ValueError:
        # ndpiReader prints some IPv6 addresses malformed ("...::19::"): kept as
        # text, such a flow cannot be matched and is counted as unmatched.
        return text.lower()


def flow_key(pcap, l4, a, ap, b, bp):
    return (pcap, l4.lower(), frozenset([(ip_norm(a), int(ap)), (ip_norm(b), int(bp))]))


def replay(pktspec, path, inspect=None):
    cmd = [pktspec, "replay", "--json"] + (["--inspect", str(inspect)] if inspect else []) + [path]
    r = subprocess.run(cmd, capture_output=True, text=True)
    flows = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    return flows, (r.stderr.strip() if r.returncode else "")


NDPI_LINE = re.compile(r"^\s*\d+\s+(TCP|UDP)\s+\[?([0-9a-fA-F:.]+?)\]?:(\d+)\s+<?->\s+\[?([0-9a-fA-F:.]+?)\]?:(\d+)"
                       r"\s+.*?\[proto: [0-9.]+/([^\]]+)\]")


def ndpi_reader(path):
    """Flows ndpiReader (4.2) prints for a capture: {key-without-pcap: label}."""
    try:
        r = subprocess.run(["ndpiReader", "-q", "-v", "2", "-i", path], capture_output=True, text=True, errors="replace",
                           timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    out = {}
    for line in r.stdout.splitlines():
        m = NDPI_LINE.match(line)
        if not m:
            continue
        l4, a, ap, b, bp, label = m.groups()
        try:
            out[flow_key("", l4, a, ap, b, bp)[1:]] = label
        except ValueError:
            continue
    return out, ""


def ndpi42_plain(label):
    """The corpus README's rules 1-3 applied to an nDPI 4.2 label."""
    first, _, second = label.partition(".")
    if first == "NetBIOS" and second in ("SMBv1", "SMBv23"):
        return "SMB" if second == "SMBv1" else "SMB2/3"
    renames = {"MDNS": "mDNS", "DHCPV6": "DHCPv6", "FTP_CONTROL": "FTP", "FTP_DATA": "FTP-data",
               "HTTP_Proxy": "HTTP", "HTTP_Connect": "HTTP", "HTTP2": "HTTP/2", "IPSec": "IPsec/IKE",
               "Radius": "RADIUS", "IPsec": "IPsec/IKE", "IEC60870": "IEC104", "RESP": "Redis", "Redis": "Redis",
               "Nats": "NATS", "COAP": "CoAP", "Jabber": "XMPP", "MsSQL-TDS": "MSSQL-TDS",
               "SMTPS": "SMTP/TLS", "POPS": "POP3/TLS", "IMAPS": "IMAP/TLS", "FTPS": "FTP/TLS"}
    return renames.get(first, first)


def pct(n, d):
    return f"{100.0 * n / d:5.1f}%" if d else "   n/a"


# -- Why the remaining flows are undecided (issue 11) ------------------------
#
# Each scored flow pktspec did not decide as nDPI did gets one cause, derived
# from what replay reports: whether replay keyed the flow at all and the
# capture's reason counters (`replay --stats`), the flow's transport, whether
# its SYN was seen (`handshake`), and the protocol pktspec named instead.
CAUSES = (
    ("encapsulation", "encapsulation not opened / non-IP"),
    ("transport", "other transport than pktspec's signature"),
    ("mid_session", "picked up mid-session (no SYN seen)"),
    ("several_protocols", "several protocols on one 5-tuple"),
    ("other", "unknown / other"),
)
# Reasons that say packets were carried by something replay did not open.
ENCAP_REASONS = ("non_ip", "other_l4", "ppp_non_ip", "mpls_non_ip", "mpls_too_deep", "tunnel_other",
                 "tunnel_too_deep", "bad_tunnel", "trunc_tunnel", "trunc_pppoe", "trunc_mpls")
# Protocols RFC 7983 multiplexes on one 5-tuple (WebRTC: ICE's STUN, then
# DTLS, then SRTP/SRTCP): naming one of them where nDPI names another is the
# flow's other protocol, not a wrong signature.
MUX_FAMILY = {"stun", "dtls", "rtp", "rtcp"}


def replay_reasons(pktspec, path):
    """The reason counters `replay --stats` prints for one capture: {reason: packets}."""
    r = subprocess.run([pktspec, "replay", "--stats", "--summary", path], capture_output=True, text=True)
    out = {}
    for line in r.stderr.splitlines():
        m = re.match(r"^\s+([a-z0-9_]+)\s+(\d+)$", line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


def undecided_causes(pktspec, pcap_dir, scored, ours, transports):
    """Counts per cause (CAUSES) of the scored flows pktspec left undecided or
    named as another protocol of the same RFC 7983 family; returns
    (counts, per-cause protocol counts, flows per cause for the listing).

    transports: {pktspec name: set of L4s} where pktspec decides the protocol
    (its port list and the flows of the corpus where it agreed with nDPI by
    payload); a protocol with neither is not judged on its transport."""
    counts, by_proto, flows = collections.Counter(), collections.defaultdict(collections.Counter), {}
    reasons = {}
    for k, r in scored.items():
        want = r["pks_name"]
        fl = ours.get(k)
        got = fl["proto"] if fl else None
        if got is not None and got != "unknown":
            if got in accepted(r) or not (got in MUX_FAMILY and want in MUX_FAMILY):
                continue
            cause = "several_protocols"
        elif fl is None:
            pcap = k[0]
            if pcap not in reasons:
                reasons[pcap] = replay_reasons(pktspec, os.path.join(pcap_dir, pcap))
            encap = r.get("tunnel") or any(reasons[pcap].get(x) for x in ENCAP_REASONS)
            cause = "encapsulation" if encap else "other"
        elif transports.get(want) and k[1] not in transports[want]:
            cause = "transport"
        elif k[1] == "tcp" and not fl.get("handshake"):
            cause = "mid_session"
        else:
            cause = "other"
        counts[cause] += 1
        by_proto[cause][want] += 1
        flows.setdefault(cause, []).append((k, r, (fl["proto"], fl["confidence"], fl["rule"]) if fl else None))
    return counts, by_proto, flows


def print_causes(counts, by_proto, flows, desc, verbose):
    total = sum(counts.values())
    print()
    print(f"Scored flows left undecided (or named as another protocol of their 5-tuple), by cause: {total}")
    print(f"  {'cause':<42} {'flows':>5} {'share':>6}  protocols")
    for key, title in CAUSES:
        protos = ", ".join(f"{n} {c}" for n, c in by_proto[key].most_common(6))
        print(f"  {title:<42} {counts[key]:>5} {pct(counts[key], total):>6}  {protos}")
    if verbose:
        for key, title in CAUSES:
            for x in flows.get(key, []):
                print(f"    [{key}] " + desc(*x))


RANDOM_BATCH = 200000


def random_payload(pktspec, n, seed):
    """Runs n random-payload flows in batches; returns the JSON summary."""
    gen = os.path.join(ROOT, "tests", "captures", "negative", "make-random-flows.py")
    spec = importlib.util.spec_from_file_location("make_random_flows", gen)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    named, missing, done = [], 0, 0
    for k in range((n + RANDOM_BATCH - 1) // RANDOM_BATCH):
        size = min(RANDOM_BATCH, n - done)
        got, miss, _, _, _ = mod.run(pktspec, seed + k, size)
        named += [(seed + k, size, mod.describe(fl, v)) for fl, v in got]
        missing += len(miss)
        done += size
    print()
    print(f"Random payload: {done} flows of random bytes (make-random-flows.py, batches of {RANDOM_BATCH}, "
          f"seeds {seed}..{seed + (done - 1) // RANDOM_BATCH}): {len(named)} named [0], "
          f"{missing} missing from the replay")
    for s, size, d in named:
        print(f"  {d}  (--seed {s} --flows {size})")
    return {"flows": done, "seed": seed, "batch": RANDOM_BATCH, "named": len(named), "missing": missing,
            "named_flows": [{"seed": s, "flows": size, "flow": d} for s, size, d in named]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pktspec", default=os.path.join(ROOT, ".output", "pktspec"))
    ap.add_argument("--corpus", default=os.path.join(ROOT, "..", "shared", "corpus"))
    ap.add_argument("--json", default=os.path.join(ROOT, ".output", "accuracy.json"))
    ap.add_argument("--no-ndpi", action="store_true", help="do not run ndpiReader")
    ap.add_argument("--random-flows", type=int, default=1000000)
    ap.add_argument("--random-seed", type=int, default=None)
    ap.add_argument("-v", "--verbose", action="store_true", help="list every disagreement")
    args = ap.parse_args()
    if args.random_flows < 0:
        ap.error("--random-flows must be 0 or more")

    corpus = os.path.abspath(args.corpus)
    if not os.path.isdir(corpus) and args.corpus == ap.get_default("corpus"):
        # A git worktree elsewhere: ../shared beside the main checkout.
        r = subprocess.run(["git", "-C", ROOT, "rev-parse", "--path-format=absolute", "--git-common-dir"],
                           capture_output=True, text=True)
        if r.returncode == 0:
            alt = os.path.join(os.path.dirname(os.path.dirname(r.stdout.strip())), "shared", "corpus")
            if os.path.isdir(alt):
                corpus = alt
    labels_csv, pcap_dir = os.path.join(corpus, "labels.csv"), os.path.join(corpus, "pcap")
    if not os.path.isfile(labels_csv) or not os.path.isdir(pcap_dir):
        print(f"accuracy: no corpus at {corpus} (labels.csv and pcap/): nothing to measure")
        return 0
    names = pktspec_protocols(args.pktspec)
    supported = set(names) - {"unknown"}

    labels = {}
    with open(labels_csv, newline="") as f:
        for row in csv.DictReader(f):
            if row["proto"] not in ("TCP", "UDP"):
                continue
            k = flow_key(row["pcap"], row["proto"], row["src_ip"], row["src_port"], row["dst_ip"],
                         row["dst_port"])
            row["pks_name"] = map_name(row["plain_proto"], int(row["src_port"]), int(row["dst_port"]), names)
            labels[k] = row

    pcaps = sorted(p for p in os.listdir(pcap_dir) if not p.startswith("."))
    ours, first, errors, ndpi42, ndpi42_err = {}, {}, {}, {}, {}
    run_ndpi = not args.no_ndpi and shutil.which("ndpiReader")
    for p in pcaps:
        path = os.path.join(pcap_dir, p)
        for inspect, table in ((None, ours), (1, first)):
            flows, err = replay(args.pktspec, path, inspect)
            if err and inspect is None:
                errors[p] = err
            for fl in flows:
                table[flow_key(p, fl["l4"], fl["client"], fl["client_port"], fl["server"],
                               fl["server_port"])] = fl
        if run_ndpi:
            got, err = ndpi_reader(path)
            if got is None:
                ndpi42_err[p] = err
            else:
                for k, label in got.items():
                    ndpi42[(p,) + k] = label

    # Flows nDPI decided by payload.
    dpi = {k: r for k, r in labels.items() if r["confidence"].startswith("DPI")}
    scored = {k: r for k, r in dpi.items() if r["pks_name"] in supported}

    per = collections.defaultdict(lambda: collections.Counter())
    confusion = collections.Counter()
    undecided, disagree, fps, unmatched = [], [], [], []
    settled = collections.Counter()

    def verdict(k):
        fl = ours.get(k)
        return (fl["proto"], fl["confidence"], fl["rule"]) if fl else None

    def agrees(row, got):
        return got in accepted(row)

    for k, r in sorted(dpi.items(), key=lambda kv: (kv[0][0], kv[1]["src_port"])):
        want = r["pks_name"] or f"({r['plain_proto']})"
        v = verdict(k)
        if v is None:
            unmatched.append((k, r))
            continue
        proto, conf, rule = v
        confusion[(want, proto)] += 1
        if proto != "unknown" and not agrees(r, proto):
            fps.append((k, r, v))
        if k not in scored:
            continue
        c = per[want]
        c["flows"] += 1
        if proto == "unknown":
            c["undecided"] += 1
            undecided.append((k, r, v))
        elif agrees(r, proto):
            c["agree"] += 1
            c["agree_payload" if conf in ("signature", "confirmed") else "agree_port"] += 1
            if conf == "confirmed":
                c["confirmed"] += 1
            fv = first.get(k)
            if fv and (fv["proto"], fv["confidence"]) == (proto, conf):
                settled["same"] += 1
            settled["decided"] += 1
        else:
            c["wrong"] += 1
            disagree.append((k, r, v))

    tot = collections.Counter()
    for c in per.values():
        tot.update(c)

    def desc(k, r, v=None):
        pcap, l4, _ = k
        ends = f"{r['src_ip']}:{r['src_port']} - {r['dst_ip']}:{r['dst_port']}"
        tail = f" -> pktspec {v[0]}/{v[1]}/{v[2]}" if v else ""
        return f"{pcap} {l4} {ends} nDPI {r['ndpi_label']}{tail}"

    print(f"pktspec accuracy against nDPI's labels ({corpus})")
    print(f"{len(pcaps)} captures, {len(labels)} TCP/UDP flows labelled, {len(dpi)} decided by nDPI's DPI, "
          f"{len(scored) } of those in protocols pktspec names (scored)")
    if errors:
        print(f"replay reported problems on {len(errors)} captures:")
        for p, e in sorted(errors.items()):
            print(f"  {p}: {e.splitlines()[-1] if e else ''}")
    print()
    print(f"{'nDPI protocol':<14} {'flows':>5} {'agree':>6} {'by payload':>10} {'confirmed':>9} "
          f"{'wrong':>5} {'undecided':>9}")
    for name in sorted(per, key=lambda n: (-per[n]["flows"], n)):
        c = per[name]
        print(f"{name:<14} {c['flows']:>5} {pct(c['agree'], c['flows']):>6} {c['agree_payload']:>10} "
              f"{c['confirmed']:>9} {c['wrong']:>5} {c['undecided']:>9}")
    scored_matched = tot["flows"]
    decided = tot["agree"] + tot["wrong"]
    print(f"{'total':<14} {scored_matched:>5} {pct(tot['agree'], scored_matched):>6} {tot['agree_payload']:>10} "
          f"{tot['confirmed']:>9} {tot['wrong']:>5} {tot['undecided']:>9}")
    fp_payload = [x for x in fps if x[2][1] in ("signature", "confirmed")]
    fp_port = [x for x in fps if x[2][1] == "port"]
    print()
    print("Figures (issue 3 targets in brackets):")
    print(f"  agreement on scored flows:           {pct(tot['agree'], scored_matched)}"
          f"  ({tot['agree']}/{scored_matched})  [>= 98%]")
    print(f"  agreement where pktspec decided:     {pct(tot['agree'], decided)}  ({tot['agree']}/{decided})")
    print(f"  scored flows decided:                {pct(decided, scored_matched)}"
          f"  ({decided}/{scored_matched})  [>= 90%]")
    print(f"  ... decided by payload:              {pct(tot['agree_payload'] + sum(1 for x in disagree if x[2][1] != 'port'), scored_matched)}")
    print(f"  false positives (all DPI flows):     {pct(len(fps), len(dpi) - len(unmatched))}"
          f"  ({len(fps)}/{len(dpi) - len(unmatched)}: {len(fp_payload)} by payload, {len(fp_port)} by port)"
          f"  [<= 0.5%]")
    print(f"  ... by payload only:                 {pct(len(fp_payload), len(dpi) - len(unmatched))}")
    print(f"  settled by first payload per dir:    {pct(settled['same'], settled['decided'])}"
          f"  ({settled['same']}/{settled['decided']} agreeing flows give the same verdict with --inspect 1)"
          f"  [>= 90%]")
    print(f"  DPI flows without a pktspec flow:    {len(unmatched)} (tunnels, fragments, non-IP carriers)")

    print()
    print("Confusion (nDPI -> pktspec: flows), all flows nDPI decided by payload; "
          "(name) = nDPI protocol pktspec does not name:")
    rows = collections.defaultdict(list)
    for (want, got), n in confusion.items():
        rows[want].append((got, n))
    for want in sorted(rows, key=lambda w: -sum(n for _, n in rows[w])):
        cells = ", ".join(f"{g} {n}" for g, n in sorted(rows[want], key=lambda x: -x[1]))
        print(f"  {want:<16} {cells}")

    def listing(title, items, limit):
        print()
        print(f"{title}: {len(items)}")
        for x in items[: (None if args.verbose else limit)]:
            print("  " + desc(*x))
        if len(items) > limit and not args.verbose:
            print(f"  ... {len(items) - limit} more (-v lists all)")

    listing("Scored flows pktspec left undecided", undecided, 25)
    listing("Scored flows pktspec named differently", disagree, 25)
    listing("False positives (pktspec names a protocol nDPI's payload verdict contradicts)", fps, 40)

    summary = {
        "corpus": corpus, "captures": len(pcaps), "labelled_flows": len(labels), "dpi_flows": len(dpi),
        "scored_flows": scored_matched, "unmatched_dpi_flows": len(unmatched),
        "agree": tot["agree"], "agree_by_payload": tot["agree_payload"], "confirmed": tot["confirmed"],
        "wrong": tot["wrong"], "undecided": tot["undecided"],
        "agreement": tot["agree"] / scored_matched if scored_matched else None,
        "decided_share": decided / scored_matched if scored_matched else None,
        "false_positives": len(fps), "false_positives_by_payload": len(fp_payload),
        "false_positive_rate": len(fps) / (len(dpi) - len(unmatched)) if len(dpi) > len(unmatched) else None,
        "false_positive_rate_by_payload": (len(fp_payload) / (len(dpi) - len(unmatched))
                                           if len(dpi) > len(unmatched) else None),
        "first_payload_settled": settled["same"] / settled["decided"] if settled["decided"] else None,
        "per_protocol": {n: dict(c) for n, c in per.items()},
        "confusion": [{"ndpi": w, "pktspec": g, "flows": n} for (w, g), n in sorted(confusion.items())],
        "replay_errors": errors,
    }

    if run_ndpi:
        # Second opinion: Debian's nDPI 4.2 on the same captures, against the
        # corpus labels (made by nDPI 4.11) and against pktspec.
        agree_lab = agree_pks = both = 0
        counts = collections.Counter()
        for k, r in scored.items():
            lab = ndpi42.get(k)
            if lab is None:
                continue
            both += 1
            plain = ndpi42_plain(lab)
            name = map_name(plain, int(r["src_port"]), int(r["dst_port"]), names) or f"({plain})"
            counts[name] += 1
            agree_lab += name in accepted(r)
            v = verdict(k)
            agree_pks += bool(v) and v[0] in EQUIVALENT.get(name, {name})
        print()
        print(f"Second opinion: ndpiReader (nDPI 4.2) on the same captures: {len(ndpi42)} TCP/UDP flows")
        print(f"  scored flows it reported:            {both}/{len(scored)}")
        print(f"  it agrees with the corpus labels:    {pct(agree_lab, both)}  ({agree_lab}/{both})")
        print(f"  pktspec agrees with it:              {pct(agree_pks, both)}  ({agree_pks}/{both})")
        print("  its verdicts on scored flows: " + ", ".join(f"{n} {c}" for n, c in counts.most_common()))
        if ndpi42_err:
            print(f"  ndpiReader failed on {len(ndpi42_err)} captures: " + ", ".join(sorted(ndpi42_err)))
        summary["ndpi42"] = {"flows": len(ndpi42), "scored_reported": both, "agrees_with_labels": agree_lab,
                             "pktspec_agrees": agree_pks, "verdicts": dict(counts)}
    elif not args.no_ndpi:
        print()
        print("Second opinion: ndpiReader is not installed (Debian package libndpi-bin)")

    # Undecided flows by cause (issue 11): a section of its own.
    transports = collections.defaultdict(set)
    for line in subprocess.run([args.pktspec, "protocols", "--json"], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        pr = json.loads(line)
        transports[pr["name"]].update(x.split("/")[0] for x in pr["ports"])
    for k, r in scored.items():
        fl = ours.get(k)
        if fl and fl["proto"] in accepted(r) and fl["confidence"] in ("signature", "confirmed"):
            transports[r["pks_name"]].add(k[1])
    counts, by_proto, cause_flows = undecided_causes(args.pktspec, pcap_dir, scored, ours, transports)
    print_causes(counts, by_proto, cause_flows, desc, args.verbose)
    summary["undecided_causes"] = {key: {"flows": counts[key], "protocols": dict(by_proto[key])}
                                   for key, _ in CAUSES}

    if args.random_flows:
        seed = args.random_seed if args.random_seed is not None else random.SystemRandom().randint(1, 2**31 - 1)
        summary["random_payload"] = random_payload(args.pktspec, args.random_flows, seed)

    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
    print()
    print(f"summary written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
