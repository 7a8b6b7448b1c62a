"""pyfuncs.io.styles: styles spliced into a real workbook's styles.xml, the rest kept as bytes."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from pyfuncs.io.styles import _find_list, ensure_numfmt_xf, merge_styles

ROOT = Path(__file__).resolve().parents[1]
WORKBOOK = ROOT / "aftercare.xlsm"

# styles.xml as Excel writes it: prefixes, mc:Ignorable, extLst with x14 entries, cellStyles,
# a dxf, tableStyles, colors — every one of which must survive a merge byte for byte
EXCEL_STYLES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac x16r2" '
    b'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
    b'xmlns:x16r2="http://schemas.microsoft.com/office/spreadsheetml/2015/02/main">'
    b'<numFmts count="1"><numFmt numFmtId="176" formatCode="&quot;\xe7\xac\xac&quot;0"/></numFmts>'
    b'<fonts count="2" x14ac:knownFonts="1"><font><sz val="11"/><color theme="1"/><name val="\xe7\xad\x89\xe7\xba\xbf"/>'
    b'<family val="2"/><charset val="134"/><scheme val="minor"/></font>'
    b'<font><b/><sz val="11"/><color rgb="FFFF0000"/><name val="Arial"/></font></fonts>'
    b'<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    b'<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    b'<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"><alignment vertical="center"/></xf></cellStyleXfs>'
    b'<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"><alignment vertical="center"/></xf>'
    b'<xf numFmtId="176" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"><alignment vertical="center"/></xf>'
    b'<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"><alignment vertical="center"/></xf></cellXfs>'
    b'<cellStyles count="1"><cellStyle name="\xe5\xb8\xb8\xe8\xa7\x84" xfId="0" builtinId="0"/></cellStyles>'
    b'<dxfs count="1"><dxf><fill><patternFill><bgColor rgb="FFFFC7CE"/></patternFill></fill></dxf></dxfs>'
    b'<tableStyles count="0" defaultTableStyle="TableStyleMedium2" defaultPivotStyle="PivotStyleLight16"/>'
    b'<colors><mruColors><color rgb="FF0563C1"/></mruColors></colors>'
    b'<extLst><ext uri="{EB79DEF2-80B8-43e5-95BD-54CBDDF9020C}" xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    b'<x14:slicerStyles defaultSlicerStyle="SlicerStyleLight1"/></ext>'
    b'<ext uri="{9260A510-F301-46a8-8635-F512D64BE5F5}" xmlns:x15="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main">'
    b'<x15:timelineStyles defaultTimelineStyle="TimeSlicerStyleLight1"/></ext></extLst></styleSheet>'
)


def _outside(xml: bytes, tags=("numFmts", "cellXfs", "fonts", "fills", "borders", "dxfs")) -> bytes:
    """styles.xml with the lists a merge may grow cut out: what must stay byte-identical."""
    for t in tags:
        lst = _find_list(xml, t)
        if lst.present:
            xml = xml[:lst.start] + b"<%s/>" % t.encode() + xml[lst.end:]
    return xml


def _styles_of(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/styles.xml")


def _with_styles(tmp_path: Path, styles: bytes, cells: dict[str, int], sheet="xl/worksheets/sheet5.xml") -> Path:
    """A copy of the built workbook with the new styles.xml and cells (column → s) in row 60000."""
    out = tmp_path / "styled.xlsx"
    with zipfile.ZipFile(WORKBOOK) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/styles.xml":
                data = styles
            elif info.filename == sheet:
                row = b"".join(b'<c r="%s60000" s="%d"><v>45000.5</v></c>' % (col.encode(), s)
                               for col, s in sorted(cells.items()))
                data = data.replace(b"</sheetData>", b'<row r="60000">' + row + b"</row></sheetData>")
            if info.filename.endswith(".vba") or info.filename.endswith("vbaProject.bin"):
                continue
            zout.writestr(info.filename, data)
    return out


def test_ensure_numfmt_xf_on_the_built_workbook(tmp_path):
    xml = _styles_of(WORKBOOK)
    # a styled xf in General format (the table header: bold font, fill, border, centred); its
    # index moves as the schema gains formatted columns, so it is looked up, not assumed
    base = next(i for i, x in enumerate(_find_list(xml, "cellXfs").items)
                if re.search(rb'numFmtId="0"', x) and not re.search(rb'fontId="0"', x)
                and not re.search(rb'fillId="0"', x))
    new, i = ensure_numfmt_xf(xml, base, "yyyy年m月d日")
    assert i == len(_find_list(xml, "cellXfs").items)
    assert _outside(new) == _outside(xml)
    # the old entries keep their bytes; the count says what the list holds
    old_xfs, new_xfs = _find_list(xml, "cellXfs").items, _find_list(new, "cellXfs").items
    assert new_xfs[:len(old_xfs)] == old_xfs
    assert re.search(rb'<cellXfs count="%d"' % len(new_xfs), new)
    # asked again: the same xf, no second copy
    assert ensure_numfmt_xf(new, base, "yyyy年m月d日") == (new, i)
    # an existing custom format is reused by its code, not duplicated
    new2, j = ensure_numfmt_xf(new, 2, "yyyy-mm-dd")
    assert j == 3 and new2 == new  # cellXfs[3] is exactly xf 2 with yyyy-mm-dd
    # Excel's reader (openpyxl here) sees the base style with the new format
    path = _with_styles(tmp_path, new, {"C": i, "D": base})
    ws = openpyxl.load_workbook(path)["节假日"]
    c, d = ws["C60000"], ws["D60000"]
    assert c.number_format == "yyyy年m月d日"
    for attr in ("font", "fill", "border", "alignment"):
        assert repr(getattr(c, attr)) == repr(getattr(d, attr)), attr
    assert d.number_format == "General"


def test_ensure_numfmt_xf_keeps_excel_styles_bytes():
    new, i = ensure_numfmt_xf(EXCEL_STYLES, 1, "0.0%")
    assert i == 3
    assert _outside(new) == _outside(EXCEL_STYLES)
    assert b'<numFmt numFmtId="177" formatCode="0.0%"/>' in new  # after Excel's 176
    xf = _find_list(new, "cellXfs").items[3]
    assert b'numFmtId="177"' in xf and b'fontId="1"' in xf and b"<alignment vertical=\"center\"/>" in xf
    # the built-in 0% needs no numFmt entry, and an escaped code is matched by its meaning
    new2, k = ensure_numfmt_xf(new, 0, "0%")
    assert b'numFmtId="9"' in _find_list(new2, "cellXfs").items[k]
    assert _find_list(new2, "numFmts").items == _find_list(new, "numFmts").items
    assert ensure_numfmt_xf(EXCEL_STYLES, 0, '"第"0') [1] == 3
    assert ensure_numfmt_xf(EXCEL_STYLES, 1, '"第"0') == (EXCEL_STYLES, 1)


def test_merge_styles_from_a_scratch_workbook_reuses_and_appends():
    from openpyxl import Workbook
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws["A1"] = 1
    ws["A1"].font = Font(name="Arial", b=True, sz=11, color="FFFF0000")
    ws["B1"] = 2
    ws["B1"].number_format = '"第"0'
    ws["C1"] = 3
    ws["C1"].number_format = "0.000"
    ws["C1"].fill = PatternFill("solid", fgColor="D9E1F2")
    ws.conditional_formatting.add("A1:C1", FormulaRule(formula=["A1>1"], fill=PatternFill("solid", bgColor="FFC7CE")))
    buf = io.BytesIO()
    wb.save(buf)
    scratch = zipfile.ZipFile(buf).read("xl/styles.xml")
    sheet = zipfile.ZipFile(buf).read("xl/worksheets/sheet1.xml")
    used = {int(s) for s in re.findall(rb'\ss="(\d+)"', sheet)}
    new, xf_map, dxf_map = merge_styles(EXCEL_STYLES, scratch, used, {0})
    assert _outside(new) == _outside(EXCEL_STYLES)
    fonts = _find_list(new, "fonts").items
    xfs = _find_list(new, "cellXfs").items
    fills = _find_list(new, "fills").items
    codes = {m[0]: m[1] for m in re.findall(rb'numFmtId="(\d+)" formatCode="([^"]*)"', new)}
    assert codes[b"176"] == b"&quot;\xe7\xac\xac&quot;0" and len(codes) == 2  # "第"0 reused, 0.000 added
    by_ref = {m[0]: int(m[1]) for m in re.findall(rb'<c r="([A-Z]+1)" s="(\d+)"', sheet)}
    a, b, c = (xfs[xf_map[by_ref[r]]] for r in (b"A1", b"B1", b"C1"))
    font_a = fonts[int(re.search(rb'fontId="(\d+)"', a).group(1))]
    assert b"Arial" in font_a and b"FFFF0000" in font_a
    assert b'numFmtId="176"' in b
    nf_c = int(re.search(rb'numFmtId="(\d+)"', c).group(1))
    assert codes[str(nf_c).encode()] == b"0.000"
    assert b"D9E1F2" in fills[int(re.search(rb'fillId="(\d+)"', c).group(1))]
    # the counts are true, the dxf was appended after Excel's
    for tag in ("fonts", "fills", "borders", "cellXfs", "dxfs", "numFmts"):
        n = len(_find_list(new, tag).items)
        assert re.search(rb"<%s count=\"%d\"" % (tag.encode(), n), new), tag
    assert dxf_map == {0: 1}
    # merging the same again adds nothing
    again, xf_map2, dxf_map2 = merge_styles(new, scratch, used, {0})
    assert again == new and xf_map2 == xf_map and dxf_map2 == dxf_map


def test_a_styles_part_without_dxfs_or_numfmts_gets_them_where_the_schema_wants():
    xml = (b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b'<fonts count="1"><font/></fonts><fills count="1"><fill/></fills><borders count="1"><border/></borders>'
           b'<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellXfs>'
           b'<tableStyles count="0"/></styleSheet>')
    new, i = ensure_numfmt_xf(xml, 0, "0.0")
    assert new.index(b"<numFmts") < new.index(b"<fonts")
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.conditional_formatting  # noqa: B018
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import PatternFill

    wb.active.conditional_formatting.add("A1", FormulaRule(formula=["TRUE"], fill=PatternFill("solid", bgColor="FFEB9C")))
    buf = io.BytesIO()
    wb.save(buf)
    merged, _, dxf_map = merge_styles(new, zipfile.ZipFile(buf).read("xl/styles.xml"), [], [0])
    assert dxf_map == {0: 0}
    assert merged.index(b"<cellXfs") < merged.index(b'<dxfs count="1">') < merged.index(b"<tableStyles")
    with pytest.raises(ValueError):
        ensure_numfmt_xf(b"<styleSheet/>", 0, "0")
