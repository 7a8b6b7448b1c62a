"""集团汇总 (rollup): a folder tree of real workbooks → one summary workbook.

The tree holds two good aftercare workbooks in subfolders (one .xlsm whose computed columns were
refreshed on another day and are stale, one plain .xlsx), and beside them what a shared folder
really holds: a foreign .xlsx, a damaged file, an encrypted-looking file, a workbook open in
Excel (its ``~$`` owner file beside it), an XML-entity file, this tool's backup folder and
temporary file, and a text file. Each figure is checked against what the 统计报表 job computes
for that workbook (the job itself is run on a copy and its Report captured).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pyfuncs.cli import main
from pyfuncs.schema import REPAIRS
from pyfuncs.io.safe import Refused
from pyfuncs.jobs import report
from pyfuncs.rollup import (DONE, OPEN_COLUMNS, OPEN_SHEET, OPEN_TABLE, PART_CAUSE_SHEET, SATISFACTION_SHEET,
                            SKIPPED, STATUS_SHEET, SUMMARY_SHEET, TIERS, rollup, used_range)

TODAY = dt.date(2026, 11, 21)
ROOT = Path(__file__).resolve().parents[1]
GOOD = ("华北/北京分公司.xlsm", "华南/区域二/广州分公司.xlsx")


def _workbook(path: Path, seed: int) -> Path:
    from pyfuncs.build import build_workbook
    from pyfuncs.demo import fill, sample_data
    from pyfuncs.io.filebook import FileBook

    path.parent.mkdir(parents=True, exist_ok=True)
    build_workbook(path)
    data = sample_data(TODAY, seed=seed, n_projects=12, n_tickets=120, n_visits=40)
    with FileBook.open(path, lock=False) as book:
        fill(book, data)
        book.save()
    return path


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    """The two good workbooks, built once."""
    from pyfuncs.cli import run_job_on_file
    from pyfuncs.jobs import JobOptions

    d = tmp_path_factory.mktemp("rollup-src")
    a = _workbook(d / "a.xlsm", seed=21)
    # refreshed a year and a half ago: 到期/状态/超期天数 in the file are stale by TODAY
    run_job_on_file("refresh", a, JobOptions(today=dt.date(2025, 6, 1)))
    b = _workbook(d / "b.xlsm", seed=22)
    plain = d / "b.xlsx"
    openpyxl.load_workbook(b).save(plain)  # the same ledger as a plain workbook, no macros
    return {"a": a, "b": plain}


def _tree(root: Path, sources: dict[str, Path]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, key in zip(GOOD, "ab"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sources[key], root / rel)
    other = openpyxl.Workbook()
    other.active.title = "通讯录"
    other.active.append(["姓名", "电话"])
    (root / "其他").mkdir()
    other.save(root / "其他" / "通讯录.xlsx")
    data = sources["a"].read_bytes()
    (root / "坏文件.xlsm").write_bytes(data[: len(data) // 2])
    (root / "加密.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(4096))
    (root / "华东").mkdir()
    shutil.copy(sources["a"], root / "华东" / "上海分公司.xlsm")
    (root / "华东" / "~$上海分公司.xlsm").write_bytes(b"\x00" * 165)
    with zipfile.ZipFile(sources["a"]) as zin, zipfile.ZipFile(root / "实体.xlsm", "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            body = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + body
            zout.writestr(item, body)
    (root / ".aftercare-backup").mkdir()
    shutil.copy(sources["a"], root / ".aftercare-backup" / "北京分公司.20260101-000000-000000.xlsm")
    shutil.copy(sources["a"], root / "华北" / ".~aftercare-tmp-1-北京分公司.xlsm")
    (root / "说明.txt").write_text("各分公司台账", encoding="utf-8")
    return root


def _snapshot(root: Path) -> dict[str, tuple[str, int]]:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            out[p.relative_to(root).as_posix()] = (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def run(sources, tmp_path_factory):
    """The tree, its state before, and one roll-up into a folder outside it."""
    root = _tree(tmp_path_factory.mktemp("rollup") / "各分公司", sources)
    before = _snapshot(root)
    out = root.parent / "汇总" / "集团汇总.xlsx"
    result = rollup(root, out, today=TODAY)
    return root, before, out, result


def _report_of(path: Path, tmp_path: Path):
    """What the 统计报表 job computes for the workbook: the job is run on a copy (not saved) and
    the Report its ``compute`` returned is captured."""
    from pyfuncs.io.filebook import FileBook
    from pyfuncs.jobs import JobOptions, report

    copy = tmp_path / ("copy" + path.suffix)
    shutil.copy(path, copy)
    seen = []
    real = report.compute

    def spy(*a, **kw):
        seen.append(real(*a, **kw))
        return seen[-1]

    report.compute = spy
    try:
        with FileBook.open(copy) as book:
            report.run(book, JobOptions(today=TODAY))
    finally:
        report.compute = real
    return seen[0]


def _rows(ws, first: int) -> list[tuple]:
    return [r for r in ws.iter_rows(min_row=first, values_only=True)]


# ---- the figures ----------------------------------------------------------------------------------
def test_each_workbook_matches_the_report_job(run, tmp_path):
    root, _, _, result = run
    assert [f.file for f in result.books] == sorted(GOOD)
    for f in result.books:
        rep = _report_of(root / f.file, tmp_path)
        fig = dict(rep.figures)
        assert f.in_warranty == fig[report.F_IN_WARRANTY]
        assert [f.expiring[t] for t in TIERS] == [fig[report.tier_label(t)] for t in TIERS]
        assert (f.open, f.open_overdue, f.overdue) == (fig[report.F_OPEN], fig[report.F_OPEN_LATE], fig[report.F_LATE_ALL])
        assert f.open > 0 and f.open_overdue > 0  # the sample has both
        ct = rep.by_part_cause.drop(columns="合计")
        expect = {(p, c): int(ct.loc[p, c]) for p in ct.index for c in ct.columns if ct.loc[p, c]}
        assert dict(f.by_part_cause) == expect
        assert f.tickets == int(rep.by_part_cause["合计"].sum())
        sy = rep.sat_year.set_index("year")
        assert {y: v[:2] for y, v in f.satisfaction.items()} == \
            {int(y): [int(sy.loc[y, "rated"]), int(sy.loc[y, "good"])] for y in sy.index}
        assert f.rate == pytest.approx(fig[report.F_SATISFACTION])
    assert any(f.expiring[90] > 0 for f in result.books)  # some parts expire soon, so tiers are compared


def test_stale_computed_columns_are_not_used(run):
    """The .xlsm was refreshed on 2025-06-01: its 超期天数 column is stale; the roll-up's are
    today's (an open ticket nobody went to is later now than the file says)."""
    root, _, out, _ = run
    from pyfuncs.io.filebook import FileBook
    from pyfuncs.schema import TABLES
    from pyfuncs.tables import read_table

    with FileBook.open(root / GOOD[0], lock=False) as book:
        stored = read_table(book, TABLES["repairs"]).df["overdue"]
    ws = openpyxl.load_workbook(out)[OPEN_SHEET]
    cols = [h for h, _ in OPEN_COLUMNS]
    rows = [dict(zip(cols, r)) for r in _rows(ws, 2) if r[0] == GOOD[0]]
    later = [r for r in rows if r["到场日期"] is None and not pd.isna(stored.get(r["台账行号"]))
             and r["超期天数"] is not None and r["超期天数"] > stored[r["台账行号"]]]
    assert later, "every open ticket's overdue days came out as the stale column says"


