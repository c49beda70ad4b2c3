"""``course grade``: grade a class's notebooks into a gradebook.

::

    course grade SUBMISSION... [--out DIR] [--format csv,json,gradescope] [--jobs N]
                 [--timeout S] [--memory MB] [--hidden FILE] [--lesson NN_topic] [--seed N]
                 [--solutions DIR]

Each submission (a notebook, or every ``*.ipynb`` under a folder) is graded on its own, in a fresh
kernel in a child process with limits (:mod:`course.instructor.sandbox`): its cells run, then the
grader's run phase calls its exercise functions on the grader's cases. The outcomes come back as
plain data; the reference values and the comparison are computed here, in the grader's process,
which no learner code ever runs in. See the README section "Grading a class".
"""

from __future__ import annotations

import hashlib
import secrets
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..grader import registry
from ..grader.cases import cases as make_cases
from ..grader.compare import CaseResult, Diagnosis, compare_case
from ..grader.grading import reference_outcomes
from ..grader.report import Result
from ..grader.runner import ErrorInfo, Outcome
from ..grader.runner import run as run_phase
from . import adjust, class_report, extract, hidden, sandbox

__all__ = [
    "GradingError",
    "SetGrade",
    "ExerciseGrade",
    "SubmissionGrade",
    "Grader",
    "collect_submissions",
    "grade_batch",
    "add_arguments",
    "run_command",
]

MAX_NOTEBOOK_BYTES = 50 * 2**20
FORMATS = ("csv", "json", "gradescope")


class GradingError(RuntimeError):
    """The grader itself cannot run (bad option, missing solutions, a reference that fails)."""


@dataclass
class SetGrade:
    """One test set of one exercise: the cases of one seed, or the hidden ones."""

    label: str
    hidden: bool
    visibility: str
    seed: int
    n_cases: int
    n_passed: int = 0
    result: Result | None = None
    note: str = ""


@dataclass
class ExerciseGrade:
    """status: passed, failed, not_attempted, error, missing, uses_reference, no_result, not_graded."""

    id: str
    title: str
    points: float
    score: float = 0.0
    status: str = "not_graded"
    sets: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def n_cases(self) -> int:
        return sum(s.n_cases for s in self.sets)

    @property
    def n_passed(self) -> int:
        return sum(s.n_passed for s in self.sets)


@dataclass
class SubmissionGrade:
    """status: graded, timeout, crashed, invalid, empty, unknown_lesson, lesson_mismatch, tampering."""

    name: str
    path: str
    lesson: str | None = None
    status: str = "graded"
    exercises: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    remarks: list = field(default_factory=list)
    cell_errors: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises.values()), 4)

    @property
    def max_score(self) -> float:
        return round(sum(e.points for e in self.exercises.values()), 4)

    @property
    def ran(self) -> bool:
        """The grader could run this submission's code (whatever its score)."""
        return self.status in ("graded", "timeout", "tampering", "empty")


# ---------------------------------------------------------------------------------------------
# Submissions


def collect_submissions(paths) -> list[tuple[str, Path]]:
    """``(name, path)`` per submission, sorted by name: files as given, folders searched for
    ``*.ipynb`` (checkpoints skipped). The name is the path inside the folder without ``.ipynb``
    (a file's own name for a file); names found more than once get their folder's name in front
    (``solutions/03_backprop`` and ``notebooks/03_backprop``). A path that does not exist raises
    :class:`GradingError`."""
    found: list[tuple[str, str, Path]] = []  # (name, qualifier, path)
    for p in map(Path, paths):
        if p.is_dir():
            for nb in sorted(p.rglob("*.ipynb")):
                if ".ipynb_checkpoints" in nb.parts or not nb.is_file():
                    continue
                found.append((nb.relative_to(p).with_suffix("").as_posix(), p.resolve().name, nb))
        elif p.exists():
            found.append((p.stem if p.suffix == ".ipynb" else p.name, p.resolve().parent.name, p))
        else:
            raise GradingError(f"{p}: no such file or folder")
    seen: set = set()
    found = [f for f in found if not (f[2].resolve() in seen or seen.add(f[2].resolve()))]
    counts: dict[str, int] = {}
    for name, _, _ in found:
        counts[name] = counts.get(name, 0) + 1
    out, used = [], set()
    for name, qualifier, path in found:
        if counts[name] > 1:
            name = f"{qualifier}/{name}" if qualifier else name
        base, k = name, 1
        while name in used:
            k += 1
            name = f"{base}-{k}"
        used.add(name)
        out.append((name, path))
    return sorted(out, key=lambda item: item[0])


