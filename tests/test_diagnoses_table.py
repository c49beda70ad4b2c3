"""The diagnosis table (course.grader.compare.diagnoses): its invariants, and that the compare phase walks
it and nothing else (an entry added to the table is called; its order decides)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from course.grader import check
from course.grader.compare import diagnoses
from course.grader.compare.diagnoses import CASE_PHASES, OUTPUT_PHASES, PHASES, TABLE, Entry, entries
from course.grader.compare.findings import Diagnosis


def test_entries_of_a_phase_stay_together_and_phases_come_in_order():
    order = [PHASES.index(e.phase) for e in TABLE]
    assert order == sorted(order), [e.phase for e in TABLE]


def test_every_entry_is_well_formed():
    for e in TABLE:
        assert e.phase in PHASES and e.then in ("go", "skip", "stop") and callable(e.test), e
        assert e.says and e.name, e
        assert set(e.outputs) <= {"array", "number"}, e
        assert not (e.outputs and e.level == "case"), e


def test_the_table_documents_itself():
    """Adding an entry is the whole job: its name and what it says are in the entry itself."""
    by_name = {}
    for e in TABLE:
        by_name.setdefault(e.name, []).append(e.says)
    assert diagnoses.names() == list(by_name)
    assert all(all(len(text) > 10 for text in says) for says in by_name.values())
    compare = sys.modules["course.grader.compare.core"]
    assert "diagnoses.names()" in compare.__doc__


def test_the_levels_split_the_table():
    assert entries("output") + entries("case") == TABLE
    assert {e.phase for e in entries("output")} == set(OUTPUT_PHASES)
    assert {e.phase for e in entries("case")} == set(CASE_PHASES)


def test_applies_by_protocol_and_output_kind():
    e = Entry("x", "values", lambda s: None, "x", protocols=("backward",), outputs=("array",))
    assert e.applies("backward", "array") and not e.applies("call", "array")
    assert not e.applies("backward", "number")


def test_a_new_output_entry_is_called_in_table_order(monkeypatch):
    """Planting an entry before "factor" that skips the rest of its phase wins over it."""
    planted = Entry("doubled_here", "values", lambda s: "planted: doubled" if np.allclose(s.arr, 2 * s.exp) else None,
                    "doubled", then="skip")
    i = next(k for k, e in enumerate(TABLE) if e.name == "factor")
    assert "factor" in check("layers.relu_forward", _doubled_relu, record=False).diagnosis_names
    monkeypatch.setattr(diagnoses, "TABLE", TABLE[:i] + (planted,) + TABLE[i:])
    names = check("layers.relu_forward", _doubled_relu, record=False).diagnosis_names
    assert "doubled_here" in names and "factor" not in names, names


def test_a_new_case_entry_is_called(monkeypatch):
    planted = Entry("planted_case", "after", lambda ctx: Diagnosis("planted_case", "seen", fails=False), "x")
    monkeypatch.setattr(diagnoses, "TABLE", TABLE + (planted,))
    from course.layers import relu_forward

    r = check("layers.relu_forward", relu_forward, record=False)
    assert r.passed and "planted_case" in r.diagnosis_names


def test_a_stop_entry_ends_the_case(monkeypatch):
    planted = Entry("planted_stop", "error", lambda ctx: Diagnosis("planted_stop", "stop here"), "x", then="stop")
    monkeypatch.setattr(diagnoses, "TABLE", (planted,) + TABLE)
    from course.layers import relu_forward

    r = check("layers.relu_forward", relu_forward, record=False)
    assert not r.passed and r.diagnosis_names == ["planted_stop"]


def _doubled_relu(x):
    from course.layers import relu_forward

    out, cache = relu_forward(x)
    return 2 * out, cache


@pytest.mark.parametrize("phase", PHASES)
def test_each_phase_has_an_entry(phase):
    assert entries(phase=phase)