def test_totals_are_the_sum_of_the_workbooks(run):
    _, _, out, result = run
    wb = openpyxl.load_workbook(out)
    ws = wb[SUMMARY_SHEET]
    rows = _rows(ws, 1)
    head_at = next(i for i, r in enumerate(rows) if r[0] == "文件")
    headers = rows[head_at]
    body = [dict(zip(headers, r)) for r in rows[head_at + 1:] if r[0]]
    books = [r for r in body if r["文件"] in GOOD]
    total = next(r for r in body if str(r["文件"]).startswith("合计"))
    assert [r["文件"] for r in books] == sorted(GOOD)
    for h in headers[1:]:
        if h == "满意率":
            continue
        assert total[h] == sum(r[h] for r in books), h
    assert total["项目数"] == result.total.projects > 0
    # the rate of the total: good ÷ rated over every workbook, not the mean of the rates
    sat = _rows(wb[SATISFACTION_SHEET], 1)
    by_book = [r for r in sat if r[0] in GOOD]
    good = sum(r[3] for r in by_book)
    rated = sum(r[2] for r in by_book)
    assert total["已评价回访"] == rated and total["满意率"] == pytest.approx(good / rated)
    # each workbook's row is its figures
    for r, f in zip(books, result.books):
        assert (r["项目数"], r["未结报修"], r["其中超期"], r["90天内到期"]) == (f.projects, f.open, f.open_overdue, f.expiring[90])
    # part × cause: the total block is the cell-by-cell sum of the workbooks' blocks
    pc = _rows(wb[PART_CAUSE_SHEET], 1)
    blocks, current = {}, None
    for r in pc:
        if r[0] and (str(r[0]).startswith("全部工作簿合计") or str(r[0]).startswith("文件：")):
            current = str(r[0])
            blocks[current] = {}
        elif current and r[0] and r[0] not in ("保修部位", "合计") and r[1] is not None:
            blocks[current][r[0]] = list(r[1:])
    total_block = next(v for k, v in blocks.items() if k.startswith("全部"))
    per_book = [v for k, v in blocks.items() if k.startswith("文件：")]
    assert len(per_book) == 2
    for part, counts in total_block.items():
        assert counts == [sum(b.get(part, [0] * len(counts))[i] for b in per_book) for i in range(len(counts))], part


