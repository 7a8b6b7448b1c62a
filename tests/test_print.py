"""Printing: what the workbook and the generated sheets look like on paper (issue 12, Printing).

Most tests work on one demo workbook (``aftercare demo``, then check --sheet, report, selftest) and
assert on the saved file; the PDF tests print with LibreOffice and read the PDF back with poppler.
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from pyfuncs import schema
from pyfuncs.cli import main

TODAY = dt.date(2026, 11, 21)
ROOT = Path(__file__).resolve().parent.parent


def _cli(*args: str) -> int:
    return main([*args, "--today", TODAY.isoformat(), "--json"])


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("print") / "demo.xlsm"
    assert _cli("demo", str(path)) == 0
    assert _cli("check", str(path), "--sheet") in (0, 1)  # the demo has errors on purpose
    assert _cli("report", str(path)) == 0
    assert _cli("selftest", str(path)) in (0, 1)
    return path


@pytest.fixture()
def copy(demo, tmp_path) -> Path:
    out = tmp_path / "book.xlsm"
    shutil.copy(demo, out)
    return out


def _pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _need_printing():
    from pyfuncs.io.pdf import soffice

    if soffice() is None or shutil.which("pdfinfo") is None:
        pytest.skip("LibreOffice and poppler-utils are needed (.ci/run installs them)")


# --- forms --------------------------------------------------------------------------------------
def test_forms_twice_replaces_the_same_forms(copy):
    """A second run of the month's forms replaces each form's sheet (same kind + same number)."""
    assert _cli("forms", str(copy)) == 0
    first = openpyxl.load_workbook(copy, read_only=True).sheetnames
    forms = [s for s in first if s.startswith(("回访单-", "维修单-", "期满通知-"))]
    assert forms
    assert _cli("forms", str(copy)) == 0
    assert openpyxl.load_workbook(copy, read_only=True).sheetnames == first


def _tickets(path: Path, n: int) -> list[str]:
    ws = openpyxl.load_workbook(path, read_only=True)[schema.TABLES["repairs"].sheet]
    ids = [r[0] for r in ws.iter_rows(min_row=2, max_col=1, values_only=True)
           if isinstance(r[0], str) and re.fullmatch(r"BX\d{4}-\d{4}", r[0])]
    return list(dict.fromkeys(ids))[:n]


def test_forms_pdf_one_page_per_form_with_chinese_text(copy, tmp_path):
    _need_printing()
    tickets = _tickets(copy, 3)
    pdf = tmp_path / "维修单.pdf"
    assert _cli("forms", str(copy), "--tickets", ",".join(tickets), "--pdf", str(pdf)) == 0
    assert _pdf_pages(pdf) == len(tickets)  # each form on one A4 page, nothing else printed
    text = _pdf_text(pdf)
    assert "维修单" in text or "维 修 单" in text.replace("\u3000", " ")
    for t in tickets:
        assert t in text


def test_forms_pdf_refused_without_libreoffice(copy, tmp_path, monkeypatch, capsys):
    import pyfuncs.io.pdf as pdf_mod

    monkeypatch.setattr(pdf_mod, "soffice", lambda: None)
    before = copy.read_bytes()
    pdf = tmp_path / "x.pdf"
    assert _cli("forms", str(copy), "--tickets", _tickets(copy, 1)[0], "--pdf", str(pdf)) == 2
    assert copy.read_bytes() == before and not pdf.exists()
    assert "LibreOffice" in capsys.readouterr().err


# --- the workbook's own sheets -------------------------------------------------------------------
def test_ledger_rows_below_the_first_have_the_table_font(demo):
    ws = openpyxl.load_workbook(demo)[schema.TABLES["repairs"].sheet]
    assert ws.max_row > 10
    for r in (2, 3, 10, ws.max_row):
        for c in (1, 5):
            font = ws.cell(r, c).font
            assert (font.name, font.sz) == ("微软雅黑", 10), (r, c)


def test_a_row_staff_add_takes_the_table_font(tmp_path):
    """The default (Normal) font of the built workbook is the table font: a cell with no format of
    its own (typed below the table, written by any program) prints as 微软雅黑 10."""
    wb = openpyxl.load_workbook(ROOT / "aftercare.xlsm")
    ws = wb[schema.TABLES["repairs"].sheet]
    ws.cell(500, 30).value = "新行"
    wb.save(tmp_path / "x.xlsx")
    font = openpyxl.load_workbook(tmp_path / "x.xlsx")[ws.title].cell(500, 30).font
    assert (font.name, font.sz) == ("微软雅黑", 10)


def test_every_ledger_prints_one_page_wide(demo):
    wb = openpyxl.load_workbook(demo)
    for t in schema.TABLES.values():
        ws = wb[t.sheet]
        assert ws.sheet_properties.pageSetUpPr.fitToPage, t.sheet
        assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0, t.sheet
        assert ws.page_setup.orientation == "landscape", t.sheet
        assert ws.print_title_rows, t.sheet


def test_terms_hint_wraps_inside_the_table(demo):
    ws = openpyxl.load_workbook(demo)[schema.TABLES["terms"].sheet]
    col = [c.value for c in ws[1]].index("提示") + 1
    long_rows = [r for r in range(2, ws.max_row + 1)
                 if isinstance(ws.cell(r, col).value, str) and len(ws.cell(r, col).value) > 40]
    assert long_rows
    for r in long_rows:
        assert ws.cell(r, col).alignment.wrap_text
        assert (ws.row_dimensions[r].height or 0) > 15  # tall enough for its lines


def test_xlwings_conf_hidden_and_read_by_name(demo):
    for path in (ROOT / "aftercare.xlsm", demo):
        assert openpyxl.load_workbook(path, read_only=True)[schema.CONF_SHEET].sheet_state == "hidden"
    # xlwings' VBA finds the sheet by name (hidden or not) and reads A1 down with End(xlDown)
    from pyfuncs.build import xlwings_package_vba

    vba = xlwings_package_vba()["xlwings"]
    assert 'wb.Sheets(PROJECT_NAME & ".conf")' in vba and ".Activate" not in vba.split("Function GetConfigFromSheet")[1][:800]


def test_the_built_workbook_prints_no_xlwings_keys(tmp_path):
    """Printing the whole workbook (every sheet LibreOffice prints) shows none of xlwings.conf."""
    _need_printing()
    from _lo import convert

    pdf = convert(ROOT / "aftercare.xlsm", "pdf", tmp_path)
    text = _pdf_text(pdf)
    assert "项目编号" in text  # the ledgers are printed, in Chinese
    assert "Interpreter_Win" not in text and "UDF Modules" not in text


# --- generated sheets ----------------------------------------------------------------------------
def _chart_xml(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return [z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/charts/chart")]


def test_report_charts_label_every_bar_and_rates_end_at_100_percent(demo):
    charts = _chart_xml(demo)
    assert len(charts) >= 3
    for xml in charts:
        assert re.search(r'<(c:)?tickLblSkip val="1"', xml), "a category axis skips labels"
    sat = [x for x in charts if "回访满意度" in x]
    assert sat and re.search(r'<(c:)?max val="1(\.0)?"', sat[0])


def test_report_charts_do_not_straddle_a_page_break(demo):
    """Page breaks go before a chart's block wherever it could straddle one; checked on the
    layout's own page estimate for every plausible row height, and the breaks are in the file."""
    from pyfuncs.io.filebook import FileBook
    from pyfuncs.jobs import JobOptions, report
    from pyfuncs.layout import page_rows

    with FileBook.open(demo, lock=False) as book:  # not saved: the layout is all we want
        laid = []
        book.put_sheet = lambda lay, **kw: laid.append(lay)
        report.run(book, JobOptions(today=TODAY))
    (lay,) = laid
    assert lay.row_breaks
    for h in (15.0, 18.0, 21.0):
        starts = page_rows(lay, h)
        for ch in lay.charts:
            top, need, r = ch.anchor_row, ch.height * 28.35, ch.anchor_row
            while need > 0:
                need -= lay.heights.get(r, h)
                r += 1
            assert not any(top < s <= r - 1 for s in starts), (ch.title, h)
    ws = openpyxl.load_workbook(demo)[schema.REPORT_SHEET]
    assert sorted(b.id + 1 for b in ws.row_breaks.brk) == sorted(lay.row_breaks)


