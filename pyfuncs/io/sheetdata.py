r"""A worksheet's ``<sheetData>`` serialised straight from cell values and xf indexes.

openpyxl spends most of the time of a big generated sheet (the year's plan: 65,000 cells) on one
``Cell`` object per value and on serialising each through an XML library.
:func:`pyfuncs.io.graft.render_scratch` keeps openpyxl for what a sheet has once (styles, merges,
print setup, charts…) and writes the cells with :func:`sheet_data` instead, in the form openpyxl
writes them:

- a ``str`` is always inline text (``t="inlineStr"``), whatever it starts with (``=``, ``+``,
  ``-``, ``@``): only :class:`pyfuncs.io.book.Formula` values (``"=…"``) are formulas, written
  without their ``=`` and without a cached value;
- ``bool`` → ``t="b"``; ``int``/``float`` → ``t="n"``, a float with all its digits (``repr``;
  openpyxl keeps 16), a NaN or an infinity as an empty cell;
- a date or datetime → its serial number in the 1900 date system (the xf gives its date format);
- ``None`` → an empty cell, written only when it has a style; ``""`` → an empty cell;
- :class:`Raw` → a ``<c>`` element serialised elsewhere (the cells openpyxl holds itself: those of
  merged ranges, of hyperlinks), written as it is.

Rows come in order with their ``r`` and the attributes given for them (height, outline level);
a row with attributes and no cell is written too, as openpyxl writes it.

Example::

    >>> import datetime as dt
    >>> from pyfuncs.io.book import Formula
    >>> cells = {(1, 1): ("=cmd|' /C calc'!A0", 1), (1, 3): (Formula("=SUM(B1:B2)"), None),
    ...          (2, 2): (dt.date(2027, 1, 4), 2), (2, 1): (" <a&b> ", 1), (3, 1): (None, 1),
    ...          (3, 2): (None, None), (4, 1): (float("nan"), 3), (4, 2): (True, None)}
    >>> xml = sheet_data(cells, {2: ' ht="30" customHeight="1"', 5: ' outlineLevel="1"'}).decode()
    >>> print(xml.replace("</row>", "</row>\n"))
    <sheetData><row r="1"><c r="A1" s="1" t="inlineStr"><is><t>=cmd|' /C calc'!A0</t></is></c><c r="C1"><f>SUM(B1:B2)</f><v></v></c></row>
    <row r="2" ht="30" customHeight="1"><c r="A2" s="1" t="inlineStr"><is><t xml:space="preserve"> &lt;a&amp;b&gt; </t></is></c><c r="B2" s="2" t="n"><v>46391</v></c></row>
    <row r="3"><c r="A3" s="1"/></row>
    <row r="4"><c r="A4" s="3"/><c r="B4" t="b"><v>1</v></c></row>
    <row r="5" outlineLevel="1"/></sheetData>
    >>> dimension(cells)
    'A1:C4'
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Collection, Mapping

from pyfuncs.io.book import Formula, col_letter
from pyfuncs.io.sheetxml import to_serial

#: Excel keeps at most this many characters in a cell (openpyxl cuts longer text there too).
MAX_TEXT = 32767


class Raw(str):
    """A cell already serialised as its ``<c …>…</c>`` element (with its ``r``)."""


def _escape(v: str) -> str:
    if "&" in v or "<" in v or ">" in v:
        return v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return v


def _text(v: str) -> str:
    v = _escape(v[:MAX_TEXT])
    if v[:1].isspace() or v[-1:].isspace():  # as v != v.strip(): an XML reader may drop it otherwise
        return '<is><t xml:space="preserve">' + v + "</t></is>"
    return "<is><t>" + v + "</t></is>"


def sheet_data(cells: Mapping[tuple[int, int], tuple[object, int | None]],
               rows: Mapping[int, str] | None = None) -> bytes:
    """``<sheetData>`` of ``cells`` ((row, col) → (value, xf index or None)) and the rows of
    ``rows`` (row → its attributes after ``r``, e.g. ``' ht="30" customHeight="1"'``)."""
    rows = rows or {}
    items = sorted(cells.items())
    lonely = sorted(rows.keys() - {r for r, _ in cells})  # rows with attributes and no cell
    letters = [""] + [col_letter(c) for c in range(1, max((c for _, c in cells), default=0) + 1)]
    out = ["<sheetData>"]
    add = out.append
    texts: dict[str, str] = {}  # a plan repeats the same names and dates thousands of times
    serials: dict[dt.date, str] = {}
    styles: dict[int | None, str] = {None: ""}
    cur = None
    i = 0
    for (r, c), (v, s) in items:
        if r != cur:
            if cur is not None:
                add("</row>")
            while i < len(lonely) and lonely[i] < r:
                add(f'<row r="{lonely[i]}"{rows[lonely[i]]}/>')
                i += 1
            add(f'<row r="{r}"{rows.get(r, "")}>')
            cur = r
        st = styles.get(s)
        if st is None:
            st = styles[s] = f' s="{s}"'
        t = type(v)
        if t is str:
            x = texts.get(v)
            if x is None:
                x = texts[v] = _text(v) if v else ""
            if x:
                add(f'<c r="{letters[c]}{r}"{st} t="inlineStr">{x}</c>')
            else:  # "": an empty cell, as openpyxl writes it
                add(f'<c r="{letters[c]}{r}"{st} t="inlineStr"/>')
        elif v is None:
            if s is not None:
                add(f'<c r="{letters[c]}{r}"{st}/>')
        elif t is int:
            add(f'<c r="{letters[c]}{r}"{st} t="n"><v>{v}</v></c>')
        elif t is float:
            if math.isfinite(v):
                x = repr(v)  # all its digits; 3.0 as "3", as openpyxl writes it
                add(f'<c r="{letters[c]}{r}"{st} t="n"><v>{x[:-2] if x.endswith(".0") else x}</v></c>')
            else:
                add(f'<c r="{letters[c]}{r}"{st}/>')
        elif t is dt.date or t is dt.datetime:
            n = serials.get(v)
            if n is None:
                n = serials[v] = repr(to_serial(v))
            add(f'<c r="{letters[c]}{r}"{st} t="n"><v>{n}</v></c>')
        elif t is bool:
            add(f'<c r="{letters[c]}{r}"{st} t="b"><v>{1 if v else 0}</v></c>')
        elif t is Raw:
            add(v)
        elif t is Formula:
            if len(v) > 1 and v.startswith("="):
                add(f'<c r="{letters[c]}{r}"{st}><f>{_escape(v[1:])}</f><v></v></c>')
            else:  # "=" alone, or no "=": openpyxl writes it as text
                add(f'<c r="{letters[c]}{r}"{st} t="inlineStr">{_text(v)}</c>')
        else:
            raise TypeError(f"cannot write a {t.__name__} as a cell value: {v!r}")
    if cur is not None:
        add("</row>")
    for r in lonely[i:]:
        add(f'<row r="{r}"{rows[r]}/>')
    add("</sheetData>")
    return "".join(out).encode("utf-8")


def dimension(coords: Collection[tuple[int, int]]) -> str:
    """The ``<dimension ref>`` openpyxl gives a sheet with cells at ``coords``: the smallest
    range holding them (``"A1:A1"`` when there are none)."""
    rows = {r for r, _ in coords}
    if not rows:
        return "A1:A1"
    cols = {c for _, c in coords}
    return f"{col_letter(min(cols))}{min(rows)}:{col_letter(max(cols))}{max(rows)}"


_SHEET_DATA = re.compile(rb"<sheetData\s*/>|<sheetData(?=[\s>])[^>]*>.*?</sheetData>", re.S)
_DIMENSION = re.compile(rb"<dimension(?=[\s/>])[^>]*?/>")


def with_sheet_data(sheet_xml: bytes, data: bytes, ref: str) -> bytes:
    """The worksheet part ``sheet_xml`` with its ``<sheetData>`` replaced by ``data`` and its
    ``<dimension>`` set to ``ref``.

    >>> xml = b'<worksheet><dimension ref="A1:A1" /><sheetData /><pageMargins/></worksheet>'
    >>> with_sheet_data(xml, b'<sheetData><row r="2"/></sheetData>', "B2:C2")
    b'<worksheet><dimension ref="B2:C2"/><sheetData><row r="2"/></sheetData><pageMargins/></worksheet>'
    """
    m = _SHEET_DATA.search(sheet_xml)
    if m is None:
        raise ValueError("worksheet without <sheetData>")
    sheet_xml = sheet_xml[:m.start()] + data + sheet_xml[m.end():]
    new_dim = b'<dimension ref="%s"/>' % ref.encode()
    d = _DIMENSION.search(sheet_xml, 0, m.start())
    if d is not None:
        return sheet_xml[:d.start()] + new_dim + sheet_xml[d.end():]
    return sheet_xml
