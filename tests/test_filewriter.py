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
