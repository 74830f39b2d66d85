#!/usr/bin/env python3
"""Generates docs/CONFORMANCE.md from Autobahn|Testsuite fuzzing-server reports.

Usage:
  conformance_report.py --mode ws [--outdir DIR] [--wall-time SECONDS] [--doc FILE]
  conformance_report.py --mode ws --mode wss          # both, from their default outdirs
  conformance_report.py --mode webgl --outdir DIR     # the jslib in Chromium (scripts/autobahn-webgl.sh)

For each --mode it reads DIR/reports/clients/index.json (DIR defaults to
/tmp/wsmachine-autobahn-<mode>, as scripts/autobahn.sh uses), the per-case report
JSON files next to it, DIR/fuzzingserver.json (which cases ran) and the driver's
wall time (--wall-time, else DIR/wall_time.txt), and rewrites that mode's section of
the document. Sections of modes not given are kept as they are, so running one mode
does not lose the other's results. scripts/autobahn.sh runs this after each mode.
"""
import argparse
import datetime
import html
import json
import os
import re
import subprocess
import sys

AGENTS = {"ws": "wsmachine", "wss": "wsmachine", "webgl": "wsmachine-webgl"}
MODES = ("ws", "wss", "webgl")
MODE_TITLES = {"ws": "ws:// (plain TCP)", "wss": "wss:// (TLS, rustls)",
               "webgl": "webgl: wsmachine.jslib in headless Chromium (ws://)"}
BEHAVIORS = ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED")
PASS = ("OK", "NON-STRICT", "INFORMATIONAL")
SECTIONS = [
    ("1", "Framing"),
    ("2", "Pings/Pongs"),
    ("3", "Reserved bits"),
    ("4", "Opcodes"),
    ("5", "Fragmentation"),
    ("6", "UTF-8 handling"),
    ("7", "Close handling"),
    ("9", "Limits/performance"),
    ("10", "Miscellaneous"),
    ("12", "Compression, different payloads"),
    ("13", "Compression, different parameters"),
]
SLOW_MS = 1000  # cases at least this long (server-side duration) are listed as slow

# Known causes of non-OK results, listed for the cases they cover while those cases
# are not OK. Facts about the suite are stable; the library diagnoses describe src/
# as of the first report and disappear from the document once the cases are OK.
CAUSES = [
    (("7.1.6", "7.13.1", "7.13.2"),
     "Graded INFORMATIONAL by the suite whatever the client does. 7.13.1/7.13.2 send the "
     "undefined close codes 5000 and 65535; answering with 1002 is one of the accepted codes. "
     "7.1.6 sends a 256 KiB message, a close and a ping back to back: wsmachine delivers the "
     "message before the close and answers the close only when the application polls it, "
     "so the echo of the 256 KiB message goes out before the close reply (`received` lists it)."),
    (("3.2", "3.3", "3.4", "4.1.3", "4.1.4", "4.1.5", "4.2.3", "4.2.4", "4.2.5", "5.15"),
     "Library (src/session.rs): a protocol violation that arrives in the same read as an "
     "earlier message must take effect only when polling reaches it in stream order, so that "
     "the earlier message can still be echoed (`pending_failure`). If these cases are not OK, "
     "that ordering has regressed."),
]
# In webgl mode the browser's WebSocket implements the protocol, so causes are Chromium's.
WEBGL_CAUSES = [
    (("7.1.6", "7.13.1", "7.13.2"), CAUSES[0][1].split(" 7.1.6 sends")[0]),
    (("7.9.1", "7.9.2", "7.9.3", "7.9.4", "7.9.5", "7.9.6", "7.9.7", "7.9.8", "7.9.9"),
     "Chromium: the server's close frame carries an invalid code (0, 999, 1004, "
     "1016, 1100, 2000, 2999), and the browser's own close reply echoes that code (`code`) "
     "instead of 1002. The browser answers close frames itself; the page neither sees nor "
     "writes that frame."),
    (("3.2", "3.3", "3.4", "4.1.3", "4.1.4", "4.1.5", "4.2.3", "4.2.4", "4.2.5", "5.15"),
     "Chromium fails the connection as soon as it parses the violation, so the echo of the "
     "valid message sent just before it cannot reach the server (the page polls once per "
     "frame; the socket is closed by then). The suite accepts this as NON-STRICT."),
]
# Cases that are slow by design of the suite.
KNOWN_SLOW = {
    "5.19": "the server pauses 1 s between fragments",
    "5.20": "the server pauses 1 s between fragments",
    "6.4.1": "the server waits 1 s before the invalid fragment; wsmachine fails fast on it",
    "6.4.2": "the server waits 1 s before the invalid fragment; wsmachine fails fast on it",
    "6.4.3": "the server waits 1 s before the invalid part; wsmachine fails fast on it",
    "6.4.4": "the server waits 1 s before the invalid part; wsmachine fails fast on it",
}


