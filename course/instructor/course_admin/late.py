"""Late work: a deadline, per-learner extensions, and a late policy.

- ``--deadline 2026-12-01T23:59`` (ISO 8601; the same clock as the submission times).
- ``--extensions extensions.csv``: columns ``learner`` and ``extension``, an amount (``2d``, ``36h``,
  ``90m``; a bare number is days) or a new deadline in ISO form.
- ``--late-policy``: ``none`` (lateness is recorded, nothing deducted), ``per-day:P`` (P percent
  off per started day late, never below 0), ``zero-after:H`` (full marks up to H hours late, 0
  after). Any policy may end in ``,grace:MIN`` (minutes of grace before anything counts).

Submission times come from ``manifest.csv`` of ``course collect`` (the LMS download's zip entry
times) when the submissions folder has one, else from the notebook file's modification time; the
gradebook says which for every learner.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Policy", "Lateness", "parse_policy", "parse_deadline", "read_extensions", "assess", "submission_time"]

_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhm]?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Policy:
    kind: str = "none"  # none, per-day, zero-after
    value: float = 0.0  # percent per day, or hours
    grace_minutes: float = 0.0

    def describe(self) -> str:
        grace = f", {self.grace_minutes:g} min grace" if self.grace_minutes else ""
        if self.kind == "per-day":
            return f"{self.value:g}% off per started day late{grace}"
        if self.kind == "zero-after":
            return f"full marks up to {self.value:g} h late, 0 after{grace}"
        return f"lateness recorded, no deduction{grace}"


@dataclass(frozen=True)
class Lateness:
    """How late one submission was, and what the policy makes of it."""

    submitted_at: dt.datetime | None
    deadline: dt.datetime
    time_source: str
    hours_late: float
    factor: float  # multiply the score by this
    note: str

    @property
    def late(self) -> bool:
        return self.hours_late > 0


def parse_policy(text: str) -> Policy:
    """``none``, ``per-day:P``, ``zero-after:H``, optionally ``,grace:MIN``; ValueError otherwise."""
    parts = [p.strip() for p in str(text or "none").lower().split(",") if p.strip()]
    grace, kind, value = 0.0, "none", 0.0
    for p in parts:
        name, _, arg = p.partition(":")
        try:
            number = float(arg) if arg else None
        except ValueError:
            number = None
        if name == "grace" and number is not None and number >= 0:
            grace = number
        elif name == "none" and not arg:
            kind = "none"
        elif name in ("per-day", "zero-after") and number is not None and number >= 0:
            kind, value = name, number
            if name == "per-day" and number > 100:
                raise ValueError(f"--late-policy: per-day takes a percentage from 0 to 100, got {arg}")
        else:
            raise ValueError(f"--late-policy: expected none, per-day:PERCENT or zero-after:HOURS "
                             f"(optionally ,grace:MINUTES), got {text!r}")
    return Policy(kind, value, grace)


def parse_deadline(text: str, what: str = "--deadline") -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise ValueError(f"{what}: expected an ISO date and time such as 2026-12-01T23:59, got {text!r}") from None


def _naive(t: dt.datetime) -> dt.datetime:
    return t.astimezone().replace(tzinfo=None) if t.tzinfo else t


def read_extensions(path, deadline: dt.datetime) -> dict[str, dt.datetime]:
    """``{learner: their own deadline}`` from an extensions CSV (see the module docstring)."""
    out = {}
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"learner", "extension"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: an extensions file needs the columns 'learner' and 'extension'; "
                             f"found {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            learner, ext = (row.get("learner") or "").strip(), (row.get("extension") or "").strip()
            if not learner:
                continue
            m = _AMOUNT.match(ext)
            if m:
                unit = {"d": 24.0, "h": 1.0, "m": 1 / 60, "": 24.0}[m[2].lower()]
                out[learner] = deadline + dt.timedelta(hours=float(m[1]) * unit)
            else:
                try:
                    out[learner] = dt.datetime.fromisoformat(ext)
                except ValueError:
                    raise ValueError(f"{path}, line {line}: extension {ext!r} for {learner!r} is neither an "
                                     "amount (2d, 36h, 90m) nor an ISO date and time") from None
    return out


def submission_time(path, manifest: dict | None = None) -> tuple[dt.datetime | None, str]:
    """(time, where it came from) for one notebook: its manifest row, else the file's mtime."""
    row = (manifest or {}).get(Path(path).stem)
    if row and row.get("submitted_at"):
        try:
            return dt.datetime.fromisoformat(row["submitted_at"]), row.get("time_source") or "manifest"
        except ValueError:
            pass
    try:
        return dt.datetime.fromtimestamp(Path(path).stat().st_mtime), "file modification time"
    except OSError:
        return None, "unknown"


def assess(submitted_at, time_source: str, deadline: dt.datetime, policy: Policy) -> Lateness:
    """Apply ``policy`` to one submission's time against its (possibly extended) deadline."""
    if submitted_at is None:
        return Lateness(None, deadline, time_source, 0.0, 1.0, "submission time unknown: no late policy applied")
    late = (_naive(submitted_at) - _naive(deadline)).total_seconds() / 3600 - policy.grace_minutes / 60
    hours = max(0.0, late)
    if hours == 0:
        return Lateness(submitted_at, deadline, time_source, 0.0, 1.0, "on time")
    if policy.kind == "per-day":
        days = math.ceil(hours / 24)
        factor = max(0.0, 1 - days * policy.value / 100)
    elif policy.kind == "zero-after":
        factor = 1.0 if hours <= policy.value else 0.0
    else:
        factor = 1.0
    note = (f"submitted {hours:.1f} h after the deadline {deadline.isoformat(timespec='minutes')} "
            f"({time_source}); policy: {policy.describe()}; score x {factor:g}")
    return Lateness(submitted_at, deadline, time_source, round(hours, 3), factor, note)
