"""The ``aftercare`` command: one subcommand per ribbon job, --today/--json, exit statuses."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


from _io_fixtures import all_values, make_workbook
from pyfuncs.cli import build_parser, main
from pyfuncs.jobs import RIBBON_JOBS

ROOT = Path(__file__).resolve().parents[1]


def test_every_ribbon_job_has_a_command_and_a_macro():
    import pyfuncs.macros as macros

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    commands = set(sub.choices)
    for job in RIBBON_JOBS.values():
        assert job in commands
        assert callable(getattr(macros, job))
    assert {"new", "demo", "configure", "restore"} <= commands


def test_job_commands_take_today_and_json():
    p = build_parser()
    for job in RIBBON_JOBS.values():
        args = p.parse_args([job, "x.xlsm", "--today", "2026年3月5日", "--json"])
        assert str(args.today) == "2026-03-05" and args.json


def test_bad_arguments_exit_2(capsys):
    assert main(["refresh", "x.xlsm", "--today", "2026-13-01"]) == 2
    assert main(["nonsense"]) == 2
    assert main(["--help"]) == 0


def test_new_builds_and_refuses_to_overwrite(tmp_path, capsys):
    p = tmp_path / "新台账.xlsm"
    assert main(["new", str(p)]) == 0
    assert p.exists() and "已新建工作簿" in capsys.readouterr().out
    assert main(["new", str(p)]) == 2
    assert "文件已存在" in capsys.readouterr().err
    assert main(["new", str(p), "--force", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert list((tmp_path / ".aftercare-backup").iterdir())


def test_refresh_json_summary_and_today_make_results_reproducible(tmp_path, capsys):
    import datetime as dt

    from pyfuncs.io.filebook import FileBook
    from pyfuncs.schema import TABLES

    p = make_workbook(tmp_path / "r.xlsm")
    with FileBook.open(p) as b:
        P, R = TABLES["projects"], TABLES["repairs"]
        b.write(P.sheet, 2, 1, [[{"project_id": "P1", "name": "甲", "accepted": dt.date(2024, 6, 30)}.get(c.key)
                                 for c in P.columns]])
        b.write(R.sheet, 2, 1, [[{"project_id": "P1", "notice": dt.date(2026, 9, 28), "part": "屋面防水"}.get(c.key)
                                 for c in R.columns]])
        b.save()
    assert main(["refresh", str(p), "--today", "2026-11-21", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["job"] == "refresh" and data["ok"] and data["summary"]["today"] == "2026-11-21"
    assert data["summary"]["overdue"] == 1 and data["summary"]["new_ticket_ids"] == 1
    first = all_values(p)
    assert main(["refresh", str(p), "--today", "2026-11-21"]) == 0
    assert "刷新完成" in capsys.readouterr().out
    assert all_values(p) == first


def test_missing_file_and_locked_file_exit_2(tmp_path, capsys):
    assert main(["plan", str(tmp_path / "none.xlsm"), "--year", "2026"]) == 2
    assert "找不到文件" in capsys.readouterr().err
    p = make_workbook(tmp_path / "a.xlsm")
    from pyfuncs.io.safe import job_lock

    import pyfuncs.io.filebook as fb

    with job_lock(p):
        orig = fb.FileBook.open.__func__

        def quick(cls, path, **kw):
            kw["lock_wait"] = 0.2
            return orig(cls, path, **kw)

        fb.FileBook.open = classmethod(quick)
        try:
            assert main(["refresh", str(p)]) == 2
        finally:
            fb.FileBook.open = classmethod(orig)
    assert "另一个 aftercare 任务" in capsys.readouterr().err


def test_console_entry_point_runs_as_a_process(tmp_path):
    p = make_workbook(tmp_path / "a.xlsm")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "pyfuncs.cli", "check", str(p), "--json"], capture_output=True,
                       text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["job"] == "check"
    r = subprocess.run([sys.executable, "-m", "pyfuncs.cli", "check", str(tmp_path / "x.xlsm")],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 2 and "找不到文件" in r.stderr


def test_pyproject_declares_the_console_script():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'aftercare = "pyfuncs.cli:main"' in text


def test_forms_options_become_job_selection():
    import pyfuncs.cli as cli

    args = build_parser().parse_args(["forms", "a.xlsm", "--today", "2026-11-21", "--plan-rows", "4,5",
                                      "--tickets", "BX2026-0001", "--notices", "P1:2026-03", "--out", "out"])
    opts = cli.job_options(args)
    assert opts.selection == ["plan:2026:4", "plan:2026:5", "repair:BX2026-0001", "notice:P1:2026-03"]
    assert opts.extra == {"out": "out", "strict": True}  # strict: an item that names nothing writes nothing


def test_configure_command_fills_xlwings_conf(tmp_path, capsys):
    p = make_workbook(tmp_path / "c.xlsm")
    assert main(["configure", str(p), "--json", "--interpreter", "/usr/bin/python3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] and "/usr/bin/python3" in json.dumps(data["written"])
    assert main(["configure", str(tmp_path / "none.xlsm")]) == 2


def test_new_workbook_passes_check_and_selftest_runs(tmp_path, capsys):
    p = tmp_path / "空白.xlsm"
    assert main(["new", str(p)]) == 0
    assert main(["check", str(p), "--json"]) == 0
    data = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert data["summary"]["errors"] == 0
    code = main(["selftest", str(p), "--json", "--today", "2026-11-21"])
    out = json.loads(capsys.readouterr().out)
    assert out["job"] == "selftest" and code == (0 if out["summary"]["ok"] else 1)
