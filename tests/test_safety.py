"""Nothing lost: refused files, the lock, backups, crash-safe saving, and every job on a real
built workbook full of staff additions changing only its own computed cells (idempotently)."""
from __future__ import annotations

import datetime as dt
import importlib
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.table import TableColumn

from _io_fixtures import all_values, make_workbook, part_bytes, root_rel_targets
from pyfuncs.cli import main
from pyfuncs.io.book import parse_ref
from pyfuncs.io.filebook import FileBook
from pyfuncs.io.safe import BACKUP_DIR, Refused, backup, check_file, job_lock, safe_save
from pyfuncs.schema import TABLES

TODAY = dt.date(2026, 11, 21)
ROOT = Path(__file__).resolve().parents[1]


# ---- refusals ------------------------------------------------------------------------------------
@pytest.fixture
def book_file(tmp_path) -> Path:
    return make_workbook(tmp_path / "台账.xlsm")


def test_refuses_missing_file(tmp_path, capsys):
    with pytest.raises(Refused, match="找不到文件"):
        check_file(tmp_path / "nope.xlsm")
    assert main(["refresh", str(tmp_path / "nope.xlsm")]) == 2
    assert "找不到文件" in capsys.readouterr().err


def test_refuses_workbook_open_in_excel(book_file, capsys):
    owner = book_file.with_name("~$" + book_file.name)
    owner.write_bytes(b"\x05someone")
    before = book_file.read_bytes()
    assert main(["refresh", str(book_file), "--today", "2026-11-21"]) == 2
    err = capsys.readouterr().err
    assert "正在 Excel 中打开" in err
    assert book_file.read_bytes() == before


@pytest.mark.parametrize("content, words", [
    (b"hello, this is text", "不是 Excel 工作簿"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "密码"),
    (b"PK\x03\x04broken zip", "已损坏"),
])
def test_refuses_non_workbooks_encrypted_and_corrupt(tmp_path, capsys, content, words):
    p = tmp_path / "bad.xlsm"
    p.write_bytes(content)
    with pytest.raises(Refused, match=words):
        check_file(p)
    assert main(["check", str(p)]) == 2
    assert words in capsys.readouterr().err


