"""Render a :class:`~pyfuncs.layout.Layout` in live Excel through xlwings (the ribbon's book).

Not exercised in Excel by the tests (no Excel on the build machine).
"""
from __future__ import annotations

from typing import Any

from pyfuncs.layout import STYLES, ChartSpec, Layout

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


