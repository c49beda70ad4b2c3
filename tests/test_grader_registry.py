"""The exercise registry: every exercise is well formed, its reference scores full marks, cases are
seeded, and every named variant (a deliberately wrong implementation) is caught by name."""

import numpy as np
import pytest

from course.grader import (
    LESSONS,
    Case,
    cases,
    check,
    exercises,
    get,
    grade_outcomes,
    lessons,
    load_errors,
    register,
    run,
)
from course.grader import registry as _registry
from course.grader.run.runner import run_case


@pytest.fixture(autouse=True)
def _progress_off(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


ALL = [ex.id for ex in exercises()]
VARIANTS = [(ex.id, v.name) for ex in exercises() for v in ex.variants]


def test_every_exercise_module_loads():
    assert load_errors() == {}
    assert len(ALL) >= 40


@pytest.mark.parametrize(
    "prefix",
    ["layers.", "losses.", "autograd.", "gradcheck.", "optim.", "schedules.", "gradients.", "averages."],
)
def test_every_topic_is_covered(prefix):
    assert any(i.startswith(prefix) for i in ALL)


def test_required_exercises_exist():
    required = [
        "layers.relu_forward", "layers.relu_backward", "layers.leaky_relu_forward", "layers.leaky_relu_backward",
        "layers.sigmoid_forward", "layers.sigmoid_backward", "layers.tanh_forward", "layers.tanh_backward",
        "layers.linear_forward", "layers.linear_backward", "layers.softmax", "layers.log_softmax",
        "losses.mse_loss", "losses.softmax_cross_entropy", "losses.binary_cross_entropy_with_logits",
        "autograd.value_add", "autograd.value_mul", "autograd.backward", "autograd.topological_order",
        "gradcheck.numerical_gradient", "gradcheck.numerical_gradient_array", "gradcheck.relative_error",
        "optim.sgd", "optim.sgd_momentum", "optim.momentum_classic", "optim.momentum_ema", "optim.adagrad",
        "optim.rmsprop", "optim.adam", "optim.adamw", "schedules.step_lr", "schedules.exponential_lr",
        "schedules.cosine_annealing_lr", "schedules.linear_warmup_lr", "schedules.cyclic_lr",
        "gradients.clip_grad_norm", "gradients.clip_grad_value", "averages.ema",
    ]
    missing = [r for r in required if r not in ALL]
    assert not missing


@pytest.mark.parametrize("exercise_id", ALL)
def test_record_is_well_formed(exercise_id):
    ex = get(exercise_id)
    assert ex.id == exercise_id
    assert ex.lesson in LESSONS
    assert ex.points > 0
    assert ex.title and isinstance(ex.title, str)
    assert ex.hints and all(isinstance(h, str) and h for h in ex.hints)
    assert len(cases(ex, 0)) >= 2


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("exercise_id", ALL)
def test_reference_scores_full_marks(exercise_id, seed):
    ex = get(exercise_id)
    result = check(exercise_id, ex.reference, seed=seed)
    assert result.passed, str(result)
    assert result.score == result.max_score == ex.points
    assert all(c.passed for c in result.cases)
    assert not [d for d in result.diagnoses if d.fails]


@pytest.mark.parametrize("exercise_id", ALL)
def test_cases_are_seeded(exercise_id):
    from course.grader.cases import same_data

    ex = get(exercise_id)
    a, b, c = cases(ex, 3), cases(ex, 3), cases(ex, 4)
    assert all(same_data(x.args, y.args) and same_data(x.extra, y.extra) for x, y in zip(a, b))
    assert [x.note for x in a] == [y.note for y in b]
    assert len(a) == len(c)


@pytest.mark.parametrize("exercise_id", [i for i in ALL if i.startswith(("layers.", "losses.", "optim."))])
def test_hard_coded_answers_fail_with_another_seed(exercise_id):
    """Replaying the outputs of seed 0 (what a learner could copy) does not pass seed 1."""
    ex = get(exercise_id)
    recorded = [o.outputs for o in run(ex, ex.reference, cases(ex, 0))]
    calls = iter(recorded * 10)

    def replay(*args, **kwargs):
        return next(calls)

    if exercise_id.startswith("optim."):
        paths = iter(recorded)
        state = {"path": None, "k": 0}

        def replay(w, g, st, **hp):  # noqa: F811 - replays the path of seed 0, step by step
            if not st:
                state["path"], state["k"] = next(paths), 0
                st["started"] = True
            state["k"] += 1
            w[...] = state["path"][state["k"]]
            return w

    result = check(exercise_id, replay, seed=1)
    assert not result.passed


@pytest.mark.parametrize("exercise_id, variant", VARIANTS)
def test_each_variant_is_named_when_matched(exercise_id, variant):
    ex = get(exercise_id)
    v = next(v for v in ex.variants if v.name == variant)
    if v.options:  # a variant that drives the protocol another way: its outcomes, then compare
        case_list = cases(ex, 0)
        outcomes = [run_case(ex, v.fn, c, dict(v.options)) for c in case_list]
        result = grade_outcomes(ex, 0, case_list, outcomes)
    else:
        result = check(exercise_id, v.fn)
    assert not result.passed
    assert result.score < result.max_score
    assert variant in result.diagnosis_names, str(result)


def test_reference_trajectories_stay_finite_and_amsgrad_matters():
    from course.grader.topics import optim_adaptive as topic

    for ex in exercises():
        if ex.id.startswith("optim."):
            for o in run(ex, ex.reference, cases(ex, 0)):
                assert np.all(np.isfinite(o.outputs))
    ex = get("optim.adam")
    case = next(c for c in cases(ex, 0) if c.kwargs.get("amsgrad"))
    with_ams = run(ex, ex.reference, [case])[0].outputs
    case.kwargs["amsgrad"] = False
    without = run(ex, ex.reference, [case])[0].outputs
    assert not np.allclose(with_ams, without)
    # the grader's switchable Adam, with no bug switched on, is Adam
    for c in cases(ex, 0):
        a = run(ex, ex.reference, [c])[0].outputs
        b = run(ex, topic._adam_variant(False), [c])[0].outputs
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_exercises_filter_and_lessons():
    assert {ex.lesson for ex in exercises("03_backprop")} == {"03_backprop"}
    assert exercises("99_nothing") == []
    found = lessons()
    assert found == [name for name in LESSONS if name in found]


def test_unknown_id_suggests_close_ones():
    with pytest.raises(KeyError, match="layers.relu_forward"):
        get("layers.relu_foward")


def test_register_validates_and_rejects_duplicates(monkeypatch):
    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))

    def cases_fn(rng):
        return [Case((rng.standard_normal(3),))]

    ex = register("warmup.double", lesson="00_getting_started", title="Double", reference=lambda x: 2 * x,
                  cases=cases_fn, hints="2 * x")
    assert get("warmup.double") is ex and ex.hints == ("2 * x",)
    assert check("warmup.double", lambda x: x + x).passed
    assert not check("warmup.double", lambda x: 3 * x).passed
    with pytest.raises(ValueError, match="already declared"):
        register("warmup.double", lesson="00_getting_started", title="x", reference=abs, cases=cases_fn)
    with pytest.raises(ValueError, match="id"):
        register("NoDot", lesson="00_getting_started", title="x", reference=abs, cases=cases_fn)
    with pytest.raises(ValueError, match="lesson"):
        register("warmup.other", lesson="getting started", title="x", reference=abs, cases=cases_fn)


