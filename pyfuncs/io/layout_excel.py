"""Render a :class:`~pyfuncs.layout.Layout` on a worksheet of live Excel, through COM, in blocks.

:meth:`pyfuncs.io.xlbook.XlBook.put_sheet` creates the sheet (or clears the old one in place, so
its tab, code name and the references other sheets make to it stay) and calls :func:`render`:

- every value in one ``Range.Value =`` of the whole grid (text as text: :func:`excel_value`;
  internal links as ``HYPERLINK`` formulas in that same block, not one ``Hyperlinks.Add`` each);
- formats one attribute at a time (font, fill, borders, alignment, wrap, number format), each over
  rectangles joined into comma-separated ranges of at most 255 characters (what Excel's
  ``Range()`` takes): where one value covers most of an area, the whole area is set once and the
  exceptions after it; only what differs from a fresh cell is set;
- merges, column widths and row heights the same way (one call per group of equal ones); rows
  whose height the layout estimated for wrapped text are fitted by Excel in one ``AutoFit``;
  outline groups one call per run of rows, page setup with ``PrintCommunication`` off.

So a year's plan of 2,000 projects costs a few hundred round trips, not one or more per row.
"""
from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any, Callable

from pyfuncs.io.book import col_letter, parse_ref
from pyfuncs.io.xlbook import excel_value
from pyfuncs.layout import STYLES, ChartSpec, Layout

#: Excel's Range() takes an address of at most 255 characters
LIMIT = 255
_ALIGN = {"center": -4108, "right": -4152, "left": -4131, None: 1}  # xlCenter/xlRight/xlLeft/xlGeneral
_VALIGN = {"center": -4108, "top": -4160, "bottom": -4107}
#: a freshly cleared cell; an attribute at this value costs nothing
FRESH: dict[str, Any] = {"Font.Name": None, "Font.Size": 11, "Font.Bold": False, "Font.Italic": False,
                         "Font.Color": None, "Font.Underline": None, "Interior.Color": None, "Borders": False,
                         "HorizontalAlignment": 1, "VerticalAlignment": -4107, "WrapText": False,
                         "NumberFormat": None}
#: attributes an empty cell shows (painting over empty cells and back is not free of meaning)
_SHOWN_EMPTY = {"Interior.Color", "Borders"}

Area = tuple[int, int, int, int]


def bgr(hex_rgb: str) -> int:
    """'D9E1F2' → Excel's BGR colour integer."""
    return int(hex_rgb[4:6], 16) << 16 | int(hex_rgb[2:4], 16) << 8 | int(hex_rgb[0:2], 16)


def _style_attrs(name: str) -> dict[str, Any]:
    s = STYLES.get(name, {})
    size = s.get("size", 11)
    return {
        "Font.Name": "宋体" if size < 13 else "黑体",  # as the file books print them
        "Font.Size": size,
        "Font.Bold": bool(s.get("bold")),
        "Font.Italic": bool(s.get("italic")),
        "Font.Color": bgr(s["color"]) if s.get("color") else None,
        "Font.Underline": 2 if s.get("underline") else None,  # xlUnderlineStyleSingle
        "Interior.Color": bgr(s["fill"]) if s.get("fill") else None,
        "Borders": bool(s.get("border")),
        "HorizontalAlignment": _ALIGN.get(s.get("align"), 1),
        "VerticalAlignment": _VALIGN.get(s.get("valign", "center"), -4108),
        "WrapText": bool(s.get("wrap")),
        "NumberFormat": s.get("format"),
    }


def _setter(attr: str, value: Any) -> Callable[[Any], None]:
    """How one attribute is set on a COM range (each assignment one round trip, ``.Font`` one)."""
    if attr == "Borders":
        def f(rng):
            rng.Borders.LineStyle = 1 if value else -4142  # xlContinuous (thin) / xlNone
    elif attr == "Interior.Color":
        def f(rng):
            if value is None:
                rng.Interior.ColorIndex = -4142  # xlNone
            else:
                rng.Interior.Color = value
    elif attr == "Font.Color":
        def f(rng):
            rng.Font.Color = 0 if value is None else value
    elif attr == "Font.Underline":
        def f(rng):
            rng.Font.Underline = -4142 if value is None else value
    elif attr.startswith("Font."):
        prop = attr[5:]

        def f(rng):
            setattr(rng.Font, prop, value)
    elif attr == "NumberFormat":
        def f(rng):
            rng.NumberFormat = value or "General"
    else:
        def f(rng):
            setattr(rng, attr, value)
    return f