# ---------------------------------------------------------------------------------------------
# The grader's files: noticed if a submission writes to them


class FileGuard:
    """Notices when a submission writes to the grader's files (the solutions, the hidden tests,
    the ``course`` package). It only reports: it never writes or deletes anything (the grades of
    this batch are safe anyway: the grader read everything it needs before any learner code ran).
    Files inside a git checkout are left to git (people edit them while tests run).

    Submissions are checked as they finish; a change is blamed on every submission that ran
    since the last clean check (one, with ``--jobs 1``).
    """

    def __init__(self, roots):
        self.roots = [Path(r) for r in roots if r is not None and Path(r).exists() and not _in_checkout(Path(r))]
        self.lock = threading.Lock()
        self.active: set = set()
        self.window: set = set()
        self.flags: dict = {}  # submission -> (problems, number of suspects)
        self.files = self._state()

    def _walk(self):
        for root in self.roots:
            if root.is_file():
                yield root
                continue
            for path in root.rglob("*"):
                if "__pycache__" not in path.parts and (path.is_file() or path.is_symlink()):
                    yield path

    def _state(self) -> dict:
        state = {}
        for path in self._walk():
            try:
                state[path] = "link" if path.is_symlink() and not path.is_file() else hashlib.sha256(
                    path.read_bytes()).hexdigest()
            except OSError:
                state[path] = "unreadable"
        return state

    def _check(self) -> list[str]:
        now = self._state()
        problems = [f"changed {p}" for p, h in self.files.items() if p in now and now[p] != h]
        problems += [f"removed {p}" for p in self.files if p not in now]
        problems += [f"added {p}" for p in now if p not in self.files]
        self.files = now  # report each change once
        return problems

    def begin(self, name: str) -> None:
        with self.lock:
            self.active.add(name)
            self.window.add(name)

    def end(self, name: str) -> tuple[list, int]:
        """``(problems, number of suspects)`` for the submission that just finished."""
        with self.lock:
            problems = self._check()
            if problems:
                for suspect in self.window:
                    old, _ = self.flags.get(suspect, ([], 0))
                    self.flags[suspect] = (old + problems, len(self.window))
            self.active.discard(name)
            self.window = set(self.active)
            return self.flags.pop(name, ([], 0))


def _in_checkout(path: Path) -> bool:
    return any((p / ".git").exists() for p in [path.resolve(), *path.resolve().parents])


def _digest(paths) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p).encode())
    return h.hexdigest()[:12]


# ---------------------------------------------------------------------------------------------
# Lessons: the exercises and their test sets


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
    problems: list = field(default_factory=list)

    @property
    def max_score(self) -> float:
        return sum(ex.points for ex in self.exercises)


def _references(exercise, case_list, label: str) -> list[Outcome]:
    outs = run_phase(exercise, exercise.reference, case_list)
    for i, o in enumerate(outs):
        if o.error is not None:
            raise GradingError(
                f"the reference for {exercise.id} fails on {label}, case {i + 1} "
                f"({case_list[i].note or 'no note'}): {o.error.type}: {o.error.message}"
            )
    return outs


