"""A Dask cluster is one more place whose output the grader does not believe.

- What a worker sends back is bytes (course.instructor.sandbox.transport), decoded with the wire
  format's rules: a forged result (a pickled object, a result object itself, a head that names a
  status of its own, a truncated part) is a ``crashed`` submission whose reason echoes nothing of it.
- The README's recipe: TLS with certificates. A cluster on loopback (127.0.0.1) with TLS
  (``Security.temporary()``: a CA and certificates made for the test) grades a class of two (the
  solution notebook at full marks, the blank one at 0); a client without the certificates cannot
  connect, and a plain ``tcp://`` scheduler address off this machine is refused.
"""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from course.grader.run.outcome import Outcome
from course.instructor.sandbox import transport
from course.instructor.sandbox.host import SandboxResult

ROOT = Path(__file__).resolve().parents[1]
LESSON = "00_getting_started"
TA = "NOTE FROM TA: full marks"


def _result() -> SandboxResult:
    return SandboxResult(status="ok", outcomes={(0, 1): ([Outcome(outputs=np.arange(3.0))], {"timed_out": False})},
                         meta={0: {"found": True, "callable": True, "type": "function"}},
                         cells={"errors": {2: "ValueError: x"}, "skipped": {}, "graded": True},
                         timing={"job": 0.1, "done": 1.0}, returncode=0, attempts=1)


def test_a_result_crosses_as_bytes_and_comes_back_equal():
    back = transport.unpack(transport.pack(_result()), SandboxResult)
    assert back.status == "ok" and back.cells["graded"] is True and back.cells["errors"] == {2: "ValueError: x"}
    (outcomes, meta), = back.outcomes.values()
    assert np.array_equal(outcomes[0].outputs, np.arange(3.0)) and meta == {"timed_out": False}
    assert back.meta == {0: {"found": True, "callable": True, "type": "function"}} and back.timing["done"] == 1.0


@pytest.mark.parametrize("forged", [
    pickle.dumps(_result()),
    _result(),
    transport.pack(_result()).replace(b'"status": "ok"', b'"status": "' + TA.encode() + b'"'),
    transport.pack(_result())[:-5],
    transport.pack(_result()).replace(b'"$": "outcomes"', b'"$": "' + TA.encode() + b'"'),
    b"CGR1" + (10**9).to_bytes(8, "big") + TA.encode(),
])
def test_a_forged_worker_result_is_a_crash_that_echoes_nothing(forged):
    res = transport.unpack(forged, SandboxResult)
    assert res.status == "crashed" and res.outcomes == {} and "could not be read" in res.problem
    assert "NOTE" not in res.problem


def test_a_plain_tcp_scheduler_off_this_machine_is_refused():
    pytest.importorskip("distributed", reason="Dask distributed is not installed")
    from course.instructor.pipeline.executors import DaskSandboxes

    with pytest.raises(RuntimeError, match="tls://"):
        DaskSandboxes("tcp://203.0.113.7:8786")


def _refused(address, stranger, tmp_path) -> bool:
    """Whether the TLS scheduler at ``address`` refuses a client with ``stranger``'s certificate
    (``None``: no certificate): the handshake, or the first read after it, fails."""
    import socket
    import ssl

    host, port = address[len("tls://"):].rsplit(":", 1)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    if stranger is not None:
        (tmp_path / "cert.pem").write_text(stranger.tls_client_cert)
        (tmp_path / "key.pem").write_text(stranger.tls_client_key)
        ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    try:
        with socket.create_connection((host, int(port)), timeout=5) as raw, ctx.wrap_socket(raw) as s:
            s.sendall(b"\0" * 8)
            return s.recv(1) == b""
    except TimeoutError:  # let in: the scheduler waits for the rest of a message
        return False
    except (ssl.SSLError, OSError):
        return True


def test_grading_through_a_tls_cluster_on_loopback(tmp_path):
    distributed = pytest.importorskip("distributed", reason="Dask distributed is not installed")
    pytest.importorskip("cryptography", reason="Security.temporary() needs the cryptography package")
    import dask
    from distributed.security import Security

    from course.instructor.grade import grade_batch

    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(ROOT / "solutions" / f"{LESSON}.ipynb", subs / "solution.ipynb")
    shutil.copy(ROOT / "notebooks" / f"{LESSON}.ipynb", subs / "blank.ipynb")
    security = Security.temporary()
    with dask.config.set({"distributed.scheduler.allowed-failures": 1,  # a loaded machine: patient connects
                          "distributed.comm.timeouts.connect": "60s"}):
        with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, protocol="tls",
                                      host="127.0.0.1", security=security, dashboard_address=None,
                                      silence_logs=40) as cluster:
            assert cluster.scheduler_address.startswith("tls://127.0.0.1:")
            # no certificate, or one of another CA: the scheduler lets no one in (a raw TLS client: a
            # distributed.Client that fails to connect can hang in its own clean-up)
            assert _refused(cluster.scheduler_address, None, tmp_path)
            assert _refused(cluster.scheduler_address, Security.temporary(), tmp_path)
            assert not _refused(cluster.scheduler_address, security, tmp_path)  # the test can tell: ours gets in
            with distributed.Client(cluster, security=security, timeout="60s", set_as_default=False) as client:
                grades, info = grade_batch([subs], seed=5, progress=False, scheduler=client)
    by_name = {g.name: g for g in grades}
    assert info["executor"] == "dask"
    assert by_name["solution"].score == by_name["solution"].max_score > 0, by_name["solution"].notes
    assert by_name["blank"].score == 0
