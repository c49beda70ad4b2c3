"""Probes: the learner's function on inputs designed to expose its structure (run phase).

Besides the seeded cases, :func:`run_probes` calls learner code on designed inputs and returns
plain data (numbers, arrays, short strings), stored as ``outcome.extra["probes"]``; the compare
phase reasons about them without running learner code (:mod:`course.grader.compare.faults.terms`,
:mod:`course.grader.compare.engine`). :data:`PROBES` maps a protocol's class name to its probe.

- optimizers (``Trajectory``): from a fresh state, with the case's hyper-parameters, four steps
  on a designed gradient sequence; a first step with g = 0; a first step with the learning rate
  doubled.
- a learner's ``Value`` (``ValueBackward``): each op alone, with a non-unit upstream gradient,
  and a node used twice, propagated by the grader through the learner's ``_backward`` closures.
- :func:`fp_probe`: a case whose output is not finite is re-run with NumPy's floating-point
  errors raised, to name the operation (exp, log, sqrt, divide) and the learner's line.
"""

from __future__ import annotations

import os
import traceback

import numpy as np

from ..cases import copy_data, resolve

__all__ = ["PROBES", "run_probes", "fp_probe", "mutation_sizes", "opt_run", "value_probe", "OPT_W0", "OPT_GRADS",
           "VALUE_PROBES", "VALUE_UPSTREAM", "VALUE_CONST"]

_GRADER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # course/grader/

#: designed start and gradient sequence for optimizer probes (distinct magnitudes and signs)
OPT_W0 = (0.8, -1.5, 2.0)
OPT_GRADS = ((0.3, -1.2, 2.0), (-0.5, 0.8, 1.5), (0.2, 0.1, -0.7), (1.1, -0.4, 0.3))


def _nonfinite(x) -> bool:
    if isinstance(x, (tuple, list)):
        return any(_nonfinite(v) for v in x)
    if isinstance(x, dict):
        return any(_nonfinite(v) for v in x.values())
    if isinstance(x, (float, np.floating)):
        return not np.isfinite(x)
    if isinstance(x, np.ndarray) and x.dtype.kind in "fc":
        return not bool(np.all(np.isfinite(x)))
    return False


def fp_probe(fn, args, kwargs, outputs) -> dict | None:
    """When ``outputs`` hold NaN/inf: ``{"op", "kind", "line"}`` of the first floating-point error
    of a re-run with errors raised (e.g. op "exp", kind "overflow"), else None."""
    if not _nonfinite(outputs):
        return None
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            fn(*resolve(copy_data(args)), **resolve(copy_data(kwargs)))
    except FloatingPointError as exc:
        text = str(exc)  # "overflow encountered in exp"
        kind, _, op = text.partition(" encountered in ")
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if not os.path.abspath(f.filename).startswith(_GRADER_DIR)]
        line = (frames[-1].line or "").strip()[:120] if frames else ""
        return {"op": op.strip(), "kind": kind.strip(), "line": line}
    except Exception:  # another error on the re-run: no verdict
        return None
    return None


def mutation_sizes(names, after, before, mutated) -> dict:
    """``{name: (largest change, largest entry)}`` for float arrays changed in place (plain data)."""
    out = {}
    for n, a, b in zip(names, after, before):
        if n in mutated and isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape \
                and a.dtype.kind == "f" and a.size:
            with np.errstate(all="ignore"):
                out[n] = (float(np.max(np.abs(a - b))), float(np.max(np.abs(b))))
    return out


def backward_probe(exercise, fn, case) -> dict:
    """The learner's backward with dout = 0 (it must give 0: a backward is linear in dout) and with
    a single entry of dout set to 1 (which entries of dx respond)."""
    dout = case.extra.get("dout")
    if not isinstance(dout, np.ndarray):
        return {}
    _, cache = exercise.protocol.forward(*copy_data(case.args), **copy_data(case.kwargs))
    out = {}
    for key, d in (("zero_dout", np.zeros_like(dout)), ("onehot_dx", onehot(dout))):
        with np.errstate(all="ignore"):
            ret = fn(d, copy_data(cache))
        first = ret[0] if isinstance(ret, (tuple, list)) and ret else ret
        try:
            out[key] = np.array(first, dtype=np.float64)
        except (TypeError, ValueError):
            continue
    return out


