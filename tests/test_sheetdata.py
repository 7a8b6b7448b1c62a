"""The fast scratch render (values written by pyfuncs.io.sheetdata, not as openpyxl cells) gives
the same sheet as rendering every value as an openpyxl cell: every generated sheet of the demo
workbook (plan, 统计 with its charts, forms, 检查结果, 本周待办, 案例库, 项目档案) is rendered both
ways and the two scratch workbooks are read back with openpyxl and compared cell by cell."""
from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from copy import copy
from decimal import Decimal

import openpyxl
import pytest

from pyfuncs.io import graft
from pyfuncs.io.book import Formula
from pyfuncs.io.graft import graft_layout, render_scratch
from pyfuncs.layout import Layout

TODAY = dt.date(2026, 11, 2)
HOSTILE = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://evil.example","点我")', "+1", "-1", "@x", "=1+1",
           "  <a & b>  ", "\n换行在前", "尾部换行\n", "   ", "=", "<>&\"'"]
SHEET = "xl/worksheets/sheet1.xml"


@pytest.fixture(scope="module")
def layouts(tmp_path_factory) -> list[Layout]:
    """Every Layout the demo's jobs hand to the file writer."""
    from pyfuncs.demo import make_demo

    caught: list[Layout] = []
    orig = graft.render_scratch

    def spy(lay, **kw):
        caught.append(lay)
        return orig(lay, **kw)

    mp = pytest.MonkeyPatch()
    mp.setattr(graft, "render_scratch", spy)
    try:
        make_demo(tmp_path_factory.mktemp("demo") / "demo.xlsm", today=TODAY)
    finally:
        mp.undo()
    return [*caught, _check_layout()]


def _check_layout() -> Layout:
    """检查结果 (the demo's data has no problem to list)."""
    from pyfuncs.jobs.check import result_layout
    from pyfuncs.problem import Problem

    problems = [Problem("报修台账", 3, "报修日期", "「报修日期」必须填写"),
                Problem("项目台账", 2, "项目名称", HOSTILE[1], level="提示")]
    return result_layout(problems, TODAY, ["项目台账", "报修台账"])


def _book(parts: dict[str, bytes]):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    buf.seek(0)
    return openpyxl.load_workbook(buf)


