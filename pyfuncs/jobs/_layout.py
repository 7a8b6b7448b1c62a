"""Printable sheet layouts: a small declarative description and its openpyxl renderer.

The generated sheets (the year's plan, the 统计 report, the printed forms) are described as a
:class:`Layout` — cells with named styles, merges, widths, print setup, row outline levels, native
charts — and rendered onto a worksheet by :func:`render`. Keeping the description separate from
openpyxl means the same layout can be rendered by the live-Excel (xlwings) side, and tests can
assert on the description as well as on the file.

Example::

    >>> lay = Layout("demo", orientation="portrait")
    >>> lay.put(1, 1, "标题", "title")
    >>> lay.merge(1, 1, 1, 4)
    >>> lay.cells[(1, 1)]
    ('标题', 'title')
"""
from __future__ import annotations

import datetime as dt
from copy import copy
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

#: Named cell styles: font size/bold, fill colour, border, alignment, wrap, number format.
STYLES: dict[str, dict[str, Any]] = {
    "title": {"size": 16, "bold": True, "align": "center"},
    "subtitle": {"size": 10, "align": "right"},
    "company": {"size": 13, "bold": True, "align": "center"},
    "header": {"bold": True, "fill": "D9E1F2", "border": True, "align": "center", "wrap": True},
    "cell": {"border": True, "wrap": True, "valign": "center"},
    "center": {"border": True, "align": "center", "valign": "center"},
    "date": {"border": True, "align": "center", "format": "yyyy-mm-dd"},
    "int": {"border": True, "align": "center", "format": "0"},
    "num1": {"border": True, "align": "center", "format": "0.0"},
    "pct": {"border": True, "align": "center", "format": "0.0%"},
    "changed": {"border": True, "wrap": True, "fill": "FCE4D6"},
    "changed_date": {"border": True, "align": "center", "format": "yyyy-mm-dd", "fill": "FCE4D6"},
    "subtotal": {"bold": True, "fill": "F2F2F2", "border": True},
    "section": {"bold": True, "size": 12, "fill": "DDEBF7"},
    "note": {"size": 9, "italic": True},
    "label": {"bold": True, "border": True, "align": "center", "valign": "center", "wrap": True, "fill": "F2F2F2"},
    "value": {"border": True, "wrap": True, "valign": "center"},
    "box": {"border": True, "wrap": True, "valign": "top"},
    "sign": {"border": True, "valign": "bottom", "wrap": True},
    "text": {"wrap": True, "valign": "top"},
    "right": {"align": "right", "wrap": True},
    "plain": {},
}


@dataclass
class ChartSpec:
    """A native chart. ``data``/``cats`` are (min_col, min_row, max_col, max_row) on the same sheet;
    the first row of ``data`` holds the series titles."""

    kind: str  # "bar", "col", "line", "bar+line"
    title: str
    anchor: str
    data: tuple[int, int, int, int]
    cats: tuple[int, int, int, int]
    y_title: str = ""
    x_title: str = ""
    stacked: bool = False
    width: float = 16.0
    height: float = 7.5
    line_data: tuple[int, int, int, int] | None = None  # for "bar+line": series drawn as a line
    line_axis_title: str = ""


@dataclass
class Layout:
    name: str
    orientation: str = "landscape"
    fit_width: bool = True
    fit_height: bool = False
    print_title_rows: str | None = None  # e.g. "3:3"
    footer: str = "第 &P 页，共 &N 页"
    header: str = ""
    margins: tuple[float, float, float, float] = (0.5, 0.5, 0.6, 0.6)  # left, right, top, bottom (inch)
    center_horizontally: bool = True
    freeze: str | None = None
    autofilter: str | None = None
    cells: dict[tuple[int, int], tuple[Any, str]] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    heights: dict[int, float] = field(default_factory=dict)
    outline: dict[int, int] = field(default_factory=dict)  # row → outline level
    charts: list[ChartSpec] = field(default_factory=list)
    print_area: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # what a job wants to report about the layout

    def put(self, row: int, col: int, value: Any, style: str = "plain") -> None:
        self.cells[(row, col)] = (value, style)

    def merge(self, r1: int, c1: int, r2: int, c2: int) -> None:
        if (r1, c1) != (r2, c2):
            self.merges.append((r1, c1, r2, c2))

    @property
    def max_row(self) -> int:
        return max((r for r, _ in self.cells), default=0)

    @property
    def max_col(self) -> int:
        return max((c for _, c in self.cells), default=0)


