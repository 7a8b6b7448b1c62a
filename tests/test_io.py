"""The Book interface, FileBook and the schema-driven table reader/writer."""
from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

from _io_fixtures import (CUSTOM_UI, CUSTOM_UI14, FAKE_VBA, make_workbook, part_bytes,
                          root_rel_targets)
from pyfuncs.io.book import col_letter, format_ref, parse_ref, to_cell
from pyfuncs.io.filebook import FileBook
from pyfuncs.schema import TABLES
from pyfuncs.tables import append_rows, read_calendar, read_settings, read_table, write_columns

D = dt.date


@pytest.fixture
def wb_path(tmp_path) -> Path:
    return make_workbook(tmp_path / "book.xlsm")


@pytest.fixture
def stand_in(tmp_path) -> Path:
    """The openpyxl stand-in with an Office 2010 ribbon part (customUI14) that openpyxl drops."""
    return make_workbook(tmp_path / "standin.xlsm", real_build=False, ribbon14=True)


def _demo_book(path: Path, seed: int, n_projects: int, n_tickets: int, n_visits: int) -> Path:
    """The built workbook filled with seeded sample data."""
    from pyfuncs.demo import fill, sample_data

    make_workbook(path)
    with FileBook.open(path) as book:
        fill(book, sample_data(D(2026, 11, 21), seed=seed, n_projects=n_projects, n_tickets=n_tickets,
                               n_visits=n_visits))
        book.save()
    return path


def test_refs_roundtrip():
    assert parse_ref("A1:W2") == (1, 1, 2, 23)
    assert format_ref((3, 2, 10, 28)) == "B3:AB10"
    assert col_letter(28) == "AB"
    assert to_cell(np.datetime64("2026-03-05")) == D(2026, 3, 5)
    assert to_cell(np.float64(3.0)) == 3 and to_cell(float("nan")) is None


def test_reads_by_header_name_with_reordered_and_extra_columns(tmp_path):
    p = tmp_path / "x.xlsx"
    from openpyxl import Workbook
    from openpyxl.worksheet.table import Table

    wb = Workbook()
    ws = wb.active
    ws.title = "项目台账"
    headers = ["片区", "项目名称", "项目编号", "竣工验收日期", "自定义"]  # reordered, extras inside
    ws.append(headers)
    ws.append(["东区", "甲项目", "P1", dt.datetime(2024, 6, 30), "x"])
    ws.append(["西区", "乙项目", 1002, "2024年3月5日", None])
    ws.append([None, None, None, None, None])
    ws.add_table(Table(displayName="tblProjects", ref="A1:E4"))
    ws["G1"] = "表外备注"
    wb.save(p)
    with FileBook.open(p) as book:
        f = read_table(book, TABLES["projects"])
    assert list(f.df.index) == [2, 3]                     # Excel rows; the blank row is dropped
    assert f.df.loc[2, "project_id"] == "P1" and f.df.loc[3, "project_id"] == "1002"
    assert list(f.dates("accepted").astype(str)) == ["2024-06-30", "2024-03-05"]
    assert f.cols["project_id"] == 3 and f.cols["name"] == 2
    assert "片区" in f.extra_headers
    # optional columns missing → 提示 only; required ones present → no errors
    assert not [p for p in f.problems if p.level == "错误"]


def test_missing_and_renamed_required_header_is_a_problem(tmp_path):
    from openpyxl import Workbook

    p = tmp_path / "x.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "报修台账"
    ws.append(["报修单号", "项目编号", "报修时间", "保修部位"])  # 报修日期 renamed
    ws.append(["BX1", "P1", "2026-01-01", "屋面防水"])
    wb.save(p)
    with FileBook.open(p) as book:
        f = read_table(book, TABLES["repairs"])
    probs = [p for p in f.problems if p.column == "报修日期"]
    assert probs and probs[0].level == "错误" and probs[0].sheet == "报修台账"
    assert "报修时间" in probs[0].message  # suggests the renamed header
    assert any("未找到 Excel 表格" in p.message for p in f.problems)  # no ListObject: a hint
    assert f.df.loc[2, "ticket_id"] == "BX1"


