"""Late policies, deadlines and extensions (course.instructor.course_admin.late)."""

import datetime as dt

import pytest

from course.instructor.course_admin.late import assess, parse_deadline, parse_policy, read_extensions

D = dt.datetime(2026, 12, 1, 23, 59)


@pytest.mark.parametrize("hours, factor", [(-1, 1.0), (0.5, 0.9), (24, 0.9), (24.01, 0.8), (240, 0.0)])
def test_per_day_counts_started_days_and_never_goes_below_zero(hours, factor):
    late = assess(D + dt.timedelta(hours=hours), "file modification time", D, parse_policy("per-day:10"))
    assert late.factor == pytest.approx(factor)
    assert late.late == (hours > 0)


def test_zero_after_and_grace():
    p = parse_policy("zero-after:48,grace:15")
    assert p.grace_minutes == 15
    assert assess(D + dt.timedelta(minutes=10), "x", D, p).factor == 1.0 and not assess(
        D + dt.timedelta(minutes=10), "x", D, p).late
    assert assess(D + dt.timedelta(hours=47), "x", D, p).factor == 1.0
    assert assess(D + dt.timedelta(hours=49), "x", D, p).factor == 0.0
    none = assess(D + dt.timedelta(hours=49), "x", D, parse_policy("none"))
    assert none.factor == 1.0 and none.hours_late == pytest.approx(49)


def test_unknown_time_is_not_penalised_and_says_so():
    late = assess(None, "unknown", D, parse_policy("per-day:50"))
    assert late.factor == 1.0 and "unknown" in late.note


@pytest.mark.parametrize("bad", ["per-week:5", "per-day:150", "zero-after:", "grace:10,zero-after:x"])
def test_bad_policy_names_the_option(bad):
    with pytest.raises(ValueError, match="--late-policy"):
        parse_policy(bad)


def test_deadline_and_extensions(tmp_path):
    with pytest.raises(ValueError, match="--deadline.*ISO"):
        parse_deadline("friday")
    f = tmp_path / "ext.csv"
    f.write_text("learner,extension\nada,2d\nalan,36h\ngrace,2026-12-10T12:00\nkurt,3\n")
    ext = read_extensions(f, D)
    assert ext["ada"] == D + dt.timedelta(days=2) and ext["alan"] == D + dt.timedelta(hours=36)
    assert ext["grace"] == dt.datetime(2026, 12, 10, 12) and ext["kurt"] == D + dt.timedelta(days=3)
    f.write_text("name,days\nada,2\n")
    with pytest.raises(ValueError, match="columns 'learner' and 'extension'"):
        read_extensions(f, D)
