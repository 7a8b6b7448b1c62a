"""The live workbook in Excel: the ribbon's :class:`~pyfuncs.io.book.Book`, in whole blocks.

Every crossing into Excel is a COM round trip (0.05–1 ms each, and Excel is frozen meanwhile), so
this class talks to Excel's own objects (``Workbook``, ``Worksheet``, ``Range``, ``ListObject``)
directly, never through xlwings' ``Range`` wrappers (one ``Range.value =`` there costs about 118
round trips), and only in blocks:

- a read is one ``Range(...).Value`` of the whole rectangle;
- a write is one ``Range(...).Value =`` of the whole rectangle, plus one ``NumberFormat`` per run
  of columns sharing a format;
- scattered cells (:meth:`Book.write_cells`, e.g. the overdue days that moved overnight on 2,000
  of 20,000 tickets) are written as one block per column run, from the first changed row to the
  last: the unchanged cells in between get the value this book read from them moments before.
  Cells it cannot rewrite exactly (formulas, error values, merged cells, cells it never read)
  split the block instead;
- sheet names, table ranges, used ranges and merged areas are asked once per job and kept.

So the cost of a job does not grow with the number of rows (``tests/test_xlbook.py`` counts it
under the real xlwings code with the recording fake of :mod:`pyfuncs.comfake`;
``python -m pyfuncs.bench`` prints the counts).

Text is always written as text: Excel parses a string set as ``Value`` as if it were typed
(``"=..."``, ``"-x"``, ``"@x"`` become formulas, ``"0012"`` the number 12, ``"2026-11-21"`` a
date), so a string Excel would change gets a leading apostrophe (:func:`excel_value`), which Excel
keeps as the cell's prefix, not as part of the value. Only :class:`~pyfuncs.io.book.Formula`
values are entered as formulas. (A text number format ``"@"`` would do the same, but it sticks to
the cell: a formula staff type there later would stay text, and it overrides the format staff chose
for their column; the apostrophe changes nothing but that one value.)

:meth:`XlBook.busy` switches off screen updating, events and alerts, sets calculation to manual
and shows the wait cursor for a job, and restores every one of them (and the status bar) when the
job ends, also when it fails. Saving is left to staff (Excel's own Save), as with any other edit.

Excel for Windows only (COM); nothing here imports xlwings: it comes in with the book.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import sys
from typing import Any, Iterator

from pyfuncs.io.book import Book, BookError, Formula, Ref, col_number, format_ref, parse_ref, to_cell

XL_CALCULATION_MANUAL = -4135
XL_WAIT = 2
XL_CELL_TYPE_FORMULAS = -4123
UTC = dt.timezone.utc
#: what a job switches off (or on) while it runs, in the order it does so
JOB_STATE = (("ScreenUpdating", False), ("EnableEvents", False), ("DisplayAlerts", False),
             ("Calculation", XL_CALCULATION_MANUAL), ("Cursor", XL_WAIT))
#: the values COM gives for error cells (pywin32 gives VT_ERROR as its integer code)
ERROR_TEXT = {-2146826288: "#NULL!", -2146826281: "#DIV/0!", -2146826273: "#VALUE!", -2146826265: "#REF!",
              -2146826259: "#NAME?", -2146826252: "#NUM!", -2146826246: "#N/A", -2146826245: "#GETTING_DATA"}
#: CJK characters Excel reads as part of a date or time ("2026年11月21日", "下午3时")
_DATE_CJK = set("年月日时時分秒上下午")


def _is_plain_text(s: str) -> bool:
    """True when Excel keeps ``s`` exactly as it is when it is set as a cell's value: it does not
    start like a formula, an error value or a signed number, is not TRUE/FALSE, and, if it has a
    digit, also has a CJK character that no number or date contains (e.g. "超期3天")."""
    if s[0] in "=+-@'#" or s[0].isspace() or s[-1].isspace():
        return False
    if s.upper() in ("TRUE", "FALSE"):
        return False
    if not any(ch.isdigit() for ch in s):
        return True
    return any(("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff") and ch not in _DATE_CJK for ch in s)


def excel_value(v: Any) -> Any:
    """A cell value as it must be given to Excel's ``Range.Value`` (pywin32 marshals it).

    >>> excel_value("=cmd|' /C calc'!A0"), excel_value("超期3天"), excel_value("0012")
    ("'=cmd|' /C calc'!A0", '超期3天', "'0012")
    >>> excel_value(Formula("=1+1")), excel_value(None), excel_value(dt.date(2026, 11, 21))
    ('=1+1', '', datetime.datetime(2026, 11, 21, 0, 0, tzinfo=datetime.timezone.utc))
    """
    if isinstance(v, Formula):
        return str(v)
    v = to_cell(v)
    t = type(v)
    if v is None:
        return ""
    if t is str:
        return v if _is_plain_text(v) else "'" + v
    if t is dt.date:
        return dt.datetime(v.year, v.month, v.day, tzinfo=UTC)
    if isinstance(v, dt.datetime):
        return v if v.tzinfo is not None else v.replace(tzinfo=UTC)
    return v


def python_value(v: Any) -> Any:
    """A value as COM gives it → what the jobs read (dates as date/datetime, whole numbers as int,
    error cells as their text such as "#N/A", empty as None)."""
    t = type(v)
    if v is None or t is bool:
        return v
    if t is float:
        return int(v) if v.is_integer() and abs(v) < 2**53 else v
    if t is str:
        return v if v != "" else None
    if isinstance(v, dt.datetime):
        v = v.replace(tzinfo=None)
        return v.date() if v.time() == dt.time() else v
    if isinstance(v, int):
        return ERROR_TEXT.get(v, "#错误")
    if isinstance(v, decimal.Decimal):
        return python_value(float(v))
    return v


def _column_runs(by_col: dict[int, Any]) -> list[list[int]]:
    """Adjacent columns with equal values, in column order.

    >>> _column_runs({1: "a", 2: "a", 3: "b", 5: "b"})
    [[1, 2], [3], [5]]
    """
    runs: list[list[int]] = []
    for c in sorted(by_col):
        if runs and c == runs[-1][-1] + 1 and by_col[c] == by_col[runs[-1][0]]:
            runs[-1].append(c)
        else:
            runs.append([c])
    return runs


class _Unsafe:
    """A cell this book must not rewrite from what it read (an error value)."""


UNSAFE = _Unsafe()


def _rows_of(vals: Any) -> tuple:
    """COM gives a one-cell range's Value as a scalar, a larger one as rows of tuples."""
    return vals if isinstance(vals, tuple) else ((vals,),)