def test_refuses_truncated_workbook(book_file, capsys):
    data = book_file.read_bytes()
    book_file.write_bytes(data[: len(data) // 2])
    assert main(["refresh", str(book_file)]) == 2
    assert "损坏" in capsys.readouterr().err


# ---- the inter-process lock ----------------------------------------------------------------------
def test_second_run_waits_then_is_refused(book_file):
    with job_lock(book_file):
        # another process
        code = ("import sys; from pyfuncs.io.safe import job_lock, Refused\n"
                "try:\n    with job_lock(sys.argv[1], wait=0.3): print('GOT')\n"
                "except Refused as e: print('REFUSED', e)\n")
        out = subprocess.run([sys.executable, "-c", code, str(book_file)], capture_output=True, text=True,
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
        assert out.startswith("REFUSED") and "另一个 aftercare 任务" in out
        # and the command line in this process (a second lock on the same file)
        with pytest.raises(Refused):
            with job_lock(book_file, wait=0.2):
                pass
    with job_lock(book_file, wait=0.2):  # released: free again
        pass


def test_lock_released_when_job_fails(book_file):
    with pytest.raises(RuntimeError):
        with FileBook.open(book_file):
            raise RuntimeError("boom")
    with FileBook.open(book_file, lock_wait=0.1):
        pass


# ---- backups and atomic replace ------------------------------------------------------------------
def test_save_keeps_a_backup_and_only_the_last_n(book_file):
    original = book_file.read_bytes()
    for i in range(4):
        with FileBook.open(book_file, keep=3) as book:
            book.write("项目台账", 2, 1, [[f"P{i}"]])
            book.save()
    backups = sorted((book_file.parent / BACKUP_DIR).iterdir())
    assert len(backups) == 3
    assert all(b.suffix == ".xlsm" and b.name.startswith(book_file.stem + ".") for b in backups)
    assert original not in [b.read_bytes() for b in backups]  # the oldest was pruned
    assert load_workbook(backups[-1])["项目台账"]["A2"].value == "P2"


def test_crash_during_save_leaves_the_original_intact(book_file, monkeypatch):
    before = book_file.read_bytes()
    book = FileBook.open(book_file)
    book.write("项目台账", 2, 1, [["P1"]])

    def half_written(src, changes, path, *a, **k):
        Path(path).write_bytes(b"PK\x03\x04" + b"x" * 100)  # a partial zip, then the crash
        raise OSError("磁盘已满")

    import pyfuncs.io.package

    monkeypatch.setattr(pyfuncs.io.package, "write_package", half_written)
    with pytest.raises(OSError):
        book.save()
    book.close()
    assert book_file.read_bytes() == before
    assert not [p for p in book_file.parent.iterdir() if p.name.startswith(".~aftercare-tmp")]
    assert not (book_file.parent / BACKUP_DIR).exists()  # nothing replaced, nothing backed up


def test_crash_between_write_and_replace(book_file, monkeypatch):
    before = book_file.read_bytes()
    import pyfuncs.io.safe as safe

    def no_replace(src, dst):
        raise OSError("断电")

    monkeypatch.setattr(safe.os, "replace", no_replace)
    with FileBook.open(book_file) as book:
        book.write("项目台账", 2, 1, [["P1"]])
        with pytest.raises(OSError):
            book.save()
    assert book_file.read_bytes() == before
    assert not [p for p in book_file.parent.iterdir() if p.name.startswith(".~aftercare-tmp")]


def test_safe_save_refuses_an_incomplete_temp_file(tmp_path):
    target = tmp_path / "a.xlsm"
    target.write_bytes(b"old")
    with pytest.raises(Exception):
        safe_save(target, lambda tmp: tmp.write_bytes(b"not a zip"))
    assert target.read_bytes() == b"old"


def test_backup_names_sort_by_time(tmp_path):
    p = tmp_path / "x.xlsm"
    p.write_bytes(b"1")
    a = backup(p, now=dt.datetime(2026, 1, 2, 3, 4, 5))
    b = backup(p, now=dt.datetime(2026, 1, 2, 3, 4, 6))
    assert a.name < b.name and a.parent.name == BACKUP_DIR


# ---- nothing lost: every job on a real built workbook with staff additions ------------------------
JOBS = ["plan", "refresh", "visits", "report", "forms", "check"]
GENERATED_PREFIXES = ("回访计划", "统计", "检查结果", "自检结果", "回访单", "维修单", "保修期满通知书")


def _available(job: str) -> bool:
    try:
        importlib.import_module(f"pyfuncs.jobs.{job}")
        return True
    except ModuleNotFoundError:
        return False


def _add_staff_data(path: Path) -> None:
    wb = load_workbook(path, keep_vba=True, rich_text=True)
    # an extra sheet of staff's own
    ws = wb.create_sheet("员工备忘")
    ws["A1"] = "本月重点"
    ws["A2"] = "=COUNTA(项目台账!A:A)-1"
    ws["B2"] = dt.datetime(2026, 5, 1)
    ws["B2"].number_format = "yyyy年m月d日"
    ws["A3"] = 12345.678
    ws["A3"].font = Font(bold=True, color="FF0000")
    ws["A1"].comment = Comment("别删这张表", "李四")
    ws.merge_cells("C1:E1")
    ws["C1"] = "合并的标题"
    # a column inside the projects table (added at its right end, as Excel does)
    pws = wb["项目台账"]
    t = pws.tables["tblProjects"]
    top, left, bottom, right = parse_ref(t.ref)
    pws.cell(top, right + 1, "片区")
    for r in range(top + 1, bottom + 1):
        pws.cell(r, right + 1, "东区" if r % 2 else "西区")
    t.tableColumns.append(TableColumn(id=len(t.tableColumns) + 1, name="片区"))
    from openpyxl.utils import get_column_letter

    t.ref = f"{get_column_letter(left)}{top}:{get_column_letter(right + 1)}{bottom}"
    if t.autoFilter is not None:
        t.autoFilter.ref = t.ref
    pws.cell(top + 1, 2).comment = Comment("业主改过名", "王五")
    pws.cell(top + 1, 2).font = Font(bold=True)
    # a column beside the repairs table, with a formula; formats and a comment on staff cells
    rws = wb["报修台账"]
    rt = rws.tables["tblRepairs"]
    rtop, rleft, rbottom, rright = parse_ref(rt.ref)
    rws.cell(rtop, rright + 2, "内部备注")
    for r in range(rtop + 1, rbottom + 1):
        rws.cell(r, rright + 2, f"备注{r}")
        rws.cell(r, rright + 3, f"=A{r}&\"/\"&B{r}")
    rws.cell(rtop + 2, 8).fill = PatternFill("solid", fgColor="FFFF00")
    rws.cell(rtop + 2, 8).comment = Comment("业主很着急", "赵六")
    rws.cell(rtop + 3, 20).number_format = "#,##0.0"
    wb.save(path)


def _snapshot(path: Path) -> dict:
    wb = load_workbook(path, keep_vba=True, rich_text=True)
    snap = {"sheets": wb.sheetnames, "comments": {}, "styles": {}, "tables": {}, "dv": {}, "cf": {},
            "names": sorted(wb.defined_names.keys())}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.comment is not None:
                    snap["comments"][(ws.title, c.coordinate)] = c.comment.text
                if c.has_style and (c.fill.fgColor.rgb not in (None, "00000000") or c.font.b):
                    snap["styles"][(ws.title, c.coordinate)] = (c.fill.fgColor.rgb, c.font.b, c.font.color.rgb
                                                               if c.font.color is not None else None)
        for t in ws.tables.values():
            snap["tables"][(ws.title, t.name)] = (t.ref, [tc.name for tc in t.tableColumns])
        snap["dv"][ws.title] = len(ws.data_validations.dataValidation)
        snap["cf"][ws.title] = len(list(ws.conditional_formatting))
    snap["values"] = all_values(path)
    snap["vba"] = part_bytes(path, "xl/vbaProject.bin")
    snap["ui"] = part_bytes(path, "customUI/customUI.xml")
    snap["rels"] = root_rel_targets(path)
    return snap


def _allowed(before: Path) -> dict[str, dict]:
    """Per table sheet: computed columns, fill_blank columns and the old data end."""
    out = {}
    with FileBook.open(before, lock=False) as book:
        from pyfuncs.tables import read_table

        for t in TABLES.values():
            f = read_table(book, t)
            comp = {f.cols[c.key] for c in t.columns if c.computed and c.key in f.cols}
            blank = {f.cols[c.key] for c in t.columns if c.fill_blank and not c.computed and c.key in f.cols}
            last = int(f.df.index.max()) if len(f.df) else f.header_row
            ent = out.setdefault(t.sheet, {"computed": set(), "fill": set(), "spans": []})
            ent["computed"] |= comp
            ent["fill"] |= blank
            lo, hi = (min(f.cols.values()), max(f.cols.values())) if f.cols else (0, -1)
            ent["spans"].append((lo, hi, last))
    return out


def _assert_only_computed_changed(before: Path, after: Path, job: str) -> None:
    b, a = _snapshot(before), _snapshot(after)
    if a["vba"] != b["vba"]:  # a new sheet brings its empty document module, as in Excel; the code stays
        from pyfuncs.selftest import vba_modules_of

        old, new = vba_modules_of(before), vba_modules_of(after)
        assert all(new.get(m) == code for m, code in old.items()), f"{job}: VBA code changed"
        assert all(not code.strip() or code.strip().startswith("Attribute") and "Sub " not in code
                   for m, code in new.items() if m not in old), f"{job}: VBA code added"
    assert a["vba"], f"{job}: VBA project lost"
    assert a["ui"] == b["ui"] and a["ui"], f"{job}: ribbon part changed"
    assert "customUI/customUI.xml" in a["rels"], f"{job}: ribbon relationship lost"
    assert [s for s in b["sheets"] if s in a["sheets"]] == b["sheets"], f"{job}: a sheet was lost or moved"
    assert a["names"] == b["names"] or set(b["names"]) <= set(a["names"])
    allowed = _allowed(before)
    for sheet, cells in b["values"].items():
        if sheet.startswith(GENERATED_PREFIXES):
            continue
        after_cells = a["values"][sheet]
        rules = allowed.get(sheet)
        for key in set(cells) | set(after_cells):
            old, new = cells.get(key), after_cells.get(key)
            if old == new:
                continue
            r, c = key
            if rules:
                if c in rules["computed"]:
                    continue
                if c in rules["fill"] and old is None:
                    continue
                if any(lo <= c <= hi and r > last for lo, hi, last in rules["spans"]):
                    continue  # appended rows
            raise AssertionError(f"{job}: {sheet}!{key} changed {old!r} → {new!r}")
    for k, v in b["comments"].items():
        if not k[0].startswith(GENERATED_PREFIXES):
            assert a["comments"].get(k) == v, f"{job}: comment {k} lost"
    for k, v in b["styles"].items():
        if not k[0].startswith(GENERATED_PREFIXES):
            assert a["styles"].get(k) == v, f"{job}: format of {k} changed"
    for k, (ref, cols) in b["tables"].items():
        if k[0].startswith(GENERATED_PREFIXES):
            continue
        aref, acols = a["tables"][k]
        assert acols == cols, f"{job}: table columns of {k} changed"
        t0, l0, b0, r0 = parse_ref(ref)
        t1, l1, b1, r1 = parse_ref(aref)
        assert (t0, l0, r0) == (t1, l1, r1) and b1 >= b0, f"{job}: table {k} moved or shrank"
    for s in b["sheets"]:
        if not s.startswith(GENERATED_PREFIXES):
            assert a["dv"][s] == b["dv"][s], f"{job}: data validation lost on {s}"
            assert a["cf"][s] == b["cf"][s], f"{job}: conditional formats lost on {s}"


def _job_args(job: str, path: Path) -> list[str]:
    args = [job, str(path), "--today", TODAY.isoformat()]
    if job == "plan":
        args += ["--year", str(TODAY.year)]
    if job == "forms":
        args += ["--tickets", "BX2026-0001", "--plan-rows", "4"]
    return args


@pytest.fixture(scope="module")
def staff_book(tmp_path_factory) -> Path:
    from pyfuncs.demo import fill, sample_data

    d = tmp_path_factory.mktemp("staff")
    p = make_workbook(d / "staff.xlsm")
    data = sample_data(TODAY, seed=7, n_projects=14, n_tickets=90, n_visits=30)
    with FileBook.open(p) as book:
        fill(book, data)
        book.save()
    _add_staff_data(p)
    return p


@pytest.mark.parametrize("job", JOBS)
def test_job_changes_only_its_computed_cells_and_is_idempotent(staff_book, tmp_path, job):
    if not _available(job):
        pytest.skip(f"job {job} not written yet")
    before = tmp_path / "before.xlsm"
    shutil.copy(staff_book, before)
    once = tmp_path / "once.xlsm"
    shutil.copy(staff_book, once)
    code = main(_job_args(job, once))
    assert code in (0, 1), f"{job} exited {code}"
    _assert_only_computed_changed(before, once, job)
    # the extra sheet is byte-for-byte the same content
    assert all_values(once)["员工备忘"] == all_values(before)["员工备忘"]
    # twice: the same cell contents as once
    twice = tmp_path / "twice.xlsm"
    shutil.copy(once, twice)
    assert main(_job_args(job, twice)) in (0, 1)
    assert all_values(twice) == all_values(once), f"{job} is not idempotent"


def test_all_jobs_in_sequence_keep_staff_data(staff_book, tmp_path):
    before = tmp_path / "before.xlsm"
    shutil.copy(staff_book, before)
    p = tmp_path / "seq.xlsm"
    shutil.copy(staff_book, p)
    for job in JOBS:
        if _available(job):
            assert main(_job_args(job, p)) in (0, 1)
    _assert_only_computed_changed(before, p, "all jobs")
    with zipfile.ZipFile(p) as z:
        assert z.testzip() is None


def test_the_checker_catches_a_changed_staff_cell(staff_book, tmp_path):
    """The comparison above is not vacuous: a staff cell, a comment or a format changed is caught."""
    before = tmp_path / "before.xlsm"
    shutil.copy(staff_book, before)
    for mutate in (
        lambda wb: wb["报修台账"].cell(3, 8).__setattr__("value", "改了问题描述"),
        lambda wb: wb["员工备忘"]["A1"].__setattr__("comment", None),
        lambda wb: wb["项目台账"].cell(2, 2).__setattr__("font", Font(bold=False)),
    ):
        after = tmp_path / "after.xlsm"
        wb = load_workbook(before, keep_vba=True, rich_text=True)
        mutate(wb)
        wb.save(after)
        with pytest.raises(AssertionError):
            _assert_only_computed_changed(before, after, "mutation")


def test_zip_bomb_is_refused_before_inflating(book_file, tmp_path, capsys):
    import time

    p = tmp_path / "炸弹.xlsm"
    with zipfile.ZipFile(book_file) as zin, zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename))
        info = zipfile.ZipInfo("xl/media/padding.bin")
        info.compress_type = zipfile.ZIP_DEFLATED
        with zout.open(info, "w", force_zip64=True) as f:
            chunk = b" " * (1 << 24)
            for _ in range(80):  # 1.25 GiB of spaces, about 1 MiB deflated
                f.write(chunk)
    assert p.stat().st_size < 20 * 2**20
    t0 = time.perf_counter()
    with pytest.raises(Refused, match="过大"):
        check_file(p)
    assert time.perf_counter() - t0 < 2  # refused from the directory, nothing inflated
    assert main(["refresh", str(p)]) == 2
    assert "过大" in capsys.readouterr().err


def test_seasons_problem_names_the_column(book_file):
    from pyfuncs.tables import read_settings, read_table

    with FileBook.open(book_file) as b:
        f = read_table(b, TABLES["seasons"])
        r = f.df.index[1]
        b.write("设置", r, f.cols["heat_start"], [["13-45"]])
        _, probs = read_settings(b)
    hit = [p for p in probs if p.row == r]
    assert hit and hit[0].column == "采暖期开始" and "13-45" in hit[0].message


def test_xml_entity_declarations_are_refused(book_file, tmp_path):
    p = tmp_path / "实体.xlsm"
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i else "")) * 10}">' for i in range(1, 10))
            + ']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
              'uniqueCount="1"><si><t>&lol9;</t></si></sst>')
    with zipfile.ZipFile(book_file) as zin, zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename))
        zout.writestr("xl/sharedStrings.xml", bomb)
    data = p.read_bytes()
    with pytest.raises(Refused, match="实体"):
        check_file(p)
    assert main(["check", str(p)]) == 2 and p.read_bytes() == data


