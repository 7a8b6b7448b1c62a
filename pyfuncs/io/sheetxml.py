"""Patch cells in one worksheet part's XML, keeping every byte the patch does not need to change.

:func:`patch_cells` takes the sheet's bytes and {(row, col): value}; it finds the ``<row>`` elements
of ``<sheetData>`` with one regular-expression pass (no DOM), rewrites only the rows that change
(replacing or inserting ``<c>`` in column order, creating ``<row>`` in row order) and grows
``<dimension>``. Every other element, attribute, namespace, ``mc:AlternateContent``, ``extLst``
and the cached ``<v>`` of every formula not written stays as it was.

Values: numbers as ``<v>``; ``bool`` as ``t="b"``; dates as serial numbers (1900 system) with a
date number format; text ALWAYS as an inline string, whatever it starts with (``=``, ``+``, ``-``,
``@``); only :class:`pyfuncs.io.book.Formula` values become ``<f>`` (no cached value: Excel
computes it); ``None`` empties the cell but keeps its style. A new cell takes the style of the
cell above it in its column, else its column's style. A write into a merged range other than its
top-left cell is skipped. Overwriting the first cell of a shared formula (a formula Excel stores
once for a filled-down range) gives every other cell of the group its own formula, translated to
its cell, with its cached value.

Example::

    >>> xml = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    ...        b'<dimension ref="A1:B2"/><sheetData>'
    ...        b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><f>1+1</f><v>2</v></c></row>'
    ...        b'<row r="2"><c r="A2" s="3"><v>7</v></c></row></sheetData></worksheet>')
    >>> out = patch_cells(xml, {(2, 1): "=cmd|' /C calc'!A0", (3, 1): 5, (2, 3): None})
    >>> out[out.index(b'<row r="2"'):out.index(b'</sheetData>')].decode()
    '<row r="2"><c r="A2" s="3" t="inlineStr"><is><t xml:space="preserve">=cmd|\\' /C calc\\'!A0</t></is></c></row><row r="3"><c r="A3" s="3"><v>5</v></c></row>'
    >>> b'<c r="B1"><f>1+1</f><v>2</v></c>' in out and b'<dimension ref="A1:B3"/>' in out
    True
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from html import escape
from typing import Any

from pyfuncs.io.book import Formula, col_letter, col_number, parse_ref

_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_SHEETDATA = re.compile(rb"<sheetData(?:\s[^>]*)?(/>|>)")
_ROW = re.compile(rb"<row[\s>/](?:[^>]*?/>|.*?</row>)", re.S)
_CELL = re.compile(rb"<c[\s>/](?:[^>]*?/>|.*?</c>)", re.S)
_ATTR_R = re.compile(rb'\sr="([^"]*)"')
_ROW_R = re.compile(rb'<row r="(\d+)"')
_ATTR_S = re.compile(rb'\ss="(\d+)"')
_CELL_REF = re.compile(rb"([A-Z]+)(\d+)")
_DIMENSION = re.compile(rb'<dimension\s+ref="([^"]*)"\s*/>')
_MERGE = re.compile(rb'<mergeCell\s+ref="([^"]*)"')
_COL = re.compile(rb"<col\s[^>]*>")
_DATE_BUILTIN = set(range(14, 23)) | set(range(27, 37)) | set(range(45, 48)) | set(range(50, 59))


def is_date_format(code: str) -> bool:
    """Does a number format code show a date/time?

    >>> is_date_format("yyyy-mm-dd"), is_date_format('0.00"m"'), is_date_format("[Red]0"), is_date_format("General")
    (True, False, False, False)
    """
    code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", code)
    return bool(re.search(r"[ymdhs]", code, re.I)) and "General" not in code


def to_serial(v: dt.date | dt.datetime) -> float | int:
    """A date/datetime → Excel serial number (1900 date system).

    >>> to_serial(dt.date(2016, 9, 21)), to_serial(dt.datetime(2016, 9, 21, 12))
    (42634, 42634.5)
    """
    if isinstance(v, dt.datetime):
        d = v - dt.datetime(1899, 12, 30, tzinfo=v.tzinfo)
        s = d.days + d.seconds / 86400 + d.microseconds / 86400e6
        return int(s) if s == int(s) else s
    n = (v - dt.date(1899, 12, 30)).days
    return n if n >= 61 else n - 1 if n > 0 else n


class CellStyles:
    """What a patch needs of styles.xml: is an xf a date format, and an xf like another one but
    showing a number format (added through :func:`pyfuncs.io.styles.ensure_numfmt_xf`)."""

    def __init__(self, styles_xml: bytes | None):
        self.xml = styles_xml
        self.changed = False
        self._memo: dict[tuple[int, str], int] = {}
        self._fmt_of_xf: list[int] = []
        self._codes: dict[int, str] = {}
        if styles_xml:
            self._scan()

    def _scan(self) -> None:
        from pyfuncs.io.styles import _find_list, _attr, _numfmt_codes

        self._codes = _numfmt_codes(self.xml)
        self._fmt_of_xf = [int(_attr(x, "numFmtId") or 0) for x in _find_list(self.xml, "cellXfs").items]

    def code(self, xf: int) -> str | None:
        if not 0 <= xf < len(self._fmt_of_xf):
            return None
        n = self._fmt_of_xf[xf]
        if n in self._codes:
            return self._codes[n]
        from pyfuncs.io.styles import BUILTIN_NUMFMTS

        for k, v in BUILTIN_NUMFMTS.items():
            if v == n:
                return k
        return "m/d/yyyy" if n in _DATE_BUILTIN else None

    def is_date(self, xf: int) -> bool:
        if not 0 <= xf < len(self._fmt_of_xf):
            return False
        n = self._fmt_of_xf[xf]
        return n in _DATE_BUILTIN or (n in self._codes and is_date_format(self._codes[n]))

    def with_format(self, xf: int, fmt: str) -> int:
        if self.xml is None:
            return xf
        key = (xf, fmt)
        if key not in self._memo:
            from pyfuncs.io.styles import ensure_numfmt_xf

            new, i = ensure_numfmt_xf(self.xml, xf, fmt)
            if new != self.xml:
                self.xml, self.changed = new, True
                self._scan()
            self._memo[key] = i
        return self._memo[key]


def _style_for(v: Any, fmt: str | None, xf: int | None, styles: CellStyles | None) -> int | None:
    """The ``s`` a written cell gets (``xf`` = its current or inherited style)."""
    if styles is None or v is None or isinstance(v, (str, bool)):
        return xf
    base = xf or 0
    if isinstance(v, (dt.date, dt.datetime)):
        if styles.is_date(base):
            return xf
        return styles.with_format(base, fmt if fmt and is_date_format(fmt) else
                                  "yyyy-mm-dd h:mm:ss" if isinstance(v, dt.datetime) else "yyyy-mm-dd")
    if fmt and styles.code(base) != fmt:
        return styles.with_format(base, fmt)
    return xf


def _content(v: Any) -> tuple[bytes, bytes] | None:
    """(t attribute value, children) of a written value; None = an empty cell."""
    if v is None:
        return None
    if isinstance(v, Formula):
        return b"", b"<f>" + escape(_ILLEGAL.sub("", v.lstrip("=")), quote=False).encode("utf-8", "replace") + b"</f>"
    if isinstance(v, str):
        return b"inlineStr", b'<is><t xml:space="preserve">' + _text_bytes(v) + b"</t></is>"
    if isinstance(v, bool):
        return b"b", b"<v>1</v>" if v else b"<v>0</v>"
    if isinstance(v, (dt.date, dt.datetime)):
        return b"", b"<v>%s</v>" % repr(to_serial(v)).encode()
    if isinstance(v, dt.time):
        s = (v.hour * 3600 + v.minute * 60 + v.second) / 86400
        return b"", b"<v>%s</v>" % repr(s).encode()
    if isinstance(v, int):
        return b"", b"<v>%d</v>" % v
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        return b"", b"<v>%s</v>" % repr(v).encode()
    return _content(str(v))


#: Values whose new-cell bytes a patch remembers (hashable, and the same ones recur in a ledger).
_MEMO_TYPES = frozenset({str, int, float, bool, dt.date, dt.datetime})
_KEEP_ATTRS = re.compile(rb'\s(?:r|s|t|cm|vm)="[^"]*"')


def _text_bytes(v: str) -> bytes:
    if _ILLEGAL.search(v):
        v = _ILLEGAL.sub("", v)
    if "&" in v or "<" in v or ">" in v:
        v = escape(v, quote=False)
    return v.encode("utf-8", "replace")


def _cell_xml(ref: bytes, old_tag_attrs: bytes, v: Any, s: int | None) -> bytes:
    """A ``<c>`` element for a written value; ``old_tag_attrs`` = the old start tag's attributes
    (kept but for r, s, t, cm, vm)."""
    keep = _KEEP_ATTRS.sub(b"", old_tag_attrs).strip() if old_tag_attrs else b""
    head = b'<c r="' + ref + b'"' + (b' s="%d"' % s if s else b"") + ((b" " + keep) if keep else b"")
    if type(v) is str:  # the common case first
        return head + b' t="inlineStr"><is><t xml:space="preserve">' + _text_bytes(v) + b"</t></is></c>"
    c = _content(v)
    if c is None:
        return head + b"/>"
    t, body = c
    return head + (b' t="' + t + b'"' if t else b"") + b">" + body + b"</c>"


_CELL_R = re.compile(rb'<c\s+r="([A-Z]+)\d+"[^>]*?(?:/>|>.*?</c>)|<c[\s>/](?:[^>]*?/>|.*?</c>)', re.S)
_COLS: dict[bytes, int] = {}


def _col_of(letters: bytes) -> int:
    n = _COLS.get(letters)
    if n is None:
        n = _COLS[letters] = col_number(letters.decode())
    return n


_LETTERS = re.compile(rb"[A-Z]+")


_OPEN = b'<c r="'
_OPEN_LETTERS = re.compile(rb'<c r="([A-Z]+)')


def _cells_of(row: bytes, all_r: bool = False) -> tuple[bytes, dict[int, bytes], bytes, bytes]:
    """(start tag, {col: cell bytes} in document order, tail after the last cell, joiner) of one
    ``<row>``. When every cell starts with ``<c r="`` (as Excel and we write them) the row is cut
    at those starts in one call and the cells are held without that prefix (joiner = the prefix,
    to put back when the row is joined); else each ``<c>`` is found with bytes searches and held
    whole (joiner = b""). ``all_r``: the caller has found that every cell of the sheet starts so.

    >>> _cells_of(b'<row r="2"><c r="A2" s="3"><v>7</v></c><c r="C2"/></row>')
    (b'<row r="2">', {1: b'A2" s="3"><v>7</v></c>', 3: b'C2"/>'}, b'</row>', b'<c r="')
    >>> _cells_of(b'<row r="2"><c s="3"><v>7</v></c></row>')
    (b'<row r="2">', {1: b'<c s="3"><v>7</v></c>'}, b'</row>', b'')
    """
    end = row.index(b">") + 1
    if row[end - 2:end] == b"/>":
        return row[:end - 2] + b">", {}, b"</row>", _OPEN
    k = row.rfind(b"</row>")
    if k > end and b"<extLst" not in row:
        pieces = row[end:k].split(_OPEN)
        if not pieces[0] and (all_r or row.count(b"<c", end) == len(pieces) - 1):
            cols = [_COLS.get(x) or _col_of(x) for x in _OPEN_LETTERS.findall(row, end)]
            if len(cols) == len(pieces) - 1:
                cells = dict(zip(cols, pieces[1:]))
                if len(cells) == len(cols):
                    return row[:end], cells, row[k:], _OPEN
    cells: dict[int, bytes] = {}
    col = 0
    last = pos = end
    find, index = row.find, row.index
    while True:
        i = find(b"<c", pos)
        if i < 0:
            break
        nxt = row[i + 2:i + 3]
        if nxt not in (b" ", b">", b"/", b"\t", b"\n", b"\r"):
            pos = i + 2
            continue
        k = index(b">", i)
        stop = k + 1 if row[k - 1:k] == b"/" else index(b"</c>", k) + 4
        if row[i + 2:i + 6] == b' r="':
            m = _LETTERS.match(row, i + 6)
            col = _col_of(m.group(0)) if m else col + 1
        else:
            rm = _ATTR_R.search(row, i, k)
            col = _col_of(_CELL_REF.match(rm.group(1)).group(1)) if rm else col + 1
        cells[col] = row[i:stop]
        last = pos = stop
    return row[:end], cells, row[last:], b""


def _cell_style(el: bytes) -> int | None:
    m = _ATTR_S.search(el[:el.index(b">")])
    return int(m.group(1)) if m else None


def _col_styles(xml: bytes) -> dict[int, int]:
    out: dict[int, int] = {}
    head = xml[:xml.find(b"<sheetData")]
    for m in _COL.finditer(head):
        tag = m.group(0)
        a = dict(re.findall(rb'(\w+)="([^"]*)"', tag))
        if b"style" in a and b"min" in a and b"max" in a:
            lo, hi = int(a[b"min"]), min(int(a[b"max"]), 16384)
            if hi - lo < 20000:
                for c in range(lo, hi + 1):
                    out[c] = int(a[b"style"])
            else:
                out[-lo] = int(a[b"style"])  # rare: very wide col range, kept as a marker
    return out


def merged_non_anchor(xml: bytes) -> list[tuple[int, int, int, int]]:
    i = xml.find(b"<mergeCells")
    if i < 0:
        return []
    return [parse_ref(m.group(1).decode()) for m in _MERGE.finditer(xml, i)]


_SHARED_F = re.compile(rb'<c r="([A-Z]+)([0-9]+)"[^>]*?>\s*<f\b([^>]*?)(?:/>|>([^<]*)</f>)')


class _Reformula(str):
    """Not a value: the formula text an existing cell's shared ``<f>`` becomes (its cached value
    and everything else kept)."""


def _orphaned_shared(sheet_xml: bytes, start: int, end: int, cells: Mapping[tuple[int, int], Any]) -> dict:
    """The cells that would lose their formula because ``cells`` overwrites the master of their
    shared formula (Excel stores a filled-down formula once, in the group's first cell, and the
    others point at it by ``si``): {(row, col): _Reformula(the formula translated to that cell)}.

    >>> xml = (b'<sheetData><row r="2"><c r="E2"><f t="shared" ref="E2:E4" si="0">A2+$B$1</f><v>1</v></c></row>'
    ...        b'<row r="3"><c r="E3"><f t="shared" si="0"/><v>2</v></c></row>'
    ...        b'<row r="4"><c r="E4"><f t="shared" si="0"/><v>3</v></c></row></sheetData>')
    >>> _orphaned_shared(xml, 0, len(xml), {(2, 5): 9, (4, 5): 7})
    {(3, 5): 'A3+$B$1'}
    """
    if sheet_xml.find(b't="shared"', start, end) < 0:
        return {}
    masters: dict[bytes, tuple[str, int, int]] = {}   # si → (formula, row, col) of a master overwritten
    members: list[tuple[bytes, int, int]] = []
    for m in _SHARED_F.finditer(sheet_xml, start, end):
        attrs = m.group(3)
        if b't="shared"' not in attrs:
            continue
        si = re.search(rb'\ssi="(\d+)"', attrs)
        if si is None:
            continue
        rc = (int(m.group(2)), _col_of(m.group(1)))
        if m.group(4) is not None and b"ref=" in attrs:
            if rc in cells:
                from html import unescape

                masters[si.group(1)] = (unescape(m.group(4).decode("utf-8")), *rc)
        else:
            members.append((si.group(1), *rc))
    if not masters:
        return {}
    from openpyxl.formula.translate import Translator

    out = {}
    for si, r, c in members:
        if si in masters and (r, c) not in cells:
            text, mr, mc = masters[si]
            try:
                f = Translator("=" + text, origin=col_letter(mc) + str(mr)).translate_formula(col_letter(c) + str(r))
            except Exception:  # noqa: BLE001 - a formula the translator cannot read: keep it as it reads at the master
                f = "=" + text
            out[(r, c)] = _Reformula(f[1:])
    return out


def _with_formula(el: bytes, text: str) -> bytes:
    """A cell element (with or without its ``<c r="`` prefix) whose ``<f>`` becomes ``text``."""
    f = b"<f>" + escape(text, quote=False).encode("utf-8") + b"</f>"
    return re.sub(rb"<f\b[^>]*?(?:/>|>[^<]*</f>)", lambda _: f, el, count=1)


def patch_cells(sheet_xml: bytes, cells: Mapping[tuple[int, int], Any], styles: CellStyles | None = None,
                formats: Mapping[tuple[int, int], str | None] | None = None,
                replaced_formulas: list | None = None, heights: Mapping[int, float] | None = None,
                sink: Callable[[list], None] | None = None) -> bytes | None:
    """The sheet's XML with ``cells`` written (see the module docstring); ``formats`` gives the
    number format of a written cell (e.g. ``"yyyy-mm-dd"``), ``styles`` the workbook's styles.
    The (row, col) of every formula cell overwritten is appended to ``replaced_formulas`` (the
    caller then drops a calcChain that lists it). ``heights``: row → the height (points) its
    wrapped text needs; a written row lower than that gets it (``customHeight``), a taller stays.

    ``sink``: instead of returning the bytes, hand them over in order, in lists of pieces of
    about 4 MB, while the rows are still being patched (a deflater in another thread
    compresses the sheet meanwhile: :class:`pyfuncs.io.package.Deflater`); returns None.

    >>> xml = (b'<worksheet><dimension ref="A1"/><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
    ...        b'<row r="3"><c r="A3"><v>3</v></c></row></sheetData></worksheet>')
    >>> got = []
    >>> patch_cells(xml, {(2, 1): 2, (3, 2): "x"}, sink=got.append) is None
    True
    >>> b"".join(b"".join(p) for p in got) == patch_cells(xml, {(2, 1): 2, (3, 2): "x"})
    True
    """
    if not cells:
        if sink is not None:
            sink([sheet_xml])
            return None
        return sheet_xml
    formats = formats or {}
    merges = merged_non_anchor(sheet_xml)
    if merges:
        cells = {k: v for k, v in cells.items()
                 if not any(t <= k[0] <= b and l <= k[1] <= r and (k[0], k[1]) != (t, l)
                            for t, l, b, r in merges)}
        if not cells:
            if sink is not None:
                sink([sheet_xml])
                return None
            return sheet_xml
    m = _SHEETDATA.search(sheet_xml)
    if m is None:
        raise ValueError("worksheet without sheetData")
    # positions are kept in sheet_xml itself: no copy of a sheet that may be tens of MB
    if m.group(1) == b"/>":
        head, tail = sheet_xml[:m.start()] + b"<sheetData>", b"</sheetData>" + sheet_xml[m.end():]
        data_start = data_end = m.end()
    else:
        data_start = m.end()
        data_end = sheet_xml.index(b"</sheetData>", data_start)
        head, tail = sheet_xml[:data_start], sheet_xml[data_end:]
    # the rows: (row number, start, end) in sheet_xml
    rows: list[tuple[int, int, int]] = []
    r = 0
    pos = data_start
    find, index = sheet_xml.find, sheet_xml.index
    while True:
        i = find(b"<row", pos, data_end)
        if i < 0:
            break
        k = index(b">", i)
        stop = k + 1 if sheet_xml[k - 1:k] == b"/" else index(b"</row>", k) + 6
        am = _ROW_R.match(sheet_xml, i)
        r = int(am.group(1)) if am else (int(m.group(1)) if (m := _ATTR_R.search(sheet_xml, i, k)) else r + 1)
        rows.append((r, i, stop))
        pos = stop
    pos = {r: i for i, (r, _, _) in enumerate(rows)}
    # does every cell start with <c r="? (counted once over the sheet, not once per row)
    all_r = sheet_xml.count(b"<c", data_start, data_end) == sheet_xml.count(b'<c r="', data_start, data_end)
    col_styles: dict[int, int] | None = None
    by_row: dict[int, dict[int, Any]] = {}
    for (rr, cc), v in cells.items():
        by_row.setdefault(rr, {})[cc] = v
    # a shared formula's master overwritten: the other cells of its group get their own formula
    for (rr, cc), f in _orphaned_shared(sheet_xml, data_start, data_end, cells).items():
        by_row.setdefault(rr, {})[cc] = f
    parsed: dict[int, tuple[bytes, dict[int, bytes], bytes, bytes]] = {}  # rows rewritten or looked at

    def row_cells(rn: int):
        if rn in parsed:
            return parsed[rn]
        i = pos.get(rn)
        if i is None:
            return None
        _, a, b = rows[i]
        parsed[rn] = _cells_of(sheet_xml[a:b], all_r)
        return parsed[rn]

    # A new cell's style is the one of the cell above it; when that cell is one this patch wrote
    # (the usual case: a column of computed cells), it is known without parsing the row above.
    wrote: dict[int, tuple[int, int | None]] = {}  # column → (row, s) of its last written cell
    style_memo: dict[tuple, int | None] = {}

    def style_above(rn: int, cn: int) -> int | None:
        # (the caller has already tried a cell this patch wrote in the row just above)
        nonlocal col_styles
        for up in range(rn - 1, max(rn - 6, 0), -1):
            rc = row_cells(up)
            if rc is None:
                continue
            el = rc[1].get(cn)
            if el is not None:
                return _cell_style(el)
            break  # the row above exists but has no cell in this column
        if col_styles is None:
            col_styles = _col_styles(sheet_xml)
        return col_styles.get(cn)

    def style_of(v: Any, fmt: str | None, xf: int | None) -> int | None:
        # what _style_for gives depends only on the kind of value, the format and the base style
        kind = type(v)
        if kind is str or kind is bool or v is None or styles is None:
            return xf
        key = (kind, fmt, xf)
        s = style_memo.get(key)
        if s is None and key not in style_memo:
            s = style_memo[key] = _style_for(v, fmt, xf, styles)
        return s

    letters: dict[int, bytes] = {}
    tails: dict[tuple, tuple] = {}  # (type, value, format, style above) → (s, the new cell's bytes after r)
    new_rows: dict[int, bytes] = {}
    # the dimension grows to the last cell given a value (known before any row is written, so
    # that the head can go out first when streaming)
    max_r = max_c = 0
    for (rr, cc), v in cells.items():
        if v is not None:
            if rr > max_r:
                max_r = rr
            if cc > max_c:
                max_c = cc
    if max_r:
        head = _grow_dimension(head, max_r, max_c)
    body = memoryview(sheet_xml)
    # rows in ascending order (as Excel writes them) let each patched row go out as soon as it is
    # made; otherwise the rows are spliced at the end
    stream = all(rows[i][0] < rows[i + 1][0] for i in range(len(rows) - 1))
    out: list = [head]
    size = len(head)
    done_to = data_start  # sheet_xml up to here is in out
    ri = 0
    for rn in sorted(by_row):
        rc = row_cells(rn)
        if rc is None:
            start, cur, rest, joiner = b'<row r="%d">' % rn, {}, b"</row>", b""
        else:
            start, cur, rest, joiner = rc
        cut = len(joiner)  # cells of this row are held without the joiner's bytes
        srn = b"%d" % rn
        added = False
        for cn, v in by_row[rn].items():
            lt = letters.get(cn)
            if lt is None:
                lt = letters[cn] = col_letter(cn).encode()
            ref = lt + srn
            el = cur.get(cn)
            if type(v) is _Reformula:
                if el is not None:
                    cur[cn] = _with_formula(el, v)
                continue
            if el is not None:
                attrs = (b' r="' if cut else b"") + el[0 if cut else 2:el.index(b">")].rstrip(b"/")
                if replaced_formulas is not None and b"<f" in el:
                    replaced_formulas.append((rn, cn))
                s = style_of(v, formats.get((rn, cn)), _cell_style(el))
                cur[cn] = _cell_xml(ref, attrs, v, s)[cut:]
            else:
                if v is None:
                    continue
                last = wrote.get(cn)
                xf = last[1] if last is not None and last[0] == rn - 1 else style_above(rn, cn)
                fmt = formats.get((rn, cn)) if formats else None
                # a new cell: its style and its bytes after the reference depend only on the value,
                # the format and the style above: remembered (a ledger repeats a few hundred values)
                t = type(v)
                key = (t, v, fmt, xf) if t in _MEMO_TYPES and (t is not str or len(v) < 64) else None
                hit = tails.get(key) if key is not None else None
                if hit is None:
                    s = style_of(v, fmt, xf)
                    c = _content(v)
                    hit = (s, (b'" s="%d"' % s if s else b'"') +
                           (b"/>" if c is None else (b' t="' + c[0] + b'"' if c[0] else b"") + b">" + c[1] + b"</c>"))
                    if key is not None and len(tails) < 100_000:
                        tails[key] = hit
                s = hit[0]
                cur[cn] = (ref + hit[1]) if cut else (b'<c r="' + ref + hit[1])
                added = True
            wrote[cn] = (rn, s)
        if added:
            cur = dict(sorted(cur.items()))
            if sm := re.search(rb'\sspans="(\d+):(\d+)"', start):
                cols = list(cur)
                lo, hi = min(int(sm.group(1)), cols[0]), max(int(sm.group(2)), cols[-1])
                start = start[:sm.start()] + b' spans="%d:%d"' % (lo, hi) + start[sm.end():]
        if heights and rn in heights:
            start = _at_least_height(start, heights[rn])
        parsed[rn] = (start, cur, rest, joiner)
        parsed.pop(rn - 6, None)  # style_above looks at most 5 rows up: the memo stays small
        row_xml = start + (joiner + joiner.join(cur.values()) if cur else b"") + rest
        if not stream:
            new_rows[rn] = row_xml
            continue
        # the unchanged rows before this one go out as views of sheet_xml, then this row
        i = pos.get(rn)
        if i is not None:
            _, a, b = rows[i]
        else:  # a new row: before the first existing row after it
            while ri < len(rows) and rows[ri][0] < rn:
                ri += 1
            a = b = rows[ri][1] if ri < len(rows) else data_end
        out.append(body[done_to:a])
        out.append(row_xml)
        size += a - done_to + len(row_xml)
        done_to = b
        if sink is not None and size >= 1 << 22:
            sink(out)
            out, size = [], 0
    if stream:
        out.append(body[done_to:data_end])
        out.append(tail)
        if sink is not None:
            sink(out)
            return None
        return b"".join(out)
    # splice: existing rows replaced in place, new rows inserted in row order; the rows between
    # are views of sheet_xml, copied once, by the final join
    last = data_start
    pending = sorted(r for r in new_rows if r not in pos)
    k = 0
    for rn, a, b in rows:
        while k < len(pending) and pending[k] < rn:
            out.append(body[last:a])
            last = a
            out.append(new_rows[pending[k]])
            k += 1
        if rn in new_rows:
            out.append(body[last:a])
            out.append(new_rows[rn])
            last = b
    out.append(body[last:data_end])
    out.extend(new_rows[p] for p in pending[k:])
    out.append(tail)
    if sink is not None:
        sink(out)
        return None
    return b"".join(out)


def _at_least_height(start: bytes, need: float) -> bytes:
    """A ``<row ...>`` start tag at least ``need`` points high.

    >>> _at_least_height(b'<row r="3" spans="1:4">', 30.5)
    b'<row r="3" spans="1:4" ht="30.5" customHeight="1">'
    >>> _at_least_height(b'<row r="3" ht="40" customHeight="1">', 30.5)
    b'<row r="3" ht="40" customHeight="1">'
    """
    m = re.search(rb'\sht="([\d.]+)"', start)
    if m and float(m.group(1)) >= need:
        return start
    body = re.sub(rb'\s(?:ht|customHeight)="[^"]*"', b"", start)
    close = b"/>" if body.endswith(b"/>") else b">"
    return body[:-len(close)] + b' ht="%s" customHeight="1"' % (b"%g" % need) + close


def _grow_dimension(xml: bytes, max_r: int, max_c: int) -> bytes:
    m = _DIMENSION.search(xml, 0, xml.find(b"<sheetData") + 1 or len(xml))
    if m is None:
        return xml
    try:
        t, l, b, r = parse_ref(m.group(1).decode())
    except ValueError:
        return xml
    nb, nr = max(b, max_r), max(r, max_c)
    if (nb, nr) == (b, r):
        return xml
    from pyfuncs.io.book import format_ref

    ref = format_ref((t, l, nb, nr)).encode()
    return xml[:m.start()] + b'<dimension ref="' + ref + b'"/>' + xml[m.end():]