# ---- rectangles and address chunks --------------------------------------------------------------
def rectangles(rows: dict[int, tuple[tuple[int, int], ...]]) -> list[Area]:
    """Column spans by row → rectangles: consecutive rows with the same spans become one.

    >>> rectangles({4: ((1, 3),), 5: ((1, 3),), 7: ((2, 2), (5, 6))})
    [(4, 1, 5, 3), (7, 2, 7, 2), (7, 5, 7, 6)]
    """
    out: list[Area] = []
    open_: dict[tuple[int, int], int] = {}  # span → index in out, for the rectangles still growing
    prev_row, prev_spans = None, ()
    for r in sorted(rows):
        spans = rows[r]
        if prev_row is not None and r == prev_row + 1 and spans == prev_spans:
            for span in spans:
                i = open_[span]
                t, l, _, rr = out[i]
                out[i] = (t, l, r, rr)
        else:
            open_ = {}
            for c1, c2 in spans:
                open_[(c1, c2)] = len(out)
                out.append((r, c1, r, c2))
        prev_row, prev_spans = r, spans
    return out


def spans(cols: list[int]) -> tuple[tuple[int, int], ...]:
    """Sorted column numbers → runs: [1, 2, 3, 5] → ((1, 3), (5, 5))."""
    out: list[list[int]] = []
    for c in cols:
        if out and c == out[-1][1] + 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return tuple((a, b) for a, b in out)


def address(a: Area) -> str:
    t, l, b, r = a
    first = f"{col_letter(l)}{t}"
    return first if (t, l) == (b, r) else f"{first}:{col_letter(r)}{b}"


def chunks(addresses: list[str], limit: int = LIMIT) -> list[str]:
    """Comma-joined address lists of at most ``limit`` characters (Excel's Range() limit)."""
    out: list[str] = []
    cur = ""
    for a in addresses:
        if cur and len(cur) + 1 + len(a) > limit:
            out.append(cur)
            cur = a
        else:
            cur = f"{cur},{a}" if cur else a
    if cur:
        out.append(cur)
    return out


def _paint(ws, areas: list[Area], setters: list[Callable[[Any], None]], to_text=address) -> int:
    n = 0
    for chunk in chunks([to_text(a) for a in areas]):
        rng = ws.Range(chunk)
        for s in setters:
            s(rng)
        n += 1
    return n


# ---- formats ------------------------------------------------------------------------------------
def _cell_styles(lay: Layout) -> dict[int, dict[int, str]]:
    """row → {col: style key}: the layout's cells, plus every cell of a merged area styled as its
    top-left cell (so a box drawn around a merged area is closed), plus a date format for date
    values whose style has none (as the file books write them)."""
    rows: dict[int, dict[int, str]] = {}
    for (r, c), (v, st) in lay.cells.items():
        key = st
        if isinstance(v, dt.date) and not STYLES.get(st, {}).get("format"):
            key = st + "\x00date"
        rows.setdefault(r, {})[c] = key
    for r1, c1, r2, c2 in lay.merges:
        key = rows.get(r1, {}).get(c1)
        if key is None:
            continue
        for r in range(r1, r2 + 1):
            row = rows.setdefault(r, {})
            for c in range(c1, c2 + 1):
                row.setdefault(c, key)
    return rows


def _attrs_of(key: str) -> dict[str, Any]:
    name, _, date = key.partition("\x00")
    a = _style_attrs(name)
    if date:
        a["NumberFormat"] = "yyyy-mm-dd"
    return a


