"""Progress: recorded by check, kept in a JSON file (never the real home in tests), shown as
tables and from the command line."""

import json

import numpy as np
import pytest

from course import progress
from course.cli import main
from course.grader import check
from course.layers import relu_forward


@pytest.fixture
def pfile(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(path))
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)
    return path


def test_location_is_documented_and_overridable(pfile, monkeypatch):
    assert progress.progress_file() == pfile
    assert "COURSE_PROGRESS_FILE" in progress.__doc__ and ".backprop-course/progress.json" in progress.__doc__
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    assert progress.progress_file() is None
    monkeypatch.delenv("COURSE_PROGRESS_FILE")
    assert progress.progress_file() is None  # under pytest: never the real home


def test_check_records_best_score_and_attempts(pfile):
    check("layers.relu_forward", lambda x: (np.abs(x), x))
    entry = progress.load()["layers.relu_forward"]
    assert entry["attempts"] == 1 and not entry["passed"] and entry["lesson"] == "01_forward_pass"
    check("layers.relu_forward", relu_forward)
    check("layers.relu_forward", lambda x: (np.abs(x), x))  # a later failure keeps the best
    entry = progress.load()["layers.relu_forward"]
    assert entry["attempts"] == 3 and entry["passed"] and entry["best_score"] == entry["max_score"] == 1.0
    assert entry["status"] == "failed" and "first_passed" in entry
    assert entry["first_attempt"] <= entry["first_passed"] <= entry["last_attempt"]  # for the class report
    data = json.loads(pfile.read_text())
    assert data["version"] == 1 and "layers.relu_forward" in data["exercises"]


def test_record_off_writes_nothing(pfile):
    check("layers.relu_forward", relu_forward, record=False)
    assert not pfile.exists()


def test_unwritable_file_does_not_break_check(tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(blocker / "progress.json"))
    assert check("layers.relu_forward", relu_forward).passed


def test_corrupt_file_reads_as_empty(pfile):
    pfile.write_text("{not json")
    assert progress.load() == {}
    check("layers.relu_forward", relu_forward)
    assert progress.load()["layers.relu_forward"]["passed"]


def test_summary_table_and_html(pfile):
    check("layers.relu_forward", relu_forward)
    rows = {r["lesson"]: r for r in progress.summary()}
    fp = rows["01_forward_pass"]
    assert fp["passed"] == 1 and fp["score"] == 1.0 and fp["exercises"] >= 5
    assert rows["03_backprop"]["passed"] == 0
    text = progress.table(details=True)
    assert "01_forward_pass" in text and "✔ layers.relu_forward" in text and str(pfile) in text
    html = progress.show()._repr_html_()
    assert "<details>" in html and "layers.relu_forward" in html and "01_forward_pass" in html
    assert "01_forward_pass" in repr(progress.show())


def test_reset(pfile):
    check("layers.relu_forward", relu_forward)
    progress.reset()
    assert progress.load() == {}


def test_cli(pfile, capsys):
    check("layers.relu_forward", relu_forward)
    assert main(["progress"]) == 0
    out = capsys.readouterr().out
    assert "01_forward_pass" in out and "total" in out
    assert main(["progress", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert any(r["lesson"] == "01_forward_pass" and r["passed"] == 1 for r in rows)
    assert main(["progress", "--reset"]) == 0
    assert not pfile.exists()


def test_table_columns_line_up_under_their_headers(pfile):
    check("layers.relu_forward", relu_forward)
    lines = progress.table().splitlines()
    head, rows = lines[0], [line for line in lines[2:] if "/" in line and not line.startswith("(")]
    assert rows
    for name in ("passed", "score"):
        end = head.index(name) + len(name)  # right edge of the header
        for row in rows:
            assert row[end - 1] != " " and (end == len(row) or row[end] == " "), (name, head, row)
