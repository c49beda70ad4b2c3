"""Classes at scale: a secret per-assignment seed, a batch that resumes, and grading on a real Dask
cluster (a LocalCluster of two worker processes) that loses no submission when a worker dies."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from course.instructor import grade as grade_mod
from course.instructor.grade import grade_batch

ROOT = Path(__file__).resolve().parents[1]
LESSON = "00_getting_started"

pytestmark = [pytest.mark.notebooks, pytest.mark.xdist_group("instructor-scale")]  # it grades real notebooks  # module fixtures: one worker


def _class(tmp_path, n=3):
    subs = tmp_path / "subs"
    subs.mkdir()
    for k in range(n):
        shutil.copy(ROOT / "solutions" / f"{LESSON}.ipynb", subs / f"good{k}.ipynb")
    shutil.copy(ROOT / "notebooks" / f"{LESSON}.ipynb", subs / "blank.ipynb")
    return subs


def _scores(grades):
    return {g.name: (g.status, g.score, {i: e.score for i, e in g.exercises.items()}) for g in grades}


def test_secret_seed_is_kept_never_shown_and_resume_grades_only_what_changed(tmp_path, monkeypatch):
    subs, out = _class(tmp_path, 2), tmp_path / "out"
    out.mkdir()
    first, info = grade_batch([subs], out=out, jobs=2, progress=False)
    secret = json.loads((out / ".course" / "secret.json").read_text())["secret"]
    again, info2 = grade_batch([subs], out=out, jobs=2, progress=False)
    assert info["seed"] == info2["seed"] and _scores(first) == _scores(again)  # regrading: same scores
    assert json.loads((out / ".course" / "secret.json").read_text())["secret"] == secret
    from course.instructor.pipeline import outputs

    outputs.write_all(out, again, info2, ["csv", "json"])
    for page in (out / "feedback").glob("*.md"):
        text = page.read_text()
        assert str(info["seed"]) not in text and "seed" not in text.split("_Printed")[0].lower()
    # the gradebook exists as soon as the first submission is graded: check it is complete now
    assert (out / "gradebook.csv").read_text().count("\n") == 1 + 3

    # --resume: nothing is graded again; a changed notebook is
    calls = []
    real = grade_mod.Grader.work
    monkeypatch.setattr(grade_mod.Grader, "work", lambda self, name, path: calls.append(name) or real(self, name, path))
    resumed, _ = grade_batch([subs], out=out, jobs=2, progress=False, resume=True)
    assert calls == [] and _scores(resumed) == _scores(first)
    shutil.copy(ROOT / "notebooks" / f"{LESSON}.ipynb", subs / "good1.ipynb")  # the learner resubmits
    resumed, _ = grade_batch([subs], out=out, jobs=2, progress=False, resume=True)
    assert calls == ["good1"] and _scores(resumed)["good1"][1] == 0.0
    # without --resume everything is graded again
    grade_batch([subs], out=out, jobs=2, progress=False)
    assert sorted(calls[1:]) == ["blank", "good0", "good1"]


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed", reason="Dask distributed is not installed")
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None, silence_logs=40) as c:
            yield c


def test_dask_gradebook_equals_the_local_one_and_a_killed_worker_loses_nothing(tmp_path, cluster):
    from distributed import Client

    subs = _class(tmp_path, 3)
    local, _ = grade_batch([subs], jobs=2, seed=11, progress=False)
    with Client(cluster, set_as_default=False) as client:
        remote, info = grade_batch([subs], seed=11, progress=False, scheduler=client)
        assert info["executor"] == "dask" and info["jobs"] == 2
        assert _scores(remote) == _scores(local)

        pids = list(client.run(os.getpid).values())
        killed = []

        def kill_one_while_busy():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not killed:
                if any(client.processing().values()):
                    time.sleep(0.5)  # mid-task
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])
                time.sleep(0.05)

        t = threading.Thread(target=kill_one_while_busy)
        t.start()
        survived, _ = grade_batch([subs], seed=11, progress=False, scheduler=client)
        t.join()
        assert killed, "no worker was busy to be killed"
        assert _scores(survived) == _scores(local)  # every submission graded, none lost
