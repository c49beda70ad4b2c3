"""The engine's rules (course.grader.compare.engine, report.findings): a factor only where it means
something, messages per case, no contradictions on one case, an explanation that fits every
case wins, and forged probe data cannot crash the compare phase."""

import numpy as np
import pytest

from course.grader import cases, check, get, grade_outcomes, run
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

    diags = [Diagnosis("values", "v"), Diagnosis("factor", "f"), Diagnosis("wrong_axis", "w")]
    assert [d.name for d in settle(Ctx(), diags)] == ["values", "wrong_axis"]


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
