"""Merge cell styles into a package's ``xl/styles.xml`` without rewriting what is already there.

A file job patches cells or grafts a generated sheet into the workbook; the styles those cells need
(fonts, fills, borders, number formats, cell formats ``cellXfs``, conditional formats ``dxfs``)
must exist in the target's styles part. This module splices them in as bytes: an identical entry
is reused, a new one is appended to its list and the list's ``count`` is updated; every other byte
of styles.xml (cellStyleXfs, cellStyles, tableStyles, colors, extLst, namespaces, mc:Ignorable)
stays as it was.

Example: an xf like cellXfs[1] but showing dates::

    >>> xml = (b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    ...        b'<fonts count="1"><font><sz val="11"/></font></fonts>'
    ...        b'<cellXfs count="2"><xf numFmtId="0" fontId="0" xfId="0"/>'
    ...        b'<xf numFmtId="0" fontId="0" xfId="0" applyAlignment="1"><alignment wrapText="1"/></xf>'
    ...        b'</cellXfs></styleSheet>')
    >>> new, i = ensure_numfmt_xf(xml, 1, "yyyy-mm-dd")
    >>> i
    2
    >>> new[new.index(b"<numFmts"):new.index(b"<fonts")]
    b'<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    >>> ensure_numfmt_xf(new, 1, "yyyy-mm-dd") == (new, 2)   # asked again: reused, nothing added
    True
    >>> ensure_numfmt_xf(new, 0, "0")[1]                       # a built-in format needs no numFmt
    3
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape, unescape
from xml.etree import ElementTree as ET

#: The child element of each list in styles.xml, in the order the schema puts the lists.
_LISTS = (("numFmts", "numFmt"), ("fonts", "font"), ("fills", "fill"), ("borders", "border"),
          ("cellStyleXfs", "xf"), ("cellXfs", "xf"), ("cellStyles", "cellStyle"), ("dxfs", "dxf"),
          ("tableStyles", "tableStyle"), ("colors", None), ("extLst", None))
_CHILD = {k: v for k, v in _LISTS}
_ORDER = [k for k, _ in _LISTS]

#: Built-in number formats whose meaning does not depend on the reader's locale.
BUILTIN_NUMFMTS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10,
                   "0.00E+00": 11, "# ?/?": 12, "# ??/??": 13, "@": 49}
FIRST_CUSTOM_NUMFMT = 164


@dataclass
class _List:
    """One list of styles.xml as found in the bytes: the whole span, its items' bytes."""

    tag: str
    start: int  # span of the whole <tag ...>...</tag> (or <tag/>) element; start == end if absent
    end: int
    items: list[bytes]
    present: bool


def _find_list(xml: bytes, tag: str) -> _List:
    m = re.search(rb"<%s(?=[\s/>])[^>]*?(/>|>)" % tag.encode(), xml)
    if m is None:
        return _List(tag, -1, -1, [], False)
    if m.group(1) == b"/>":
        return _List(tag, m.start(), m.end(), [], True)
    close = xml.index(b"</%s>" % tag.encode(), m.end())
    inner = xml[m.end():close]
    child = _CHILD.get(tag)
    items = _split_items(inner, child) if child else []
    return _List(tag, m.start(), close + len(tag) + 3, items, True)


def _split_items(inner: bytes, child: str) -> list[bytes]:
    """The top-level ``<child>`` elements of a list (children never nest an element of their own name)."""
    c = child.encode()
    return [m.group(0) for m in re.finditer(rb"<%s(?=[\s/>])[^>]*?(?:/>|>.*?</%s>)" % (c, c), inner, re.S)]


def _canon(item: bytes) -> bytes:
    """A comparable form of one entry: attribute order and whitespace between elements ignored,
    and so are an xf's ``apply…`` flags and default-valued pivotButton/quotePrefix (openpyxl
    writes them, Excel does not; neither changes what a cell shows)."""
    if item.startswith(b"<xf"):
        head = _start_tag(item)
        head = re.sub(rb'\sapply\w+\s*=\s*"[^"]*"', b"", head)
        head = re.sub(rb'\s(?:pivotButton|quotePrefix)\s*=\s*"0"', b"", head)
        item = head + item[len(_start_tag(item)):]
    try:
        return ET.canonicalize(item.decode("utf-8"), strip_text=True).encode()
    except ET.ParseError:  # a prefixed child (extLst) without its namespace declaration
        return re.sub(rb">\s+<", b"><", item.strip())


