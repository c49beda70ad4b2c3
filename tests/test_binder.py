"""binder/: minimal and pinned, so that an image built later is the one tested today."""

import re
from pathlib import Path

import tomllib
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
BINDER = REPO / "binder"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    pins = {}
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line == ".":
            continue
        name, sep, version = line.partition("==")
        assert sep and re.fullmatch(r"[\w.]+", version), f"binder/requirements.txt: {line!r} is not pinned with =="
        pins[_norm(name)] = version
    return pins


def test_binder_is_minimal():
    assert sorted(p.name for p in BINDER.iterdir()) == ["requirements.txt", "runtime.txt"]
    assert re.fullmatch(r"python-3\.\d+\n?", (BINDER / "runtime.txt").read_text())
    lines = [x.strip() for x in (BINDER / "requirements.txt").read_text().splitlines() if x.strip() and not x.startswith("#")]
    assert lines[-1] == ".", "the course itself is installed last, from this repository"


def test_every_dependency_of_the_course_is_pinned_within_its_range():
    pins = _pins()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for spec in project["dependencies"]:
        req = Requirement(spec)
        assert _norm(req.name) in pins, f"binder/requirements.txt does not pin {req.name}"
        assert req.specifier.contains(pins[_norm(req.name)]), f"{req.name}=={pins[_norm(req.name)]} is outside {spec!r}"
