"""Every diagnosis is triggered by a deliberately wrong implementation, names itself, and costs
the points it should; nothing a learner writes can crash the grader."""

import math
import os

import numpy as np
import pytest

from course.grader import check, get
from course.grader.compare.core import DIAGNOSES
from course.grader.run.runner import capture
from course.layers import linear_forward, relu_forward, sigmoid_forward
from course.optim import adam, adamw


@pytest.fixture(autouse=True)
def _progress_off(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


def diagnosed(result, name):
    assert name in result.diagnosis_names, str(result)
    return next(d.message for d in result.diagnoses if d.name == name)


# ---------------------------------------------------------------------------------------------
# Wrong linear backwards


def _lin(dx=None, dW=None, db=None):
    def backward(dout, cache):
        x, W, b = cache
        return (
            dx(dout, x, W) if dx else dout @ W.T,
            dW(dout, x, W) if dW else x.T @ dout,
            db(dout) if db else dout.sum(axis=0),
        )

    return backward


def test_transposed():
    r = check("layers.linear_backward", _lin(dW=lambda d, x, W: (x.T @ d).T))
    msg = diagnosed(r, "transposed")
    assert "looks transposed" in msg and "should have shape" in msg
    assert r.score == 0


def test_wrong_shape():
    r = check("layers.linear_forward", lambda x, W, b: ((x @ W + b)[:, :1], None))
    assert "should have shape" in diagnosed(r, "shape")
    r = check("layers.linear_backward", _lin(db=lambda d: d.sum(axis=0, keepdims=True)))
    assert "keepdims" in diagnosed(r, "shape")


def test_sign_flip():
    r = check("layers.linear_backward", _lin(dx=lambda d, x, W: -(d @ W.T)))
    assert diagnosed(r, "sign") == "Your dx values are exactly -1 times the expected ones: check the sign."
    assert r.score == 0


def test_factor_batch_size():
    r = check("layers.linear_backward", _lin(dW=lambda d, x, W: len(x) * (x.T @ d)))
    msg = diagnosed(r, "factor")
    assert "did you forget to divide by the batch size N?" in msg
    assert "(N = " in msg
    assert 0 < r.score < r.max_score  # the N = 1 case is right


def test_factor_reported_otherwise():
    r = check("layers.linear_backward", _lin(dx=lambda d, x, W: 3.0 * (d @ W.T)))
    assert "3 times the expected one" in diagnosed(r, "factor")


def test_bias_summed_over_wrong_axis():
    r = check("layers.linear_backward", _lin(db=lambda d: d.sum(axis=1)))
    assert "axis" in diagnosed(r, "bias_axis")
    assert r.score < r.max_score


def test_nan_says_for_which_inputs():
    def softmax(x):
        e = np.exp(x)
        return e / e.sum(axis=1, keepdims=True)

    r = check("layers.softmax", softmax)
    msg = diagnosed(r, "nan")
    assert "large scores" in msg and "overflow" in msg
    assert 0 < r.score < r.max_score


def test_none_wrong_type_and_wrong_count():
    r = check("layers.softmax", lambda x: None)
    assert "return" in diagnosed(r, "none")
    r = check("layers.softmax", lambda x: x.tolist())
    assert "list" in diagnosed(r, "type")
    r = check("layers.linear_backward", lambda dout, cache: (dout, dout))
    assert "should return 3 values" in diagnosed(r, "count")
    r = check("layers.relu_forward", lambda x: np.maximum(x, 0))
    assert "(out, cache)" in diagnosed(r, "count")
    r = check("layers.linear_backward", lambda dout, cache: None)
    assert "return" in diagnosed(r, "count")
    assert r.score == 0


def test_inputs_mutated_in_place():
    def relu(x):
        x[x < 0] = 0
        return x, x

    r = check("layers.relu_forward", relu)
    assert "changed its input x in place" in diagnosed(r, "mutated")
    assert r.score == 0


def test_float32_where_float64_expected():
    r = check("layers.sigmoid_forward", lambda x: (sigmoid_forward(x)[0].astype(np.float32), None))
    assert "float32" in diagnosed(r, "dtype")
    assert r.score == 0


def test_nondeterministic():
    rng = np.random.default_rng()
    r = check("layers.relu_forward", lambda x: (np.maximum(x, 0) + 1e-3 * rng.random(), x))
    assert "twice" in diagnosed(r, "nondeterministic")
    assert r.score == 0


def test_region_where_x_is_zero():
    r = check("layers.relu_backward", lambda dout, x: np.where(x >= 0, dout, 0.0))
    assert "== 0" in diagnosed(r, "region")
    assert 0 < r.score < r.max_score


# ---------------------------------------------------------------------------------------------
# Backward vs finite differences of the learner's own forward


def _relu_backward(dout, x):
    return np.where(x > 0, dout, 0.0)


def test_forward_right_backward_wrong():
    r = check("layers.relu_backward", lambda dout, x: np.where(x > 0, 2 * dout, 0.0), forward=relu_forward)
    assert "the bug is in your backward" in diagnosed(r, "forward_backward")


def test_backward_consistent_with_wrong_forward():
    def forward(x):
        return np.where(x > 0, 2 * x, 0.0), x

    def backward(dout, x):
        return np.where(x > 0, 2 * dout, 0.0)

    r = check("layers.relu_backward", backward, forward=forward)
    assert "the bug is in your forward" in diagnosed(r, "forward_backward")


def test_both_wrong():
    def forward(x):
        return np.where(x > 0, 2 * x, 0.0), x

    r = check("layers.relu_backward", lambda dout, x: -dout, forward=forward)
    assert "fix the forward first" in diagnosed(r, "forward_backward")


def test_right_backward_wrong_forward_is_a_remark():
    r = check("layers.relu_backward", _relu_backward, forward=lambda x: (np.abs(x), x))
    assert r.passed
    assert "forward_backward" in r.diagnosis_names
    assert "your forward has a bug" in str(r)


def test_linear_forward_blame_and_learner_cache():
    def forward(x, W, b):
        return x @ W + b, (x, W, b)

    def backward(dout, cache):
        x, W, b = cache
        return dout @ W.T, x.T @ dout / len(x), dout.sum(axis=0)

    r = check("layers.linear_backward", backward, forward=forward)
    assert "the bug is in your backward" in diagnosed(r, "forward_backward")
    assert check("layers.linear_backward", _lin(), forward=linear_forward).passed


def test_loss_gradient_checked_against_its_own_loss():
    def ce(logits, y):
        z = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(len(y)), y]).mean()
        d = p.copy()
        d[np.arange(len(y)), y] -= 1
        return float(loss), d  # forgot / N

    r = check("losses.softmax_cross_entropy", ce)
    assert "did you forget to divide by the batch size N?" in diagnosed(r, "factor")
    assert "the bug is in your gradient" in diagnosed(r, "forward_backward")


