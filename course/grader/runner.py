"""The run phase: every call into the learner's code happens here, and produces plain data.

A *protocol* says how an exercise calls a function on one case:

- :class:`Call`: ``fn(*args, **kwargs)`` (most exercises); optionally arguments that the function
  must change in place are returned as extra outputs, and the learner's own value/gradient pair
  is checked against finite differences of the value (losses).
- :class:`Backward`: builds the cache with the reference forward (or with the learner's forward,
  given as ``forward=``), calls ``fn(dout, cache)``, and, when the learner's forward is given,
  computes finite differences of that forward, so the compare phase can say which of the two is
  at fault.
- :class:`Trajectory`: runs an optimizer's update function for K steps on a test function from a
  fresh state and records the path of w.
- :class:`Sweep`: evaluates a schedule at a list of steps.

Exercise modules may define their own protocol (see ``topics/autograd.py``): a class with
``run(exercise, fn, case, options) -> Outcome``, optionally ``judge(ctx)`` (replaces the usual
output comparison) and ``diagnose(ctx)`` (extra diagnoses).

An :class:`Outcome` holds only plain data (arrays, numbers, tuples, dicts, :class:`Opaque`
stand-ins for other objects) and :class:`ErrorInfo`, so it can be computed in another process.
"""

from __future__ import annotations

import os
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..backend import is_array, to_numpy
from .cases import Case, copy_data, resolve, same_data
from .probes import fp_probe, mutation_sizes, run_probes

__all__ = [
    "ErrorInfo",
    "Outcome",
    "Opaque",
    "LearnerMistake",
    "Protocol",
    "Call",
    "Backward",
    "Trajectory",
    "Sweep",
    "run",
    "run_case",
    "call_learner",
    "capture",
    "plain",
    "fd_gradient",
]

_GRADER_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


@dataclass
class ErrorInfo:
    """An exception raised by the learner's code (or a mistake found while calling it).

    kind: "not_attempted" (NotImplementedError), "exception", or "mistake" (the message already
    says what is wrong, e.g. "your __mul__ returned a float, not a Value").
    """

    kind: str
    type: str
    message: str
    traceback: str = ""
    where: str = ""
    shapes: dict = field(default_factory=dict)  # array shapes in the learner's failing frame

    @property
    def not_implemented(self) -> bool:
        return self.kind == "not_attempted"


@dataclass
class Outcome:
    """What one call (or one trajectory) of a function gave: outputs or an error, and notes."""

    outputs: Any = None
    error: ErrorInfo | None = None
    mutated: tuple = ()
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Opaque:
    """Stand-in for an object that is not plain data (keeps its type name and a short repr)."""

    type_name: str
    text: str

    def __repr__(self):
        return self.text


class LearnerMistake(Exception):
    """Raised by a protocol when the learner's code returns something unusable; the message is
    shown to the learner as it is."""

    def __init__(self, message: str, name: str = "type"):
        super().__init__(message)
        self.name = name


def capture(exc: BaseException, where: str = "") -> ErrorInfo:
    """The exception as an :class:`ErrorInfo`, its traceback without the grader's own frames."""
    if isinstance(exc, LearnerMistake):
        return ErrorInfo("mistake", exc.name, str(exc), "", where)
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__)
        if not os.path.abspath(f.filename).startswith(_GRADER_DIR)
    ]
    lines = traceback.format_exception_only(type(exc), exc)
    if frames:
        lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames), *lines]
    kind = "not_attempted" if isinstance(exc, NotImplementedError) else "exception"
    shapes = _frame_shapes(exc) if kind == "exception" else {}
    return ErrorInfo(kind, type(exc).__name__, str(exc), "".join(lines).rstrip(), where, shapes)


def _frame_shapes(exc) -> dict:
    """``{name: shape}`` of the arrays (and array-like results) alive in the innermost learner frame."""
    tb, frame = exc.__traceback__, None
    while tb is not None:
        if not os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(_GRADER_DIR):
            frame = tb.tb_frame
        tb = tb.tb_next
    if frame is None:
        return {}
    out = {}
    for name, value in list(frame.f_locals.items())[:40]:
        if is_array(value) and getattr(value, "ndim", 0) >= 1:
            out[name] = tuple(int(d) for d in value.shape)
    return out


