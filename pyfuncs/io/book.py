"""The workbook interface every job talks to, whatever is behind it.

Two implementations: :class:`pyfuncs.io.filebook.FileBook` (an ``.xlsm`` file: python-calamine
reads, and a writer that changes only the parts the job changed; for the ``aftercare`` command and
the tests) and :class:`pyfuncs.io.xlbook.XlBook` (the live
workbook in Excel through xlwings, for the ribbon). Jobs never touch either library directly for
table data: they use :mod:`pyfuncs.tables` (schema-aware: sheet → typed DataFrame, DataFrame
columns → sheet), which is built on the small set of primitives below.

Coordinates are Excel's: rows and columns are 1-based, ranges are inclusive
``(top, left, bottom, right)``.

The primitives are deliberately block-shaped (read a rectangle, write a rectangle) so the xlwings
side can do one COM call per block instead of one per cell.

Example (a file)::

    from pyfuncs.io.filebook import FileBook
    from pyfuncs.tables import read_table
    from pyfuncs.schema import TABLES

    with FileBook.open("aftercare.xlsm") as book:        # locks the file, refuses ~$ lock files
        frame = read_table(book, TABLES["repairs"])      # frame.df is indexed by Excel row
        ...
        book.save()                                      # temp file + fsync + replace + backup
"""
from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyfuncs.layout import Layout

Ref = tuple[int, int, int, int]  # (top, left, bottom, right), 1-based, inclusive


from pyfuncs.core.dates import is_blank  # noqa: E402,F401 - re-exported: one blank test everywhere


def progress_text(step: int, total: int, text: str) -> str:
    """The status-bar line of a job step.

    >>> progress_text(2, 5, "刷新报修台账")
    '回访保修：正在刷新报修台账（2/5）…'
    """
    return f"回访保修：正在{text}（{step}/{total}）…"


class Formula(str):
    """A value to be written as a formula; every plain ``str`` is written as text, even "=..."."""


class BookError(Exception):
    """A workbook the program refuses to work on; ``str(e)`` is a Chinese message for staff."""


def col_letter(col: int) -> str:
    """1 → A, 28 → AB."""
    s = ""
    while col:
        col, r = divmod(col - 1, 26)
        s = chr(65 + r) + s
    return s


def col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def parse_ref(ref: str) -> Ref:
    """``'A1:C10'`` → (1, 1, 10, 3); ``'B2'`` → (2, 2, 2, 2)."""
    import re

    parts = ref.replace("$", "").split(":")
    out = []
    for p in parts:
        m = re.fullmatch(r"([A-Za-z]+)(\d+)", p.strip())
        if not m:
            raise ValueError(f"bad cell reference {ref!r}")
        out.append((int(m.group(2)), col_number(m.group(1))))
    (t, l), (b, r) = out[0], out[-1]
    return (t, l, b, r)


def format_ref(ref: Ref) -> str:
    t, l, b, r = ref
    a = f"{col_letter(l)}{t}"
    z = f"{col_letter(r)}{b}"
    return a if a == z else f"{a}:{z}"


def to_cell(v: Any) -> Any:
    """A Python/numpy/pandas value → what a cell holds (None, str, int, float, bool, date/datetime)."""
    t = type(v)  # the plain types first: this runs once per computed cell of a big ledger
    if t is str:
        return v if v.strip() else None
    if t is int or t is bool or t is dt.date:
        return v
    if is_blank(v):
        return None
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        np = None
    if np is not None:
        if isinstance(v, np.datetime64):
            import pandas as pd

            ts = pd.Timestamp(v)
            return ts.date() if ts == ts.normalize() else ts.to_pydatetime()
        if isinstance(v, np.bool_):
            return bool(v)
        if isinstance(v, np.integer):
            return int(v)
        if isinstance(v, np.floating):
            f = float(v)
            return int(f) if f.is_integer() and abs(f) < 2**53 else f
    if type(v).__name__ == "Timestamp":
        return v.date() if v == v.normalize() else v.to_pydatetime()
    if isinstance(v, dt.datetime):
        return v.date() if v == dt.datetime(v.year, v.month, v.day) else v
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    return v