# ---- issue 9: file safety found on the same files --------------------------------------------------
def _temps(*folders: Path) -> list[Path]:
    return [p for d in folders if d.is_dir() for p in d.iterdir() if p.name.startswith(".~aftercare-tmp")]


def _refresh(path: Path) -> int:
    return main(["refresh", str(path), "--today", TODAY.isoformat()])


def test_symlinked_workbook_is_written_through_its_link(staff_book, tmp_path, capsys):
    real_dir, link_dir = tmp_path / "共享盘", tmp_path / "桌面"
    real_dir.mkdir()
    link_dir.mkdir()
    real = real_dir / "台账.xlsm"
    shutil.copy(staff_book, real)
    link = link_dir / "台账的快捷方式.xlsm"
    link.symlink_to(real)
    before = real.read_bytes()
    assert main(["plan", str(link), "--today", TODAY.isoformat(), "--year", "2026"]) == 0
    assert link.is_symlink() and Path(os.readlink(link)) == real  # the link is kept, as it was
    assert real.read_bytes() != before  # ... and the real workbook was updated
    assert "回访计划2026" in load_workbook(real, read_only=True).sheetnames
    backups = list((real_dir / BACKUP_DIR).iterdir())  # the backup sits beside the real file
    assert len(backups) == 1 and backups[0].read_bytes() == before
    assert not (link_dir / BACKUP_DIR).exists()
    assert not _temps(real_dir, link_dir, real_dir / BACKUP_DIR)
    assert not [p for p in real_dir.iterdir() if p.name.endswith(".lock")]