def call_learner(fn, *args, **kwargs):
    """Call learner code with floating-point warnings silenced: NaN and inf flow on to the
    comparison, which explains them, instead of stopping the check with a warning."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def plain(x):
    """Learner output as plain data: arrays become (copied) NumPy arrays, containers keep their
    type, numbers stay as they are, anything else becomes an :class:`Opaque`."""
    if x is None or isinstance(x, (bool, int, float, complex, str, np.generic)):
        return x
    if isinstance(x, np.ndarray):
        return x.copy()
    if is_array(x):
        return np.array(to_numpy(x), copy=True)
    if isinstance(x, tuple):
        return tuple(plain(v) for v in x)
    if isinstance(x, list):
        return [plain(v) for v in x]
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    try:
        text = repr(x)
    except Exception:  # a learner's broken __repr__ must not break the check
        text = f"<{type(x).__name__} object>"
    return Opaque(type(x).__name__, text[:200])


def fd_gradient(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar function ``f`` at ``x`` (x is perturbed and restored)."""
    grad = np.zeros(x.shape, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = f()
        flat[i] = old - h
        minus = f()
        flat[i] = old
        gflat[i] = (plus - minus) / (2.0 * h)
    return grad


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) and out else out


def _arg_name(exercise, i: int) -> str:
    names = exercise.arg_names
    return names[i] if i < len(names) else f"argument {i + 1}"


class Protocol:
    """How an exercise calls a function on a case. Subclasses implement :meth:`run`."""

    #: the compare phase checks whether two calls on the first case agree
    repeat_first = True

    def run(self, exercise, fn, case: Case, options: dict) -> Outcome:  # pragma: no cover
        raise NotImplementedError

    def judge(self, ctx):
        """Return ``None`` to use the usual output comparison, else ``(ok, diagnoses, checks)``."""
        return None

    def diagnose(self, ctx) -> list:
        """Extra diagnoses once the outputs have been compared (a list of Diagnosis)."""
        return []


class Call(Protocol):
    """``fn(*args, **kwargs)``.

    - inplace: names of arguments the function must modify in place; their values after the
      call are appended to the outputs (and changing them is not reported as a mutation).
    - self_fd: ``(value_output, grad_output, arg_index)``: finite differences of the learner's own
      value output with respect to that argument are compared with its gradient output (losses).
    """

    def __init__(self, inplace: tuple = (), self_fd: tuple | None = None):
        self.inplace = tuple(inplace)
        self.self_fd = self_fd

    def run(self, exercise, fn, case, options):
        args, kwargs = copy_data(case.args), copy_data(case.kwargs)
        try:
            ret = call_learner(fn, *resolve(args), **resolve(kwargs))
        except Exception as exc:
            return Outcome(error=capture(exc))
        outputs = plain(ret)
        names = [_arg_name(exercise, i) for i in range(len(args))]
        mutated = tuple(
            n for n, a, o in zip(names, args, case.args) if n not in self.inplace and not same_data(a, o)
        )
        extra = {}
        if mutated:
            extra["mutation"] = mutation_sizes(names, args, case.args, mutated)
        if self.inplace:
            after = tuple(plain(args[names.index(n)]) for n in self.inplace)
            outputs = (outputs, *after)
        fp = fp_probe(fn, case.args, case.kwargs, outputs)
        if fp:
            extra["fp"] = fp
        if self.self_fd is not None and case.fd and exercise is not None:
            fd = self._self_fd(exercise, fn, case, outputs)
            if fd is not None:
                extra["fd"] = fd
        return Outcome(outputs=outputs, mutated=mutated, extra=extra)

    def _self_fd(self, exercise, fn, case, outputs):
        value_i, grad_i, arg_i = self.self_fd
        if not (isinstance(outputs, tuple) and len(outputs) > max(value_i, grad_i)):
            return None
        args, kwargs = list(copy_data(case.args)), copy_data(case.kwargs)
        x = args[arg_i]
        if not isinstance(x, np.ndarray) or x.size > 400:
            return None

        def value():
            out = call_learner(fn, *args, **kwargs)
            return float(out[value_i])

        try:
            grad = fd_gradient(value, x)
        except Exception:  # the learner's function misbehaves at perturbed points: no verdict
            return None
        return {exercise.outputs[grad_i]: grad}