class Grader:
    """Grades submissions one by one (thread safe once the lessons are prepared)."""

    def __init__(self, solutions, *, seed: int, limits: sandbox.Limits, hidden_tests=None,
                 lesson: str | None = None):
        self.solutions = Path(solutions)
        self.seed = int(seed)
        self.limits = limits
        self.hidden = hidden_tests or hidden.HiddenTests()
        self.expected = lesson
        self.plans: dict[str, LessonPlan | str] = {}
        self.guard: FileGuard | None = None
        self._lock = threading.RLock()
        self.known = sorted(p.stem for p in self.solutions.glob("*.ipynb")) if self.solutions.is_dir() else []

    # -- lessons ------------------------------------------------------------------------------
    def plan(self, name: str) -> LessonPlan | str:
        """The lesson's plan, or a sentence saying why it cannot be graded."""
        with self._lock:
            return self._plan(name)

    def _plan(self, name: str) -> LessonPlan | str:
        if name in self.plans:
            return self.plans[name]
        path = self.solutions / f"{name}.ipynb"
        if not path.is_file():
            self.plans[name] = f"no solution notebook for lesson {name} in {self.solutions}"
            return self.plans[name]
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as exc:
            raise GradingError(f"{path}: cannot read the solution notebook ({exc})") from None
        bindings = extract.exercise_functions(nb)
        exercises = [ex for ex in registry.exercises(name) if ex.id in bindings]
        foreign = [i for i in bindings if i not in {ex.id for ex in registry.exercises()}]
        if foreign:
            raise GradingError(f"{path}: check cells name unknown exercises {foreign}")
        if not exercises:
            self.plans[name] = f"lesson {name} has no graded exercises (no check cells in {path})"
            return self.plans[name]
        sets = {}
        for ex in exercises:
            seed_cases = make_cases(ex, self.seed)
            ex_sets = [TestSet(f"seed {self.seed}", False, "visible", self.seed, seed_cases,
                               list(reference_outcomes(ex, self.seed)))]
            for kind, what, visibility in self.hidden.for_exercise(ex.id):
                if kind == "seed":
                    c = make_cases(ex, what)
                    ex_sets.append(TestSet(f"hidden seed {what}", True, visibility, what, c,
                                           _references(ex, c, f"hidden seed {what}")))
                else:
                    ex_sets.append(TestSet("hidden cases", True, visibility, -1, what,
                                           _references(ex, what, "the hidden cases")))
            for ts in ex_sets:
                for i, r in enumerate(ts.references):
                    if r.error is not None:
                        raise GradingError(f"the reference for {ex.id} fails on {ts.label}, case {i + 1}: "
                                           f"{r.error.type}: {r.error.message}")
            sets[ex.id] = ex_sets
        plan = LessonPlan(name, path, bindings, exercises, sets)
        self.plans[name] = plan
        return plan

    # -- one submission -----------------------------------------------------------------------
    def grade(self, name: str, path: Path) -> SubmissionGrade:
        start = time.monotonic()
        sub = SubmissionGrade(name, str(path))
        try:
            self._grade(sub, Path(path))
        finally:
            sub.seconds = round(time.monotonic() - start, 3)
        return sub

    def _fill(self, sub: SubmissionGrade, plan: LessonPlan, status: str, note: str) -> None:
        for ex in plan.exercises:
            sub.exercises[ex.id] = ExerciseGrade(ex.id, ex.title, ex.points, 0.0, status, notes=[note])

    def _grade(self, sub: SubmissionGrade, path: Path) -> None:
        nb, problem = read_notebook(path)
        if nb is None:
            sub.status = "invalid"
            sub.notes.append(problem)
            if self.expected and isinstance(self.plan(self.expected), LessonPlan):
                sub.lesson = self.expected
                self._fill(sub, self.plan(self.expected), "not_graded", problem)
            return
        if problem:
            sub.remarks.append(problem)
        lesson, how = extract.notebook_lesson(nb, path, self.known)
        if lesson is None:
            if self.expected:
                lesson, how = self.expected, "--lesson"
            else:
                sub.status = "unknown_lesson"
                sub.notes.append(f"cannot tell the lesson: {how}; pass --lesson")
                return
        sub.lesson = lesson
        if self.expected and lesson != self.expected:
            sub.status = "lesson_mismatch"
            note = f"lesson mismatch: this notebook is lesson {lesson} (from its {how}), expected {self.expected}"
            sub.notes.append(note)
            sub.lesson = self.expected
            plan = self.plan(self.expected)
            if isinstance(plan, LessonPlan):
                self._fill(sub, plan, "not_graded", "lesson mismatch")
            return
        plan = self.plan(lesson)
        if isinstance(plan, str):
            sub.status = "unknown_lesson"
            sub.notes.append(plan)
            return
        cells = extract.code_cells(nb)
        if not any(src.strip() for _, src in cells):
            sub.status = "empty"
            sub.notes.append("empty notebook: no code")
            self._fill(sub, plan, "missing", "empty notebook")
            return
        exercises = {ex.id: ex for ex in plan.exercises}
        findings = extract.scan(cells, plan.bindings, exercises)
        sub.remarks += findings.remarks
        if findings.syntax_errors:
            sub.remarks.append("syntax errors in cells " + ", ".join(str(i + 1) for i in findings.syntax_errors))
        if findings.tampering:
            sub.status = "tampering"
            sub.notes.append("graded 0: the notebook " + "; ".join(findings.tampering) + " (review by hand)")
            self._fill(sub, plan, "not_graded", "the notebook modifies the grader")
            return
        to_run = [(i, src) for i, src in cells if src.strip() and not extract.is_check_only(src)]
        tasks = []
        for ex in plan.exercises:
            b = plan.bindings[ex.id]
            tasks.append({"exercise": ex.id, "function": b.function, "forward": b.forward,
                          "sets": [(ts.label, ts.cases) for ts in plan.sets[ex.id]]})
        if self.guard is not None:
            self.guard.begin(sub.name)
        try:
            box = sandbox.run_notebook(to_run, tasks, self.limits)
        finally:
            touched, suspects = self.guard.end(sub.name) if self.guard is not None else ([], 0)
        if touched:
            what = "; ".join(touched[:5])
            if suspects == 1:
                sub.status = "tampering"
                sub.notes.append(f"graded 0: the notebook wrote to the grader's files ({what}); check them")
                self._fill(sub, plan, "not_graded", "wrote to the grader's files")
                return
            sub.notes.append(f"the grader's files were modified while this and {suspects - 1} other notebook(s) "
                             f"ran ({what}); check them; grade again with --jobs 1 to tell which")
        sub.cell_errors = {int(k) + 1: v for k, v in (box.cells.get("errors") or {}).items()
                           if isinstance(v, str) and str(k).isdigit()}
        for k, why in (box.cells.get("skipped") or {}).items():
            if str(k).isdigit() and isinstance(why, str):
                sub.notes.append(f"cell {int(k) + 1} {why[:200]}: skipped, the kernel was restarted")
        if box.status == "timeout":
            sub.status = "timeout"
            sub.notes.append(f"ran out of time ({self.limits.timeout:g} s): exercises not reached score 0")
        elif box.status == "crashed" or not box.cells.get("graded"):
            sub.status = "crashed" if box.status == "crashed" else sub.status
            if box.status == "crashed":
                last = box.log.strip().splitlines()[-1:] or ["no message"]
                sub.notes.append(f"the grading process stopped (exit code {box.returncode}): {last[0][:300]}")
        for t, ex in enumerate(plan.exercises):
            sub.exercises[ex.id] = self._exercise(ex, t, plan, box, findings)
        attempted = [e for e in sub.exercises.values() if e.status != "not_attempted"]
        if not attempted:
            sub.notes.append("not attempted: every exercise still raises NotImplementedError")
        else:
            missing = [e.id for e in sub.exercises.values() if e.status == "not_attempted"]
            if missing:
                sub.notes.append("not attempted: " + ", ".join(missing))
        for e in sub.exercises.values():
            if e.status in ("uses_reference", "missing", "no_result"):
                sub.notes.append(f"{e.id}: {e.notes[0]}")

    def _exercise(self, ex, t: int, plan: LessonPlan, box: sandbox.SandboxResult, findings) -> ExerciseGrade:
        g = ExerciseGrade(ex.id, ex.title, ex.points)
        binding = plan.bindings[ex.id]
        meta = box.meta.get(t)
        set_metas = []
        for s, ts in enumerate(plan.sets[ex.id]):
            sg = SetGrade(ts.label, ts.hidden, ts.visibility, ts.seed, len(ts.cases))
            g.sets.append(sg)
            got = box.outcomes.get((t, s))
            if got is None:
                sg.note = box.missing.get((t, s), "no result")
                continue
            outcomes, set_meta = got
            set_metas.append(set_meta)
            sg.result = _compare(ex, ts, outcomes)
            sg.n_passed = sg.result.n_passed
        if meta is None and not set_metas:
            g.status = "no_result"
            why = "the notebook ran out of time" if box.status == "timeout" else "the grading process stopped"
            g.notes.append(f"no result: {why} before this exercise was graded")
            return g
        info = meta or set_metas[0]
        if not info.get("found"):
            g.status = "missing"
            g.notes.append(f"no `{binding.function}` defined after running the notebook")
            return g
        if not info.get("callable", False):
            g.status = "missing"
            g.notes.append(f"`{binding.function}` is a {str(info.get('type', '?'))[:40]}, not a function")
            return g
        why = findings.uses_reference.get(ex.id)
        if why is None and any(m.get(k) for m in [info, *set_metas] for k in
                               ("is_reference", "same_code", "course_file", "reference_called")):
            why = f"`{binding.function}` is or calls the course's own `{ex.reference.__name__}`"
        if why is not None:
            g.status = "uses_reference"
            g.notes.append(f"uses the course's reference implementation ({why}): graded 0")
            return g
        total, passed = g.n_cases, g.n_passed
        g.score = round(ex.points * passed / total, 4) if total else 0.0
        results = [s.result for s in g.sets if s.result is not None]
        statuses = [r.status for r in results]
        if total and passed == total:
            g.status = "passed"
        elif "not_attempted" in statuses:
            g.status = "not_attempted"
            g.notes.append("not attempted")
        elif results and all(s == "error" for s in statuses):
            g.status = "error"
        else:
            g.status = "failed" if results else "no_result"
        for s in g.sets:
            if s.result is None:
                g.notes.append(f"{s.label}: {s.note}")
        if any(m.get("timed_out") for m in set_metas):
            g.notes.append(f"timed out after {self.limits.exercise_timeout:g} s")
        return g