def _address(t: int, l: int, b: int, r: int) -> str:
    return format_ref((t, l, b, r))


def _parse_address(addr: str) -> list[Ref]:
    """An address COM gives → refs: ``"$A$1:$B$2,$D$4"``; whole rows (``"$3:$5"``) and columns
    (``"$A:$C"``) reach the sheet's edge.

    >>> _parse_address("$A$1:$B$2,$D$4"), _parse_address("$3:$5"), _parse_address("$B:$C")
    ([(1, 1, 2, 2), (4, 4, 4, 4)], [(3, 1, 5, 16384)], [(1, 2, 1048576, 3)])
    """
    out = []
    for part in addr.replace("$", "").split(","):
        a, _, b = part.partition(":")
        if a.isdigit():
            out.append((int(a), 1, int(b or a), 16384))
        elif a.isalpha():
            out.append((1, col_number(a), 1048576, col_number(b or a)))
        else:
            out.append(parse_ref(part))
    return out


def _com_error(e: BaseException) -> bool:
    """Is ``e`` a COM error (``pywintypes.com_error``, whichever pywintypes xlwings imported)?"""
    xw = sys.modules.get("xlwings._xlwindows")
    cls = getattr(getattr(xw, "pywintypes", None), "com_error", None)
    return (cls is not None and isinstance(e, cls)) or type(e).__name__ == "com_error"


