"""Copy detection survives the easy edits (:mod:`course.instructor.pipeline.copies`,
:mod:`course.instructor.pipeline.canonical`); the measurement is ``benchmarks/bench_copies.py``.

Every reference long enough to be compared, edited the way a copier edits it (renamed, aliased
under a private name, padded with no-ops, independent lines swapped, other comments and
docstrings, all at once), is flagged; the course's solution notebooks and answers written
independently (each passing its exercise's check) are not.
"""

from __future__ import annotations

import textwrap

import copy_corpus
import pytest
from test_instructor import needs_bubblewrap  # noqa: F401  (the session's check that bwrap starts)

from course.grader import get
from course.grader.grading import check
from course.instructor.pipeline import copies


def test_every_edited_copy_of_a_reference_is_flagged():
    edited = copy_corpus.edited_copies()
    assert len(edited) >= len(copy_corpus.EDITS) * 60  # every edit of every long-enough reference
    missed = [(ex_id, name) for ex_id, name, src in edited
              if ex_id not in copy_corpus._flags([(0, "import numpy as np"), (1, src)], [ex_id])]
    assert missed == []


def test_the_solutions_and_independent_answers_are_not_flagged():
    n, flags = copy_corpus.solution_flags()
    assert n >= 100 and flags == []
    for ex_id, src in copy_corpus.INDEPENDENT.items():
        assert copy_corpus._flags([(0, src)], [ex_id]) == {}, ex_id


@pytest.mark.parametrize("ex_id", sorted(copy_corpus.INDEPENDENT))
def test_an_independent_answer_is_correct_and_long_enough_to_be_compared(ex_id):
    import math

    import numpy as np

    space = {"np": np, "math": math}
    exec(textwrap.dedent(copy_corpus.INDEPENDENT[ex_id]), space)  # the test's own code
    name = get(ex_id).reference.__name__
    assert check(ex_id, space[name], record=False).passed
    shape = copies.function_shapes([(0, copy_corpus.INDEPENDENT[ex_id])], [name])[name]
    assert shape.size >= copies.MIN_TOKENS


def _nb_shapes(*sources):
    return copies.notebook_shapes(list(enumerate(sources)))


def test_an_alias_and_a_wrapper_resolve_to_the_code_that_answers():
    body = "".join(f"    t = t * {i} + x.sum() - t / {i + 1}\n" for i in range(1, 12))
    impl = f"def _mine(x):\n    t = 0\n{body}    return t\n"
    aliased = _nb_shapes(impl, "f = _mine")
    wrapped = _nb_shapes(impl, "def f(x):\n    return _mine(x)\n")
    plain = _nb_shapes(impl.replace("_mine", "f"))
    assert aliased["f"][0] == plain["f"][0]
    assert wrapped["f"][1] == plain["f"][0]  # the wrapper, then the notebook's function it calls
    got = copies.classmate_copies({"a": {"x.f": plain["f"]}, "b": {"x.f": wrapped["f"]}, "c": {"x.f": aliased["f"]}})
    assert {k[0] for k in got} == {"a", "b", "c"}


def test_no_ops_renaming_and_swapped_lines_give_the_same_shape_and_real_edits_do_not():
    a = copies.function_shapes([(0, "def f(x, w):\n    n = x.shape[0]\n    d = w.shape[1]\n"
                                    "    y = x @ w\n    return y.reshape(n, d)\n")], ["f"])["f"]
    b = copies.function_shapes([(0, "def f(inp, weight):\n    '''mine'''\n    cols = weight.shape[1]\n    pass\n"
                                    "    rows = inp.shape[0]  # rows\n    ...\n    out = inp @ weight\n"
                                    "    return out.reshape(rows, cols)\n")], ["f"])["f"]
    c = copies.function_shapes([(0, "def f(x, w):\n    n = x.shape[0]\n    d = w.shape[1]\n"
                                    "    y = x @ w\n    return y.reshape(d, n)\n")], ["f"])["f"]
    assert a.tokens == b.tokens and a.tokens != c.tokens
    assert "Ellipsis" not in a.tokens and "Pass" not in b.tokens


@pytest.mark.notebooks
def test_an_edited_copy_is_zeroed_in_every_output_and_the_honest_classmate_is_not(tmp_path, needs_bubblewrap):  # noqa: F811
    import inspect
    import json
    import subprocess
    import sys

    import nbformat
    from test_instructor import ADD_BIAS, CORRECT, IMPORTS, PAIRWISE, interleave, notebook, read_gradebook

    src = textwrap.dedent(inspect.getsource(get("numpy.standardize").reference))
    copier = [IMPORTS, ADD_BIAS, PAIRWISE, "from course.backend import namespace\n" + copy_corpus.everything(src)]
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(notebook(copier), subs / "copier.ipynb")
    nbformat.write(notebook(interleave(CORRECT)), subs / "honest.ipynb")
    out = tmp_path / "grades"
    r = subprocess.run([sys.executable, "-m", "course", "grade", str(subs), "--out", str(out), "--jobs", "1",
                        "--no-progress", "--seed", "7", "--on-copy", "zero", "--format", "csv,json,gradescope"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = read_gradebook(out)
    assert float(rows["honest"]["total"]) == 3 and rows["honest"]["copies"] == ""
    assert float(rows["copier"]["numpy.standardize"]) == 0 and float(rows["copier"]["total"]) == 2
    assert "numpy.standardize" in rows["copier"]["copies"] and "course's reference" in rows["copier"]["copies"]
    details = {s["submission"]: s for s in json.loads((out / "grades.json").read_text())["submissions"]}
    sets = details["copier"]["exercises"]["numpy.standardize"]["sets"]
    assert all(s["passed_cases"] == s["cases"] for s in sets)  # without the trick: full marks
    tests = json.loads((out / "gradescope" / "copier.json").read_text())["tests"]
    assert [t["score"] for t in tests if t["name"].startswith("numpy.standardize")] == [0.0] * len(sets)