def _compare(ex, ts: TestSet, outcomes: list) -> Result:
    """The compare phase, case by case: a malformed outcome fails its case, never the batch."""
    outcomes = list(outcomes)[: len(ts.cases)]
    while len(outcomes) < len(ts.cases):
        outcomes.append(Outcome(error=ErrorInfo("exception", "NoResult", "no result for this case")))
    results = []
    for i, (case, out, ref) in enumerate(zip(ts.cases, outcomes, ts.references)):
        try:
            results.append(compare_case(ex, i, case, out, ref))
        except Exception as exc:  # outputs of a shape or kind the comparison cannot read
            results.append(CaseResult(i, case.note, False, [Diagnosis(
                "unreadable", f"Your result could not be compared ({type(exc).__name__}: {str(exc)[:200]}).")]))
    return Result(ex.id, ex.title, ex.lesson, ex.points, results, ex.hints, ts.seed)


def read_notebook(path: Path):
    """``(notebook, remark)``, or ``(None, reason)`` for a file that is not a usable notebook."""
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            return None, f"not graded: {path.name} is {size / 2**20:.0f} MB (more than {MAX_NOTEBOOK_BYTES >> 20} MB)"
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        return None, f"not graded: cannot read {path.name} ({exc.strerror})"
    except UnicodeDecodeError:
        return None, f"not a notebook: {path.name} is not UTF-8 text"
    if not text.strip():
        return None, f"not a notebook: {path.name} is empty (0 cells)"
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # NotJSONError, bad versions, ...
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        return None, f"not a notebook: {path.name} is not notebook JSON ({first})"
    if not isinstance(nb.get("cells"), list):
        return None, f"not a notebook: {path.name} has no cells"
    try:
        nbformat.validate(nb)
    except Exception as exc:
        msg = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        return nb, f"the notebook does not validate ({msg}); graded anyway"
    return nb, ""


