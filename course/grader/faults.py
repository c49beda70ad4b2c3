"""Which term is off: schedules and optimizers compared with systematic faults (compare phase).

Schedules: the reference itself with one argument changed (an int off by one, an argument left
at its default, i.e. ignored) and, per family, the usual formula slips (:data:`SCHEDULE_FAULTS`:
another rounding, another base, degrees instead of radians, the cosine without (1 + cos) / 2).

Optimizers: :mod:`course.grader.optim_models` holds each family's update with switches for one
fault at a time; here they run on the same designed probe inputs as the learner's function (see
:mod:`course.grader.probes`). A fault is named only when it reproduces every probed number
(four steps, g = 0, a doubled learning rate) and the right update does not.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from .optim_models import MODELS, describe_first_step

__all__ = ["diagnose_schedule", "diagnose_trajectory", "SCHEDULE_FAULTS", "argument_faults"]


def _close(a, b) -> bool:
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=1e-12, equal_nan=True))


def _sweep(fn, steps, args, kwargs):
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


def diagnose_schedule(ctx):
    got = ctx.outcome.outputs
    ref = ctx.exercise.reference
    steps, args, kwargs = ctx.case.extra["steps"], tuple(ctx.case.args), dict(ctx.case.kwargs)
    if not isinstance(got, np.ndarray):
        return None
    expected = ctx.reference.outputs
    for name, fn, message in SCHEDULE_FAULTS.get(getattr(ref, "__name__", ""), ()):
        try:
            cand = _sweep(fn, steps, args, kwargs)
        except Exception:
            continue
        if _close(got, cand) and not _close(cand, expected):
            return name, message
    for name, a, kw, message in argument_faults(ref, steps, args, kwargs):
        try:
            cand = _sweep(ref, steps, a, kw)
        except Exception:
            continue
        if _close(got, cand) and not _close(cand, expected):
            return name, message
    return None


def diagnose_trajectory(ctx):
    """The optimizer fault that reproduces the learner's probes, in the learner's terms."""
    probes = ctx.outcome.extra.get("probes") or {}
    ref = ctx.reference.extra.get("probes") or {}
    family = MODELS.get(getattr(ctx.exercise.reference, "__name__", ""))
    if family is None or "path" not in probes or "path" not in ref:
        return None
    update, faults = family
    hp = probes["hp"]
    from .probes import OPT_GRADS, _opt_run

    first = describe_first_step(probes, ref)
    for name, message in faults:
        def model(w, g, state, _name=name, **h):
            return update(w, g, state, fault=_name, **h)

        try:
            path = _opt_run(model, hp, OPT_GRADS)
            if not _close(probes["path"], path) or _close(path, ref["path"]):
                continue
            same = _close(probes["zero_g"], _opt_run(model, hp, ((0.0, 0.0, 0.0),))[1])
            if same and "lr" in hp and "double_lr" in probes:
                same = _close(probes["double_lr"], _opt_run(model, {**hp, "lr": 2 * hp["lr"]}, OPT_GRADS[:1])[1])
        except Exception:
            continue
        if same:
            return name, (first + " " if first else "") + message
    return None


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


def diagnose_call_arguments(ctx):
    """An argument ignored, or a number returned that is one of the arguments."""
    from .compare import _is_number, _matches, _pick
    from .probes import run_light

    ex, case = ctx.exercise, ctx.case
    if type(ex.protocol).__name__ != "Call" or ctx.outcome.outputs is None:
        return None
    for new, message in _call_candidates(ex, case):
        try:
            cand = run_light(ex, ex.reference, new)
        except Exception:
            continue
        if cand.error is None and _matches(ex, ctx.outcome.outputs, cand.outputs, ctx.failing) and not _matches(
                ex, ctx.reference.outputs, cand.outputs, ctx.failing):
            return "argument_ignored", message
    names = ex.arg_names
    for out_name in ctx.failing:
        try:
            got, exp = _pick(ex, ctx.outcome.outputs, out_name), _pick(ex, ctx.reference.outputs, out_name)
        except Exception:
            continue
        if not (_is_number(got) and _is_number(exp)):
            continue
        for i, a in enumerate(case.args):
            if _is_number(a) and a != 0 and abs(float(got) - float(a)) <= 1e-12 * max(1.0, abs(a)):
                arg = names[i] if i < len(names) else f"argument {i + 1}"
                return "returns_argument", (
                    f"Your {out_name} equals {arg} ({a:g}) where {float(exp):.4g} is expected: you return the "
                    f"value after it was clipped (or {arg} itself); return the one measured before any change.")
    return None


def variant_reproduces_probes(ctx, variant) -> bool:
    """Whether a registered optimizer variant gives the learner's probe path (True without probes)."""
    probes = ctx.outcome.extra.get("probes") or {}
    if "path" not in probes:
        return True
    from .probes import OPT_GRADS, _opt_run

    try:
        return _close(_opt_run(variant.fn, probes["hp"], OPT_GRADS), probes["path"])
    except Exception:
        return True


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


def diagnose_formula(ctx):
    """A plain call's usual formula slips (:data:`FORMULA_FAULTS`), for a single output."""
    ex = ctx.exercise
    faults = FORMULA_FAULTS.get(getattr(ex.reference, "__name__", ""))
    if not faults or not ex.single_output:
        return None
    for name, fn, message in faults:
        try:
            with np.errstate(all="ignore"):
                cand = fn(*ctx.case.args, **ctx.case.kwargs)
        except Exception:
            continue
        if _close(ctx.outcome.outputs, cand) and not _close(cand, ctx.reference.outputs):
            return name, message
    return None
