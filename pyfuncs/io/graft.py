"""Put a generated sheet into a workbook package without loading the workbook into openpyxl.

A job's generated sheet (回访计划YYYY, 统计 with its charts, a printed form, 检查结果, 自检结果) is a
:class:`pyfuncs.layout.Layout`. :func:`graft_layout` renders it with openpyxl into a small scratch
workbook of one sheet (its values written by :mod:`pyfuncs.io.sheetdata`, not as openpyxl cells:
see :func:`render_scratch`), then grafts that sheet into the target package (zip member name → bytes):

- the worksheet part and everything it reaches through relationships (drawing, charts, tables,
  comments, VML) get part names unused in the target (``chartN``, ``drawingN``, ``tableN``…),
  tables get ids and names unused in the workbook;
- the styles its cells and conditional formats use are merged into the target's styles.xml
  (:mod:`pyfuncs.io.styles`) and its ``s=``/``style=``/``dxfId=`` numbers renumbered;
- [Content_Types].xml, workbook.xml and its rels change only as much as the new parts need: one
  ``<sheet>`` (a new sheetId and r:id), one relationship, the sheet's print titles and print area as
  defined names with its ``localSheetId`` — every other sheet-local name keeps pointing at its own
  sheet (their ``localSheetId`` shift with the insertion), and so do ``activeTab``/``firstSheet``;
- a new sheet gets a ``codeName`` as Excel gives every sheet (``Sheet<n>``, unused by any sheet,
  the workbook or a VBA module) and, in a workbook with macros, its empty document module in
  ``xl/vbaProject.bin`` (:mod:`pyfuncs.io.vbaproject`); a removed sheet's empty module goes with it.

Replacing a sheet of the same name keeps its position, part name, sheetId, r:id and codeName and
swaps only its own parts: its old drawing, charts, tables and comments are deleted (parts another
sheet also uses stay). :func:`remove_sheet` removes a sheet and its own parts. Both drop
``xl/calcChain.xml`` when it lists cells of the sheet that goes (Excel rebuilds the chain; a stale
entry makes it "repair" the file). ``docProps/app.xml`` is left as it is: Excel rewrites its sheet titles on
every save and tolerates a stale list, and it holds what staff set (Company, Manager).

Both return only the members to change: new or changed bytes, or ``None`` for a member to delete;
every other member stays byte-identical.

Example (a one-sheet workbook gets a second sheet)::

    >>> import io, zipfile
    >>> from openpyxl import Workbook
    >>> from pyfuncs.layout import Layout
    >>> buf = io.BytesIO(); Workbook().save(buf)
    >>> parts = {n: zipfile.ZipFile(buf).read(n) for n in zipfile.ZipFile(buf).namelist()}
    >>> lay = Layout("结果"); lay.put(1, 1, "=cmd|' /C calc'!A0")
    >>> changes = graft_layout(parts, lay)
    >>> sorted(changes)
    ['[Content_Types].xml', 'xl/_rels/workbook.xml.rels', 'xl/styles.xml', 'xl/workbook.xml', 'xl/worksheets/sheet2.xml']
    >>> b'codeName="Sheet1"' in changes["xl/worksheets/sheet2.xml"]   # openpyxl's Sheet has none
    True
    >>> b"<f>" in changes["xl/worksheets/sheet2.xml"]                # text, never a formula
    False
    >>> parts.update(changes); sorted(n for n, v in remove_sheet(parts, "结果").items() if v is None)
    ['xl/worksheets/sheet2.xml']
"""
from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import replace
from html import escape, unescape

from pyfuncs.io.styles import merge_styles

REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET_REL = REL + "/worksheet"
STYLES_REL = REL + "/styles"
CALC_CHAIN_REL = REL + "/calcChain"
OFFICE_DOCUMENT_REL = REL + "/officeDocument"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
TABLE_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
CONTENT_TYPES = "[Content_Types].xml"
VBA_PART = "xl/vbaProject.bin"

#: Characters XML 1.0 cannot hold (openpyxl refuses them; the file book drops them from cells too).
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_ATTR = re.compile(rb'([\w:.-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')


# --------------------------------------------------------------------------------------------------
# Small XML helpers (the parts are spliced as bytes; only the elements we change are rewritten)
# --------------------------------------------------------------------------------------------------

def _attrs(tag: bytes) -> dict[str, str]:
    """The attributes of one start tag, by name (a prefixed name keeps its prefix), unescaped."""
    out = {}
    name = re.match(rb"<[\w:.-]+", tag)
    for m in _ATTR.finditer(tag[name.end() if name else 0:]):
        v = m.group(2) if m.group(2) is not None else m.group(3)
        out[m.group(1).decode()] = unescape(v.decode("utf-8"))
    return out


def _local_attr(attrs: dict[str, str], local: str) -> str | None:
    """An attribute by local name whatever its prefix (``r:id``, ``ns1:id``)."""
    for k, v in attrs.items():
        if k.rsplit(":", 1)[-1] == local and ":" in k:
            return v
    return attrs.get(local)


def _set_attr(tag: bytes, name: str, value: str | int | None) -> bytes:
    """``tag`` (a start tag) with attribute ``name`` set, added, or removed (value None)."""
    pat = re.compile(rb'\s%s\s*=\s*(?:"[^"]*"|\'[^\']*\')' % re.escape(name.encode()))
    if value is None:
        return pat.sub(b"", tag, count=1)
    new = b' %s="%s"' % (name.encode(), _xml_attr(str(value)))
    if pat.search(tag):
        return pat.sub(lambda _m: new, tag, count=1)
    cut = len(tag) - (2 if tag.endswith(b"/>") else 1)
    while cut > 0 and tag[cut - 1:cut].isspace():
        cut -= 1
    return tag[:cut] + new + tag[cut:]