def test_projects_count_the_ledger(run):
    root, _, _, result = run
    from pyfuncs.io.filebook import FileBook
    from pyfuncs.schema import TABLES
    from pyfuncs.tables import read_table

    for f in result.books:
        with FileBook.open(root / f.file, lock=False) as book:
            ids = set(read_table(book, TABLES["projects"]).df["project_id"].dropna())
        assert f.projects == len(ids) == 12


def test_open_ticket_table_lists_exactly_the_open_tickets(run, tmp_path):
    root, _, out, result = run
    wb = openpyxl.load_workbook(out)
    ws = wb[OPEN_SHEET]
    assert list(ws.tables) == [OPEN_TABLE]
    rows = _rows(ws, 1)
    assert rows[0] == tuple(h for h, _ in OPEN_COLUMNS)
    assert ws.tables[OPEN_TABLE].ref == f"A1:{openpyxl.utils.get_column_letter(len(OPEN_COLUMNS))}{len(rows)}"
    assert ws.freeze_panes == "C2"
    cols = [h for h, _ in OPEN_COLUMNS]
    listed = [dict(zip(cols, r)) for r in rows[1:]]
    assert len(listed) == result.open_rows == result.total.open
    for name in GOOD:
        rep = _report_of(root / name, tmp_path)
        op = rep.open_repairs
        mine = {r["台账行号"]: r for r in listed if r["来源文件"] == name}
        assert set(mine) == {int(i) for i in op.index}
        for row, t in op.iterrows():
            got = mine[int(row)]
            assert got["报修单号"] == (t["ticket_id"] or None)
            want_late = None if t["late"] != t["late"] else int(t["late"])
            assert got["超期天数"] == want_late
            assert got["应到场日期"].date() == pd.Timestamp(t["due"]).date()


def test_every_file_gets_a_line(run):
    _, _, out, result = run
    ws = openpyxl.load_workbook(out)[STATUS_SHEET]
    rows = {r[0]: (r[1], r[2] or "") for r in _rows(ws, 2)}
    assert rows.keys() == {*GOOD, "其他/通讯录.xlsx", "坏文件.xlsm", "加密.xlsx", "华东/上海分公司.xlsm", "实体.xlsm"}
    for name in GOOD:
        assert rows[name][0] == DONE
    assert rows["其他/通讯录.xlsx"][0] == SKIPPED and "不是回访保修工作簿" in rows["其他/通讯录.xlsx"][1]
    assert rows["坏文件.xlsm"][0] == SKIPPED and "损坏" in rows["坏文件.xlsm"][1]
    assert rows["加密.xlsx"][0] == SKIPPED and "密码" in rows["加密.xlsx"][1]
    assert rows["华东/上海分公司.xlsm"][0] == SKIPPED and "Excel 中打开" in rows["华东/上海分公司.xlsm"][1]
    assert rows["实体.xlsm"][0] == SKIPPED and "实体" in rows["实体.xlsm"][1]
    assert [s.file for s in result.statuses] == sorted(rows)
    assert len(result.skipped) == 5


def test_sources_are_untouched_and_nothing_is_written_beside_them(run):
    root, before, out, _ = run
    assert _snapshot(root) == before  # same files, same bytes, same modification times
    assert out.exists() and not list(out.parent.glob(".~aftercare-*"))


def test_output_is_printable_and_readable(run):
    _, _, out, _ = run
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [SUMMARY_SHEET, OPEN_SHEET, PART_CAUSE_SHEET, SATISFACTION_SHEET, STATUS_SHEET]
    for ws in wb:
        assert ws.page_setup.paperSize == 9 and ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.column_dimensions["A"].width >= 12, ws.title
    assert wb[OPEN_SHEET].print_title_rows == "$1:$1"
    with zipfile.ZipFile(out) as z:
        assert "xl/vbaProject.bin" not in z.namelist()