def case_key(cid):
    try:
        return tuple(int(p) for p in cid.split("."))
    except ValueError:
        return (1 << 30,)


def md(text):
    """Plain text for a markdown table cell."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", str(text)))
    text = re.sub(r"\s+", " ", text).strip()
    return text.replace("|", "\\|")


def short(text, n):
    text = md(text)
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def event_str(ev):
    """One expected/received event of the per-case report, compactly."""
    if not isinstance(ev, (list, tuple)) or not ev:
        return md(ev)
    kind = ev[0]
    payload = ev[1] if len(ev) > 1 else ""
    if kind == "message":
        what = "binary" if len(ev) > 2 and ev[2] else "text"
        if isinstance(payload, str) and len(payload) <= 24:
            return "%s %s" % (what, json.dumps(payload))
        size = len(payload) if isinstance(payload, str) else payload
        return "%s (%s B)" % (what, size)
    if kind in ("ping", "pong"):
        return "%s %s" % (kind, json.dumps(payload)) if payload else kind
    return md(" ".join(str(x) for x in ev))


def events_str(evs, limit=4):
    if not evs:
        return "nothing"
    parts = [event_str(e) for e in evs[:limit]]
    if len(evs) > limit:
        parts.append("… (%d in all)" % len(evs))
    return ", ".join(parts)


def git_info(repo):
    """The commit, plus a note when src/ has uncommitted changes (same text as autobahn.sh)."""
    try:
        rev = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--", "src", "Cargo.toml",
                                "Cargo.lock"], capture_output=True, text=True, check=True).stdout.strip()
        return rev + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def autobahn_version(prefix="/opt/autobahn-py2"):
    try:
        with open(os.path.join(prefix, "installed-versions.txt")) as f:
            for line in f:
                if line.startswith("autobahntestsuite=="):
                    return line.strip().split("==", 1)[1]
    except OSError:
        pass
    return "?"


def load_mode(mode, outdir, wall):
    spec_path = os.path.join(outdir, "fuzzingserver.json")
    reports = os.path.join(outdir, "reports", "clients")
    try:
        with open(spec_path) as f:
            spec = json.load(f)
        reports = spec.get("outdir", reports)
    except (OSError, ValueError):
        spec = {}
    index_path = os.path.join(reports, "index.json")
    with open(index_path) as f:
        index = json.load(f)
    agent = AGENTS[mode]
    if agent not in index:
        raise SystemExit("conformance_report: agent %r not in %s" % (agent, index_path))
    cases = index[agent]
    details = {}
    for cid, r in cases.items():
        path = os.path.join(reports, r.get("reportfile", ""))
        try:
            with open(path) as f:
                details[cid] = json.load(f)
        except (OSError, ValueError):
            details[cid] = {}
    if wall is None:
        try:
            with open(os.path.join(outdir, "wall_time.txt")) as f:
                wall = float(f.read().strip())
        except (OSError, ValueError):
            wall = None
    try:  # recorded by scripts/autobahn.sh when it built the library
        with open(os.path.join(outdir, "commit.txt")) as f:
            commit = f.read().strip()
    except OSError:
        commit = None
    try:  # recorded by scripts/autobahn.sh: how the driver fed received bytes
        with open(os.path.join(outdir, "input.txt")) as f:
            input_path = f.read().strip()
    except OSError:
        input_path = None
    return {"mode": mode, "cases": cases, "details": details, "spec": spec, "wall": wall,
            "index_path": index_path, "commit": commit, "input": input_path}


def render_mode(data, repo):
    mode, cases, details, spec = data["mode"], data["cases"], data["details"], data["spec"]
    ids = sorted(cases, key=case_key)
    counts = dict.fromkeys(BEHAVIORS, 0)
    per_section = {}
    for cid in ids:
        r = cases[cid]
        sec = cid.split(".")[0]
        row = per_section.setdefault(sec, dict.fromkeys(BEHAVIORS + ("cases", "ms"), 0))
        beh = r.get("behavior", "FAILED")
        if beh not in counts:
            beh = "FAILED"
        counts[beh] += 1
        row[beh] += 1
        row["cases"] += 1
        row["ms"] += r.get("duration", 0) or 0
    non_ok = [c for c in ids if cases[c].get("behavior") != "OK"]
    close_not_ok = [c for c in ids if cases[c].get("behaviorClose") != "OK"]
    passed = sum(counts[b] for b in PASS)
    failed = counts["FAILED"]
    total_ms = sum(r["ms"] for r in per_section.values())
    wall = data["wall"]
    # The run's date is when the server wrote the report, not when this script runs.
    mtime = os.path.getmtime(data["index_path"])
    now = datetime.datetime.fromtimestamp(mtime, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    excluded = spec.get("exclude-cases", [])
    summary = {
        "cases": len(ids), "counts": counts, "closeNotOk": len(close_not_ok),
        "passed": passed, "failed": failed, "wall": wall, "date": now,
        "commit": data["commit"] or git_info(repo),
    }

    out = []
    out.append("## %s" % MODE_TITLES.get(mode, mode))
    out.append("")
    out.append("- Run: %s, wsmachine commit %s, autobahntestsuite %s, server %s."
               % (now, summary["commit"], autobahn_version(), spec.get("url", "?")))
    if data.get("input") and mode == "webgl":
        out.append("- Client: %s (`tests/webgl/autobahn_test.c`, polling once per animation frame)." % data["input"])
    elif data.get("input"):
        out.append("- The driver fed received bytes through `%s`." % data["input"])
    out.append("- Cases: %s; excluded: %s."
               % (", ".join(spec.get("cases", ["*"])) or "*",
                  ", ".join(excluded) + " (`--no-deflate`: run `scripts/autobahn.sh MODE --deflate` for them)"
                  if excluded else "none"))
    out.append("- Wall time of the driver run (getCaseCount, %d cases, updateReports): **%s**; "
               "sum of the server's case durations: %.1f s."
               % (len(ids), "%.1f s" % wall if wall is not None else "not recorded", total_ms / 1000.0))
    out.append("- Summary: **%d passed, %d failed** (passed = OK + NON-STRICT + INFORMATIONAL); "
               "strictly OK: %d of %d." % (passed, failed, counts["OK"], len(ids)))
    out.append("")
    out.append("### Results per section")
    out.append("")
    out.append("| section | cases | OK | NON-STRICT | INFORMATIONAL | UNIMPLEMENTED | FAILED | time |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    known = {s for s, _ in SECTIONS}
    for sec, title in SECTIONS + [(s, "?") for s in sorted(per_section, key=int) if s not in known]:
        row = per_section.get(sec)
        name = "%s.* %s" % (sec, title)
        if not row:
            why = "excluded" if any(e.startswith(sec + ".") for e in excluded) else "not run"
            out.append("| %s | 0 | - | - | - | - | - | %s |" % (name, why))
            continue
        out.append("| %s | %d | %s | %.1f s |" % (
            name, row["cases"], " | ".join(str(row[b]) if row[b] else "0" for b in BEHAVIORS),
            row["ms"] / 1000.0))
    out.append("| **total** | **%d** | %s | **%.1f s** |" % (
        len(ids), " | ".join("**%d**" % counts[b] for b in BEHAVIORS), total_ms / 1000.0))
    out.append("")

    out.append("### Cases that are not OK")
    out.append("")
    if not non_ok:
        out.append("None: every case is strictly OK.")
    else:
        out.append("`code` is the close code %s sent (the report's `remoteCloseCode`); "
                   % ("the browser" if mode == "webgl" else "wsmachine") +
                   "`result` and `resultClose` are the suite's words from the per-case report.")
        out.append("")
        out.append("| case | behavior | behaviorClose | code | result | resultClose | expected (OK) | received |")
        out.append("| --- | --- | --- | ---: | --- | --- | --- | --- |")
        for cid in non_ok:
            r, d = cases[cid], details.get(cid, {})
            exp = (d.get("expected") or {}).get("OK")
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                cid, r.get("behavior"), r.get("behaviorClose"), r.get("remoteCloseCode"),
                md(d.get("result", "?")), md(d.get("resultClose", "?")),
                events_str(exp) if exp is not None else "?", events_str(d.get("received"))))
        out.append("")
        out.append("What the cases do:")
        out.append("")
        for cid in non_ok:
            out.append("- **%s**: %s" % (cid, short(details.get(cid, {}).get("description", "?"), 170)))
        out.append("")
        out.append("Known causes:")
        out.append("")
        explained = set()
        for ids_, text in (WEBGL_CAUSES if mode == "webgl" else CAUSES):
            hit = [c for c in non_ok if c in ids_]
            if hit:
                explained.update(hit)
                out.append("- %s: %s" % (", ".join(hit), text))
        rest = [c for c in non_ok if c not in explained]
        if rest:
            out.append("- %s: no known cause recorded; read the per-case reports (%s)."
                       % (", ".join(rest), os.path.dirname(data["index_path"])))
    out.append("")

    out.append("### Cases whose behaviorClose is not OK")
    out.append("")
    if not close_not_ok:
        out.append("None.")
    else:
        out.append("| case | behavior | behaviorClose | code | resultClose | wasClean |")
        out.append("| --- | --- | --- | ---: | --- | --- |")
        for cid in close_not_ok:
            r, d = cases[cid], details.get(cid, {})
            out.append("| %s | %s | %s | %s | %s | %s |" % (
                cid, r.get("behavior"), r.get("behaviorClose"), r.get("remoteCloseCode"),
                md(d.get("resultClose", "?")), d.get("wasClean", "?")))
    out.append("")

    if mode == "webgl" and any(c.startswith("6.") for c in close_not_ok):
        out.append("6.*: Chromium closes with 1002 where the suite wants 1007 (invalid UTF-8 in a text "
                   "message); the browser writes that close frame, not the page. The behaviour itself "
                   "(failing the connection) is graded OK.")
        out.append("")
    out.append("### Slow cases")
    out.append("")
    slow = sorted((c for c in ids if (cases[c].get("duration") or 0) >= SLOW_MS),
                  key=lambda c: (-cases[c]["duration"], case_key(c)))
    if not slow:
        out.append("No case took %d ms or more." % SLOW_MS)
    else:
        out.append("Cases of %d ms or more (the server's `duration`):" % SLOW_MS)
        out.append("")
        for cid in slow:
            why = KNOWN_SLOW.get(cid)
            out.append("- %s: %d ms: %s." % (
                cid, cases[cid]["duration"],
                "by design, " + why if why else
                "not slow by design: " + short(details.get(cid, {}).get("description", ""), 120)))
    others = sorted((c for c in ids if c not in KNOWN_SLOW),
                    key=lambda c: (-(cases[c].get("duration") or 0), case_key(c)))[:5]
    out.append("")
    out.append("Longest other cases: %s." % ", ".join(
        "%s %d ms" % (c, cases[c].get("duration") or 0) for c in others))
    if mode != "webgl" and any(c.startswith("9.") for c in slow + others):
        out.append("9.* (up to 16 MiB per message, or 65536 fragments of 64 B) is bound by the "
                   "single-threaded Python 2 server, not by the client: the C driver used about "
                   "1-2 s of CPU (user + sys) for a whole run when measured with `time`, so these "
                   "durations vary with machine load.")
    if wall is not None:
        out.append("Driver wall time minus the server's case durations (connection setup, "
                   "getCaseCount, updateReports, linger): %.1f s." % (wall - total_ms / 1000.0))
    out.append("")
    return "\n".join(out), summary


HEADER = """# Autobahn|Testsuite conformance