def _elements(xml: bytes, tag: str) -> list[re.Match]:
    """Every ``<tag …/>`` or ``<tag …>…</tag>`` element (no nesting of the same tag)."""
    t = re.escape(tag.encode())
    return list(re.finditer(rb"<%s(?=[\s/>])[^>]*?(?:/>|>.*?</%s>)" % (t, t), xml, re.S))


def _xml_attr(value: str) -> bytes:
    """A value for a double-quoted attribute, escaped as Excel escapes it (``'`` stays)."""
    return escape(value, quote=False).replace('"', "&quot;").encode("utf-8")


def _start(el: bytes) -> bytes:
    return el[:el.index(b">") + 1]


def _rels_name(part: str) -> str:
    d, f = posixpath.split(part)
    return posixpath.join(d, "_rels", f + ".rels")


def _resolve(source: str, target: str) -> str:
    """The part a relationship of ``source`` points at (targets are relative or absolute)."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def _relative(source: str, part: str) -> str:
    return posixpath.relpath(part, posixpath.dirname(source) or ".")


class _Rel:
    __slots__ = ("id", "type", "target", "external", "raw")

    def __init__(self, raw: bytes):
        a = _attrs(_start(raw))
        self.raw = raw
        self.id, self.type, self.target = a.get("Id", ""), a.get("Type", ""), a.get("Target", "")
        self.external = a.get("TargetMode", "") == "External"


def _rels(xml: bytes | None) -> list[_Rel]:
    return [_Rel(m.group(0)) for m in _elements(xml or b"", "Relationship")]


# --------------------------------------------------------------------------------------------------
# The package being changed
# --------------------------------------------------------------------------------------------------

class _Overlay(Mapping):
    """``base`` with ``changes`` applied (None deletes a member), without copying ``base``."""

    def __init__(self, base: Mapping[str, bytes], changes: Mapping[str, bytes | None]):
        self.base, self.changes = base, changes
        self._names = ({n for n in base.keys() if changes.get(n, b"") is not None}
                       | {n for n, v in changes.items() if v is not None})

    def __getitem__(self, name: str) -> bytes:
        if name not in self._names:
            raise KeyError(name)
        v = self.changes.get(name)
        return v if v is not None else self.base[name]

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class _Package:
    """The target's members (read lazily) plus the changes made so far."""

    def __init__(self, parts: Mapping[str, bytes]):
        self.parts = parts
        self.names = set(parts.keys())
        self.out: dict[str, bytes | None] = {}

    def __contains__(self, name: str) -> bool:
        if name in self.out:
            return self.out[name] is not None
        return name in self.names

    def get(self, name: str) -> bytes | None:
        if name in self.out:
            return self.out[name]
        return self.parts[name] if name in self.names else None

    def set(self, name: str, data: bytes | None) -> None:
        if data is None and name not in self.names:
            self.out.pop(name, None)
        elif data is not None and name in self.names and name not in self.out and self.parts[name] == data:
            return
        else:
            self.out[name] = data

    def rels_of(self, part: str) -> list[_Rel]:
        return _rels(self.get(_rels_name(part)))

    def targets(self, part: str) -> list[tuple[_Rel, str]]:
        return [(r, _resolve(part, r.target)) for r in self.rels_of(part) if not r.external]

    def reachable(self, start: Iterable[str], skip: tuple[str, str] | None = None) -> set[str]:
        """Every part reached from ``start`` through internal relationships (``skip`` = one edge
        (source, target) not to follow)."""
        seen: set[str] = set()
        todo = [p for p in start if p in self]
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.add(p)
            for _r, t in self.targets(p):
                if (p, t) != skip and t in self and t not in seen:
                    todo.append(t)
        return seen

    def delete_parts(self, names: Iterable[str]) -> None:
        for n in names:
            self.set(n, None)
            if _rels_name(n) in self:
                self.set(_rels_name(n), None)

    def result(self) -> dict[str, bytes | None]:
        """The changes: a member written back with its own bytes (a replaced sheet's chart that
        came out the same) is no change."""
        return {k: v for k, v in self.out.items()
                if (v is None and k in self.names) or (v is not None and (k not in self.names or self.parts[k] != v))}


def _root_parts(pkg: _Package) -> list[str]:
    return [t for _r, t in ((r, _resolve("", r.target)) for r in _rels(pkg.get("_rels/.rels")) if not r.external)]


def _workbook_part(pkg: _Package) -> str:
    for r in _rels(pkg.get("_rels/.rels")):
        if r.type == OFFICE_DOCUMENT_REL:
            return _resolve("", r.target)
    return "xl/workbook.xml"


class _Sheet:
    __slots__ = ("name", "sheet_id", "rid", "part", "match")

    def __init__(self, match: re.Match, rels: dict[str, str]):
        a = _attrs(_start(match.group(0)))
        self.match = match
        self.name = a.get("name", "")
        self.sheet_id = int(a.get("sheetId", "0") or 0)
        self.rid = _local_attr(a, "id") or ""
        self.part = rels.get(self.rid, "")