def test_plan_has_sign_off_row_and_total_counts_done_visits(demo, tmp_path):
    ws = openpyxl.load_workbook(demo)[f"回访计划{TODAY.year}"]
    total = next(r for r in range(4, ws.max_row + 1) if "全年合计" in str(ws.cell(r, 1).value))
    formula = ws.cell(total, 1).value
    assert "COUNTA(" in formula and 'COUNTIF(' in formula and "已回访" in formula and "已回访{" not in formula
    labels = [ws.cell(total + 2, c).value for c in range(1, ws.max_column + 1)]
    assert [x for x in labels if x] == ["编制：", "审核：", "批准：", "日期："]
    assert ws.print_area and str(total + 2) in ws.print_area.split(":")[-1]
    # LibreOffice computes the total: as many done visits as rows marked 已回访
    head = [c.value for c in ws[3]]
    state = head.index("状态") + 1
    done = sum(1 for r in range(4, total) if ws.cell(r, state).value == "已回访" and ws.cell(r, 3).value)
    from _lo import convert

    out = convert(demo, "xlsx", tmp_path)
    value = openpyxl.load_workbook(out, data_only=True)[ws.title].cell(total, 1).value
    assert value.endswith(f"已回访{done}次"), value


def test_selftest_sheet_has_no_python_reprs_and_prints_readably(demo):
    ws = openpyxl.load_workbook(demo)["自检结果"]
    texts = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert len(texts) > 50
    for bad in ("Problem(", "{'", "datetime.", "[[", "Timestamp("):
        assert not [t for t in texts if bad in t], bad
    widths = sum(ws.column_dimensions[c].width or 8.43 for c in "ABCD")
    assert ws.page_setup.orientation == "landscape" and widths <= 160  # ≥ about 70 % on A4


