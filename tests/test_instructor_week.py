"""The instructor's week, end to end on a generated class of lesson 00: an LMS download is
collected, graded with a deadline, extensions and a late policy, written answers are collected and
hand-graded, the class report says what the class got wrong, and the work goes out again as a
release and a Gradescope zip.

The class: two correct learners (one late, one late with an extension), two with realistic bugs
(the sample standard deviation; statistics over the rows), one blank, one malformed file; and a
roster entry with nothing submitted.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSON = "00_getting_started"
DEADLINE = dt.datetime(2026, 11, 30, 23, 59)

pytestmark = [pytest.mark.notebooks, pytest.mark.xdist_group("instructor-week")]  # it grades real notebooks  # module fixtures: one worker


def _course(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "course", *map(str, args)], cwd=cwd or ROOT,
                          capture_output=True, text=True, timeout=600)


def _with_manual_question(nb):
    """The solution notebook plus one written question (a markdown answer cell tagged manual)."""
    q = nbformat.v4.new_markdown_cell("**Question.** Why is the vectorised version faster?")
    a = nbformat.v4.new_markdown_cell("### BEGIN SOLUTION\nOne call into compiled code instead of a Python "
                                      "loop per element.\n### END SOLUTION")
    a.metadata["tags"] = ["manual"]
    a.metadata["points"] = 2
    q.id, a.id = "written-q", "written-a"
    nb.cells += [q, a]
    return nb


def _replace_function(nb, name, body):
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.lstrip().startswith(f"def {name}("):
            cell.source = body
            return nb
    raise AssertionError(f"no def {name} in the notebook")


def _answer(nb, text):
    for cell in nb.cells:
        if "manual" in cell.metadata.get("tags", []):
            cell.source = text
    return nb


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    base = tmp_path_factory.mktemp("week")
    solutions = base / "solutions"
    solutions.mkdir()
    sol = _with_manual_question(nbformat.read(ROOT / "solutions" / f"{LESSON}.ipynb", as_version=4))
    nbformat.write(sol, solutions / f"{LESSON}.ipynb")
    from course import authoring

    learner = authoring.learner_notebook(sol, LESSON)

    def copy(nb):
        return nbformat.from_dict(json.loads(json.dumps(nb)))

    sample_std = ("def standardize(X, eps=1e-8):\n    mean = X.mean(axis=0)\n"
                  "    return (X - mean) / np.sqrt(X.var(axis=0, ddof=1) + eps)\n")
    over_rows = ("def standardize(X, eps=1e-8):\n    mean = X.mean(axis=1, keepdims=True)\n"
                 "    var = X.var(axis=1, keepdims=True)\n    return (X - mean) / np.sqrt(var + eps)\n")
    bias_sub = "def add_bias(X, b):\n    return X - b\n"
    people = {  # canvas name, id, late flag, submitted at, notebook
        "ada": ("lovelaceada", 101, False, DEADLINE - dt.timedelta(hours=2),
                _answer(copy(sol), "Compiled loops in NumPy instead of the interpreter.")),
        "grace": ("hoppergrace", 102, True, DEADLINE + dt.timedelta(hours=30), copy(sol)),
        "alan": ("turingalan", 103, True, DEADLINE + dt.timedelta(hours=20),
                 _answer(copy(sol), "<script>alert('x')</script> no idea")),
        "emmy": ("noetheremmy", 104, False, DEADLINE - dt.timedelta(hours=1),
                 _replace_function(_replace_function(copy(sol), "standardize", sample_std), "add_bias", bias_sub)),
        "kurt": ("godelkurt", 105, False, DEADLINE - dt.timedelta(minutes=5),
                 _replace_function(copy(sol), "standardize", over_rows)),
        "blank": ("blanky", 106, False, DEADLINE - dt.timedelta(hours=3), copy(learner)),
    }
    download = base / "canvas.zip"
    with zipfile.ZipFile(download, "w") as zf:
        for _, (cname, uid, late, when, nb) in people.items():
            name = f"{cname}{'_LATE' if late else ''}_{uid}_{9000 + uid}_{LESSON}.ipynb"
            zf.writestr(zipfile.ZipInfo(name, date_time=when.timetuple()[:6]), nbformat.writes(nb))
        zf.writestr(zipfile.ZipInfo(f"brokenbob_107_9107_{LESSON}.ipynb", date_time=(2026, 11, 30, 12, 0, 0)),
                    "{ this is not json")
        zf.writestr("../../escape_108_9108_x.ipynb", "{}")  # a hostile member name
    roster = base / "roster.csv"
    roster.write_text("lms_id,name,learner\n" + "".join(f"{p[1]},,{k}\n" for k, p in people.items())
                      + "107,,bob\n109,,nobody\n", encoding="utf-8")
    extensions = base / "extensions.csv"
    extensions.write_text("learner,extension\ngrace,2d\n", encoding="utf-8")

    subs = base / "submissions"
    collected = _course("collect", download, "--out", subs, "--roster", roster)
    assert collected.returncode == 0, collected.stderr
    grades = base / "grades"
    graded = _course("grade", subs, "--out", grades, "--jobs", "2", "--no-progress", "--solutions", solutions,
                     "--seed", "7", "--deadline", DEADLINE.isoformat(), "--extensions", extensions,
                     "--late-policy", "per-day:10")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    manual_dir = base / "manual"
    m = _course("manual", "collect", subs, "--solutions", solutions, "--out", manual_dir)
    assert m.returncode == 0, m.stderr
    return {"base": base, "subs": subs, "grades": grades, "manual": manual_dir, "solutions": solutions,
            "graded": graded, "collected": collected}


def _book(grades):
    with open(grades / "gradebook.csv", newline="") as fh:
        return {r["submission"]: r for r in csv.DictReader(fh)}


def test_collect_maps_names_keeps_times_and_ignores_hostile_members(week):
    subs = week["subs"]
    names = sorted(p.stem for p in subs.glob("*.ipynb"))
    assert names == ["ada", "alan", "blank", "bob", "emmy", "grace", "kurt"]
    assert not (week["base"] / "escape_108.ipynb").exists() and not list(week["base"].parent.glob("escape*"))
    rows = {r["learner"]: r for r in csv.DictReader(open(subs / "manifest.csv"))}
    assert rows["grace"]["lms_late"] == "yes" and rows["ada"]["lms_late"] == ""
    assert rows["ada"]["submitted_at"] == (DEADLINE - dt.timedelta(hours=2)).isoformat()
    assert rows["ada"]["time_source"] == "zip entry time"
    assert (subs / "missing.txt").read_text().split() == ["nobody"]  # on the roster, nothing submitted
    assert "1 learners of the roster submitted nothing" in week["collected"].stdout


def test_late_policy_and_extension_in_the_gradebook(week):
    book = _book(week["grades"])
    assert book["ada"]["late_factor"] == "1" and book["ada"]["final"] == book["ada"]["total"] == "3"
    # alan: 20 h late, one started day at 10% per day
    assert float(book["alan"]["hours_late"]) == pytest.approx(20.0) and book["alan"]["late_factor"] == "0.9"
    assert float(book["alan"]["final"]) == pytest.approx(0.9 * float(book["alan"]["total"]))
    # grace: 30 h late against the deadline, but her 2-day extension makes her on time
    assert book["grace"]["late_factor"] == "1" and float(book["grace"]["hours_late"]) == 0
    assert book["bob"]["status"] != "graded"  # the malformed notebook is reported, the batch goes on
    page = (week["grades"] / "feedback" / "alan.md").read_text()
    assert "## Late submission" in page and "20.0 h after the deadline" in page and "zip entry time" in page
    assert "late: 1 of" in week["graded"].stdout


def test_class_report_names_the_mistakes_and_who(week):
    out = _course("report", week["grades"])
    assert out.returncode == 0, out.stderr
    with open(week["grades"] / "class_report.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    std = [r for r in rows if r["exercise"] == "numpy.standardize"]
    assert std and float(std[0]["failure_rate"]) == pytest.approx(2 / 5)  # 5 attempted (not blank, not bob)
    who = " ".join(r["who"] for r in std)
    assert "emmy" in who and "kurt" in who and "ada" not in who
    bias = [r for r in rows if r["exercise"] == "numpy.add_bias" and r["diagnosis"]]
    assert any("emmy" in r["who"] for r in bias)
    page = (week["grades"] / "class_report.html").read_text()
    assert page.count("data:image/png;base64,") >= 2 and "numpy.standardize" in page
    assert "what the class got wrong" in out.stdout


def test_manual_answers_collected_escaped_scored_and_merged(week):
    manual = week["manual"]
    page = (manual / f"{LESSON}.q1.html").read_text()
    assert "Compiled loops in NumPy" in page and "<script>" not in page and "&lt;script&gt;" in page
    scores = list(csv.DictReader(open(manual / "scores.csv")))
    assert {r["submission"] for r in scores} >= {"ada", "alan", "blank"}
    for r in scores:
        r["score"], r["comment"] = ("2", "Right.") if r["submission"] == "ada" else ("", "")
    with open(manual / "scores.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(scores[0]))
        w.writeheader()
        w.writerows(scores)
    merged = _course("manual", "merge", week["grades"], manual / "scores.csv")
    assert merged.returncode == 0, merged.stderr
    book = _book(week["grades"])
    assert book["ada"]["manual"] == "2" and book["ada"]["final"] == "5" and book["ada"]["final_max"] == "5"
    assert book["alan"]["late_factor"] == "0.9"  # the late policy survives the merge
    assert "Right." in (week["grades"] / "feedback" / "ada.md").read_text()
    # collecting again keeps the scores already entered
    assert _course("manual", "collect", week["subs"], "--solutions", week["solutions"], "--out", manual).returncode == 0
    again = {r["submission"]: r for r in csv.DictReader(open(manual / "scores.csv"))}
    assert again["ada"]["score"] == "2" and again["ada"]["comment"] == "Right."


def test_malformed_options_exit_2_naming_the_file(week, tmp_path):
    bad = tmp_path / "ext.csv"
    bad.write_text("learner,extension\ngrace,soon\n")
    r = _course("grade", week["subs"], "--out", tmp_path / "g", "--deadline", DEADLINE.isoformat(),
                "--extensions", bad)
    assert r.returncode == 2 and "ext.csv, line 2" in r.stderr
    r = _course("grade", week["subs"], "--out", tmp_path / "g", "--deadline", "next friday")
    assert r.returncode == 2 and "--deadline" in r.stderr
    r = _course("grade", week["subs"], "--out", tmp_path / "g", "--late-policy", "per-week:5")
    assert r.returncode == 2 and "--late-policy" in r.stderr
    r = _course("collect", bad, "--out", tmp_path / "s")
    assert r.returncode == 2 and "not a readable zip" in r.stderr


def test_release_has_no_solutions_and_gradescope_zip_is_complete(tmp_path):
    r = _course("release", "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(tmp_path / "backprop-course-release.zip") as zf:
        names = zf.namelist()
        assert any(n.endswith(f"notebooks/{LESSON}.ipynb") for n in names)
        assert any(n.endswith("course/grader/__init__.py") for n in names)
        assert not any("/solutions/" in n for n in names)
        text = zf.read(f"backprop-course/notebooks/{LESSON}.ipynb").decode()
        assert "BEGIN SOLUTION" not in text and "NotImplementedError" in text
    hidden = tmp_path / "hidden.json"
    hidden.write_text(json.dumps({"*": {"seeds": [5]}}))
    r = _course("gradescope", "--out", tmp_path / "ag.zip", "--lesson", "03_backprop", "--hidden", hidden)
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(tmp_path / "ag.zip") as zf:
        names = set(zf.namelist())
        assert {"setup.sh", "run_autograder", "hidden.json", "course/pyproject.toml",
                "course/solutions/03_backprop.ipynb"} <= names
        assert 'COURSE_LESSON:=03_backprop' in zf.read("run_autograder").decode()
        assert (zf.getinfo("run_autograder").external_attr >> 16) & 0o111
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    r = _course("gradescope", "--out", tmp_path / "x.zip", "--hidden", bad)
    assert r.returncode == 2 and "bad.json" in r.stderr
    r = _course("gradescope", "--out", tmp_path / "x.zip", "--lesson", "99_nope")
    assert r.returncode == 2 and "99_nope" in r.stderr
