"""The exercise registry: every exercise is declared once, with :func:`register`.

Exercise modules live in ``course/grader/topics/`` and are imported the first time the registry
is asked for anything, so dropping a new module there is all it takes to add a topic. They are
named for the id prefix of the exercises they declare: ``network.*`` in ``topics/network.py``,
``layers.*`` in ``topics/layers_*.py`` (a test keeps it so). See the package docstring of
:mod:`course.grader` for an example declaration.

The lessons are not listed here: :func:`lessons` derives them from ``solutions/`` and from the
lessons the exercises name, in the order of their numbers (:mod:`course.lessons`).
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import re
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

from .. import lessons as _lessons
from .run.protocols import Call, Protocol

__all__ = ["Exercise", "Variant", "register", "get", "exercises", "lessons", "all_lessons", "load_errors"]

_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")

#: Default tolerances per dtype of the expected output: (rtol, atol).
DEFAULT_TOLERANCES = {"float64": (1e-6, 1e-9), "float32": (1e-4, 1e-6)}


@dataclass(frozen=True)
class Variant:
    """A deliberately wrong implementation: when the learner's output matches it (and not the
    reference), the grader shows ``message`` under the diagnosis ``name``.

    The run phase calls ``fn`` through the exercise's protocol like a learner's function
    (with ``options``, e.g. ``{"backward": bug}`` for a protocol that takes one), and keeps its
    outputs as data for the compare phase."""

    name: str
    fn: Callable
    message: str
    options: tuple = ()  # ((key, value), ...) passed to the protocol's run


@dataclass(eq=False)
class Exercise:
    """One exercise. Create it with :func:`register`.

    - id: stable id "topic.name"; lesson: e.g. "03_backprop"; title: a few words; points.
    - reference: the reference implementation (the same call signature the learner writes).
    - make_cases: ``rng -> list[Case]`` (see :mod:`course.grader.cases`).
    - outputs: names of the function's outputs. One name: a single value is returned. Several:
      a tuple is returned; ``None`` marks an output that is not graded (e.g. a forward's cache).
    - arg_names: names of the positional arguments (used in messages, e.g. "changed x in place").
    - protocol: how the function is called (:mod:`course.grader.run.protocols`); default a plain call.
    - tolerances: ``{dtype name: (rtol, atol)}`` overriding :data:`DEFAULT_TOLERANCES`.

    Data read by entries of the diagnosis table (:mod:`course.grader.compare.diagnoses`):

    - variants: deliberately wrong implementations that name a bug when matched ("variants").
    - diagnoses: exercise-specific diagnoses ``ctx -> Diagnosis | None`` ("exercise"); they read
      data only (the context of one case), never run code.
    - factor_hints: ``{factor: advice}`` shown when the output is off by exactly that factor ("factor").
    - judge: ``ctx -> (ok, diagnoses, checks)`` replacing the usual output comparison ("judge").
    - hints: shown to a learner whose answer fails, in order.
    - fd_words: how to call the two halves checked against each other with finite differences.
    """

    id: str
    lesson: str
    title: str
    reference: Callable
    make_cases: Callable
    points: float = 1.0
    outputs: tuple = ("out",)
    arg_names: tuple = ()
    protocol: Protocol = field(default_factory=Call)
    tolerances: dict = field(default_factory=dict)
    variants: tuple = ()
    diagnoses: tuple = ()
    factor_hints: dict = field(default_factory=dict)
    judge: Callable | None = None
    hints: tuple = ()
    fd_words: tuple = ("forward", "backward")
    module: str = ""  # where the reference is defined
    declared_in: str = ""  # the topic module that registered the exercise

    @property
    def single_output(self) -> bool:
        return len(self.outputs) == 1

    def tolerance(self, dtype_name: str) -> tuple[float, float]:
        table = {**DEFAULT_TOLERANCES, **self.tolerances}
        return table.get(dtype_name, table["float64"])

    def __repr__(self):
        return f"<Exercise {self.id} ({self.lesson}, {self.points:g} point(s)): {self.title}>"


_REGISTRY: dict[str, Exercise] = {}
_LOAD_ERRORS: dict[str, str] = {}
_loaded = False


def register(
    id: str,
    *,
    lesson: str,
    title: str,
    reference: Callable,
    cases: Callable,
    points: float = 1.0,
    outputs: tuple | str = ("out",),
    arg_names: tuple = (),
    protocol: Protocol | None = None,
    tolerances: dict | None = None,
    variants: tuple = (),
    diagnoses: tuple = (),
    factor_hints: dict | None = None,
    judge: Callable | None = None,
    hints: tuple | str = (),
    fd_words: tuple = ("forward", "backward"),
) -> Exercise:
    """Declare an exercise (see :class:`Exercise` for the fields) and return it."""
    if not isinstance(id, str) or not _ID.match(id):
        raise ValueError(f"register: id must look like 'topic.name' (lowercase), got {id!r}")
    if not _lessons.is_lesson(lesson):
        raise ValueError(f"register: lesson must look like '03_backprop', got {lesson!r}")
    if id in _REGISTRY:
        raise ValueError(f"register: exercise {id!r} is already declared (in {_REGISTRY[id].declared_in})")
    if not callable(reference) or not callable(cases):
        raise TypeError(f"register({id!r}): reference and cases must be callables")
    if points <= 0:
        raise ValueError(f"register({id!r}): points must be > 0, got {points!r}")
    if isinstance(outputs, str):
        outputs = (outputs,)
    if isinstance(hints, str):
        hints = (hints,)
    for attr in ("judge", "diagnose"):  # the old protocol hooks: the diagnosis table reads data instead
        if callable(getattr(protocol, attr, None)):
            raise TypeError(
                f"register({id!r}): protocols no longer judge or diagnose ({type(protocol).__name__}.{attr}); "
                f"pass {'judge=fn' if attr == 'judge' else 'diagnoses=(fn,)'} to register instead, or add an "
                "entry to the table in course/grader/compare/diagnoses.py"
            )
    for v in variants:
        if not isinstance(v, Variant):
            raise TypeError(f"register({id!r}): variants must be Variant(name, fn, message), got {v!r}")
    ex = Exercise(
        id=id,
        lesson=lesson,
        title=title,
        reference=reference,
        make_cases=cases,
        points=float(points),
        outputs=tuple(outputs),
        arg_names=tuple(arg_names),
        protocol=protocol if protocol is not None else Call(),
        tolerances=dict(tolerances or {}),
        variants=tuple(variants),
        diagnoses=tuple(diagnoses),
        factor_hints=dict(factor_hints or {}),
        judge=judge,
        hints=tuple(hints),
        fd_words=tuple(fd_words),
        module=getattr(reference, "__module__", "") or "",
        declared_in=_caller_module(),
    )
    _REGISTRY[id] = ex
    return ex


def _caller_module() -> str:
    """The first module outside this one on the call stack: the topic that called register."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    return frame.f_globals.get("__name__", "") if frame is not None else ""


def _load() -> None:
    """Import every module of ``course.grader.topics`` once (each declares its exercises)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    package = importlib.import_module("course.grader.topics")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        name = f"{package.__name__}.{info.name}"
        try:
            importlib.import_module(name)
        except Exception as exc:  # one broken topic must not take the other checks down
            _LOAD_ERRORS[name] = f"{type(exc).__name__}: {exc}"
            warnings.warn(f"course.grader: could not load {name}: {exc}", RuntimeWarning, stacklevel=2)


def load_errors() -> dict[str, str]:
    """Exercise modules that failed to import, with the error (empty when all is well)."""
    _load()
    return dict(_LOAD_ERRORS)


def get(exercise_id: str) -> Exercise:
    """The exercise with this id; a ``KeyError`` suggests close ids for a typo."""
    _load()
    try:
        return _REGISTRY[exercise_id]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(exercise_id), list(_REGISTRY), n=3)
        hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
        broken = f" (modules that failed to load: {', '.join(_LOAD_ERRORS)})" if _LOAD_ERRORS else ""
        raise KeyError(f"no exercise {exercise_id!r}{hint}{broken}") from None


def exercises(lesson: str | None = None) -> list[Exercise]:
    """All exercises, in lesson order then declaration order; only one lesson's when given."""
    _load()
    found = [ex for ex in _REGISTRY.values() if lesson is None or ex.lesson == lesson]
    return sorted(found, key=lambda ex: (_lessons.number(ex.lesson), ex.lesson))


def lessons() -> list[str]:
    """The lessons that have at least one exercise, in course order."""
    return list(dict.fromkeys(ex.lesson for ex in exercises()))


def all_lessons() -> tuple[str, ...]:
    """Every lesson of the course, in order: those of ``solutions/`` (in a checkout) and those
    that exercises name (an exercise may name a lesson whose notebook is still to come)."""
    _load()
    return tuple(_lessons.ordered([*_lessons.from_directory(None), *(ex.lesson for ex in _REGISTRY.values())]))


def __getattr__(name):
    if name == "LESSONS":  # derived, never edited by hand
        return all_lessons()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