def _sheets(wb_xml: bytes, rels: dict[str, str]) -> list[_Sheet]:
    m = re.search(rb"<sheets(?=[\s>])[^>]*>(.*?)</sheets>", wb_xml, re.S)
    if m is None:
        return []
    return [_Sheet(s, rels) for s in re.finditer(rb"<sheet(?=[\s/>])[^>]*?/>", wb_xml[:m.end()])
            if s.start() >= m.start(1)]


def _workbook_sheets(pkg: _Package) -> tuple[str, bytes, list[_Rel], dict[str, str], list[_Sheet]]:
    """(workbook part, its XML, its relationships, relationship id → part, its sheets in tab
    order) of a package."""
    wb_part = _workbook_part(pkg)
    wb_xml = pkg.get(wb_part)
    wb_rels = pkg.rels_of(wb_part)
    rid_part = {r.id: _resolve(wb_part, r.target) for r in wb_rels if not r.external}
    return wb_part, wb_xml, wb_rels, rid_part, _sheets(wb_xml, rid_part)


def _find(sheets: list[_Sheet], name: str) -> int | None:
    for i, s in enumerate(sheets):
        if s.name == name:
            return i
    for i, s in enumerate(sheets):  # Excel's sheet names are case-insensitive
        if s.name.casefold() == name.casefold():
            return i
    return None


# --------------------------------------------------------------------------------------------------
# workbook.xml: sheet-local defined names and the views follow the sheets' positions
# --------------------------------------------------------------------------------------------------

def _shift_local_names(wb_xml: bytes, index: int, delta: int, drop_index: int | None = None,
                       drop_builtin_only: bool = False) -> bytes:
    """Sheet-local defined names: those at ``drop_index`` removed (only ``_xlnm.*`` ones when
    ``drop_builtin_only``), every ``localSheetId >= index`` moved by ``delta``."""
    block = re.search(rb"<definedNames(?=[\s>])[^>]*>(.*?)</definedNames>", wb_xml, re.S)
    if block is None:
        return wb_xml
    out, pos = [], block.start(1)
    for m in _elements(wb_xml[:block.end(1)], "definedName"):
        if m.start() < block.start(1):
            continue
        el = m.group(0)
        a = _attrs(_start(el))
        lid = a.get("localSheetId")
        out.append(wb_xml[pos:m.start()])
        pos = m.end()
        if lid is not None and lid.isdigit():
            n = int(lid)
            if n == drop_index and (not drop_builtin_only or a.get("name", "").startswith("_xlnm.")):
                continue
            if n >= index:
                el = _set_attr(_start(el), "localSheetId", n + delta) + el[len(_start(el)):]
        out.append(el)
    out.append(wb_xml[pos:block.end(1)])
    inner = b"".join(out)
    if not _elements(inner, "definedName"):
        return wb_xml[:block.start()] + wb_xml[block.end():]
    return wb_xml[:block.start(1)] + inner + wb_xml[block.end(1):]


def _names_lose_sheet(wb_xml: bytes, name: str) -> bytes:
    """Defined names that refer to sheet ``name`` refer to ``#REF!`` instead, as Excel rewrites them
    when the sheet is deleted (``'回访计划2026'!$A$1`` → ``#REF!$A$1``)."""
    quoted = re.escape("'" + name.replace("'", "''") + "'!")
    plain = r"(?<![\w.'\]])" + re.escape(name + "!") if re.fullmatch(r"[^\W\d][\w.]*", name) else None
    pat = re.compile(quoted + ("|" + plain if plain else ""))

    def fix(m: re.Match) -> bytes:
        el = m.group(0)
        head = _start(el)
        if head.endswith(b"/>"):
            return el
        text = unescape(el[len(head):-len(b"</definedName>")].decode("utf-8"))
        new = pat.sub("#REF!", text)
        if new == text:
            return el
        return head + escape(new, quote=False).encode("utf-8") + b"</definedName>"

    return re.sub(rb"<definedName(?=[\s>])[^>]*>.*?</definedName>", fix, wb_xml, flags=re.S)


def _add_local_names(wb_xml: bytes, names: list[bytes]) -> bytes:
    if not names:
        return wb_xml
    body = b"".join(names)
    block = re.search(rb"<definedNames(?=[\s>])[^>]*>(.*?)</definedNames>", wb_xml, re.S)
    if block is not None:
        return wb_xml[:block.end(1)] + body + wb_xml[block.end(1):]
    empty = re.search(rb"<definedNames\s*/>", wb_xml)
    if empty is not None:
        return wb_xml[:empty.start()] + b"<definedNames>" + body + b"</definedNames>" + wb_xml[empty.end():]
    end = wb_xml.index(b"</sheets>") + len(b"</sheets>")
    # functionGroups and externalReferences come between sheets and definedNames in the schema
    for later in (rb"</functionGroups>|<functionGroups[^>]*/>", rb"</externalReferences>"):
        m = re.search(later, wb_xml)
        if m is not None:
            end = max(end, m.end())
    return wb_xml[:end] + b"<definedNames>" + body + b"</definedNames>" + wb_xml[end:]