# ---------------------------------------------------------------------------------------------
# Optimizers: trajectories and named bugs


def _adam_like(*, bias=True, step="before", eps_inside=False, decoupled=False, keep_state=True):
    def update(w, g, state, *, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        st = state if keep_state else {}
        b1, b2 = betas
        t = st.get("step", 0)
        if step == "before":
            t += 1
        if decoupled:
            w *= 1 - lr * weight_decay
        elif weight_decay:
            g = g + weight_decay * w
        m = st["exp_avg"] = b1 * st.get("exp_avg", 0) + (1 - b1) * g
        v = st["exp_avg_sq"] = b2 * st.get("exp_avg_sq", 0) + (1 - b2) * g * g
        if amsgrad:
            v = st["max_exp_avg_sq"] = np.maximum(st.get("max_exp_avg_sq", 0), v)
        if bias:
            m, v = m / (1 - b1**t), v / (1 - b2**t)
        w -= lr * m / (np.sqrt(v + eps) if eps_inside else np.sqrt(v) + eps)
        st["step"] = t if step == "before" else t + 1
        return w

    return update


def test_learner_style_adam_passes():
    assert check("optim.adam", _adam_like()).passed
    assert check("optim.adamw", _adam_like(decoupled=True)).passed


@pytest.mark.parametrize(
    "exercise, kwargs, name",
    [
        ("optim.adam", {"bias": False}, "no_bias_correction"),
        ("optim.adam", {"step": "after"}, "step_after_bias_correction"),
        ("optim.adam", {"eps_inside": True}, "eps_inside_sqrt"),
        ("optim.adam", {"decoupled": True}, "decoupled_instead_of_l2"),
        ("optim.adamw", {"decoupled": False}, "l2_instead_of_decoupled"),
        ("optim.adam", {"keep_state": False}, "state_not_updated"),
        ("optim.adamw", {"decoupled": True, "bias": False}, "no_bias_correction"),
    ],
)
def test_optimizer_bugs_are_named(exercise, kwargs, name):
    r = check(exercise, _adam_like(**kwargs))
    diagnosed(r, name)
    msg = diagnosed(r, "trajectory")
    assert "first leaves the expected one at step" in msg
    assert r.score < r.max_score


def test_first_diverging_step_and_plot():
    def late_bug(w, g, state, **hp):
        adam(w, g, state, **hp)
        if state["step"] == 4:
            w += 0.5
        return w

    r = check("optim.adam", late_bug)
    assert "at step 4 of 20" in diagnosed(r, "trajectory")
    html = r._repr_html_()
    assert 'src="data:image/png;base64,' in html


def test_step_counter_not_incremented():
    def never(w, g, state, **hp):
        state["step"] = 0  # adam then bias-corrects with t = 1 forever
        return adam(w, g, state, **hp)

    diagnosed(check("optim.adam", never), "step_not_incremented")


def test_optimizer_returning_none_is_a_remark():
    def no_return(w, g, state, **hp):
        adamw(w, g, state, **hp)

    r = check("optim.adamw", no_return)
    assert r.passed
    assert "return w" in diagnosed(r, "none")


def test_optimizer_raising_midway():
    def crash(w, g, state, **hp):
        adam(w, g, state, **hp)
        if state["step"] == 3:
            raise ZeroDivisionError("oops")
        return w

    r = check("optim.adam", crash)
    assert "at step 3" in diagnosed(r, "exception")
    assert r.score == 0


# ---------------------------------------------------------------------------------------------
# Exceptions and NotImplementedError


def test_exception_shows_learner_frame_only():
    def linear_forward_mine(x, W, b):
        return x @ W.T + b, None  # shapes do not match

    r = check("layers.linear_forward", linear_forward_mine)
    assert r.status == "error" and r.score == 0
    diagnosed(r, "exception")
    tb = r.cases[0].error.traceback
    assert "linear_forward_mine" in tb and "x @ W.T" in tb
    assert "course/grader" not in tb.replace(os.sep, "/")


def test_capture_hides_grader_frames():
    from course.grader.run import runner

    def learner():
        raise KeyError("k")

    try:
        runner.call_learner(learner)
    except KeyError as exc:
        info = capture(exc)
    assert "in learner" in info.traceback and "runner.py" not in info.traceback


def test_not_attempted_yet():
    def relu_forward_stub(x):
        raise NotImplementedError

    r = check("layers.relu_forward", relu_forward_stub)
    assert r.status == "not_attempted" and r.score == 0
    assert "not attempted yet" in str(r)
    assert "not attempted yet" in r._repr_html_()
    assert "Traceback" not in str(r)


@pytest.mark.parametrize(
    "bad",
    [
        lambda *a, **k: "a string",
        lambda *a, **k: {"out": 1},
        lambda *a, **k: (x for x in range(3)),
        lambda *a, **k: object(),
        lambda *a, **k: (float("nan"), np.full((2, 2), np.nan)),
        lambda *a, **k: np.array(["a", "b"]),
        lambda *a, **k: [np.zeros(3)] * 7,
        lambda *a, **k: 1 / 0,
        lambda *a, **k: math.sqrt(-1),
        lambda *a, **k: np.zeros((10**2, 10**2)),
        lambda *a, **k: type("Broken", (), {"__repr__": lambda self: 1 / 0, "__eq__": lambda s, o: 1 / 0})(),
    ],
)
@pytest.mark.parametrize(
    "exercise_id",
    ["layers.linear_backward", "layers.softmax", "losses.mse_loss", "optim.adam", "schedules.step_lr",
     "gradients.clip_grad_norm", "autograd.value_mul", "autograd.topological_order", "averages.ema"],
)
def test_nothing_crashes_the_grader(exercise_id, bad):
    r = check(exercise_id, bad)
    assert not r.passed and r.score == 0
    assert r.headline
    assert str(r) and r._repr_html_()


def test_not_a_function():
    r = check("layers.softmax", np.zeros(3))
    assert not r.passed and "pass the function itself" in str(r)


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_CHECK_STRICT", "1")
    with pytest.raises(AssertionError, match="layers.softmax"):
        check("layers.softmax", lambda x: x)
    assert check("layers.relu_forward", relu_forward).passed


# ---------------------------------------------------------------------------------------------
# The learner's Value class


def _make_value(accumulate=True, backward_bug=None, mul_returns_float=False):
    class Value:
        def __init__(self, data, _children=(), _op=""):
            self.data, self.grad = float(data), 0.0
            self._prev, self._op = tuple(_children), _op
            self._backward = lambda: None

        def _add_grad(self, node, amount):
            node.grad = node.grad + amount if accumulate else amount

        def __add__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            out = Value(self.data + other.data, (self, other), "+")

            def _backward():
                self._add_grad(self, out.grad)
                self._add_grad(other, out.grad)

            out._backward = _backward
            return out

        def __mul__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            if mul_returns_float:
                return self.data * other.data
            out = Value(self.data * other.data, (self, other), "*")

            def _backward():
                self._add_grad(self, other.data * out.grad)
                self._add_grad(other, self.data * out.grad)

            out._backward = _backward
            return out

        __radd__ = __add__
        __rmul__ = __mul__

        def tanh(self):
            raise NotImplementedError

        def backward(self):
            order, seen = [], set()

            def build(v):
                if id(v) in seen and backward_bug != "no_visited":
                    return
                seen.add(id(v))
                for c in v._prev:
                    build(c)
                order.append(v)

            build(self)
            if backward_bug != "root_grad":
                self.grad = 1.0
            for node in order if backward_bug == "order" else reversed(order):
                node._backward()

    return Value


def test_learner_value_ops():
    V = _make_value()
    assert check("autograd.value_add", V).passed
    assert check("autograd.value_mul", V).passed
    r = check("autograd.value_tanh", V)
    assert r.status == "not_attempted" and "not attempted yet" in str(r)


def test_value_grad_set_instead_of_accumulated():
    r = check("autograd.value_mul", _make_value(accumulate=False))
    assert "+=" in diagnosed(r, "accumulate")
    assert 0 < r.score < r.max_score


def test_value_op_returning_a_float():
    r = check("autograd.value_mul", _make_value(mul_returns_float=True))
    assert "must return a new Value" in diagnosed(r, "type")


@pytest.mark.parametrize("bug, name", [("root_grad", "root_grad"), ("order", "backward_order"),
                                       ("no_visited", "visited_twice")])
def test_value_backward_bugs(bug, name):
    V = _make_value(backward_bug=bug)
    ex = get("autograd.backward")
    ok_v = _make_value()
    # the graphs of this exercise use tanh: give the learner classes a working one
    from course.autograd import Value as Ref

    for cls in (V, ok_v):
        def tanh(self, cls=cls):
            out = cls(math.tanh(self.data), (self,), "tanh")

            def _backward():
                self.grad += (1 - out.data**2) * out.grad

            out._backward = _backward
            return out

        cls.tanh = tanh
    assert check(ex.id, ok_v).passed
    r = check(ex.id, V)
    diagnosed(r, name)
    assert Ref is not V


def test_value_backward_blames_ops():
    V = _make_value(accumulate=False)

    def tanh(self):
        out = V(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1 - out.data**2) * out.grad

        out._backward = _backward
        return out

    V.tanh = tanh
    r = check("autograd.backward", V)
    diagnosed(r, "ops_not_backward")


def test_diagnosis_table_is_documented():
    from course.grader.compare import diagnoses

    for name in DIAGNOSES:  # the per-output view of the table
        assert name in diagnoses.names()
        assert all(e.says for e in diagnoses.TABLE if e.name == name)


def test_variants_match_dict_and_nested_outputs():
    """A variant whose outputs are dicts (e.g. gradients by parameter name) is matched key by key."""
    import numpy as np

    from course.grader.compare.case_checks import matches as _matches
    from course.grader.registry import Exercise

    ex = Exercise(id="demo.dicts", lesson="03_backprop", title="demo", reference=lambda: None,
                  make_cases=lambda rng: [], outputs=("loss", "grads"))
    variant = (1.5, {"W": np.ones((2, 3)), "b": np.zeros(3)})
    assert _matches(ex, (1.5, {"W": np.ones((2, 3)), "b": np.zeros(3)}), variant, [])
    assert not _matches(ex, (1.5, {"W": np.ones((2, 3)), "b": np.ones(3)}), variant, [])
    assert not _matches(ex, (1.5, {"W": np.ones((2, 3))}), variant, [])  # a key missing
    assert not _matches(ex, (1.5, [np.ones((2, 3)), np.zeros(3)]), variant, [])  # not a dict
    assert _matches(ex, (1.5, {"W": np.ones((2, 3)), "b": np.zeros(3)}), (1.5, variant[1]), ["grads"])
