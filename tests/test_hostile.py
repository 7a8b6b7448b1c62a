"""A catalogue of bad input, each run through the jobs on a real built workbook.

Each case edits one cell (or the file) the way staff or a broken copy would, runs the job the way
the ribbon and the command line do (:func:`pyfuncs.cli.run_job_on_file`), and checks:

- the problem is reported in Chinese, naming sheet, row and column (or the file);
- the good rows are still processed;
- nothing but the job's computed cells and generated sheets changed (every other cell compared).

The zip bomb is in ``test_safety.py`` (refused before it is inflated, through the command line).
"""
from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from pyfuncs.cli import run_job_on_file
from pyfuncs.io.book import BookError
from pyfuncs.jobs import JobOptions
from pyfuncs.schema import TABLES

TODAY = dt.date(2026, 11, 21)
GENERATED_SHEETS = {"统计", "检查结果", "自检结果"}
CJK = set(chr(c) for c in range(0x4E00, 0x9FFF))


# ---- the base workbook: a real build with a small sample company, planned and refreshed once ---
@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    from pyfuncs.build import build_workbook
    from pyfuncs.demo import fill, sample_data
    from pyfuncs.io.filebook import FileBook

    path = tmp_path_factory.mktemp("hostile") / "base.xlsm"
    build_workbook(path)
    data = sample_data(TODAY, seed=11, n_projects=8, n_tickets=40, n_visits=12)
    with FileBook.open(path, lock=False) as book:
        fill(book, data)
        book.save()
    # as staff would have it: 保修条款 filled by a first plan, computed columns refreshed
    run_job_on_file("plan", path, JobOptions(today=TODAY, year=TODAY.year))
    run_job_on_file("refresh", path, JobOptions(today=TODAY))
    return path


@pytest.fixture
def book(base, tmp_path) -> Path:
    p = tmp_path / "aftercare.xlsm"
    shutil.copy(base, p)
    return p


def header_cols(ws, header_row: int) -> dict[str, int]:
    return {c.value: c.column for c in ws[header_row] if c.value is not None}


def table_rows(path: Path, key: str) -> tuple[int, int]:
    """(first data row, last data row) of a schema table in the file."""
    t = TABLES[key]
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = wb[t.sheet]
    ref = ws.tables[t.name].ref
    top = int("".join(ch for ch in ref.split(":")[0] if ch.isdigit()))
    bottom = int("".join(ch for ch in ref.split(":")[1] if ch.isdigit()))
    return top + 1, bottom


def edit(path: Path, key: str, row: int, header: str, value: Any) -> None:
    """Type ``value`` into a table's cell, as staff would in Excel."""
    t = TABLES[key]
    wb = openpyxl.load_workbook(path, keep_vba=True)
    ws = wb[t.sheet]
    top = int("".join(ch for ch in ws.tables[t.name].ref.split(":")[0] if ch.isdigit()))
    ws.cell(row, header_cols(ws, top)[header]).value = value
    wb.save(path)


def read_cell(path: Path, key: str, row: int, header: str) -> Any:
    t = TABLES[key]
    wb = openpyxl.load_workbook(path)
    ws = wb[t.sheet]
    top = int("".join(ch for ch in ws.tables[t.name].ref.split(":")[0] if ch.isdigit()))
    return ws.cell(row, header_cols(ws, top)[header]).value


def snapshot(path: Path) -> dict[str, dict[tuple[int, int], Any]]:
    """Every staff cell: all cells of all sheets but the computed columns and generated sheets."""
    wb = openpyxl.load_workbook(path)
    computed: dict[str, set[int]] = {}
    for t in TABLES.values():
        if t.sheet in wb.sheetnames and t.name in wb[t.sheet].tables:
            ws = wb[t.sheet]
            top = int("".join(ch for ch in ws.tables[t.name].ref.split(":")[0] if ch.isdigit()))
            cols = header_cols(ws, top)
            computed.setdefault(t.sheet, set()).update(cols[c.header] for c in t.computed_columns if c.header in cols)
    out = {}
    for ws in wb.worksheets:
        if ws.title in GENERATED_SHEETS or ws.title.startswith("回访计划"):
            continue
        skip = computed.get(ws.title, set())
        out[ws.title] = {(c.row, c.column): c.value for r in ws.iter_rows() for c in r
                         if c.value is not None and c.column not in skip}
    return out


