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


def test_help_and_info_import_no_sub_command_module():
    """`course --help` and `course info` start fast (benchmarks/bench_cli.py): they import only the
    named sub-command's module, and neither nbformat nor the grader."""
    code = ("import contextlib, io, sys\nfrom course import cli\nfor argv in ({}):\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n        try:\n            cli.main(argv)\n"
            "        except SystemExit:\n            pass\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith(('course.', 'nbformat', 'numpy')))))")
    for argv, allowed in ((["--help"], {"course.cli"}), (["info"], {"course.cli", "course.info", "course.lessons"})):
        out = subprocess.run([sys.executable, "-c", code.format(repr(argv) + ",")], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        assert set(out.stdout.split()) == allowed, argv


def test_a_sub_commands_own_options_still_parse(capsys):
    assert cli.main(["build", "--check", "--solutions", "solutions", "--notebooks", "notebooks"]) in (0, 1)
