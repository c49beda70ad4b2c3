"""Protocols: how the run phase calls a function on one case.

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

A topic module may define its own protocol (see ``topics/autograd.py``): a subclass of
:class:`Protocol` with a ``kind`` and ``run(exercise, fn, case, options) -> Outcome``. Protocols
only *call*; what the outputs mean is judged in the compare phase, from the diagnosis table.
"""

from __future__ import annotations

import numpy as np

from ...backend import is_array, to_numpy
from ..cases import Case, copy_data, resolve, same_data
from .calling import LearnerMistake, call_learner, capture, fd_gradient, plain
from .outcome import Outcome
from .probes import fp_probe, mutation_sizes

__all__ = ["Protocol", "Call", "Backward", "Trajectory", "Sweep"]


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) and out else out


def _arg_name(exercise, i: int) -> str:
    names = exercise.arg_names
    return names[i] if i < len(names) else f"argument {i + 1}"


class Protocol:
    """How an exercise calls a function on a case. Subclasses implement :meth:`run`.

    ``kind`` names the protocol in the diagnosis table (:mod:`course.grader.compare.diagnoses`): an
    entry that applies to some protocols only lists their kinds.
    """

    #: the protocol's name in the diagnosis table
    kind = "call"
    #: the run phase calls the function twice on the first case (non-determinism)
    repeat_first = True

    def run(self, exercise, fn, case: Case, options: dict) -> Outcome:  # pragma: no cover
        raise NotImplementedError


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

    kind = "backward"

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

    kind = "trajectory"
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


class Sweep(Protocol):
    """A schedule evaluated at several steps: ``fn(step, *args, **kwargs)`` for each step in
    ``case.extra["steps"]``; the output is the array of returned values."""

    kind = "sweep"

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