# --- openpyxl ---------------------------------------------------------------------------------
_STYLE_CACHE: dict[str, Any] = {}


def _openpyxl_style(name: str):
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    if name in _STYLE_CACHE:
        return _STYLE_CACHE[name]
    s = STYLES.get(name, {})
    thin = Side(style="thin", color="000000")
    font = Font(name="宋体" if s.get("size", 11) < 13 else "黑体", size=s.get("size", 11),
                bold=s.get("bold", False), italic=s.get("italic", False))
    fill = PatternFill("solid", fgColor=s["fill"]) if s.get("fill") else None
    border = Border(left=thin, right=thin, top=thin, bottom=thin) if s.get("border") else None
    align = Alignment(horizontal=s.get("align"), vertical=s.get("valign", "center"),
                      wrap_text=s.get("wrap", False))
    out = (font, fill, border, align, s.get("format"))
    _STYLE_CACHE[name] = out
    return out


def render(ws, lay: Layout) -> None:
    """Write ``lay`` onto the (empty) openpyxl worksheet ``ws``."""
    from openpyxl.cell.cell import Cell
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    # Setting font/fill/border/alignment registers each in the workbook's style lists, which is
    # slow over 100,000 cells; the first cell of each (style, format) pays for it and the others
    # copy its resolved style array (valid within this workbook only, hence a local cache).
    resolved: dict[tuple[str, str | None], Any] = {}
    cells = ws._cells  # the sheet is empty: cells are created directly, not looked up one by one
    for (r, c), (value, style) in sorted(lay.cells.items()):
        if isinstance(value, dt.datetime):
            value = value.date() if value.time() == dt.time() else value
        font, fill, border, align, fmt = _openpyxl_style(style)
        if not fmt and isinstance(value, dt.date):
            fmt = "yyyy-mm-dd"
        key = (style, fmt)
        if key in resolved:
            cells[(r, c)] = Cell(ws, row=r, column=c, value=value, style_array=copy(resolved[key]))
            continue
        cell = ws.cell(row=r, column=c)
        cell.value = value
        cell.font = font
        if fill is not None:
            cell.fill = fill
        if border is not None:
            cell.border = border
        cell.alignment = align
        if fmt:
            cell.number_format = fmt
        resolved[key] = copy(cell._style)
    for r1, c1, r2, c2 in lay.merges:
        # borders on every cell of a merged range so the printed box is closed
        _, _, border, _, _ = _openpyxl_style(lay.cells.get((r1, c1), (None, "plain"))[1])
        if border is not None:
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    ws.cell(row=r, column=c).border = border
        ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
    for c, w in lay.widths.items():
        ws.column_dimensions[get_column_letter(c)].width = w
    for r, h in lay.heights.items():
        ws.row_dimensions[r].height = h
    for r, level in lay.outline.items():
        ws.row_dimensions[r].outlineLevel = level
    if lay.outline:
        ws.sheet_properties.outlinePr.summaryBelow = True
        ws.sheet_format.outlineLevelRow = max(lay.outline.values())

    ps = ws.page_setup
    ps.paperSize = ws.PAPERSIZE_A4
    ps.orientation = lay.orientation
    if lay.fit_width or lay.fit_height:
        if ws.sheet_properties.pageSetUpPr is None:
            ws.sheet_properties.pageSetUpPr = PageSetupProperties()
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ps.fitToWidth = 1 if lay.fit_width else 0
        ps.fitToHeight = 1 if lay.fit_height else 0
    left, right, top, bottom = lay.margins
    ws.page_margins.left, ws.page_margins.right = left, right
    ws.page_margins.top, ws.page_margins.bottom = top, bottom
    ws.print_options.horizontalCentered = lay.center_horizontally
    if lay.print_title_rows:
        ws.print_title_rows = lay.print_title_rows
    if lay.print_area:
        ws.print_area = lay.print_area
    if lay.footer:
        ws.oddFooter.center.text = lay.footer
    if lay.header:
        ws.oddHeader.center.text = lay.header
    if lay.freeze:
        ws.freeze_panes = lay.freeze
    if lay.autofilter:
        ws.auto_filter.ref = lay.autofilter
    for ch in lay.charts:
        ws.add_chart(_openpyxl_chart(ws, ch), ch.anchor)


