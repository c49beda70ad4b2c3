"""Run the unregistered learner suite through the grader and count what it names.

    python -m tests.bugs.measure            # summary
    python -m tests.bugs.measure -v         # every bug with the grader's words
    python -m tests.bugs.measure --json F   # also save the figures
    python -m tests.bugs.measure --later    # the suite of the gated cells, image norms, symmetry

A bug is *caught* when the check does not pass, *named* when a failing diagnosis other than the
generic ones (values differ, the path leaves the expected one, a raw exception) is shown, and
*worded* when, in addition, the messages contain the words the bug's table entry lists.
A correct-but-unusual implementation that does not pass is a *false failure*.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import warnings

GENERIC = {"values", "trajectory", "exception"}
MODULES = ("lesson00", "lesson02", "lesson03", "lesson04", "lesson06", "lesson08", "lesson11", "lesson20")
HOLDOUT = ("holdout",)  # written after the engine, run without tuning it: ``--holdout``
LATER = ("lesson09", "lesson10", "lesson16")  # written with the exercises of lessons 09, 10, 16: ``--later``
ISSUE26 = ("lessons09_19",)  # written for the knob engine before it was built: ``--issue26``
BLIND = ("holdout26",)  # written by someone who never read the grader, after the knobs: ``--blind``


def suite(modules=MODULES):
    bugs, correct = [], []
    for name in modules:
        mod = importlib.import_module(f"tests.bugs.{name}")
        if getattr(mod, "NEEDS", None) and importlib.util.find_spec(mod.NEEDS) is None:
            continue  # a lesson whose extra (PyTorch) is not installed here
        bugs += mod.BUGS
        correct += mod.CORRECT
    return bugs, correct


def judge(result, words):
    failing = [d for d in result.diagnoses if d.fails]
    text = " ".join(d.message for c in result.cases for d in c.diagnoses).lower()
    named = not result.passed and any(d.name not in GENERIC for d in failing)
    worded = named and all(w.lower() in text for w in words)
    return named, worded


def measure(verbose=False, modules=MODULES):
    from course.grader import check

    os.environ["COURSE_PROGRESS_FILE"] = "off"
    bugs, correct = suite(modules)
    rows, missed, false_fail = [], [], []
    for ex, fn, words, opts in bugs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = check(ex, fn, record=False, **opts)
        named, worded = judge(r, words)
        if r.passed:
            missed.append((ex, fn.__name__))
        rows.append({"exercise": ex, "bug": getattr(fn, "__name__", "?"), "caught": not r.passed,
                     "named": named, "worded": worded, "names": r.diagnosis_names,
                     "messages": [d.message for d in r.diagnoses]})
    for ex, fn, opts in correct:
        r = check(ex, fn, record=False, **opts)
        if not r.passed:
            false_fail.append((ex, getattr(fn, "__name__", "?"), str(r)[:400]))
    summary = {
        "bugs": len(bugs),
        "caught": sum(r["caught"] for r in rows),
        "named": sum(r["named"] for r in rows),
        "worded": sum(r["worded"] for r in rows),
        "correct": len(correct),
        "false_failures": len(false_fail),
        "missed": missed,
        "false_failure_list": false_fail,
    }
    if verbose:
        for r in rows:
            flag = "NAMED " if r["named"] else ("caught" if r["caught"] else "MISSED")
            flag += "+w" if r["worded"] else "  "
            print(f"{flag} {r['exercise']:38s} {r['bug']:28s} {r['names']}")
            if not r["worded"]:
                for m in r["messages"][:3]:
                    print("          ", m[:220])
    return summary, rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-v", action="store_true")
    p.add_argument("--json")
    p.add_argument("--holdout", action="store_true", help="the second suite (tests/bugs/holdout.py)")
    p.add_argument("--later", action="store_true", help="the suite of lessons 09, 10 and 16 (LATER)")
    p.add_argument("--issue26", action="store_true", help="the third suite (tests/bugs/lessons09_19.py)")
    p.add_argument("--blind", action="store_true", help="the fourth suite (tests/bugs/holdout26.py)")
    a = p.parse_args(argv)
    suite_ = (BLIND if a.blind else ISSUE26 if a.issue26 else LATER if a.later else HOLDOUT if a.holdout
              else MODULES)
    summary, rows = measure(a.v, suite_)
    b = summary["bugs"]
    print(f"bugs {b}: caught {summary['caught']}, named {summary['named']} ({summary['named'] / b:.0%}), "
          f"named with the expected words {summary['worded']} ({summary['worded'] / b:.0%}); "
          f"correct {summary['correct']}: false failures {summary['false_failures']}")
    for m in summary["missed"]:
        print("MISSED", *m)
    for f in summary["false_failure_list"]:
        print("FALSE FAILURE", *f)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"summary": summary, "rows": rows}, fh, indent=1, default=str)


if __name__ == "__main__":
    main()