def paint_formats(ws, lay: Layout) -> None:
    """Every format attribute of the layout's cells, one attribute at a time (see module doc)."""
    cells = _cell_styles(lay)
    if not cells:
        return
    keys = {k for row in cells.values() for k in row.values()}
    attrs = {k: _attrs_of(k) for k in keys}
    sorted_rows = {r: sorted(row.items()) for r, row in cells.items()}
    for attr, fresh in FRESH.items():
        value_of = {k: a[attr] for k, a in attrs.items()}
        if all(v == fresh for v in value_of.values()):
            continue
        # row → [(col, value)] in column order
        by_value: dict[Any, dict[int, list[int]]] = {}
        for r, row in sorted_rows.items():
            for c, k in row:
                by_value.setdefault(value_of[k], {}).setdefault(r, []).append(c)
        plan_a = {v: rectangles({r: spans(cs) for r, cs in rows.items()})
                  for v, rows in by_value.items() if v != fresh}
        cost_a = sum(len(chunks([address(a) for a in rects])) for rects in plan_a.values())
        plan = [(v, rects) for v, rects in plan_a.items()]
        if attr != "Borders" and len(plan_a) >= 1:
            dominant = max(plan_a, key=lambda v: sum(len(cs) for cs in by_value[v].values()))
            t = min(min(rows) for v, rows in by_value.items() if v != fresh)
            b = max(max(rows) for v, rows in by_value.items() if v != fresh)
            l = min(min(cs) for v, rows in by_value.items() if v != fresh for cs in rows.values())
            r = max(max(cs) for v, rows in by_value.items() if v != fresh for cs in rows.values())
            exceptions: dict[Any, dict[int, list[int]]] = {}
            for row in range(t, b + 1):
                got = dict(sorted_rows.get(row, ()))
                for c in range(l, r + 1):
                    k = got.get(c)
                    if k is None:
                        if attr not in _SHOWN_EMPTY:
                            continue  # an empty cell: its font or alignment shows nothing
                        v = fresh
                    else:
                        v = value_of[k]
                    if v != dominant:
                        exceptions.setdefault(v, {}).setdefault(row, []).append(c)
            plan_b = [(dominant, [(t, l, b, r)])] + [(v, rectangles({rr: spans(cs) for rr, cs in rows.items()}))
                                                   for v, rows in exceptions.items()]
            cost_b = sum(len(chunks([address(a) for a in rects])) for _, rects in plan_b)
            if cost_b < cost_a:
                plan = plan_b
        for v, rects in plan:
            _paint(ws, rects, [_setter(attr, v)])


# ---- the sheet ----------------------------------------------------------------------------------
def _link_formula(target: str, shown: Any, external: bool = False) -> str:
    """An internal link as a HYPERLINK formula: '=HYPERLINK("#\'报修台账\'!A7","报修台账")';
    ``external``: ``target`` is a web address or file path (no ``#``). Both are string literals
    in the formula, quotes doubled: staff's text never becomes part of the formula's code."""
    t = (target if external else "#" + target).replace('"', '""')
    if shown is None or shown == "":
        return f'=HYPERLINK("{t}")'
    if isinstance(shown, (int, float)) and not isinstance(shown, bool):
        return f'=HYPERLINK("{t}",{shown})'
    # a line break inside the shown text (several photo paths) as CHAR(10), not a raw line feed
    text = str(shown).replace(chr(34), chr(34) * 2).replace("\r\n", "\n").replace("\n", '"&CHAR(10)&"')
    return f'=HYPERLINK("{t}","{text}")'


def clear_sheet(ws) -> None:
    """Empty a sheet the job regenerates, keeping the sheet itself (its tab, code name, and the
    references other sheets make to it): cells, formats, merges, links, outline, sizes, filter,
    charts."""
    cells = ws.Cells
    cells.Clear()
    cells.ClearOutline()
    with contextlib.suppress(Exception):
        ws.Hyperlinks.Delete()
    ws.Rows.UseStandardHeight = True
    ws.Columns.UseStandardWidth = True
    ws.AutoFilterMode = False
    charts = ws.ChartObjects()
    if charts.Count:
        charts.Delete()
    ws.ResetAllPageBreaks()  # the old layout's manual page breaks


def set_widths(ws, widths: dict[int, float]) -> None:
    """Column widths: one call per group of columns of the same width."""
    by_width: dict[float, list[int]] = {}
    for c, w in widths.items():
        by_width.setdefault(w, []).append(c)
    for w, cols in by_width.items():
        _paint(ws, [(0, a, 0, b) for a, b in spans(sorted(cols))], [_setter("ColumnWidth", w)],
               to_text=lambda a: f"{col_letter(a[1])}:{col_letter(a[3])}")