def _openpyxl_chart(ws, spec: ChartSpec):
    from openpyxl.chart import BarChart, LineChart, Reference

    def ref(t):
        return Reference(ws, min_col=t[0], min_row=t[1], max_col=t[2], max_row=t[3])

    if spec.kind == "line":
        chart = LineChart()
    else:
        chart = BarChart()
        chart.type = "bar" if spec.kind == "bar" else "col"
        chart.gapWidth = 40
        if spec.stacked:
            chart.grouping = "stacked"
            chart.overlap = 100
    chart.title = spec.title
    chart.y_axis.title = spec.y_title or None
    chart.x_axis.title = spec.x_title or None
    # openpyxl >= 3.1 hides axes unless told otherwise
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.add_data(ref(spec.data), titles_from_data=True)
    chart.set_categories(ref(spec.cats))
    chart.width, chart.height = spec.width, spec.height
    chart.legend.position = "b"
    if spec.kind == "bar+line" and spec.line_data:
        line = LineChart()
        line.add_data(ref(spec.line_data), titles_from_data=True)
        for s in line.series:
            s.smooth = False
        line.set_categories(ref(spec.cats))
        line.y_axis.axId = 200
        line.y_axis.title = spec.line_axis_title or None
        line.y_axis.crosses = "max"
        line.y_axis.delete = False
        chart += line
    return chart


def replace_sheet(wb, name: str, lay: Layout, index: int | None = None):
    """Remove sheet ``name`` (if any) from the openpyxl workbook and render ``lay`` in its place."""
    old_index = None
    if name in wb.sheetnames:
        old_index = wb.sheetnames.index(name)
        _drop_defined_names(wb, name)
        wb.remove(wb[name])
    pos = old_index if old_index is not None else (index if index is not None else len(wb.sheetnames))
    ws = wb.create_sheet(name, pos)
    render(ws, lay)
    return ws


def clear_sheet(ws) -> None:
    """Empty an openpyxl worksheet in place: values, styles, merges, charts, outline, print setup."""
    for rng in list(ws.merged_cells.ranges):
        ws.unmerge_cells(str(rng))
    ws._cells.clear()
    ws._charts.clear()
    ws._images.clear()
    ws.row_dimensions.clear()
    ws.column_dimensions.clear()
    ws.auto_filter.ref = None
    ws.freeze_panes = None


def _drop_defined_names(wb, sheet: str) -> None:
    # openpyxl 3.1 keeps print titles/areas on the sheet itself; nothing global to drop.
    return None


# --- xlwings (live Excel on Windows) ------------------------------------------------------------
# Not exercised by the tests (no Excel on the build machine): one block write for the values, one
# COM call per style/merge/width group, and the cosmetic parts (freeze panes, charts) guarded so
# a formatting failure never loses the data already written.
_XL_ALIGN = {"center": -4108, "right": -4152, "left": -4131, None: 1}
_XL_VALIGN = {"center": -4108, "top": -4160, "bottom": -4107}


def _addr(r1: int, c1: int, r2: int | None = None, c2: int | None = None) -> str:
    from pyfuncs.io.book import col_letter

    a = f"{col_letter(c1)}{r1}"
    if r2 is None or (r2, c2) == (r1, c1):
        return a
    return f"{a}:{col_letter(c2)}{r2}"


