"""A function's syntax in a canonical form, for copy detection (:mod:`course.instructor.pipeline.copies`).

The easy edits that hide a copy from a plain token comparison are undone here, on the AST:

- *no-ops* go: docstrings, ``pass``, bare constants and bare names as statements, and dead
  assignments (``unused = 0``: names never read, a value that calls nothing); a body that is
  left empty keeps one ``pass``;
- *independent statements* are put into one canonical order: in each block, between barriers
  (``return``, ``raise``, ``break``, ``continue``, ``yield``, ``global``), the statements are
  ordered by their data dependencies (a statement that reads, writes or mutates a name stays
  after the one that wrote it before), and among those free to go first, by their syntax with
  every local name made alike. Swapping two lines that do not depend on each other therefore
  gives the same canonical function.

Renaming is undone by :func:`stable_names`: each argument is named by its position, each other
local name by the statement that first stores it (its syntax with every local name alike), so
that a statement added near the top (``unused = 0``) renames nothing else.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import heapq

__all__ = ["canonical", "is_noop", "locals_of", "stable_names"]

_BARRIERS = (ast.Return, ast.Raise, ast.Break, ast.Continue, ast.Global, ast.Nonlocal)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def is_noop(stmt) -> bool:
    """``pass``, or an expression statement that is a constant (a docstring) or a bare name."""
    return isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr)
                                          and isinstance(stmt.value, (ast.Constant, ast.Name)))


def locals_of(node) -> set:
    """The names local to a function or class: its arguments, every name it stores or deletes,
    and its inner functions."""
    local = {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            local.add(sub.id)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and sub is not node \
                and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            local.add(sub.name)
    return local


def _base(node):
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _effects(stmt, local: set) -> tuple[set, set, bool]:
    """``(reads, writes, barrier)`` of a statement: the local names it reads, those it writes
    or mutates (an attribute or item stored, any name in a statement that is only a call, such
    as ``x.append(v)``), and whether nothing may move across it. A call inside an expression
    is taken not to change its arguments (two draws ``a = rng.normal()``, ``b = rng.normal()``
    may swap: the order matters to the numbers, not to whether the code was copied)."""
    reads, writes, barrier = set(), set(), isinstance(stmt, _BARRIERS)
    for sub in ast.walk(stmt):
        if isinstance(sub, (ast.Yield, ast.YieldFrom, ast.Await, *_BARRIERS)):
            barrier = True
        elif isinstance(sub, ast.Name):
            (writes if isinstance(sub.ctx, (ast.Store, ast.Del)) else reads).add(sub.id)
        elif isinstance(sub, (ast.Attribute, ast.Subscript)) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            writes.add(_base(sub))
        elif isinstance(sub, ast.Expr) and isinstance(sub.value, ast.Call):
            writes |= {n.id for n in ast.walk(sub) if isinstance(n, ast.Name)}
        elif isinstance(sub, _DEFS) and sub is not stmt:
            writes.add(sub.name)
    if isinstance(stmt, _DEFS):
        writes.add(stmt.name)
    writes.discard(None)
    return reads & local, writes & local, barrier


def _key(stmt, local: set, mark: str = "") -> str:
    """The statement's syntax with every local name alike but ``mark``."""
    return ast.dump(_Alike(local, mark).visit(ast.parse(ast.unparse(stmt)).body[0]), annotate_fields=False)