<!-- GENERATED by scripts/conformance_report.py (run by scripts/autobahn.sh ws|wss and scripts/autobahn-webgl.sh). Do not edit by hand: changes are overwritten. -->

> **Generated file, not hand-written.** `scripts/autobahn.sh ws`, `scripts/autobahn.sh wss`
> and `scripts/autobahn-webgl.sh` run the Autobahn|Testsuite fuzzing server against
> wsmachine and rewrite their own section below with `scripts/conformance_report.py`; the
> other modes' sections are kept as they were.

The client is `tests/autobahn/autobahn_client.c`: a C program that uses only
`include/wsmachine.h` and `libwsmachine.a`, real TCP sockets and one sans-IO loop
(`poll(2)`, `ws_offer_input`, `ws_poll_message` until `WS_NEED_INPUT`, `ws_client_tick`,
`ws_read_output` until empty). It echoes every text and binary message with the same type,
uses one config for all cases (max message and frame size 16 MiB; in wss mode the server's
CA is added with `ws_config_add_root_pem`, so TLS sessions are resumed between cases), and
after a failure writes the close frame the library hands out, then waits up to 1 s for the
server to close TCP.

The webgl mode is the Unity WebGL path: `tests/webgl/autobahn_test.c`, compiled by emcc
with `bindings/csharp/Plugins/WebGL/wsmachine.jslib`, runs in headless Chromium and echoes
every message through the jslib's functions (open, poll the event queue once per animation
frame, send text or binary, free). There the browser's WebSocket implements the protocol,
so this mode tests the jslib's event queue, text/binary handling and close codes end to
end, together with Chromium's own protocol handling. Sections 1-10 only (12 and 13 are
permessage-deflate, which the browser negotiates itself).

