"""The grader's own candidates for the diagnosis engine, computed in the run phase.

The compare phase runs no code (:mod:`course.grader.compare`), so everything the engine compares
the learner's outputs with is computed here, once per case with the reference (and cached with
it), and stored as plain data in ``reference.extra["candidates"]``:

- ``call``: the reference over another axis, on a scaled input (:data:`AXES`); with one argument
  left at its default or an array argument set to ones (an argument ignored); the exercise's
  usual formula slips (:data:`FORMULA_FAULTS`).
- ``backward``: the array the forward's cache holds (the local derivative is read against it).
- ``sweep``: the reference with one argument off by one or left at its default, and the
  family's formula slips (:data:`SCHEDULE_FAULTS`: rounding, base, unit, the cosine's form).
- ``trajectory``: each optimizer fault of :mod:`course.grader.models.optim_models` and each registered
  variant on the designed probe inputs of :mod:`course.grader.run.probes`.

Each candidate carries the message that names it when the learner's numbers match it.
"""

from __future__ import annotations

import dataclasses
import inspect
import math

import numpy as np

from ..cases import copy_data
from ..run.probes import OPT_GRADS, onehot, opt_run
from ..run.protocols import Call
from .optim_models import MODELS

__all__ = ["run_candidates", "SCHEDULE_FAULTS", "FORMULA_FAULTS", "AXES", "CANDIDATES"]


def sweep(fn, steps, args, kwargs):
    with np.errstate(all="ignore"):
        return np.array([float(fn(int(t), *args, **kwargs)) for t in steps])


def _step_lr(rounding):
    return lambda t, base_lr, step_size, gamma=0.1: base_lr * gamma ** rounding(t / step_size)


