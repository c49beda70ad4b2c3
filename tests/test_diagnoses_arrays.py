"""Array diagnoses of the engine: structural (axes, sub-blocks), exceptions explained by shapes,
NaN by operation, backwards read as derivatives, arguments ignored. Each test plants one fault in
a fresh function and checks that the message names it."""

import numpy as np
import pytest

from course.grader import check, get


@pytest.fixture(autouse=True)
def _progress_off(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


def said(result, name):
    assert name in result.diagnosis_names, str(result)
    return " ".join(d.message for c in result.cases for d in c.diagnoses if d.name == name)


def _log_softmax(x):
    z = x - x.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


# -- structural


def test_statistics_over_the_other_axis(monkeypatch):
    def log_softmax(x, axis=-1):
        z = x - x.max(axis=0, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=0, keepdims=True))

    monkeypatch.setattr(get("layers.log_softmax"), "variants", ())  # unregistered: the engine alone
    assert "along the other axis" in said(check("layers.log_softmax", log_softmax), "wrong_axis")


def test_statistics_over_every_entry():
    def softmax(x, axis=-1):
        e = np.exp(x - x.max())
        return e / e.sum()

    r = check("layers.softmax", softmax)
    assert "over all entries at once" in said(r, "wrong_axis")
    assert "factor" not in r.diagnosis_names  # the explanation supersedes "1/2 times" on N = 2


def test_one_minus_the_expected_values():
    msg = said(check("layers.sigmoid_forward", lambda x: (1 / (1 + np.exp(x)), None)), "complement")
    assert "1 - (the expected values)" in msg and "sign" in msg


def test_the_label_entries_only():
    def sce(logits, y, reduction="mean"):
        N = len(y)
        p = np.exp(_log_softmax(logits))
        d = p.copy()
        d[np.arange(N), y] += 1  # + where - belongs, only at the labels
        return float(-np.mean(_log_softmax(logits)[np.arange(N), y])), d / N

    assert "exactly at the label entries" in said(check("losses.softmax_cross_entropy", sce), "label_entries")


def test_label_columns_in_every_row():
    def sce(logits, y, reduction="mean"):
        N = len(y)
        d = np.exp(_log_softmax(logits))
        d[:, y] -= 1
        return float(-np.mean(_log_softmax(logits)[np.arange(N), y])), d / N

    assert "[:, y]" in said(check("losses.softmax_cross_entropy", sce), "label_entries")


def test_entries_beyond_a_scalar_argument():
    def clip(grads, clip_value):
        for g in grads.values() if isinstance(grads, dict) else grads:
            g[g > clip_value] = clip_value

    assert "< -clip_value" in said(check("gradients.clip_grad_value", clip), "region")


def test_scaled_input():
    msg = said(check("layers.tanh_forward", lambda x: (2 / (1 + np.exp(-x)) - 1, None)), "scaled_input")
    assert "x / 2" in msg


# -- exceptions explained


def test_matmul_operands_in_the_wrong_order():
    msg = said(check("layers.linear_forward", lambda x, W, b: (W @ x + b, None)), "shape_error")
    assert "W @ x" in msg and "x @ W fits" in msg and "x: (N, D)" in msg and "W: (D, M)" in msg


def test_matmul_operand_transposed_for_nothing():
    msg = said(check("layers.linear_forward", lambda x, W, b: (x @ W.T + b, None)), "shape_error")
    assert "W is already oriented" in msg


def test_backward_operand_oriented_the_other_way():
    def linear_backward(dout, cache):
        x, W, b = cache
        return dout @ W, x.T @ dout, dout.sum(axis=0)

    r = check("layers.linear_backward", linear_backward)
    msg = said(r, "shape_error")
    assert "dout @ W" in msg and "W.T" in msg and "exception" in r.diagnosis_names


def test_broadcast_without_keepdims():
    def softmax(x, axis=-1):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1)

    assert "keepdims=True" in said(check("layers.softmax", softmax), "shape_error")


def test_a_number_where_a_value_belongs():
    from course.autograd import Value

    class Mine(Value):
        def __add__(self, other):
            out = Mine(self.data + other.data, (self, other), "+")

            def _backward():
                self.grad += out.grad
                other.grad += out.grad

            out._backward = _backward
            return out

    assert "wrap numbers first" in said(check("autograd.value_add", Mine), "number_not_value")


