"""Run a marker's tests N times and name every test that did not pass every time.

Run:  python benchmarks/repeat_marker.py -m browser -n 5 [-k 03_backprop] [--busy 1] [PATHS] [-- PYTEST ARGS]

Each run is ``python -m pytest -p no:cacheprovider [-m MARKER] [-k EXPR] [PATHS]`` with its own
JUnit XML file (in ``--out``, default ``build/repeat``). The report gives each run's time and
counts, then every test whose outcome was not "passed" in every run, with its outcome per run
(P passed, F failed, E error, S skipped, X xfailed, - absent from that run) and the first failure
message. A test skipped (or xfailed) in every run is stable: they are counted, not listed, unless
``--list-skips``. ``--busy K`` runs K CPU-bound processes beside every run (the "under load"
condition). The exit status is 0 only when every test had one outcome in every run and none
failed or errored.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LETTER = {"passed": "P", "failed": "F", "error": "E", "skipped": "S", "xfailed": "X"}


def outcomes(junit: Path) -> dict[str, tuple[str, str]]:
    """``{test id: (outcome, message)}`` from one JUnit XML file (a missing or unreadable file: {})."""
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        return {}
    found = {}
    for case in root.iter("testcase"):
        test = f"{case.get('classname', '')}::{case.get('name', '')}"
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                message = (child.get("message") or (child.text or "")).strip().splitlines()
                message = message[0][:300] if message else ""
                if child.tag == "skipped":
                    outcome = "xfailed" if child.get("type") == "pytest.xfail" else "skipped"
                else:
                    outcome = "failed" if child.tag == "failure" else "error"
                if outcome in ("failed", "error"):
                    break  # a failing test's teardown error does not hide its failure
        if test in found and found[test][0] in ("failed", "error"):
            continue  # a test that failed, then errored in teardown, is reported twice
        found[test] = (outcome, message)
    return found


def _spin(stop):
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def run_once(index: int, args, out: Path) -> tuple[float, int, dict]:
    junit = out / f"run{index}.xml"
    junit.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--junitxml={junit}",
               *(["-m", args.marker] if args.marker else []), *(["-k", args.k] if args.k else []),
               *args.paths, *args.pytest_args]
    stop = multiprocessing.Event()
    busy = [multiprocessing.Process(target=_spin, args=(stop,), daemon=True) for _ in range(args.busy)]
    for p in busy:
        p.start()
    start = time.monotonic()
    with open(out / f"run{index}.log", "wb") as log:
        code = subprocess.run(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT).returncode
    elapsed = time.monotonic() - start
    stop.set()
    for p in busy:
        p.join()
    return elapsed, code, outcomes(junit)


def report(results: list[dict], list_skips: bool) -> tuple[list[str], bool]:
    """The lines naming each unstable or failing test, and whether all was well."""
    tests = sorted({t for r in results for t in r})
    lines, stable_skips = [], 0
    for test in tests:
        seen = [r.get(test, ("absent", "")) for r in results]
        kinds = {o for o, _ in seen}
        if kinds == {"passed"}:
            continue
        if len(kinds) == 1 and kinds <= {"skipped", "xfailed"} and not list_skips:
            stable_skips += 1
            continue
        letters = " ".join(LETTER.get(o, "-") for o, _ in seen)
        message = next((m for o, m in seen if o in ("failed", "error") and m), next((m for _, m in seen if m), ""))
        lines.append(f"  {letters}  {test}" + (f"\n      {message}" if message else ""))
    if stable_skips:
        lines.append(f"  ({stable_skips} tests skipped or xfailed in every run; --list-skips names them)")
    ok = all(len({r.get(t, ("absent",))[0] for r in results}) == 1 for t in tests) and not any(
        o in ("failed", "error") for r in results for o, _ in r.values()
    )
    return lines, ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-m", dest="marker", default=None, help="the marker expression, as pytest's -m")
    parser.add_argument("-n", dest="runs", type=int, default=5, help="how many runs (default 5)")
    parser.add_argument("-k", default=None, help="pytest's -k expression")
    parser.add_argument("--busy", type=int, default=0, help="CPU-bound processes running beside each run")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "repeat", help="JUnit XML and logs")
    parser.add_argument("--list-skips", action="store_true", help="also list tests skipped in every run")
    parser.add_argument("paths", nargs="*", help="test files or folders (default: pyproject's testpaths)")
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    if args.runs < 1 or args.busy < 0:
        parser.error(f"-n must be at least 1 and --busy at least 0, got -n {args.runs} --busy {args.busy}")
    args.pytest_args = extra
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PYTHONPATH", str(REPO))
    results = []
    for i in range(1, args.runs + 1):
        elapsed, code, found = run_once(i, args, args.out)
        results.append(found)
        counts = {k: sum(o == k for o, _ in found.values()) for k in LETTER}
        summary = ", ".join(f"{n} {k}" for k, n in counts.items() if n) or "no tests reported"
        print(f"run {i}/{args.runs}: {elapsed:.0f} s, exit {code}: {summary}  ({args.out / f'run{i}.log'})", flush=True)
    lines, ok = report(results, args.list_skips)
    passed_always = sum(all(r.get(t, ("absent",))[0] == "passed" for r in results) for t in {t for r in results for t in r})
    unstable = [line for line in lines if not line.startswith("  (")]
    print(f"\n{passed_always} tests passed in all {args.runs} runs" + (";" if unstable else "."))
    if unstable:
        print("did not pass every time (outcome per run):")
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
