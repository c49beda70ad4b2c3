"""The class report (course.instructor.course_admin.class_report) on a small hand-made grades.json."""

import json

from course.instructor.course_admin.class_report import summarise, time_to_pass, write_report


def _sub(name, status, diagnoses=(), error=None):
    case = {"case": 1, "passed": status == "passed", "diagnoses": [{"name": d, "message": f"msg {d}"} for d in diagnoses]}
    if error:
        case["error"] = error
    ex = {"title": "Adam", "status": status, "score": 1.0 if status == "passed" else 0.0, "max_score": 1.0,
          "sets": [{"case_results": [case]}]}
    return {"submission": name, "score": ex["score"], "max_score": 1.0, "exercises": {"optim.adam": ex}}


DOC = {"batch": {"seed": 1, "lessons": ["07_adaptive"], "exercises": ["optim.adam"]}, "submissions": [
    _sub("a", "passed"), _sub("b", "failed", ["no_bias_correction", "values"]), _sub("c", "failed", ["no_bias_correction"]),
    _sub("d", "failed", ["values"]), _sub("e", "not_attempted", ["not_attempted"]),
    _sub("<img src=x onerror=alert(1)>", "error", error={"kind": "exception", "type": "<b>Evil</b>", "message": "m"}),
]}


def test_shares_are_of_those_who_attempted_and_name_who():
    [s] = summarise(DOC)
    assert (s.submissions, s.attempted, s.passed) == (6, 5, 1)
    ranked = {name: (n, share) for name, n, share in s.ranked()}
    assert ranked["no_bias_correction"] == (2, 0.4)
    assert sorted(s.who["no_bias_correction"]) == ["b", "c"]
    assert ranked["unnamed (values differ)"][0] == 1  # d: wrong, nothing recognised
    assert "values" not in ranked


def test_page_escapes_learner_text_and_embeds_plots(tmp_path):
    (tmp_path / "grades.json").write_text(json.dumps(DOC))
    page, table = write_report(tmp_path)
    text = page.read_text()
    assert "<img src=x" not in text and "&lt;img src=x" in text and "<b>Evil</b>" not in text
    assert text.count("data:image/png;base64,") == 3
    assert "no_bias_correction" in table.read_text()


def test_time_to_pass_from_progress_files(tmp_path):
    for who, (first, passed, attempts) in {"a": ("2026-12-01T10:00:00", "2026-12-01T10:30:00", 3),
                                           "b": ("2026-12-01T09:00:00", "2026-12-01T09:10:00", 1)}.items():
        (tmp_path / f"{who}.json").write_text(json.dumps({"exercises": {"optim.adam": {
            "passed": True, "attempts": attempts, "first_attempt": first, "first_passed": passed}}}))
    (tmp_path / "broken.json").write_text("{")
    t = time_to_pass(tmp_path)["optim.adam"]
    assert t == {"learners": 2, "median_attempts": 2.0, "median_minutes": 20.0}


def test_page_renders_in_a_real_browser(tmp_path):
    """The page opens offline in Chromium: its table is there and every plot decodes as an image."""
    import shutil

    import pytest

    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no Chromium here (.ci/run installs Debian's chromium)")
    (tmp_path / "grades.json").write_text(json.dumps(DOC))
    page_path, _ = write_report(tmp_path)
    def look():
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            try:
                page = browser.new_page()
                page.goto(page_path.as_uri())
                sizes = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.complete, i.naturalWidth])")
                table = page.inner_text("table")
                scripts = page.evaluate("() => document.querySelectorAll('script').length")
                page.screenshot(path=str(tmp_path / "class_report.png"), full_page=True)
                return sizes, table, scripts
            finally:
                browser.close()

    # Playwright's sync API refuses a thread whose asyncio loop runs (another test's may): a thread of its own
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        sizes, table, scripts = pool.submit(look).result(timeout=120)
    assert len(sizes) == 3 and all(done and width > 100 for done, width in sizes)
    assert "no_bias_correction" in table
    assert scripts == 0