def _shift_views(wb_xml: bytes, index: int, delta: int, count: int) -> bytes:
    """activeTab/firstSheet keep naming the same sheet after one is inserted or removed at ``index``."""
    def fix(m: re.Match) -> bytes:
        tag = m.group(0)
        a = _attrs(tag)
        for name in ("activeTab", "firstSheet"):
            v = a.get(name)
            if v is not None and v.isdigit():
                n = int(v)
                if n > index or (delta > 0 and n == index):
                    n += delta
                n = max(0, min(n, count - 1))
                tag = _set_attr(tag, name, n)
        return tag

    return re.sub(rb"<workbookView(?=[\s/>])[^>]*>", fix, wb_xml)


# --------------------------------------------------------------------------------------------------
# Content types
# --------------------------------------------------------------------------------------------------

def _content_types(xml: bytes) -> tuple[dict[str, str], dict[str, str]]:
    defaults = {a.get("Extension", "").lower(): a.get("ContentType", "")
                for a in (_attrs(_start(m.group(0))) for m in _elements(xml, "Default"))}
    overrides = {a.get("PartName", "").lstrip("/"): a.get("ContentType", "")
                 for a in (_attrs(_start(m.group(0))) for m in _elements(xml, "Override"))}
    return defaults, overrides


def _ext(part: str) -> str:
    """The extension a Default content type matches (``_rels/.rels`` → ``rels``)."""
    base = posixpath.basename(part)
    return base.rsplit(".", 1)[1].lower() if "." in base else ""


def _type_of(part: str, defaults: dict[str, str], overrides: dict[str, str]) -> str | None:
    if part in overrides:
        return overrides[part]
    return defaults.get(_ext(part))


def _fix_content_types(xml: bytes, remove: Iterable[str], add: dict[str, str]) -> bytes:
    """Overrides of removed parts dropped; every added part typed (by a Default or an Override)."""
    gone = {"/" + p for p in remove}
    if gone:
        def keep(m: re.Match) -> bytes:
            return b"" if _attrs(_start(m.group(0))).get("PartName") in gone else m.group(0)
        xml = re.sub(rb"<Override(?=[\s/>])[^>]*?(?:/>|>\s*</Override>)", keep, xml)
    defaults, overrides = _content_types(xml)
    new = []
    for part, ctype in add.items():
        if overrides.get(part) == ctype:
            continue
        if part in overrides:
            xml = re.sub(rb'<Override(?=[\s/>])[^>]*PartName="/%s"[^>]*/>' % re.escape(part.encode()), b"", xml)
        elif part not in overrides and defaults.get(_ext(part)) == ctype:
            continue
        new.append(b'<Override PartName="/%s" ContentType="%s"/>' % (_xml_attr(part), _xml_attr(ctype)))
    if new:
        end = xml.rindex(b"</Types>")
        xml = xml[:end] + b"".join(new) + xml[end:]
    return xml


# --------------------------------------------------------------------------------------------------
# Naming new parts
# --------------------------------------------------------------------------------------------------

def _free_name(template: str, taken: set[str]) -> str:
    """``xl/charts/chart1.xml`` → the first ``xl/charts/chartN.xml`` not in ``taken``."""
    d, f = posixpath.split(template)
    stem, ext = posixpath.splitext(f)
    stem = re.sub(r"\d+$", "", stem)
    n = 1
    while True:
        name = posixpath.join(d, f"{stem}{n}{ext}")
        if name not in taken and name.lower() not in {t.lower() for t in taken if t.startswith(d)}:
            return name
        n += 1


def _code_names(pkg: _Package, wb_xml: bytes, sheets: list[_Sheet], skip: str | None) -> set[str]:
    pr = re.search(rb"<workbookPr(?=[\s/>])[^>]*>", wb_xml)
    taken = {_attrs(pr.group(0)).get("codeName", "")} - {""} if pr else set()
    for s in sheets:
        if s.part and s.part != skip and s.part in pkg:
            code = _sheet_code_name(pkg.get(s.part))
            if code:
                taken.add(code)
    if VBA_PART in pkg:
        try:
            from pyfuncs.io.vbaproject import module_names

            taken.update(module_names(pkg.get(VBA_PART)))
        except Exception:  # noqa: BLE001 - an unreadable project: the sheets' names still count
            pass
    return taken


def _sheet_code_name(xml: bytes | None) -> str | None:
    m = re.search(rb"<(?:\w+:)?sheetPr(?=[\s/>])[^>]*>", (xml or b"")[:65536])
    if m is None:
        return None
    return _attrs(m.group(0)).get("codeName")


# --------------------------------------------------------------------------------------------------
# The scratch workbook
# --------------------------------------------------------------------------------------------------

def _clean(value):
    if isinstance(value, str) and _ILLEGAL.search(value):
        return type(value)(_ILLEGAL.sub("", value))
    return value


def _cleaned(lay):
    """``lay`` with the characters XML cannot hold removed from its texts (``lay`` stays as it is)."""
    cells = lay.cells
    # one search over every text (most layouts have nothing to drop: no copy of 65,000 cells)
    if _ILLEGAL.search("\n".join(v for v, _ in cells.values() if isinstance(v, str))):
        cells = {k: (_clean(v), st) for k, (v, st) in cells.items()}
    charts = [replace(c, title=_clean(c.title), y_title=_clean(c.y_title), x_title=_clean(c.x_title),
                      line_axis_title=_clean(c.line_axis_title)) for c in lay.charts]
    validations = [replace(v, choices=tuple(_clean(c) for c in v.choices), prompt=_clean(v.prompt))
                   for v in lay.validations]
    return replace(lay, cells=cells, charts=charts, validations=validations,
                   header=_clean(lay.header), footer=_clean(lay.footer))