def test_second_run_inside_the_folder_replaces_out_and_skips_it(sources, tmp_path):
    root = _tree(tmp_path / "tree", sources)
    out = root / "集团汇总.xlsx"
    first = rollup(root, out, today=TODAY)
    before = _snapshot(root)
    second = rollup(root, out, today=TODAY + dt.timedelta(days=1))
    assert "集团汇总.xlsx" not in {s.file for s in first.statuses + second.statuses}
    wb = openpyxl.load_workbook(out)
    assert any("2026-11-22" in str(r[0]) for r in _rows(wb[SUMMARY_SHEET], 1)[:4])
    assert second.backup is not None and second.backup.parent == root / ".aftercare-backup"
    after = _snapshot(root)
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {"集团汇总.xlsx", second.backup.relative_to(root).as_posix()}
    assert not [p for p in root.rglob(".~aftercare-*") if "tmp-1-" not in p.name]


def test_refused_folder_and_outputs(sources, tmp_path, capsys):
    root = tmp_path / "tree"
    (root / "华北").mkdir(parents=True)
    shutil.copy(sources["b"], root / "华北" / "广州分公司.xlsx")
    with pytest.raises(Refused, match="找不到文件夹"):
        rollup(tmp_path / "没有", tmp_path / "o.xlsx", today=TODAY)
    with pytest.raises(Refused, match="xlsx"):
        rollup(root, tmp_path / "o.xlsm", today=TODAY)
    ledger = root / "华北" / "广州分公司.xlsx"
    data = ledger.read_bytes()
    with pytest.raises(Refused, match="回访保修工作簿"):
        rollup(root, ledger, today=TODAY)
    assert ledger.read_bytes() == data
    other = tmp_path / "别的.xlsx"
    openpyxl.Workbook().save(other)
    with pytest.raises(Refused, match="不是以前的汇总结果"):
        rollup(root, other, today=TODAY)
    assert main(["rollup", str(root), str(ledger), "--today", "2026-11-21"]) == 2
    assert "回访保修工作簿" in capsys.readouterr().err
    assert main(["rollup", str(tmp_path / "没有"), str(tmp_path / "o.xlsx")]) == 2
    assert not (tmp_path / "o.xlsx").exists() and not (tmp_path / "o.xlsm").exists()
    # an earlier summary open in Excel is not replaced
    out = tmp_path / "汇总.xlsx"
    assert main(["rollup", str(root), str(out), "--today", "2026-11-21"]) == 0
    (tmp_path / "~$汇总.xlsx").write_bytes(b"\x00" * 165)
    data = out.read_bytes()
    assert main(["rollup", str(root), str(out), "--today", "2026-11-22"]) == 2
    assert out.read_bytes() == data