def _unions(addrs: list[str], limit: int = 240):
    """Comma-joined address lists short enough for Excel's Range()."""
    chunk: list[str] = []
    size = 0
    for a in addrs:
        if chunk and size + len(a) + 1 > limit:
            yield ",".join(chunk)
            chunk, size = [], 0
        chunk.append(a)
        size += len(a) + 1
    if chunk:
        yield ",".join(chunk)


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for r in sorted(rows):
        if out and r == out[-1][1] + 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


def render_xlwings(xw_book, lay: Layout, index: int | None = None, clear: bool = False) -> None:
    """Render ``lay`` on sheet ``lay.name`` of a live workbook (created, or cleared if it exists)."""
    import contextlib

    sheets = xw_book.sheets
    names = [s.name for s in sheets]
    if lay.name in names:
        ws = sheets[lay.name]
        ws.clear()
        for ch in list(ws.charts):
            ch.delete()
        with contextlib.suppress(Exception):
            ws.api.Cells.ClearOutline()
    elif index is not None and index < len(names):
        ws = sheets.add(lay.name, before=sheets[index])
    else:
        ws = sheets.add(lay.name, after=sheets[len(names) - 1])
    nr, nc = lay.max_row, lay.max_col
    if nr and nc:
        grid: list[list[Any]] = [[None] * nc for _ in range(nr)]
        for (r, c), (v, _st) in lay.cells.items():
            if isinstance(v, str) and not v.startswith("=") and v.strip() and _looks_numeric(v):
                v = "'" + v  # keep phone numbers, ids like 0012 as text
            grid[r - 1][c - 1] = v
        ws.range((1, 1), (nr, nc)).value = grid
    by_style: dict[str, list[str]] = {}
    for (r, c), (_v, st) in lay.cells.items():
        by_style.setdefault(st, []).append(_addr(r, c))
    for st, addrs in by_style.items():
        s = STYLES.get(st, {})
        for u in _unions(addrs):
            rng = ws.api.Range(u)
            rng.Font.Size = s.get("size", 11)
            rng.Font.Bold = s.get("bold", False)
            rng.Font.Italic = s.get("italic", False)
            rng.HorizontalAlignment = _XL_ALIGN.get(s.get("align"), 1)
            rng.VerticalAlignment = _XL_VALIGN.get(s.get("valign", "center"), -4108)
            rng.WrapText = bool(s.get("wrap"))
            if s.get("fill"):
                h = s["fill"]
                rng.Interior.Color = int(h[4:6], 16) << 16 | int(h[2:4], 16) << 8 | int(h[0:2], 16)  # BGR
            if s.get("border"):
                rng.Borders.LineStyle = 1
            if s.get("format"):
                rng.NumberFormat = s["format"]
    for u in _unions([_addr(*m) for m in lay.merges]):
        for part in u.split(","):
            ws.api.Range(part).Merge()
    for c, w in lay.widths.items():
        ws.range((1, c)).column_width = w
    for r, h in lay.heights.items():
        ws.range((r, 1)).row_height = h
    grouped = [r for r, lv in lay.outline.items() if lv >= 1]
    for a, b in _runs(grouped):
        ws.api.Rows(f"{a}:{b}").Group()
    if grouped:
        ws.api.Outline.SummaryRow = 1  # xlSummaryBelow
    ps = ws.api.PageSetup
    ps.PaperSize = 9  # xlPaperA4
    ps.Orientation = 2 if lay.orientation == "landscape" else 1
    if lay.fit_width or lay.fit_height:
        ps.Zoom = False
        ps.FitToPagesWide = 1 if lay.fit_width else False
        ps.FitToPagesTall = 1 if lay.fit_height else False
    inch = 72.0
    ps.LeftMargin, ps.RightMargin, ps.TopMargin, ps.BottomMargin = (m * inch for m in lay.margins)
    ps.CenterHorizontally = lay.center_horizontally
    ps.PrintTitleRows = "$" + lay.print_title_rows.replace(":", ":$") if lay.print_title_rows else ""
    if lay.print_area:
        ps.PrintArea = lay.print_area
    ps.CenterFooter = lay.footer or ""
    if lay.autofilter:
        with contextlib.suppress(Exception):
            ws.api.Range(lay.autofilter).AutoFilter()
    if lay.freeze:
        with contextlib.suppress(Exception):
            from pyfuncs.io.book import parse_ref

            r, c, _, _ = parse_ref(lay.freeze)
            ws.activate()
            win = xw_book.app.api.ActiveWindow
            win.FreezePanes = False
            win.SplitRow, win.SplitColumn = r - 1, c - 1
            win.FreezePanes = True
    for spec in lay.charts:
        with contextlib.suppress(Exception):
            _xlwings_chart(ws, spec)