class Book(ABC):
    """An open workbook. Subclasses implement the primitives; helpers build on them."""

    #: the file behind the book, if any (FileBook); None for a live Excel workbook
    path = None
    #: True once any write primitive ran (the CLI saves only dirty books)
    dirty: bool = False

    # ---- context manager -----------------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self) -> None:  # pragma: no cover - trivial
        pass

    # ---- sheets ----------------------------------------------------------------------------------
    @abstractmethod
    def sheet_names(self) -> list[str]:
        """Every worksheet's name, in tab order."""

    def has_sheet(self, name: str) -> bool:
        return name in self.sheet_names()

    @abstractmethod
    def new_sheet(self, name: str, template: str | None = None, index: int | None = None) -> None:
        """Create sheet ``name`` (replacing an existing one of that name), as a copy of sheet
        ``template`` when given (values, formats, merged cells, column widths, page setup) or empty.
        ``index`` is the tab position (0-based); default: after the last sheet."""

    @abstractmethod
    def delete_sheet(self, name: str) -> None:
        """Remove a sheet (no error when it does not exist)."""

    @abstractmethod
    def put_sheet(self, lay: "Layout", *, after: str | None = None) -> None:
        """Replace sheet ``lay.name`` with the rendered :class:`~pyfuncs.layout.Layout` (a sheet the
        jobs generate as a whole: the year's plan, 统计, forms, 检查结果, 自检结果). It keeps the old
        sheet's tab position; a new sheet goes right after sheet ``after`` when given and present,
        else at the end. Plain text in the layout stays text whatever it starts with."""

    def will_replace(self, sheet: str) -> None:
        """The job will regenerate ``sheet`` as a whole (a generated sheet such as the year's plan)
        after reading what it needs of it. A hint only: neither book needs it any more (the file
        book never loads the workbook for writing; it grafts the new sheet's parts in)."""

    # ---- reading -------------------------------------------------------------------------------
    @abstractmethod
    def extent(self, sheet: str) -> tuple[int, int]:
        """(last used row, last used column) of the sheet; (0, 0) when empty."""

    @abstractmethod
    def read(self, sheet: str, ref: Ref) -> list[list[Any]]:
        """The values of a rectangle as rows of Python values (None for empty cells).
        Formulas are read as their cached value (a formula the job wrote reads as None in a file
        until Excel computes it)."""

    def prefetch(self, sheets) -> None:
        """A hint: the job is about to read these sheets, in this order (a file book parses them
        in the background meanwhile; Excel has them already)."""

    def read_columns(self, sheet: str, ref: Ref) -> list[list[Any]]:
        """The values of a rectangle as columns (what a table reader wants): :meth:`read`
        transposed; a book that holds its cells by row may do it in one step."""
        t, l, b, r = ref
        rows = self.read(sheet, ref)
        if not rows:
            return [[] for _ in range(max(r - l + 1, 0))]
        return [list(col) for col in zip(*rows)]

    @abstractmethod
    def table_ref(self, sheet: str, name: str) -> Ref | None:
        """Where the Excel table (ListObject) ``name`` is on ``sheet``, header row included."""

    def merged(self, sheet: str) -> list[Ref]:
        """Merged ranges on the sheet."""
        return []

    # ---- writing -------------------------------------------------------------------------------
    @abstractmethod
    def write(self, sheet: str, top: int, left: int, rows: list[list[Any]],
              number_formats: list[str | None] | None = None) -> None:
        """Write a rectangle of values starting at (top, left). ``number_formats``, one per column
        (None = leave the cell's format), is applied to the written cells."""

    def write_cells(self, sheet: str, cells: dict[tuple[int, int], Any],
                    number_formats: dict[int, str | None] | None = None) -> None:
        """Write scattered cells {(row, col): value}; grouped into vertical runs so that each
        run is one :meth:`write` (one COM call in Excel). ``number_formats`` by column."""
        if not cells:
            return
        by_col: dict[int, list[int]] = {}
        for (r, c) in cells:
            by_col.setdefault(c, []).append(r)
        for c, rows in by_col.items():
            rows.sort()
            start = prev = rows[0]
            fmt = [number_formats.get(c)] if number_formats else None
            for r in rows[1:] + [None]:
                if r is not None and r == prev + 1:
                    prev = r
                    continue
                block = [[cells[(i, c)]] for i in range(start, prev + 1)]
                self.write(sheet, start, c, block, fmt)
                if r is not None:
                    start = prev = r

    @abstractmethod
    def resize_table(self, sheet: str, name: str, ref: Ref) -> None:
        """Set the table's range (header row included), e.g. after appending rows."""

    @abstractmethod
    def add_table(self, sheet: str, name: str, ref: Ref, style: str = "TableStyleMedium2") -> None:
        """Make ``ref`` (header row = its first row, already written) an Excel table."""

    def page_setup(self, sheet: str, *, landscape: bool = False, repeat_rows: str | None = None,
                   fit_width: bool = True, paper: str = "A4") -> None:
        """Print settings for a generated sheet (A4, orientation, header rows on every page)."""

    def set_column_widths(self, sheet: str, widths: dict[int, float]) -> None:
        """Column widths (characters) by column number."""

    def defined_name(self, name: str) -> str | None:
        """What the workbook-level defined name ``name`` refers to, without the leading ``=``
        (e.g. ``tblProjects[项目编号]``), or None when the workbook has no such name."""
        raise NotImplementedError

    def set_status(self, text: str | None) -> None:
        """Progress text for staff (Excel's status bar; stderr for files when verbose).
        ``None`` clears it."""

    def progress(self, step: int, total: int, text: str) -> None:
        """A job's step ``step`` of ``total`` (from 1), e.g. ``book.progress(2, 5, "刷新报修台账")``.
        Excel shows it on the status bar as 「回访保修：正在刷新报修台账（2/5）…」; a file book
        passes it to its ``on_progress`` callback (the command line's progress bar)."""
        self.set_status(progress_text(step, total, text))

    @property
    @abstractmethod
    def native(self) -> Any:
        """The underlying object (a file book's package as a read-only Mapping of member → bytes,
        or the ``xlwings.Book``) for the rare job that needs more than these primitives. Prefer the
        primitives."""

    def save(self) -> None:
        """Persist the changes (FileBook: safe save; XlBook: nothing, staff save in Excel)."""
