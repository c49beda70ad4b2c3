"""A lesson's grading plan, made once per batch in the grader's process, before any learner code runs.

For each exercise of the lesson (the ones the solution notebook checks): the test sets (the
batch seed's cases, the hidden seeds and cases), the reference's outcomes on them, and the *task*
sent into the sandbox: the function's name, the protocol as data, and the cases with every
reference-computed input they need there (a backward's forward cache, an optimizer's test
function). The sandbox holds no reference, so nothing it does can reach one.

Instructor input is checked here: a hidden case that the exercise's protocol cannot use, or on
which the reference fails, is a :class:`PlanError` naming the file, the exercise and the case.
"""

from __future__ import annotations

import dataclasses
import io
import pickle
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ...grader import registry
from ...grader.cases import cases as make_cases
from ...grader.cases import copy_data
from ...grader.grading import reference_outcomes
from ...grader.models.reference import run_reference
from ...grader.run.runner import Backward, Outcome, Sweep, Trajectory
from ..sandbox import view
from . import extract

__all__ = ["PlanError", "TestSet", "LessonPlan", "make_plan", "task_for", "RUN_PHASE"]

#: The package the sandbox holds of the grader (the grading view keeps it whole).
RUN_PHASE = "course.grader.run"
_NEEDS = {Backward: ("dout",), Trajectory: ("function", "w0", "steps"), Sweep: ("steps",)}


class PlanError(RuntimeError):
    """The lesson cannot be graded as the instructor set it up (the message says why)."""


@dataclass
class TestSet:
    label: str
    hidden: bool
    visibility: str
    seed: int
    cases: list
    references: list


@dataclass
class LessonPlan:
    name: str
    solution: Path
    bindings: dict  # exercise id -> extract.Binding
    exercises: list  # registry Exercise objects, in registry order
    sets: dict  # exercise id -> [TestSet]
    tasks: list = field(default_factory=list)  # what the sandbox gets, one per exercise

    @property
    def max_score(self) -> float:
        return sum(ex.points for ex in self.exercises)


def _references(exercise, case_list, label: str, source: str) -> list[Outcome]:
    """The reference's outcomes on instructor cases; any failure names the file and the case."""
    for i, case in enumerate(case_list):
        for cls, keys in _NEEDS.items():
            missing = [k for k in keys if k not in case.extra]
            if isinstance(exercise.protocol, cls) and missing:
                raise PlanError(f"{source}: {exercise.id}, {label}, case {i + 1}: a case of this exercise needs "
                                f"\"extra\": {{{', '.join(repr(k) for k in missing)}: ...}}"
                                + (" (the upstream gradient, shaped like the forward's output)"
                                   if "dout" in missing else ""))
    try:
        outs = run_reference(exercise, case_list)  # with the variants' outputs: hidden sets name them too
    except Exception as exc:
        raise PlanError(f"{source}: {exercise.id}, {label}: the reference cannot run on these cases "
                        f"({type(exc).__name__}: {exc})") from None
    for i, o in enumerate(outs):
        if o.error is not None:
            raise PlanError(f"{source}: the reference for {exercise.id} fails on {label}, case {i + 1} "
                            f"({case_list[i].note or 'no note'}): {o.error.type}: {o.error.message}")
    return outs


def _protocol_spec(ex):
    cls = type(ex.protocol)
    owner = next((c for c in cls.__mro__ if "run" in c.__dict__), cls)
    if not owner.__module__.startswith(RUN_PHASE + "."):
        raise PlanError(f"exercise {ex.id}: the run phase of its protocol {cls.__qualname__} is defined in "
                        f"{owner.__module__}, which the sandbox does not hold; define `run` in "
                        "course/grader/run/topic_protocols.py or lesson_protocols.py (no reference there); keep judges "
                        "and diagnoses in the topic")
    plain = (type(None), bool, int, float, str, tuple)
    state = {k: v for k, v in vars(ex.protocol).items() if isinstance(v, plain)}
    return owner.__module__, owner.__qualname__, state


class _ViewOnly(pickle.Unpickler):
    """Loads a pickle only if every ``course`` class in it is in the grading view."""

    allowed = None

    def find_class(self, module, name):
        if (module == "course" or module.startswith("course.")) and module not in self.allowed:
            raise PlanError(f"{module}.{name} is not in the grading view")
        return super().find_class(module, name)


