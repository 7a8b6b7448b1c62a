"""The file writer keeps what Excel wrote: a workbook carrying Excel's own features goes through
every job, and every member the job had no reason to change comes out byte for byte.

The fixture is our built workbook with: a staff sheet written by XlsxWriter the way Excel writes it
(a sparkline, a solid data bar with a red negative fill as x14, a text box, a note) grafted in; an
x14 data bar and an x14 cross-sheet list validation in 报修台账's extLst; a hand-written threaded
comment part; a staff formula ``=DATE(2016,9,21)`` with its cached value as a 报修日期; and staff text
that looks like formulas (``=HYPERLINK(...)``, a DDE payload, ``+1``, ``-1``, ``@x``).
"""
from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from _jobs_data import PROJECTS, REPAIRS, VISITS, fill
from _io_fixtures import make_workbook
from pyfuncs.cli import main
from pyfuncs.io.filebook import FileBook
from pyfuncs.io.package import sheet_parts, write_package
from pyfuncs.schema import TABLES
from pyfuncs.tables import read_table

TODAY = dt.date(2026, 11, 21)
EVIL = '=HYPERLINK("http://evil","点我")'
DDE = "=cmd|' /C calc'!A0"
STAFF_SHEET = "员工图表"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
EXT = (f'<extLst><ext uri="{{78C0D931-6437-407d-A8EE-F0AAD7539E65}}" xmlns:x14="{X14}">'
       '<x14:conditionalFormattings><x14:conditionalFormatting '
       'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><x14:cfRule type="dataBar" '
       'id="{00000000-000E-0000-0000-000001000000}"><x14:dataBar minLength="0" maxLength="100" gradient="0">'
       '<x14:cfvo type="autoMin"/><x14:cfvo type="autoMax"/><x14:negativeFillColor rgb="FFFF0000"/>'
       '<x14:axisColor rgb="FF000000"/></x14:dataBar></x14:cfRule><xm:sqref>T2:T100</xm:sqref>'
       '</x14:conditionalFormatting></x14:conditionalFormattings></ext>'
       f'<ext uri="{{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}}" xmlns:x14="{X14}">'
       '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
       '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1">'
       '<x14:formula1><xm:f>设置!$A$2:$A$5</xm:f></x14:formula1><xm:sqref>Q2:Q100</xm:sqref>'
       '</x14:dataValidation></x14:dataValidations></ext></extLst>').encode()
THREADED = "xl/threadedComments/threadedComment1.xml"
THREADED_XML = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<ThreadedComments '
                'xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments" '
                'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><threadedComment ref="F3" '
                'dT="2026-10-01T09:00:00.00" personId="{00000000-0000-0000-0000-000000000001}" '
                'id="{00000000-0000-0000-0000-000000000002}"><text>业主说下周再来</text></threadedComment>'
                '</ThreadedComments>').encode()
STAFF_FORMULA = b"<f>DATE(2016,9,21)</f><v>42634</v>"
JOBS = ["refresh", "plan", "report", "forms", "check", "visits"]


def _staff_sheet() -> dict[str, bytes]:
    """A one-sheet workbook as XlsxWriter (that is, as Excel) writes it, uncompressed members."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet(STAFF_SHEET)
    for i, v in enumerate([3, -2, 5, 7, 1]):
        ws.write_number(i, 0, v)
    ws.add_sparkline("B1", {"range": f"'{STAFF_SHEET}'!A1:A5", "markers": True})
    ws.conditional_format("A1:A5", {"type": "data_bar", "bar_solid": True, "bar_negative_color": "#FF0000"})
    ws.insert_textbox("D2", "员工的说明：别删这张表")
    ws.write_comment("A1", "员工的批注")
    wb.close()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        return {n: z.read(n) for n in z.namelist()}


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _raw(path: Path) -> dict[str, tuple]:
    """Every member's stored form: (compress type, CRC, sizes, compressed bytes)."""
    from pyfuncs.io.package import _raw as raw

    with zipfile.ZipFile(path) as z:
        return {i.filename: (i.compress_type, i.CRC, i.compress_size, i.file_size, raw(z, i))
                for i in z.infolist()}