class Backward(Protocol):
    """``fn(dout, cache)`` with the cache from a forward pass on the case's inputs.

    Case: ``args``/``kwargs`` are the forward's inputs, ``extra["dout"]`` the upstream gradient.
    ``wrt`` gives, for each graded output of the backward, the index of the forward argument it
    is the gradient of (default: 0, 1, 2, ...).
    """

    def __init__(self, forward, wrt: tuple | None = None):
        self.forward = forward
        self.wrt = wrt

    def run(self, exercise, fn, case, options):
        learner_forward = options.get("forward")
        extra = {}
        cache = None
        if learner_forward is not None:
            try:
                fwd = call_learner(learner_forward, *copy_data(case.args), **copy_data(case.kwargs))
                if isinstance(fwd, tuple) and len(fwd) == 2:
                    cache = fwd[1]
                else:
                    extra["forward_note"] = "did not return (out, cache)"
            except Exception as exc:
                extra["forward_note"] = f"raised {type(exc).__name__}: {exc}"
        if cache is None:
            _, cache = self.forward(*copy_data(case.args), **copy_data(case.kwargs))
        dout = case.extra["dout"]
        dout_c, cache_c = copy_data(dout), copy_data(cache)
        try:
            ret = call_learner(fn, dout_c, cache_c)
        except Exception as exc:
            return Outcome(error=capture(exc), extra=extra)
        mutated = []
        if not same_data(dout_c, dout):
            mutated.append("dout")
        if not same_data(cache_c, cache):
            mutated.append("cache")
        fp = fp_probe(fn, (dout, cache), {}, ret)
        if fp:
            extra["fp"] = fp
        if learner_forward is not None and case.fd and "forward_note" not in extra:
            fd = self._fd(exercise, learner_forward, case)
            if fd is not None:
                extra["fd"] = fd
        return Outcome(outputs=plain(ret), mutated=tuple(mutated), extra=extra)

    def _fd(self, exercise, forward, case):
        names = [n for n in exercise.outputs if n is not None]
        wrt = self.wrt if self.wrt is not None else tuple(range(len(names)))
        args, kwargs = list(copy_data(case.args)), copy_data(case.kwargs)
        dout = case.extra["dout"]
        if sum(np.size(args[i]) for i in wrt) > 400:
            return None

        def value():
            out = np.asarray(to_numpy(_first(call_learner(forward, *args, **kwargs))), dtype=np.float64)
            return float(np.sum(out * dout))

        try:
            return {name: fd_gradient(value, args[i]) for name, i in zip(names, wrt)}
        except Exception:  # the learner's forward fails or gives odd shapes: no verdict
            return None


class Trajectory(Protocol):
    """K steps of an optimizer update ``fn(w, g, state, **hyperparameters)`` from a fresh state.

    Case: ``kwargs`` are the hyper-parameters; ``extra`` holds ``function`` (a name that
    ``lookup`` turns into an object with ``grad(w)``), ``w0`` and ``steps``. The output is the
    path, an array (steps + 1, D) whose row k is w after k steps (NaN after a non-finite step).
    """

    repeat_first = False  # the path is compared step by step already

    def __init__(self, lookup):
        self.lookup = lookup

    def run(self, exercise, fn, case, options):
        objective = self.lookup(case.extra["function"])
        w = np.array(case.extra["w0"], dtype=np.float64)
        steps = int(case.extra["steps"])
        path = np.full((steps + 1, w.size), np.nan)
        path[0] = w.reshape(-1)
        state: dict = {}
        extra = {"returned_none": False, "not_in_place": False}
        for k in range(steps):
            with np.errstate(all="ignore"):
                g = np.asarray(objective.grad(w), dtype=np.float64)
            before = w.copy()
            try:
                ret = call_learner(fn, w, g.copy(), state, **copy_data(case.kwargs))
            except Exception as exc:
                return Outcome(outputs=path, error=capture(exc, f"at step {k + 1}"), extra=extra)
            if ret is None:
                extra["returned_none"] = True
            elif is_array(ret) and tuple(ret.shape) == w.shape and to_numpy(ret).dtype.kind in "biuf":
                if ret is not w and same_data(w, before):
                    extra["not_in_place"] = True
                w = np.array(to_numpy(ret), dtype=np.float64)
            else:
                what = f"shape {tuple(ret.shape)}" if is_array(ret) else type(ret).__name__
                raise_at = f"at step {k + 1}"
                err = LearnerMistake(
                    f"Your function returned {what} {raise_at}; it should update w in place and return w "
                    f"(shape {w.shape}).",
                    "type",
                )
                return Outcome(outputs=path, error=capture(err, raise_at), extra=extra)
            path[k + 1] = w.reshape(-1)
            if not np.all(np.isfinite(w)):
                break
        extra["state"] = plain(state)
        return Outcome(outputs=path, extra=extra)

    def judge(self, ctx):
        from .compare import Diagnosis, OutputCheck, close, preview

        exp, got = ctx.reference.outputs, ctx.outcome.outputs
        if not isinstance(got, np.ndarray) or got.shape != exp.shape:
            return False, [Diagnosis("type", "Your updates did not produce a path of the right shape.")], []
        rtol, atol = ctx.exercise.tolerance("float64")
        for k in range(exp.shape[0]):
            if not close(got[k], exp[k], rtol, atol):
                break
        else:
            return True, [], [OutputCheck("path", True, preview(exp[-1]), preview(got[-1]))]
        extra = ctx.case.extra
        steps = exp.shape[0] - 1
        msg = (
            f"Your path first leaves the expected one at step {k} of {steps} "
            f"(on {extra['function']}, from w0 = {np.array2string(np.asarray(extra['w0']), precision=3)}"
            f"{_hp_text(ctx.case.kwargs)}): expected w = {np.array2string(exp[k], precision=6)}, "
            f"got {np.array2string(got[k], precision=6)}."
        )
        if not np.all(np.isfinite(got[k])):
            msg += " Your update produced NaN or inf there (a division by zero?)."
        ctx.plot = {"expected": exp, "got": got, "function": extra["function"], "step": k}
        check = OutputCheck(f"w after step {k}", False, preview(exp[k]), preview(got[k]))
        return False, [Diagnosis("trajectory", msg)], [check]

    def diagnose(self, ctx):
        from .compare import Diagnosis

        out, notes = ctx.outcome.extra, []
        if out.get("returned_none"):
            notes.append(Diagnosis(
                "none", "Your function returned None: update w in place and `return w` at the end.", fails=False
            ))
        elif out.get("not_in_place"):
            notes.append(Diagnosis(
                "not_in_place",
                "Your function returned a new array instead of updating w in place (w -= ...): "
                "callers that keep a reference to w would not see the update.",
                fails=False,
            ))
        ref_state = ctx.reference.extra.get("state") or {}
        state = out.get("state")
        if isinstance(state, dict) and not ctx.passed:
            missing = [k for k in ref_state if k not in state]
            if missing:
                notes.append(Diagnosis(
                    "state_names",
                    f"Your state has no {', '.join(map(repr, missing))}: keep the running buffers in "
                    f"the state dict under these names (it has {sorted(map(str, state)) or 'nothing'}).",
                    fails=False,
                ))
        return notes


