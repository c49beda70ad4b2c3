"""Instructor grading without kernels: the wire format, notebook reading, hidden tests, outputs."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat import v4

from course.grader import cases, exercises, get, run
from course.grader.run.runner import ErrorInfo, Opaque, Outcome
from course.instructor.pipeline import extract, hidden, outputs
from course.instructor.pipeline.records import (
    ExerciseGrade,
    GradingError,
    SetGrade,
    SubmissionGrade,
    collect_submissions,
    read_notebook,
)
from course.instructor.pipeline.stages import _compare
from course.instructor.sandbox.inside import wire

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------
# wire


def test_wire_round_trip_keeps_types_and_values(tmp_path):
    outs = [
        Outcome(outputs=(np.arange(6.0).reshape(2, 3), {"dW": np.ones(2, np.float32), 3: [1, 2.5, None]}),
                mutated=("x",), extra={"fd": {"dx": np.zeros((2, 2))}, "nondeterministic": True}),
        Outcome(outputs=np.float64(2.5), extra={"state": {"v": np.array([1 + 2j])}}),
        Outcome(outputs=Opaque("Value", "Value(data=1.0)")),
        Outcome(error=ErrorInfo("not_attempted", "NotImplementedError", "write it", "Traceback ...", "")),
        Outcome(outputs=[True, "text", float("nan"), complex(1, -1), np.int64(7)]),
    ]
    wire.dump(outs, tmp_path / "o.json", {"found": True})
    back, meta = wire.load(tmp_path / "o.json")
    assert meta == {"found": True}
    a, d = back[0].outputs
    np.testing.assert_array_equal(a, np.arange(6.0).reshape(2, 3))
    assert d["dW"].dtype == np.float32 and d[3] == [1, 2.5, None]
    assert back[0].mutated == ("x",) and back[0].extra["nondeterministic"] is True
    assert isinstance(back[1].outputs, np.float64) and back[1].outputs == 2.5
    assert back[1].extra["state"]["v"][0] == 1 + 2j
    assert back[2].outputs == Opaque("Value", "Value(data=1.0)")
    assert back[3].error.not_implemented and back[3].outputs is None
    got = back[4].outputs
    assert got[:2] == [True, "text"] and np.isnan(got[2]) and got[3] == complex(1, -1) and got[4] == 7


def test_wire_outcomes_grade_like_in_process_ones(tmp_path):
    ex = get("numpy.standardize")
    case_list = cases(ex, 3)
    outs = run(ex, lambda X, eps=1e-8: 2 * X, case_list)
    wire.dump(outs, tmp_path / "o.json")
    back, _ = wire.load(tmp_path / "o.json")
    from course.grader import grade_outcomes

    a, b = grade_outcomes(ex, 3, case_list, outs), grade_outcomes(ex, 3, case_list, back)
    assert a.n_passed == b.n_passed and a.diagnosis_names == b.diagnosis_names


def _doc(tmp_path, outcomes, arrays=0):
    (tmp_path / "o.json").write_text(json.dumps({"$": "outcomes", "version": 1, "arrays": arrays, "meta": {},
                                                 "outcomes": outcomes}))
    return tmp_path / "o.json"


@pytest.mark.parametrize("outcome", [
    {"outputs": {"$": "pickle", "data": "gASV"}},
    {"outputs": {"$": "array", "a": 5}},
    {"outputs": {"$": "array", "a": "../../etc/passwd"}},
    {"outputs": {"__reduce__": "os.system"}},
    {"error": {"kind": "passed", "type": "x", "message": "y"}},
    {"mutated": [1, 2]},
    {"extra": [1, 2]},
])
def test_wire_rejects_forged_records(tmp_path, outcome):
    with pytest.raises(wire.WireError):
        wire.load(_doc(tmp_path, [outcome]))


def test_wire_rejects_object_arrays_links_fifos_and_deep_nesting(tmp_path):
    (tmp_path / "o.arrays").mkdir()
    np.save(tmp_path / "o.arrays" / "0.npy", np.array([print], dtype=object), allow_pickle=True)
    with pytest.raises(wire.WireError, match="array 0"):
        wire.load(_doc(tmp_path, [{"outputs": {"$": "array", "a": 0}}], arrays=1))
    os.remove(tmp_path / "o.arrays" / "0.npy")
    os.symlink("/dev/zero", tmp_path / "o.arrays" / "0.npy")
    with pytest.raises(wire.WireError):
        wire.load(_doc(tmp_path, [{"outputs": {"$": "array", "a": 0}}], arrays=1))
    os.remove(tmp_path / "o.arrays" / "0.npy")
    os.mkfifo(tmp_path / "o.arrays" / "0.npy")
    with pytest.raises(wire.WireError, match="not a regular file"):
        wire.load(_doc(tmp_path, [{"outputs": {"$": "array", "a": 0}}], arrays=1))
    deep = 0
    for _ in range(100):
        deep = {"$": "tuple", "v": [deep]}
    with pytest.raises(wire.WireError):
        wire.load(_doc(tmp_path, [{"outputs": deep}]))
    (tmp_path / "o.json").write_text("[" * 100000)
    with pytest.raises(wire.WireError):
        wire.load(tmp_path / "o.json")


def test_malformed_outcomes_fail_their_case_not_the_batch():
    from course.instructor.pipeline.plan import TestSet

    ex = get("numpy.add_bias")
    case_list = cases(ex, 1)
    refs = run(ex, ex.reference, case_list)
    ts = TestSet("seed 1", False, "visible", 1, case_list, refs)
    weird = [Outcome(outputs={"$": 1}), Outcome(outputs=Opaque("X", "x")), Outcome(outputs=refs[2].outputs)]
    result = _compare(ex, ts, weird)  # one missing outcome is padded
    assert len(result.cases) == len(case_list) and result.n_passed == 1


# ---------------------------------------------------------------------------------------------
# extract


def test_check_calls_and_the_solution_mapping():
    src = 'check("layers.relu_backward", relu_backward, forward=relu_forward)\nx = 1\ncheck("a.b", f)'
    assert extract.check_calls(src) == [
        extract.Binding("layers.relu_backward", "relu_backward", "relu_forward"),
        extract.Binding("a.b", "f", None),
    ]
    assert extract.check_calls("%matplotlib inline\ncheck('a.b', g)") == [extract.Binding("a.b", "g")]
    assert extract.check_calls("def broken(:") == []
    nb = nbformat.read(REPO / "solutions" / "00_getting_started.ipynb", as_version=4)
    assert list(extract.exercise_functions(nb)) == [ex.id for ex in exercises("00_getting_started")]


def test_is_check_only():
    assert extract.is_check_only('check("a.b", f)')
    assert extract.is_check_only('from course.grader import check\ncheck("a.b", f, forward=g)')
    assert not extract.is_check_only('check("a.b", f)\nf = None')
    assert not extract.is_check_only('check("a.b", make())')
    assert not extract.is_check_only("")


def test_notebook_lesson(tmp_path):
    nb = v4.new_notebook(metadata={"course": {"lesson": "03_backprop"}})
    assert extract.notebook_lesson(nb, "x.ipynb") == ("03_backprop", "metadata")
    nb = v4.new_notebook()
    assert extract.notebook_lesson(nb, "alice_00_getting_started.ipynb", ["00_getting_started"])[0] == \
        "00_getting_started"
    nb.cells = [v4.new_code_cell('check("numpy.add_bias", add_bias)')]
    assert extract.notebook_lesson(nb, "homework.ipynb") == ("00_getting_started", "check cells")
    assert extract.notebook_lesson(v4.new_notebook(), "homework.ipynb")[0] is None


def _scan(sources, ids=("numpy.add_bias",)):
    b = {i: extract.Binding(i, get(i).reference.__name__) for i in ids}
    return extract.scan(list(enumerate(sources)), b, {i: get(i) for i in ids})


@pytest.mark.parametrize("sources", [
    ["from course.grader.topics.numpy_basics import add_bias"],
    ["from course.grader.topics.numpy_basics import add_bias as ab\ndef add_bias(X, b):\n    return ab(X, b)"],
    ["import course.grader.topics.numpy_basics as nb_",
     "def helper(X, b):\n    return nb_.add_bias(X, b)\n\ndef add_bias(X, b):\n    return helper(X, b)"],
    ["import course.grader.topics.numpy_basics\nadd_bias = course.grader.topics.numpy_basics.add_bias"],
])
def test_scan_finds_the_reference_implementation(sources):
    f = _scan(sources)
    assert "numpy.add_bias" in f.uses_reference


def test_scan_follows_globals_not_the_functions_own_locals():
    demo = "from course.grader.topics.numpy_basics import add_bias as ref\nout = ref(1, 2)"
    f = _scan(["def add_bias(X, b):\n    out = X + b\n    return out", demo])  # a local `out`
    assert not f.uses_reference
    f = _scan(["def add_bias(X, b):\n    return out(X, b)", demo.replace("ref(1, 2)", "ref")])  # the global
    assert "numpy.add_bias" in f.uses_reference


def test_scan_is_quiet_for_honest_code_and_the_real_lessons():
    f = _scan(["import numpy as np\nfrom course.grader import check, get, run\n"
               "from course.grader.topics.numpy_basics import add_bias as ref  # imported, not used\n"
               "def add_bias(X, b):\n    return X + b\ncheck('numpy.add_bias', add_bias)"])
    assert not f.uses_reference and not f.tampering and not f.remarks
    # a demo that binds `out` from the reference at top level; the learner's own `out` is a local
    f = _scan(["from course.grader.topics.numpy_basics import add_bias as ref\nimport numpy as np\n"
               "for n in (2, 3):\n    out = ref(np.ones((n, 2)), np.ones(2))\n",
               "def add_bias(X, b):\n    out = X + b\n    return out"])
    assert not f.uses_reference
    f = _scan(["from course.grader.topics.numpy_basics import add_bias as ref\nout = ref\n",
               "def add_bias(X, b):\n    return out(X, b)"])  # the top-level name itself: found
    assert "numpy.add_bias" in f.uses_reference
    for path in sorted((REPO / "solutions").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        bindings = extract.exercise_functions(nb)
        f = extract.scan(extract.code_cells(nb), bindings, {i: get(i) for i in bindings})
        assert not f.uses_reference and not f.tampering, (path.name, f)


def test_scan_finds_writes_into_the_grader_and_remarks():
    f = _scan(["import course.grader.run.runner as R\nR.run = None", "import numpy as np\nnp.allclose = 1",
               "exec('1')", "setattr(course.grader, 'check', 1)", "get('x').reference", "import sys\nsys.setprofile(None)"])
    assert len(f.tampering) == 4 and any("course.grader.run.runner.run" in t for t in f.tampering)
    assert any("monkeypatches `numpy.allclose`" in r for r in f.remarks)
    assert any("exec" in r for r in f.remarks)


# ---------------------------------------------------------------------------------------------
# files


def test_read_notebook_reasons(tmp_path):
    cases_ = {"a.ipynb": "", "b.ipynb": "{oops", "c.ipynb": '{"x": 1}', "d.ipynb": b"\xff\xfe\x00"}
    for name, text in cases_.items():
        p = tmp_path / name
        p.write_bytes(text if isinstance(text, bytes) else text.encode())
        nb, why = read_notebook(p)
        assert nb is None and name in why and ("not a notebook" in why), why
    nbformat.write(v4.new_notebook(), tmp_path / "e.ipynb")
    nb, why = read_notebook(tmp_path / "e.ipynb")
    assert nb is not None and why == ""


def test_collect_submissions_names(tmp_path):
    for d in ("a", "b", "a/sub"):
        (tmp_path / d).mkdir(parents=True, exist_ok=True)
    for f in ("a/03_backprop.ipynb", "b/03_backprop.ipynb", "a/sub/x.ipynb", "a/.ipynb_checkpoints/y.ipynb"):
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f).write_text("{}")
    got = collect_submissions([tmp_path / "a", tmp_path / "b", tmp_path / "a" / "sub" / "x.ipynb"])
    assert [n for n, _ in got] == ["a/03_backprop", "b/03_backprop", "sub/x"]
    with pytest.raises(GradingError, match="nope"):
        collect_submissions([tmp_path / "nope"])


def test_hidden_file_validation(tmp_path):
    p = tmp_path / "h.json"
    p.write_text(json.dumps({"*": {"seeds": [5]}, "numpy.add_bias": {
        "seeds": [6, 5], "visibility": "hidden", "cases": [{"args": [[[1.0, 2.0]], [1, 2]], "note": "ints"}]}}))
    h = hidden.load(p, {"numpy.add_bias"})
    sets = h.for_exercise("numpy.add_bias")
    assert [(k, v) for k, _, v in sets] == [("seed", "after_published"), ("seed", "hidden"), ("cases", "hidden")]
    case = sets[2][1][0]
    assert case.args[0].dtype == np.float64 and case.args[1].dtype == np.int64 and case.note == "ints"
    assert [k for k, *_ in h.for_exercise("numpy.standardize")] == ["seed"]
    for bad, msg in [({"nope.x": {}}, "no such exercise"), ({"*": {"seeds": [-1]}}, "seeds"),
                     ({"*": {"visibility": "later"}}, "visibility"), ({"*": {"cases": [{"args": []}]}}, "'\\*'"),
                     ({"numpy.add_bias": {"cases": [{"argz": []}]}}, "unknown keys"), ([], "object")]:
        p.write_text(json.dumps(bad))
        with pytest.raises(hidden.HiddenError, match=msg):
            hidden.load(p, {"numpy.add_bias"})


# ---------------------------------------------------------------------------------------------
# outputs


def _grade(name, scores, status="graded"):
    g = SubmissionGrade(name, f"/x/{name}.ipynb", "00_getting_started", status)
    for (i, s), hid in zip(scores.items(), (False, True, False)):
        e = ExerciseGrade(i, i.title(), 1.0, s, "passed" if s == 1 else "failed")
        e.sets = [SetGrade("seed 1", False, "visible", 1, 4, int(4 * s * (2 if hid else 1) / 2 if hid else 4 * s)),
                  *([SetGrade("hidden seed 2", True, "after_due_date", 2, 4, 2)] if hid else [])]
        g.exercises[i] = e
    return g


def test_csv_gradescope_and_feedback(tmp_path):
    ids = ["numpy.add_bias", "numpy.standardize", "numpy.pairwise_sq_dists"]
    grades = [_grade("bob", dict(zip(ids, (1.0, 0.5, 0.0)))), _grade("alice", dict(zip(ids, (1.0, 1.0, 1.0))))]
    grades.sort(key=lambda g: g.name)
    info = {"seed": 1, "exercises": ids, "seconds": 2.0, "jobs": 1}
    outputs.write_all(tmp_path, grades, info, ["csv", "json", "gradescope"])
    with open(tmp_path / "gradebook.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["submission", "lesson", *ids, "total", "max", "status", "copies", "notes"]
    assert [r[0] for r in rows[1:]] == ["alice", "bob"] and rows[2][2:7] == ["1", "0.5", "0", "1.5", "3"]
    gs = json.loads((tmp_path / "gradescope" / "bob.json").read_text())
    assert gs["score"] == 1.5 and sum(t["max_score"] for t in gs["tests"]) == pytest.approx(3)
    assert {t["visibility"] for t in gs["tests"]} == {"visible", "after_due_date"}
    assert not (tmp_path / "results.json").exists()  # only for a single submission
    assert "# Feedback: bob" in (tmp_path / "feedback" / "bob.md").read_text()
    assert "mean score 75.0%" in outputs.summary(grades, info)


def test_feedback_for_an_unattempted_exercise_is_one_line_not_a_traceback_per_case():
    from course.grader import grade_outcomes

    ex = get("numpy.add_bias")
    case_list = cases(ex, 4)

    def stub(X, b):
        raise NotImplementedError("write your solution here")

    result = grade_outcomes(ex, 4, case_list, run(ex, stub, case_list))
    g = SubmissionGrade("carol", "/x/carol.ipynb", "00_getting_started", "graded")
    e = ExerciseGrade(ex.id, ex.title, 1.0, 0.0, "not_attempted")
    e.sets = [SetGrade("seed 4", False, "visible", 4, len(case_list), 0, result)]
    g.exercises[ex.id] = e
    page = outputs.feedback_markdown(g, {"seed": 4})
    assert "not attempted yet" in page
    assert "Traceback" not in page and "case 1" not in page


def test_a_record_written_before_the_folders_loads_under_the_new_module_names(tmp_path, monkeypatch):
    """``--resume`` over an output folder graded before the grader's modules moved into folders:
    the old module names in a record's pickle are read as the new ones (store.RENAMED)."""
    import pickle
    import sys

    from course.grader.compare import findings
    from course.grader.run import outcome
    from course.instructor.pipeline import records
    from course.instructor.pipeline.store import RENAMED, Store

    nb = tmp_path / "a.ipynb"
    nb.write_text("{}")
    grade = records.SubmissionGrade("ada", str(nb))
    ex = records.ExerciseGrade("02_x.y", "x", 1.0, 0.0, "failed", notes=[findings.Diagnosis("shape", "Your x is (2,)")])
    ex.sets.append(records.SetGrade("seed", False, "visible", 1, 1))
    grade.exercises["02_x.y"] = ex
    grade.notes.append(outcome.ErrorInfo("exception", "E", "m"))
    old = {v: k for k, v in RENAMED.items()}
    for mod in (records, findings, outcome):
        monkeypatch.setitem(sys.modules, old[mod.__name__], mod)
        for cls in (records.SubmissionGrade, records.ExerciseGrade, records.SetGrade, findings.Diagnosis,
                    outcome.ErrorInfo):
            if cls.__module__ == mod.__name__:
                monkeypatch.setattr(cls, "__module__", old[mod.__name__])
    data = pickle.dumps(grade)
    monkeypatch.undo()
    assert all(name.encode() in data for name in old.values())
    store = Store(tmp_path / "out", resume=True)
    (store.records / f"{store.key('ada', nb)}.pkl").write_bytes(data)
    back = store.load("ada", nb)
    assert isinstance(back, records.SubmissionGrade) and back.name == "ada"
    assert back.exercises["02_x.y"].notes[0] == findings.Diagnosis("shape", "Your x is (2,)")
    assert back.notes[0] == outcome.ErrorInfo("exception", "E", "m")
    (store.records / f"{store.key('ada', nb)}.pkl").write_bytes(data.replace(b"course.grader.findings", b"course.grader.findingz"))
    assert store.load("ada", nb) is None  # unreadable: graded again
