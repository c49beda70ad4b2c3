"""The `course` command line: help lists the sub-commands; a missing module is left out, not a crash."""

import subprocess
import sys

from course import cli


def test_help_lists_subcommands(capsys):
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    for name in ("info", "build", "new-lesson", "progress"):
        assert name in out


def test_console_script_runs():
    result = subprocess.run([sys.executable, "-m", "course", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "commands" in result.stdout


def test_commands_whose_module_is_missing_are_left_out(monkeypatch, capsys):
    monkeypatch.setitem(cli.COMMANDS, "ghost", ("course.no_such_package.command", "not installed"))
    assert cli.main([]) == 0
    assert "ghost" not in capsys.readouterr().out


def test_info_lists_the_lessons(capsys, tmp_path):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "backprop-course" in out and "00_getting_started.ipynb" in out
    assert cli.main(["info", "--notebooks", str(tmp_path)]) == 0
    assert "no lessons found" in capsys.readouterr().out