def test_mode_and_owner_are_kept(staff_book, tmp_path):
    p = tmp_path / "台账.xlsm"
    shutil.copy(staff_book, p)
    os.chmod(p, 0o640)
    if os.geteuid() == 0:  # as root: a file that belongs to someone else keeps its owner
        os.chown(p, 65534, 65534)
    st = p.stat()
    before = p.read_bytes()
    assert main(["plan", str(p), "--today", TODAY.isoformat(), "--year", "2026"]) == 0
    after = p.stat()
    assert p.read_bytes() != before and after.st_ino != st.st_ino  # replaced by a new file...
    assert (after.st_mode & 0o7777, after.st_uid, after.st_gid) == (0o640, st.st_uid, st.st_gid)  # ... like the old


def test_read_only_workbook_is_refused_and_never_replaced(staff_book, tmp_path, capsys):
    p = tmp_path / "只读.xlsm"
    shutil.copy(staff_book, p)
    os.chmod(p, 0o444)
    before, st = p.read_bytes(), p.stat()
    assert _refresh(p) == 2  # refused even by root, who could write it: staff marked it read-only
    err = capsys.readouterr().err
    assert "只读文件" in err and "未改动" in err
    assert p.read_bytes() == before and p.stat().st_mode & 0o7777 == 0o444 and p.stat().st_ino == st.st_ino
    assert not (tmp_path / BACKUP_DIR).exists() and not _temps(tmp_path)
    # safe_save itself refuses, before anything is written
    with pytest.raises(Refused, match="只读"):
        safe_save(p, lambda tmp: pytest.fail("must not write"))
    # a read-only job may still read it
    assert main(["check", str(p)]) in (0, 1)


