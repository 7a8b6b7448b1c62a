"""Render a :class:`~pyfuncs.layout.Layout` onto an openpyxl worksheet (the file books)."""
from __future__ import annotations

import datetime as dt
from copy import copy
from typing import Any

from pyfuncs.layout import STYLES, ChartSpec, Layout

_STYLE_CACHE: dict[str, Any] = {}
#: Distance (inch) of the printed header and footer from the page edge.
FOOTER_MARGIN = 0.25


def _openpyxl_style(name: str):
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    if name in _STYLE_CACHE:
        return _STYLE_CACHE[name]
    s = STYLES.get(name, {})
    thin = Side(style="thin", color="000000")
    font = Font(name="宋体" if s.get("size", 11) < 13 else "黑体", size=s.get("size", 11),
                bold=s.get("bold", False), italic=s.get("italic", False),
                color=s.get("color"), underline="single" if s.get("underline") else None)
    fill = PatternFill("solid", fgColor=s["fill"]) if s.get("fill") else None
    border = Border(left=thin, right=thin, top=thin, bottom=thin) if s.get("border") else None
    align = Alignment(horizontal=s.get("align"), vertical=s.get("valign", "center"),
                      wrap_text=s.get("wrap", False))
    out = (font, fill, border, align, s.get("format"))
    _STYLE_CACHE[name] = out
    return out


#: The value types the fast path of :func:`render` leaves to :func:`pyfuncs.io.sheetdata.sheet_data`
#: (anything else, rare, becomes an openpyxl cell as before).
_FAST_TYPES = frozenset({str, int, float, bool, dt.date, dt.datetime, type(None)})


def render(ws, lay: Layout, *, cells: bool = True):
    """Write ``lay`` onto the (empty) openpyxl worksheet ``ws``.

    ``cells=False`` is the fast path of :func:`pyfuncs.io.graft.render_scratch`: everything the
    sheet has once is rendered as usual, but the values get no openpyxl cells and the rows no
    row dimensions. It returns what :func:`pyfuncs.io.sheetdata.sheet_data` needs instead:
    the values, (row, col) → (value, xf index in ``ws.parent``'s cell styles, or None), and the
    rows' attributes as openpyxl writes them, row → ``' outlineLevel="1" ht="30"
    customHeight="1"'``. The cells openpyxl itself works on (those of merged ranges and of
    hyperlinks) and values of an unusual type still become openpyxl cells, exactly as with
    ``cells=True``; whoever serialises the sheet writes ``ws._cells`` too.
    """
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.hyperlink import Hyperlink
    from openpyxl.worksheet.properties import PageSetupProperties

    # Setting font/fill/border/alignment registers each in the workbook's style lists, which is
    # slow over 100,000 cells; the first cell of each (style, format) pays for it and the others
    # copy its resolved style array (valid within this workbook only, hence a local cache).
    resolved: dict[tuple[str, str | None], Any] = {}
    out = None
    if cells:
        for (r, c), (value, style) in sorted(lay.cells.items()):
            _put(ws, r, c, value, style, resolved)
    else:
        out = _values(ws, lay, resolved)
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
    if cells:
        for r, h in lay.heights.items():
            ws.row_dimensions[r].height = h
        for r, level in lay.outline.items():
            ws.row_dimensions[r].outlineLevel = level
    else:
        out = (out, _row_attributes(lay))
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
    # header and footer well inside the top and bottom margins (openpyxl's 0.5 inch leaves a
    # footer no room under a 0.6 inch margin: LibreOffice cuts it off)
    ws.page_margins.header = ws.page_margins.footer = FOOTER_MARGIN
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
    for (r, c), target in lay.links.items():
        ws.cell(row=r, column=c).hyperlink = Hyperlink(ref=f"{get_column_letter(c)}{r}", location=target)
    for (r, c), target in lay.urls.items():  # a web address or file path: an external relationship
        ws.cell(row=r, column=c).hyperlink = Hyperlink(ref=f"{get_column_letter(c)}{r}", target=target)
    for v in lay.validations:
        if v.kind == "date":
            from pyfuncs.schema import DATE_VALID

            dv = DataValidation(type="date", operator="between", formula1=DATE_VALID[0], formula2=DATE_VALID[1],
                                allow_blank=True)
        else:
            # the file stores a formula without its "=" (Excel's own files: <formula1>人员名单</formula1>)
            formula = v.source.lstrip("=") if v.source else '"' + ",".join(v.choices) + '"'
            dv = DataValidation(type="list", formula1=formula, allow_blank=True, showDropDown=False)
        if v.error:
            dv.showErrorMessage, dv.error = True, v.error
            dv.errorStyle = "stop" if v.strict else "warning"
        if v.prompt:
            dv.prompt, dv.showInputMessage = v.prompt, True
        dv.add(v.ref)
        ws.add_data_validation(dv)
    for cf in lay.cond_fills:
        ws.conditional_formatting.add(cf.ref, FormulaRule(formula=[cf.formula.lstrip("=")],
                                                          fill=PatternFill("solid", bgColor=cf.fill)))
    if lay.row_breaks:
        from openpyxl.worksheet.pagebreak import Break

        for r in lay.row_breaks:
            ws.row_breaks.append(Break(id=r - 1))  # a break after row r-1: a new page starts at row r
    for ch in lay.charts:
        ws.add_chart(_openpyxl_chart(ws, ch), ch.anchor)
    return out


