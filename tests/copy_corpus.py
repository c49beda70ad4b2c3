"""Material for measuring copy detection (:mod:`course.instructor.pipeline.copies`).

- :data:`EDITS`: the easy edits a copier makes to the reference's source (``course release``
  gives it to every learner): renamed, aliased under a private name, padded with no-ops, with
  independent lines swapped, with other comments and docstrings, with a dead line added, and all
  of these at once;
- :data:`INDEPENDENT`: correct answers written without looking at the references (each passes
  its exercise's check: ``tests/test_copies.py``);
- :func:`measure`: the flagged share of edited copies, and the false flags on the course's
  solution notebooks and on the independent answers.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _source(fn) -> str:
    return textwrap.dedent(inspect.getsource(fn))


class _Rename(ast.NodeTransformer):
    def __init__(self, names):
        self.names = names

    def visit_Name(self, node):
        node.id = self.names.get(node.id, node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.names.get(node.arg, node.arg)
        return node


def renamed(src: str) -> str:
    tree = ast.parse(src)
    top = tree.body[0]
    local = {a.arg for a in ast.walk(top) if isinstance(a, ast.arg)}
    local |= {n.id for n in ast.walk(top) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    local.discard("self")
    _Rename({n: f"my_{n}_{i}" for i, n in enumerate(sorted(local))}).visit(tree)
    return ast.unparse(tree)  # the function keeps its name (``aliased`` changes it)


def aliased(src: str) -> str:
    tree = ast.parse(src)
    name = tree.body[0].name
    tree.body[0].name = "_helper_impl"
    return ast.unparse(tree) + f"\n{name} = _helper_impl\n"


def _blocks(tree):
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                yield node, field, body


def padded(src: str) -> str:
    tree = ast.parse(src)
    for node, field, body in list(_blocks(tree)):
        if isinstance(node, ast.Module):
            continue
        out = []
        for i, stmt in enumerate(body):
            out += [stmt, ast.Pass(), ast.Expr(ast.Constant(i))]
        setattr(node, field, out)
    return ast.unparse(ast.fix_missing_locations(tree))


def _free(stmt) -> bool:
    """An assignment to plain names only (``a.x = ...`` changes what ``a`` refers to)."""
    return isinstance(stmt, ast.Assign) and all(
        isinstance(t, ast.Name) or (isinstance(t, ast.Tuple) and all(isinstance(e, ast.Name) for e in t.elts))
        for t in stmt.targets)


def _names(node, store: bool) -> set:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) == store}


def reordered(src: str) -> str:
    """Adjacent assignments that do not depend on each other, swapped (every such pair)."""
    tree = ast.parse(src)
    for node, field, body in list(_blocks(tree)):
        body = list(body)
        i = 0
        while i + 1 < len(body):
            a, b = body[i], body[i + 1]
            if _free(a) and _free(b) and not (_names(a, True) & (_names(b, False) | _names(b, True))) \
                    and not (_names(b, True) & _names(a, False)):
                body[i], body[i + 1] = b, a
                i += 2
            else:
                i += 1
        setattr(node, field, body)
    return ast.unparse(tree)


def recommented(src: str) -> str:
    tree = ast.parse(src)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant):
            body[0].value = ast.Constant("My own implementation, written from the lecture notes.")
    lines = ast.unparse(tree).splitlines()
    return "\n".join(f"{ln}  # step {i}" if ln.rstrip().endswith((")", "]")) else ln for i, ln in enumerate(lines))


def dead_line(src: str) -> str:
    """A line that does nothing useful, first in the function (or in each method): it used to
    shift the number of every local name after it."""
    tree = ast.parse(src)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            node.body.insert(0, ast.parse("unused_value = 0").body[0])
    return ast.unparse(ast.fix_missing_locations(tree))


def everything(src: str) -> str:
    return recommented(padded(reordered(renamed(dead_line(aliased(src))))))


EDITS = {"renamed": renamed, "aliased": aliased, "padded with no-ops": padded, "reordered": reordered,
         "comments and docstrings": recommented, "a dead line added": dead_line, "all at once": everything}


INDEPENDENT = {
    "losses.softmax_cross_entropy": '''
def softmax_cross_entropy(logits, y, reduction="mean"):
    z = np.asarray(logits, dtype=float)
    n = z.shape[0]
    shifted = z - z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_probs = shifted - log_norm
    rows = np.arange(n)
    losses = -log_probs[rows, y]
    grad = np.exp(log_probs)
    grad[rows, y] -= 1.0
    if reduction == "mean":
        return float(losses.mean()), grad / n
    return float(losses.sum()), grad
''',
    "layers.linear_backward": '''
def linear_backward(dout, cache):
    x, W, b = cache
    flat = x.reshape(x.shape[0], -1)
    grad_W = np.zeros_like(W)
    for i in range(flat.shape[0]):
        grad_W += np.outer(flat[i], dout[i])
    grad_x = np.einsum("nm,dm->nd", dout, W).reshape(x.shape)
    grad_b = np.einsum("nm->m", dout)
    return grad_x, grad_W, grad_b
''',
    "gradients.clip_grad_norm": '''
def clip_grad_norm(grads, max_norm, norm_type=2.0, error_if_nonfinite=True):
    arrays = list(grads.values()) if isinstance(grads, dict) else list(grads)
    if not arrays:
        return 0.0
    flat = np.concatenate([np.abs(a).ravel() for a in arrays])
    if norm_type == float("inf"):
        norm = float(flat.max()) if flat.size else 0.0
    else:
        norm = float((flat ** norm_type).sum() ** (1.0 / norm_type))
    if error_if_nonfinite and not np.isfinite(norm):
        raise ValueError("the gradient norm is not finite")
    factor = max_norm / (norm + 1e-6)
    if factor < 1.0:
        for a in arrays:
            a *= factor
    return norm
''',
    "normalization.layernorm_forward": '''
def layernorm_forward(x, gamma, beta, eps=1e-5):
    d = x.shape[1]
    mu = x.sum(axis=1, keepdims=True) / d
    sq = ((x - mu) ** 2).sum(axis=1, keepdims=True) / d
    r = (sq + eps) ** -0.5
    normed = (x - mu) * r
    y = normed * gamma[None, :] + beta[None, :]
    return y, (normed, gamma, r)
''',
    "optim.adagrad": '''
def adagrad(w, g, state, *, lr=1e-2, lr_decay=0.0, weight_decay=0.0, eps=1e-10):
    step = state.get("step", 0) + 1
    state["step"] = step
    grad = g + weight_decay * w if weight_decay else g
    acc = state.get("sum")
    if acc is None:
        acc = np.zeros_like(w)
    acc = acc + grad ** 2
    state["sum"] = acc
    rate = lr / (1.0 + lr_decay * (step - 1))
    np.subtract(w, rate * grad / (np.sqrt(acc) + eps), out=w)
    return w
''',
    "averages.ema": '''
def ema(x, beta, bias_correction=False):
    x = np.asarray(x, dtype=float)
    result = np.empty_like(x)
    running = 0.0
    weight = 1.0
    for k in range(len(x)):
        running = running * beta + x[k] * (1.0 - beta)
        weight = weight * beta
        result[k] = running / (1.0 - weight) if bias_correction else running
    return result
''',
    "regularization.l1_penalty": '''
def l1_penalty(params, lam, names=None):
    keys = list(params) if names is None else list(names)
    total = 0.0
    out = {}
    for name, value in params.items():
        if name in keys:
            total = total + lam * np.abs(value).sum()
            out[name] = np.sign(value) * lam
        else:
            out[name] = 0.0 * value
    return float(total), out
''',
    "losses.mse_loss": '''
def mse_loss(pred, target, reduction="mean"):
    pred = np.asarray(pred, dtype=float)
    err = pred - np.asarray(target, dtype=float)
    total = float(np.dot(err.ravel(), err.ravel()))
    grad = err + err
    if reduction == "sum":
        return total, grad
    n = err.size
    return total / n, grad / n
''',
    "conv.conv2d_forward": '''
def conv2d_forward(x, w, b, stride=1, pad=0):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (wd + 2 * pad - kw) // stride + 1
    out = np.zeros((n, f, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, stride, pad)
''',
    "gradcheck.numerical_gradient_array": '''
def numerical_gradient_array(f, x, df, h=1e-5):
    result = np.zeros(x.shape)
    flat = x.reshape(-1)
    for k in range(flat.size):
        keep = flat[k]
        flat[k] = keep + h
        up = np.array(f(x), dtype=float, copy=True)
        flat[k] = keep - h
        down = np.array(f(x), dtype=float, copy=True)
        flat[k] = keep
        result.reshape(-1)[k] = np.sum((up - down) * df) / (2 * h)
    return result
''',
    "schedules.cyclic_lr": '''
def cyclic_lr(step, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular", gamma=1.0):
    down = step_size_up if step_size_down is None else step_size_down
    period = step_size_up + down
    cycle = math.floor(1 + step / period)
    pos = step - (cycle - 1) * period
    if pos <= step_size_up:
        frac = pos / step_size_up
    else:
        frac = 1.0 - (pos - step_size_up) / down
    amplitude = (max_lr - base_lr) * frac
    if mode == "triangular2":
        amplitude = amplitude / (2.0 ** (cycle - 1))
    elif mode == "exp_range":
        amplitude = amplitude * gamma ** step
    return base_lr + amplitude
''',
}


def _flags(cells, ex_ids) -> dict:
    from course.grader import get
    from course.instructor.pipeline import copies

    bindings = {i: None for i in ex_ids}
    return copies.reference_copies(copies.notebook_shapes(cells), bindings, {i: get(i) for i in ex_ids})


def edited_copies():
    """``(exercise id, edit name, source)`` for every reference long enough to be compared."""
    from course.grader import exercises
    from course.instructor.pipeline import copies

    seen, out = set(), []
    for ex in exercises():
        ref = copies.reference_shape(ex.reference)
        if ex.forced or ref is None or ref.size < copies.MIN_TOKENS or id(ex.reference) in seen:
            continue
        seen.add(id(ex.reference))
        src = _source(ex.reference)
        out += [(ex.id, name, edit(src)) for name, edit in EDITS.items()]
    return out


def solution_flags() -> tuple[int, list]:
    """``(answers, false flags)`` of the solution notebooks, each against its lesson's references."""
    import nbformat

    from course.instructor.pipeline import extract

    n, flags = 0, []
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        ids = list(extract.exercise_functions(nb))
        n += len(ids)
        flags += [(path.name, k, why) for k, why in _flags(extract.code_cells(nb), ids).items()]
    return n, flags


def measure() -> dict:
    edited = edited_copies()
    missed = {}
    for ex_id, name, src in edited:
        if ex_id not in _flags([(0, "import numpy as np"), (1, src)], [ex_id]):
            missed.setdefault(name, []).append(ex_id)
    n_sol, sol_flags = solution_flags()
    own = [(k, why) for k, src in INDEPENDENT.items() for why in _flags([(0, src)], [k]).values()]
    return {"edited": len(edited), "missed": missed, "per_edit": len(edited) // len(EDITS),
            "solutions": n_sol, "solution_flags": sol_flags, "independent": len(INDEPENDENT),
            "independent_flags": own}