def test_cell_problems_bad_dates_choices_required_merged(wb_path):
    wb = load_workbook(wb_path, keep_vba=True)
    wb["报修台账"].merge_cells("D4:D5")
    wb.save(wb_path)
    with FileBook.open(wb_path) as book:
        book.write("报修台账", 2, 1, [["BX1", "P1", "2026-02-30", None, None, "屋顶"]])
        book.write("报修台账", 3, 1, [["BX2", None, D(2026, 1, 5)]])
        book.write("报修台账", 4, 1, [["BX3", "P1", D(2026, 1, 6), "甲"]])
        book.write("报修台账", 5, 1, [["BX4", "P1", D(2026, 1, 7), "乙"]])  # D5: inside the merge, skipped
        assert book.read("报修台账", (4, 4, 5, 4)) == [["甲"], [None]]
        f = read_table(book, TABLES["repairs"])
    msgs = {(p.row, p.column): p.message for p in f.problems}
    assert "日期无效" in msgs[(2, "报修日期")]
    assert "不是可选的值" in msgs[(2, "保修部位")]
    assert "必须填写" in msgs[(3, "项目编号")]
    assert any("合并单元格 D4:D5" in p.message for p in f.problems)
    assert {2, 3, 4, 5} <= f.bad_rows


def test_write_columns_only_computed_and_fill_blank(wb_path):
    with FileBook.open(wb_path) as book:
        book.write("报修台账", 2, 1, [[None, "P1", D(2026, 1, 5)], ["BX9", "P2", D(2026, 1, 6)]])
        f = read_table(book, TABLES["repairs"])
        with pytest.raises(ValueError):
            write_columns(book, f, {"notice": [D(2020, 1, 1)] * 2})   # staff column
        n = write_columns(book, f, {"ticket_id": ["NEW1", "NEW2"], "overdue": [3, 0]})
        assert n == 3  # BX9 is not blank: kept
        assert book.read("报修台账", (2, 1, 3, 1)) == [["NEW1"], ["BX9"]]
        assert write_columns(book, f, {"ticket_id": ["NEW1", "X"], "overdue": [3, 0]}) == 0  # unchanged


def test_rows_just_below_the_table_are_read_and_the_table_extended(wb_path):
    with FileBook.open(wb_path) as book:
        ref0 = book.table_ref("报修台账", "tblRepairs")
        rows = [["BX%d" % i, "P1", D(2026, 1, i)] for i in range(1, 6)]
        book.write("报修台账", 2, 1, rows)
        f = read_table(book, TABLES["repairs"])
        assert list(f.df.index) == [2, 3, 4, 5, 6]
        write_columns(book, f, {"overdue": [1, 2, 3, 4, 5]})
        assert book.table_ref("报修台账", "tblRepairs")[2] == 6 >= ref0[2]


def test_append_rows_extends_table(wb_path):
    with FileBook.open(wb_path) as book:
        f = read_table(book, TABLES["projects"])
        rows = append_rows(book, f, [{"project_id": "P1", "name": "甲", "accepted": D(2024, 1, 1)},
                                     {"project_id": "P2", "name": "乙", "accepted": D(2024, 2, 1)}])
        assert rows == [f.header_row + 1, f.header_row + 2]
        ref = book.table_ref("项目台账", "tblProjects")
        assert ref[2] >= rows[-1]
        book.save()
    wb = load_workbook(wb_path)
    t = wb["项目台账"].tables["tblProjects"]
    assert parse_ref(t.ref)[2] >= 3
    assert wb["项目台账"].cell(3, 1).value == "P2"


def test_text_that_looks_like_a_formula_stays_text(wb_path):
    with FileBook.open(wb_path) as book:
        book.write("项目台账", 2, 2, [["=1+1"]])
        assert book.read("项目台账", (2, 2, 2, 2)) == [["=1+1"]]
        book.save()
    ws = load_workbook(wb_path)["项目台账"]
    assert ws["B2"].value == "=1+1" and ws["B2"].data_type == "s"