# ---------------------------------------------------------------------------------------------
# A batch


def default_solutions() -> Path:
    """``./solutions`` when it exists, else the repository's next to the ``course`` package."""
    here = Path("solutions")
    if here.is_dir():
        return here
    import course

    return Path(course.__file__).resolve().parents[1] / "solutions"


def grade_batch(paths, *, solutions=None, jobs: int = 1, limits: sandbox.Limits | None = None,
                hidden_file=None, lesson: str | None = None, seed: int | None = None,
                progress: bool = True, guard: bool = True) -> tuple[list[SubmissionGrade], dict]:
    """Grade every submission; returns ``(grades sorted by name, batch info)``.
    Raises :class:`GradingError` when the grader itself cannot run."""
    solutions = Path(solutions) if solutions is not None else default_solutions()
    if not solutions.is_dir():
        raise GradingError(f"{solutions}: no solutions folder (pass --solutions DIR)")
    if load := registry.load_errors():
        raise GradingError("exercise modules failed to load: " + "; ".join(f"{k}: {v}" for k, v in load.items()))
    limits = limits or sandbox.Limits()
    ids = {ex.id for ex in registry.exercises()}
    hidden_tests = hidden.load(hidden_file, ids) if hidden_file else None
    if lesson is not None and not (solutions / f"{lesson}.ipynb").is_file():
        raise GradingError(f"--lesson {lesson}: no {lesson}.ipynb in {solutions}")
    seed = secrets.randbelow(2**31 - 1) + 1 if seed is None else int(seed)
    submissions = collect_submissions(paths)
    if not submissions:
        raise GradingError("no notebooks found in " + ", ".join(map(str, paths)))
    grader = Grader(solutions, seed=seed, limits=limits, hidden_tests=hidden_tests, lesson=lesson)
    # prepare every lesson in sight before any learner code runs (references, case lists)
    for _, path in submissions:
        nb, _ = read_notebook(path)
        if nb is not None:
            name, _ = extract.notebook_lesson(nb, path, grader.known)
            if name and (lesson is None or name == lesson):
                grader.plan(name)
    if lesson:
        grader.plan(lesson)
    import course

    if guard:
        grader.guard = FileGuard([Path(course.__file__).resolve().parent, solutions.resolve(),
                                  Path(hidden_file).resolve() if hidden_file else None])
    start = time.monotonic()
    results: list[SubmissionGrade] = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(submissions), desc="grading", unit="notebook", file=sys.stderr)
    with ThreadPoolExecutor(max_workers=max(1, int(jobs))) as pool:
        futures = {pool.submit(grader.grade, name, path): name for name, path in submissions}
        for fut in as_completed(futures):
            try:
                results.append(fut.result())
            except Exception as exc:  # a bug here must not lose the rest of the batch
                name = futures[fut]
                path = dict(submissions)[name]
                note = f"the grader failed on this notebook: {type(exc).__name__}: {exc}"
                results.append(SubmissionGrade(name, str(path), status="crashed", notes=[note]))
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(futures[fut][-30:])
    if bar is not None:
        bar.close()
    results.sort(key=lambda s: s.name)
    lessons = [p for p in grader.plans.values() if isinstance(p, LessonPlan)]
    info = {
        "seed": seed,
        "solutions": str(solutions),
        "hidden": str(hidden_file) if hidden_file else None,
        "lessons": sorted(p.name for p in lessons),
        "exercises": [ex.id for ex in registry.exercises() if any(ex in p.exercises for p in lessons)],
        "limits": {"timeout": limits.timeout, "cell_timeout": limits.cell_timeout,
                   "exercise_timeout": limits.exercise_timeout, "memory_mb": limits.memory},
        "jobs": int(jobs),
        "seconds": round(time.monotonic() - start, 3),
        "id": _digest(p for _, p in submissions),
    }
    return results, info