def _attr(tag_bytes: bytes, name: str) -> str | None:
    m = re.search(rb'\s%s\s*=\s*(["\'])(.*?)\1' % name.encode(), _start_tag(tag_bytes), re.S)
    return unescape(m.group(2).decode()) if m else None


def _start_tag(item: bytes) -> bytes:
    return item[:item.index(b">") + 1]


def _set_attrs(item: bytes, **values: str | int) -> bytes:
    """``item`` with attributes of its start tag set (replaced in place, or added)."""
    head = _start_tag(item)
    rest = item[len(head):]
    for name, value in values.items():
        v = escape(str(value), quote=True).encode()
        pat = rb'(\s%s\s*=\s*)(["\'])(.*?)\2' % name.encode()
        if re.search(pat, head, re.S):
            head = re.sub(pat, lambda m: m.group(1) + b'"' + v + b'"', head, count=1, flags=re.S)
        else:
            cut = len(head) - (2 if head.endswith(b"/>") else 1)
            head = head[:cut] + b' %s="%s"' % (name.encode(), v) + head[cut:]
    return head + rest


def _write_list(xml: bytes, tag: str, items: list[bytes], new: list[bytes]) -> bytes:
    """Append ``new`` entries to list ``tag`` of ``xml`` (creating the list where the schema wants
    it) and update its count; the existing entries' bytes are kept."""
    if not new:
        return xml
    lst = _find_list(xml, tag)
    count = len(items) + len(new)
    body = b"".join(new)
    if lst.present:
        whole = xml[lst.start:lst.end]
        head = _start_tag(whole)
        if head.endswith(b"/>"):
            head = head[:-2].rstrip() + b">"
            inner = b""
        else:
            inner = whole[len(head):-(len(tag) + 3)]
        head = _set_attrs(head, count=count)
        return xml[:lst.start] + head + inner + body + b"</%s>" % tag.encode() + xml[lst.end:]
    block = b'<%s count="%d">' % (tag.encode(), count) + body + b"</%s>" % tag.encode()
    for later in _ORDER[_ORDER.index(tag) + 1:]:
        nxt = _find_list(xml, later)
        if nxt.present:
            return xml[:nxt.start] + block + xml[nxt.start:]
    close = xml.rindex(b"</")
    return xml[:close] + block + xml[close:]


def _numfmt_codes(xml: bytes) -> dict[int, str]:
    return {int(_attr(i, "numFmtId")): _attr(i, "formatCode") or "" for i in _find_list(xml, "numFmts").items}


class StyleMerger:
    """Accumulates entries appended to one styles.xml, so many can be added before writing it back."""

    def __init__(self, styles_xml: bytes):
        self.xml = styles_xml
        self.lists = {tag: _find_list(styles_xml, tag).items for tag in
                      ("numFmts", "fonts", "fills", "borders", "cellXfs", "dxfs")}
        self.new: dict[str, list[bytes]] = {tag: [] for tag in self.lists}
        self.index: dict[str, dict[bytes, int]] = {}
        for tag, items in self.lists.items():
            idx: dict[bytes, int] = {}
            for i, it in enumerate(items):
                idx.setdefault(_canon(it), i)
            self.index[tag] = idx
        self.codes = {code: i for i, code in reversed(list(_numfmt_codes(styles_xml).items()))}

    def entry(self, tag: str, item: bytes) -> int:
        """The index of an entry identical to ``item`` in list ``tag``, appended if missing."""
        key = _canon(item)
        idx = self.index[tag]
        if key not in idx:
            idx[key] = len(self.lists[tag]) + len(self.new[tag])
            self.new[tag].append(item)
        return idx[key]

    def numfmt(self, code: str) -> int:
        """The numFmtId showing ``code``: a built-in id, an existing custom format, or a new one."""
        if code in BUILTIN_NUMFMTS:
            return BUILTIN_NUMFMTS[code]
        if code not in self.codes:
            used = set(self.codes.values())
            n = max([FIRST_CUSTOM_NUMFMT - 1, *used]) + 1
            self.codes[code] = n
            self.new["numFmts"].append(b'<numFmt numFmtId="%d" formatCode="%s"/>'
                                       % (n, escape(code, quote=True).encode()))
        return self.codes[code]

    def xf(self, i: int) -> bytes:
        items = self.lists["cellXfs"] + self.new["cellXfs"]
        return items[i]

    def result(self) -> bytes:
        xml = self.xml
        for tag in ("numFmts", "fonts", "fills", "borders", "cellXfs", "dxfs"):
            xml = _write_list(xml, tag, self.lists[tag], self.new[tag])
        return xml