def test_new_sheet_written_read_back_and_replaced(wb_path):
    from pyfuncs.layout import Layout

    with FileBook.open(wb_path) as book:
        book.new_sheet("输出")
        book.write("输出", 1, 1, [["标题"], ["内容"]])
        assert book.read("输出", (1, 1, 2, 1)) == [["标题"], ["内容"]]
        book.save()
        assert book.read("输出", (1, 1, 2, 1)) == [["标题"], ["内容"]]  # after the save too
        lay = Layout("输出")
        lay.put(1, 1, "新标题")
        lay.merge(1, 1, 1, 3)
        book.put_sheet(lay)  # replaced, same position
        assert book.read("输出", (1, 1, 2, 1)) == [["新标题"], [None]]
        assert book.merged("输出") == [(1, 1, 1, 3)]
        assert book.sheet_names().count("输出") == 1
        book.save()
    assert load_workbook(wb_path)["输出"]["A1"].value == "新标题"


def test_settings_and_calendar_from_the_sheets(wb_path):
    with FileBook.open(wb_path) as book:
        f = read_table(book, TABLES["settings"])
        row = next(r for r in f.raw.index if f.raw.at[r, "name"] == "报修到场天数")
        book.write("设置", row, f.cols["value"], [["10"]])
        hf = read_table(book, TABLES["holidays"])
        book.write("节假日", hf.header_row + 1, hf.cols["date"], [[D(2027, 2, 6), "班", "调休"], ["2027-13-01", "休", None]])
        s, probs = read_settings(book)
        assert s.clock_days == 10 and not [p for p in probs if p.level == "错误"]
        cal, cprobs = read_calendar(book)
        assert cal.is_workday(np.array(["2027-02-06"], "datetime64[D]"))[0]
        assert [(p.row, p.column) for p in cprobs if p.level == "错误"] == [(hf.header_row + 2, "日期")]


def test_filebook_save_keeps_vba_and_ribbon_parts(stand_in):
    with FileBook.open(stand_in) as book:
        book.write("项目台账", 2, 1, [["P1", "甲"]])
        book.save()
    assert part_bytes(stand_in, "xl/vbaProject.bin") == FAKE_VBA
    assert part_bytes(stand_in, "customUI/customUI.xml") == CUSTOM_UI
    assert part_bytes(stand_in, "customUI/customUI14.xml") == CUSTOM_UI14
    assert {"customUI/customUI.xml", "customUI/customUI14.xml"} <= root_rel_targets(stand_in)
    ct = part_bytes(stand_in, "[Content_Types].xml")
    assert b"macroEnabled.main+xml" in ct


def test_real_build_vba_and_ribbon_survive_save(wb_path):
    vba, ui = part_bytes(wb_path, "xl/vbaProject.bin"), part_bytes(wb_path, "customUI/customUI.xml")
    assert vba and ui
    with FileBook.open(wb_path) as book:
        book.write("项目台账", 2, 1, [["P1", "甲"]])
        book.save()
    assert part_bytes(wb_path, "xl/vbaProject.bin") == vba
    assert part_bytes(wb_path, "customUI/customUI.xml") == ui
    assert "customUI/customUI.xml" in root_rel_targets(wb_path)


def test_untouched_cells_keep_comments_formats_and_formulas(wb_path):
    wb = load_workbook(wb_path, keep_vba=True)
    ws = wb["项目台账"]
    ws["A2"] = "P1"
    ws["A2"].comment = Comment("员工批注", "张三")
    ws["B2"] = "甲"
    ws["B2"].fill = PatternFill("solid", fgColor="FFFF00")
    ws["Z2"] = "=A2&B2"
    wb.save(wb_path)
    with FileBook.open(wb_path) as book:
        book.write("项目台账", 2, 3, [["建设单位"]])
        book.save()
    ws = load_workbook(wb_path)["项目台账"]
    assert ws["A2"].comment.text.startswith("员工批注")
    assert ws["B2"].fill.fgColor.rgb.endswith("FFFF00")
    assert ws["Z2"].value == "=A2&B2"
    assert ws["C2"].value == "建设单位"