def _keys(run: list, local: set, effects: list) -> list:
    """The order key of each statement of a run: its syntax with the local names alike, then,
    to tell apart statements that differ only in names (``n, d = x.shape`` and ``f, k = w.shape``),
    for each name it writes, the syntax of the later statements that read it, that name marked."""
    out = []
    for j, stmt in enumerate(run):
        written = [n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
        uses = tuple(tuple(sorted(_key(run[k], local, name) for k in range(j + 1, len(run)) if name in effects[k][0]))
                     for name in written)
        out.append((_key(stmt, local), uses))
    return out


class _Alike(ast.NodeTransformer):
    def __init__(self, local, mark=""):
        self.local, self.mark = local, mark

    def visit_Name(self, node):
        if node.id == self.mark:
            return ast.Name("*", node.ctx)
        return ast.Name("v" if node.id in self.local else node.id, node.ctx)

    def visit_arg(self, node):
        return ast.arg("v")


def _order(run: list, local: set) -> list:
    """The statements of a run without barriers, in the canonical order that keeps every data
    dependency (Kahn's algorithm, the smallest key first)."""
    effects = [_effects(s, local)[:2] for s in run]
    after = [set() for _ in run]
    for j, (rj, wj) in enumerate(effects):
        for i in range(j):
            ri, wi = effects[i]
            if wi & (rj | wj) or ri & wj:
                after[j].add(i)
    keys = _keys(run, local, effects)
    ready = [(keys[j], j) for j in range(len(run)) if not after[j]]
    heapq.heapify(ready)
    done, out = set(), []
    while ready:
        _, i = heapq.heappop(ready)
        done.add(i)
        out.append(run[i])
        for j in range(len(run)):
            if j not in done and i in after[j]:
                after[j].discard(i)
                if not after[j]:
                    heapq.heappush(ready, (keys[j], j))
    return out


def _dead(stmt, local: set, loaded: set) -> bool:
    """An assignment whose names are never read, of a value that calls nothing: ``unused = 0``."""
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)) and stmt.value is not None:
        targets = [stmt.target]
    else:
        return False
    names = [t for t in targets if isinstance(t, ast.Name)]
    return (len(names) == len(targets) and all(t.id in local and t.id not in loaded for t in names)
            and not any(isinstance(n, (ast.Call, ast.Yield, ast.YieldFrom, ast.Await, ast.NamedExpr))
                        for n in ast.walk(stmt.value)))


def _block(body: list, local: set, loaded: set = frozenset()) -> list:
    kept = [_canonical_stmt(s, local, loaded) for s in body if not is_noop(s) and not _dead(s, local, loaded)]
    out, run = [], []
    for stmt in kept:
        if _effects(stmt, local)[2]:
            out += _order(run, local) + [stmt]
            run = []
        else:
            run.append(stmt)
    out += _order(run, local)
    return out or [ast.Pass()]


def _canonical_stmt(stmt, local: set, loaded: set = frozenset()):
    for field in ("body", "orelse", "finalbody"):
        body = getattr(stmt, field, None)
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            setattr(stmt, field, _block(body, local, loaded))
    for handler in getattr(stmt, "handlers", ()) or ():
        handler.body = _block(handler.body, local, loaded)
    for case in getattr(stmt, "cases", ()) or ():
        case.body = _block(case.body, local, loaded)
    return stmt


def canonical(node):
    """A canonical copy of a function or class definition (the original is left as it is):
    comments and no-ops gone, independent statements in the canonical order."""
    node = ast.parse(ast.unparse(node)).body[0]
    local = locals_of(node)
    if isinstance(node, ast.ClassDef):  # methods in the canonical order too; each with its own locals
        node.body = [m if not isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) else canonical(m)
                     for m in node.body if not is_noop(m)] or [ast.Pass()]
        node.body = _order(node.body, set()) if all(isinstance(m, _DEFS) for m in node.body) else node.body
        return node
    for _ in range(3):  # dead assignments go; then those only they read
        loaded = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        node.body = _block(node.body, local, loaded)
    return node


def _head(stmt):
    """The statement without the statements it holds (a loop's or a branch's header)."""
    if isinstance(stmt, (ast.Try, ast.Match)) or type(stmt).__name__ == "TryStar":
        return ast.Pass()
    head = copy.copy(stmt)
    for field in ("body", "orelse", "finalbody"):
        if isinstance(getattr(head, field, None), list):
            setattr(head, field, [ast.Pass()] if field == "body" else [])
    return head


def stable_names(node, local: set) -> dict:
    """``local name -> its token``: ``a<i>`` for the i-th argument, ``v<hash>.<j>`` for the j-th
    name stored by the statement that stores it first (hash of that statement's syntax with every
    local name alike): no name depends on where other names were first used."""
    names: dict = {}
    for fn in ast.walk(node):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = fn.args
            for i, arg in enumerate([*a.posonlyargs, *a.args, a.vararg, *a.kwonlyargs, a.kwarg]):
                if arg is not None:
                    names.setdefault(arg.arg, f"a{i}")

    def block(stmts):
        for stmt in stmts:
            head = _head(stmt)
            key = hashlib.sha1(_key(head, local).encode()).hexdigest()[:8]
            stored = [stmt.name] if isinstance(stmt, _DEFS) else []
            stored += [n.id for n in ast.walk(head)
                       if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))]
            for j, name in enumerate(stored):
                if name in local:
                    names.setdefault(name, f"v{key}.{j}")
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    block(inner)
            for sub in [*(getattr(stmt, "handlers", ()) or ()), *(getattr(stmt, "cases", ()) or ())]:
                block(sub.body)

    block(node.body)
    return names