def render_scratch(lay, *, fast: bool = True) -> dict[str, bytes]:
    """``lay`` rendered by :func:`pyfuncs.io.layout_openpyxl.render` into a one-sheet workbook:
    its members, uncompressed.

    ``fast`` (the default): openpyxl renders what the sheet has once (styles, merges, print setup,
    validations, charts…) but makes no cell objects for the values; the sheet's ``<sheetData>`` is
    written by :func:`pyfuncs.io.sheetdata.sheet_data` after the save, with the xf indexes openpyxl
    registered for the cells' styles (five times faster on the year's plan). ``fast=False`` renders
    every value as an openpyxl cell (the reference the tests compare the fast path with)."""
    from openpyxl import Workbook

    from pyfuncs.io.layout_openpyxl import render

    wb = Workbook()
    ws = wb.active
    ws.title = lay.name
    rendered = render(ws, _cleaned(lay), cells=not fast)
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    if fast:
        part = ws.path.lstrip("/")
        parts[part] = _with_values(parts[part], ws, *rendered)
    return parts


def _with_values(sheet_xml: bytes, ws, values: dict, rows: dict[int, str]) -> bytes:
    """The scratch sheet's part with its ``<sheetData>`` written from ``values`` and ``rows`` (see
    :func:`pyfuncs.io.layout_openpyxl.render`) and the cells openpyxl holds in ``ws``, each of
    those serialised by openpyxl's own cell writer as its save wrote it."""
    import xml.etree.ElementTree as ET

    from openpyxl.cell._writer import etree_write_cell
    from pyfuncs.io.sheetdata import Raw, dimension, sheet_data, with_sheet_data

    class _Collect:
        def __init__(self):
            self.xml = ""

        def write(self, el):
            self.xml = ET.tostring(el, encoding="unicode")

    cells = dict(values)
    links = ws._hyperlinks[:]  # the save's list; writing a cell with a link appends to it again
    for coord, cell in ws._cells.items():
        if cell._value is None and not cell.has_style and not cell._comment:
            cells[coord] = (None, None)  # in the dimension, not written (as openpyxl does)
            continue
        out = _Collect()
        etree_write_cell(out, ws, cell, cell.has_style)
        cells[coord] = (Raw(out.xml), None)
    ws._hyperlinks = links
    rows = dict(rows)
    for r, dim in ws.row_dimensions.items():  # none in the fast path; any would be written as openpyxl writes it
        rows[r] = "".join(f' {k}="{_xml_attr(v).decode()}"' for k, v in dim)
    return with_sheet_data(sheet_xml, sheet_data(cells, rows), dimension(cells))


# --------------------------------------------------------------------------------------------------
# Grafting
# --------------------------------------------------------------------------------------------------

def graft_layout(parts: Mapping[str, bytes], lay, *, after: str | None = None) -> dict[str, bytes | None]:
    """The members to change so that the package ``parts`` holds sheet ``lay.name`` as ``lay``
    describes it: replaced in place when the workbook has it, else inserted after sheet ``after``
    (or at the end). Values are new bytes, or None for a member to delete."""
    return graft_sheet(parts, render_scratch(lay), after=after)


