"""Printable sheet layouts: a small declarative description of a generated sheet.

The generated sheets (the year's plan, the 统计 report, the printed forms, 检查结果, 自检结果) are
described as a :class:`Layout` — cells with named styles, merges, widths, print setup, row outline
levels, internal links, dropdowns, conditional fills, native charts — and handed to
:meth:`pyfuncs.io.book.Book.put_sheet`. Each Book renders it its own way (a file book through a
scratch workbook grafted into the package, the live workbook through block COM calls), so the jobs
never know which writer is behind the book, and tests can assert on the description as well as on
the file.

A plain ``str`` value is always text, whatever it starts with; only
:class:`pyfuncs.io.book.Formula` values are formulas.

Example::

    >>> lay = Layout("demo", orientation="portrait")
    >>> lay.put(1, 1, "标题", "title")
    >>> lay.merge(1, 1, 1, 4)
    >>> lay.cells[(1, 1)]
    ('标题', 'title')
"""
from __future__ import annotations

import datetime as dt
import re
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
    "money": {"border": True, "align": "right", "format": "#,##0.00"},
    "changed": {"border": True, "wrap": True, "fill": "FCE4D6"},
    "changed_date": {"border": True, "align": "center", "format": "yyyy-mm-dd", "fill": "FCE4D6"},
    "subtotal": {"bold": True, "fill": "F2F2F2", "border": True},
    "section": {"bold": True, "size": 12, "fill": "DDEBF7"},
    "note": {"size": 9, "italic": True},
    "notice": {"size": 9, "wrap": True, "valign": "top", "color": "9C0006"},
    "label": {"bold": True, "border": True, "align": "center", "valign": "center", "wrap": True, "fill": "F2F2F2"},
    "value": {"border": True, "wrap": True, "valign": "center"},
    "box": {"border": True, "wrap": True, "valign": "top"},
    "sign": {"border": True, "valign": "bottom", "wrap": True},
    "text": {"wrap": True, "valign": "top"},
    "right": {"align": "right", "wrap": True},
    "good": {"border": True, "align": "center", "fill": "C6EFCE"},
    "bad": {"border": True, "align": "center", "fill": "FFC7CE"},
    "warn": {"border": True, "align": "center", "fill": "FFEB9C"},
    "muted": {"border": True, "align": "center", "fill": "EDEDED"},
    "link": {"border": True, "wrap": True, "valign": "center", "color": "0563C1", "underline": True},
    "sign_label": {"bold": True, "valign": "bottom"},
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
    #: the value axis's maximum (e.g. 1 for a rate shown as a percentage: no 120% gridline)
    y_max: float | None = None
    #: label every n-th category (1: every bar keeps its label; Excel and LibreOffice skip some when
    #: they think the axis is crowded)
    label_every: int = 1
    #: the first row of the block the chart belongs to (its section title): a page break goes
    #: before it when the chart would otherwise straddle a page break (see :func:`keep_charts_on_page`)
    keep_from: int | None = None

    @property
    def anchor_row(self) -> int:
        """The row of the chart's top-left corner: ``ChartSpec("col", "t", "E12", ...).anchor_row == 12``."""
        return int("".join(ch for ch in self.anchor if ch.isdigit()))


@dataclass(frozen=True)
class Validation:
    """A dropdown on ``ref`` (e.g. ``"L4:L200"``): a list of ``choices``, or a list ``source``
    formula such as ``"=员工名单"`` (a defined name) or ``"=$A$2:$A$9"``."""

    ref: str
    choices: tuple[str, ...] = ()
    source: str | None = None
    prompt: str = ""
    #: "list" (a dropdown) or "date" (a date between :data:`pyfuncs.schema.DATE_VALID`)
    kind: str = "list"
    #: what Excel says when it refuses (or, not ``strict``, questions) a value
    error: str = ""
    #: refuse a value outside the list (else Excel warns and lets staff keep it)
    strict: bool = True