def _looks_numeric(s: str) -> bool:
    try:
        float(s.replace(",", ""))
        return True
    except ValueError:
        return False


def _xlwings_chart(ws, spec: ChartSpec) -> None:
    cm = 28.35
    anchor = ws.range(spec.anchor)
    ch = ws.charts.add(anchor.left, anchor.top, spec.width * cm, spec.height * cm)
    api = ch.api[1] if isinstance(ch.api, tuple) else ch.api
    cats = _addr(spec.cats[1] - 1, spec.cats[0], spec.cats[3], spec.cats[2])  # include the header row
    data = [_addr(spec.data[1], spec.data[0], spec.data[3], spec.data[2])]
    if spec.kind == "bar+line" and spec.line_data:
        data.append(_addr(spec.line_data[1], spec.line_data[0], spec.line_data[3], spec.line_data[2]))
    api.SetSourceData(ws.api.Range(",".join([cats, *data])), 2)  # xlColumns
    types = {"bar": 58 if spec.stacked else 57, "col": 52 if spec.stacked else 51, "line": 4, "bar+line": 51}
    api.ChartType = types.get(spec.kind, 51)  # xlBarStacked/xlBarClustered/xlColumn.../xlLine
    if spec.kind == "bar+line" and spec.line_data:
        s = api.SeriesCollection(api.SeriesCollection().Count)
        s.ChartType = 4  # xlLine
        s.AxisGroup = 2  # xlSecondary
    api.HasTitle = True
    api.ChartTitle.Text = spec.title
    api.HasLegend = True
    api.Legend.Position = -4107  # xlLegendPositionBottom


@lru_cache(maxsize=65536)  # a plan repeats the same names, kinds and parts thousands of times
def text_width(s: str) -> float:
    """Display width in Excel character units: CJK and full-width characters count 2.

    >>> text_width("回访 A1")
    7
    """
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in s)


def fit_row_heights(lay: Layout, rows: list[int] | None = None, line: float = 14.0) -> None:
    """Set row heights so wrapped text shows in full when printed (Excel and LibreOffice do not
    re-fit rows of a generated file). A row keeps a larger height already set."""
    import math

    span = {}
    for r1, c1, r2, c2 in lay.merges:
        if r1 == r2:
            span[(r1, c1)] = sum(lay.widths.get(c, 8.43) for c in range(c1, c2 + 1))
    need: dict[int, int] = {}
    wanted = set(rows) if rows is not None else None  # a list lookup per cell was quadratic
    for (r, c), (v, st) in lay.cells.items():
        if wanted is not None and r not in wanted:
            continue
        if not isinstance(v, str) or not v or v.startswith("=") or not STYLES.get(st, {}).get("wrap"):
            continue
        width = max(span.get((r, c), lay.widths.get(c, 8.43)) - 1, 2)
        scale = STYLES.get(st, {}).get("size", 11) / 11
        n = sum(max(1, math.ceil(text_width(part) * scale / width)) for part in v.split("\n"))
        need[r] = max(need.get(r, 1), n)
    for r, n in need.items():
        if n > 1 or r not in lay.heights:
            h = round(line * n + 3, 1) if n > 1 else None
            if h and h > lay.heights.get(r, 0):
                lay.heights[r] = h