def _as_plain_user() -> dict | None:
    """subprocess options that run a child as a user without privileges: this user when it is
    not root, else ``nobody`` when nobody may run this Python; None when neither is possible."""
    if os.geteuid() != 0:
        return {}
    extra = {"user": 65534, "group": 65534, "extra_groups": []}
    try:
        subprocess.run([sys.executable, "-c", "import pyfuncs.cli"], check=True, capture_output=True,
                       cwd="/", env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120, **extra)
    except (OSError, subprocess.CalledProcessError):
        return None
    return extra


def test_read_only_workbook_is_refused_for_a_plain_user(staff_book):
    """The same as a user without privileges: the file is theirs, in their own folder, so the OS
    would let them replace it (that is how a 444 file became 644); we do not."""
    import tempfile

    extra = _as_plain_user()
    if extra is None:
        pytest.skip("running as root and user nobody cannot run this Python (its folder is private); "
                    "test_write_permission_follows_os_access covers the same check in-process")
    d = Path(tempfile.mkdtemp(prefix="aftercare-ro-"))
    try:
        p = d / "只读.xlsm"
        shutil.copy(staff_book, p)
        os.chmod(p, 0o444)
        if extra:
            os.chown(d, 65534, 65534)
            os.chown(p, 65534, 65534)
        before = p.read_bytes()
        r = subprocess.run([sys.executable, "-m", "pyfuncs.cli", "refresh", str(p), "--today", TODAY.isoformat()],
                           capture_output=True, text=True, cwd=d, timeout=300,
                           env={**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(d)}, **extra)
        assert r.returncode == 2, r.stdout + r.stderr
        assert "只读文件" in r.stderr
        assert p.read_bytes() == before and p.stat().st_mode & 0o7777 == 0o444
        assert not (d / BACKUP_DIR).exists() and not _temps(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_write_permission_follows_os_access(staff_book, tmp_path, capsys, monkeypatch):
    """A file with write bits that this user may still not write (someone else's 644 file, an ACL):
    the OS's own answer (os.access) refuses it, as it would for a plain user."""
    import pyfuncs.io.safe as safe

    p = tmp_path / "别人的.xlsm"
    shutil.copy(staff_book, p)
    os.chmod(p, 0o644)
    before = p.read_bytes()
    real_access = os.access
    monkeypatch.setattr(safe.os, "access", lambda path, mode, *a, **k: False if Path(path) == p and mode & os.W_OK
                        else real_access(path, mode, *a, **k))
    assert _refresh(p) == 2
    assert "只读文件" in capsys.readouterr().err
    assert p.read_bytes() == before and not _temps(tmp_path) and not (tmp_path / BACKUP_DIR).exists()


def _half_then_full():
    import errno

    def copy(src, dst, *a, **k):
        data = Path(src).read_bytes()
        Path(dst).write_bytes(data[: len(data) // 2])  # half of it reached the disk ...
        raise OSError(errno.ENOSPC, "No space left on device")  # ... then the disk was full

    return copy


def test_full_disk_while_writing_the_backup(staff_book, tmp_path, capsys, monkeypatch):
    import pyfuncs.io.safe as safe

    p = tmp_path / "台账.xlsm"
    shutil.copy(staff_book, p)
    before = p.read_bytes()
    monkeypatch.setattr(safe.shutil, "copyfile", _half_then_full())
    assert main(["plan", str(p), "--today", TODAY.isoformat(), "--year", "2026"]) == 2
    err = capsys.readouterr().err
    assert "磁盘空间不足" in err and "写备份" in err and "未改动" in err
    assert p.read_bytes() == before
    bdir = tmp_path / BACKUP_DIR
    assert not (bdir.exists() and list(bdir.iterdir()))  # no truncated backup, no temp backup
    assert not _temps(tmp_path)


def test_full_disk_while_writing_the_workbook(staff_book, tmp_path, capsys):
    import errno

    p = tmp_path / "台账.xlsm"
    shutil.copy(staff_book, p)
    before = p.read_bytes()

    def write(tmp):
        tmp.write_bytes(before[:1000])
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(Exception, match="磁盘空间不足") as e:
        safe_save(p, write)
    from pyfuncs.io.book import BookError

    assert isinstance(e.value, BookError)  # exit status 2 on the command line
    assert p.read_bytes() == before and not _temps(tmp_path) and not (tmp_path / BACKUP_DIR).exists()


_KILLED_CHILD = """
import sys, time, shutil
import pyfuncs.io.safe as safe
from pathlib import Path
stage = sys.argv[2]
real_copy = shutil.copyfile
def stall(*a, **k):
    print("STARTED", flush=True)
    time.sleep(120)
def write(tmp):
    shutil.copyfile(sys.argv[1], tmp)
    if stage == "write":
        stall()
if stage == "backup":
    def copy(src, dst, *a, **k):
        Path(dst).write_bytes(Path(src).read_bytes()[:500])
        stall()
    safe.shutil.copyfile = copy
    write = lambda tmp: real_copy(sys.argv[1], tmp)
safe.safe_save(sys.argv[1], write)
"""


def _start_and_stall(path: Path, stage: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_CHILD, str(path), stage], stdout=subprocess.PIPE,
                            text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout.readline().strip() == "STARTED"
    return proc


def test_temp_files_of_killed_runs_are_removed_by_the_next_run(staff_book, tmp_path):
    import signal

    p = tmp_path / "台账.xlsm"
    shutil.copy(staff_book, p)
    before = p.read_bytes()
    for stage in ("write", "write", "backup", "backup"):  # four runs killed while saving
        proc = _start_and_stall(p, stage)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    left = _temps(tmp_path, tmp_path / BACKUP_DIR)
    assert len(left) == 6 and p.read_bytes() == before  # a run killed in its backup left two
    # a run that is still saving, and a dead run's temp file of another workbook in the folder
    live = _start_and_stall(p, "write")
    other = tmp_path / f".~aftercare-tmp-{proc.pid}-别的台账.xlsm"
    other.write_bytes(b"not ours")
    try:
        assert main(["check", str(p)]) in (0, 1)  # the next run, even one that saves nothing
        remaining = set(_temps(tmp_path, tmp_path / BACKUP_DIR))
        assert remaining == {tmp_path / f".~aftercare-tmp-{live.pid}-{p.name}", other}
    finally:
        live.kill()
        live.wait()
    assert main(["check", str(p)]) in (0, 1)
    assert set(_temps(tmp_path, tmp_path / BACKUP_DIR)) == {other}
    assert p.read_bytes() == before
    bdir = tmp_path / BACKUP_DIR
    assert not (bdir.exists() and list(bdir.iterdir()))  # no truncated backup under a normal name


def _rewrite(src: Path, dst: Path, changes: dict[str, bytes | None], rename: dict[str, str] | None = None) -> None:
    rename = rename or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = changes.pop(item.filename, zin.read(item.filename))
            if data is not None:
                zout.writestr(rename.get(item.filename, item.filename), data)
        for name, data in changes.items():
            zout.writestr(name, data)


def _with_entities(xml: bytes, enc: str) -> str:
    """A real part with an entity declaration put in after its XML declaration (re-declared ``enc``)."""
    text = xml.decode("utf-8")
    if not text.startswith("<?xml"):
        text = '<?xml version="1.0" encoding="UTF-8"?>' + text
    decl_end = text.index("?>") + 2
    decl = re.sub(r'encoding="[^"]*"', f'encoding="{enc}"', text[:decl_end])
    return decl + '<!DOCTYPE styleSheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>' + text[decl_end:]


@pytest.mark.parametrize("case", ["utf-16 BOM", "utf-16-le", "utf-16-be", "utf-32 BOM", "utf-8 BOM",
                                  "other extension", "unreferenced part", "ebcdic"])
def test_entity_declarations_in_any_encoding_or_part_get_the_same_refusal(book_file, tmp_path, capsys, case):
    part = "xl/styles.xml"
    with zipfile.ZipFile(book_file) as z:
        xml, rels = z.read(part), z.read("xl/_rels/workbook.xml.rels")
    changes: dict[str, bytes | None] = {}
    rename = {}
    if case in ("utf-16 BOM", "utf-32 BOM"):
        enc = case.split()[0]
        changes[part] = _with_entities(xml, enc.upper()).encode(enc)  # Python writes the BOM
    elif case in ("utf-16-le", "utf-16-be"):
        changes[part] = _with_entities(xml, "UTF-16").encode(case)  # no BOM
    elif case == "utf-8 BOM":
        changes[part] = b"\xef\xbb\xbf" + _with_entities(xml, "UTF-8").encode()
    elif case == "ebcdic":
        changes[part] = _with_entities(xml, "cp037").encode("cp037", errors="replace")
    elif case == "other extension":  # the styles part under another name, its relationship following it
        changes["xl/_rels/workbook.xml.rels"] = rels.replace(b"styles.xml", b"styles.dat")
        changes[part] = _with_entities(xml, "UTF-8").encode()
        rename[part] = "xl/styles.dat"
    else:  # a part nothing refers to, UTF-16 after white space, under a .txt name
        changes["customXml/item9.txt"] = ("\n  " + _with_entities(xml, "UTF-16")).encode("utf-16-le")
    p = tmp_path / "实体.xlsm"
    _rewrite(book_file, p, changes, rename)
    data = p.read_bytes()
    assert main(["refresh", str(p)]) == 2
    err = capsys.readouterr().err
    assert "含有 XML 实体声明" in err and "已拒绝处理" in err and "Error" not in err
    assert p.read_bytes() == data


def test_parts_in_utf16_without_entities_are_not_refused(book_file, tmp_path):
    """The search is for the declaration, not for the encoding: a UTF-16 part Excel could write is fine."""
    with zipfile.ZipFile(book_file) as z:
        core = z.read("docProps/core.xml").decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    p = tmp_path / "utf16.xlsm"
    _rewrite(book_file, p, {"docProps/core.xml": core.encode("utf-16")})
    assert check_file(p) == p
