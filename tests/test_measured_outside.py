"""Points never depend on a number the learner's process reports about itself (issue 24).

- lesson 12 (``data_scale.adam_inplace``): graded by what the grader sees, that the large
  array and the state's buffers are the same buffers after every call; the ``tracemalloc`` peak
  is measured in the learner's process and only shown (a remark, no points), so replacing
  ``tracemalloc`` changes nothing;
- lesson 13 (``parallel.ring_allreduce``): the sums are graded; the traffic, counted by the
  simulated world in the learner's process, is a remark; the ring's communicator has no
  ``allreduce`` (the world's own all-reduce would do the exercise);
- the capstone: the wall time is the learner's own figure (a remark); the test images are the
  grader's, with a secret noise (``tests/test_capstone_secret.py``).

Each trick scores what the same function without the trick scores.
"""

from __future__ import annotations

import numpy as np
import pytest

from course.grader import get
from course.grader.cases import cases as make_cases
from course.grader.grading import grade_outcomes
from course.grader.run.runner import run
from course.parallel.rank_programs import ring_allreduce


def _graded(ex_id, fn, seed=3):
    ex = get(ex_id)
    cs = make_cases(ex, seed)
    return grade_outcomes(ex, seed, cs, run(ex, fn, cs))


def _names(result) -> set:
    return {d.name for c in result.cases for d in c.diagnoses}


def _adam(w, g, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, replace=False):
    b1, b2 = betas
    if "exp_avg" not in state:
        state["step"], state["exp_avg"], state["exp_avg_sq"] = 0, np.zeros_like(w), np.zeros_like(w)
    t = state["step"] = state["step"] + 1
    m = b1 * state["exp_avg"] + (1 - b1) * g  # temporaries of the size of w
    v = b2 * state["exp_avg_sq"] + (1 - b2) * g * g
    if replace:  # new arrays in state at every call
        state["exp_avg"], state["exp_avg_sq"] = m, v
    else:
        state["exp_avg"][...], state["exp_avg_sq"][...] = m, v
    w -= lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return w


def test_an_adam_that_replaces_its_buffers_fails_and_one_that_keeps_them_passes_with_a_remark():
    kept = _graded("data_scale.adam_inplace", _adam)
    assert kept.passed and "allocates" in _names(kept)  # the figure is shown, as a remark
    replaced = _graded("data_scale.adam_inplace", lambda *a, **k: _adam(*a, **k, replace=True))
    assert not replaced.passed and "allocates" in _names(replaced)


@pytest.mark.parametrize("replace", [False, True])
def test_replacing_tracemalloc_changes_nothing(monkeypatch, replace):
    import tracemalloc

    fn = (lambda *a, **k: _adam(*a, **k, replace=True)) if replace else _adam
    honest = _graded("data_scale.adam_inplace", fn)
    monkeypatch.setattr(tracemalloc, "get_traced_memory", lambda: (0, 0))  # what a cell can do
    forged = _graded("data_scale.adam_inplace", fn)
    assert (forged.passed, forged.score) == (honest.passed, honest.score)


def _ring_by_world_allreduce(x, comm):
    return comm.allreduce(x)


def _ring_forging_its_traffic(x, comm):
    out = ring_allreduce(x, comm)
    comm._world.trace.sent[comm.Get_rank()] = 0  # the world's counters are in the learner's process
    return out


def _ring_whole_vector(x, comm):
    K, r = comm.Get_size(), comm.Get_rank()
    total, passing = np.array(x, copy=True), np.array(x, copy=True)
    for _ in range(K - 1):
        passing = comm.sendrecv(passing, dest=(r + 1) % K, source=(r - 1) % K)
        total = total + passing
    return total


def test_the_worlds_own_allreduce_does_not_answer_the_ring():
    got = _graded("parallel.ring_allreduce", _ring_by_world_allreduce)
    assert got.score == 0 and "no allreduce here" in str(got)


def test_the_traffic_is_a_remark_so_forging_it_changes_nothing():
    honest = _graded("parallel.ring_allreduce", ring_allreduce)
    forged = _graded("parallel.ring_allreduce", _ring_forging_its_traffic)
    whole = _graded("parallel.ring_allreduce", _ring_whole_vector)
    assert honest.passed and "traffic" not in _names(honest)
    assert forged.score == honest.score == whole.score and "traffic" in _names(forged)
    assert "traffic" in _names(whole) and "(K - 1) * n" in str(whole)