def graft_sheet(parts: Mapping[str, bytes], scratch: Mapping[str, bytes], *,
                after: str | None = None, _index: int | None = None) -> dict[str, bytes | None]:
    """Graft the first sheet of the workbook package ``scratch`` into ``parts`` (see
    :func:`graft_layout`)."""
    pkg = _Package(parts)
    src = _Package(scratch)
    wb_part, wb_xml, wb_rels, rid_part, sheets = _workbook_sheets(pkg)
    wb_rels_part = _rels_name(wb_part)
    s_wb_part, s_wb_xml, _, _, s_sheets = _workbook_sheets(src)
    s_sheet = s_sheets[0]
    name = s_sheet.name

    old = _find(sheets, name)
    if old is not None and not any(r.id == sheets[old].rid and r.type == WORKSHEET_REL for r in wb_rels):
        # a chartsheet (or dialog sheet) of that name: removed, and the worksheet put in its place
        gone = remove_sheet(parts, sheets[old].name)
        placed = graft_sheet(_Overlay(parts, gone), scratch, _index=old)
        merged = {**gone, **placed}
        names = set(parts.keys())
        return {k: v for k, v in merged.items()
                if (v is None and k in names) or (v is not None and (k not in names or parts[k] != v))}
    deleted: set[str] = set()
    if old is not None:
        index = old
        sheet = sheets[old]
        part, rid, sheet_id = sheet.part, sheet.rid, sheet.sheet_id
        old_xml = pkg.get(part) or b""
        code = _sheet_code_name(old_xml)
        selected = re.search(rb"<sheetView(?=[\s/>])[^>]*\btabSelected=\"(?:1|true)\"", old_xml) is not None
        deleted = _own_parts(pkg, wb_part, part)
        pkg.delete_parts(deleted)
        wb_xml = _shift_local_names(wb_xml, index, 0, drop_index=index, drop_builtin_only=True)
        _drop_calc_chain(pkg, wb_part, {sheet_id, index + 1})
    else:
        index = len(sheets) if _index is None else _index
        if after is not None and _index is None:
            a = _find(sheets, after)
            if a is not None:
                index = a + 1
        taken = {n for n in pkg.names if n in pkg}
        part = _free_name("xl/worksheets/sheet1.xml", taken)
        used_ids = {r.id for r in wb_rels}
        n = len(used_ids) + 1
        while f"rId{n}" in used_ids:
            n += 1
        rid = f"rId{n}"
        sheet_id = max((s.sheet_id for s in sheets), default=0) + 1
        code = None
        selected = False
        wb_xml = _shift_local_names(wb_xml, index, +1)
        wb_xml = _shift_views(wb_xml, index, +1, len(sheets) + 1)
        sheets = _sheets(wb_xml, rid_part)  # the views before <sheets> may have changed length
        el = b'<sheet name="%s" sheetId="%d" r:id="%s"/>' % (_xml_attr(name), sheet_id, rid.encode())
        el = _with_r_prefix(el, wb_xml)
        if index < len(sheets):
            at = sheets[index].match.start()
        else:
            at = wb_xml.index(b"</sheets>")
        wb_xml = wb_xml[:at] + el + wb_xml[at:]
        rels_xml = pkg.get(wb_rels_part)
        new_rel = b'<Relationship Id="%s" Type="%s" Target="%s"/>' % (
            rid.encode(), WORKSHEET_REL.encode(), _relative(wb_part, part).encode())
        end = rels_xml.rindex(b"</Relationships>")
        pkg.set(wb_rels_part, rels_xml[:end] + new_rel + rels_xml[end:])
    if not code:
        from pyfuncs.io.vbaproject import new_code_names

        code = new_code_names(_code_names(pkg, wb_xml, sheets, part), 1)[0]
    _with_document_module(pkg, code)

    # the scratch sheet's own parts get names unused in the target
    s_part = s_sheet.part
    s_own = src.reachable([s_part]) - {s_part}
    taken = {n for n in pkg.names if n in pkg} | {part}
    rename = {s_part: part}
    for p in sorted(s_own, key=_natural):
        rename[p] = _free_name(p, taken)
        taken.add(rename[p])

    # styles
    sheet_xml = src.get(s_part)
    styles_part = next((_resolve(wb_part, r.target) for r in wb_rels if r.type == STYLES_REL), None)
    s_styles_part = next((_resolve(s_wb_part, r.target) for r in src.rels_of(s_wb_part) if r.type == STYLES_REL), None)
    if styles_part and styles_part in pkg and s_styles_part:
        used_xfs = {int(v) for v in re.findall(rb'<(?:c|row)\s[^>]*?\bs="(\d+)"', sheet_xml)}
        used_xfs |= {int(v) for v in re.findall(rb'<col\s[^>]*?\bstyle="(\d+)"', sheet_xml)}
        used_dxfs = {int(v) for v in re.findall(rb'<cfRule\s[^>]*?\bdxfId="(\d+)"', sheet_xml)}
        new_styles, xf_map, dxf_map = merge_styles(pkg.get(styles_part), src.get(s_styles_part), used_xfs, used_dxfs)
        pkg.set(styles_part, new_styles)
        sheet_xml = _renumber_styles(sheet_xml, xf_map, dxf_map)
    elif s_styles_part:  # a package without styles (Excel never writes one): the scratch's become its styles
        styles_part = posixpath.join(posixpath.dirname(wb_part), "styles.xml")
        pkg.set(styles_part, src.get(s_styles_part))
        rels_xml = pkg.get(wb_rels_part)
        used_ids = {r.id for r in _rels(rels_xml)}
        n = len(used_ids) + 1
        while f"rId{n}" in used_ids:
            n += 1
        end = rels_xml.rindex(b"</Relationships>")
        pkg.set(wb_rels_part, rels_xml[:end] + b'<Relationship Id="rId%d" Type="%s" Target="%s"/>'
                % (n, STYLES_REL.encode(), _relative(wb_part, styles_part).encode()) + rels_xml[end:])
        s_defaults, s_overrides = _content_types(src.get(CONTENT_TYPES))
        pkg.set(CONTENT_TYPES, _fix_content_types(pkg.get(CONTENT_TYPES), [], {
            styles_part: _type_of(s_styles_part, s_defaults, s_overrides)}))
    sheet_xml = _with_code_name(sheet_xml, code, selected)
    pkg.set(part, sheet_xml)

    # the sheet's parts, tables renumbered, relationships pointing at the new names (a table's
    # name may equal neither another table's nor a defined name: they share one namespace)
    tables = _table_ids_and_names(pkg)
    tables[1].update(_attrs(_start(m.group(0))).get("name", "").casefold()
                     for m in _elements(wb_xml, "definedName"))
    for p in [s_part, *sorted(s_own, key=_natural)]:
        new = rename[p]
        if p != s_part:
            data = src.get(p)
            if re.search(rb"<table(?=[\s>])", data[:512] if data else b""):
                data = _renumber_table(data, tables)
            elif new.lower().endswith(".vml"):
                data = _renumber_vml(data, pkg)
            pkg.set(new, data)
        rels = src.rels_of(p)
        if rels:
            pkg.set(_rels_name(new), _rels_xml(new, p, rels, rename))
        elif _rels_name(new) in pkg:
            pkg.set(_rels_name(new), None)

    # content types
    s_defaults, s_overrides = _content_types(src.get(CONTENT_TYPES))
    add = {}
    for p, new in rename.items():
        ctype = _type_of(p, s_defaults, s_overrides)
        if ctype:
            add[new] = ctype
    pkg.set(CONTENT_TYPES, _fix_content_types(pkg.get(CONTENT_TYPES), deleted - set(rename.values()), add))

    # the sheet's print titles and print area (and any other name local to it)
    local = []
    for m in _elements(s_wb_xml, "definedName"):
        el = m.group(0)
        a = _attrs(_start(el))
        if a.get("localSheetId") == "0":
            local.append(_set_attr(_start(el), "localSheetId", index) + el[len(_start(el)):])
    wb_xml = _add_local_names(wb_xml, local)
    pkg.set(wb_part, wb_xml)
    return pkg.result()