def ensure_numfmt_xf(styles_xml: bytes, base_xf: int, num_fmt: str) -> tuple[bytes, int]:
    """An xf identical to ``cellXfs[base_xf]`` but showing number format ``num_fmt``: its index,
    reused when such an xf exists, and the styles.xml holding it (the same bytes when reused)."""
    m = StyleMerger(styles_xml)
    items = m.lists["cellXfs"]
    if not items:
        raise ValueError("styles.xml has no cellXfs")
    if not 0 <= base_xf < len(items):
        base_xf = 0  # a cell pointing past the list is shown by Excel with xf 0
    base = items[base_xf]
    fmt = m.numfmt(num_fmt)
    if _attr(base, "numFmtId") == str(fmt):
        return styles_xml, base_xf
    i = m.entry("cellXfs", _set_attrs(base, numFmtId=fmt, applyNumberFormat=1))
    return m.result(), i


def merge_styles(target_xml: bytes, scratch_xml: bytes, xfs: set[int] | list[int] = (),
                 dxfs: set[int] | list[int] = ()) -> tuple[bytes, dict[int, int], dict[int, int]]:
    """Bring the scratch workbook's cellXfs ``xfs`` and dxfs ``dxfs`` (with the fonts, fills,
    borders and number formats they use) into the target's styles.xml.

    Returns the new styles.xml and the index maps scratch xf → target xf, scratch dxf → target dxf.
    """
    m = StyleMerger(target_xml)
    src = {tag: _find_list(scratch_xml, tag).items for tag in ("fonts", "fills", "borders", "cellXfs", "dxfs")}
    src_codes = _numfmt_codes(scratch_xml)
    memo: dict[tuple[str, int], int] = {}

    def sub(tag: str, i: int) -> int:
        if (tag, i) not in memo:
            memo[(tag, i)] = m.entry(tag, src[tag][i]) if 0 <= i < len(src[tag]) else 0
        return memo[(tag, i)]

    def numfmt(i: int) -> int:
        if i < FIRST_CUSTOM_NUMFMT or i not in src_codes:
            return i
        return m.numfmt(src_codes[i])

    xf_map: dict[int, int] = {}
    for i in sorted(set(xfs)):
        if not 0 <= i < len(src["cellXfs"]):
            continue
        it = src["cellXfs"][i]
        vals: dict[str, int] = {}
        for attr, tag in (("fontId", "fonts"), ("fillId", "fills"), ("borderId", "borders")):
            v = _attr(it, attr)
            if v is not None:
                vals[attr] = sub(tag, int(v))
        v = _attr(it, "numFmtId")
        if v is not None:
            vals["numFmtId"] = numfmt(int(v))
        if _attr(it, "xfId") is not None:
            vals["xfId"] = 0  # the target's Normal style
        xf_map[i] = m.entry("cellXfs", _set_attrs(it, **vals))
    dxf_map: dict[int, int] = {}
    for i in sorted(set(dxfs)):
        if not 0 <= i < len(src["dxfs"]):
            continue
        it = src["dxfs"][i]
        # a dxf carries its own numFmt (id and code): give it the target's id for that code
        nf = re.search(rb"<numFmt(?=[\s/>])[^>]*?/>", it)
        if nf:
            code = _attr(nf.group(0), "formatCode") or ""
            it = it[:nf.start()] + _set_attrs(nf.group(0), numFmtId=m.numfmt(code)) + it[nf.end():]
        dxf_map[i] = m.entry("dxfs", it)
    return m.result(), xf_map, dxf_map