def _ledger_row(path: Path, ticket: str) -> tuple[int, int]:
    with FileBook.open(path, lock=False) as book:
        f = read_table(book, TABLES["repairs"])
    row = int(f.df.index[f.df["ticket_id"] == ticket][0])
    return row, f.cols["notice"]


@pytest.fixture(scope="module")
def featured(tmp_path_factory) -> Path:
    from pyfuncs.io.book import col_letter
    from pyfuncs.io.graft import graft_sheet

    d = tmp_path_factory.mktemp("featured")
    p = make_workbook(d / "台账.xlsm")
    projects = [PROJECTS[0], (PROJECTS[1][0], EVIL) + PROJECTS[1][2:], (PROJECTS[2][0], DDE) + PROJECTS[2][2:]]
    repairs = [r[:5] + (t,) + r[6:] for r, t in zip(REPAIRS, ["+1", "-1", "@x", DDE])]
    fill(p, projects=projects, repairs=repairs, visits=VISITS)
    row, col = _ledger_row(p, "BX2025-0007")
    parts = _members(p)
    changes = graft_sheet(parts, _staff_sheet())
    view = {**parts, **{k: v for k, v in changes.items() if v is not None}}
    ledger = sheet_parts(view)["报修台账"]
    xml = view[ledger]
    ref = f"{col_letter(col)}{row}".encode()
    xml, n = re.subn(rb'<c r="' + ref + rb'"([^>]*?)(?:/>|>.*?</c>)',
                     lambda m: b'<c r="' + ref + b'"' + re.sub(rb'\st="[^"]*"', b"", m.group(1)) + b">" + STAFF_FORMULA
                     + b"</c>", xml, count=1, flags=re.S)
    assert n == 1
    xml = xml.replace(b"</worksheet>", EXT + b"</worksheet>")
    # a threaded comment part (Excel 365), reached from the ledger sheet
    folder, base = ledger.rsplit("/", 1)
    rels_name = f"{folder}/_rels/{base}.rels"
    rel = (b'<Relationship Id="rIdThreaded1" Type="http://schemas.microsoft.com/office/2017/10/relationships/'
           b'threadedComment" Target="../threadedComments/threadedComment1.xml"/>')
    rels = view.get(rels_name) or (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
                                   b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>')
    ct = view["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/' + THREADED.encode()
        + b'" ContentType="application/vnd.ms-excel.threadedcomments+xml"/></Types>')
    changes.update({ledger: xml, rels_name: rels.replace(b"</Relationships>", rel + b"</Relationships>"),
                    THREADED: THREADED_XML, "[Content_Types].xml": ct})
    out = d / "featured.xlsm"
    write_package(p, changes, out)
    return out


def _job_args(job: str, path: Path) -> list[str]:
    args = [job, str(path), "--today", TODAY.isoformat()]
    if job == "plan":
        args += ["--year", str(TODAY.year)]
    if job == "forms":
        args += ["--tickets", "BX2026-0001"]
    return args


def _protected(path: Path) -> set[str]:
    """Members no job has a reason to change: the staff sheet and what it reaches, the threaded
    comment, shared strings, theme, ribbon, document properties."""
    m = _members(path)
    staff = sheet_parts(m)[STAFF_SHEET]
    out = {staff, THREADED, "xl/sharedStrings.xml", "xl/theme/theme1.xml", "docProps/app.xml", "docProps/core.xml",
           "customUI/customUI.xml"}
    folder, base = staff.rsplit("/", 1)
    rels = m.get(f"{folder}/_rels/{base}.rels", b"")
    out.add(f"{folder}/_rels/{base}.rels")
    for target in re.findall(rb'Target="\.\./([^"]+)"', rels):
        out.add("xl/" + target.decode())
    return {n for n in out if n in m}


def test_fixture_carries_the_features(featured):
    m = _members(featured)
    staff = m[sheet_parts(m)[STAFF_SHEET]]
    assert b"x14:sparklineGroups" in staff and b"x14:dataBar" in staff and b"negativeFillColor" in staff
    assert any(b"txBody" in v and "drawing" in n for n, v in m.items())  # the text box
    ledger = m[sheet_parts(m)["报修台账"]]
    assert EXT in ledger and STAFF_FORMULA in ledger
    with FileBook.open(featured, lock=False) as book:
        row, col = _ledger_row(featured, "BX2025-0007")
        assert book.read("报修台账", (row, col, row, col)) == [[dt.datetime(2016, 9, 21)]] or \
            book.read("报修台账", (row, col, row, col)) == [[dt.date(2016, 9, 21)]]


@pytest.mark.parametrize("job", JOBS)
def test_a_job_changes_only_what_it_must(featured, tmp_path, job):
    p = tmp_path / "台账.xlsm"
    shutil.copy(featured, p)
    before_raw, before = _raw(p), _members(p)
    assert main(_job_args(job, p)) in (0, 1)
    after_raw, after = _raw(p), _members(p)
    for name in _protected(featured):
        assert after_raw.get(name) == before_raw[name], f"{job} changed {name}"
    # every member with the same content is stored the same way: copied, never re-deflated
    for name, data in before.items():
        if after.get(name) == data:
            assert after_raw[name] == before_raw[name], f"{job} re-wrote unchanged {name}"
    assert [n for n in before if n in after] == [n for n in after if n in before]  # order kept
    ledger = after[sheet_parts(after)["报修台账"]]
    assert EXT in ledger, f"{job} lost the x14 extLst"
    assert STAFF_FORMULA in ledger, f"{job} lost the staff formula's cached value"
    with zipfile.ZipFile(p) as z:
        assert z.testzip() is None


def _formulas(path: Path) -> list[str]:
    from html import unescape

    out = []
    for name, data in _members(path).items():
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            out += [unescape(f.decode()) for f in re.findall(rb"<f(?:\s[^>]*)?>([^<]*)</f>", data)]
    return out


def test_text_is_never_a_formula_after_every_job(featured, tmp_path):
    p = tmp_path / "台账.xlsm"
    shutil.copy(featured, p)
    for job in JOBS:
        assert main(_job_args(job, p)) in (0, 1), job
    for f in _formulas(p):
        assert "evil" not in f and "cmd" not in f and f.strip() not in ("+1", "-1", "@x", "1", "x"), f
    with FileBook.open(p, lock=False) as book:
        projects = read_table(book, TABLES["projects"])
        assert set(projects.df["name"]) >= {EVIL, DDE}
        repairs = read_table(book, TABLES["repairs"])
        assert set(repairs.df["problem"]) >= {"+1", "-1", "@x"}
        texts = [v for s in book.sheet_names() if s.startswith(("回访计划", "统计", "维修单", "回访单"))
                 for row in book.read(s, (1, 1, *book.extent(s))) for v in row if isinstance(v, str)]
    assert any(EVIL in t or DDE in t for t in texts)  # the names reached the generated sheets, as text


def test_refresh_twice_reads_the_staff_formula_date(featured, tmp_path, capsys):
    p = tmp_path / "台账.xlsm"
    shutil.copy(featured, p)
    row, col = _ledger_row(p, "BX2025-0007")
    for _ in range(2):
        assert main(_job_args("refresh", p)) in (0, 1)
        out = capsys.readouterr().out
        assert f"第{row}行「报修日期」" not in out, out
    with FileBook.open(p, lock=False) as book:
        f = read_table(book, TABLES["repairs"])
    assert not [q for q in f.problems if q.row == row and q.column == "报修日期"]
    computed = [c.key for c in TABLES["repairs"].columns if c.computed and c.kind == "date"]
    assert computed and any(f.df.loc[row, k] is not None and f.df.loc[row, k] == f.df.loc[row, k]
                            for k in computed)


def test_libreoffice_opens_the_refreshed_file(featured, tmp_path):
    from _lo import convert

    p = tmp_path / "台账.xlsm"
    shutil.copy(featured, p)
    assert main(_job_args("refresh", p)) in (0, 1)
    out = convert(p, "csv", tmp_path / "lo")
    assert out.exists() and out.stat().st_size > 0


def _with_calc_chain(featured: Path, out: Path) -> tuple[int, int]:
    """The fixture with an xl/calcChain.xml listing the staff formula, as Excel writes one."""
    m = _members(featured)
    row, col = _ledger_row(featured, "BX2025-0007")
    sheet_id = list(sheet_parts(m)).index("报修台账") + 1
    from pyfuncs.io.book import col_letter

    chain = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<calcChain xmlns="http://schemas.'
             f'openxmlformats.org/spreadsheetml/2006/main"><c r="{col_letter(col)}{row}" i="{sheet_id}"/></calcChain>').encode()
    rels = m["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdChain9" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/calcChain" Target="calcChain.xml"/></Relationships>')
    ct = m["[Content_Types].xml"].replace(b"</Types>", b'<Override PartName="/xl/calcChain.xml" ContentType="application/'
                                          b'vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>')
    write_package(featured, {"xl/calcChain.xml": chain, "xl/_rels/workbook.xml.rels": rels,
                             "[Content_Types].xml": ct}, out)
    return row, col


def test_overwriting_a_formula_drops_the_calc_chain_and_only_then(featured, tmp_path):
    p = tmp_path / "chain.xlsm"
    row, col = _with_calc_chain(featured, p)
    with FileBook.open(p) as book:
        book.write("报修台账", row, col + 3, [["别处"]])  # not a formula cell: the chain stays
        book.save()
    assert "xl/calcChain.xml" in _members(p)
    with FileBook.open(p) as book:
        book.write("报修台账", row, col, [[dt.date(2016, 9, 22)]])
        book.save()
    m = _members(p)
    assert "xl/calcChain.xml" not in m and b"calcChain" not in m["xl/_rels/workbook.xml.rels"]
    assert b"calcChain" not in m["[Content_Types].xml"]
    with FileBook.open(p) as book:
        assert book.read("报修台账", (row, col, row, col))[0][0] in (dt.date(2016, 9, 22), dt.datetime(2016, 9, 22))


# ---- the patcher and the package writer on small hand-made parts ---------------------------------
NS = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
MC = (b'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac" '
      b'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac">')
STYLES = (b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
          b'<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy/m/d"/></numFmts>'
          b'<fonts count="1"><font><sz val="11"/></font></fonts>'
          b'<cellXfs count="3"><xf numFmtId="0" fontId="0" xfId="0"/><xf numFmtId="0" fontId="0" xfId="0" '
          b'applyAlignment="1"><alignment wrapText="1"/></xf><xf numFmtId="164" fontId="0" xfId="0" '
          b'applyNumberFormat="1"/></cellXfs></styleSheet>')


def _sheet(rows: bytes, tail: bytes = b"") -> bytes:
    return (NS + MC + b'<dimension ref="A1:C3"/><cols><col min="4" max="4" width="9" style="1" customWidth="1"/></cols>'
            b'<sheetData>' + rows + b'</sheetData>' + tail + b'</worksheet>')


def test_patch_keeps_every_other_byte_and_places_cells_in_order():
    from pyfuncs.io.book import Formula
    from pyfuncs.io.sheetxml import CellStyles, patch_cells

    rows = (b'<row r="1" spans="1:3" x14ac:dyDescent="0.25"><c r="A1" s="1" t="s"><v>0</v></c>'
            b'<c r="C1"><f>A1&amp;"x"</f><v>ax</v></c></row>'
            b'<row r="3"><c r="A3" s="2"><v>42634</v></c><c r="B3" s="1"/></row>')
    tail = (b'<mergeCells count="1"><mergeCell ref="A3:B3"/></mergeCells>'
            b'<mc:AlternateContent><mc:Choice Requires="x14"><x/></mc:Choice></mc:AlternateContent>' + EXT)
    xml = _sheet(rows, tail)
    styles = CellStyles(STYLES)
    out = patch_cells(xml, {(1, 2): "@x", (2, 1): dt.date(2016, 9, 21), (3, 2): "合并内", (3, 1): None,
                            (4, 1): 5, (4, 4): "-1", (1, 5): Formula("=SUM(A1:A3)")}, styles)
    # untouched: the formula and its cached value, the merge, the AlternateContent, the extLst
    assert b'<c r="C1"><f>A1&amp;"x"</f><v>ax</v></c>' in out and out.endswith(tail + b"</worksheet>")
    row1 = re.search(rb'<row r="1".*?</row>', out).group(0)
    assert row1.startswith(b'<row r="1" spans="1:5" x14ac:dyDescent="0.25">')  # spans grown, attributes kept
    assert [c for c in re.findall(rb'<c r="([A-Z]+)1"', row1)] == [b"A", b"B", b"C", b"E"]
    assert b'<c r="B1" t="inlineStr"><is><t xml:space="preserve">@x</t></is></c>' in row1
    assert b'<c r="E1"><f>SUM(A1:A3)</f></c>' in row1  # a Formula: no cached value, Excel computes it
    assert re.findall(rb'<row r="(\d+)"', out) == [b"1", b"2", b"3", b"4"]  # row 2 and 4 created in order
    # a new date cell: a date format (row 2 has nothing above in column A → xf 0 + the date format)
    c2 = re.search(rb'<c r="A2" s="(\d+)"><v>42634</v></c>', out)
    assert c2 and styles.is_date(int(c2.group(1)))
    assert b'<c r="A3" s="2"/>' in out  # emptied, its style kept
    assert b'<c r="B3" s="1"/>' in out  # inside the merge (not its anchor): skipped
    assert b'<c r="A4" s="2"><v>5</v></c>' in out  # the style of the cell above
    assert b'<c r="D4" s="1" t="inlineStr">' in out  # the column's style
    assert b'<dimension ref="A1:E4"/>' in out


def test_a_date_keeps_a_cells_date_format_and_a_number_format_is_applied():
    from pyfuncs.io.sheetxml import CellStyles, patch_cells

    styles = CellStyles(STYLES)
    xml = _sheet(b'<row r="1"><c r="A1" s="2"><v>1</v></c><c r="B1" s="1"><v>1</v></c></row>')
    out = patch_cells(xml, {(1, 1): dt.date(2024, 3, 5), (1, 2): 2.5}, styles,
                      {(1, 1): "yyyy-mm-dd", (1, 2): "0.00"})
    assert b'<c r="A1" s="2"><v>45356</v></c>' in out  # already a date format: kept
    b1 = int(re.search(rb'<c r="B1" s="(\d+)"><v>2.5</v>', out).group(1))
    assert b1 != 1 and styles.code(b1) == "0.00" and styles.changed


def test_write_package_copies_untouched_members_raw(tmp_path):
    src, dst = tmp_path / "a.zip", tmp_path / "b.zip"
    with zipfile.ZipFile(src, "w") as z:
        z.writestr("[Content_Types].xml", b"<Types/>", zipfile.ZIP_DEFLATED)
        z.writestr("stored.bin", b"\x00" * 1000, zipfile.ZIP_STORED)
        z.writestr("名字.xml", b"<a/>" * 500, zipfile.ZIP_DEFLATED)
        z.writestr("gone.xml", b"<b/>", zipfile.ZIP_DEFLATED)
    write_package(src, {"gone.xml": None, "名字.xml": b"<new/>", "added.xml": b"<c/>"}, dst)
    a, b = _raw(src), _raw(dst)
    assert list(b) == ["[Content_Types].xml", "stored.bin", "名字.xml", "added.xml"]
    assert b["stored.bin"] == a["stored.bin"] and b["[Content_Types].xml"] == a["[Content_Types].xml"]
    with zipfile.ZipFile(dst) as z:
        assert z.testzip() is None and z.read("名字.xml") == b"<new/>" and z.read("added.xml") == b"<c/>"


def test_a_stray_far_cell_is_a_located_message_and_other_sheets_still_read(tmp_path):
    """python-calamine would abort the process building a 1,048,576 × 16,384 grid: the sheet is
    refused before it is parsed, naming it and the far cell (in a child process, so a failure
    cannot take pytest down)."""
    import os
    import subprocess
    import sys

    p = make_workbook(tmp_path / "远.xlsm")
    m = _members(p)
    part = sheet_parts(m)["设置"]
    xml = m[part].replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
    far = tmp_path / "far.xlsm"
    write_package(p, {part: xml}, far)
    code = ("from pyfuncs.io.filebook import FileBook\nfrom pyfuncs.io.safe import Refused\n"
            f"b = FileBook.open({str(far)!r})\nprint('OK', b.read('项目台账', (1, 1, 1, 1)))\n"
            "try:\n    b.read('设置', (1, 1, 1, 1))\nexcept Refused as e:\n    print('REFUSED', e)\n")
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(root)}, cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "OK [[" in proc.stdout  # the other sheets still read
    assert "REFUSED" in proc.stdout and "「设置」" in proc.stdout and "XFD1048576" in proc.stdout