class XlBook(Book):
    """A workbook open in Excel, e.g. ``XlBook(xw.Book.caller())`` in a RunPython macro."""

    def __init__(self, xw_book):
        self.xb = xw_book
        self.wb = xw_book.api  # the COM Workbook
        self.path = None
        self.dirty = False
        self._app = None
        self._names: list[str] | None = None
        self._ws: dict[str, Any] = {}
        self._tables: dict[tuple[str, str], list] = {}
        self._extent: dict[str, tuple[int, int]] = {}
        self._merged: dict[str, list[Ref]] = {}
        self._blocks: dict[str, list[tuple[Ref, list[list[Any]]]]] = {}

    @classmethod
    def caller(cls) -> "XlBook":
        import xlwings as xw

        return cls(xw.Book.caller())

    @property
    def app(self):
        """The COM Application."""
        if self._app is None:
            self._app = self.wb.Application
        return self._app

    # ---- the job's application state -------------------------------------------------------------
    @contextlib.contextmanager
    def busy(self) -> Iterator["XlBook"]:
        """Screen updating, events and alerts off, calculation manual, the wait cursor, while the
        block runs; each restored afterwards (also when the block raises), then the status bar.
        Restoring automatic calculation recalculates what the job changed."""
        app = self.app
        saved = []
        for name, value in JOB_STATE:
            try:
                before = getattr(app, name)
                if before != value:
                    setattr(app, name, value)
                    saved.append((name, before))
            except Exception:  # noqa: BLE001 - e.g. Calculation with a cell in edit mode: go on without
                pass
        try:
            status = app.StatusBar
        except Exception:  # noqa: BLE001
            status = False
        try:
            yield self
        finally:
            for name, before in reversed(saved):
                with contextlib.suppress(Exception):
                    setattr(app, name, before)
            with contextlib.suppress(Exception):
                app.StatusBar = status if isinstance(status, str) and status else False

    # ---- sheets ----------------------------------------------------------------------------------
    def _load_sheets(self) -> list[str]:
        if self._names is None:
            names, sheets = [], {}
            for ws in self.wb.Worksheets:
                name = ws.Name
                names.append(name)
                sheets[name] = ws
            self._names, self._ws = names, sheets
        return self._names

    def sheet_names(self) -> list[str]:
        return list(self._load_sheets())

    def _find(self, sheet: str) -> str | None:
        names = self._load_sheets()
        if sheet in self._ws:
            return sheet
        low = sheet.lower()  # Excel's sheet names ignore case
        return next((n for n in names if n.lower() == low), None)

    def has_sheet(self, name: str) -> bool:
        return self._find(name) is not None

    def _sh(self, sheet: str):
        name = self._find(sheet)
        if name is None:
            raise BookError(f"工作簿中没有工作表「{sheet}」")
        return self._ws[name]

    def _forget(self, sheet: str | None = None) -> None:
        """Drop what is known of ``sheet`` (all sheets: None), e.g. after it was replaced."""
        if sheet is None:
            self._names = None
            self._ws = {}
            self._tables.clear()
            self._extent.clear()
            self._merged.clear()
            self._blocks.clear()
            return
        for cache in (self._extent, self._merged, self._blocks):
            cache.pop(sheet, None)
        for key in [k for k in self._tables if k[0] == sheet]:
            del self._tables[key]

    @contextlib.contextmanager
    def _no_alerts(self) -> Iterator[None]:
        app = self.app
        try:
            before = app.DisplayAlerts
        except Exception:  # noqa: BLE001
            before = False
        if before:
            app.DisplayAlerts = False
        try:
            yield
        finally:
            if before:
                with contextlib.suppress(Exception):
                    app.DisplayAlerts = before

    def new_sheet(self, name: str, template: str | None = None, index: int | None = None) -> None:
        names = self.sheet_names()
        old = self._find(name)
        pos = names.index(old) if old is not None else None
        with self._no_alerts():
            if old is not None:
                self._ws[old].Delete()
                names.remove(old)
            pos = index if index is not None else pos
            before = self._ws[names[pos]] if pos is not None and pos < len(names) else None
            last = self._ws[names[-1]]
            if template:
                src = self._sh(template)
                if before is not None:
                    src.Copy(Before=before)
                else:
                    src.Copy(After=last)
                ws = self.app.ActiveSheet  # Excel activates the copy
            else:
                sheets = self.wb.Worksheets
                ws = sheets.Add(Before=before) if before is not None else sheets.Add(After=last)
            ws.Name = name
        self._forget(None)
        self.dirty = True

    def delete_sheet(self, name: str) -> None:
        found = self._find(name)
        if found is None:
            return
        with self._no_alerts():
            self._ws[found].Delete()
        self._forget(None)
        self.dirty = True

    # ---- reading ---------------------------------------------------------------------------------
    def extent(self, sheet: str) -> tuple[int, int]:
        name = self._find(sheet) or sheet
        if name in self._extent:
            return self._extent[name]
        ws = self._sh(sheet)
        addr = ws.UsedRange.Address
        _, _, b, r = _parse_address(addr)[-1]
        if (b, r) == (1, 1) and ws.Range("A1").Formula in (None, ""):
            out = (0, 0)
        else:
            out = (b, r)
        self._extent[name] = out
        return out

    def read(self, sheet: str, ref: Ref) -> list[list[Any]]:
        t, l, b, r = ref
        if b < t or r < l:
            return []
        name = self._find(sheet) or sheet
        rows = _rows_of(self._sh(sheet).Range(_address(t, l, b, r)).Value)
        out = [[python_value(v) for v in row] for row in rows]
        # what this book knows of these cells, for rewriting them unchanged inside a later block
        known = [[UNSAFE if type(v) is int else x for v, x in zip(row, got)] for row, got in zip(rows, out)]
        self._blocks.setdefault(name, []).append(((t, l, b, r), known))
        return out

    def table_ref(self, sheet: str, name: str) -> Ref | None:
        hit = self._table(sheet, name)
        return hit[1] if hit else None

    def _table(self, sheet: str, name: str) -> list | None:
        """[COM ListObject, its ref] of table ``name`` on ``sheet`` (Excel matches table names
        without regard to case), or None."""
        sname = self._find(sheet) or sheet
        key = (sname, name.lower())
        if key not in self._tables:
            ws = self._sh(sheet)
            try:
                lo = ws.ListObjects(name)
            except Exception as e:  # noqa: BLE001 - a COM error: no such table on this sheet
                if not _com_error(e):
                    raise
                return None
            self._tables[key] = [lo, parse_ref(lo.Range.Address)]
        return self._tables[key]

    def merged(self, sheet: str) -> list[Ref]:
        """Merged areas, found by bisection: ``Range.MergeCells`` answers False (none), True (all)
        or None (some) for a whole block in one call. A sheet without merged cells costs one call;
        each merged area about log2(cells) calls: of two halves of a block known to hold merged
        cells only the first is asked (if it has none, the second has them); a block that is all
        merged gives its first cell's ``MergeArea`` at once. The answer is kept for the job."""
        name = self._find(sheet) or sheet
        if name in self._merged:
            return list(self._merged[name])
        last_row, last_col = self.extent(sheet)
        out: set[Ref] = set()
        ws = self._sh(sheet)

        def known(t, l, b, r, inside: bool) -> bool:
            if inside:
                return any(a[0] <= t and b <= a[2] and a[1] <= l and r <= a[3] for a in out)
            return any(a[0] <= b and t <= a[2] and a[1] <= r and l <= a[3] for a in out)

        def probe(t, l, b, r):
            return ws.Range(_address(t, l, b, r)).MergeCells

        # (block, what is known of it: "?" nothing, "all" all merged, "some" holds merged cells)
        stack: list[tuple[Ref, str]] = [((1, 1, last_row, last_col), "?")] if last_row else []
        while stack:
            (t, l, b, r), state = stack.pop()
            if known(t, l, b, r, inside=True):
                continue
            if state == "?":
                flag = probe(t, l, b, r)
                if flag is False:
                    continue
                state = "all" if flag is True else "some"
            if state == "all" or (t == b and l == r):
                # the area of the first cell, then whatever of the block lies outside it
                a = _parse_address(ws.Range(_address(t, l, t, l)).MergeArea.Address)[0]
                if a[0] != a[2] or a[1] != a[3]:
                    out.add(a)
                if a[2] < b:
                    stack.append(((a[2] + 1, l, b, r), "?"))
                if a[3] < r:
                    stack.append(((t, a[3] + 1, min(a[2], b), r), "?"))
                continue
            if b - t >= r - l:
                m = (t + b) // 2
                first, second = (t, l, m, r), (m + 1, l, b, r)
            else:
                m = (l + r) // 2
                first, second = (t, l, b, m), (t, m + 1, b, r)
            if known(*first, inside=False) or known(*second, inside=False):
                stack += [(second, "?"), (first, "?")]  # an area already found may be why
                continue
            flag = probe(*first)
            if flag is False:
                stack.append((second, "some"))  # the merged cells are all in the second half
                continue
            stack.append((second, "?"))
            stack.append((first, "all" if flag is True else "some"))
        self._merged[name] = sorted(out)
        return sorted(out)

    # ---- writing ---------------------------------------------------------------------------------
    def write(self, sheet: str, top: int, left: int, rows: list[list[Any]],
              number_formats: list[str | None] | None = None) -> None:
        if not rows:
            return
        width = max(len(r) for r in rows)
        block = [list(r) + [None] * (width - len(r)) for r in rows]
        self._put(sheet, top, left, block)
        if number_formats:
            self._formats(sheet, top, top + len(block) - 1,
                          {left + j: f for j, f in enumerate(number_formats) if f})
        self.dirty = True

    def _put(self, sheet: str, top: int, left: int, block: list[list[Any]]) -> None:
        """One ``Range.Value =`` for the whole block; remembers what the cells now hold."""
        ws = self._sh(sheet)
        bottom, right = top + len(block) - 1, left + len(block[0]) - 1
        ws.Range(_address(top, left, bottom, right)).Value = [[excel_value(v) for v in row] for row in block]
        name = self._find(sheet) or sheet
        known = [[v if isinstance(v, Formula) else to_cell(v) for v in row] for row in block]
        self._blocks.setdefault(name, []).append(((top, left, bottom, right), known))
        ext = self._extent.get(name)
        if ext is not None:
            self._extent[name] = (max(ext[0], bottom), max(ext[1], right))

    def _formats(self, sheet: str, top: int, bottom: int, formats: dict[int, str]) -> None:
        """One ``NumberFormat =`` per run of adjacent columns sharing a format."""
        ws = self._sh(sheet)
        for run in _column_runs(formats):
            ws.Range(_address(top, run[0], bottom, run[-1])).NumberFormat = formats[run[0]]

    def _known(self, sheet: str, row: int, col: int) -> Any:
        """What this book last read from or wrote to the cell; UNSAFE when it does not know."""
        for (t, l, b, r), rows in reversed(self._blocks.get(sheet, ())):
            if t <= row <= b and l <= col <= r:
                return rows[row - t][col - l]
        return UNSAFE

    def write_cells(self, sheet: str, cells: dict[tuple[int, int], Any],
                    number_formats: dict[int, str | None] | None = None) -> None:
        """Scattered cells in blocks: per column, from the first changed row to the last, the
        unchanged cells in between rewritten with what they hold; adjacent columns with the same
        blocks go together as one 2-D block."""
        if not cells:
            return
        name = self._find(sheet) or sheet
        by_col: dict[int, dict[int, Any]] = {}
        for (r, c), v in cells.items():
            by_col.setdefault(c, {})[r] = v
        # the cells between changed ones, and whether this book can rewrite each unchanged
        fill: dict[int, dict[int, Any]] = {}
        barriers: dict[int, set[int]] = {}
        gap_cols = []
        for c, vals in by_col.items():
            lo, hi = min(vals), max(vals)
            if hi - lo + 1 == len(vals):
                continue
            gap_cols.append(c)
            known = fill.setdefault(c, {})
            bars = barriers.setdefault(c, set())
            for r in range(lo, hi + 1):
                if r in vals:
                    continue
                v = self._known(name, r, c)
                if v is UNSAFE or isinstance(v, Formula):
                    bars.add(r)
                else:
                    known[r] = v
        if gap_cols:
            self._formula_barriers(sheet, by_col, gap_cols, barriers)
            merged = self.merged(sheet) if any(fill.values()) else []
            for t, l, b, r in merged:
                for c in gap_cols:
                    if l <= c <= r:
                        barriers[c].update(range(t, b + 1))
        # each column's blocks: its span cut at the barriers, trimmed to the changed rows
        segments: dict[int, tuple[tuple[int, int], ...]] = {}
        for c, vals in by_col.items():
            rows = sorted(vals)
            bars = barriers.get(c, set())
            segs, start, prev = [], rows[0], rows[0]
            for r in rows[1:]:
                if any(b in bars for b in range(prev + 1, r)):
                    segs.append((start, prev))
                    start = r
                prev = r
            segs.append((start, prev))
            segments[c] = tuple(segs)
        for group in _column_runs(segments):
            for top, bottom in segments[group[0]]:
                block = [[by_col[c][r] if r in by_col[c] else fill.get(c, {}).get(r) for c in group]
                         for r in range(top, bottom + 1)]
                self._put(sheet, top, group[0], block)
                if number_formats:
                    self._formats(sheet, top, bottom, {c: number_formats[c] for c in group if number_formats.get(c)})
        self.dirty = True

    def _formula_barriers(self, sheet: str, by_col: dict[int, dict[int, Any]], gap_cols: list[int],
                          barriers: dict[int, set[int]]) -> None:
        """Formula cells among the unchanged cells to be rewritten: one ``HasFormula`` for the
        rectangle around them all; where it says "some", ``SpecialCells(xlCellTypeFormulas)``
        gives them as areas."""
        ws = self._sh(sheet)
        top = min(min(by_col[c]) for c in gap_cols)
        bottom = max(max(by_col[c]) for c in gap_cols)
        left, right = min(gap_cols), max(gap_cols)
        rng = ws.Range(_address(top, left, bottom, right))
        flag = rng.HasFormula
        if flag is False:
            return
        if flag is True:
            for c in gap_cols:
                barriers[c].update(range(top, bottom + 1))
            return
        try:
            found = rng.SpecialCells(XL_CELL_TYPE_FORMULAS)
        except Exception as e:  # noqa: BLE001 - "No cells were found"
            if not _com_error(e):
                raise
            return
        addr = found.Address
        if len(addr) < 250:
            areas = _parse_address(addr)
        else:  # a long list of areas may come back cut short: ask area by area
            areas = [_parse_address(a.Address)[0] for a in found.Areas]
        wanted = set(gap_cols)
        for t, l, b, r in areas:
            for c in range(l, r + 1):
                if c in wanted:
                    barriers[c].update(range(max(t, top), min(b, bottom) + 1))

    def resize_table(self, sheet: str, name: str, ref: Ref) -> None:
        hit = self._table(sheet, name)
        if hit is None:
            raise BookError(f"工作表「{sheet}」中没有表格 {name}")
        hit[0].Resize(self._sh(sheet).Range(format_ref(ref)))
        hit[1] = tuple(ref)
        self.dirty = True

    def add_table(self, sheet: str, name: str, ref: Ref, style: str = "TableStyleMedium2") -> None:
        ws = self._sh(sheet)
        old = self._table(sheet, name)
        if old is not None:
            old[0].Unlist()
        lo = ws.ListObjects.Add(1, ws.Range(format_ref(ref)), None, 1)  # xlSrcRange, xlYes (headers)
        lo.Name = name
        lo.TableStyle = style
        self._tables[(self._find(sheet) or sheet, name.lower())] = [lo, tuple(ref)]
        self.dirty = True

    def page_setup(self, sheet: str, *, landscape: bool = False, repeat_rows: str | None = None,
                   fit_width: bool = True, paper: str = "A4") -> None:
        ps = self._sh(sheet).PageSetup
        try:
            ps.Orientation = 2 if landscape else 1  # xlLandscape / xlPortrait
            ps.PaperSize = 9  # xlPaperA4
            if repeat_rows:
                a, _, b = repeat_rows.partition(":")
                ps.PrintTitleRows = f"${a}:${b or a}"
            if fit_width:
                ps.Zoom = False
                ps.FitToPagesWide = 1
                ps.FitToPagesTall = False
        except Exception as e:  # noqa: BLE001 - no printer installed: Excel refuses page setup; not fatal
            if not _com_error(e):
                raise

    def set_column_widths(self, sheet: str, widths: dict[int, float]) -> None:
        from pyfuncs.io.layout_excel import set_widths

        set_widths(self._sh(sheet), widths)

    def put_sheet(self, lay, *, after: str | None = None) -> None:
        from pyfuncs.io.layout_excel import clear_sheet, render

        found = self._find(lay.name)
        if found is not None:
            ws = self._ws[found]
            clear_sheet(ws)
        else:
            names = self.sheet_names()
            anchor = self._find(after) if after else None
            anchor = anchor or names[-1]
            ws = self.wb.Worksheets.Add(After=self._ws[anchor])
            ws.Name = lay.name
            self._names.insert(names.index(anchor) + 1, lay.name)
            self._ws[lay.name] = ws
            found = lay.name
        self._forget(found)
        render(ws, lay, self.app)
        self.dirty = True

    def set_status(self, text: str | None) -> None:
        try:
            self.app.StatusBar = text if text else False
        except Exception:  # noqa: BLE001 - the status bar is a courtesy
            pass

    @property
    def defined_name(self, name: str) -> str | None:
        try:
            return str(self.xb.api.Names(name).RefersTo).lstrip("=")
        except Exception:  # noqa: BLE001 - Excel raises for a name the workbook lacks
            return None

    def native(self):
        return self.xb

    def save(self) -> None:
        """Staff save in Excel; nothing to do here."""

