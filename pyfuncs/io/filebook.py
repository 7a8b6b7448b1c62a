"""A workbook file: the ``aftercare`` command's and the tests' :class:`Book`.

Reads go through python-calamine (formulas give their cached values). Writes never load the
workbook into another library: cell writes are kept per sheet (later reads see them) and, on
:meth:`FileBook.save`, patched into that sheet's XML (:mod:`pyfuncs.io.sheetxml`); a generated sheet
(:meth:`FileBook.put_sheet`) is grafted in as its own parts (:mod:`pyfuncs.io.graft`); the new file is
written by :func:`pyfuncs.io.package.write_package`, which copies every member the job did not
change as its compressed bytes, through :func:`pyfuncs.io.safe.safe_save` (temp file, backup,
symbolic links and file mode kept). Whatever Excel wrote that the job did not touch (sparklines,
x14 formats and validations, threaded comments, shapes, cached formula values) stays byte for byte.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import posixpath
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

from pyfuncs.io.book import Book, BookError, Formula, Ref, format_ref, parse_ref, to_cell  # noqa: F401
from pyfuncs.io.safe import Refused, check_file, job_lock, safe_save, KEEP_BACKUPS

_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_CALC_COL = re.compile(rb"<tableColumn\b[^>]*?(?:/>|>.*?</tableColumn>)", re.S)
_CALC_F = re.compile(rb"<calculatedColumnFormula(?:\s[^>]*)?>(.*?)</calculatedColumnFormula>", re.S)


def _bad_file(path: Path | None, e: BaseException) -> Refused:
    name = path.name if path else "工作簿"
    return Refused(f"无法读取工作簿「{name}」（文件可能已损坏）：{type(e).__name__}: {e}")


class FileBook(Book):
    def __init__(self, path: str | os.PathLike, *, verbose: bool = False, keep: int = KEEP_BACKUPS, fast=None):
        from pyfuncs.io.package import Package

        self.path = Path(path)
        self.verbose = verbose
        self.keep = keep
        self.dirty = False
        self._stack = contextlib.ExitStack()
        try:
            self._pkg = Package(self.path)
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise _bad_file(self.path, e) from e
        self._fast = fast  # a CalamineWorkbook on the file, or on the package with the changes below
        self._fast_stale = False
        self._changes: dict[str, bytes | None] = {}  # package members replaced (grafts, tables)
        self._cells: dict[str, dict[tuple[int, int], Any]] = {}  # pending cell writes by sheet
        self._formats: dict[str, dict[tuple[int, int], str]] = {}
        self._grids: dict[str, list[list[Any]]] = {}
        self._merged: dict[str, list[Ref]] = {}
        self._tables: dict[str, tuple[str, Ref]] | None = None
        self._formulas_written = False
        self._parsing: dict[str, Any] = {}  # sheet → Future of its python-calamine sheet (prefetch)
        self._pool = None
        self._prefetch_reader: list = []  # the background thread's CalamineWorkbook, once opened
        #: called with (step, total, text) for each job step (the command line's progress bar)
        self.on_progress = None

    # ---- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike, *, lock: bool = True, lock_wait: float = 5.0,
             verbose: bool = False, keep: int = KEEP_BACKUPS) -> "FileBook":
        """Open ``path`` (locked while open unless ``lock=False``); refuses files that are not
        workbooks or are unsafe to read (see :func:`pyfuncs.io.safe.check_file`)."""
        p = check_file(path)
        stack = contextlib.ExitStack()
        if lock:
            stack.enter_context(job_lock(p, wait=lock_wait))
        try:
            fast = _calamine(p)
            book = cls(p, verbose=verbose, keep=keep, fast=fast)
        except BaseException:
            stack.close()
            raise
        book._stack = stack
        return book

    def close(self) -> None:
        self._stop_prefetch()
        if self._fast is not None:
            with contextlib.suppress(Exception):
                self._fast.close()
            self._fast = None
        with contextlib.suppress(Exception):
            self._pkg.close()
        self._stack.close()

    # ---- the package as the job left it ------------------------------------------------------------
    def defined_name(self, name: str) -> str | None:
        """From workbook.xml's ``<definedNames>`` (a sheet-local name of the same name is not it)."""
        import html
        import re

        xml = self._view().get("xl/workbook.xml") or b""
        for m in re.finditer(rb"<definedName\b([^>]*)>(.*?)</definedName>", xml, re.S):
            attrs = m.group(1).decode("utf-8", "replace")
            got = re.search(r'\bname="([^"]*)"', attrs)
            if got and html.unescape(got.group(1)).lower() == name.lower() and "localSheetId" not in attrs:
                return html.unescape(m.group(2).decode("utf-8", "replace")).lstrip("=")
        return None

    def _view(self):
        from pyfuncs.io.package import Changed

        return Changed(self._pkg, self._changes)

    def _reader(self):
        """python-calamine on the file, or on the package with the grafts so far."""
        if self._fast_stale or self._fast is None:
            from pyfuncs.io.package import write_package

            with contextlib.suppress(Exception):
                if self._fast is not None:
                    self._fast.close()
            try:
                from python_calamine import CalamineWorkbook

                if not self._changes:
                    self._fast = CalamineWorkbook.from_path(str(self.path))
                else:
                    buf = io.BytesIO()
                    write_package(self.path, self._changes, buf, level=1)
                    buf.seek(0)
                    self._fast = CalamineWorkbook.from_filelike(buf)
            except Exception as e:  # noqa: BLE001
                raise _bad_file(self.path, e) from e
            self._fast_stale = False
        return self._fast

    def _sheet_parts(self) -> dict[str, str]:
        from pyfuncs.io.package import sheet_parts

        return sheet_parts(self._view())

    # ---- sheets ----------------------------------------------------------------------------------
    def sheet_names(self) -> list[str]:
        try:
            return list(self._reader().sheet_names)
        except BookError:
            raise
        except Exception as e:  # noqa: BLE001
            raise _bad_file(self.path, e) from e

    def _need(self, sheet: str) -> None:
        if sheet not in self.sheet_names():
            raise BookError(f"工作簿中没有工作表「{sheet}」")

    def new_sheet(self, name: str, template: str | None = None, index: int | None = None) -> None:
        """An empty sheet ``name`` (a template copy is not supported by the file writer)."""
        if template is not None:
            raise NotImplementedError("FileBook.new_sheet(template=...)")
        from pyfuncs.layout import Layout

        names = self.sheet_names()
        after = names[index - 1] if index and 0 < index <= len(names) else None
        self.put_sheet(Layout(name), after=after)

    def delete_sheet(self, name: str) -> None:
        if name not in self.sheet_names():
            return
        from pyfuncs.io.graft import remove_sheet

        self._changes.update(remove_sheet(self._view(), name))
        self._forget(name)

    def _forget(self, sheet: str) -> None:
        self._parsing.pop(sheet, None)
        self._cells.pop(sheet, None)
        self._formats.pop(sheet, None)
        self._grids.pop(sheet, None)
        self._merged.pop(sheet, None)
        self._tables = None
        self._fast_stale = True
        self.dirty = True

    def put_sheet(self, lay, *, after: str | None = None) -> None:
        from pyfuncs.io.graft import graft_layout

        self._changes.update(graft_layout(self._view(), lay, after=after))
        self._forget(lay.name)

    # ---- reading ---------------------------------------------------------------------------------
    def prefetch(self, sheets) -> None:
        """Parse ``sheets`` in a background thread, in this order, while the job works on what it
        has read: python-calamine lets go of the GIL while it parses. Each is guarded there first
        (as :meth:`_guard` does); a sheet's error comes
        out when it is read. Only on the file as opened."""
        if self._changes or self._fast_stale:
            return
        names = set(self._reader().sheet_names)
        todo = [s for s in dict.fromkeys(sheets) if s in names and s not in self._grids and s not in self._parsing]
        if not todo:
            return
        from concurrent.futures import ThreadPoolExecutor

        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aftercare-read")
        reader = self._prefetch_reader
        view, parts = self._view(), self._sheet_parts()

        def parse(sheet: str):
            # the guard first, as for a sheet read on demand (inflating the part lets go of the
            # GIL too); the package reads members under its zip file's lock
            from python_calamine import CalamineWorkbook

            _guard_sheet(view, parts, sheet)
            if not reader:
                reader.append(CalamineWorkbook.from_path(str(self.path)))
            return reader[0].get_sheet_by_name(sheet)

        for sheet in todo:
            self._parsing[sheet] = self._pool.submit(parse, sheet)

    def _stop_prefetch(self) -> None:
        """Wait for the background parse and close its reader (nothing may hold the file when
        it is replaced)."""
        self._parsing.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        while self._prefetch_reader:
            with contextlib.suppress(Exception):
                self._prefetch_reader.pop().close()

    def _grid(self, sheet: str) -> list[list[Any]]:
        """The calamine value grid of a sheet from A1 (cached values for formulas)."""
        g = self._grids.get(sheet)
        if g is None:
            fut = self._parsing.pop(sheet, None)
            fast = self._reader()
            if sheet not in fast.sheet_names:
                raise BookError(f"工作簿中没有工作表「{sheet}」")
            if fut is None:
                self._guard(sheet)
            try:
                # parses the sheet: once, for values and merges (or the prefetch did)
                ws = fast.get_sheet_by_name(sheet) if fut is None else fut.result()
                self._merged[sheet] = [(a[0] + 1, a[1] + 1, b[0] + 1, b[1] + 1)
                                       for a, b in (ws.merged_cell_ranges or [])]
                # '' as None, whole floats as int (inline: this runs once per cell of the sheet)
                g = [[None if v == "" else int(v) if type(v) is float and v.is_integer() and abs(v) < 2**53 else v
                      for v in row] for row in ws.to_python(skip_empty_area=False) if row is not None]
            except Refused:
                raise
            except Exception as e:  # noqa: BLE001
                raise Refused(f"无法读取工作簿「{self.path.name}」的工作表「{sheet}」（文件可能已损坏）："
                              f"{type(e).__name__}: {e}") from e
            self._grids[sheet] = g
            if fut is not None:
                del ws, fut
                _trim_heap()  # the sheet parsed in the other thread was freed in that thread's heap
        return g

    def _guard(self, sheet: str) -> None:
        """Refuse a sheet whose used range would make calamine allocate a huge grid."""
        _guard_sheet(self._view(), self._sheet_parts(), sheet)

    def extent(self, sheet: str) -> tuple[int, int]:
        g = self._grid(sheet)
        rows, cols = (len(g), max((len(r) for r in g), default=0)) if g else (0, 0)
        for (r, c), v in self._cells.get(sheet, {}).items():
            if v is not None:
                rows, cols = max(rows, r), max(cols, c)
        return rows, cols

    def read(self, sheet: str, ref: Ref) -> list[list[Any]]:
        t, l, b, r = ref
        if b < t or r < l:
            return []
        g = self._grid(sheet)
        width = r - l + 1
        out = []
        for row in range(t - 1, b):
            src = g[row] if row < len(g) else []
            vals = src[l - 1:r]
            out.append(vals + [None] * (width - len(vals)) if len(vals) < width else vals)
        for i, j, v in self._pending_in(sheet, ref):
            out[i][j] = v
        return out

    def _pending_in(self, sheet: str, ref: Ref):
        """(row offset, column offset, value as it reads) of the writes not yet saved inside
        ``ref``: a written formula reads as None until Excel computes it."""
        t, l, b, r = ref
        for (pr, pc), v in (self._cells.get(sheet) or {}).items():
            if t <= pr <= b and l <= pc <= r:
                yield pr - t, pc - l, None if isinstance(v, Formula) else v

    def read_columns(self, sheet: str, ref: Ref) -> list[list[Any]]:
        """:meth:`read` as columns, cut from the value grid in one transposition."""
        t, l, b, r = ref
        if b < t or r < l:
            return [[] for _ in range(max(r - l + 1, 0))]
        g = self._grid(sheet)
        rows = g[t - 1:b]
        width = r - l + 1
        if any(len(row) < r for row in rows):  # calamine's rows are as wide as the sheet; pad if not
            rows = [row[l - 1:r] + [None] * (width - len(row[l - 1:r])) for row in rows]
        else:
            rows = [row[l - 1:r] for row in rows]
        cols = [list(c) for c in zip(*rows)] if rows else [[] for _ in range(width)]
        missing = b - t + 1 - len(rows)  # rows below the grid
        if missing:
            for c in cols:
                c.extend([None] * missing)
        for i, j, v in self._pending_in(sheet, ref):
            cols[j][i] = v
        return cols

    def table_ref(self, sheet: str, name: str) -> Ref | None:
        if self._tables is None:
            self._tables = package_tables(self._view())
        self._need(sheet)
        hit = self._tables.get(name.lower())
        return hit[1] if hit and hit[0] == sheet else None

    def merged(self, sheet: str) -> list[Ref]:
        self._grid(sheet)
        return list(self._merged.get(sheet, []))

    # ---- writing ---------------------------------------------------------------------------------
    def write(self, sheet: str, top: int, left: int, rows: list[list[Any]],
              number_formats: list[str | None] | None = None) -> None:
        fmts = number_formats or []
        self._store(sheet, (((top + i, left + j), v, fmts[j] if j < len(fmts) else None)
                            for i, row in enumerate(rows) for j, v in enumerate(row)))

    def write_cells(self, sheet: str, cells: dict[tuple[int, int], Any],
                    number_formats: dict[int, str | None] | None = None) -> None:
        """Scattered cells in one go (the file book has no round trips to save)."""
        if not cells:
            return
        fmts = number_formats or {}
        self._store(sheet, ((rc, v, fmts.get(rc[1])) for rc, v in cells.items()))

    def _store(self, sheet: str, entries) -> None:
        """Record (cell, value, number format) writes for the save: a merge's covered cells are
        skipped, values normalised (text stripped of illegal characters, Formula kept apart)."""
        self._need(sheet)
        merges = [m for m in self.merged(sheet) if m[0] != m[2] or m[1] != m[3]]
        out = self._cells.setdefault(sheet, {})
        fmts = self._formats.setdefault(sheet, {})
        for rc, v, fmt in entries:
            if merges and any(mt <= rc[0] <= mb and ml <= rc[1] <= mr and rc != (mt, ml)
                              for mt, ml, mb, mr in merges):
                continue
            t = type(v)
            if t is str:  # the common case: no conversion, usually nothing to strip
                v = (_ILLEGAL.sub("", v) if _ILLEGAL.search(v) else v) if v.strip() else None
            elif not (t is int or t is dt.date or t is bool or v is None):
                v = to_cell(v)
                if isinstance(v, str):
                    v = (Formula if isinstance(v, Formula) else str)(_ILLEGAL.sub("", v))
                    if isinstance(v, Formula):
                        self._formulas_written = True
            out[rc] = v
            if fmt:
                fmts[rc] = fmt
            else:
                fmts.pop(rc, None)
        self.dirty = True

    def _table_part(self, sheet: str, name: str) -> str | None:
        from pyfuncs.io.package import sheet_table_parts

        view = self._view()
        for part in sheet_table_parts(view, self._sheet_parts().get(sheet, "")):
            head = view[part][:2000]
            m = re.search(rb'<table\b[^>]*>', head)
            if m and any(a.lower() == name.lower().encode() for a in
                         re.findall(rb'\s(?:name|displayName)="([^"]*)"', m.group(0))):
                return part
        return None

    def resize_table(self, sheet: str, name: str, ref: Ref) -> None:
        part = self._table_part(sheet, name)
        if part is None:
            raise BookError(f"工作表「{sheet}」中没有表格 {name}")
        xml = self._view()[part]
        m = re.search(rb'<table\b[^>]*>', xml)
        old = re.search(rb'\sref="([^"]*)"', m.group(0))
        new = format_ref(ref).encode()
        if old is None or old.group(1) == new:
            return
        old_ref = parse_ref(old.group(1).decode())
        tag = m.group(0).replace(old.group(0), b' ref="' + new + b'"', 1)
        xml = xml[:m.start()] + tag + xml[m.end():]
        xml = re.sub(rb'(<autoFilter\b[^>]*?\sref=")[^"]*(")', lambda a: a.group(1) + new + a.group(2), xml, count=1)
        self._changes[part] = xml
        self._tables = None
        self.dirty = True
        self._fill_calculated_columns(sheet, xml, ref, old_ref[2])

    def _fill_calculated_columns(self, sheet: str, table_xml: bytes, ref: Ref, old_bottom: int) -> None:
        """New table rows get the table's calculated-column formulas (as Excel does when a table
        grows), e.g. a formula column staff added inside the table."""
        from html import unescape

        top, left, bottom, _ = ref
        if bottom <= old_bottom:
            return
        for j, col in enumerate(_CALC_COL.findall(table_xml)):
            f = _CALC_F.search(col)
            if not f:
                continue
            text = unescape(f.group(1).decode())
            now = self.read(sheet, (old_bottom + 1, left + j, bottom, left + j))
            blank = [[Formula("=" + text.lstrip("="))] if row[0] is None and
                     not isinstance(self._cells.get(sheet, {}).get((old_bottom + 1 + i, left + j)), Formula)
                     else [row[0]] for i, row in enumerate(now)]
            for i, (v,) in enumerate(blank):
                if isinstance(v, Formula):
                    self.write(sheet, old_bottom + 1 + i, left + j, [[v]])

    def add_table(self, sheet: str, name: str, ref: Ref, style: str = "TableStyleMedium2") -> None:
        raise NotImplementedError("FileBook.add_table: generated sheets carry their tables in their Layout")

    def set_status(self, text: str | None) -> None:
        if self.verbose and text:
            print(text, file=sys.stderr)

    def progress(self, step: int, total: int, text: str) -> None:
        if self.on_progress is not None:
            self.on_progress(step, total, text)
        else:
            super().progress(step, total, text)

    @property
    def native(self):
        """The package as the job left it (a read-only mapping of member name → bytes)."""
        return self._view()

    # ---- saving ------------------------------------------------------------------------------------
    def changes(self, deflate: bool = False) -> dict[str, Any]:
        """Every member to change in the file: the grafts and table parts, and each sheet with
        written cells patched (and styles.xml when a written cell needed a new number format).
        ``deflate``: the patched sheets come deflated (:class:`pyfuncs.io.package.Deflated`),
        compressed in another thread while they are patched."""
        from pyfuncs.io.package import Deflater
        from pyfuncs.io.sheetxml import CellStyles, patch_cells

        changes = dict(self._changes)
        view = self._view()
        parts = self._sheet_parts()
        styles_part = _styles_part(view)
        styles = CellStyles(view[styles_part] if styles_part and styles_part in view else None)
        replaced: list = []
        deflaters: dict[str, Deflater] = {}
        try:
            # the largest sheet first: its last pieces are deflated while the others are patched
            for sheet, cells in sorted(self._cells.items(), key=lambda kv: -len(view.get(parts.get(kv[0]), b""))):
                if not cells or sheet not in parts:
                    continue
                part = parts[sheet]
                heights = wrapped_heights(view[part], styles.xml, cells)
                if deflate:
                    deflaters[part] = Deflater()
                    patch_cells(view[part], cells, styles, self._formats.get(sheet), replaced, heights=heights,
                                sink=deflaters[part].write)
                else:
                    changes[part] = patch_cells(view[part], cells, styles, self._formats.get(sheet), replaced,
                                                heights=heights)
        finally:  # every deflating thread ends, also when a patch failed
            for part, d in deflaters.items():
                changes[part] = d.close()
        if replaced:  # a formula became a value: Excel "repairs" a file whose calcChain lists it
            changes.update(_without_calc_chain(view, changes))
        if styles.changed:
            changes[styles_part] = styles.xml
        if self._formulas_written:
            wb = _workbook_part(view)
            if wb:
                changes[wb] = _full_calc_on_load(changes.get(wb) or view[wb])
        return changes

    def save(self, path: str | os.PathLike | None = None) -> Path | None:
        """Save safely over the original (or to ``path``); returns the backup's path, if any."""
        from pyfuncs.io.package import write_package

        target = Path(path) if path else self.path
        # the value grids are a reading cache: let them go before the patched sheets are built,
        # which is when memory peaks (they are read again if the book is read after saving)
        self._grids.clear()
        changes = self.changes(deflate=True)

        def write(tmp: Path) -> None:
            write_package(self.path, changes, tmp)

        # nothing of ours holds the file open while it is replaced (Windows refuses to replace an
        # open file); the package is opened again afterwards, on whichever file is now there
        same = Path(target).resolve() == self.path.resolve()
        self._release()
        try:
            bak = safe_save(target, write, keep=self.keep)
        finally:
            self._reopen()
        self.dirty = False
        if same:
            self._changes.clear()
            self._cells.clear()
            self._formats.clear()
            self._grids.clear()
            self._merged.clear()
            self._tables = None
            self._formulas_written = False
        return bak

    def _release(self) -> None:
        self._stop_prefetch()
        with contextlib.suppress(Exception):
            self._pkg.close()
        if self._fast is not None:
            with contextlib.suppress(Exception):
                self._fast.close()
            self._fast = None

    def _reopen(self) -> None:
        from pyfuncs.io.package import Package

        self._pkg = Package(self.path)
        self._fast_stale = True