def _objective(proto, name):
    from ... import functions
    from ..sandbox.inside.box import NamedObjective

    obj = proto.lookup(name)
    if functions.FUNCTIONS.get(name) is obj:
        return NamedObjective(name)
    return obj


def _shipped(ex, case):
    extra = dict(case.extra)
    if isinstance(ex.protocol, Backward):
        extra["_cache"] = ex.protocol.forward(*copy_data(case.args), **copy_data(case.kwargs))[1]
    if isinstance(ex.protocol, Trajectory):
        extra["_objectives"] = {case.extra["function"]: _objective(ex.protocol, case.extra["function"])}
    return dataclasses.replace(case, extra=extra)


def task_for(ex, binding, sets) -> dict:
    """The sandbox's task for one exercise: plain data (checked to load in the grading view)."""
    task = {
        "exercise": {"id": ex.id, "arg_names": tuple(ex.arg_names), "outputs": tuple(ex.outputs)},
        "protocol": _protocol_spec(ex),
        "function": binding.function,
        "forward": binding.forward,
        "sets": [(ts.label, [_shipped(ex, c) for c in ts.cases]) for ts in sets],
        "hidden": [ts.hidden for ts in sets],
    }
    _ViewOnly.allowed = view.modules()
    try:
        _ViewOnly(io.BytesIO(pickle.dumps(task))).load()
    except PlanError as exc:
        raise PlanError(f"exercise {ex.id}: its cases need {exc}; send them as arrays or move the class "
                        "into a module of the view") from None
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise PlanError(f"exercise {ex.id}: its cases cannot be sent into the sandbox ({exc})") from None
    return task


#: The grader's own cases of an exercise come from this many seeds: three times the cases of a
#: check cell, so that one case weighs a third as much and partial credit barely depends on the seed.
SEEDS_PER_SET = 3


def set_seeds(seed: int) -> list[int]:
    """The seeds whose cases make up an exercise's graded test set (the first is ``seed``)."""
    return [int(seed) + 7919 * k for k in range(SEEDS_PER_SET)]


def make_plan(name: str, solutions: Path, seed: int, hidden_tests, hidden_source: str) -> LessonPlan | str:
    """The plan of lesson ``name``, or a sentence saying why it cannot be graded. Raises
    :class:`PlanError` for what the instructor must fix."""
    sys.modules.setdefault("rfc3987_syntax", None)  # jsonschema's URI formats: 2 s to import, not used
    import nbformat

    path = Path(solutions) / f"{name}.ipynb"
    if not path.is_file():
        return f"no solution notebook for lesson {name} in {solutions}"
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:
        raise PlanError(f"{path}: cannot read the solution notebook ({exc})") from None
    bindings = extract.exercise_functions(nb)
    known = {ex.id for ex in registry.exercises()}
    foreign = [i for i in bindings if i not in known]
    if foreign:
        raise PlanError(f"{path}: check cells name unknown exercises {foreign}")
    exercises = [ex for ex in registry.exercises(name) if ex.id in bindings]
    if not exercises:
        return f"lesson {name} has no graded exercises (no check cells in {path})"
    sets = {}
    for ex in exercises:
        seeds = set_seeds(seed)
        seed_cases = [c for s in seeds for c in make_cases(ex, s)]
        refs = [r for s in seeds for r in reference_outcomes(ex, s)]
        ex_sets = [TestSet("tests", False, "visible", seed, seed_cases, refs)]
        for k, (kind, what, visibility) in enumerate(hidden_tests.for_exercise(ex.id), start=1):
            if kind == "seed":  # labels never show a seed: a learner must not be able to draw the cases
                c = make_cases(ex, what)
                ex_sets.append(TestSet(f"hidden tests {k}", True, visibility, what, c,
                                       _references(ex, c, f"hidden seed {what}", hidden_source)))
            else:
                ex_sets.append(TestSet("hidden cases", True, visibility, -1, what,
                                       _references(ex, what, "the hidden cases", hidden_source)))
        sets[ex.id] = ex_sets
    plan = LessonPlan(name, path, bindings, exercises, sets)
    plan.tasks = [task_for(ex, bindings[ex.id], sets[ex.id]) for ex in exercises]
    return plan
