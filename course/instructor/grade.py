"""``course grade``: grade a class's notebooks into a gradebook.

::

    course grade SUBMISSION... [--out DIR] [--format csv,json,gradescope] [--jobs N]
                 [--timeout S] [--memory MB] [--hidden FILE] [--lesson NN_topic] [--seed N]
                 [--solutions DIR] [--isolation bwrap|process] [--on-copy flag|zero]

Before any learner code runs, the grader prepares each lesson in sight (:mod:`.plan`: cases,
reference outcomes, the data sent into the sandbox) and the grading view of ``course``
(:mod:`.view`). Each submission then goes through the stages of :mod:`.stages`; its code runs
only in its own bubblewrap sandbox (:mod:`.sandbox`, :mod:`.bwrap`), which holds no reference.
The batch then looks for near copies (:mod:`.copies`) and writes the outputs (:mod:`.outputs`).
See the README sections "Grading a class" and "Threat model".
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..grader import registry
from . import grade_options, quoting
from .course_admin import class_report
from .pipeline import copies, executors, extract, hidden, stages
from .pipeline.batch import grade_all, grader_failure
from .pipeline.plan import LessonPlan, PlanError, make_plan
from .pipeline.records import (
    ExerciseGrade,
    GradingError,
    SetGrade,
    SubmissionGrade,
    collect_submissions,
    read_notebook,
)
from .pipeline.store import Store
from .sandbox import host as sandbox
from .sandbox import view
from .sandbox.guard import FileGuard

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
    "PROCESS_WARNING",
]

FORMATS = ("csv", "json", "gradescope")
ON_COPY = ("flag", "zero")
PROCESS_WARNING = ("WARNING: graded without the OS sandbox (--isolation process): learner code ran as the "
                   "grader's user and could read the grader's files")


class Grader:
    """Grades submissions one by one (thread safe once the lessons are prepared)."""

    def __init__(self, solutions, *, seed: int, limits: sandbox.Limits, hidden_tests=None,
                 lesson: str | None = None, hidden_source: str = "", batch: sandbox.Batch | None = None):
        self.solutions = Path(solutions)
        self.seed = int(seed)
        self.limits = limits
        self.hidden = hidden_tests or hidden.HiddenTests()
        self.hidden_source = hidden_source or "the hidden tests"
        self.expected = lesson
        self.batch = batch
        self.plans: dict = {}
        self.guard: FileGuard | None = None
        self.sandboxes = None  # where sandboxes run (course.instructor.pipeline.executors); None: here
        self._lock = threading.RLock()
        self.known = sorted(p.stem for p in self.solutions.glob("*.ipynb")) if self.solutions.is_dir() else []

    def plan(self, name: str) -> LessonPlan | str:
        """The lesson's plan, or a sentence saying why it cannot be graded."""
        with self._lock:
            if name not in self.plans:
                try:
                    self.plans[name] = make_plan(name, self.solutions, self.seed, self.hidden, self.hidden_source)
                except PlanError as exc:
                    raise GradingError(str(exc)) from None
            return self.plans[name]

    def grade(self, name: str, path: Path) -> SubmissionGrade:
        start = time.monotonic()
        sub = SubmissionGrade(name, str(path))
        try:
            stages.run_pipeline(stages.Work(sub, Path(path), self))
        finally:
            sub.seconds = round(time.monotonic() - start, 3)
        return sub

    def work(self, name: str, path: Path) -> stages.Work:
        """Like :meth:`grade`, keeping the stages' intermediate results (for copy detection)."""
        start = time.monotonic()
        w = stages.Work(SubmissionGrade(name, str(path)), Path(path), self)
        try:
            stages.run_pipeline(w)
        finally:
            w.sub.seconds = round(time.monotonic() - start, 3)
        return w


def _digest(paths, contents: bool = False) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p).encode())
        if contents:
            h.update(Path(p).read_bytes())
    return h.hexdigest()[:12]


