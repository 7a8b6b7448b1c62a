"""The one guard before python-calamine parses a sheet: how large is its used range?

python-calamine builds the whole rectangle of a sheet in memory; one stray cell at XFD1048576 would
ask for hundreds of GB and abort the process (a Rust abort, no Python exception). :func:`used_range`
reads the cell references of a worksheet part in chunks without parsing the XML;
:func:`sheet_too_large` decides and :func:`check_used_range` refuses, with a Chinese message naming
the sheet and the far cell, a sheet whose rectangle is larger than :data:`MAX_SHEET_CELLS` and
mostly empty (more than :data:`SPARSE` times the cells it holds: a stray far cell), or larger than
:data:`HARD_MAX_CELLS` whatever it holds. A real 200,000-ticket ledger (5.8 million cells, nearly
all filled) is read.

Example::

    >>> xml = b'<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c><c r="C1"><v>2</v></c></row></sheetData></worksheet>'
    >>> used_range(xml)
    (1, 3)
    >>> check_used_range(xml.replace(b'"C1"', b'"XFD1048576"'), "报修台账")
    Traceback (most recent call last):
    ...
    pyfuncs.io.safe.Refused: 工作表「报修台账」的已用区域过大（1,048,576 行 × 16,384 列，最远的单元格在 XFD1048576），可能有远处的单元格被误填了内容；请在 Excel 中删除多余的行和列、保存后再运行。
"""
from __future__ import annotations

import contextlib
import re
from pathlib import Path

from pyfuncs.io.book import col_letter
from pyfuncs.io.safe import Refused

#: A sheet whose used range is at most this is always read. python-calamine builds the whole
#: rectangle in memory (a stray cell at XFD1048576 would ask for hundreds of GB and abort the
#: process). A 20,000-ticket ledger is 29 columns × 20,001 rows ≈ 580,000 cells.
MAX_SHEET_CELLS = 5_000_000
#: A larger rectangle is read only when its cells fill at least 1/SPARSE of it (a far stray cell
#: makes a rectangle thousands of times the cells).
SPARSE = 4
#: Never read: about 1.3 GB in calamine alone (a full 1,048,576-row sheet of 29 columns is 30 million).
HARD_MAX_CELLS = 40_000_000

_CELL_COL = re.compile(rb'<c r="([A-Z]+)')
_CELL_ROW = re.compile(rb'<c r="[A-Z]+([0-9]+)')
_CELL_TAG = re.compile(rb'<c(?=[\s>/])[^>]*>')
_REF = re.compile(rb'\br="([A-Z]+)([0-9]+)"')
_ROW = re.compile(rb'<row\s[^>]*?\br="([0-9]+)"')
_DIMENSION = re.compile(rb'<dimension\s+ref="([^"]*)"')


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _chunks(path, part: str | None):
    """The part's XML in pieces of about 4 MB, each cut just before a ``<`` so no tag is split
    (``path``: a workbook file and ``part`` its member, or the part's bytes and ``part`` None)."""
    import io
    import zipfile

    with (contextlib.nullcontext(io.BytesIO(path)) if part is None else zipfile.ZipFile(path)) as z, \
            (contextlib.nullcontext(z) if part is None else z.open(part)) as f:
        carry = b""
        while True:
            chunk = f.read(1 << 22)
            if not chunk:
                if carry:
                    yield carry
                return
            buf = carry + chunk
            cut = buf.rfind(b"<")
            if cut <= 0:
                carry = buf
                continue
            yield buf[:cut]
            carry = buf[cut:]


def used_range(path, part: str | None = None, *, exact: bool = False) -> tuple[int, int]:
    """(last row, last column) of the cells of a worksheet part (``path`` a file and ``part`` its
    member, or the part's bytes), read in chunks without parsing the XML: the rectangle python-calamine builds in memory is at most that large.

    The quick way reads every ``<c r="..."`` reference, styled empty cells included (an
    over-estimate); ``exact`` reads every cell tag and leaves out the empty ones
    (``<c r="XFD1" s="3"/>``, which calamine ignores). A cell without ``r`` (its position is
    implied by its order) makes the quick way fall back to the exact one for that chunk and
    counts as one more column."""
    return _scan(path, part, exact)[:2]


def _scan(path, part: str | None, exact: bool) -> tuple[int, int, int]:
    """(last row, last column, cells): the cells are every ``<c`` tag the quick way, the cells
    with a value the exact way."""
    max_row = max_col = row_tags = cells = 0
    for buf in _chunks(path, part):
        tags = buf.count(b"<c ") + buf.count(b"<c>") + buf.count(b"<c/")
        quick = not exact and buf.count(b'<c r="') == tags
        if quick:
            cells += tags
            cols = set(_CELL_COL.findall(buf))
            if cols:
                max_col = max(max_col, max(_col_number(c) for c in cols))
                max_row = max(max_row, max(int(r) for r in set(_CELL_ROW.findall(buf))))
            continue
        implied = False
        for tag in _CELL_TAG.findall(buf):
            if tag.endswith(b"/>"):
                continue  # no value
            cells += 1
            m = _REF.search(tag)
            if m:
                max_col = max(max_col, _col_number(m.group(1)))
                max_row = max(max_row, int(m.group(2)))
            else:
                max_col += 1
                implied = True
        row_tags += buf.count(b"<row ") + buf.count(b"<row>")
        if implied:  # implied cells sit in their row (its ``r``, or its place among the rows)
            rows = _ROW.findall(buf)
            max_row = max(max_row, row_tags, *(int(r) for r in rows))
    return max_row, max_col, cells


