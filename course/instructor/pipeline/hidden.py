"""Hidden tests: extra cases per exercise, used only at grading time (``--hidden FILE``).

The file is JSON. Keys are exercise ids, or ``"*"`` for every exercise; each entry may give

- ``seeds``: more seeds: the exercise's own case generator with other values (and, for most
  exercises, other shapes), e.g. ``[101, 202]``;
- ``cases``: explicit cases, each ``{"args": [...], "kwargs": {...}, "note": "...", "extra": {...},
  "fd": true}``; nested lists of numbers become NumPy arrays (float64 when any number is written
  with a decimal point or exponent, int64 when all are integers: write ``1.0``, not ``1``, for a
  float input);
- ``visibility``: what a learner sees of these tests: ``"hidden"`` (nothing), ``"after_due_date"``,
  ``"after_published"`` (the default) or ``"visible"`` (Gradescope's names; the feedback files show
  details only for ``"visible"``, a count of passed cases otherwise, nothing for ``"hidden"``).

Example::

    {
      "*": {"seeds": [9001]},
      "layers.relu_forward": {
        "seeds": [101, 202],
        "cases": [{"args": [[[-1.0, 0.0, 2.5]]], "note": "a zero entry"}],
        "visibility": "after_due_date"
      }
    }
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...grader.cases import Case

__all__ = ["HiddenError", "HiddenTests", "load", "VISIBILITIES"]

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
_KEYS = {"seeds", "cases", "visibility"}
_CASE_KEYS = {"args", "kwargs", "note", "extra", "fd", "N"}


class HiddenError(ValueError):
    """The hidden-tests file is not valid (the message names the file and the entry)."""


@dataclass
class HiddenTests:
    """Per exercise id (and ``"*"``): seeds, explicit cases, visibility."""

    entries: dict = field(default_factory=dict)

    def for_exercise(self, exercise_id: str) -> list[tuple[str, object, str]]:
        """The exercise's hidden test sets: ``("seed", seed, visibility)`` and
        ``("cases", [Case, ...], visibility)``; each entry's visibility applies to its own tests."""
        out: list = []
        seen: set = set()
        for key in ("*", exercise_id):
            e = self.entries.get(key)
            if e is None:
                continue
            visibility = e["visibility"] or "after_published"
            for s in e["seeds"]:
                if s not in seen:
                    seen.add(s)
                    out.append(("seed", s, visibility))
            if e["cases"]:
                out.append(("cases", e["cases"], visibility))
        return out


def _array(value):
    if isinstance(value, list):
        try:
            a = np.array(value)
        except ValueError:  # ragged: keep a list of converted items
            return [_array(v) for v in value]
        if a.dtype.kind in "iu":
            return a.astype(np.int64)
        if a.dtype.kind in "fb":
            return a.astype(np.float64) if a.dtype.kind == "f" else a
        return [_array(v) for v in value]
    if isinstance(value, dict):
        return {k: _array(v) for k, v in value.items()}
    return value


def _case(raw, where: str) -> Case:
    if not isinstance(raw, dict):
        raise HiddenError(f"{where}: a case is an object with 'args', got {type(raw).__name__}")
    unknown = set(raw) - _CASE_KEYS
    if unknown:
        raise HiddenError(f"{where}: unknown keys {sorted(unknown)} (allowed: {sorted(_CASE_KEYS)})")
    args = raw.get("args", [])
    if not isinstance(args, list):
        raise HiddenError(f"{where}: 'args' must be a list of the positional arguments")
    kwargs = raw.get("kwargs", {})
    extra = raw.get("extra", {})
    if not isinstance(kwargs, dict) or not isinstance(extra, dict):
        raise HiddenError(f"{where}: 'kwargs' and 'extra' must be objects")
    return Case(
        args=tuple(_array(a) for a in args),
        kwargs={k: _array(v) for k, v in kwargs.items()},
        note=str(raw.get("note", "hidden case")),
        N=raw.get("N"),
        fd=bool(raw.get("fd", True)),
        extra={k: _array(v) for k, v in extra.items()},
    )


def load(path, known_ids=None) -> HiddenTests:
    """Read and check a hidden-tests file. ``known_ids``: exercise ids that may appear."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HiddenError(f"{path}: cannot read ({exc.strerror})") from None
    except ValueError as exc:
        raise HiddenError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise HiddenError(f"{path}: expected an object keyed by exercise id")
    out = HiddenTests()
    for key, entry in doc.items():
        where = f"{path}: {key!r}"
        if known_ids is not None and key != "*" and key not in known_ids:
            raise HiddenError(f"{where}: no such exercise")
        if not isinstance(entry, dict) or set(entry) - _KEYS:
            raise HiddenError(f"{where}: expected an object with some of {sorted(_KEYS)}")
        seeds = entry.get("seeds", [])
        if not isinstance(seeds, list) or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                                  for s in seeds):
            raise HiddenError(f"{where}: 'seeds' must be a list of non-negative integers")
        visibility = entry.get("visibility")
        if visibility is not None and visibility not in VISIBILITIES:
            raise HiddenError(f"{where}: visibility must be one of {VISIBILITIES}, got {visibility!r}")
        raw_cases = entry.get("cases", [])
        if not isinstance(raw_cases, list):
            raise HiddenError(f"{where}: 'cases' must be a list")
        if key == "*" and raw_cases:
            raise HiddenError(f"{where}: explicit cases belong to one exercise, not '*'")
        cases = [_case(c, f"{where} case {i + 1}") for i, c in enumerate(raw_cases)]
        out.entries[key] = {"seeds": seeds, "cases": cases, "visibility": visibility}
    return out
