"""A workbook file through openpyxl: the ``aftercare`` command's and the tests' :class:`Book`.

Loads with ``keep_vba=True`` (the VBA project and the ribbon part are carried over), ``rich_text``
(staff's formatted text survives) and keeps every cell the job does not write exactly as it was.
Formula cells are read as their cached value (through python-calamine) when the file has one.

Saving goes through :func:`pyfuncs.io.safe.safe_save` and then :func:`repair_package`, which puts
back any package part openpyxl dropped (e.g. the Office 2010 ribbon ``customUI14.xml`` and its
relationship), so the saved file has every part of the original.
"""
from __future__ import annotations

import contextlib
import functools
import io
import os
import posixpath
import re
import sys
import zipfile
from copy import copy
from pathlib import Path
from typing import Any

from pyfuncs.io.book import Book, BookError, Formula, Ref, format_ref, parse_ref, to_cell  # noqa: F401
from pyfuncs.io.safe import Refused, check_file, job_lock, safe_save, KEEP_BACKUPS

_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


class FileBook(Book):
    def __init__(self, wb, path: Path | None = None, *, verbose: bool = False, keep: int = KEEP_BACKUPS,
                 fast=None):
        self._wb = wb
        self._fast = fast  # a CalamineWorkbook answering reads until the first write
        self._grids: dict[str, list[list[Any]]] = {}
        self._fast_merged: dict[str, list[Ref]] = {}
        self._fast_tables: dict[str, tuple[str, Ref]] | None = None
        self.path = Path(path) if path else None
        self.verbose = verbose
        self.keep = keep
        self.dirty = False
        self._stack = contextlib.ExitStack()
        self._calamine = None
        self._cached: dict[str, Any] = {}
        self._replacing: set[str] = set()  # sheets the job regenerates (see will_replace)
        self._stubs: dict[str, Any] = {}  # ... loaded as empty placeholders, until replaced
        #: called with (step, total, text) for each job step (the command line's progress bar)
        self.on_progress = None

    @property
    def wb(self):
        """The openpyxl workbook, loaded on first use (a read-only job never needs it)."""
        if self._wb is None:
            self._wb = load(self.path, skip=self._replacing)
            self._stubs = {name: self._wb[name] for name in self._replacing if name in self._wb.sheetnames}
            self._fast = None
            self._grids.clear()
        return self._wb

    @wb.setter
    def wb(self, value):
        self._wb = value

    @property
    def _fast_ok(self) -> bool:
        return self._wb is None and self._fast is not None

    def _drop_fast(self) -> None:
        """calamine could not read a part: answer this and every later read through openpyxl,
        whose (defusedxml) load either reads the file or refuses it with a clear message."""
        with contextlib.suppress(Exception):
            self._fast.close()
        self._fast = None
        self._grids.clear()

    def _grid(self, sheet: str) -> list[list[Any]]:
        """The calamine value grid of a sheet from A1 (cached values for formulas)."""
        g = self._grids.get(sheet)
        if g is None:
            if sheet not in self._fast.sheet_names:
                raise BookError(f"工作簿中没有工作表「{sheet}」")
            ws = self._fast.get_sheet_by_name(sheet)  # parses the sheet: once, for values and merges
            self._fast_merged[sheet] = [(a[0] + 1, a[1] + 1, b[0] + 1, b[1] + 1)
                                        for a, b in (ws.merged_cell_ranges or [])]
            # calamine → the values openpyxl would give: '' as None, whole floats as int (inline:
            # this runs once per cell of the sheet)
            g = [[None if v == "" else int(v) if type(v) is float and v.is_integer() and abs(v) < 2**53 else v
                  for v in row] for row in ws.to_python(skip_empty_area=False) if row is not None]
            self._grids[sheet] = g
        return g

    # ---- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike, *, lock: bool = True, lock_wait: float = 5.0,
             verbose: bool = False, keep: int = KEEP_BACKUPS, fast_read: bool = True) -> "FileBook":
        """Open a workbook file for a job. Refuses (:class:`Refused`) a missing, open-in-Excel,
        encrypted, corrupt or non-workbook file; holds the inter-process lock until ``close``.

        With ``fast_read`` (default) reads go through python-calamine (about 20 times faster than
        openpyxl on a large ledger, and formulas give their cached values) until the first write;
        openpyxl loads the workbook then, and answers every later read."""
        p = check_file(path)
        stack = contextlib.ExitStack()
        if lock:
            stack.enter_context(job_lock(p, wait=lock_wait))
        wb = fast = None
        try:
            if fast_read:
                fast = _calamine(p)
            if fast is None:
                wb = load(p)
        except BaseException:
            stack.close()
            raise
        book = cls(wb, p, verbose=verbose, keep=keep, fast=fast)
        book._stack = stack
        return book

    def close(self) -> None:
        if self._fast is not None:
            with contextlib.suppress(Exception):
                self._fast.close()
            self._fast = None
        if self._calamine is not None:
            with contextlib.suppress(Exception):
                self._calamine.close()
            self._calamine = None
        self._stack.close()

    # ---- sheets ----------------------------------------------------------------------------------
    def sheet_names(self) -> list[str]:
        if self._fast_ok:
            try:
                return list(self._fast.sheet_names)
            except Exception:  # noqa: BLE001 - see _drop_fast
                self._drop_fast()
        return list(self.wb.sheetnames)

    def will_replace(self, sheet: str) -> None:
        if self._wb is None:
            self._replacing.add(sheet)

    def _unreplaced(self) -> list[str]:
        """Sheets loaded as placeholders (will_replace) that are still in the workbook."""
        if self._wb is None:
            return []
        live = {id(ws) for ws in self._wb._sheets}
        return [name for name, ws in self._stubs.items() if id(ws) in live]

    def _ws(self, sheet: str):
        try:
            ws = self.wb[sheet]
        except KeyError:
            raise BookError(f"工作簿中没有工作表「{sheet}」") from None
        if self._stubs.get(sheet) is ws:
            raise BookError(f"程序错误：工作表「{sheet}」已声明将整体重新生成，未读入内容，不能在此之后读写它")
        return ws

    def new_sheet(self, name: str, template: str | None = None, index: int | None = None) -> None:
        old_index = None
        if name in self.wb.sheetnames:
            old_index = self.wb.sheetnames.index(name)
            if template == name:
                raise ValueError("a sheet cannot be its own template")
            self.wb.remove(self.wb[name])
        if template:
            src = self._ws(template)
            ws = self.wb.copy_worksheet(src)
            ws.title = name
            ws.print_title_rows = src.print_title_rows
            ws.print_title_cols = src.print_title_cols
            if src.print_area:
                ws.print_area = src.print_area
            ws.oddHeader = copy(src.oddHeader)
            ws.oddFooter = copy(src.oddFooter)
            ws.sheet_view.showGridLines = src.sheet_view.showGridLines
            for dv in src.data_validations.dataValidation:
                ws.add_data_validation(copy(dv))
        else:
            ws = self.wb.create_sheet(name)
        pos = index if index is not None else old_index
        if pos is not None:
            self.wb.move_sheet(ws, offset=pos - self.wb.sheetnames.index(name))
        self._cached.pop(name, None)
        self.dirty = True

    def delete_sheet(self, name: str) -> None:
        if name in self.wb.sheetnames:
            self.wb.remove(self.wb[name])
            self._cached.pop(name, None)
            self.dirty = True

    # ---- reading ---------------------------------------------------------------------------------
    def extent(self, sheet: str) -> tuple[int, int]:
        if self._fast_ok:
            try:
                g = self._grid(sheet)
                return (len(g), max((len(r) for r in g), default=0)) if g else (0, 0)
            except BookError:
                raise
            except Exception:  # noqa: BLE001 - see _drop_fast
                self._drop_fast()
        ws = self._ws(sheet)
        if not ws._cells:
            return (0, 0)
        return (ws.max_row, ws.max_column)

    def read(self, sheet: str, ref: Ref) -> list[list[Any]]:
        t, l, b, r = ref
        if b < t or r < l:
            return []
        if self._fast_ok:
            try:
                g = self._grid(sheet)
            except BookError:
                raise
            except Exception:  # noqa: BLE001 - see _drop_fast
                self._drop_fast()
            else:
                width = r - l + 1
                out = []
                for row in range(t - 1, b):
                    src = g[row] if row < len(g) else []
                    vals = src[l - 1:r]
                    out.append(vals + [None] * (width - len(vals)) if len(vals) < width else vals)
                return out
        ws = self._ws(sheet)
        out = []
        formulas = []
        cells = ws._cells
        for row in range(t, b + 1):
            vals = []
            for col in range(l, r + 1):
                c = cells.get((row, col))
                v = None if c is None else c._value
                if v is not None:
                    if c.data_type == "f":
                        formulas.append((row - t, col - l, row, col))
                    elif not isinstance(v, (str, int, float, bool)) and hasattr(v, "__str__") \
                            and type(v).__name__ == "CellRichText":
                        v = str(v)
                    elif type(v).__name__ in ("ArrayFormula", "DataTableFormula"):
                        formulas.append((row - t, col - l, row, col))
                vals.append(v)
            out.append(vals)
        if formulas:
            for i, j, row, col in formulas:
                out[i][j] = self._cached_value(sheet, row, col)
        return out

    def _cached_value(self, sheet: str, row: int, col: int) -> Any:
        """A formula cell's cached result from the file on disk (None if it has none)."""
        if self.path is None or not self.path.exists():
            return None
        if sheet not in self._cached:
            grid = None
            try:
                from python_calamine import CalamineWorkbook

                if self._calamine is None:
                    self._calamine = CalamineWorkbook.from_path(str(self.path))
                if sheet in self._calamine.sheet_names:
                    s = self._calamine.get_sheet_by_name(sheet)
                    start = s.start or (0, 0)
                    grid = (start, s.to_python(skip_empty_area=False))
            except Exception:  # noqa: BLE001 - any trouble: no cached value
                grid = None
            self._cached[sheet] = grid
        grid = self._cached[sheet]
        if not grid:
            return None
        (r0, c0), rows = grid
        # calamine's grid starts at the sheet's first used cell when skip_empty_area=False? It
        # starts at A1 in that mode; handle both.
        i, j = row - 1, col - 1
        if i < len(rows) and j < len(rows[i]):
            v = rows[i][j]
            return None if v == "" else v
        return None

    def table_ref(self, sheet: str, name: str) -> Ref | None:
        if self._fast_ok and self.path is not None:
            if self._fast_tables is None:
                self._fast_tables = package_tables(self.path)
            if self._fast_tables:  # {} = could not read the table parts: ask calamine
                if sheet not in self.sheet_names():
                    raise BookError(f"工作簿中没有工作表「{sheet}」")
                hit = self._fast_tables.get(name.lower())
                return hit[1] if hit and hit[0] == sheet else None
        if self._fast_ok:
            try:
                for tname in self._fast.table_names:
                    if tname.lower() == name.lower():
                        t = self._fast.get_table_by_name(tname)
                        if t.sheet != sheet:
                            continue
                        (r0, c0), (r1, c1) = t.start, t.end
                        return (r0, c0 + 1, r1 + 1, c1 + 1)  # start is the first data row (0-based)
                if sheet not in self._fast.sheet_names:
                    raise BookError(f"工作簿中没有工作表「{sheet}」")
                return None
            except BookError:
                raise
            except Exception:  # noqa: BLE001 - see _drop_fast
                self._drop_fast()
        ws = self._ws(sheet)
        for tbl in ws.tables.values():
            if tbl.name.lower() == name.lower():
                return parse_ref(tbl.ref)
        return None

    def merged(self, sheet: str) -> list[Ref]:
        if self._fast_ok:
            try:
                self._grid(sheet)
                return list(self._fast_merged[sheet])
            except BookError:
                raise
            except Exception:  # noqa: BLE001 - see _drop_fast
                self._drop_fast()
        ws = self._ws(sheet)
        return [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]

    # ---- writing ---------------------------------------------------------------------------------
    def write(self, sheet: str, top: int, left: int, rows: list[list[Any]],
              number_formats: list[str | None] | None = None) -> None:
        from openpyxl.cell.cell import MergedCell

        ws = self._ws(sheet)
        # a cell with no format of its own takes its column's (the table font, alignment, wrap),
        # as a cell staff type in Excel does
        width = max((len(r) for r in rows), default=0)
        col_styles = [_column_style(ws, left + j) for j in range(width)]
        wrap = [_wrap_width(ws, left + j, st) for j, st in enumerate(col_styles)]
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                cell = ws.cell(row=top + i, column=left + j)
                if isinstance(cell, MergedCell):
                    continue
                if col_styles[j] is not None and not cell.has_style:
                    cell._style = copy(col_styles[j])
                if wrap[j] and isinstance(v, str) and v:
                    _fit_height(ws, top + i, v, wrap[j])
                v = to_cell(v)
                if isinstance(v, str):
                    v = _ILLEGAL.sub("", v)
                cell.value = v
                if isinstance(v, str) and not isinstance(v, Formula) and v.startswith("="):
                    cell.data_type = "s"
                if number_formats is not None and j < len(number_formats):
                    fmt = number_formats[j]
                    if fmt and v is not None and cell.number_format != fmt:
                        cell.number_format = fmt
        self._cached.pop(sheet, None)
        self.dirty = True

    def resize_table(self, sheet: str, name: str, ref: Ref) -> None:
        ws = self._ws(sheet)
        for tbl in ws.tables.values():
            if tbl.name.lower() == name.lower():
                new = format_ref(ref)
                if tbl.ref != new:
                    old_bottom = parse_ref(tbl.ref)[2]
                    tbl.ref = new
                    if tbl.autoFilter is not None:
                        tbl.autoFilter.ref = new
                    self._fill_calculated_columns(ws, tbl, ref, old_bottom)
                    self.dirty = True
                return
        raise BookError(f"工作表「{sheet}」中没有表格 {name}")

    @staticmethod
    def _fill_calculated_columns(ws, tbl, ref: Ref, old_bottom: int) -> None:
        """New table rows get the table's calculated-column formulas (as Excel does when a table
        grows), e.g. a formula column staff added inside the table."""
        top, left, bottom, _ = ref
        for j, tc in enumerate(tbl.tableColumns):
            f = getattr(tc, "calculatedColumnFormula", None)
            text = getattr(f, "attr_text", None) or (f if isinstance(f, str) else None)
            if not text:
                continue
            for r in range(old_bottom + 1, bottom + 1):
                cell = ws.cell(row=r, column=left + j)
                if cell.value is None:
                    cell.value = "=" + text.lstrip("=")

    def add_table(self, sheet: str, name: str, ref: Ref, style: str = "TableStyleMedium2") -> None:
        from openpyxl.worksheet.table import Table, TableStyleInfo

        ws = self._ws(sheet)
        for tname in list(ws.tables):
            if tname.lower() == name.lower():
                del ws.tables[tname]
        t, l, b, r = ref
        # header cells must be unique non-empty text
        seen = set()
        for col in range(l, r + 1):
            c = ws.cell(row=t, column=col)
            h = "" if c.value is None else str(c.value)
            base, k = h or f"列{col}", 1
            while h in seen or not h:
                k += 1
                h = f"{base}{k}"
            if h != c.value:
                c.value = h
            seen.add(h)
        tbl = Table(displayName=name, ref=format_ref(ref))
        tbl.tableStyleInfo = TableStyleInfo(name=style, showRowStripes=True)
        ws.add_table(tbl)
        self.dirty = True

    def page_setup(self, sheet: str, *, landscape: bool = False, repeat_rows: str | None = None,
                   fit_width: bool = True, paper: str = "A4") -> None:
        ws = self._ws(sheet)
        ws.page_setup.orientation = "landscape" if landscape else "portrait"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4 if paper == "A4" else ws.page_setup.paperSize
        if repeat_rows:
            ws.print_title_rows = repeat_rows
        if fit_width:
            ws.sheet_properties.pageSetUpPr.fitToPage = True
            ws.page_setup.fitToWidth = 1
            ws.page_setup.fitToHeight = 0
        self.dirty = True

    def set_column_widths(self, sheet: str, widths: dict[int, float]) -> None:
        from openpyxl.utils import get_column_letter

        ws = self._ws(sheet)
        for col, w in widths.items():
            ws.column_dimensions[get_column_letter(col)].width = w
        self.dirty = True

    def set_status(self, text: str | None) -> None:
        if self.verbose and text:
            print(text, file=sys.stderr)

    def progress(self, step: int, total: int, text: str) -> None:
        if self.on_progress is not None:
            self.on_progress(step, total, text)
        else:
            super().progress(step, total, text)

    def put_sheet(self, lay, *, after: str | None = None) -> None:
        from pyfuncs.io.layout_openpyxl import replace_sheet

        names = self.wb.sheetnames
        index = names.index(after) + 1 if lay.name not in names and after in names else None
        replace_sheet(self.wb, lay.name, lay, index)
        self._cached.pop(lay.name, None)
        self.dirty = True

    @property
    def native(self):
        return self.wb

    # ---- saving ------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike | None = None) -> Path | None:
        """Save safely over the original (or to ``path``); returns the backup's path, if any."""
        target = Path(path) if path else self.path
        if target is None:
            raise BookError("没有保存路径")
        original = self.path if self.path and self.path.exists() else None
        pending = self._unreplaced()
        if pending:
            raise BookError("程序错误：工作表「" + "」「".join(pending)
                            + "」已声明将整体重新生成但尚未生成；为免丢失其原有内容，未保存工作簿")

        def write(tmp: Path) -> None:
            self.wb.save(tmp)
            if original is not None:
                repair_package(original, tmp)

        bak = safe_save(target, write, keep=self.keep)
        self.dirty = False
        return bak


