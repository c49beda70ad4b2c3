"""course.grader.run.runner, .protocols and .calling: the run phase turns every call into plain data."""

from __future__ import annotations

import numpy as np

from course.grader import get
from course.grader.cases import Case, cases
from course.grader.models.reference import run_reference, run_variants
from course.grader.run.calling import LearnerMistake, call_learner, capture, fd_gradient, plain
from course.grader.run.outcome import Opaque
from course.grader.run.protocols import Backward, Call, Sweep
from course.grader.run.runner import run, run_case
from course.layers import relu_forward


def test_capture_keeps_the_learners_frames_only():
    def learner():
        raise ValueError("bad shape")

    try:
        learner()
    except ValueError as exc:
        err = capture(exc, "at step 3")
    assert (err.kind, err.type, err.where) == ("exception", "ValueError", "at step 3")
    assert "learner" in err.traceback and "course/grader" not in err.traceback
    assert capture(NotImplementedError()).not_implemented
    mistake = capture(LearnerMistake("returned a float", "type"))
    assert (mistake.kind, mistake.type, mistake.message) == ("mistake", "type", "returned a float")


def test_call_learner_lets_nan_flow_without_warnings():
    assert np.isnan(call_learner(lambda: np.log(-1.0)))


def test_plain_copies_arrays_and_wraps_objects():
    a = np.ones(2)
    out = plain({"a": a, "t": (1, [2.0]), "o": object()})
    out["a"][0] = 5
    assert a[0] == 1 and out["t"] == (1, [2.0]) and isinstance(out["o"], Opaque)

    class Broken:
        def __repr__(self):
            raise RuntimeError

    assert plain(Broken()).text == "<Broken object>"


def test_fd_gradient_matches_an_analytic_gradient():
    x = np.array([0.3, -1.2, 2.0])
    g = fd_gradient(lambda: float(np.sum(np.sin(x))), x)
    np.testing.assert_allclose(g, np.cos(x), rtol=1e-7)


def test_call_reports_mutated_inputs():
    ex = get("layers.relu_forward")
    case = cases(ex, 0)[0]

    def in_place(x):
        np.maximum(x, 0, out=x)
        return x, x

    assert run_case(ex, in_place, case).mutated == ("x",)
    assert run_case(ex, relu_forward, case).mutated == ()


def test_run_stops_after_not_implemented_and_repeats_the_first_case():
    ex = get("layers.relu_forward")
    case_list = cases(ex, 0)
    calls = []

    def stub(x):
        calls.append(1)
        raise NotImplementedError

    outs = run(ex, stub, case_list)
    assert len(outs) == len(case_list) and len(calls) == 1
    assert all(o.error.not_implemented for o in outs)
    counter = iter(range(100))
    outs = run(ex, lambda x: (x * 0 + next(counter), None), case_list)
    assert outs[0].extra.get("nondeterministic")


def test_backward_with_the_learners_forward_adds_finite_differences():
    ex = get("layers.relu_backward")
    case = next(c for c in cases(ex, 0) if c.fd)
    out = run_case(ex, ex.reference, case, {"forward": relu_forward})
    assert "fd" in out.extra and isinstance(ex.protocol, Backward)
    np.testing.assert_allclose(out.extra["fd"]["dx"], out.outputs, rtol=1e-4, atol=1e-6)


def test_sweep_and_trajectory_outputs_are_arrays():
    sweep = get("schedules.step_lr")
    assert isinstance(sweep.protocol, Sweep)
    out = run_case(sweep, sweep.reference, cases(sweep, 0)[0])
    assert out.outputs.ndim == 1
    traj = get("optim.sgd")
    case = cases(traj, 0)[0]
    path = run_case(traj, traj.reference, case).outputs
    assert path.shape == (case.extra["steps"] + 1, np.size(case.extra["w0"]))


def test_the_reference_run_carries_the_variants_outputs_as_data():
    ex = get("layers.linear_backward")
    case_list = cases(ex, 0)
    refs = run_reference(ex, case_list)
    names = {v.name for v in ex.variants}
    assert names and all(set(r.extra["variants"]) == names for r in refs)
    first = run_variants(ex, case_list[0])
    v = ex.variants[0]
    expected = run_case(ex, v.fn, case_list[0]).outputs
    got = first[v.name]
    assert all(np.array_equal(a, b) for a, b in zip(got, expected))


def test_a_variant_that_raises_names_nothing():
    from course.grader.registry import Exercise, Variant

    def bad(x):
        raise ValueError

    ex = Exercise("demo.v", "00_demo", "demo", lambda x: x, lambda rng: [Case((np.ones(2),))],
                  variants=(Variant("bad", bad, "never shown"),))
    assert run_variants(ex, Case((np.ones(2),))) == {"bad": None}


def test_call_protocol_inplace_outputs():
    proto = Call(inplace=("w",))

    class Ex:
        arg_names = ("w",)
        outputs = ("ret", "w")

    def update(w):
        w -= 1.0
        return None

    out = proto.run(Ex(), update, Case((np.ones(2),)), {})
    assert out.mutated == () and np.array_equal(out.outputs[1], np.zeros(2))
