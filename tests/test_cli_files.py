"""The command line on real files: a workbook that is not ours is refused by every job, a wrong
argument writes nothing, new/demo behave alike, every save says where its backup went, restore
lists and puts back, long work shows a progress bar on a terminal, and the ribbon's 恢复上一版."""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from _io_fixtures import make_workbook
from pyfuncs.cli import main
from pyfuncs.io.safe import BACKUP_DIR

ROOT = Path(__file__).resolve().parents[1]
TODAY = "2026-11-21"
JOB_COMMANDS = ["plan", "refresh", "visits", "report", "forms", "check", "selftest", "configure"]


@pytest.fixture(scope="module")
def data_book(tmp_path_factory) -> Path:
    from pyfuncs.demo import fill, sample_data
    from pyfuncs.io.filebook import FileBook

    p = make_workbook(tmp_path_factory.mktemp("data") / "台账.xlsm")
    with FileBook.open(p) as book:
        fill(book, sample_data(dt.date(2026, 11, 21), seed=5, n_projects=10, n_tickets=60, n_visits=10))
        book.save()
    shutil.rmtree(p.parent / BACKUP_DIR, ignore_errors=True)
    return p


@pytest.fixture
def book(data_book, tmp_path) -> Path:
    p = tmp_path / "台账.xlsm"
    shutil.copy(data_book, p)
    return p