def _same_value(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        # openpyxl writes a float with 16 significant digits, the fast path its repr (exact)
        return math.isclose(a, b, rel_tol=1e-15)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return abs(a - b) < dt.timedelta(milliseconds=1)
    return a == b and type(a) is type(b)


def assert_same_scratch(lay: Layout) -> None:
    """``lay`` rendered the old way (every value an openpyxl cell) and the fast way give the same
    workbook: the same parts, the sheet's XML outside <sheetData> byte for byte (dimension, merges,
    hyperlinks, validations, print setup, drawing), every cell's value, type, style, every row's
    height and outline level."""
    old, new = render_scratch(lay, fast=False), render_scratch(lay, fast=True)
    assert old.keys() == new.keys()
    for name in old:
        if name not in (SHEET, "xl/styles.xml", "docProps/core.xml"):  # core.xml: the time of the save
            assert old[name] == new[name], (lay.name, name)

    def outside(xml: bytes) -> bytes:
        return re.sub(rb"<sheetData\s*/>|<sheetData>.*</sheetData>", b"", xml, flags=re.S).replace(b" />", b"/>")

    assert outside(old[SHEET]) == outside(new[SHEET]), lay.name
    a, b = _book(old)[lay.name], _book(new)[lay.name]
    assert a.dimensions == b.dimensions
    assert sorted(map(str, a.merged_cells.ranges)) == sorted(map(str, b.merged_cells.ranges))
    coords = a._cells.keys() | b._cells.keys()
    assert coords or not lay.cells, lay.name
    for rc in sorted(coords):
        x, y = a.cell(*rc), b.cell(*rc)
        where = (lay.name, x.coordinate)
        assert _same_value(x.value, y.value), (where, x.value, y.value)
        assert x.data_type == y.data_type, (where, x.value)
        assert x.number_format == y.number_format, where
        assert copy(x.font) == copy(y.font), where
        assert copy(x.fill) == copy(y.fill), where
        assert copy(x.border) == copy(y.border), where
        assert copy(x.alignment) == copy(y.alignment), where
        assert copy(x.protection) == copy(y.protection), where
        hx, hy = x.hyperlink, y.hyperlink
        assert (hx and (hx.target, hx.location)) == (hy and (hy.target, hy.location)), where
    rows = a.row_dimensions.keys() | b.row_dimensions.keys()
    for r in rows:
        assert dict(a.row_dimensions[r]) == dict(b.row_dimensions[r]), (lay.name, r)


def test_every_demo_sheet_renders_the_same_both_ways(layouts):
    names = [lay.name for lay in layouts]
    for wanted in ("回访计划", "统计", "回访单", "维修单", "检查结果", "待办", "案例", "档案"):
        assert any(wanted in n for n in names), (wanted, names)
    assert any(lay.charts for lay in layouts) and any(lay.merges for lay in layouts)
    assert any(lay.links for lay in layouts) and any(lay.outline for lay in layouts)
    for lay in layouts:
        assert_same_scratch(lay)


def _mixed() -> Layout:
    """Every kind of value, in merged ranges and hyperlinked cells too."""
    lay = Layout("混合")
    values = [*HOSTILE, 0, -7, 10 ** 12, 0.1 + 0.2, 1 / 3, 1e-300, float("nan"), float("inf"), True, False,
              None, dt.date(2027, 1, 4), dt.datetime(2027, 1, 4), dt.datetime(2027, 1, 4, 13, 30, 15),
              dt.date(1900, 2, 1), Formula("=SUM(A1:A3)"), Formula('="<"&A1'), Decimal("1.25")]
    styles = ["plain", "cell", "date", "int", "money", "pct", "header", "link", "title"]
    for i, v in enumerate(values):
        for j, st in enumerate(styles):
            if isinstance(v, dt.date) and st in ("int", "money", "pct"):
                continue  # openpyxl's first such cell keeps the style's format, the next get a date format
            lay.put(i + 1, j + 1, v, st)
    lay.put(40, 2, "合并左上", "header")
    lay.put(40, 3, "合并内部的值：openpyxl 丢弃", "cell")
    lay.merge(40, 2, 41, 4)
    lay.put(43, 1, "链接", "link")
    lay.link(43, 1, "报修台账", "A7")
    lay.url(43, 2, "https://pan.example.com/s/1a2b")
    lay.url(44, 9, "https://example.com/空单元格")  # a link on a cell without a value
    lay.heights.update({2: 30.5, 50: 18, 3: 0})
    lay.outline.update({4: 1, 5: 2, 51: 1, 6: 0})
    lay.widths.update({1: 20, 3: 12.5})
    return lay


def test_every_kind_of_value_renders_the_same_both_ways():
    assert_same_scratch(_mixed())
    assert_same_scratch(Layout("空"))


def test_text_stays_text_and_formulas_are_only_formula_values():
    lay = Layout("文本")
    for i, v in enumerate([*HOSTILE, "#N/A", "#REF!"], start=1):
        lay.put(i, 1, v, "cell")
    lay.put(1, 2, Formula("=SUM(1,2)"))
    lay.put(2, 2, 0.1 + 0.2, "num1")
    parts = render_scratch(lay)
    xml = parts[SHEET]
    assert xml.count(b"<f>") == 1 and b"<f>SUM(1,2)</f>" in xml
    assert b'<t xml:space="preserve">  &lt;a &amp; b&gt;  </t>' in xml
    ws = _book(parts)["文本"]
    for i, v in enumerate([*HOSTILE, "#N/A", "#REF!"], start=1):
        c = ws.cell(i, 1)
        # a text that looks like an error value is text too (openpyxl's own cells made it an error)
        assert (c.value, c.data_type) == (v, "s"), c.coordinate
    assert ws["B2"].value == 0.1 + 0.2  # the exact float, not 16 digits
    assert ws["B1"].value == "=SUM(1,2)" and ws["B1"].data_type == "f"
    # and grafted into a workbook, through the styles merge
    buf = io.BytesIO()
    openpyxl.Workbook().save(buf)
    with zipfile.ZipFile(buf) as z:
        target = {n: z.read(n) for n in z.namelist()}
    changes = graft_layout(target, lay)
    target.update({k: v for k, v in changes.items() if v is not None})
    ws = _book(target)["文本"]
    assert [ws.cell(i, 1).value for i in range(1, len(HOSTILE) + 1)] == HOSTILE
    assert all(ws.cell(i, 1).border.left.style == "thin" for i in range(1, len(HOSTILE) + 1))