def _guard_sheet(view, parts: dict[str, str], sheet: str) -> None:
    """:func:`pyfuncs.io.guard.check_used_range` on ``sheet``'s part in the package ``view``."""
    from pyfuncs.io.guard import check_used_range

    part = parts.get(sheet)
    if part and part in view:
        check_used_range(view[part], sheet)


def _trim_heap() -> None:
    """Give the C heap's free pages back to the system (glibc keeps a heap per thread: what a
    background parse freed would otherwise stay in the process's resident memory)."""
    import ctypes
    import ctypes.util

    global _LIBC
    if _LIBC is None:
        try:
            _LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _LIBC.malloc_trim.argtypes = [ctypes.c_size_t]
        except (OSError, AttributeError):
            _LIBC = False
    if _LIBC:
        _LIBC.malloc_trim(0)


_LIBC = None


def wrapped_heights(sheet_xml: bytes, styles_xml: bytes | None, cells: dict) -> dict[int, float]:
    """Row → the height written text needs in a column whose format wraps text (``<col style>``
    with ``wrapText``), from the column's width: a file's rows are not re-fitted when Excel or
    LibreOffice opens it, so a long 提示 would otherwise show one line of itself."""
    import math

    from pyfuncs.layout import text_width

    if not styles_xml:
        return {}
    head = sheet_xml[:max(sheet_xml.find(b"<sheetData"), 0)]
    xfs_block = re.search(rb"<cellXfs\b.*?</cellXfs>", styles_xml, re.S)
    if not head or xfs_block is None:
        return {}
    xfs = re.findall(rb"<xf\b[^>]*/>|<xf\b.*?</xf>", xfs_block.group(0), re.S)
    widths: dict[int, float] = {}
    for m in re.finditer(rb"<col\b[^>]*>", head):
        a = m.group(0)
        st, w = re.search(rb'\sstyle="(\d+)"', a), re.search(rb'\swidth="([\d.]+)"', a)
        lo, hi = re.search(rb'\smin="(\d+)"', a), re.search(rb'\smax="(\d+)"', a)
        if st and w and lo and hi and int(st.group(1)) < len(xfs) and b'wrapText="1"' in xfs[int(st.group(1))]:
            for c in range(int(lo.group(1)), min(int(hi.group(1)), int(lo.group(1)) + 200) + 1):
                widths[c] = float(w.group(1))
    out: dict[int, float] = {}
    if not widths:
        return out
    for (r, c), v in cells.items():
        width = widths.get(c)
        if width and isinstance(v, str) and v:
            n = sum(max(1, math.ceil(text_width(part) / max(width - 1, 2))) for part in v.split("\n"))
            if n > 1:
                out[r] = max(out.get(r, 0.0), round(13.5 * n + 3, 1))
    return out