# ---------------------------------------------------------------------------------------------
# The command


def add_arguments(parser) -> None:
    parser.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                        help="notebooks, or folders searched for *.ipynb")
    parser.add_argument("--out", default="grades", metavar="DIR", help="where the outputs go (default ./grades)")
    parser.add_argument("--format", default="csv,json", metavar="LIST",
                        help="comma-separated: csv (gradebook.csv), json (grades.json), gradescope "
                             "(results.json for one submission, gradescope/NAME.json for each); default csv,json. "
                             "Feedback files are always written.")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="grade N submissions in parallel")
    parser.add_argument("--timeout", type=float, default=300.0, metavar="S",
                        help="wall-clock seconds per submission (default 300)")
    parser.add_argument("--cell-timeout", type=float, default=None, metavar="S",
                        help="seconds per notebook cell (default: a third of --timeout, at most 60)")
    parser.add_argument("--exercise-timeout", type=float, default=None, metavar="S",
                        help="seconds per exercise's test set (default: like --cell-timeout)")
    parser.add_argument("--memory", type=int, default=4096, metavar="MB",
                        help="address-space limit per process of a submission, in MB (default 4096; 0: none)")
    parser.add_argument("--hidden", default=None, metavar="FILE",
                        help="hidden tests (JSON, see course.instructor.hidden)")
    parser.add_argument("--lesson", default=None, metavar="NN_topic",
                        help="the lesson expected; notebooks of another lesson are recorded as a lesson mismatch")
    parser.add_argument("--seed", type=int, default=None, metavar="N",
                        help="the grading seed (default: a new random one, printed and saved; 0 is the learners' own)")
    parser.add_argument("--solutions", default=None, metavar="DIR",
                        help="the solution notebooks (default ./solutions, else the repository's)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    adjust.add_arguments(parser)


def limits_from(args) -> sandbox.Limits:
    timeout = float(args.timeout)
    cell = args.cell_timeout if args.cell_timeout is not None else max(5.0, min(60.0, timeout / 3))
    exercise = args.exercise_timeout if args.exercise_timeout is not None else cell
    return sandbox.Limits(timeout=timeout, cell_timeout=float(cell), exercise_timeout=float(exercise),
                          memory=int(args.memory))


def run_command(args) -> int:
    from . import outputs

    formats = [f.strip() for f in str(args.format).split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        print(f"course grade: error: --format: unknown {bad}; choose from {', '.join(FORMATS)}", file=sys.stderr)
        return 2
    if args.jobs < 1 or args.timeout <= 0 or args.memory < 0:
        print("course grade: error: --jobs must be >= 1, --timeout > 0 and --memory >= 0", file=sys.stderr)
        return 2
    try:
        plan = adjust.Plan(args)  # late policy and hand-graded scores: checked before any grading
    except (OSError, ValueError) as exc:
        print(f"course grade: error: {exc}", file=sys.stderr)
        return 2
    if plan.wanted and "json" not in formats:
        formats.append("json")
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".course-grade-probe"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        print(f"course grade: error: {out}: cannot write the outputs ({exc.strerror})", file=sys.stderr)
        return 2
    try:
        grades, info = grade_batch(args.submissions, solutions=args.solutions, jobs=args.jobs,
                                   limits=limits_from(args), hidden_file=args.hidden, lesson=args.lesson,
                                   seed=args.seed, progress=not args.no_progress)
    except (GradingError, hidden.HiddenError) as exc:
        print(f"course grade: error: {exc}", file=sys.stderr)
        return 2
    written = outputs.write_all(out, grades, info, formats)
    print(outputs.summary(grades, info, written))
    for line in plan.apply(out) + class_report.headline_from(out):
        print(line)
    return 0


def run(args) -> int:
    return run_command(args)