def onehot(dout: np.ndarray) -> np.ndarray:
    """dout with a single 1 at its middle entry (the single-entry probe of a backward)."""
    d = np.zeros_like(dout, dtype=np.float64)
    if d.size:
        d.reshape(-1)[d.size // 2] = 1.0
    return d


def opt_run(fn, hp, grads, w0=OPT_W0):
    w = np.array(w0, dtype=np.float64)
    state: dict = {}
    path = [w.copy()]
    for g in grads:
        with np.errstate(all="ignore"):
            ret = fn(w, np.array(g, dtype=np.float64), state, **copy_data(hp))
        if ret is not None:
            w = np.array(ret, dtype=np.float64).reshape(np.shape(w0))
        path.append(w.copy())
    return np.array(path)


def optimizer_probe(exercise, fn, case) -> dict:
    hp = dict(case.kwargs)
    out = {"hp": copy_data(hp), "g0": np.array(OPT_GRADS[0])}
    try:
        out["path"] = opt_run(fn, hp, OPT_GRADS)
        out["zero_g"] = opt_run(fn, hp, ((0.0, 0.0, 0.0),))[1]
        if "lr" in hp:
            out["double_lr"] = opt_run(fn, {**hp, "lr": 2 * hp["lr"]}, OPT_GRADS[:1])[1]
        fp = fp_probe(lambda: opt_run(fn, hp, OPT_GRADS), (), {}, out["path"])
        if fp:
            out["fp"] = fp
    except Exception as exc:  # the probe says nothing about a function that fails on it
        out["error"] = f"{type(exc).__name__}: {exc}"[:200]
    return out


#: expressions each probed alone, with these leaf values, constant and upstream gradient
VALUE_PROBES = {
    "a + b": (1.3, -0.7), "a * b": (1.3, -0.7), "a + a": (1.3,), "a * a": (1.3,), "a ** k": (1.3,),
    "a - b": (1.3, -0.7), "a / b": (1.3, -0.7), "exp(a)": (1.3,), "log(a)": (1.3,),
    "tanh(a)": (0.6,), "sigmoid(a)": (0.6,), "relu(a)": (0.6,),
}
VALUE_UPSTREAM = 1.7
VALUE_CONST = 3.0


def value_probe(cls, expressions, propagate) -> dict:
    """Each op of a learner's Value class alone (``expressions``: name -> (inputs, build);
    ``propagate(root, upstream)``: the grader's walk through the learner's ``_backward``)."""
    EXPRESSIONS, _propagate = expressions, propagate
    out = {}
    for expr, values in VALUE_PROBES.items():
        n, build = EXPRESSIONS[expr]
        try:
            with np.errstate(all="ignore"):
                leaves = [cls(v) for v in values[:n]]
                res = build(*leaves, VALUE_CONST) if "k" in expr else build(*leaves)
                _propagate(res, VALUE_UPSTREAM)
                out[expr] = (float(res.data), [float(v.grad) for v in leaves])
        except Exception as exc:
            out[expr] = f"{type(exc).__name__}: {exc}"[:160]
    out["values"] = {k: v for k, v in VALUE_PROBES.items()}
    out["upstream"], out["const"] = VALUE_UPSTREAM, VALUE_CONST
    try:  # does the learner's backward() seed the root's grad with 1?
        root = cls(0.4) * cls(-1.1) + cls(0.3)
        root.backward()
        out["root_grad"] = float(root.grad)
    except Exception:
        pass
    return out


#: protocol kind -> probe(exercise, fn, case) -> plain data (a protocol may also define its own
#: ``probe(exercise, fn, case)`` method, e.g. the autograd topic's)
PROBES = {"trajectory": optimizer_probe, "backward": backward_probe}


def run_probes(exercise, fn, case) -> dict | None:
    """The probes of ``exercise``'s protocol on ``fn`` (plain data), or None when it has none."""
    proto = getattr(exercise, "protocol", None)
    probe = getattr(proto, "probe", None) or PROBES.get(getattr(proto, "kind", ""))
    if probe is None:
        return None
    try:
        return probe(exercise, fn, case)
    except Exception as exc:  # learner code misbehaving on a probe must not break the check
        return {"error": f"{type(exc).__name__}: {exc}"[:200]}