def _hp_text(kwargs) -> str:
    return ", " + ", ".join(f"{k}={v}" for k, v in kwargs.items()) if kwargs else ""


class Sweep(Protocol):
    """A schedule evaluated at several steps: ``fn(step, *args, **kwargs)`` for each step in
    ``case.extra["steps"]``; the output is the array of returned values."""

    def run(self, exercise, fn, case, options):
        values = []
        for step in case.extra["steps"]:
            try:
                v = call_learner(fn, int(step), *copy_data(case.args), **copy_data(case.kwargs))
            except Exception as exc:
                return Outcome(error=capture(exc, f"at step {step}"))
            if is_array(v) and getattr(v, "size", 2) == 1:
                v = float(to_numpy(v).reshape(-1)[0])
            if not isinstance(v, (int, float, np.integer, np.floating)) or isinstance(v, bool):
                err = LearnerMistake(
                    f"Your function returned {type(v).__name__} at step {step}; it should return the "
                    "learning rate as a number.",
                    "type",
                )
                return Outcome(error=capture(err))
            values.append(float(v))
        return Outcome(outputs=np.array(values))


def run_case(exercise, fn, case: Case, options: dict | None = None) -> Outcome:
    """One case through the exercise's protocol."""
    return exercise.protocol.run(exercise, fn, case, options or {})


def run(exercise, fn, case_list: list[Case], *, forward=None) -> list[Outcome]:
    """Call ``fn`` on every case (the run phase). Never raises for the learner's mistakes.

    The first case is run twice (when the protocol allows it) to catch non-deterministic
    results; after a ``NotImplementedError`` the remaining cases are not run.
    """
    options = {"forward": forward}
    outcomes: list[Outcome] = []
    for i, case in enumerate(case_list):
        out = run_case(exercise, fn, case, options)
        if out.error is not None and out.error.not_implemented:
            outcomes.extend([out] * (len(case_list) - i))
            break
        if i == 0 and out.error is None and exercise.protocol.repeat_first:
            again = run_case(exercise, fn, case, options)
            if again.error is None and not same_data(again.outputs, out.outputs):
                out.extra["nondeterministic"] = True
        outcomes.append(out)
    if any(o.error is None for o in outcomes):
        for case, out in zip(case_list, outcomes):
            probes = run_probes(exercise, fn, case)
            if probes:
                out.extra["probes"] = probes
    return outcomes