@dataclass(frozen=True)
class CondFill:
    """A conditional fill: cells of ``ref`` get background ``fill`` (hex RGB) where ``formula``
    (written for the top-left cell, Excel-style relative references) is true."""

    ref: str
    formula: str
    fill: str


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
    links: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) → "'报修台账'!A7"
    #: external hyperlinks: (row, col) → a web address or file path (see :func:`link_target`)
    urls: dict[tuple[int, int], str] = field(default_factory=dict)
    validations: list[Validation] = field(default_factory=list)
    cond_fills: list[CondFill] = field(default_factory=list)
    print_area: str | None = None
    #: manual page breaks: a new printed page starts at each of these rows
    row_breaks: list[int] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)  # what a job wants to report about the layout
    #: rows whose height :func:`fit_row_heights` estimated from wrapped text (live Excel re-fits
    #: those itself, exactly, where no merged cell is involved)
    fitted_rows: set[int] = field(default_factory=set)

    def put(self, row: int, col: int, value: Any, style: str = "plain") -> None:
        self.cells[(row, col)] = (value, style)

    def link(self, row: int, col: int, sheet: str, cell: str = "A1") -> None:
        """Make (row, col) an internal hyperlink to ``cell`` on ``sheet``."""
        self.links[(row, col)] = "'" + sheet.replace("'", "''") + "'!" + cell

    def url(self, row: int, col: int, target: str) -> bool:
        """Make (row, col) a hyperlink to a web address or file path, if ``target`` is one
        (:func:`link_target`); returns whether it did. The cell's value stays what was put."""
        t = link_target(target)
        if t is not None:
            self.urls[(row, col)] = t
        return t is not None

    def merge(self, r1: int, c1: int, r2: int, c2: int) -> None:
        if (r1, c1) != (r2, c2):
            self.merges.append((r1, c1, r2, c2))

    @property
    def max_row(self) -> int:
        return max((r for r, _ in self.cells), default=0)

    @property
    def max_col(self) -> int:
        return max((c for _, c in self.cells), default=0)


#: what a photo link may be: a web address, a file:// address, a Windows path (D:\…, \\server\…)
#: or a relative path (照片\a.jpg); never a formula or another scheme (javascript:, cmd|…)
_URL = re.compile(r"^(?:https?://[^\s\"<>]+|file:///?[^\"<>|]+|[A-Za-z]:[\\/][^\"<>|:*?]*|\\\\[^\\/\"<>|:*?]+[\\/][^\"<>|:*?]*"
                  r"|[^=+\-@\s\"<>|:*?][^\"<>|:*?]*)$")
#: Excel's HYPERLINK takes an address of at most 255 characters
MAX_LINK = 255


def link_target(text) -> str | None:
    r"""The address a staff-typed photo cell may link to, or None (then the cell stays plain text).

    >>> link_target(" https://pan.example.com/s/1a2b "), link_target(r"\\nas\照片\BX2026-0001.jpg")
    ('https://pan.example.com/s/1a2b', '\\\\nas\\照片\\BX2026-0001.jpg')
    >>> link_target(r"D:\照片\a.jpg"), link_target("照片/a.jpg")
    ('D:\\照片\\a.jpg', '照片/a.jpg')
    >>> [link_target(t) for t in ('=HYPERLINK("http://evil.example","点我")', "javascript:alert(1)", "cmd|' /C calc'!A0", "")]
    [None, None, None, None]
    """
    if not isinstance(text, str):
        return None
    t = text.strip()
    if not t or len(t) > MAX_LINK or "\n" in t or not _URL.match(t):
        return None
    return t


@lru_cache(maxsize=65536)  # a plan repeats the same names, kinds and parts thousands of times
def text_width(s: str) -> float:
    """Display width in Excel character units: CJK and full-width characters count 2.

    >>> text_width("回访 A1")
    7
    """
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in s)


