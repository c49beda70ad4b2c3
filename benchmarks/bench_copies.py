"""How well copy detection (``course/instructor/pipeline/copies.py``) tells copies from honest answers.

Every reference long enough to be compared is edited the way a copier edits the source that
``course release`` hands out (``tests/copy_corpus.py``: renamed, aliased under a private name,
padded with no-ops, independent lines swapped, other comments and docstrings, all at once), and
graded as a one-cell notebook. Printed: the flagged share per edit, then the false flags on the
course's solution notebooks (each against its lesson's references) and on answers written
independently::

    python benchmarks/bench_copies.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import copy_corpus  # noqa: E402


def main() -> None:
    m = copy_corpus.measure()
    per = m["per_edit"]
    for name in copy_corpus.EDITS:
        missed = m["missed"].get(name, [])
        print(f"{name:>26}: {per - len(missed)}/{per} flagged" + (f" (missed {', '.join(missed)})" if missed else ""))
    total_missed = sum(len(v) for v in m["missed"].values())
    print(f"{'edited copies':>26}: {m['edited'] - total_missed}/{m['edited']} flagged "
          f"({(m['edited'] - total_missed) / m['edited']:.1%})")
    print(f"{'solution notebooks':>26}: {len(m['solution_flags'])}/{m['solutions']} answers flagged")
    print(f"{'independent answers':>26}: {len(m['independent_flags'])}/{m['independent']} flagged")
    for flag in m["solution_flags"] + m["independent_flags"]:
        print("   false flag:", *flag)


if __name__ == "__main__":
    main()
