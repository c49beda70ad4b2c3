"""Lessons 09-11: every exercise is registered under its topic's prefix, and realistic learner bugs
written independently of the registered variants are failed (and, where the grader knows the
mistake, named). The registry tests (test_grader_registry.py) already check that every reference
scores full marks with two seeds and that every variant is caught by name."""


import numpy as np
import pytest

from course.grader import check, exercises


@pytest.fixture(autouse=True)
def _progress_off(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


EXPECTED = {
    "09_initialization": {"init.kaiming_std", "init.xavier_std", "init.prelu_forward", "init.prelu_backward",
                          "init.residual_backward", "init.layer_grad_norms"},
    "10_normalization": {"normalization.running_stats", "normalization.batchnorm_forward",
                         "normalization.batchnorm_backward", "normalization.layernorm_forward",
                         "normalization.layernorm_backward"},
    "11_regularization": {"regularization.l2_penalty", "regularization.l1_penalty",
                          "regularization.dropout_forward", "regularization.dropout_backward",
                          "regularization.early_stopping", "regularization.standardize_splits",
                          "regularization.augment_digits", "tuning.grid_search", "tuning.random_search",
                          "tuning.diagnose"},
}


@pytest.mark.parametrize("lesson", list(EXPECTED))
def test_lesson_exercises_are_registered(lesson):
    assert {ex.id for ex in exercises(lesson)} == EXPECTED[lesson]


def _bn_forward_no_eps(x, gamma, beta, bn_param):
    bn_param.setdefault("running_mean", np.zeros(x.shape[1]))
    bn_param.setdefault("running_var", np.ones(x.shape[1]))
    if bn_param.get("mode", "train") == "eval":
        m, v = bn_param["running_mean"], bn_param["running_var"]
    else:
        m, v = x.mean(axis=0), x.var(axis=0)
        mom, N = bn_param.get("momentum", 0.1), x.shape[0]
        bn_param["running_mean"] = (1 - mom) * bn_param["running_mean"] + mom * m
        bn_param["running_var"] = (1 - mom) * bn_param["running_var"] + mom * v * N / (N - 1)
    return gamma * (x - m) / np.sqrt(v) + beta, None  # eps forgotten


def _prelu_backward_dalpha_sign(dout, cache):
    x, alpha = cache
    dx = np.where(x > 0, dout, alpha * dout)
    d = np.where(x > 0, dout * x, 0.0).sum(axis=0)  # the positive side instead
    return dx, d if alpha.shape[0] > 1 else np.array([d.sum()])


def _dropout_same_mask_for_all_rows(x, p, train=True, rng=None):
    if not train or p == 0:
        return x, None
    u = np.random.default_rng(rng).random(x.shape[-1:])  # one mask per feature, shared by the batch
    mask = (u >= p) / (1 - p)
    return x * mask, mask


class _StopperNeverRestores:
    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        self.patience, self.bad, self.best = patience, 0, None

    def step(self, value, params):
        if self.best is None or value < self.best:
            self.best, self.bad = value, 0
        else:
            self.bad += 1
        return self.bad >= self.patience

    def restore(self, params):
        pass  # forgets to put the best weights back


BUGS = [
    ("init.kaiming_std", lambda fan_in, fan_out, gain=2**0.5, mode="fan_in": gain / (fan_in + fan_out) ** 0.5),
    ("init.prelu_backward", _prelu_backward_dalpha_sign),
    ("normalization.batchnorm_forward", _bn_forward_no_eps),
    ("regularization.dropout_forward", _dropout_same_mask_for_all_rows),
    ("regularization.early_stopping", _StopperNeverRestores),
    ("regularization.l1_penalty", lambda params, lam: (lam * sum(float(np.abs(w).sum()) for w in params.values()),
                                                       {k: np.sign(w) for k, w in params.items()})),
]


#: the bugs above that the grader names (the others get the general diagnoses: values, factor, shape)
NAMED = {"normalization.batchnorm_forward": "eps_missing", "regularization.dropout_forward": "one_mask_for_the_batch",
         "regularization.early_stopping": "best_weights_not_copied"}


@pytest.mark.parametrize("exercise_id, bug", BUGS, ids=[b[0] for b in BUGS])
def test_independently_written_bugs_fail(exercise_id, bug):
    result = check(exercise_id, bug)
    assert not result.passed and result.score < result.max_score
    assert result.diagnosis_names  # something is said about what is wrong
    if exercise_id in NAMED:
        assert NAMED[exercise_id] in result.diagnosis_names, str(result)


def test_stubs_are_not_attempted():
    def stub(*args, **kwargs):
        raise NotImplementedError("write your solution here")

    for lesson in EXPECTED:
        for ex in exercises(lesson):
            result = check(ex.id, stub)
            assert not result.passed
            assert "not attempted" in str(result).lower(), ex.id