def test_command_line_json(sources, tmp_path, capsys):
    root = tmp_path / "tree"
    (root / "a").mkdir(parents=True)
    shutil.copy(sources["a"], root / "a" / "北京.xlsm")
    out = tmp_path / "汇总.xlsx"
    assert main(["rollup", str(root), str(out), "--today", "2026-11-21", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["job"] == "rollup" and doc["workbooks"] == 1 and doc["skipped"] == 0
    assert doc["files"] == [{"file": "a/北京.xlsm", "status": DONE, "reason": doc["files"][0]["reason"]}]
    assert doc["open_repairs"] > 0 and doc["today"] == "2026-11-21"
    assert main(["rollup", str(root), str(out), "--today", "2026-11-21"]) == 0
    text = capsys.readouterr().out
    assert "已汇总 1 个工作簿" in text and str(out) in text


def test_empty_folder_gives_an_empty_summary(tmp_path):
    (tmp_path / "空").mkdir()
    result = rollup(tmp_path / "空", tmp_path / "汇总.xlsx", today=TODAY)
    assert result.books == [] and result.statuses == [] and result.total.open == 0
    wb = openpyxl.load_workbook(tmp_path / "汇总.xlsx")
    assert wb[OPEN_SHEET].tables[OPEN_TABLE].ref == f"A1:{openpyxl.utils.get_column_letter(len(OPEN_COLUMNS))}2"
    assert any("没有找到" in m for m in result.messages)


# ---- hostile files ---------------------------------------------------------------------------------
def _with_far_cell(src: Path, dst: Path, ref: str, *, styled_only: bool = False) -> None:
    """A copy whose 报修台账 sheet has one more cell far out (a typed value, or a styled empty cell)."""
    from pyfuncs.rollup import sheet_parts

    part = sheet_parts(src)["报修台账"]
    row = "".join(ch for ch in ref if ch.isdigit())
    cell = f'<c r="{ref}" s="1"/>' if styled_only else f'<c r="{ref}" t="inlineStr"><is><t>x</t></is></c>'
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            body = zin.read(item.filename)
            if item.filename == part:
                body = body.replace(b"</sheetData>", f'<row r="{row}">{cell}</row></sheetData>'.encode())
            zout.writestr(item, body)


def test_used_range_reads_the_cells(sources, tmp_path):
    from pyfuncs.rollup import sheet_parts

    src = sources["b"]
    part = sheet_parts(src)["报修台账"]
    rows, cols = used_range(src, part)
    assert cols == len(REPAIRS.columns) and rows > 100  # the table's columns, every ticket row
    assert used_range(src, part, exact=True) == (rows, cols)
    far = tmp_path / "far.xlsx"
    _with_far_cell(src, far, "XFD1048576")
    assert used_range(far, part) == (1048576, 16384)
    styled = tmp_path / "styled.xlsx"
    _with_far_cell(src, styled, "XFD1048576", styled_only=True)
    assert used_range(styled, part) == (1048576, 16384)  # quick: an over-estimate
    assert used_range(styled, part, exact=True) == (rows, cols)  # calamine ignores an empty cell


def test_a_huge_used_range_is_one_line_not_a_crash(sources, tmp_path):
    """python-calamine would abort the whole process building a 1,048,576 × 16,384 grid; the file
    is refused before it is read, in a separate process so a failure here cannot take pytest down."""
    root = tmp_path / "tree"
    root.mkdir()
    shutil.copy(sources["b"], root / "好.xlsx")
    _with_far_cell(sources["b"], root / "远处.xlsx", "XFD1048576")
    styled = root / "格式.xlsx"
    _with_far_cell(sources["b"], styled, "XFD1048576", styled_only=True)
    out = tmp_path / "汇总.xlsx"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "pyfuncs.cli", "rollup", str(root), str(out), "--today",
                           "2026-11-21", "--json"], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    files = {f["file"]: f for f in json.loads(proc.stdout)["files"]}
    assert files["远处.xlsx"]["status"] == SKIPPED and "已用区域过大" in files["远处.xlsx"]["reason"]
    assert files["好.xlsx"]["status"] == DONE and files["格式.xlsx"]["status"] == DONE



def test_cells_without_a_reference_are_counted(tmp_path):
    """A producer may leave out ``r`` (the position is implied by the order): counted the slow way."""
    p = tmp_path / "x.xlsx"
    rows = '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>' + \
           '<row r="900000"><c t="inlineStr"><is><t>b</t></is></c><c><v>1</v></c><c s="2"/></row>'
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("xl/worksheets/sheet1.xml", f"<worksheet><sheetData>{rows}</sheetData></worksheet>")
    assert used_range(p, "xl/worksheets/sheet1.xml") == (900000, 3)


def test_an_empty_ledger_and_a_partial_one(tmp_path):
    """A freshly built workbook sums up to zeros; one that lost a data sheet is explained."""
    from pyfuncs.build import build_workbook

    root = tmp_path / "tree"
    root.mkdir()
    build_workbook(root / "新台账.xlsm")
    wb = openpyxl.load_workbook(root / "新台账.xlsm")
    del wb["回访记录"]
    wb.save(root / "缺表.xlsx")
    result = rollup(root, tmp_path / "汇总.xlsx", today=TODAY)
    status = {s.file: s for s in result.statuses}
    assert status["新台账.xlsm"].status == DONE and status["缺表.xlsx"].status == SKIPPED
    assert "缺少工作表「回访记录」" in status["缺表.xlsx"].reason
    (f,) = result.books
    assert (f.projects, f.parts, f.tickets, f.open, f.rated, f.rate, f.errors) == (0, 0, 0, 0, 0, None, 0)
    assert result.open_rows == 0


def test_a_failed_run_leaves_the_earlier_summary_and_no_temporary_file(sources, tmp_path, monkeypatch):
    import tempfile

    from pyfuncs import rollup as module

    root = tmp_path / "tree"
    root.mkdir()
    shutil.copy(sources["a"], root / "北京.xlsm")
    out = tmp_path / "out" / "汇总.xlsx"
    rollup(root, out, today=TODAY)
    data = out.read_bytes()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))

    def broken(self, result):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(module.SummaryBook, "finish", broken)
    with pytest.raises(RuntimeError):
        rollup(root, out, today=TODAY + dt.timedelta(days=1))
    assert out.read_bytes() == data
    assert sorted(p.name for p in out.parent.iterdir()) == ["汇总.xlsx"]  # no temporary or lock file
    assert list(scratch.iterdir()) == []
    monkeypatch.undo()
    assert rollup(root, out, today=TODAY).backup is not None  # the lock was released
