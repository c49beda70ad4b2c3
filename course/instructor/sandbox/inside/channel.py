"""The one way data leaves the sandbox: frames on a pipe, read by the grader with limits.

The sandbox driver writes *frames* to its standard output (the learner's own ``print`` goes to
``/dev/null``): ``b"CG"``, one kind byte, the payload length as 8 bytes big-endian, the payload.
Kinds: ``J`` a JSON object (an event, or the header of a result), ``A`` the ``.npy`` bytes of one
array of the result before it.

The grader reads the sandbox's stdout and stderr with :func:`read_process`: non-blocking, up to a
deadline, at most ``limit`` bytes from stdout (then the sandbox is stopped) and the last
:data:`LOG_TAIL` bytes of stderr. :class:`Frames` parses what came, trusting nothing: a frame
that is malformed or over :data:`MAX_FRAME` ends the parse (what came before it stays).
Nothing read here is ever a PID, a path to follow or code.
"""

from __future__ import annotations

import json
import os
import selectors
import struct
import time

__all__ = ["send", "send_json", "Frames", "read_process", "json_nodes", "MAX_FRAME", "MAX_STREAM", "MAX_NODES",
           "MAX_FRAMES", "LOG_TAIL"]

MAGIC = b"CG"
MAX_FRAME = 64 * 2**20
MAX_STREAM = 256 * 2**20
LOG_TAIL = 4000
#: At most this many JSON values in one frame (or one result's document): parsed JSON takes
#: about 20 times its bytes in the grader's memory when it is all small lists (``[[],[],...]``).
MAX_NODES = 500_000
#: At most this many frames per sandbox (a run sends about two per cell and one per exercise and
#: test set); 20 million empty ones would take minutes and gigabytes to parse.
MAX_FRAMES = 100_000


def json_nodes(raw: bytes) -> int:
    """An upper bound on the number of values in the JSON text ``raw``, without parsing it."""
    return raw.count(b",") + raw.count(b"[") + raw.count(b"{") + 1
_HEAD = struct.Struct(">2scQ")


def send(fh, kind: bytes, payload: bytes) -> None:
    """Write one frame to the binary file ``fh`` (the driver's private copy of its stdout)."""
    fh.write(_HEAD.pack(MAGIC, kind, len(payload)) + payload)
    fh.flush()


def send_json(fh, obj: dict) -> None:
    send(fh, b"J", json.dumps(obj).encode("utf-8"))


class Frames:
    """Parse the bytes of a sandbox's stdout: ``events`` (JSON objects) and ``results``
    (``(header, [array bytes])``) in order; ``problem`` says why parsing stopped early."""

    def __init__(self, data: bytes):
        self.events: list = []
        self.problem = ""
        pos, pending = 0, None
        while pos < len(data):
            if len(self.events) >= MAX_FRAMES:
                self.problem = f"more than {MAX_FRAMES} frames"
                break
            if len(data) - pos < _HEAD.size:
                self.problem = "a truncated frame"
                break
            magic, kind, size = _HEAD.unpack_from(data, pos)
            pos += _HEAD.size
            if magic != MAGIC or kind not in (b"J", b"A") or size > MAX_FRAME or pos + size > len(data):
                self.problem = "a malformed frame"
                break
            payload = data[pos:pos + size]
            pos += size
            if kind == b"A":
                if pending is None or len(pending[1]) >= pending[2]:
                    self.problem = "an array without a result"
                    break
                pending[1].append(payload)
                continue
            if json_nodes(payload) > MAX_NODES:
                self.problem = f"a frame of more than {MAX_NODES} JSON values"
                break
            try:
                obj = json.loads(payload.decode("utf-8"))
            except (ValueError, RecursionError):
                self.problem = "a frame that is not JSON"
                break
            if not isinstance(obj, dict):
                self.problem = "a frame that is not a JSON object"
                break
            n = obj.get("arrays", 0) if obj.get("event") == "result" else 0
            if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 100_000:
                self.problem = "a result with a bad array count"
                break
            pending = (obj, [], n)
            self.events.append(pending)
        self.events = [(obj, arrays) for obj, arrays, _ in self.events]


def read_process(proc, deadline: float, limit: int = MAX_STREAM, watch=None):
    """Read ``proc``'s stdout (up to ``limit`` bytes) and stderr (its tail) until both close or
    ``deadline`` (``time.monotonic()``) passes, never blocking on either. ``watch(stdout so far)``,
    called after each chunk, may return a new deadline.
    Returns ``(stdout bytes, stderr tail bytes, why it stopped: "eof" | "deadline" | "limit")``."""
    sel = selectors.DefaultSelector()
    out, err = bytearray(), bytearray()
    for f, buf in ((proc.stdout, out), (proc.stderr, err)):
        os.set_blocking(f.fileno(), False)
        sel.register(f, selectors.EVENT_READ, buf)
    why = "eof"
    exited = False
    try:
        while sel.get_map():
            if not exited and proc.poll() is not None:  # a child it left behind may hold the pipes open
                exited = True
                deadline = min(deadline, time.monotonic() + 0.5)
            left = deadline - time.monotonic()
            if left <= 0:
                why = "deadline"
                break
            for key, _ in sel.select(timeout=min(left, 1.0)):
                try:
                    chunk = os.read(key.fileobj.fileno(), 1 << 20)
                except BlockingIOError:
                    continue
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                buf = key.data
                buf += chunk
                if buf is err and len(err) > 2 * LOG_TAIL:
                    del err[:-LOG_TAIL]
                if buf is out and len(out) > limit:
                    del out[limit:]
                    why = "limit"
                if buf is out and watch is not None and not exited:
                    deadline = watch(out)
            if why == "limit":
                break
    finally:
        sel.close()
    return bytes(out), bytes(err[-LOG_TAIL:]), why