def remove_sheet(parts: Mapping[str, bytes], name: str) -> dict[str, bytes | None]:
    """The members to change so that the package ``parts`` no longer has sheet ``name`` (nothing
    when it has none): its part and the parts only it uses deleted, its ``<sheet>``, relationship
    and local names removed, the other sheets' ``localSheetId`` and the views moved down, names
    that referred to it made ``#REF!`` as Excel makes them. (Formulas in other sheets' cells that
    refer to it are left as they are, with their cached values.)"""
    pkg = _Package(parts)
    wb_part, wb_xml, wb_rels, _, sheets = _workbook_sheets(pkg)
    wb_rels_part = _rels_name(wb_part)
    index = _find(sheets, name)
    if index is None:
        return {}
    if len(sheets) == 1:
        raise ValueError(f"不能删除工作表「{name}」：它是工作簿中唯一的工作表")
    sheet = sheets[index]
    _without_document_module(pkg, _sheet_code_name(pkg.get(sheet.part)))
    own = _own_parts(pkg, wb_part, sheet.part) | {sheet.part}
    pkg.delete_parts(own)
    _drop_calc_chain(pkg, wb_part, {sheet.sheet_id, index + 1})
    m = sheet.match
    wb_xml = wb_xml[:m.start()] + wb_xml[m.end():]
    wb_xml = _shift_local_names(wb_xml, index + 1, -1, drop_index=index)
    wb_xml = _names_lose_sheet(wb_xml, sheet.name)
    wb_xml = _shift_views(wb_xml, index, -1, len(sheets) - 1)
    pkg.set(wb_part, wb_xml)
    rels_xml = pkg.get(wb_rels_part)
    for r in _rels(rels_xml):
        if r.id == sheet.rid:
            rels_xml = rels_xml.replace(r.raw, b"", 1)
    pkg.set(wb_rels_part, rels_xml)
    pkg.set(CONTENT_TYPES, _fix_content_types(pkg.get(CONTENT_TYPES), own, {}))
    return pkg.result()


# --------------------------------------------------------------------------------------------------
# Pieces of the graft
# --------------------------------------------------------------------------------------------------

def _natural(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _own_parts(pkg: _Package, wb_part: str, sheet_part: str) -> set[str]:
    """The parts only ``sheet_part`` uses (reached from it, not from anything else)."""
    mine = pkg.reachable([sheet_part]) - {sheet_part}
    if not mine:
        return set()
    others = pkg.reachable(_root_parts(pkg), skip=(wb_part, sheet_part))
    return mine - others


def _with_document_module(pkg: _Package, code: str) -> None:
    """The sheet's document module in the VBA project, as Excel makes one with a new sheet."""
    if VBA_PART not in pkg:
        return
    from pyfuncs.io.vbaproject import sheet_document_modules, with_document_modules

    try:
        bin_ = pkg.get(VBA_PART)
        if code.casefold() not in {m.casefold() for m in sheet_document_modules(bin_)}:
            pkg.set(VBA_PART, with_document_modules(bin_, [code]))
    except Exception:  # noqa: BLE001 - a project we cannot read: left as it is; Excel adds the module on load
        return


def _without_document_module(pkg: _Package, code: str | None) -> None:
    """A removed sheet's document module goes with it when it holds no code (a user's macro stays)."""
    if not code or VBA_PART not in pkg:
        return
    from pyfuncs.io.vbaproject import sheet_document_modules, without_document_modules

    try:
        bin_ = pkg.get(VBA_PART)
        if code.casefold() in {m.casefold() for m in sheet_document_modules(bin_)}:
            pkg.set(VBA_PART, without_document_modules(bin_, [code]))
    except Exception:  # noqa: BLE001 - a module with code in it, or an unreadable project: kept
        return


def _drop_calc_chain(pkg: _Package, wb_part: str, sheet_ids: set[int]) -> None:
    """Remove xl/calcChain.xml (Excel rebuilds it) with its relationship and content type, when it
    lists a cell of the sheet being replaced or removed (``i`` is the sheetId; the sheet's 1-based
    position is counted too, as some writers read it so): a stale entry makes Excel "repair" the
    file. A chain about other sheets only is kept."""
    rels_part = _rels_name(wb_part)
    rels_xml = pkg.get(rels_part) or b""
    for r in _rels(rels_xml):
        if r.type == CALC_CHAIN_REL:
            chain = _resolve(wb_part, r.target)
            listed = {int(v) for v in re.findall(rb'<c\s[^>]*?\bi="(\d+)"', pkg.get(chain) or b"")}
            if chain in pkg and not listed & sheet_ids:
                continue
            rels_xml = rels_xml.replace(r.raw, b"", 1)
            pkg.set(rels_part, rels_xml)
            if chain in pkg:
                pkg.set(chain, None)
            pkg.set(CONTENT_TYPES, _fix_content_types(pkg.get(CONTENT_TYPES), [chain], {}))


def _with_r_prefix(el: bytes, wb_xml: bytes) -> bytes:
    """``r:id`` written with the prefix workbook.xml binds to the relationships namespace."""
    m = re.search(rb'xmlns:(\w+)="%s"' % REL.encode(), wb_xml[:4096])
    if m is None:
        return el.replace(b" r:id=", b' xmlns:r="%s" r:id=' % REL.encode())
    return el.replace(b" r:id=", b" " + m.group(1) + b":id=")


_STYLE_REF = re.compile(rb'(<(?:c|row)\s[^>]*?\ss="|<col\s[^>]*?\sstyle="|<cfRule\s[^>]*?\sdxfId=")(\d+)"')


def _renumber_styles(xml: bytes, xf_map: dict[int, int], dxf_map: dict[int, int]) -> bytes:
    """``s=`` of cells and rows, ``style=`` of columns (scratch xf → target xf) and ``dxfId=`` of
    conditional formats (scratch dxf → target dxf), in one pass over the sheet."""
    xf = {str(k).encode(): str(v).encode() for k, v in xf_map.items()}
    dxf = {str(k).encode(): str(v).encode() for k, v in dxf_map.items()}

    def sub(m: re.Match) -> bytes:
        head, n = m.group(1), m.group(2)
        table = dxf if head.startswith(b"<cfRule") else xf
        return head + table.get(n, n if table is dxf else b"0") + b'"'

    return _STYLE_REF.sub(sub, xml)


def _with_code_name(xml: bytes, code: str, selected: bool) -> bytes:
    from pyfuncs.io.vbaproject import _with_code_name as put_code

    m = re.search(rb"<(?:\w+:)?sheetPr(?=[\s/>])[^>]*>", xml)
    if m is not None and b"codeName=" in m.group(0):
        xml = xml[:m.start()] + _set_attr(m.group(0), "codeName", code) + xml[m.end():]
    else:
        xml = put_code(xml, code)

    def view(v: re.Match) -> bytes:
        return _set_attr(v.group(0), "tabSelected", 1 if selected else None)

    return re.sub(rb"<sheetView(?=[\s/>])[^>]*>", view, xml, count=1)


def _rels_xml(new: str, old: str, rels: list[_Rel], rename: dict[str, str]) -> bytes:
    out = []
    for r in rels:
        raw = r.raw
        if not r.external:
            target = _resolve(old, r.target)
            if target in rename:
                start = _start(raw)
                raw = _set_attr(start, "Target", _relative(new, rename[target])) + raw[len(start):]
        out.append(raw)
    return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + b"".join(out) + b"</Relationships>")