def _row_attributes(lay: Layout) -> dict[int, str]:
    """The attributes openpyxl writes for the rows ``lay`` gives a height or an outline level
    (RowDimension's order: outlineLevel, ht, customHeight; a zero is not written)."""
    out = {}
    for r in lay.heights.keys() | lay.outline.keys():
        a = ""
        level = lay.outline.get(r)
        if level:
            a += f' outlineLevel="{int(level)}"'
        h = lay.heights.get(r)
        if h is not None:
            if float(h):
                a += f' ht="{float(h):.16g}"'
            a += ' customHeight="1"'
        out[r] = a
    return out


def _put(ws, r: int, c: int, value, style: str, resolved: dict) -> None:
    """One openpyxl cell of the layout (``resolved``: (style, format) → style array, see render)."""
    from openpyxl.cell.cell import Cell

    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    fmt = _openpyxl_style(style)[4]
    if not fmt and isinstance(value, dt.date):
        fmt = "yyyy-mm-dd"
    key = (style, fmt)
    if key in resolved:
        cell = ws._cells[(r, c)] = Cell(ws, row=r, column=c, value=value, style_array=copy(resolved[key]))
        if type(value) is str and value.startswith("="):
            cell.data_type = "s"  # text, never a formula: only Formula values are formulas
        return
    cell = ws.cell(row=r, column=c)
    cell.value = value
    if type(value) is str and value.startswith("="):
        cell.data_type = "s"
    _style_cell(cell, style, fmt, resolved)


def _values(ws, lay: Layout, resolved: dict) -> dict[tuple[int, int], tuple[Any, int | None]]:
    """The fast path of :func:`render`: (row, col) → (value, xf index) for the values that need
    no openpyxl cell; the others are put as openpyxl cells."""
    from pyfuncs.io.book import Formula

    held = set(lay.links) | set(lay.urls)
    for r1, c1, r2, c2 in lay.merges:
        held.update((r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))
    fast = _FAST_TYPES | {Formula}
    xfs: dict[tuple[str, type], int | None] = {}
    cell_styles = ws.parent._cell_styles
    out = {}
    midnight = dt.time()
    for (r, c), (value, style) in lay.cells.items():
        t = type(value)
        if t not in fast or (r, c) in held:
            _put(ws, r, c, value, style, resolved)
            continue
        if t is dt.datetime and value.time() == midnight:
            value, t = value.date(), dt.date
        xf = xfs.get((style, t), -1)
        if xf == -1:
            # the style array an openpyxl cell of this style and value type ends up with
            # (a date in a style without a date format gets openpyxl's date format)
            arr = _style_array(ws, style, _SAMPLES.get(t), resolved)
            xf = xfs[(style, t)] = cell_styles.add(arr) if any(arr) else None
        out[(r, c)] = (value, xf)
    return out


_SAMPLES = {dt.date: dt.date(2000, 1, 1), dt.datetime: dt.datetime(2000, 1, 1, 12)}


def _style_array(ws, style: str, sample, resolved: dict):
    """The style array :func:`_put` gives a cell of ``style`` holding ``sample`` (a date or a
    datetime, or None for a value of any other type), without keeping the cell."""
    from openpyxl.cell.cell import Cell

    fmt = _openpyxl_style(style)[4]
    if not fmt and isinstance(sample, dt.date):
        fmt = "yyyy-mm-dd"
    key = (style, fmt)
    if key not in resolved:
        _style_cell(Cell(ws, row=1, column=1), style, fmt, resolved)
    return Cell(ws, row=1, column=1, value=sample, style_array=copy(resolved[key]))._style


def _style_cell(cell, style: str, fmt: str | None, resolved: dict) -> None:
    """Give ``cell`` the font, fill, border, alignment of ``style`` and the number format ``fmt``,
    and remember the resolved style array as ``resolved[(style, fmt)]``."""
    font, fill, border, align, _ = _openpyxl_style(style)
    cell.font = font
    if fill is not None:
        cell.fill = fill
    if border is not None:
        cell.border = border
    cell.alignment = align
    if fmt:
        cell.number_format = fmt
    resolved[(style, fmt)] = copy(cell._style)


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
    # every category labelled (Excel and LibreOffice skip some when they find the axis crowded)
    chart.x_axis.tickLblSkip = spec.label_every
    chart.x_axis.tickMarkSkip = spec.label_every
    if spec.y_max is not None:
        chart.y_axis.scaling.max = spec.y_max
        chart.y_axis.scaling.min = 0
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
        wb.remove(wb[name])
    pos = old_index if old_index is not None else (index if index is not None else len(wb.sheetnames))
    ws = wb.create_sheet(name, pos)
    render(ws, lay)
    return ws
