"""``aftercare configure PATH``: point the workbook's ``xlwings.conf`` sheet at this Python.

xlwings reads the ``xlwings.conf`` sheet from A1 down to the first blank row, key in column A
(case-insensitive), value in column B. The build leaves ``Interpreter_Win`` / ``Interpreter_Mac``
and ``PYTHONPATH`` blank; this fills them for the machine it runs on:

- ``Interpreter_Win`` (Windows; ``Interpreter_Mac`` on macOS): ``pythonw.exe`` beside the running
  ``python.exe`` when it exists (no console window flashes), else the running interpreter;
- ``PYTHONPATH``: the folder that holds the ``pyfuncs`` package, unless the package is installed
  in site-packages (then Python finds it anyway and the value is left blank);
- ``UDF Modules``: ``pyfuncs.udfs`` when blank.

The file is opened and saved through :class:`pyfuncs.io.filebook.FileBook`: refused while Excel has
it open, locked against a concurrent job, written to a temporary file in the same folder and then
moved over the original (a backup is kept in ``.aftercare-backup/``).

Example::

    >>> import tempfile, pathlib
    >>> from pyfuncs.build import build_workbook
    >>> p = build_workbook(pathlib.Path(tempfile.mkdtemp()) / "a.xlsm")     # doctest: +SKIP
    >>> configure_workbook(p, interpreter=r"C:\\Py\\pythonw.exe", platform="win")  # doctest: +SKIP
    {'Interpreter_Win': 'C:\\\\Py\\\\pythonw.exe', 'PYTHONPATH': '...', 'UDF Modules': 'pyfuncs.udfs'}
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pyfuncs.schema import CONF_SHEET

UDF_MODULES_KEY = "UDF Modules"
UDF_MODULE = "pyfuncs.udfs"


def default_interpreter(platform: str | None = None) -> str:
    """The interpreter Excel should start: ``pythonw.exe`` next to ``python.exe`` on Windows."""
    exe = Path(sys.executable)
    if (platform or _platform()) == "win":
        w = exe.with_name("pythonw.exe")
        if w.exists():
            return str(w)
    return str(exe)


def package_dir() -> Path | None:
    """The folder to put on PYTHONPATH so ``import pyfuncs`` works, or None when installed."""
    import pyfuncs

    parent = Path(pyfuncs.__file__).resolve().parent.parent
    if parent.name in ("site-packages", "dist-packages"):
        return None
    return parent


def _platform() -> str:
    return "mac" if sys.platform == "darwin" else "win"


def conf_block(ws) -> dict[str, int]:
    """UPPERCASE key → row of the contiguous key block starting at A1 (what xlwings reads)."""
    rows: dict[str, int] = {}
    r = 1
    while True:
        key = ws.cell(row=r, column=1).value
        if key is None or str(key).strip() == "":
            return rows
        rows.setdefault(str(key).strip().upper(), r)
        r += 1


def set_conf(ws, key: str, value) -> int:
    """Set ``key`` in the key block (adding a row at its end, before any blank line); returns the row."""
    rows = conf_block(ws)
    row = rows.get(key.upper())
    if row is None:
        row = (max(rows.values()) + 1) if rows else 1
        if ws.cell(row=row, column=1).value not in (None, "") or ws.cell(row=row + 1, column=1).value not in (None, ""):
            ws.insert_rows(row)
        ws.cell(row=row, column=1, value=key)
    ws.cell(row=row, column=2, value=value)
    return row


def configure_book(wb, *, interpreter: str | None = None, pythonpath: str | None = None,
                   platform: str | None = None) -> dict[str, str]:
    """Fill the ``xlwings.conf`` sheet of an openpyxl workbook; returns what was written."""
    from pyfuncs.build import CONF_ROWS

    platform = platform or _platform()
    if CONF_SHEET in wb.sheetnames:
        ws = wb[CONF_SHEET]
    else:
        ws = wb.create_sheet(CONF_SHEET)
        for i, (k, v) in enumerate(CONF_ROWS, start=1):
            ws.cell(row=i, column=1, value=k)
            ws.cell(row=i, column=2, value=v)
    written = _paths_to_write(interpreter, pythonpath, platform)
    rows = conf_block(ws)
    current_udf = ws.cell(row=rows[UDF_MODULES_KEY.upper()], column=2).value if UDF_MODULES_KEY.upper() in rows else None
    if not current_udf:
        written[UDF_MODULES_KEY] = UDF_MODULE
    for k, v in written.items():
        set_conf(ws, k, v or None)
    return written


def _paths_to_write(interpreter: str | None, pythonpath: str | None, platform: str) -> dict[str, str]:
    """The interpreter key of ``platform`` and PYTHONPATH (defaults: this Python, pyfuncs' folder)."""
    key = "Interpreter_Mac" if platform == "mac" else "Interpreter_Win"
    if pythonpath is None:
        pd = package_dir()
        pythonpath = str(pd) if pd else ""
    return {key: interpreter or default_interpreter(platform), "PYTHONPATH": pythonpath}


def configure_file_book(book, *, interpreter: str | None = None, pythonpath: str | None = None,
                        platform: str | None = None) -> dict[str, str]:
    """Fill the ``xlwings.conf`` sheet of a :class:`~pyfuncs.io.book.Book` through its read/write
    primitives (keys in column A from A1, values in B; a missing key is added below the block);
    returns what was written."""
    from pyfuncs.build import CONF_ROWS
    from pyfuncs.layout import Layout

    platform = platform or _platform()
    if CONF_SHEET not in book.sheet_names():
        lay = Layout(CONF_SHEET)
        for i, (k, v) in enumerate(CONF_ROWS, start=1):
            lay.put(i, 1, k)
            lay.put(i, 2, v)
        book.put_sheet(lay)
    written = _paths_to_write(interpreter, pythonpath, platform)
    last, _ = book.extent(CONF_SHEET)
    cells = book.read(CONF_SHEET, (1, 1, max(last, 1), 2))
    rows: dict[str, int] = {}
    for r, (k, _v) in enumerate(cells, start=1):
        if k is None or str(k).strip() == "":
            break
        rows.setdefault(str(k).strip().upper(), r)
    current_udf = cells[rows[UDF_MODULES_KEY.upper()] - 1][1] if UDF_MODULES_KEY.upper() in rows else None
    if not current_udf:
        written[UDF_MODULES_KEY] = UDF_MODULE
    end = max(rows.values(), default=0)
    for k, v in written.items():
        row = rows.get(k.upper())
        if row is None:
            end += 1
            last, width = book.extent(CONF_SHEET)
            if last >= end:  # the blank line and the notes below the block move down one row
                below = book.read(CONF_SHEET, (end, 1, last, width))
                book.write(CONF_SHEET, end + 1, 1, below)
            row = rows[k.upper()] = end
            book.write(CONF_SHEET, row, 1, [[k, v or None]])
        else:
            book.write(CONF_SHEET, row, 2, [[v or None]])
    return written


def configure_workbook(path: str | os.PathLike, *, interpreter: str | None = None,
                       pythonpath: str | None = None, platform: str | None = None) -> dict[str, str]:
    """Open ``path``, fill its ``xlwings.conf`` sheet, save it safely; returns what was written."""
    from pyfuncs.io.filebook import FileBook

    book = FileBook.open(path)
    try:
        written = configure_file_book(book, interpreter=interpreter, pythonpath=pythonpath, platform=platform)
        book.save()
    finally:
        book.close()
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="aftercare configure",
                                 description="把本机 Python 的路径写入工作簿的 xlwings.conf 工作表")
    ap.add_argument("path", help="工作簿路径，如 aftercare.xlsm")
    ap.add_argument("--interpreter", help="Python 解释器路径（默认：当前 Python，Windows 上用 pythonw.exe）")
    ap.add_argument("--pythonpath", help="pyfuncs 所在目录（默认：自动判断）")
    args = ap.parse_args(argv)
    from pyfuncs.io.book import BookError

    try:
        written = configure_workbook(args.path, interpreter=args.interpreter, pythonpath=args.pythonpath)
    except BookError as e:
        print(str(e), file=sys.stderr)
        return 2
    for k, v in written.items():
        print(f"{k} = {v}")
    print(f"已写入「{Path(args.path).name}」的 {CONF_SHEET} 工作表。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
