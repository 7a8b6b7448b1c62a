"""The live workbook in Excel through xlwings: the ribbon's :class:`~pyfuncs.io.book.Book`.

Every read and write is one COM call per rectangle (``range.value`` on a block, never a loop over
cells); :meth:`Book.write_cells` groups scattered cells into vertical runs first. Progress goes to
Excel's status bar. Saving is left to staff (Excel's own Save), as with any other edit.

This module is the only place that imports xlwings, and only when an :class:`XlBook` is made.
It cannot run without Excel; it is kept thin on purpose: all logic lives in the jobs, which are
tested on files through :class:`~pyfuncs.io.filebook.FileBook`.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from pyfuncs.io.book import Book, BookError, Formula, Ref, parse_ref, to_cell


def _excel_value(v: Any) -> Any:
    if isinstance(v, Formula):
        return str(v)
    v = to_cell(v)
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "'") and len(v) > 1:
        return "'" + v  # Excel keeps text that looks like a formula as text
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return dt.datetime(v.year, v.month, v.day)
    return v


class XlBook(Book):
    def __init__(self, xw_book):
        self.xb = xw_book
        self.path = None
        self.dirty = False
        self._status_before = None

    @classmethod
    def caller(cls) -> "XlBook":
        import xlwings as xw

        return cls(xw.Book.caller())

    # ---- sheets ----------------------------------------------------------------------------------
    def sheet_names(self) -> list[str]:
        return [s.name for s in self.xb.sheets]

    def _sh(self, sheet: str):
        try:
            return self.xb.sheets[sheet]
        except Exception:  # noqa: BLE001 - xlwings raises a COM/KeyError depending on platform
            raise BookError(f"工作簿中没有工作表「{sheet}」") from None

    def new_sheet(self, name: str, template: str | None = None, index: int | None = None) -> None:
        app = self.xb.app
        names = self.sheet_names()
        old = names.index(name) if name in names else None
        alerts = app.display_alerts
        app.display_alerts = False
        try:
            if old is not None:
                self.xb.sheets[name].delete()
            sheets = self.xb.sheets
            pos = index if index is not None else old
            if template:
                src = self._sh(template)
                if pos is not None and pos < len(sheets):
                    src.copy(before=sheets[pos], name=name)
                else:
                    src.copy(after=sheets[len(sheets) - 1], name=name)
            else:
                if pos is not None and pos < len(sheets):
                    sheets.add(name=name, before=sheets[pos])
                else:
                    sheets.add(name=name, after=sheets[len(sheets) - 1])
        finally:
            app.display_alerts = alerts
        self.dirty = True

    def delete_sheet(self, name: str) -> None:
        if name in self.sheet_names():
            app = self.xb.app
            alerts = app.display_alerts
            app.display_alerts = False
            try:
                self.xb.sheets[name].delete()
            finally:
                app.display_alerts = alerts
            self.dirty = True

    # ---- reading ---------------------------------------------------------------------------------
    def extent(self, sheet: str) -> tuple[int, int]:
        sh = self._sh(sheet)
        ur = sh.used_range
        last = ur.last_cell
        if last.row == 1 and last.column == 1 and sh.range("A1").value is None:
            return (0, 0)
        return (last.row, last.column)

    def read(self, sheet: str, ref: Ref) -> list[list[Any]]:
        t, l, b, r = ref
        if b < t or r < l:
            return []
        vals = self._sh(sheet).range((t, l), (b, r)).options(ndim=2, empty=None).value
        out = []
        for row in vals:
            out.append([v.date() if isinstance(v, dt.datetime) and v.time() == dt.time() else
                        (int(v) if isinstance(v, float) and v.is_integer() and abs(v) < 2**53 else v)
                        for v in row])
        return out

    def table_ref(self, sheet: str, name: str) -> Ref | None:
        sh = self._sh(sheet)
        for t in sh.tables:
            if t.name.lower() == name.lower():
                addr = t.range.address  # '$A$1:$W$601'
                return parse_ref(addr)
        return None

    def merged(self, sheet: str) -> list[Ref]:
        """Merged areas, found by bisection: ``Range.MergeCells`` answers False (none), True (all)
        or None (mixed) for a whole block in one call, so k merged cells cost O(k·log n) calls
        instead of one call per cell."""
        sh = self._sh(sheet)
        last_row, last_col = self.extent(sheet)
        if not last_row:
            return []
        out: set[Ref] = set()
        stack = [(1, 1, last_row, last_col)]
        while stack:
            t, l, b, r = stack.pop()
            flag = sh.range((t, l), (b, r)).api.MergeCells
            if flag is False:
                continue
            if t == b and l == r:
                area = sh.range((t, l)).merge_area
                out.add((area.row, area.column, area.last_cell.row, area.last_cell.column))
                continue
            if b - t >= r - l:
                m = (t + b) // 2
                stack += [(t, l, m, r), (m + 1, l, b, r)]
            else:
                m = (l + r) // 2
                stack += [(t, l, b, m), (t, m + 1, b, r)]
        return sorted(out)

    # ---- writing ---------------------------------------------------------------------------------
    def write(self, sheet: str, top: int, left: int, rows: list[list[Any]],
              number_formats: list[str | None] | None = None) -> None:
        if not rows:
            return
        sh = self._sh(sheet)
        width = max(len(r) for r in rows)
        block = [[_excel_value(v) for v in r] + [None] * (width - len(r)) for r in rows]
        rng = sh.range((top, left), (top + len(block) - 1, left + width - 1))
        rng.value = block
        if number_formats:
            for j, fmt in enumerate(number_formats):
                if fmt:
                    sh.range((top, left + j), (top + len(block) - 1, left + j)).number_format = fmt
        self.dirty = True

    def resize_table(self, sheet: str, name: str, ref: Ref) -> None:
        sh = self._sh(sheet)
        for t in sh.tables:
            if t.name.lower() == name.lower():
                t.resize(sh.range((ref[0], ref[1]), (ref[2], ref[3])))
                self.dirty = True
                return
        raise BookError(f"工作表「{sheet}」中没有表格 {name}")

    def add_table(self, sheet: str, name: str, ref: Ref, style: str = "TableStyleMedium2") -> None:
        sh = self._sh(sheet)
        for t in list(sh.tables):
            if t.name.lower() == name.lower():
                t.api.Unlist() if hasattr(t, "api") else None
        sh.tables.add(source=sh.range((ref[0], ref[1]), (ref[2], ref[3])), name=name,
                      table_style_name=style, has_headers=True)
        self.dirty = True

    def page_setup(self, sheet: str, *, landscape: bool = False, repeat_rows: str | None = None,
                   fit_width: bool = True, paper: str = "A4") -> None:
        ps = self._sh(sheet).api.PageSetup
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
        except Exception:  # noqa: BLE001 - no printer installed: Excel refuses page setup; not fatal
            pass

    def set_column_widths(self, sheet: str, widths: dict[int, float]) -> None:
        sh = self._sh(sheet)
        for col, w in widths.items():
            sh.range((1, col)).column_width = w

    def put_sheet(self, lay, *, after: str | None = None) -> None:
        from pyfuncs.io.layout_excel import render_xlwings

        names = self.sheet_names()
        index = names.index(after) + 1 if lay.name not in names and after in names else None
        render_xlwings(self.xb, lay, index)
        self.dirty = True

    def set_status(self, text: str | None) -> None:
        try:
            self.xb.app.status_bar = text if text else False
        except Exception:  # noqa: BLE001 - the status bar is a courtesy
            pass

    @property
    def native(self):
        return self.xb

    def save(self) -> None:
        """Staff save in Excel; nothing to do here."""