def test_check_sheet_header_styled_and_names_link_to_the_cells(demo):
    ws = openpyxl.load_workbook(demo)["检查结果"]
    header = [ws.cell(2, c) for c in range(1, 6)]
    assert [c.value for c in header] == ["级别", "工作表", "行", "列", "问题"]
    assert all(c.font.b and c.fill.fgColor.rgb.endswith("D9E1F2") for c in header)
    links = {c.coordinate: c.hyperlink.location for row in ws.iter_rows(min_row=3) for c in row if c.hyperlink}
    assert links
    for coord, target in links.items():
        r = int(coord[1:])
        sheet, row = ws.cell(r, 2).value, ws.cell(r, 3).value
        assert target == f"'{sheet}'!A{row or 1}"


def test_pictures_script_renders_one_page(demo, tmp_path):
    _need_printing()
    from PIL import Image

    from pyfuncs.pictures import make_pictures

    out = make_pictures(tmp_path / "img", book=demo, sheets=["统计"], dpi=60)
    assert [p.name for p in out] == ["report.png"]
    img = Image.open(out[0])
    assert 300 < img.width < 1000 and img.height > 200


def test_readme_guide_links_stay_inside_the_repository():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.index("使用指南") < text.index("## Set up")  # staff and IT first
    for cmd in ('pip install -e ".[test]" && aftercare demo', 'pip install -e ".[test]" && python -m pytest',
                "docs/excel-smoke-test.md", "aftercare setup"):
        assert cmd in text, cmd
    links = re.findall(r"\]\(([^)]+)\)", text)
    local = [x for x in links if not x.startswith(("http://", "https://", "#"))]
    assert local and not [x for x in local if x.startswith(("/", "..")) or "../" in x]
    for target in local:
        assert (ROOT / target.split("#")[0]).exists(), target
    images = [x for x in local if x.endswith(".png")]
    assert len(images) >= 8
    assert sum((ROOT / x).stat().st_size for x in images) < 3_000_000