def set_heights(ws, heights: dict[int, float]) -> None:
    """Row heights: one call per group of rows of the same height."""
    by_height: dict[float, list[int]] = {}
    for r, h in heights.items():
        by_height.setdefault(h, []).append(r)
    for h, rows in by_height.items():
        _paint(ws, [(a, 0, b, 0) for a, b in spans(sorted(rows))], [_setter("RowHeight", h)],
               to_text=lambda a: f"{a[0]}:{a[2]}")


def _fit_rows(ws, lay: Layout) -> dict[int, float]:
    """Rows whose height the layout only estimated for wrapped text are fitted by Excel itself,
    exactly and in one ``AutoFit`` over their rows (Excel does not fit a row to a merged cell, so
    rows with merged cells keep the estimate); returns the heights still to set."""
    merged_rows = {r for r1, _, r2, _ in lay.merges for r in range(r1, r2 + 1)}
    fitted = {r for r in lay.fitted_rows if r in lay.heights and r not in merged_rows}
    if fitted:
        ws.Range(f"{min(fitted)}:{max(fitted)}").Rows.AutoFit()
    # set after the fit: rows of the fitted span that have a height of their own keep it
    return {r: h for r, h in lay.heights.items() if r not in fitted}


def render(ws, lay: Layout, app=None) -> None:
    """Write ``lay`` on the COM worksheet ``ws`` (new, or emptied by :func:`clear_sheet`).
    ``app``: the COM Application (print settings in one go, the window for freeze panes)."""
    nr, nc = lay.max_row, lay.max_col
    if nr and nc:
        grid: list[list[Any]] = [[""] * nc for _ in range(nr)]
        for (r, c), (v, _st) in lay.cells.items():
            target = lay.links.get((r, c))
            url = lay.urls.get((r, c)) if target is None else None
            if url and isinstance(v, str) and len(v) > 255:  # HYPERLINK's text argument: ≤ 255
                url = None
            grid[r - 1][c - 1] = (_link_formula(target, v) if target else
                                  _link_formula(url, v, external=True) if url else excel_value(v))
        ws.Range(address((1, 1, nr, nc))).Value = grid
    paint_formats(ws, lay)
    if lay.merges:
        _paint(ws, list(lay.merges), [lambda rng: rng.Merge()])
    if lay.widths:
        set_widths(ws, lay.widths)
    if lay.heights:
        set_heights(ws, _fit_rows(ws, lay))
    _outline(ws, lay)
    _page_setup(ws, lay, app)
    if lay.autofilter:
        ws.Range(lay.autofilter).AutoFilter()
    for v in lay.validations:
        val = ws.Range(v.ref).Validation
        val.Delete()
        alert = 1 if v.strict else 2  # xlValidAlertStop, xlValidAlertWarning
        if v.kind == "date":
            from pyfuncs.schema import DATE_VALID

            val.Add(4, alert, 1, "=" + DATE_VALID[0], "=" + DATE_VALID[1])  # xlValidateDate, xlBetween
        else:
            val.Add(3, alert, 1, v.source or ",".join(v.choices))  # xlValidateList, xlBetween
        if v.error:
            val.ErrorMessage = v.error
            val.ShowError = True
        if v.prompt:
            val.InputMessage = v.prompt
            val.ShowInput = True
    for cf in lay.cond_fills:
        cond = ws.Range(cf.ref).FormatConditions.Add(Type=2, Formula1="=" + cf.formula.lstrip("="))  # xlExpression
        cond.Interior.Color = bgr(cf.fill)
    if lay.freeze and app is not None:
        with contextlib.suppress(Exception):  # a window that cannot be frozen is no reason to fail
            r, c, _, _ = parse_ref(lay.freeze)
            ws.Activate()
            win = app.ActiveWindow
            win.FreezePanes = False
            win.ScrollRow = 1
            win.ScrollColumn = 1
            win.SplitRow = r - 1
            win.SplitColumn = c - 1
            win.FreezePanes = True
    for spec in lay.charts:
        with contextlib.suppress(Exception):  # a chart Excel refuses must not lose the data above
            _chart(ws, spec)


