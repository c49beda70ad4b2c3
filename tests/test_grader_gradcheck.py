"""Lesson 04's own exercise, gradcheck.find_the_bugs: the answer key agrees with the broken
functions shown in the lesson (checked with finite differences), and wrong or malformed answers
are explained function by function."""

import ast
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course.gradcheck import numerical_gradient, relative_error
from course.grader import check, get
from course.grader.topics.gradcheck import BUGS, FUNCTIONS, find_the_bugs

ID = "gradcheck.find_the_bugs"
LESSON = Path(__file__).resolve().parents[1] / "solutions" / "04_gradient_checking.ipynb"
SHOWN = {
    "affine_forward", "affine_backward_A", "center_scale_forward", "center_scale_backward_B", "regression_loss_C",
}


@pytest.fixture(autouse=True)
def _progress_off(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


@pytest.fixture(scope="module")
def shown():
    """The broken functions exactly as the lesson shows them (function definitions only)."""
    if not LESSON.exists():
        pytest.skip(f"{LESSON.name} is not there")
    nb = nbformat.read(LESSON, as_version=4)
    namespace = {"np": np}
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.source.lstrip().startswith("%"):
            continue
        tree = ast.parse(cell.source)
        # top level, or inside a `with needs(...):` block (the lesson's demo guard)
        body = [n for node in tree.body for n in (node.body if isinstance(node, ast.With) else [node])]
        defs = [node for node in body if isinstance(node, ast.FunctionDef) and node.name in SHOWN]
        exec(compile(ast.Module(body=defs, type_ignores=[]), str(LESSON), "exec"), namespace)
    assert SHOWN <= set(namespace)
    return namespace


def _errors_and_ratios(loss, inputs, grads):
    out = {}
    for name, x in inputs.items():
        num = numerical_gradient(lambda z, name=name: loss(**{**inputs, name: z}), x)
        out[name] = (relative_error(num, grads[name]), num / grads[name])
    return out


def _found(shown, which):
    rng = np.random.default_rng(7)
    if which == "A":
        x, W, b, dout = rng.standard_normal((6, 4)), rng.standard_normal((4, 4)), rng.standard_normal(4), \
            rng.standard_normal((6, 4))
        grads = shown["affine_backward_A"](dout, shown["affine_forward"](x, W, b)[1])
        return _errors_and_ratios(
            lambda x, W, b: float(np.sum(dout * shown["affine_forward"](x, W, b)[0])),
            {"x": x, "W": W, "b": b}, {"x": grads[0], "W": grads[1], "b": grads[2]},
        ), ("dx", "dW", "db")
    if which == "B":
        x, gamma, beta, dout = rng.standard_normal((5, 3)), rng.standard_normal(3), rng.standard_normal(3), \
            rng.standard_normal((5, 3))
        grads = shown["center_scale_backward_B"](dout, shown["center_scale_forward"](x, gamma, beta)[1])
        return _errors_and_ratios(
            lambda x, gamma, beta: float(np.sum(dout * shown["center_scale_forward"](x, gamma, beta)[0])),
            {"x": x, "gamma": gamma, "beta": beta}, {"x": grads[0], "gamma": grads[1], "beta": grads[2]},
        ), ("dx", "dgamma", "dbeta")
    X, w, b, t = rng.standard_normal((7, 3)), rng.standard_normal(3), rng.standard_normal(1), rng.standard_normal(7)
    _, dw, db = shown["regression_loss_C"](X, w, b, t)
    return _errors_and_ratios(
        lambda w, b: shown["regression_loss_C"](X, w, b, t)[0], {"w": w, "b": b}, {"w": dw, "b": db}
    ), ("dw", "db")


@pytest.mark.parametrize("which", sorted(FUNCTIONS))
def test_answer_key_matches_the_functions_in_the_lesson(shown, which):
    found, names = _found(shown, which)
    grads, (wrong, bug) = FUNCTIONS[which]
    assert tuple(grads) == names
    for grad_name, (err, ratio) in zip(names, found.values()):
        if grad_name == wrong:
            assert err > 1e-2, (which, grad_name, err)
            constant = np.allclose(ratio, ratio.flat[0])
            assert constant == (bug in ("missing 1/N", "wrong sign")), (which, ratio)
            if bug == "missing 1/N":
                assert ratio.flat[0] == pytest.approx(1 / 7)  # N = 7 in C
        else:
            assert err < 1e-7, (which, grad_name, err)


def test_registered_for_lesson_04():
    ex = get(ID)
    assert ex.lesson == "04_gradient_checking" and ex.points == 3
    assert check(ID, find_the_bugs, record=False).passed


def test_answers_are_read_leniently():
    answers = {"A": ("DX", " Missing  Transpose"), "B": ("dGamma", "WRONG AXIS"), "C": ["dW", "missing 1/n"]}
    assert check(ID, lambda: answers, record=False).passed


def test_each_wrong_answer_is_explained_and_scored_separately():
    answers = {"A": ("dW", "wrong sign"), "B": ("dgamma", "wrong sign"), "C": ("dw", "missing 1/N")}
    result = check(ID, lambda: answers, record=False)
    assert not result.passed
    assert result.score == pytest.approx(1.0)
    messages = {d.name: d.message for d in result.diagnoses}
    assert "agrees with finite differences" in messages["answer_a"]
    assert "right gradient, but not a wrong sign" in messages["answer_b"]
    assert "answer_c" not in messages
    # the expected answer is never shown
    assert "missing transpose" not in str(result) and "'dx'" not in str(result)


@pytest.mark.parametrize(
    "answers, needle",
    [
        (None, "forget the `return`"),
        ([("dx", "wrong axis")], "should return a dict"),
        ({"A": "dx"}, "expected a pair"),
        ({"A": ("dz", "wrong axis")}, "not one of them"),
        ({"A": ("dx", "off by one")}, "choose the bug from"),
    ],
)
def test_malformed_answers_say_what_is_expected(answers, needle):
    result = check(ID, lambda: answers, record=False)
    assert not result.passed
    assert any(needle in d.message for d in result.diagnoses)


def test_not_attempted():
    def stub():
        raise NotImplementedError

    assert check(ID, stub, record=False).status == "not_attempted"
    assert len(BUGS) == 4