def test_overwriting_a_shared_formulas_first_cell_keeps_the_others_formulas(featured, tmp_path):
    """Excel stores a filled-down formula once, in the group's first cell (t="shared" ref= si=);
    the others point at it. A job writing a value there must leave the others a formula of their
    own (translated to their cell), with their cached values."""
    from pyfuncs.io.book import col_letter

    with FileBook.open(featured, lock=False) as book:
        f = read_table(book, TABLES["repairs"])
    row, col = int(f.df.index[0]), f.cols["problem"] - 3  # a column every row fills
    assert list(f.df.index[:3]) == [row, row + 1, row + 2]
    c = col_letter(col + 3)
    m = _members(featured)
    ledger = sheet_parts(m)["报修台账"]
    xml = m[ledger]
    for i, r in enumerate((row, row + 1, row + 2)):
        f = (b'<f t="shared" ref="%s%d:%s%d" si="7">$A%d&amp;"-"&amp;B%d</f>' % (c.encode(), row, c.encode(), row + 2, row, row)
             if i == 0 else b'<f t="shared" si="7"/>')
        cell = b'<c r="%s%d" t="str">' % (c.encode(), r) + f + b"<v>cached%d</v></c>" % r
        xml, n = re.subn(rb'<c r="' + c.encode() + b"%d" % r + rb'"[^>]*?(?:/>|>.*?</c>)', lambda _: cell, xml,
                         count=1, flags=re.S)
        assert n == 1
    p = tmp_path / "shared.xlsm"
    write_package(featured, {ledger: xml}, p)
    with FileBook.open(p) as book:
        book.write("报修台账", row, col + 3, [["人工填写"]])
        book.save()
    out = _members(p)[ledger]
    for r in (row + 1, row + 2):
        el = re.search(rb'<c r="' + c.encode() + b"%d" % r + rb'".*?</c>', out).group(0)
        assert b"<f>$A%d&amp;&quot;-&quot;&amp;B%d</f>" % (r, r) in el or b'<f>$A%d&amp;"-"&amp;B%d</f>' % (r, r) in el, el
        assert b"<v>cached%d</v>" % r in el and b"shared" not in el
    import openpyxl

    ws = openpyxl.load_workbook(p, keep_vba=True)["报修台账"]
    assert ws[f"{c}{row}"].value == "人工填写"
    assert ws[f"{c}{row + 2}"].value == f'=$A{row + 2}&"-"&B{row + 2}'
    with FileBook.open(p, lock=False) as book:
        assert book.read("报修台账", (row + 1, col + 3, row + 2, col + 3)) == [[f"cached{row + 1}"], [f"cached{row + 2}"]]