# -- NaN and inf by operation


def test_log_of_zero_named():
    def log_softmax(x, axis=-1):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return np.log(e / e.sum(axis=1, keepdims=True))

    r = check("layers.log_softmax", log_softmax)
    msg = said(r, "nonfinite_op")
    assert "log" in msg and "log of 0" in msg and "np.log(e / e.sum" in msg
    assert not any("subtract the maximum" in d.message for d in r.diagnoses if d.name == "nan")


def test_zero_over_zero_named():
    def relative_error(a, b):
        return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))

    assert "0/0" in said(check("gradcheck.relative_error", relative_error), "nonfinite_op")


def test_square_root_of_a_negative_named():
    def rmsprop(w, g, state, *, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        v = state["square_avg"] = alpha * state.get("square_avg", 0.0) + (1 - alpha) * g
        w -= lr * g / (np.sqrt(v) + eps)
        return w

    assert "negative" in said(check("optim.rmsprop", rmsprop), "v_of_g")


# -- backwards as derivatives


def test_backward_not_linear_in_dout():
    msg = said(check("layers.tanh_backward", lambda dout, cache: dout * 1 - cache**2), "not_linear_in_dout")
    assert "dout = 0" in msg and "parentheses" in msg


def test_another_functions_local_derivative():
    msg = said(check("layers.sigmoid_backward", lambda dout, cache: dout * (1 - cache**2)), "local_derivative")
    assert "1 - out**2" in msg and "out * (1 - out)" in msg


# -- arguments


def test_an_argument_ignored():
    def clip_grad_norm(grads, max_norm, norm_type=2.0, error_if_nonfinite=True):
        gs = list(grads.values()) if isinstance(grads, dict) else list(grads)
        total = float(np.sqrt(sum(np.sum(g * g) for g in gs)))
        if total > max_norm:
            for g in gs:
                g *= max_norm / (total + 1e-6)
        return total

    assert "ignores norm_type" in said(check("gradients.clip_grad_norm", clip_grad_norm), "argument_ignored")


def test_an_array_argument_ignored():
    def numerical_gradient_array(f, x, dout, h=1e-5):
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + h
            plus = f(x).copy()
            x[i] = old - h
            minus = f(x).copy()
            x[i] = old
            grad[i] = np.sum(plus - minus) / (2 * h)
        return grad

    assert "does not use dout" in said(check("gradcheck.numerical_gradient_array", numerical_gradient_array),
                                       "argument_ignored")


def test_a_perturbation_not_restored():
    def numerical_gradient(f, x, h=1e-5):
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            x[i] += h
            plus = f(x)
            x[i] -= 2 * h
            minus = f(x)
            grad[i] = (plus - minus) / (2 * h)
        return grad

    assert "Restore x[i]" in said(check("gradcheck.numerical_gradient", numerical_gradient), "not_restored")


def test_ema_bias_correction_power():
    def ema(x, beta, bias_correction=False):
        out, v = [], 0.0
        for t in range(len(x)):  # t from 0: the power is one short
            v = beta * v + (1 - beta) * x[t]
            out.append(v / (1 - beta ** (t + 2)) if bias_correction else v)
        return np.array(out)

    assert "t + 1" in said(check("averages.ema", ema), "bias_power")


def test_shapes_explained_from_the_contract_alone():
    """Where the learner's frame is not known (outcomes from another process), the arguments'
    shapes still name the operands."""
    from course.grader import cases, get, grade_outcomes, run

    ex = get("layers.linear_forward")
    case_list = cases(ex, 0)
    outcomes = run(ex, lambda x, W, b: (W @ x + b, None), case_list)
    for o in outcomes:
        o.error.shapes = {}
    r = grade_outcomes(ex, 0, case_list, outcomes)
    assert "x @ W fits" in said(r, "shape_error")


def test_backward_that_mixes_entries_of_dout():
    # dout averaged over the batch instead of taken entry by entry
    msg = said(check("layers.sigmoid_backward", lambda dout, cache: dout.mean(axis=0) * cache * (1 - cache)),
               "dout_spread")
    assert "single entry of dout" in msg and "column" in msg