_IDMAP = re.compile(rb'(<(?:\w+:)?idmap\b[^>]*?\bdata=")([\d,\s]*)(")')


def _renumber_vml(xml: bytes, pkg: _Package) -> bytes:
    """A VML drawing (comments, buttons) with a shape-id block unused by the workbook's others, as
    Excel numbers them (``<o:idmap data="n"/>``, shapes ``_x0000_s<1024·n + k>``)."""
    m = _IDMAP.search(xml)
    if m is None or not m.group(2).strip().isdigit():
        return xml
    used: set[int] = set()
    for name in pkg.names:
        if name.lower().endswith(".vml") and name in pkg:
            for other in _IDMAP.finditer(pkg.get(name) or b""):
                used.update(int(x) for x in re.findall(rb"\d+", other.group(2)))
    old = int(m.group(2))
    if old not in used:
        return xml
    new = max(used) + 1
    xml = xml[:m.start(2)] + str(new).encode() + xml[m.end(2):]
    return re.sub(rb"_x0000_s(\d+)", lambda s: b"_x0000_s%d" % (int(s.group(1)) - 1024 * old + 1024 * new), xml)


def _table_ids_and_names(pkg: _Package) -> tuple[set[int], set[str]]:
    defaults, overrides = _content_types(pkg.get(CONTENT_TYPES) or b"")
    ids: set[int] = set()
    names: set[str] = set()
    for p, t in overrides.items():
        if t == TABLE_TYPE and p in pkg:
            m = re.search(rb"<table(?=[\s>])[^>]*>", pkg.get(p))
            if m:
                a = _attrs(m.group(0))
                if a.get("id", "").isdigit():
                    ids.add(int(a["id"]))
                names.update(x.casefold() for x in (a.get("name"), a.get("displayName")) if x)
    return ids, names


def _renumber_table(xml: bytes, taken: tuple[set[int], set[str]]) -> bytes:
    """A table with an id and a name unused in the workbook (``taken`` is updated)."""
    ids, names = taken
    m = re.search(rb"<table(?=[\s>])[^>]*>", xml)
    a = _attrs(m.group(0))
    tag = m.group(0)
    tid = int(a["id"]) if a.get("id", "").isdigit() else 1
    if tid in ids:
        tid = max(ids) + 1
    ids.add(tid)
    tag = _set_attr(tag, "id", tid)
    base = a.get("displayName") or a.get("name") or "Table"
    stem = re.sub(r"_?\d+$", "", base) or "Table"
    new = base
    n = 1
    while new.casefold() in names:
        n += 1
        new = f"{stem}_{n}"
    names.add(new.casefold())
    if new != base:
        tag = _set_attr(tag, "displayName", new)
        if "name" in a:
            tag = _set_attr(tag, "name", new)
    return xml[:m.start()] + tag + xml[m.end():]