#: schedule reference name -> ((name, fn(step, *args, **kwargs), message), ...)
SCHEDULE_FAULTS = {
    "step_lr": (
        ("rounding", _step_lr(round),
         "Your schedule rounds step / step_size to the nearest integer; step decay counts whole periods: "
         "floor it (step // step_size)."),
        ("rounding", _step_lr(math.ceil),
         "Your schedule rounds step / step_size up (ceil); step decay counts whole periods completed: "
         "round down (step // step_size)."),
    ),
    "exponential_lr": (
        ("base", lambda t, base_lr, gamma: base_lr * math.exp(-gamma * t),
         "Your schedule uses base e, exp(-gamma * t); exponential decay multiplies by gamma every step: "
         "base_lr * gamma ** t."),
        ("base", lambda t, base_lr, gamma: base_lr * (1 - gamma) ** t,
         "Your schedule multiplies by 1 - gamma each step; gamma itself is the factor kept each step: "
         "base_lr * gamma ** t."),
    ),
    "cosine_annealing_lr": (
        ("cosine_form", lambda t, base_lr, T_max, eta_min=0.0: eta_min + (base_lr - eta_min) *
         math.cos(math.pi * t / T_max),
         "Your schedule goes below eta_min: it uses cos(pi t / T_max) alone; the rate is eta_min + "
         "(base_lr - eta_min) * (1 + cos(pi t / T_max)) / 2, which stays between the two."),
        ("unit", lambda t, base_lr, T_max, eta_min=0.0: eta_min + (base_lr - eta_min) *
         (1 + math.cos(180 * t / T_max)) / 2,
         "Your cosine is in degrees (180 * t / T_max); math.cos and np.cos take radians: pi * t / T_max."),
    ),
    "linear_warmup_lr": (
        ("rounding", lambda t, base_lr, start_factor=1 / 3, end_factor=1.0, total_iters=5: base_lr * (
            start_factor + (end_factor - start_factor) * (min(t, total_iters) // total_iters)),
         "Your warm-up jumps instead of ramping: min(t, total_iters) // total_iters is an integer "
         "division; use / for a linear ramp."),
    ),
}


def argument_faults(fn, steps, args, kwargs):
    """Candidates with one argument changed: ``(name, values, message)``, by the signature of ``fn``."""
    try:
        params = list(inspect.signature(fn).parameters.values())[1:]
    except (TypeError, ValueError):
        return []
    out = []
    names = [p.name for p in params]
    for i, value in enumerate(args):
        name = names[i] if i < len(names) else f"argument {i + 1}"
        if isinstance(value, int) and not isinstance(value, bool):
            for delta in (-1, 1):
                if value + delta > 0:
                    new = list(args)
                    new[i] = value + delta
                    out.append((f"{name}_off_by_one", new, dict(kwargs),
                                f"Your schedule behaves as if {name} were {value + delta} (it is {value}): "
                                f"an off-by-one where {name} enters (e.g. {name} - 1 in a denominator)."))
    for p in params[len(args):]:
        if p.default is inspect.Parameter.empty or p.name not in kwargs:
            continue
        given = kwargs[p.name]
        if given != p.default:
            out.append((f"{p.name}_ignored", list(args), {k: v for k, v in kwargs.items() if k != p.name},
                        f"Your schedule ignores {p.name}: its values are those of the default "
                        f"{p.name}={p.default!r}, but this case passes {p.name}={given!r}."))
        if isinstance(given, int) and not isinstance(given, bool):
            for delta in (-1, 1):
                if given + delta > 0:
                    out.append((f"{p.name}_off_by_one", list(args), {**kwargs, p.name: given + delta},
                                f"Your schedule behaves as if {p.name} were {given + delta} (it is {given}): "
                                f"an off-by-one where {p.name} enters (e.g. {p.name} - 1 in a denominator)."))
    return out


def _call_candidates(ex, case):
    """Cases with one argument of a plain call changed: left at its default (ignored), or an
    array argument replaced by ones (ignored); ``(modified case, message)``."""
    import dataclasses

    try:
        params = list(inspect.signature(ex.reference).parameters.values())
    except (TypeError, ValueError):
        return []
    out = []
    args = list(case.args)
    for i, p in enumerate(params[: len(args)]):
        value = args[i]
        if p.default is not inspect.Parameter.empty and isinstance(value, (int, float)) and value != p.default:
            new = dataclasses.replace(case, args=tuple(args[:i] + [p.default] + args[i + 1:]))
            out.append((new, f"Your result is what {p.name}={p.default!r} (the default) gives, but this case "
                             f"passes {p.name}={value!r}: your code ignores {p.name}."))
        elif i > 0 and isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size > 1:
            new = dataclasses.replace(case, args=tuple(args[:i] + [np.ones_like(value)] + args[i + 1:]))
            out.append((new, f"Your result is what {p.name} = 1 everywhere would give: your code does not use "
                             f"{p.name} (multiply by it, entry by entry)."))
    for k, value in case.kwargs.items():
        p = next((q for q in params if q.name == k), None)
        if p is not None and p.default is not inspect.Parameter.empty and value != p.default:
            kw = {a: b for a, b in case.kwargs.items() if a != k}
            out.append((dataclasses.replace(case, kwargs=kw),
                        f"Your result is what {k}={p.default!r} (the default) gives, but this case passes "
                        f"{k}={value!r}: your code ignores {k}."))
    return out


def _ema(x, beta, bias_correction=False, power=0, store_corrected=False):
    out, v = [], 0.0
    for t in range(1, len(x) + 1):
        v = beta * v + (1 - beta) * x[t - 1]
        corrected = v / (1 - beta ** (t + power)) if bias_correction else v
        if store_corrected:
            v = corrected
        out.append(corrected)
    return np.array(out)


#: a plain call's reference name -> ((name, fn(*args, **kwargs), message), ...)
FORMULA_FAULTS = {
    "ema": (
        ("bias_power", lambda x, beta, bias_correction=False: _ema(x, beta, bias_correction, power=1),
         "Your bias correction uses the power t + 1: v_t is divided by 1 - beta**t with t counting from 1 "
         "(so the corrected v_1 is x_1)."),
        ("bias_power", lambda x, beta, bias_correction=False: _ema(x, beta, bias_correction, power=-1),
         "Your bias correction uses the power t - 1 (1 - beta**0 = 0 on the first step): t counts from 1."),
        ("bias_state", lambda x, beta, bias_correction=False: _ema(x, beta, bias_correction, store_corrected=True),
         "You store the bias-corrected value back into v, so the correction compounds: keep v uncorrected and "
         "divide only what you output by 1 - beta**t."),
    ),
}



#: (name, how the input is moved, how the output is moved back, what the learner did)
AXES = (
    ("axis", lambda x: x.T, lambda y, shape: y.T,
     "along the other axis (over the rows instead of the columns, or the reverse)"),
    ("axis", lambda x: x.reshape(1, -1), lambda y, shape: y.reshape(shape),
     "over all entries at once instead of row by row (a sum, max or mean without axis=)"),
    ("axis", lambda x: x.reshape(1, -1), lambda y, shape: y.reshape(-1), "over all entries at once"),
    ("scaled", lambda x: x / 2, lambda y, shape: y, "at half the input, x / 2,"),
    ("scaled", lambda x: 2 * x, lambda y, shape: y, "at twice the input, 2 * x,"),
)


def _light(exercise, fn, case):
    """One plain call without the learner-only extras (finite differences, probes)."""
    proto = exercise.protocol
    if isinstance(proto, Call):
        proto = Call(inplace=proto.inplace)
    return proto.run(exercise, fn, case, {})


def _moved_back(outputs, back, like):
    """Each array output moved back to the shape of the reference's (others kept as they are)."""
    if isinstance(outputs, tuple) and isinstance(like, tuple):
        return tuple(_moved_back(o, back, r) for o, r in zip(outputs, like))
    if isinstance(outputs, np.ndarray) and isinstance(like, np.ndarray):
        try:
            return np.asarray(back(outputs, like.shape))
        except ValueError:
            return None
    return outputs


def _call(exercise, case, ref):
    out = {"axes": [], "arguments": [], "formulas": []}
    x = case.args[0] if case.args else None
    if isinstance(x, np.ndarray) and x.ndim == 2 and min(x.shape) >= 2 and x.dtype.kind == "f":
        for kind, into, back, words in AXES:
            try:
                moved = dataclasses.replace(case, args=(into(x),) + tuple(case.args[1:]))
                o = _light(exercise, exercise.reference, moved)
                if o.error is None:
                    out["axes"].append((kind, words, _moved_back(o.outputs, back, ref.outputs)))
            except Exception:
                continue
    for new, message in _call_candidates(exercise, case):
        try:
            o = _light(exercise, exercise.reference, new)
        except Exception:
            continue
        if o.error is None:
            out["arguments"].append((o.outputs, message))
    for name, fn, message in FORMULA_FAULTS.get(getattr(exercise.reference, "__name__", ""), ()):
        try:
            with np.errstate(all="ignore"):
                out["formulas"].append((name, np.asarray(fn(*copy_data(case.args), **copy_data(case.kwargs))),
                                        message))
        except Exception:
            continue
    return out


def _backward(exercise, case, ref):
    try:
        _, cache = exercise.protocol.forward(*copy_data(case.args), **copy_data(case.kwargs))
    except Exception:
        return {}
    first = cache[0] if isinstance(cache, tuple) and cache else cache
    if not isinstance(first, np.ndarray):
        return {}
    x = case.args[0] if case.args else None
    same = isinstance(x, np.ndarray) and x.shape == first.shape and np.array_equal(first, x)
    out = {"cache": np.array(first, dtype=np.float64), "cache_is_input": bool(same)}
    dout = case.extra.get("dout")
    if isinstance(dout, np.ndarray):
        ret = exercise.reference(onehot(dout), copy_data(cache))
        out["onehot_dx"] = np.array(ret[0] if isinstance(ret, tuple) else ret, dtype=np.float64)
    return out


def _sweep_candidates(exercise, case, ref):
    refn = exercise.reference
    steps, args, kwargs = case.extra["steps"], tuple(case.args), dict(case.kwargs)
    found = []
    for name, fn, message in SCHEDULE_FAULTS.get(getattr(refn, "__name__", ""), ()):
        try:
            found.append((name, sweep(fn, steps, args, kwargs), message))
        except Exception:
            continue
    for name, a, kw, message in argument_faults(refn, steps, args, kwargs):
        try:
            found.append((name, sweep(refn, steps, a, kw), message))
        except Exception:
            continue
    return {"faults": found}


def _trajectory(exercise, case, ref):
    hp = dict(case.kwargs)
    out = {"faults": {}, "variants": {}}
    family = MODELS.get(getattr(exercise.reference, "__name__", ""))
    if family is not None:
        update, faults = family
        for name, message in faults:
            def model(w, g, state, _name=name, **h):
                return update(w, g, state, fault=_name, **h)

            try:
                rec = {"path": opt_run(model, hp, OPT_GRADS), "zero_g": opt_run(model, hp, ((0.0, 0.0, 0.0),))[1],
                       "message": message}
                if "lr" in hp:
                    rec["double_lr"] = opt_run(model, {**hp, "lr": 2 * hp["lr"]}, OPT_GRADS[:1])[1]
            except Exception:
                continue
            out["faults"][name] = rec
    for v in exercise.variants:
        try:
            out["variants"][v.name] = opt_run(v.fn, hp, OPT_GRADS)
        except Exception:
            continue
    return out


#: protocol kind -> candidates(exercise, case, reference outcome) -> plain data
CANDIDATES = {"call": _call, "backward": _backward, "sweep": _sweep_candidates, "trajectory": _trajectory}


def run_candidates(exercise, case, ref) -> dict:
    """The candidates of the exercise's protocol kind on one case (plain data; {} when none)."""
    make = CANDIDATES.get(getattr(exercise.protocol, "kind", ""))
    if make is None:
        return {}
    try:
        return make(exercise, case, ref)
    except Exception:  # a candidate that cannot be computed names nothing
        return {}