def default_solutions() -> Path:
    """``./solutions`` when it exists, else the repository's next to the ``course`` package."""
    here = Path("solutions")
    if here.is_dir():
        return here
    import course

    return Path(course.__file__).resolve().parents[1] / "solutions"


def mark_copies(works: list, on_copy: str) -> None:
    """Copy detection across the batch: near copies of the reference (found by :func:`stages.scan`)
    and between classmates go into ``copies``. With ``on_copy="zero"`` the exercises that copy the
    course's reference score 0; a pair of classmates with the same code is flagged on both sides
    and keeps its scores: the grader cannot tell who copied whom (nor stop a learner from
    submitting a classmate's code to zero the classmate), so that is decided by hand."""
    pairs = copies.classmate_copies({w.sub.name: w.attempted_shapes for w in works})
    for w in works:
        of_reference = [entry.split(":")[0] for entry in w.sub.copies]  # stages.scan's entries
        for ex_id in sorted({k for (n, k) in pairs if n == w.sub.name}):
            others = ", ".join(f"{o} ({s:.2f})" for o, s in pairs[(w.sub.name, ex_id)])
            w.sub.copies.append(f"{ex_id}: near copy of {others} (review by hand)")
        if on_copy == "zero":
            for ex_id in of_reference:
                e = w.sub.exercises.get(ex_id)
                if e is not None and e.score:
                    e.score = 0.0
                    e.notes.append("graded 0: a near copy of the course's reference (--on-copy zero)")


def _prepare(grader: Grader, submissions, lesson) -> list:
    """Every lesson in sight, planned before any learner code runs. Without ``--lesson``, a lesson
    that cannot be planned fails the submissions that name it, not the batch (a learner writes the
    notebook's metadata), unless no lesson at all can be graded."""
    failed = []
    for _, path in submissions:
        nb, _ = read_notebook(path)
        if nb is not None:
            name, _ = extract.notebook_lesson(nb, path, grader.known)
            if name and (lesson is None or name == lesson) and name not in grader.plans:
                try:
                    grader.plan(name)
                except GradingError as exc:
                    if lesson is not None:
                        raise
                    failed.append(exc)  # the reason is the instructor's (it may name hidden cases)
                    print(quoting.terminal(f"course grade: warning: lesson {name} cannot be graded: {exc}", 2000),
                          file=sys.stderr)
                    grader.plans[name] = f"lesson {name} cannot be graded here (the grader's output says why)"
    if lesson:
        grader.plan(lesson)
    plans = [p for p in grader.plans.values() if isinstance(p, LessonPlan)]
    if failed and not plans:
        raise failed[0]
    return plans