Behaviours (the suite's grading): **OK** as the RFC expects; **NON-STRICT** acceptable but
not the strict expectation (for example failing the connection without first echoing a
message that arrived before the violation); **INFORMATIONAL** the suite records what
happened without grading; **UNIMPLEMENTED** a feature the client does not offer;
**FAILED** wrong. `behaviorClose` grades the closing handshake separately.
"""


def render_overview(summaries):
    out = ["## Overview", ""]
    out.append("| mode | cases | OK | NON-STRICT | INFORMATIONAL | UNIMPLEMENTED | FAILED "
               "| behaviorClose not OK | driver wall time | run |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for mode in MODES:
        s = summaries.get(mode)
        if not s:
            out.append("| %s | - | - | - | - | - | - | - | - | not run yet |" % mode)
            continue
        c = s["counts"]
        out.append("| %s | %d | %s | %d | %s | %s, %s |" % (
            mode, s["cases"], " | ".join(str(c.get(b, 0)) for b in BEHAVIORS), s["closeNotOk"],
            "%.1f s" % s["wall"] if s.get("wall") is not None else "?", s.get("date", "?"),
            s.get("commit", "?")))
    out.append("")
    return "\n".join(out)


SECTION_RE = re.compile(r"<!-- BEGIN MODE (\w+) (\{.*?\}) -->\n(.*?)<!-- END MODE \1 -->\n?", re.S)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", action="append", choices=MODES, required=True)
    ap.add_argument("--outdir", help="the mode's autobahn outdir (only with one --mode)")
    ap.add_argument("--wall-time", type=float, help="driver wall time in seconds (only with one --mode)")
    ap.add_argument("--doc", help="document to update (default: <repo>/docs/CONFORMANCE.md)")
    args = ap.parse_args()
    if len(args.mode) > 1 and (args.outdir or args.wall_time is not None):
        ap.error("--outdir and --wall-time need exactly one --mode")

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    doc = args.doc or os.path.join(repo, "docs", "CONFORMANCE.md")

    sections, summaries = {}, {}
    try:
        with open(doc) as f:
            for m in SECTION_RE.finditer(f.read()):
                summaries[m.group(1)] = json.loads(m.group(2))
                sections[m.group(1)] = m.group(3)
    except (OSError, ValueError):
        pass

    for mode in args.mode:
        outdir = args.outdir or "/tmp/wsmachine-autobahn-%s" % mode
        try:
            data = load_mode(mode, outdir, args.wall_time)
        except (OSError, ValueError) as e:
            print("conformance_report: %s: cannot read the report in %s: %s" % (mode, outdir, e),
                  file=sys.stderr)
            return 2
        body, summary = render_mode(data, repo)
        sections[mode] = body
        summaries[mode] = summary

    parts = [HEADER, render_overview(summaries)]
    for mode in MODES:
        if mode in sections:
            parts.append("<!-- BEGIN MODE %s %s -->\n%s<!-- END MODE %s -->\n"
                         % (mode, json.dumps(summaries[mode], sort_keys=True), sections[mode].rstrip("\n") + "\n",
                            mode))
    os.makedirs(os.path.dirname(os.path.abspath(doc)), exist_ok=True)
    tmp = doc + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(parts))
    os.replace(tmp, doc)
    print("conformance_report: updated %s (%s)" % (os.path.relpath(doc, os.getcwd()), ", ".join(args.mode)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
