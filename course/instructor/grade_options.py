"""The options of ``course grade`` for late work and hand-graded answers, checked before any
grading starts and applied to the outputs after it (:mod:`course.instructor.course_admin.adjust`)."""

from __future__ import annotations

import json
from pathlib import Path

from .course_admin import adjust, late, manual
from .course_admin.collect import read_manifest

__all__ = ["add_arguments", "Plan"]


def add_arguments(parser) -> None:
    """``--deadline``, ``--extensions``, ``--late-policy`` and ``--manual`` for ``course grade``."""
    g = parser.add_argument_group("late work and hand-graded answers")
    g.add_argument("--deadline", metavar="ISO",
                   help="the deadline, e.g. 2026-12-01T23:59 (see course.instructor.course_admin.late)")
    g.add_argument("--extensions", metavar="CSV", help="per-learner extensions (columns learner, extension)")
    g.add_argument("--late-policy", default="none", metavar="POLICY",
                   help="none (default), per-day:PERCENT or zero-after:HOURS, optionally ,grace:MINUTES")
    g.add_argument("--manual", metavar="CSV", help="hand-graded scores (course manual collect writes the file)")


class Plan:
    """The adjustments asked for on the command line, checked before any grading starts."""

    def __init__(self, args):
        self.deadline = late.parse_deadline(args.deadline) if args.deadline else None
        self.policy = late.parse_policy(args.late_policy)
        if args.extensions and self.deadline is None:
            raise ValueError("--extensions needs --deadline")
        self.extensions = late.read_extensions(args.extensions, self.deadline) if args.extensions else {}
        self.manual = manual.read_scores(args.manual) if args.manual else None

    @property
    def wanted(self) -> bool:
        return self.deadline is not None or self.manual is not None

    def apply(self, out) -> list[str]:
        """Apply to the outputs under ``out``; returns lines for the summary."""
        if not self.wanted:
            return []
        lateness = None
        lines = []
        if self.deadline is not None:
            doc = json.loads((Path(out) / "grades.json").read_text(encoding="utf-8"))
            lateness, manifests = {}, {}
            for sub in doc.get("submissions", []):
                path = Path(sub.get("path") or "")
                folder = str(path.parent)
                manifests.setdefault(folder, read_manifest(folder))
                when, source = late.submission_time(path, manifests[folder])
                due = self.extensions.get(sub["submission"], self.deadline)
                lateness[sub["submission"]] = late.assess(when, source, due, self.policy)
            n_late = sum(v.late for v in lateness.values())
            lines.append(f"late: {n_late} of {len(lateness)} after their deadline; policy: {self.policy.describe()}")
        adjust.apply(out, lateness, self.manual)
        if self.manual is not None:
            lines.append(f"hand-graded scores merged for {len(self.manual)} submissions")
        return lines