def _greater_number(n: int) -> bytes:
    """A regular expression for a whole number (no leading zero) greater than ``n``.

    >>> import re
    >>> p = re.compile(b"(?:" + _greater_number(20001) + b")$")
    >>> [k for k in (9, 20001, 20002, 20010, 29999, 30000, 99999, 100000) if p.match(str(k).encode())]
    [20002, 20010, 29999, 30000, 99999, 100000]
    """
    s = str(n)
    alts = [b"[1-9][0-9]{%d,}" % len(s)]
    for i, ch in enumerate(s):
        if ch != "9":
            alts.append(s[:i].encode() + b"[%d-9][0-9]{%d}" % (int(ch) + 1, len(s) - i - 1))
    return b"|".join(alts)


def _greater_column(n: int) -> bytes:
    """A regular expression for column letters after column ``n``.

    >>> import re
    >>> p = re.compile(b"(?:" + _greater_column(29) + b")$")   # AC
    >>> [c for c in ("Z", "AC", "AD", "AZ", "BA", "ZZ", "AAA") if p.match(c.encode())]
    ['AD', 'AZ', 'BA', 'ZZ', 'AAA']
    """
    s = col_letter(n)
    alts = [b"[A-Z]{%d,}" % (len(s) + 1)]
    for i, ch in enumerate(s):
        if ch != "Z":
            alts.append(s[:i].encode() + b"[%s-Z][A-Z]{%d}" % (chr(ord(ch) + 1).encode(), len(s) - i - 1))
    return b"|".join(alts)


def _claimed(xml: bytes) -> tuple[int, int, int] | None:
    """(rows, columns, cells) from the sheet's ``<dimension ref>`` when one search over the part
    finds no cell outside it and every cell has its ``r`` (as Excel writes them): the quick scan
    without reading every reference. None when that cannot be told."""
    head = xml[:xml.find(b"<sheetData") + 1 or 4096]
    m = _DIMENSION.search(head)
    if m is None:
        return None
    t = m.group(1)
    end = t.rsplit(b":", 1)[-1]
    mm = re.fullmatch(rb"\$?([A-Z]{1,3})\$?([0-9]{1,7})", end)
    if mm is None:
        return None
    rows, cols = int(mm.group(2)), _col_number(mm.group(1))
    # within <sheetData> every "<c" opens a cell (its children are f, v, is, extLst)
    start = xml.find(b"<sheetData")
    end = xml.rfind(b"</sheetData>")
    if start < 0 or end < start:
        return None
    tags = xml.count(b"<c", start + 10, end)
    if xml.count(b'<c r="', start, end) != tags:
        return None
    beyond = re.compile(b'<c r="(?:(?:' + _greater_column(cols) + b')[0-9]|[A-Z]+(?:' + _greater_number(rows) + b')")')
    if beyond.search(xml):
        return None
    return rows, cols, tags


def _too_large(rows: int, cols: int, cells: int) -> bool:
    area = rows * cols
    return area > HARD_MAX_CELLS or area > MAX_SHEET_CELLS and area > SPARSE * cells


def sheet_too_large(path, part: str | None = None) -> tuple[int, int] | None:
    """(last row, last column) of a sheet python-calamine should not build, else None: the quick
    scan first, the exact one (styled empty cells left out) only when the quick one objects.

    >>> _too_large(200_001, 29, 5_800_029)       # a 200,000-ticket ledger, all filled: read
    False
    >>> _too_large(1_048_576, 16_384, 600_000)   # a stray cell at XFD1048576
    True
    >>> _too_large(300_000, 20, 300_020)         # 6 million, one column filled and a far cell
    True
    """
    claimed = _claimed(path) if part is None else None
    rows, cols, cells = claimed or _scan(path, part, False)
    if not _too_large(rows, cols, cells):
        return None
    rows, cols, cells = _scan(path, part, True)
    return (rows, cols) if _too_large(rows, cols, cells) else None


def check_used_range(sheet_xml: bytes, sheet: str) -> None:
    """Refuse (:class:`Refused`, naming the sheet and its farthest cell) a sheet whose used range
    python-calamine could not build safely (:func:`sheet_too_large`)."""
    far = sheet_too_large(sheet_xml)
    if far is not None:
        rows, cols = far
        raise Refused(f"工作表「{sheet}」的已用区域过大（{rows:,} 行 × {cols:,} 列，最远的单元格在 "
                      f"{col_letter(cols)}{rows}），可能有远处的单元格被误填了内容；"
                      "请在 Excel 中删除多余的行和列、保存后再运行。")
