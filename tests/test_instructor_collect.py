"""Unpacking LMS bulk downloads (course.instructor.course_admin.collect)."""

import zipfile

import pytest

from course.instructor.course_admin.collect import collect, parse_name, read_manifest


@pytest.mark.parametrize("member, lms, name, lms_id, late, rev", [
    ("smithjane_LATE_1234_56789_03_backprop.ipynb", "canvas", "smithjane", "1234", True, 0),
    ("smithjane_1234_56789_03_backprop-2.ipynb", "canvas", "smithjane", "1234", False, 2),
    ("Jane Smith_4321_assignsubmission_file_/03_backprop.ipynb", "moodle", "Jane Smith", "4321", False, 0),
    ("Jane Smith_4321_assignsubmission_file_03_backprop.ipynb", "moodle", "Jane Smith", "4321", False, 0),
])
def test_layouts(member, lms, name, lms_id, late, rev):
    p = parse_name(member)
    assert (p["lms"], p["name"], p["lms_id"], p["late_flag"], p["revision"]) == (lms, name, lms_id, late, rev)
    assert p["file"].endswith(".ipynb")


@pytest.mark.parametrize("member", ["../x_1_2_a.ipynb", "/etc/x_1_2_a.ipynb", "a/b/c_1_2_a.ipynb", "notes.txt"])
def test_hostile_or_foreign_names_are_not_submissions(member):
    assert parse_name(member) is None


def test_latest_resubmission_roster_by_name_and_manifest(tmp_path):
    z = tmp_path / "moodle.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(zipfile.ZipInfo("Jane Smith_11_assignsubmission_file_/l.ipynb", (2026, 11, 30, 10, 0, 0)), "old")
        zf.writestr(zipfile.ZipInfo("Jane Smith_11_assignsubmission_file_/l2.ipynb", (2026, 11, 30, 11, 0, 0)), "new")
        zf.writestr(zipfile.ZipInfo("Al Khwarizmi_12_assignsubmission_file_/x.ipynb", (2026, 11, 29, 9, 0, 0)), "a")
        zf.writestr("readme.txt", "not a notebook")
    roster = tmp_path / "r.csv"
    roster.write_text("lms_id,name,learner\n,jane smith,jsmith\n")
    rows = collect(z, tmp_path / "out", roster)
    assert [r["learner"] for r in rows] == ["Al_Khwarizmi_12", "jsmith"]
    assert (tmp_path / "out" / "jsmith.ipynb").read_text() == "new"
    assert read_manifest(tmp_path / "out")["jsmith"]["submitted_at"] == "2026-11-30T11:00:00"
    assert "readme.txt" in (tmp_path / "out" / "skipped.txt").read_text()
    roster.write_text("id,who\n1,x\n")
    with pytest.raises(ValueError, match="'learner' column"):
        collect(z, tmp_path / "out2", roster)