def _styles_part(view) -> str | None:
    wb = _workbook_part(view)
    if not wb:
        return None
    for typ, target in _part_rels(_MapReader(view), wb).values():
        if typ.endswith("/styles"):
            return target
    return None


def _workbook_part(view) -> str | None:
    return next((t for typ, t in _part_rels(_MapReader(view), "").values() if typ.endswith("/officeDocument")), None)


def _without_calc_chain(view, changes: dict[str, bytes | None]) -> dict[str, bytes | None]:
    """The members to change to drop xl/calcChain.xml (Excel rebuilds it on the next save)."""
    wb = _workbook_part(view)
    if not wb:
        return {}
    chain = next((t for typ, t in _part_rels(_MapReader(view), wb).values() if typ.endswith("/calcChain")), None)
    if chain is None:
        return {}
    folder, base = posixpath.split(wb)
    rels_name = posixpath.join(folder, "_rels", base + ".rels")
    rels = changes.get(rels_name) or view[rels_name]
    rels = re.sub(rb"<Relationship\b[^>]*?/calcChain\"[^>]*/>", b"", rels)
    ct = changes.get("[Content_Types].xml") or view["[Content_Types].xml"]
    ct = re.sub(rb'<Override\b[^>]*PartName="/' + re.escape(chain.encode()) + rb'"[^>]*/>', b"", ct)
    return {chain: None, rels_name: rels, "[Content_Types].xml": ct}


