"""CI installs the way the README tells users to: the Quick start's commands, line for line, in a
fresh virtual environment, before anything else is installed; the README's test command last."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _quick_start() -> list:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]


def _ci() -> list:
    return [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_quick_start_makes_a_venv_first():
    commands = _quick_start()
    assert commands[0] == "python3 -m venv .venv && . .venv/bin/activate"
    assert commands[1:] == ['python -m pip install -e ".[test]"', "python -m pytest"]


def test_ci_runs_the_quick_start_line_for_line_before_any_other_install():
    ci, commands = _ci(), _quick_start()
    where = [ci.index(c) for c in commands]  # ValueError: a Quick start line is missing from CI
    assert where == sorted(where)
    before = ci[: where[0]]
    assert not any("pip install" in line for line in before), before  # nothing into the base interpreter
    assert ci[-1] == commands[-1]  # the README's test command, run from the venv