def vba_bytes(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/vbaProject.bin")


def run(path: Path, job: str, **kw):
    return run_job_on_file(job, path, JobOptions(today=TODAY, year=TODAY.year, **kw))


def find(result, sheet: str, row: int | None, column: str | None, text: str):
    hits = [p for p in result.problems if p.sheet == sheet and (row is None or p.row == row)
            and (column is None or p.column == column) and text in p.message]
    assert hits, f"no problem {sheet}/{row}/{column}/{text!r} in:\n" + "\n".join(map(str, result.problems))
    assert CJK & set(hits[0].message), hits[0].message
    return hits[0]


# ---- the cell catalogue ------------------------------------------------------------------------
@dataclass
class SameAs:
    """A value copied from the same column of another data row (e.g. a duplicate ticket number)."""
    row_index: int


@dataclass
class Case:
    id: str
    table: str
    header: str
    value: Any
    job: str
    text: str           # a substring of the Chinese message
    level: str | None = "错误"
    row_index: int = 2  # which data row of the table to spoil (0-based)
    also: dict | None = None  # other cells of the same row to set first


CASES = [
    # 报修台账, through 刷新台账
    Case("impossible-date", "repairs", "报修日期", "2026-13-01", "refresh", "日期无效"),
    Case("29-feb-non-leap", "repairs", "报修日期", "2025-02-29", "refresh", "日期无效"),
    Case("text-in-date", "repairs", "报修日期", "下周一", "refresh", "日期无效"),
    Case("serial-60", "repairs", "报修日期", 60, "refresh", "1900-02-29"),
    Case("far-past", "repairs", "报修日期", "1899-05-01", "refresh", "1900"),
    Case("far-future", "repairs", "报修日期", "9999-12-31", "refresh", "9999"),
    Case("negative-serial", "repairs", "报修日期", -3, "refresh", "日期无效"),
    Case("boolean-date", "repairs", "到场日期", True, "refresh", "日期无效"),
    Case("arrival-text", "repairs", "到场日期", "昨天", "refresh", "日期无效"),
    Case("unknown-part", "repairs", "保修部位", "屋顶防水", "refresh", "屋顶防水"),
    Case("unknown-urgency", "repairs", "紧急程度", "特急", "refresh", "特急"),
    Case("unknown-project", "repairs", "项目编号", "P999", "refresh", "P999"),
    Case("unknown-cause", "repairs", "原因分类", "天灾", "check", "天灾", None),
    Case("missing-notice", "repairs", "报修日期", None, "refresh", "报修日期"),
    Case("duplicate-ticket", "repairs", "报修单号", SameAs(0), "check", "重复", None),
    Case("arrival-before-notice", "repairs", "到场日期", "2026-03-01", "check", "到场日期早于报修日期", None,
         also={"报修日期": "2026-03-10"}),
    Case("completion-before-arrival", "repairs", "完成日期", "2026-03-02", "check", "完成日期早于到场日期", None,
         also={"报修日期": "2026-03-01", "到场日期": "2026-03-05"}),
    Case("fullwidth-notice", "repairs", "报修日期", "２０２６－０３－０１", "refresh", "", "ok",
         also={"到场日期": "2026-03-02", "完成日期": "2026-03-03", "验收日期": "2026-03-04"}),
    Case("cost-as-text", "repairs", "维修费用", "五百元", "check", "五百元", None),
    Case("signed-not-choice", "repairs", "用户签认", "也许", "check", "也许", None),
    # 项目台账, through 生成年度回访计划 and 刷新台账
    Case("project-impossible-date", "projects", "竣工验收日期", "2024-02-30", "plan", "日期无效"),
    Case("project-missing-date", "projects", "竣工验收日期", None, "plan", "竣工验收日期"),
    Case("project-future-year", "projects", "竣工验收日期", "2999-01-01", "check", "2999", None),
    Case("negative-life", "projects", "合理使用年限", -5, "refresh", "合理使用年限"),
    Case("text-life", "projects", "合理使用年限", "很久", "refresh", "合理使用年限"),
    Case("unknown-size", "projects", "项目规模", "特大型", "plan", "特大型", None),
    Case("unknown-city", "projects", "所在城市", "火星城", "check", "火星城", "提示"),
    # 四新技术 holds the technique's name (blank, 否, 无 = none): any text is fine
    Case("four-new-text", "projects", "四新技术", "装配式混凝土结构", "plan", "", "ok"),
    Case("fullwidth-project-date", "projects", "竣工验收日期", "２０２３年５月６日", "plan", "", "ok"),
    # 保修条款
    Case("negative-term", "terms", "约定保修期", "-2年", "refresh", "保修期无效"),
    Case("text-term", "terms", "约定保修期", "很久", "refresh", "保修期无效"),
    Case("zero-term", "terms", "约定保修期", 0, "refresh", "保修期无效"),
    Case("term-below-floor", "terms", "约定保修期", "1个月", "check", "法定最低", None),
    Case("terms-bad-start", "terms", "起算日期", "2024/15/40", "refresh", "日期无效"),
    Case("terms-unknown-part", "terms", "保修部位", "屋面", "refresh", "屋面"),
    Case("terms-unknown-project", "terms", "项目编号", "X-1", "refresh", "X-1"),
    # 回访记录, through 登记回访
    # (登记状态 cleared: the visits job looks at rows not yet registered)
    Case("visit-bad-date", "visits", "回访日期", "2026-02-31", "visits", "日期无效", also={"登记状态": None}),
    Case("visit-unknown-project", "visits", "项目编号", "P-404", "visits", "P-404", also={"登记状态": None}),
    Case("visit-bad-rating", "visits", "满意度", "还行", "check", "还行", None),
    # 节假日 and 设置
    Case("holiday-bad-type", "holidays", "类型", "放假", "refresh", "放假"),
    Case("holiday-bad-date", "holidays", "日期", "2026-00-10", "refresh", "日期无效"),
    Case("setting-bad-days", "settings", "值", "七天", "refresh", "报修到场天数", None, 0),
    Case("setting-bad-bool", "settings", "值", "也许", "refresh", "到期顺延", None, 3),
    Case("season-bad-edge", "seasons", "采暖期开始", "13-45", "refresh", "13-45", None, 1),
]


def _ensure_row(path: Path, case: Case) -> int:
    first, last = table_rows(path, case.table)
    if case.table == "holidays" and last < first + case.row_index:
        # the sample has no staff holidays: type one good row and the bad one
        edit(path, "holidays", first, "日期", "2026-12-31")
        edit(path, "holidays", first, "类型", "休")
        from pyfuncs.io.filebook import FileBook
        from pyfuncs.tables import append_rows, read_table

        with FileBook.open(path) as b:
            append_rows(b, read_table(b, TABLES["holidays"]), [{"date": dt.date(2027, 2, 6), "type": "班"}] * 3)
            b.save()
        first, last = table_rows(path, case.table)
    row = first + case.row_index
    assert row <= last, (case.id, first, last)
    return row


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_cell(book, case):
    row = _ensure_row(book, case)
    for header, value in (case.also or {}).items():
        edit(book, case.table, row, header, value)
    value = case.value
    if isinstance(value, SameAs):
        value = read_cell(book, case.table, table_rows(book, case.table)[0] + value.row_index, case.header)
        assert value, case
    edit(book, case.table, row, case.header, value)
    stored = read_cell(book, case.table, row, case.header)
    before = snapshot(book)
    vba = vba_bytes(book)
    result = run(book, case.job)
    sheet = TABLES[case.table].sheet
    if case.level == "ok":
        assert not [p for p in result.problems if p.sheet == sheet and p.row == row and p.level == "错误"]
    else:
        hit = find(result, sheet, row, case.header if case.table not in ("settings",) else None, case.text)
        if case.level:
            assert hit.level == case.level, hit
    after = snapshot(book)
    assert after == before, _diff(before, after)
    assert vba_bytes(book) == vba
    # the bad cell itself is never "corrected" by a job
    assert read_cell(book, case.table, row, case.header) == stored


def _diff(a, b):
    lines = []
    for sheet in sorted(set(a) | set(b)):
        x, y = a.get(sheet, {}), b.get(sheet, {})
        for k in sorted(set(x) | set(y)):
            if x.get(k) != y.get(k):
                lines.append(f"{sheet}{k}: {x.get(k)!r} → {y.get(k)!r}")
    return "\n".join(lines[:20])


# ---- the good rows are still processed -----------------------------------------------------------
def test_refresh_processes_every_good_row_around_bad_ones(book):
    first, last = table_rows(book, "repairs")
    bad_rows = {first + 1: "2026-13-01", first + 4: "不是日期", first + 7: 60}
    for r, v in bad_rows.items():
        edit(book, "repairs", r, "报修日期", v)
    for r in range(first, last + 1):
        edit(book, "repairs", r, "应到场日期", None)  # clear the computed column: refresh must refill it
    result = run(book, "refresh")
    assert {p.row for p in result.problems if p.sheet == "报修台账" and p.column == "报修日期"} >= set(bad_rows)
    for r in range(first, last + 1):
        due = read_cell(book, "repairs", r, "应到场日期")
        notice = read_cell(book, "repairs", r, "报修日期")
        if r in bad_rows or notice is None:
            assert due is None or isinstance(due, str), (r, due)
        else:
            assert isinstance(due, dt.datetime), (r, notice, due)


def test_running_again_changes_nothing(book):
    first, _ = table_rows(book, "repairs")
    edit(book, "repairs", first, "报修日期", "2026-13-01")
    run(book, "refresh")
    once = openpyxl.load_workbook(book)
    run(book, "refresh")
    twice = openpyxl.load_workbook(book)
    for ws in once.worksheets:
        assert [[c.value for c in r] for r in ws.iter_rows()] == [[c.value for c in r] for r in twice[ws.title].iter_rows()]


def test_formula_that_looks_like_a_command_is_text_never_run(book):
    first, _ = table_rows(book, "repairs")
    evil = "=cmd|' /C calc'!A0"
    edit(book, "repairs", first, "问题描述", evil)
    edit(book, "projects", table_rows(book, "projects")[0], "项目名称", "=HYPERLINK(\"http://example.invalid\",\"x\")")
    before = snapshot(book)
    for job in ("refresh", "plan", "report", "check"):
        run(book, job)
    assert snapshot(book) == before
    # the plan copies project names: a formula from a staff cell must not become a live formula
    wb = openpyxl.load_workbook(book)
    plan = wb[f"回访计划{TODAY.year}"]
    for r in plan.iter_rows():
        for c in r:
            if isinstance(c.value, str) and "HYPERLINK" in c.value:
                assert c.data_type != "f", (c.coordinate, c.value)


# ---- structural damage ---------------------------------------------------------------------------
def test_renamed_header(book):
    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = wb["报修台账"]
    cols = header_cols(ws, 1)
    ws.cell(1, cols["报修日期"]).value = "报修时间"
    wb.save(book)
    result = run(book, "refresh")
    hit = find(result, "报修台账", 1, "报修日期", "")
    assert "报修时间" in hit.message or "缺少" in hit.message


def test_missing_sheet(book):
    wb = openpyxl.load_workbook(book, keep_vba=True)
    del wb["回访记录"]
    wb.save(book)
    result = run(book, "visits")
    assert any(p.sheet == "回访记录" and "工作表" in p.message for p in result.problems), result.problems
    # refresh does not need that sheet and still works
    r2 = run(book, "refresh")
    assert not any(p.sheet == "回访记录" and p.level == "错误" for p in r2.problems)


def test_merged_cells_in_a_table(book):
    first, _ = table_rows(book, "repairs")
    wb = openpyxl.load_workbook(book, keep_vba=True)
    ws = wb["报修台账"]
    cols = header_cols(ws, 1)
    ws.merge_cells(start_row=first + 1, start_column=cols["具体位置"], end_row=first + 2, end_column=cols["具体位置"])
    wb.save(book)
    before = snapshot(book)
    result = run(book, "refresh")
    assert any(p.sheet == "报修台账" and "合并" in p.message for p in result.problems), result.problems
    assert snapshot(book) == before


def test_table_rows_beyond_a_deleted_table_definition(book):
    # the Excel table is gone (staff converted it to a range): headers are still found by name
    wb = openpyxl.load_workbook(book, keep_vba=True)
    del wb["报修台账"].tables["tblRepairs"]
    wb.save(book)
    result = run(book, "refresh")
    assert not [p for p in result.problems if p.sheet == "报修台账" and p.level == "错误" and p.row == 1]


# ---- files that must be refused or read safely ---------------------------------------------------
def refused(path: Path, job: str = "refresh") -> str:
    with pytest.raises(BookError) as e:
        run(path, job)
    msg = str(e.value)
    assert CJK & set(msg), msg
    assert path.name in msg, msg
    return msg


def test_empty_workbook(tmp_path):
    p = tmp_path / "空白.xlsm"
    openpyxl.Workbook().save(p)
    try:
        result = run(p, "refresh")
    except BookError as e:
        assert "工作表" in str(e)
        return
    assert any("工作表" in x.message for x in result.problems), result.problems


def test_plain_xlsx_is_processed_without_inventing_macros(base, tmp_path):
    p = tmp_path / "台账.xlsx"
    wb = openpyxl.load_workbook(base)
    wb.save(p)
    result = run(p, "refresh")
    assert result.ok or result.problems
    with zipfile.ZipFile(p) as z:
        assert "xl/vbaProject.bin" not in z.namelist()
    assert openpyxl.load_workbook(p)["报修台账"]["A1"].value == "报修单号"


def test_corrupt_zip(base, tmp_path):
    p = tmp_path / "坏文件.xlsm"
    data = base.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    msg = refused(p)
    assert "损坏" in msg
    assert p.read_bytes() == data[: len(data) // 2]


def test_not_a_workbook(tmp_path):
    p = tmp_path / "说明.xlsm"
    p.write_text("hello", encoding="utf-8")
    assert "不是" in refused(p)


def test_password_protected(base, tmp_path):
    pytest.importorskip("msoffcrypto")
    from msoffcrypto.format.ooxml import OOXMLFile

    p = tmp_path / "加密.xlsm"
    with open(base, "rb") as src, open(p, "wb") as out:
        OOXMLFile(src).encrypt("secret", out)
    data = p.read_bytes()
    assert "密码" in refused(p)
    assert p.read_bytes() == data


LAUGHS = ('<!DOCTYPE worksheet [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
          + "]>")


def spoil_first_sheet(base: Path, out: Path, change) -> None:
    """Copy the package, passing the first worksheet part's XML text through ``change``."""
    with zipfile.ZipFile(base) as zin:
        target = sorted(n for n in zin.namelist() if n.startswith("xl/worksheets/sheet") and n.endswith(".xml"))[0]
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
            for item in zin.infolist():
                data = zin.read(item.filename)
                if item.filename == target:
                    data = change(data.decode("utf-8")).encode("utf-8")
                zout.writestr(item, data)


def _before_root(text: str, insert: str) -> str:
    """Insert text right before the root element (after any XML declaration)."""
    at = text.index("<worksheet")
    return text[:at] + insert + text[at:]


def _use_entity(text: str) -> str:
    return text.replace("<sheetData>", '<sheetData><row r="9999"><c r="A9999" t="inlineStr"><is><t>&lol9;</t></is></c></row>', 1)


@pytest.mark.parametrize("padding", [0, 5000], ids=["dtd-first", "dtd-after-a-long-comment"])
def test_xml_entity_expansion_is_refused(base, tmp_path, padding):
    """A billion-laughs DTD in a worksheet part: refused before any XML parser expands it."""
    p = tmp_path / "实体.xlsm"
    comment = f"<!--{'x' * padding}-->" if padding else ""
    spoil_first_sheet(base, p, lambda t: _use_entity(_before_root(t, comment + LAUGHS)))
    data = p.read_bytes()
    msg = refused(p)
    assert "实体" in msg or "不安全" in msg
    assert p.read_bytes() == data


def test_xml_the_fast_reader_cannot_parse_is_refused_cleanly(base, tmp_path):
    # an undeclared entity: not an attack, but not XML either; calamine fails on it lazily, mid-job
    p = tmp_path / "坏XML.xlsm"
    spoil_first_sheet(base, p, _use_entity)
    data = p.read_bytes()
    msg = refused(p)
    assert "损坏" in msg or "无法读取" in msg
    assert p.read_bytes() == data


def test_workbook_open_in_excel_is_refused(book):
    owner = book.with_name("~$" + book.name)
    owner.write_bytes(b"\x00" * 165)
    data = book.read_bytes()
    msg = refused(book)
    assert "Excel" in msg and book.read_bytes() == data