def fit_row_heights(lay: Layout, rows: list[int] | None = None, line: float = 16.0) -> None:
    """Set row heights so wrapped text shows in full when printed (Excel and LibreOffice do not
    re-fit rows of a generated file). A row keeps a larger height already set. A line is 16 points:
    a CJK font's line at 11 points (宋体, or Noto Sans CJK where LibreOffice prints) is taller than
    Calibri's 15."""
    import math

    span = {}
    for r1, c1, r2, c2 in lay.merges:
        if r1 == r2:
            span[(r1, c1)] = sum(lay.widths.get(c, 8.43) for c in range(c1, c2 + 1))
    need: dict[int, int] = {}
    wanted = set(rows) if rows is not None else None  # a list lookup per cell was quadratic
    # the styles that wrap, and their font scale (most cells of a big sheet do not wrap)
    wraps = {name: s.get("size", 11) / 11 for name, s in STYLES.items() if s.get("wrap")}
    for (r, c), (v, st) in lay.cells.items():
        scale = wraps.get(st)
        if scale is None or wanted is not None and r not in wanted:
            continue
        if not isinstance(v, str) or not v or v.startswith("="):
            continue
        width = max(span.get((r, c), lay.widths.get(c, 8.43)) - 1, 2)
        n = sum(max(1, math.ceil(text_width(part) * scale / width)) for part in v.split("\n"))
        need[r] = max(need.get(r, 1), n)
    for r, n in need.items():
        if n > 1 or r not in lay.heights:
            h = round(line * n + 3, 1) if n > 1 else None
            if h and h > lay.heights.get(r, 0):
                lay.heights[r] = h
                lay.fitted_rows.add(r)


#: A4 in points (portrait width, height); a column of width w (Excel characters) is about
#: ``w * 7 + 5`` pixels = ``(w * 7 + 5) * 0.75`` points.
A4 = (595.0, 842.0)


def page_rows(lay: Layout, default_height: float = 15.0, footer_room: float = 36.0) -> list[int]:
    """The rows at which each printed page starts (estimated, fit-to-width scaling and the manual
    breaks of ``lay.row_breaks`` included). Excel and LibreOffice paginate alike to within a row
    or two; the estimate is used to keep charts off page breaks.

    >>> lay = Layout("x", orientation="portrait", fit_width=False)
    >>> for r in range(1, 101):
    ...     lay.put(r, 1, r)
    >>> page_rows(lay)[:3]
    [1, 48, 95]
    """
    w, h = A4 if lay.orientation == "portrait" else (A4[1], A4[0])
    left, right, top, bottom = lay.margins
    width = w - (left + right) * 72
    height = h - (top + bottom) * 72 - footer_room
    cols = range(1, max(lay.max_col, max(lay.widths, default=0)) + 1)
    sheet_width = sum((lay.widths.get(c, 8.43) * 7 + 5) * 0.75 for c in cols)
    scale = min(1.0, width / sheet_width) if lay.fit_width and sheet_width else 1.0
    room = height / scale
    last = max(lay.max_row, max((c.anchor_row + int(c.height / 0.529) for c in lay.charts), default=0))
    starts, used = [1], 0.0
    breaks = set(lay.row_breaks)
    for r in range(1, last + 1):
        rh = lay.heights.get(r, default_height)
        if r != starts[-1] and (r in breaks or used + rh > room):
            starts.append(r)
            used = 0.0
        used += rh
    return starts


def keep_charts_on_page(lay: Layout, row_heights: tuple[float, ...] = (15.0, 18.0, 21.0)) -> None:
    """Add a page break before a chart's block (``keep_from``, else its anchor row) wherever the
    chart could straddle a page break. Rows without a set height are as tall as the font makes
    them (15 points in Calibri, about 18 in a CJK font), so every height of ``row_heights`` is
    tried: the break goes in if the chart straddles a page break under any of them."""
    for default_height in row_heights:
        _keep_charts(lay, default_height)


def _keep_charts(lay: Layout, default_height: float) -> None:
    import bisect

    for ch in sorted(lay.charts, key=lambda c: c.anchor_row):
        starts = page_rows(lay, default_height)
        top = ch.anchor_row
        rows, need = top, ch.height * 28.35
        while need > 0:
            need -= lay.heights.get(rows, default_height)
            rows += 1
        bottom = rows - 1
        page = bisect.bisect_right(starts, top) - 1
        nxt = starts[page + 1] if page + 1 < len(starts) else None
        if nxt is not None and nxt <= bottom:
            at = ch.keep_from or top
            if at > starts[page] and at not in lay.row_breaks:
                lay.row_breaks.append(at)
    lay.row_breaks.sort()