def grade_batch(paths, *, solutions=None, jobs: int = 1, limits: sandbox.Limits | None = None,
                hidden_file=None, lesson: str | None = None, seed: int | None = None,
                progress: bool = True, guard: bool | None = None, isolation: str = "bwrap",
                on_copy: str = "flag", scheduler=None, out=None,
                resume: bool = False) -> tuple[list[SubmissionGrade], dict]:
    """Grade every submission; returns ``(grades sorted by name, batch info)``.
    Raises :class:`GradingError` when the grader itself cannot run.

    scheduler: a Dask scheduler address, ``Client`` or cluster object: the sandboxes then run on
    its workers (:mod:`course.instructor.pipeline.executors`); ``None``: here, ``jobs`` at a time.
    out: the output folder: the assignment's secret seed is kept there (when ``seed`` is None),
    each submission's record is saved the moment it is graded and ``gradebook.csv`` rewritten;
    with ``resume`` the submissions already recorded there are not graded again
    (:mod:`course.instructor.pipeline.store`)."""
    if isolation not in sandbox.ISOLATIONS:
        raise GradingError(f"--isolation: {isolation!r} is not one of {', '.join(sandbox.ISOLATIONS)}")
    if on_copy not in ON_COPY:
        raise GradingError(f"--on-copy: {on_copy!r} is not one of {', '.join(ON_COPY)}")
    solutions = Path(solutions) if solutions is not None else default_solutions()
    if not solutions.is_dir():
        raise GradingError(f"{solutions}: no solutions folder (pass --solutions DIR)")
    if load := registry.load_errors():
        raise GradingError("exercise modules failed to load: " + "; ".join(f"{k}: {v}" for k, v in load.items()))
    limits = limits or sandbox.Limits()
    hidden_tests = hidden.load(hidden_file, {ex.id for ex in registry.exercises()}) if hidden_file else None
    if lesson is not None and not (solutions / f"{lesson}.ipynb").is_file():
        raise GradingError(f"--lesson {lesson}: no {lesson}.ipynb in {solutions}")
    store = Store(out, resume) if out is not None else None
    if seed is None:
        seed = store.seed() if store is not None else secrets.randbelow(2**31 - 1) + 1
    seed = int(seed)
    submissions = collect_submissions(paths)
    if not submissions:
        raise GradingError("no notebooks found in " + ", ".join(map(str, paths)))
    root = tempfile.mkdtemp(prefix="course-grade-")
    batch = grader = None
    try:
        grader = Grader(solutions, seed=seed, limits=limits, hidden_tests=hidden_tests, lesson=lesson,
                        hidden_source=str(hidden_file or ""))
        try:
            view_dir = str(view.build(Path(root) / "view", registry.exercises()))
        except view.ViewError as exc:
            raise GradingError(str(exc)) from None
        batch = grader.batch = sandbox.Batch(view_dir, root, isolation)
        if scheduler is not None:
            try:
                grader.sandboxes = executors.DaskSandboxes(scheduler, isolation)
            except (RuntimeError, OSError) as exc:
                raise GradingError(f"--scheduler {scheduler}: {exc}") from None
            jobs = grader.sandboxes.slots if jobs in (None, 1) else jobs
        elif (why := batch.check()) is not None:
            raise GradingError(why)
        # the first sandboxes do their imports while the lessons are planned (no learner code runs
        # before every lesson in sight is planned: a sandbox waits for its job)
        batch.warm(min(max(1, int(jobs)), len(submissions)), len(submissions))
        lessons = _prepare(grader, submissions, lesson)
        if guard or (guard is None and isolation == "process"):
            import course

            grader.guard = FileGuard([Path(course.__file__).resolve().parent, solutions.resolve(),
                                      Path(hidden_file).resolve() if hidden_file else None])
        start = time.monotonic()
        if store is not None:
            store.bind(seed, _digest(sorted(solutions.glob("*.ipynb")), contents=True),
                       _digest([hidden_file] if hidden_file else [], contents=True), isolation, limits, lesson)
        works = grade_all(grader, submissions, jobs, progress, store, out)
        if (why := grader_failure(works)) is not None:
            raise GradingError(why)
        mark_copies(works, on_copy)
        seconds = time.monotonic() - start
    finally:
        if grader is not None and grader.sandboxes is not None:
            grader.sandboxes.close()
        if batch is not None:
            batch.close()
        shutil.rmtree(root, ignore_errors=True)
    results = sorted((w.sub for w in works), key=lambda s: s.name)
    if isolation == "process":
        for g in results:
            g.notes.insert(0, PROCESS_WARNING)
    info = {
        "seed": seed,
        "solutions": str(solutions),
        "hidden": str(hidden_file) if hidden_file else None,
        "lessons": sorted(p.name for p in lessons),
        "exercises": [ex.id for ex in registry.exercises() if any(ex in p.exercises for p in lessons)],
        "limits": {"timeout": limits.timeout, "cell_timeout": limits.cell_timeout,
                   "exercise_timeout": limits.exercise_timeout, "memory_mb": limits.memory,
                   "disk_mb": limits.disk, "processes": limits.processes},
        "isolation": isolation,
        "on_copy": on_copy,
        "jobs": int(jobs),
        "executor": "dask" if scheduler is not None else "local",
        "seconds": round(seconds, 3),
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
                        help="hidden tests (JSON, see course.instructor.pipeline.hidden)")
    parser.add_argument("--lesson", default=None, metavar="NN_topic",
                        help="the lesson expected; notebooks of another lesson are recorded as a lesson mismatch")
    parser.add_argument("--seed", type=int, default=None, metavar="N",
                        help="the grading seed (default: the assignment's secret seed, drawn once and kept in "
                             "OUT/.course; 0 is the learners' own)")
    parser.add_argument("--solutions", default=None, metavar="DIR",
                        help="the solution notebooks (default ./solutions, else the repository's)")
    parser.add_argument("--isolation", default="bwrap", choices=sandbox.ISOLATIONS,
                        help="bwrap (default): each submission in a bubblewrap sandbox; process: a plain child "
                             "process, only where bubblewrap cannot start (a warning goes into every row)")
    parser.add_argument("--on-copy", default="flag", choices=ON_COPY,
                        help="near copies of the reference or of a classmate: flag them in the gradebook "
                             "(default), or also score 0 the exercises that copy the course's reference "
                             "(classmates' shared code is flagged on both sides, for review by hand)")
    parser.add_argument("--disk", type=int, default=256, metavar="MB",
                        help="size of the sandbox's only writable folder, a tmpfs (default 256)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="a Dask scheduler (tls://HOST:8786, see the README): run the sandboxes on its workers; "
                             "--jobs then defaults to the cluster's worker threads")
    parser.add_argument("--resume", action="store_true",
                        help="do not grade again the submissions already graded into --out (same notebook, "
                             "seed, solutions and hidden tests): go on with an interrupted batch")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    grade_options.add_arguments(parser)


def limits_from(args) -> sandbox.Limits:
    timeout = float(args.timeout)
    cell = args.cell_timeout if args.cell_timeout is not None else max(5.0, min(60.0, timeout / 3))
    exercise = args.exercise_timeout if args.exercise_timeout is not None else cell
    return sandbox.Limits(timeout=timeout, cell_timeout=float(cell), exercise_timeout=float(exercise),
                          memory=int(args.memory), disk=int(getattr(args, "disk", 256)))


def run_command(args) -> int:
    from .pipeline import outputs

    formats = [f.strip() for f in str(args.format).split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        print(f"course grade: error: --format: unknown {bad}; choose from {', '.join(FORMATS)}", file=sys.stderr)
        return 2
    for flag, value, ok in (("--jobs", args.jobs, args.jobs >= 1), ("--timeout", args.timeout, args.timeout > 0),
                            ("--memory", args.memory, args.memory >= 0), ("--disk", args.disk, args.disk >= 1),
                            ("--cell-timeout", args.cell_timeout, args.cell_timeout is None or args.cell_timeout > 0),
                            ("--exercise-timeout", args.exercise_timeout,
                             args.exercise_timeout is None or args.exercise_timeout > 0)):
        if not ok:
            print(f"course grade: error: {flag}: {value} is out of range (jobs >= 1, disk >= 1 MB, memory >= 0, "
                  "timeouts > 0)", file=sys.stderr)
            return 2
    try:
        plan = grade_options.Plan(args)  # late policy and hand-graded scores: checked before any grading
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
                                   seed=args.seed, progress=not args.no_progress, isolation=args.isolation,
                                   on_copy=args.on_copy, scheduler=args.scheduler, out=out, resume=args.resume)
    except (GradingError, hidden.HiddenError) as exc:
        print(quoting.terminal(f"course grade: error: {exc}", 4000), file=sys.stderr)
        return 2
    written = outputs.write_all(out, grades, info, formats)
    print(outputs.summary(grades, info, written))
    for line in plan.apply(out) + class_report.headline_from(out):
        print(quoting.terminal(line, 2000))
    return 0


def run(args) -> int:
    return run_command(args)
