"""A sandbox's result as plain bytes between two machines (a Dask worker and the grader).

A worker of a cluster is one more place whose output the grader must not believe: whoever can
reach the scheduler could join as a worker (the README's recipe requires TLS certificates for
that), and a worker runs learner code in its sandboxes. So what a worker sends back is not a
Python object but :func:`pack`'s bytes: a JSON head (status, notes, timings: checked field by
field and bounded) and each test set's outcomes in the wire format of
:mod:`course.instructor.sandbox.inside.wire`, which the grader decodes with the same rules as a
local sandbox's frames (:func:`unpack`). Anything malformed makes the submission ``crashed`` with a
reason that echoes none of it.
"""

from __future__ import annotations

import json
import struct

from .inside import wire

__all__ = ["pack", "unpack", "MAX_BYTES"]

MAX_BYTES = 256 * 2**20
_HEAD = struct.Struct(">4sQ")
_MAGIC = b"CGR1"
_STATUSES = ("ok", "timeout", "crashed")


def _blob(data: bytes) -> bytes:
    return _HEAD.pack(_MAGIC, len(data)) + data


def pack(res) -> bytes:
    """A :class:`~course.instructor.sandbox.host.SandboxResult` as bytes (on the worker)."""
    results, parts = [], []
    for (t, s), (outcomes, meta) in sorted(res.outcomes.items()):
        doc, arrays = wire.encode(outcomes, meta)
        results.append([t, s, len(arrays)])
        parts += [doc, *arrays]
    head = {"status": res.status, "missing": [[t, s, m] for (t, s), m in res.missing.items()],
            "meta": [[t, m] for t, m in res.meta.items()],
            "errors": [[k, v] for k, v in res.cells.get("errors", {}).items()],
            "skipped": [[k, v] for k, v in res.cells.get("skipped", {}).items()],
            "graded": bool(res.cells.get("graded")), "log": res.log[-4000:], "seconds": float(res.seconds),
            "returncode": res.returncode, "attempts": int(res.attempts), "problem": res.problem,
            "timing": res.timing, "hidden_phase": bool(res.hidden_phase), "results": results}
    return b"".join(_blob(p) for p in [json.dumps(head).encode("utf-8"), *parts])


class _Bad(ValueError):
    pass


def _blobs(data: bytes) -> list:
    out, pos = [], 0
    while pos < len(data):
        if len(data) - pos < _HEAD.size:
            raise _Bad("a truncated part")
        magic, size = _HEAD.unpack_from(data, pos)
        pos += _HEAD.size
        if magic != _MAGIC or size > len(data) - pos:
            raise _Bad("a malformed part")
        out.append(data[pos:pos + size])
        pos += size
    if not out:
        raise _Bad("no head")
    return out


def _int(x, lo=0, hi=10**6) -> int:
    if not isinstance(x, int) or isinstance(x, bool) or not lo <= x < hi:
        raise _Bad("a number out of range")
    return x


def _text(x, n=4000) -> str:
    if not isinstance(x, str):
        raise _Bad("a field that should be text")
    return wire.clean_text(x[:n])


def unpack(data, result_type):
    """``result_type`` (SandboxResult) from :func:`pack`'s bytes, trusting nothing: a result that
    cannot be read is a ``crashed`` one with the reason (never the bytes)."""
    try:
        return _unpack(data, result_type)
    except (_Bad, wire.WireError, ValueError, TypeError, KeyError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, (_Bad, wire.WireError)) else type(exc).__name__
        return result_type(status="crashed", problem=f"the worker's result could not be read ({reason})")


def _unpack(data, result_type):
    if not isinstance(data, (bytes, bytearray)) or len(data) > MAX_BYTES:
        raise _Bad("not bytes, or too many")
    parts = _blobs(bytes(data))
    if len(parts[0]) > 4 * 2**20:
        raise _Bad("a head that is too large")
    head = json.loads(parts[0].decode("utf-8"))
    if not isinstance(head, dict) or head.get("status") not in _STATUSES:
        raise _Bad("a head of the wrong shape")
    res = result_type(status=head["status"])
    res.missing = {(_int(t), _int(s)): _text(m, 400) for t, s, m in head["missing"]}
    for t, m in head["meta"]:
        res.meta[_int(t)] = None if m is None else {"found": m.get("found") is True,
                                                     "callable": m.get("callable") is True,
                                                     "type": _text(m.get("type", ""), 40)}
    res.cells = {"errors": {_int(k): _text(v, 400) for k, v in head["errors"]},
                 "skipped": {_int(k): _text(v, 400) for k, v in head["skipped"]}, "graded": head["graded"] is True}
    res.log = _text(head["log"])
    res.seconds = float(head["seconds"])
    res.returncode = None if head["returncode"] is None else _int(head["returncode"], -1000, 1000)
    res.attempts = _int(head["attempts"], 0, 100)
    res.problem = _text(head["problem"], 400)
    timing = head["timing"]
    res.timing = {k: float(v) for k, v in timing.items() if k in ("job", "cells_done", "done", "ended")
                  and isinstance(v, (int, float))} if isinstance(timing, dict) else {}
    res.hidden_phase = head["hidden_phase"] is True
    k = 1
    for t, s, n in head["results"]:
        t, s, n = _int(t), _int(s), _int(n, 0, 100_000)
        if k + 1 + n > len(parts):
            raise _Bad("fewer parts than the head says")
        res.outcomes[(t, s)] = wire.decode(parts[k], parts[k + 1:k + 1 + n])
        k += 1 + n
    return res
