"""The engine's rules (course.grader.compare.engine, report.findings): a factor only where it means
something, messages per case, no contradictions on one case, an explanation that fits every
case wins, and forged probe data cannot crash the compare phase."""

import numpy as np
import pytest

from course.grader import cases, check, get, grade_outcomes, run
from course.grader.compare.diagnoses import GENERIC
from course.grader.compare.engine import reconcile, settle
from course.grader.compare.findings import CaseResult, Diagnosis


@pytest.fixture(autouse=True)
def _progress_off(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


def _log_softmax(x):
    z = x - x.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def test_no_factor_claimed_on_a_single_number_without_meaning():
    def ce(logits, y):  # the log-probabilities of the wrong entries: no constant factor
        return float(-np.mean(_log_softmax(logits)[:, y]))

    r = check("forward.cross_entropy_loss", ce)
    assert not r.passed and "factor" not in r.diagnosis_names, str(r)


def test_a_meaningful_factor_is_still_claimed():
    def ce(logits, y):
        return float(-np.sum(_log_softmax(logits)[np.arange(len(y)), y]))

    assert "divide by the batch size N" in " ".join(d.message for d in check("forward.cross_entropy_loss", ce).diagnoses)


def test_messages_are_listed_under_their_own_cases():
    def adam(w, g, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        b1, b2 = betas
        t = state["t"] = state.get("t", 0) + 1
        g = g + weight_decay * w
        state["m"] = m = b1 * state.get("m", 0) + (1 - b1) * g
        state["v"] = v = b2 * state.get("v", 0) + (1 - b2) * g * g
        if amsgrad:
            state["vm"] = v = np.maximum(state.get("vm", 0), v)
        w -= lr * m / (np.sqrt(v / (1 - b2**t)) + eps)
        return w

    r = check("optim.adam", adam)
    for d, where in r.findings():
        if d.message.startswith("... and the same kind"):  # the summary line of a repeated fact
            continue
        for k in where:  # every case listed under a message gave exactly that message
            assert any(x.message == d.message for x in r.cases[k - 1].diagnoses), (d.message, k)
    texts = [d.message for d, _ in r.findings() if d.name == "trajectory"]
    assert len(texts) == len(set(texts)) > 1


def test_settle_drops_generic_findings_an_explanation_covers():
    class Ctx:
        outcome = type("O", (), {"extra": {}})()

    diags = [Diagnosis("values", "v"), Diagnosis("factor", "f"), Diagnosis("wrong_axis", "w", supersedes=GENERIC)]
    assert [d.name for d in settle(Ctx(), diags)] == ["values", "wrong_axis"]
    diags[2].fails = False  # a remark explains nothing away
    assert [d.name for d in settle(Ctx(), diags)] == ["values", "factor", "wrong_axis"]


def test_the_precedence_is_declared_by_the_table_and_travels_with_the_finding():
    """A wrong axis (the structure entry, supersedes=GENERIC) is named, and the generic factor
    finding of the same numbers is not shown beside it."""
    from course.grader.compare.diagnoses import TABLE

    assert next(e for e in TABLE if e.name == "structure").supersedes == GENERIC
    assert not next(e for e in TABLE if e.name == "mutation").supersedes

    def softmax_of_every_entry(x, axis=-1):  # on N = 2 rows also 1/2 times the expected one
        e = np.exp(x - x.max())
        return e / e.sum()

    r = check("layers.softmax", softmax_of_every_entry, record=False)
    assert "wrong_axis" in r.diagnosis_names and not set(GENERIC) & set(r.diagnosis_names), str(r)


def test_a_factor_reaches_the_checks_across_cases_as_a_number():
    """diag_factor passes the factor as data (facts), and reconcile reads the facts, not the message."""
    a = CaseResult(0, "", False, [Diagnosis("factor", "no number here", facts={"factor": 2.5, "exact": False})])
    b = CaseResult(1, "", False, [Diagnosis("factor", "nor here", facts={"factor": 3.5, "exact": False})])
    c = CaseResult(2, "", False, [Diagnosis("factor", "x is 2.5 times the expected one", facts=None)])
    reconcile([a, b, c])
    assert a.diagnoses == [] and b.diagnoses == [] and len(c.diagnoses) == 1
    a = CaseResult(0, "", False, [Diagnosis("factor", "m", facts={"factor": 2.0, "exact": True})])
    b = CaseResult(1, "", False, [Diagnosis("factor", "m", facts={"factor": 0.5, "exact": True})])
    reconcile([a, b])
    assert len(a.diagnoses) == len(b.diagnoses) == 1


def test_reconcile_prefers_the_explanation_of_every_case():
    a = CaseResult(0, "", False, [Diagnosis("values", "x"), Diagnosis("rounding", "r"),
                                  Diagnosis("one_step_ahead", "o")])
    b = CaseResult(1, "", False, [Diagnosis("values", "y"), Diagnosis("rounding", "r2")])
    reconcile([a, b])
    assert [d.name for d in a.diagnoses] == ["values", "rounding"]


def test_forged_probes_do_not_crash_the_compare_phase():
    ex = get("optim.adam")
    case_list = cases(ex, 0)
    outcomes = run(ex, ex.variants[0].fn, case_list)
    for o in outcomes:
        o.extra["probes"] = {"path": "not an array", "zero_g": [1, 2], "hp": None}
        o.extra["fp"] = ["not", "a", "dict"]
    r = grade_outcomes(ex, 0, case_list, outcomes)
    assert not r.passed


def test_a_factor_that_changes_from_case_to_case_is_not_claimed():
    def clip_grad_norm(grads, max_norm, norm_type=2.0, error_if_nonfinite=True):
        gs = list(grads.values()) if isinstance(grads, dict) else list(grads)
        total = float(sum(np.linalg.norm(g) for g in gs))  # a sum of norms, not the norm of all
        if total > max_norm:
            for g in gs:
                g *= max_norm / (total + 1e-6)
        return total

    r = check("gradients.clip_grad_norm", clip_grad_norm)
    assert not r.passed and "factor" not in r.diagnosis_names, str(r)
    assert "returns_argument" not in r.diagnosis_names  # inf == inf is no evidence


# ---- issue 26: exceptions from the learner frame's shapes; NaN advice that fits the line ----------


def _conv_pads_every_axis(x, w, b, stride=1, pad=0):
    xp = np.pad(x, pad)  # the batch and channel axes grow too
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            win = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(win, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, None


def test_an_error_inside_numpy_is_explained_by_the_arrays_of_the_learners_own_line():
    r = check("conv.conv2d_forward", _conv_pads_every_axis, record=False)
    assert "padded_every_axis" in r.diagnosis_names, str(r)
    text = " ".join(d.message for d in r.diagnoses if d.name == "padded_every_axis")
    assert "Your xp, of shape" in text and "grown by 2 along EVERY axis" in text
    assert "np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))" in text


def test_a_shape_error_with_no_grown_array_is_not_called_padding():
    def wrong_reshape(x, w, b, stride=1, pad=0):
        return np.tensordot(x, w, axes=([1, 2], [2, 3])), None

    r = check("conv.conv2d_forward", wrong_reshape, record=False)
    assert "padded_every_axis" not in r.diagnosis_names


def test_nan_from_a_row_masked_entirely_is_not_told_to_subtract_the_max_it_already_subtracts():
    import math

    def mask_reversed(q, k, v, mask=None):
        s = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask, -np.inf, s)
        s = s - s.max(axis=-1, keepdims=True)
        P = np.exp(s)
        return P / P.sum(-1, keepdims=True) @ v, None

    r = check("attention.forward", mask_reversed, record=False)
    text = " ".join(d.message for d in r.diagnoses if d.name == "nonfinite_op")
    assert "already subtracts the maximum" in text and "row masked entirely" in text
    assert "(subtract the maximum first)" not in text


def test_an_update_whose_step_is_a_constant_multiple_says_the_factor_it_saw():
    def half_newton(w, grad, hessian):
        return w - 0.5 * np.linalg.solve(hessian, grad)

    r = check("second_order.newton_step", half_newton, record=False)
    text = " ".join(d.message for d in r.diagnoses if d.name == "step_factor")
    assert "Your step is 0.5 times the right one" in text, str(r)
    assert "batch size" not in str(r)


def test_a_step_that_is_not_a_multiple_is_not_called_one():
    def gradient_step(w, grad, hessian):
        return w - 0.1 * grad

    assert "step_factor" not in check("second_order.newton_step", gradient_step, record=False).diagnosis_names


def test_a_missing_half_is_not_blamed_on_the_batch_size_where_n_happens_to_be_2():
    r = check("layers.sigmoid_backward", lambda dout, cache: 0.5 * dout * cache * (1 - cache), record=False)
    assert "factor" in r.diagnosis_names
    assert "batch size" not in str(r), str(r)


def test_a_factor_that_follows_n_over_the_cases_still_blames_n():
    def linear_backward_db_mean(dout, cache):
        x, W, b = cache
        return dout @ W.T, x.T @ dout, dout.mean(axis=0)

    text = str(check("layers.linear_backward", linear_backward_db_mean, record=False))
    assert "batch size N" in text, text