def _wrap_width(ws, col: int, style) -> float:
    """The width of column ``col`` when its column format wraps text, else 0."""
    from openpyxl.utils import get_column_letter

    if style is None or not ws.parent._alignments[style.alignmentId].wrap_text:
        return 0.0
    return ws.column_dimensions[get_column_letter(col)].width or 8.43


def _fit_height(ws, row: int, text: str, width: float, line: float = 13.5) -> None:
    """Make ``row`` tall enough for ``text`` wrapped in a column ``width`` characters wide (a
    file's rows are not re-fitted when Excel or LibreOffice opens it); a taller row stays."""
    import math

    from pyfuncs.layout import text_width

    n = sum(max(1, math.ceil(text_width(part) / max(width - 1, 2))) for part in text.split("\n"))
    if n > 1:
        dim = ws.row_dimensions[row]
        need = round(line * n + 3, 1)
        if (dim.height or 0) < need:
            dim.height = need


def _column_style(ws, col: int):
    """The style array of column ``col``'s column format (``<col style=...>``), or None."""
    from openpyxl.utils import get_column_letter

    letter = get_column_letter(col)
    dims = ws.column_dimensions
    if letter in dims:
        dim = dims[letter]
    else:  # a <col min max> range covering several columns is stored under its first letter
        dim = next((d for d in dims.values() if d.min and d.max and d.min <= col <= d.max), None)
    if dim is None or not dim.has_style:
        return None
    return dim._style