@pytest.mark.parametrize("exercise_id", ALL)
def test_an_exercise_is_declared_in_the_topic_module_named_by_its_id(exercise_id):
    """``layers.relu_forward`` is declared in topics/layers.py or topics/layers_*.py."""
    ex = get(exercise_id)
    prefix = exercise_id.split(".")[0]
    package, _, module = ex.declared_in.rpartition(".")
    assert package == "course.grader.topics", ex.declared_in
    assert module == prefix or module.startswith(prefix + "_"), (exercise_id, ex.declared_in)


def test_lessons_are_derived_from_the_solutions_and_the_exercises(monkeypatch, tmp_path):
    from course import lessons as lesson_names

    assert list(LESSONS) == lesson_names.ordered(LESSONS)
    assert set(lesson_names.from_directory(None)) <= set(LESSONS)
    (tmp_path / "42_a_new_lesson.ipynb").write_text("{}")
    (tmp_path / "notes.ipynb").write_text("{}")
    monkeypatch.setattr(lesson_names, "solutions_dir", lambda: tmp_path)
    derived = _registry.all_lessons()
    assert "42_a_new_lesson" in derived and "notes" not in derived
    assert set(lessons()) <= set(derived)


def test_a_protocol_with_the_old_judge_hook_is_refused():
    from course.grader.run.protocols import Call

    class Old(Call):
        def judge(self, ctx):
            return None

    with pytest.raises(TypeError, match=r"pass judge=fn to register instead"):
        register("demo.old_protocol", lesson="00_demo", title="t", reference=lambda x: x,
                 cases=lambda rng: [Case((1.0,))], protocol=Old(), hints=("h",))