def _inject_cached_value(path: Path, sheet_xml: str, cell: str, value: str) -> None:
    import io
    import re

    src = zipfile.ZipFile(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == sheet_xml:
                text = data.decode("utf-8")
                text = re.sub(rf'(<c r="{cell}"[^>]*?)(>)(<f>[^<]*</f>)(<v\s*/>|<v></v>)?',
                              lambda m: f'{m.group(1)} t="str"{m.group(2)}{m.group(3)}<v>{value}</v>', text)
                data = text.encode("utf-8")
            z.writestr(info, data)
    src.close()
    path.write_bytes(buf.getvalue())


def test_formula_cells_read_as_their_cached_value(wb_path):
    wb = load_workbook(wb_path, keep_vba=True)
    ws = wb["项目台账"]
    ws["A2"] = "P1"
    ws["B2"] = '="甲"&"项目"'
    ws["F2"] = dt.datetime(2024, 6, 30)
    wb.save(wb_path)
    idx = wb.sheetnames.index("项目台账") + 1
    _inject_cached_value(wb_path, f"xl/worksheets/sheet{idx}.xml", "B2", "甲项目")
    with FileBook.open(wb_path) as book:
        assert read_table(book, TABLES["projects"]).df.loc[2, "name"] == "甲项目"
        book.write("项目台账", 2, 3, [["建设单位"]])
        book.save()
    assert load_workbook(wb_path)["项目台账"]["B2"].value == '="甲"&"项目"'  # the formula is kept
    with FileBook.open(wb_path) as book:  # ... and its cached value: the next run reads it
        assert read_table(book, TABLES["projects"]).df.loc[2, "name"] == "甲项目"


def test_appended_rows_get_the_tables_calculated_column_formulas(tmp_path):
    from openpyxl import Workbook
    from openpyxl.worksheet.table import Table, TableFormula

    p = tmp_path / "calc.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "项目台账"
    ws.append(["项目编号", "项目名称", "竣工验收日期", "名称长度"])
    ws.append(["P1", "甲项目", dt.datetime(2024, 1, 1), "=LEN(tblProjects[[#This Row],[项目名称]])"])
    t = Table(displayName="tblProjects", ref="A1:D2")
    t._initialise_columns()
    t.tableColumns[3].calculatedColumnFormula = TableFormula(attr_text="LEN(tblProjects[[#This Row],[项目名称]])")
    ws.add_table(t)
    wb.save(p)
    with FileBook.open(p) as book:
        f = read_table(book, TABLES["projects"])
        append_rows(book, f, [{"project_id": "P2", "name": "乙", "accepted": D(2024, 2, 1)}])
        book.save()
    ws = load_workbook(p)["项目台账"]
    assert ws["D3"].value == "=LEN(tblProjects[[#This Row],[项目名称]])"
    assert ws.tables["tblProjects"].ref == "A1:D3"


def test_plain_xlsx_stays_a_plain_xlsx(tmp_path):
    from openpyxl import Workbook

    p = tmp_path / "plain.xlsx"
    wb = Workbook()
    wb.active["A1"] = 1
    wb.save(p)
    with FileBook.open(p) as book:
        book.write(book.sheet_names()[0], 2, 1, [[2]])
        book.save()
    assert b"macroEnabled" not in part_bytes(p, "[Content_Types].xml")
    assert load_workbook(p).active["A2"].value == 2


# ---- a generated sheet replaced: only its own parts change -----------------------------------------
def _cells(path: Path, sheet: str) -> dict:
    ws = load_workbook(path)[sheet]
    return {(c.row, c.column): c.value for r in ws.iter_rows() for c in r if c.value is not None}


def test_a_replaced_generated_sheet_keeps_every_other_sheet(wb_path):
    from pyfuncs.layout import Layout

    with FileBook.open(wb_path) as book:
        book.write("项目台账", 2, 1, [["P1", "甲"], ["P2", "乙"]])
        book.new_sheet("回访计划2027")
        book.write("回访计划2027", 1, 1, [[f"旧计划第{i}行", i] for i in range(1, 301)])
        book.save()
    others = {s: _cells(wb_path, s) for s in ("项目台账", "保修条款", "设置")}
    with zipfile.ZipFile(wb_path) as z:
        before = {i.filename: (i.CRC, i.compress_size) for i in z.infolist()}
    with FileBook.open(wb_path) as book:
        assert book.read("回访计划2027", (2, 1, 2, 2)) == [["旧计划第2行", 2]]
        book.write("项目台账", 3, 3, [["建设单位乙"]])
        lay = Layout("回访计划2027")
        lay.put(1, 1, "新计划")
        book.put_sheet(lay)
        book.save()
    assert _cells(wb_path, "回访计划2027") == {(1, 1): "新计划"}
    assert _cells(wb_path, "项目台账") == {**others["项目台账"], (3, 3): "建设单位乙"}
    for s in ("保修条款", "设置"):
        assert _cells(wb_path, s) == others[s]
    with zipfile.ZipFile(wb_path) as z:
        after = {i.filename: (i.CRC, i.compress_size) for i in z.infolist()}
    changed = {n for n in before if after.get(n) != before[n]}
    assert "xl/vbaProject.bin" not in changed and "xl/sharedStrings.xml" not in changed
    assert len(changed) <= 6, changed  # the two sheets, styles, content types, workbook and its rels at most


def test_package_tables_agree_with_openpyxl(tmp_path):
    from pyfuncs.io.filebook import package_tables

    p = _demo_book(tmp_path / "d.xlsm", seed=3, n_projects=10, n_tickets=60, n_visits=15)
    wb = load_workbook(p)
    expected = {t.name.lower(): (ws.title, parse_ref(t.ref)) for ws in wb.worksheets for t in ws.tables.values()}
    assert package_tables(p) == expected and len(expected) == len(TABLES)
    assert package_tables(tmp_path / "missing.xlsm") == {}  # unreadable: callers ask the slower readers


def test_read_columns_is_read_transposed(wb_path):
    """FileBook.read_columns (one transposition of the value grid) gives what Book.read_columns
    (read, transposed) gives: past the sheet's last row and column, and with pending writes."""
    from pyfuncs.io.book import Book, Formula

    with FileBook.open(wb_path) as book:
        sheet = TABLES["repairs"].sheet
        rows, cols = book.extent(sheet)
        book.write_cells(sheet, {(3, 2): "新值", (rows + 2, 1): 5, (2, cols + 1): Formula("=1+1")})
        for ref in [(1, 1, rows, cols), (2, 2, rows + 4, cols + 3), (rows + 1, 1, rows + 3, 2), (5, 3, 4, 3)]:
            assert book.read_columns(sheet, ref) == Book.read_columns(book, sheet, ref), ref
        got = book.read_columns(sheet, (2, 1, rows + 2, cols + 1))
        assert got[1][1] == "新值" and got[0][rows] == 5 and got[cols][0] is None


def test_prefetch_reads_the_same_and_lets_the_file_go(wb_path, tmp_path):
    """Sheets parsed in the background (FileBook.prefetch) read as the ones parsed on demand; a
    prefetched sheet never read does not keep the file open when it is saved and closed."""
    import os

    from pyfuncs.io.safe import Refused

    sheets = [TABLES[k].sheet for k in ("projects", "terms", "repairs")]
    with FileBook.open(wb_path, lock=False) as book:
        plain = {s: book.read(s, (1, 1, *book.extent(s))) for s in sheets}
    with FileBook.open(wb_path) as book:
        book.prefetch(sheets + ["没有这张表"])
        assert set(book._parsing) == set(sheets)
        assert {s: book.read(s, (1, 1, *book.extent(s))) for s in sheets[:2]} == {s: plain[s] for s in sheets[:2]}
        book.write(sheets[0], 1, 30, [["x"]])  # the third sheet is never read
        book.save()
    fds = [os.readlink(f"/proc/self/fd/{n}") for n in os.listdir("/proc/self/fd")
           if os.path.exists(f"/proc/self/fd/{n}")] if os.path.isdir("/proc/self/fd") else []
    assert not [f for f in fds if f.startswith(str(wb_path))], fds
    # a far stray cell in a prefetched sheet: refused when it is read, with the usual message
    from pyfuncs.io.package import sheet_parts, write_package

    with zipfile.ZipFile(wb_path) as z:
        m = {n: z.read(n) for n in z.namelist()}
    part = sheet_parts(m)[sheets[2]]
    far = tmp_path / "far.xlsm"
    write_package(wb_path, {part: m[part].replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576">'
                                                 b'<v>1</v></c></row></sheetData>')}, far)
    with FileBook.open(far) as book:
        book.prefetch(sheets)
        assert book.read(sheets[0], (1, 1, 1, 1))
        with pytest.raises(Refused, match="XFD1048576"):
            book.read(sheets[2], (1, 1, 1, 1))