def _full_calc_on_load(wb_xml: bytes) -> bytes:
    """workbook.xml asking Excel to compute every formula on open (written formulas have no
    cached value)."""
    m = re.search(rb"<calcPr\b[^>]*?/?>", wb_xml)
    if m is None:
        i = wb_xml.find(b"</workbook>")
        return wb_xml[:i] + b'<calcPr fullCalcOnLoad="1"/>' + wb_xml[i:] if i >= 0 else wb_xml
    tag = m.group(0)
    if b"fullCalcOnLoad=" in tag:
        tag = re.sub(rb'fullCalcOnLoad="[^"]*"', b'fullCalcOnLoad="1"', tag)
    else:
        tag = b'<calcPr fullCalcOnLoad="1"' + tag[len(b"<calcPr"):]
    return wb_xml[:m.start()] + tag + wb_xml[m.end():]


class _MapReader:
    """A Mapping of members seen as something with ``read(name)`` (what the helpers below take)."""

    def __init__(self, parts):
        self.parts = parts

    def read(self, name: str) -> bytes:
        return self.parts[name]


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


def package_tables(path) -> dict[str, tuple[str, Ref]]:
    """Every Excel table of a workbook file as {name (lower case): (sheet, ref)}, read from the
    small table parts alone (``path``: a file, or a Mapping of members) (python-calamine's table lookup loads each table's cells). Empty when
    the package cannot be read this way; callers then ask calamine or openpyxl.

    Example: ``package_tables("aftercare.xlsm")["tblrepairs"]`` → ``("报修台账", (1, 1, 2, 23))``."""
    from defusedxml import ElementTree as ET

    out: dict[str, tuple[str, Ref]] = {}
    try:
        with (contextlib.nullcontext(_MapReader(path)) if not isinstance(path, (str, os.PathLike))
              else zipfile.ZipFile(path)) as z:
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
    """A CalamineWorkbook on the file; a file calamine cannot open is refused in Chinese."""
    try:
        from python_calamine import CalamineWorkbook

        return CalamineWorkbook.from_path(str(path))
    except Exception as e:  # noqa: BLE001
        raise _bad_file(Path(path), e) from e


def _part(target: str) -> str:
    return posixpath.normpath(target.lstrip("/"))