_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _rels(z: zipfile.ZipFile, part: str) -> list[dict[str, str]]:
    """The relationships of a package part ("" = the package itself) as attribute dicts."""
    from defusedxml import ElementTree as ET

    folder, base = posixpath.split(part)
    try:
        root = ET.fromstring(z.read(posixpath.join(folder, "_rels", base + ".rels")))
    except KeyError:
        return []
    return [dict(el.attrib) for el in root if el.tag.endswith("Relationship")]


def _part_rels(z: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """{relationship id: (type, target part)} of a package part (internal targets, made absolute)."""
    folder = posixpath.dirname(part)
    out = {}
    for rel in _rels(z, part):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External" or not target:
            continue
        out[rel.get("Id", "")] = (rel.get("Type", ""), _part(target if target.startswith("/")
                                                             else posixpath.join(folder, target)))
    return out


def package_tables(path: Path) -> dict[str, tuple[str, Ref]]:
    """Every Excel table of a workbook file as {name (lower case): (sheet, ref)}, read from the
    small table parts alone (python-calamine's table lookup loads each table's cells). Empty when
    the package cannot be read this way; callers then ask calamine or openpyxl.

    Example: ``package_tables("aftercare.xlsm")["tblrepairs"]`` → ``("报修台账", (1, 1, 2, 23))``."""
    from defusedxml import ElementTree as ET

    out: dict[str, tuple[str, Ref]] = {}
    try:
        with zipfile.ZipFile(path) as z:
            book_part = next((t for typ, t in _part_rels(z, "").values() if typ.endswith("/officeDocument")), None)
            if book_part is None:
                return {}
            rels = _part_rels(z, book_part)
            for sh in ET.fromstring(z.read(book_part)).iter(_MAIN_NS + "sheet"):
                typ, part = rels.get(sh.get(_REL_ID, ""), ("", ""))
                if not part:
                    continue
                for ttyp, tpart in _part_rels(z, part).values():
                    if not ttyp.endswith("/table"):
                        continue
                    t = ET.fromstring(z.read(tpart))
                    ref = parse_ref(t.get("ref", ""))
                    for key in {t.get("name"), t.get("displayName")} - {None}:
                        out[key.lower()] = (sh.get("name", ""), ref)
    except Exception:  # noqa: BLE001 - any surprise: the slower readers answer instead
        return {}
    return out


def _calamine(path: Path):
    """A CalamineWorkbook with its tables, or None when calamine cannot read the file."""
    try:
        from python_calamine import CalamineWorkbook

        return CalamineWorkbook.from_path(str(path), load_tables=True)
    except Exception:  # noqa: BLE001 - fall back to openpyxl, which gives the clear error
        return None


def _macro_enabled(path: Path) -> bool:
    """Keep the VBA project for .xlsm/.xltm (or any package that has one). For a plain .xlsx,
    keep_vba would make openpyxl save it with the macro-enabled content type, which Excel refuses
    to open under an .xlsx name."""
    if Path(path).suffix.lower() in (".xlsm", ".xltm"):
        return True
    try:
        with zipfile.ZipFile(path) as z:
            return "xl/vbaProject.bin" in z.namelist()
    except (zipfile.BadZipFile, OSError):
        return True


_WORKSHEET_PART = re.compile(r"xl/worksheets/[^/]+\.xml$")
_EMPTY_SHEET = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>'


@functools.lru_cache(maxsize=None)
def _reader_class():
    """openpyxl's ExcelReader with two savings that lose nothing:

    - the copy of the package it keeps for saving the VBA project (``keep_vba``) leaves out the
      worksheet parts, which its writer never takes from that copy (it takes the VBA project,
      VML drawings, ribbon and ActiveX parts, content types and root relationships);
    - sheets named in ``skip`` are read as empty placeholders (the job regenerates them; see
      :meth:`FileBook.will_replace`), so their cells are not parsed.
    """
    from openpyxl.reader.excel import ExcelReader

    class _Archive:
        def __init__(self, archive, empty: set[str]):
            self._archive, self._empty = archive, empty

        def open(self, name, *a, **kw):
            if name in self._empty:
                return io.BytesIO(_EMPTY_SHEET)
            return self._archive.open(name, *a, **kw)

        def __getattr__(self, attr):
            return getattr(self._archive, attr)

    class Reader(ExcelReader):
        skip: frozenset[str] = frozenset()

        def read_workbook(self):
            names = self.valid_files
            self.valid_files = [n for n in names if not _WORKSHEET_PART.match(n)]
            try:
                super().read_workbook()
            finally:
                self.valid_files = names

        def read_worksheets(self):
            empty = {rel.target for sheet, rel in self.parser.find_sheets()
                     if sheet.name in self.skip and _WORKSHEET_PART.match(rel.target)}
            if not empty:
                return super().read_worksheets()
            archive = self.archive
            self.archive = _Archive(archive, empty)
            try:
                super().read_worksheets()
            finally:
                self.archive = archive

    return Reader


def load(path: Path, skip: set[str] | frozenset[str] = frozenset()):
    """openpyxl load with everything kept; turns library errors into a Chinese :class:`Refused`.
    Sheets named in ``skip`` come back as empty placeholders (see :meth:`FileBook.will_replace`)."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = _reader_class()(path, keep_vba=_macro_enabled(path), keep_links=True, rich_text=True)
            reader.skip = frozenset(skip)
            reader.read()
            return reader.wb
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as e:
        raise Refused(f"无法读取工作簿「{Path(path).name}」：{type(e).__name__}: {e}") from e
    except Exception as e:  # noqa: BLE001 - corrupt xml etc.
        raise Refused(f"无法读取工作簿「{Path(path).name}」（文件可能已损坏）：{e}") from e


# ---- package repair ----------------------------------------------------------------------------
_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"


def _part(target: str) -> str:
    return posixpath.normpath(target.lstrip("/"))


def repair_package(original: Path, saved: Path) -> list[str]:
    """Put back package-level parts (root relationships and their parts, e.g. the ribbon
    ``customUI/customUI.xml`` / ``customUI14.xml`` and its images) that the save dropped.

    Returns the names of the parts restored (empty when nothing was missing; the file is then
    left as saved)."""
    from xml.sax.saxutils import quoteattr

    with zipfile.ZipFile(original) as zo:
        orels = _rels(zo, "")
        onames = set(zo.namelist())
        with zipfile.ZipFile(saved) as zs:
            srels = _rels(zs, "")
            snames = set(zs.namelist())
            have_targets = {_part(r.get("Target", "")) for r in srels}
            missing_rels = [r for r in orels
                            if _part(r.get("Target", "")) not in have_targets
                            and _part(r.get("Target", "")) in onames
                            and r.get("TargetMode") != "External"]
            if not missing_rels:
                return []
            add_parts: set[str] = set()
            for r in missing_rels:
                p = _part(r["Target"])
                folder = p.split("/")[0] + "/"
                if p not in snames:
                    add_parts.add(p)
                # the part's own relationships and what they point to (ribbon images)
                for n in onames:
                    if n.startswith(folder) and n not in snames and "/" in p:
                        add_parts.add(n)
            ct = zs.read("[Content_Types].xml").decode("utf-8")
            oct_ = zo.read("[Content_Types].xml").decode("utf-8")
            # content types: copy Overrides for the restored parts and Defaults for new extensions
            for n in sorted(add_parts | {_part(r["Target"]) for r in missing_rels}):
                pn = "/" + n
                if f'PartName="{pn}"' in ct:
                    continue
                m = re.search(r'<Override[^>]*PartName="%s"[^>]*/>' % re.escape(pn), oct_)
                if m:
                    ct = ct.replace("</Types>", m.group(0) + "</Types>")
                else:
                    ext = n.rsplit(".", 1)[-1].lower()
                    if not re.search(r'<Default[^>]*Extension="%s"' % re.escape(ext), ct, re.I):
                        md = re.search(r'<Default[^>]*Extension="%s"[^>]*/>' % re.escape(ext), oct_, re.I)
                        if md:
                            ct = ct.replace("</Types>", md.group(0) + "</Types>")
            rels_xml = zs.read("_rels/.rels").decode("utf-8")
            used_ids = set(re.findall(r'Id="([^"]+)"', rels_xml))
            extra = ""
            for r in missing_rels:
                rid = r.get("Id", "")
                k = 1
                while not rid or rid in used_ids:
                    rid = f"rIdAftercare{k}"
                    k += 1
                used_ids.add(rid)
                extra += (f"<Relationship Id={quoteattr(rid)} Type={quoteattr(r['Type'])} "
                          f"Target={quoteattr(r['Target'])}/>")
            rels_xml = rels_xml.replace("</Relationships>", extra + "</Relationships>")
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zn:
                for info in zs.infolist():
                    if info.filename == "[Content_Types].xml":
                        zn.writestr(info, ct.encode("utf-8"))
                    elif info.filename == "_rels/.rels":
                        zn.writestr(info, rels_xml.encode("utf-8"))
                    else:
                        zn.writestr(info, zs.read(info.filename))
                for n in sorted(add_parts):
                    zn.writestr(zo.getinfo(n), zo.read(n))
    saved.write_bytes(buf.getvalue())
    return sorted(add_parts)