def _run(capsys, argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _backups(p: Path) -> list[Path]:
    d = p.parent / BACKUP_DIR
    return sorted(d.iterdir()) if d.exists() else []


# ---- a workbook that is not ours --------------------------------------------------------------------
@pytest.mark.parametrize("command", JOB_COMMANDS)
def test_a_plain_workbook_is_refused_by_every_job(tmp_path, capsys, command):
    p = tmp_path / "别的表.xlsx"
    wb = Workbook()
    wb.active["A1"] = "这是别人的表"
    wb.save(p)
    before = p.read_bytes()
    code, out, err = _run(capsys, [command, p])
    assert code == 2, out + err
    assert "「别的表.xlsx」不是回访保修工作簿，缺少工作表「项目台账」「保修条款」「报修台账」" in err
    assert "刷新完成" not in out and "完成" not in out
    assert p.read_bytes() == before and not _backups(p)


def test_a_workbook_with_a_few_sheets_of_our_names_is_not_ours(tmp_path, capsys):
    """Two sheets that happen to be called 设置 and 节假日 do not make a workbook ours."""
    p = tmp_path / "排班.xlsx"
    wb = Workbook()
    wb.active.title = "设置"
    wb.create_sheet("节假日")
    wb.save(p)
    before = p.read_bytes()
    code, _, err = _run(capsys, ["refresh", p])
    assert code == 2 and "不是回访保修工作簿" in err and "「项目台账」" in err and "「设置」" not in err
    assert p.read_bytes() == before


def test_one_of_ours_missing_a_sheet_is_still_worked_on(book, capsys):
    """Staff deleted 回访记录: the jobs that need it say so, located; the others run."""
    wb = load_workbook(book, keep_vba=True)
    del wb["回访记录"]
    wb.save(book)
    code, out, _ = _run(capsys, ["refresh", book, "--today", TODAY])
    assert code == 0 and "刷新完成" in out
    code, out, _ = _run(capsys, ["check", book, "--today", TODAY])
    assert code == 1 and "缺少工作表「回访记录」" in out


# ---- 「工作簿未改动」 only where there is a workbook --------------------------------------------------
def test_workbook_unchanged_is_said_only_when_a_workbook_exists(book, tmp_path, capsys, monkeypatch):
    import pyfuncs.demo as demo
    import pyfuncs.jobs.refresh as refresh

    def boom(*a, **k):
        raise RuntimeError("测试用的程序错误")

    monkeypatch.setattr(refresh, "run", boom)
    before = book.read_bytes()
    code, _, err = _run(capsys, ["refresh", book])
    assert code == 3 and "测试用的程序错误" in err and "工作簿未改动" in err and book.read_bytes() == before
    monkeypatch.setattr(demo, "make_demo", boom)
    code, _, err = _run(capsys, ["demo", tmp_path / "新的.xlsm"])
    assert code == 3 and "测试用的程序错误" in err and "工作簿未改动" not in err
    assert not (tmp_path / "新的.xlsm").exists()


# ---- new and demo ---------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["new", "demo"])
@pytest.mark.parametrize("name", ["x.xlsx", "x.xls", "x"])
def test_a_macro_workbook_must_be_named_xlsm(tmp_path, capsys, command, name):
    code, _, err = _run(capsys, [command, tmp_path / name])
    assert code == 2 and "必须保存为 .xlsm" in err and "x.xlsm" in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("command", ["new", "demo"])
def test_new_and_demo_refuse_an_existing_file_unless_forced_and_then_back_it_up(tmp_path, capsys, command):
    p = tmp_path / "台账.xlsm"
    make_workbook(p)
    before = p.read_bytes()
    small = ["--projects", "6", "--tickets", "20", "--visits", "4", "--today", TODAY] if command == "demo" else []
    code, _, err = _run(capsys, [command, p, *small])
    assert code == 2 and "文件已存在" in err and "--force" in err
    assert p.read_bytes() == before and not _backups(p)
    code, out, _ = _run(capsys, [command, p, "--force", *small])
    assert code == 0
    backups = _backups(p)
    assert len(backups) == 1 and backups[0].read_bytes() == before
    assert f"原来的版本备份在：{backups[0]}" in out


# ---- bad arguments write nothing ----------------------------------------------------------------------
def _a_ticket(book: Path) -> str:
    from pyfuncs.io.filebook import FileBook
    from pyfuncs.schema import TABLES
    from pyfuncs.tables import read_table

    with FileBook.open(book, lock=False) as b:
        return str(read_table(b, TABLES["repairs"]).df["ticket_id"].dropna().iloc[0])


def test_an_unknown_ticket_exits_2_and_writes_nothing(book, tmp_path, capsys):
    known = _a_ticket(book)
    before = book.read_bytes()
    code, out, err = _run(capsys, ["forms", book, "--tickets", f"{known},BX2099-9999", "--today", TODAY])
    assert code == 2
    assert "没有报修单「BX2099-9999」" in out and "没有生成任何表单" in out and "工作簿未改动" in err
    assert book.read_bytes() == before and not _backups(book)
    outdir = tmp_path / "打印"
    code, out, _ = _run(capsys, ["forms", book, "--tickets", "BX2099-9999", "--out", outdir, "--today", TODAY])
    assert code == 2 and not (outdir.exists() and list(outdir.iterdir()))
    code, out, _ = _run(capsys, ["forms", book, "--notices", "XM1999-99:2026-03", "--today", TODAY])
    assert code == 2 and "XM1999-99" in out and book.read_bytes() == before
    # the known ticket alone prints, and says where the backup went
    code, out, _ = _run(capsys, ["forms", book, "--tickets", known, "--today", TODAY])
    assert code == 0 and f"维修单-{known}" in load_workbook(book, read_only=True).sheetnames
    assert "原来的版本备份在" in out


@pytest.mark.parametrize("argv", [["plan", "--year", "26"], ["plan", "--year", "2101"], ["refresh", "--today", "2026-13-01"],
                                  ["forms", "--notices", "XM2024-01"]])
def test_bad_arguments_leave_the_workbook_alone(book, capsys, argv):
    before = book.read_bytes()
    code, _, err = _run(capsys, [argv[0], book, *argv[1:]])
    assert code == 2 and err.count("错误：") == 1
    assert book.read_bytes() == before and not _backups(book)


# ---- where the backup went ------------------------------------------------------------------------
def test_every_save_says_where_the_backup_went(book, capsys):
    before = book.read_bytes()
    code, out, _ = _run(capsys, ["plan", book, "--year", "2027", "--today", TODAY])
    assert code == 0
    backups = _backups(book)
    assert len(backups) == 1 and backups[0].read_bytes() == before
    line = out.strip().splitlines()[-1]
    assert line == f"已保存。原来的版本备份在：{backups[0]}（要撤销，运行 aftercare restore {book}）"
    code, out, _ = _run(capsys, ["report", book, "--today", TODAY, "--json"])
    data = json.loads(out)
    assert code == 0 and data["saved"] is True and Path(data["backup"]).exists() and Path(data["backup"]) != backups[0]
    code, out, _ = _run(capsys, ["check", book, "--today", TODAY])  # nothing saved: no backup line
    assert "备份在" not in out and len(_backups(book)) == 2


# ---- restore ----------------------------------------------------------------------------------------
def _versions(book: Path, capsys) -> list[bytes]:
    """Three saves: returns the file's bytes before each and after the last."""
    seen = [book.read_bytes()]
    for argv in (["plan", "--year", "2027"], ["report"], ["plan", "--year", "2028"]):
        assert main([argv[0], str(book), *argv[1:], "--today", TODAY]) == 0
        seen.append(book.read_bytes())
    capsys.readouterr()
    return seen


def test_restore_lists_newest_first_and_puts_one_back_undoably(book, capsys):
    v0, v1, v2, v3 = _versions(book, capsys)
    code, out, _ = _run(capsys, ["restore", book, "--list"])
    assert code == 0 and book.read_bytes() == v3
    rows = [ln.split() for ln in out.splitlines() if ln.strip()[:1].isdigit()]
    assert [r[0] for r in rows] == ["1", "2", "3"]
    stamps = [f"{r[1]} {r[2]}" for r in rows]
    assert stamps == sorted(stamps, reverse=True)  # newest first, with the time ...
    assert all(r[4] in ("KB", "MB") for r in rows)  # ... and the size
    # the newest by default: the version before the last save; the current one is backed up first
    code, out, _ = _run(capsys, ["restore", book])
    assert code == 0 and book.read_bytes() == v2
    assert "已把第 1 份备份" in out and "恢复前的文件已备份为" in out
    assert _backups(book)[-1].read_bytes() == v3
    # restoring again undoes the restore
    assert main(["restore", str(book)]) == 0 and book.read_bytes() == v3
    # --pick N: the list's numbering (now: v3, v2, v2, v1, v0 → the 4th is v1)
    assert main(["restore", str(book), "--pick", "4"]) == 0 and book.read_bytes() == v1
    code, _, err = _run(capsys, ["restore", book, "--pick", "99"])
    assert code == 2 and "没有第 99 份备份" in err and book.read_bytes() == v1


def test_restore_brings_back_a_damaged_workbook(book, capsys):
    _, _, v2, v3 = _versions(book, capsys)
    book.write_bytes(v3[: len(v3) // 3])  # damaged: the jobs refuse it ...
    assert main(["refresh", str(book)]) == 2
    assert main(["restore", str(book)]) == 0  # ... restore does not need to read it
    assert book.read_bytes() == v2
    capsys.readouterr()


def test_restore_is_refused_while_excel_has_the_workbook_open(book, capsys):
    _, _, _, v3 = _versions(book, capsys)
    n = len(_backups(book))
    owner = book.with_name("~$" + book.name)
    owner.write_bytes(b"\x05someone")
    code, _, err = _run(capsys, ["restore", book])
    assert code == 2 and "正在 Excel 中打开" in err
    assert book.read_bytes() == v3 and len(_backups(book)) == n


def test_restore_without_backups_says_so(book, capsys):
    code, out, err = _run(capsys, ["restore", book])
    assert code == 2 and "还没有备份" in out and "没有找到「台账.xlsm」的备份" in err


def test_restore_json(book, capsys):
    _, _, v2, _ = _versions(book, capsys)
    code, out, _ = _run(capsys, ["restore", book, "--json"])
    data = json.loads(out)
    assert code == 0 and data["restored"]["number"] == 1 and Path(data["backup"]).exists()
    assert len(data["backups"]) == 3 and book.read_bytes() == v2


# ---- the progress bar -----------------------------------------------------------------------------
class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_only(book, capsys, monkeypatch):
    monkeypatch.setenv("AFTERCARE_PROGRESS_DELAY", "0")
    tty = _Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(["refresh", str(book), "--today", "2026-12-01"]) == 0
    shown = tty.getvalue()
    assert "回访保修 [" in shown and "打开工作簿" in shown and "刷新报修台账（4/5）" in shown and "保存工作簿" in shown
    percents = [int(x) for x in re.findall(r"(\d+)%", shown)]
    assert percents == sorted(percents) and percents[-1] == 100  # it only moves forward
    assert shown.endswith("\r") and shown.rstrip("\r").split("\r")[-1].strip() == ""  # and is erased at the end
    assert "刷新完成" in capsys.readouterr().out  # the result itself goes to standard output
    # --json: nothing extra
    tty2 = _Tty()
    monkeypatch.setattr(sys, "stderr", tty2)
    assert main(["refresh", str(book), "--today", "2026-12-02", "--json"]) == 0
    assert tty2.getvalue() == ""
    json.loads(capsys.readouterr().out)
    # not a terminal: nothing; --verbose: one line per step
    plain = io.StringIO()
    monkeypatch.setattr(sys, "stderr", plain)
    assert main(["refresh", str(book), "--today", "2026-12-03"]) == 0
    assert plain.getvalue() == ""
    assert main(["refresh", str(book), "--today", "2026-12-04", "-v"]) == 0
    lines = plain.getvalue().splitlines()
    assert "[  0%] 打开工作簿" in lines and any(ln.endswith("刷新报修台账（4/5）") for ln in lines)


def test_a_quick_run_shows_no_bar():
    """Within the delay (about a second) nothing is drawn: quick commands print what they printed."""
    from pyfuncs.progress import ProgressBar

    clock = iter(range(0, 1000)).__next__  # 1 "second" per call, from 0
    tty = _Tty()
    bar = ProgressBar(tty, delay=10, interval=60, clock=lambda: 0.0)
    bar.update(0.5, "一半")
    bar.close()
    assert tty.getvalue() == ""
    bar = ProgressBar(tty, delay=2, interval=60, clock=lambda: float(clock()))
    bar.update(0.1, "开始")  # t=1: not yet
    bar.update(0.5, "一半")  # t=2: shown
    bar.close()
    assert "开始" not in tty.getvalue() and "一半" in tty.getvalue()


def test_progress_bar_through_a_pseudo_terminal(book, tmp_path):
    """The real thing: the command in a child process whose standard error is a terminal."""
    import pty

    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AFTERCARE_PROGRESS_DELAY": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "pyfuncs.cli", "plan", str(book), "--year", "2027", "--today", TODAY],
                            stdout=subprocess.PIPE, stderr=slave, env=env, cwd=tmp_path)
    os.close(slave)
    out = proc.stdout.read().decode("utf-8")
    proc.wait(timeout=300)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    shown = seen.decode("utf-8", errors="replace")
    assert proc.returncode == 0, shown
    assert "回访保修 [" in shown and "写入2027年度回访计划（3/3）" in shown and "100%" in shown
    assert "回访计划2027" in out and "回访保修 [" not in out


def test_selftest_and_demo_report_steps(book, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AFTERCARE_PROGRESS_DELAY", "0")
    tty = _Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    main(["selftest", str(book), "--today", TODAY])
    assert "在副本上试运行「刷新台账」" in tty.getvalue() and "检查工作簿结构" in tty.getvalue()
    tty.seek(0)
    tty.truncate()
    assert main(["demo", str(tmp_path / "d.xlsm"), "--projects", "6", "--tickets", "20", "--visits", "4",
                 "--today", TODAY]) == 0
    assert "填写示例数据" in tty.getvalue() and "保存工作簿" in tty.getvalue()
    capsys.readouterr()


# ---- the ribbon's 恢复上一版 --------------------------------------------------------------------------
class _FakeApp:
    def __init__(self):
        self.alerts: list[str] = []
        self.opened: list[tuple[str, dict]] = []
        self.status_bar = None
        self.books = self

    def alert(self, text, title=None):
        self.alerts.append(text)

    def open(self, fullname, **kw):  # app.books.open
        self.opened.append((fullname, kw))


class _FakeBook:
    def __init__(self, fullname):
        self.fullname = str(fullname)
        self.app = _FakeApp()


def test_ribbon_restore_lists_backups_and_opens_the_newest_read_only(book, tmp_path, capsys):
    import pyfuncs.macros as macros
    from pyfuncs.jobs import RIBBON_COMMANDS

    assert RIBBON_COMMANDS["恢复上一版"] == "restore" and callable(macros.restore)
    _, _, v2, v3 = _versions(book, capsys)
    xb = _FakeBook(book)
    copies = tmp_path / "副本"
    copy = macros.restore_in_excel(xb, copies=str(copies))
    assert copy is not None and copy.parent == copies and copy.read_bytes() == v2  # the newest backup
    assert "备份于" in copy.name and copy.suffix == ".xlsm"
    assert xb.app.opened == [(str(copy), {"read_only": True, "add_to_mru": False})]
    text = xb.app.alerts[-1]
    assert "共有 3 份备份" in text and text.count("KB") + text.count("MB") >= 3
    assert f'aftercare restore "{book}"' in text and "只读" in text
    assert book.read_bytes() == v3  # the open workbook's file is not touched
    # a workbook with no backups
    other = tmp_path / "新" / "空白.xlsm"
    other.parent.mkdir()
    make_workbook(other)
    xb2 = _FakeBook(other)
    assert macros.restore_in_excel(xb2, copies=str(copies)) is None
    assert "还没有备份" in xb2.app.alerts[-1] and not xb2.app.opened