def _outline(ws, lay: Layout) -> None:
    if not lay.outline:
        return
    top = max(lay.outline.values())
    for level in range(1, top + 1):
        rows = sorted(r for r, lv in lay.outline.items() if lv >= level)
        for a, b in spans(rows):
            ws.Range(f"{a}:{b}").Group()
    ws.Outline.SummaryRow = 1  # xlSummaryBelow


def _page_setup(ws, lay: Layout, app) -> None:
    """Print settings; Excel asks the printer driver on each one unless PrintCommunication is off."""
    quiet = False
    if app is not None:
        with contextlib.suppress(Exception):
            app.PrintCommunication = False
            quiet = True
    try:
        ps = ws.PageSetup
        ps.PaperSize = 9  # xlPaperA4
        ps.Orientation = 2 if lay.orientation == "landscape" else 1
        if lay.fit_width or lay.fit_height:
            ps.Zoom = False
            ps.FitToPagesWide = 1 if lay.fit_width else False
            ps.FitToPagesTall = 1 if lay.fit_height else False
        inch = 72.0
        left, right, top, bottom = lay.margins
        ps.LeftMargin, ps.RightMargin = left * inch, right * inch
        ps.TopMargin, ps.BottomMargin = top * inch, bottom * inch
        ps.HeaderMargin = ps.FooterMargin = 0.25 * inch  # as pyfuncs.io.layout_openpyxl.FOOTER_MARGIN
        ps.CenterHorizontally = lay.center_horizontally
        if lay.print_title_rows:
            ps.PrintTitleRows = "$" + lay.print_title_rows.replace(":", ":$")
        if lay.print_area:
            ps.PrintArea = lay.print_area
        if lay.footer:
            ps.CenterFooter = lay.footer
        if lay.header:
            ps.CenterHeader = lay.header
        for r in lay.row_breaks:
            ws.HPageBreaks.Add(ws.Range(f"A{r}"))  # a new page starts at row r
    except Exception as e:  # noqa: BLE001 - no printer installed: Excel refuses page setup; not fatal
        from pyfuncs.io.xlbook import _com_error

        if not _com_error(e):
            raise
    finally:
        if quiet:
            with contextlib.suppress(Exception):
                app.PrintCommunication = True


def _chart(ws, spec: ChartSpec) -> None:
    cm = 28.35
    anchor = ws.Range(spec.anchor)
    chart = ws.ChartObjects().Add(anchor.Left, anchor.Top, spec.width * cm, spec.height * cm).Chart
    cats = address((spec.cats[1] - 1, spec.cats[0], spec.cats[3], spec.cats[2]))  # with the header row
    data = [address((spec.data[1], spec.data[0], spec.data[3], spec.data[2]))]
    if spec.kind == "bar+line" and spec.line_data:
        data.append(address((spec.line_data[1], spec.line_data[0], spec.line_data[3], spec.line_data[2])))
    chart.SetSourceData(ws.Range(",".join([cats, *data])), 2)  # xlColumns
    types = {"bar": 58 if spec.stacked else 57, "col": 52 if spec.stacked else 51, "line": 4, "bar+line": 51}
    chart.ChartType = types.get(spec.kind, 51)
    if spec.kind == "bar+line" and spec.line_data:
        first = spec.data[2] - spec.data[0] + 2
        for i in range(first, first + spec.line_data[2] - spec.line_data[0] + 1):
            s = chart.SeriesCollection(i)
            s.ChartType = 4  # xlLine
            s.AxisGroup = 2  # xlSecondary
    chart.HasTitle = True
    chart.ChartTitle.Text = spec.title
    chart.HasLegend = True
    chart.Legend.Position = -4107  # xlLegendPositionBottom
    for kind, group, title in ((1, 1, spec.x_title), (2, 1, spec.y_title),
                               (2, 2, spec.line_axis_title if spec.kind == "bar+line" else "")):
        if title:
            axis = chart.Axes(kind, group)
            axis.HasTitle = True
            axis.AxisTitle.Text = title
    with contextlib.suppress(Exception):  # every category labelled, the rate axis ends at 100%
        cat = chart.Axes(1, 1)  # xlCategory
        cat.TickLabelSpacing = spec.label_every
        cat.TickMarkSpacing = spec.label_every
        if spec.y_max is not None:
            chart.Axes(2, 1).MaximumScale = spec.y_max
