"""pyfuncs.io.graft: generated sheets grafted into a real workbook package, never loading it into openpyxl.

The Layouts are the jobs' own (plan, report, forms, check), captured from real runs on a sample
workbook; the target is that workbook's zip members. Each result is written as a zip and read by
openpyxl, python-calamine and LibreOffice.
"""
from __future__ import annotations

import datetime as dt
import io
from html import unescape
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from _jobs_data import run_job, sample_book

from pyfuncs.io.book import Formula
from pyfuncs.io.graft import (_content_types, _elements, _ext, _rels, _rels_name, _resolve, graft_layout, graft_sheet,
                              remove_sheet)
from pyfuncs.io.styles import _canon, _find_list
from pyfuncs.io.vbaproject import project_problems, sheet_document_modules
from pyfuncs.layout import CondFill, Layout, Validation

TODAY = dt.date(2026, 11, 2)
HOSTILE = ['=HYPERLINK("http://evil","点我")', "=cmd|' /C calc'!A0", "+1", "-1", "@x", "=1+1"]


# --------------------------------------------------------------------------------------------------
# Fixtures: the jobs' real Layouts, the target package
# --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    """The sample workbook before any generating job ran."""
    return sample_book(tmp_path_factory.mktemp("graft"), "base.xlsm")


@pytest.fixture(scope="module")
def layouts(book, tmp_path_factory) -> dict[str, Layout]:
    """Every Layout the plan, report and forms jobs hand to put_sheet, by sheet name."""
    from pyfuncs.io.filebook import FileBook
    from pyfuncs.jobs import forms, plan, report

    work = tmp_path_factory.mktemp("jobs") / "work.xlsm"
    shutil.copy(book, work)
    caught: dict[str, Layout] = {}
    mp = pytest.MonkeyPatch()
    orig = FileBook.put_sheet

    def put(self, lay, *, after=None):
        caught[lay.name] = lay
        return orig(self, lay, after=after)

    mp.setattr(FileBook, "put_sheet", put)
    try:
        run_job(work, plan, today=TODAY, year=2027)
        run_job(work, report, today=TODAY)
        run_job(work, forms, today=TODAY, selection=["BX2026-0002"])
    finally:
        mp.undo()
    return caught


def _plan(layouts) -> Layout:
    return next(v for k, v in layouts.items() if k.startswith("回访计划"))


def _form(layouts) -> Layout:
    return next(v for k, v in layouts.items() if k.startswith("维修单"))


def _check_layout() -> Layout:
    from pyfuncs.jobs.check import result_layout
    from pyfuncs.problem import Problem

    problems = [Problem("报修台账", 3, "报修日期", "「报修日期」必须填写"),
                Problem("项目台账", 2, "项目名称", HOSTILE[0], level="提示")]
    return result_layout(problems, TODAY, ["项目台账", "报修台账"])


def read_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def apply(parts: dict[str, bytes], changes: dict[str, bytes | None]) -> dict[str, bytes]:
    out = dict(parts)
    for k, v in changes.items():
        if v is None:
            del out[k]
        else:
            out[k] = v
    return out


def zip_with_changes(src: Path, changes: dict[str, bytes | None], dst: Path) -> Path:
    """``src`` with ``changes`` applied: untouched members copied as they are, in their order."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in changes:
                continue
            zout.writestr(info, zin.read(info))
        for name, data in changes.items():
            if data is not None:
                zout.writestr(name, data)
    return dst


def write(parts: dict[str, bytes], path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in parts.items():
            z.writestr(k, v)
    return path


# --------------------------------------------------------------------------------------------------
# What a sound package is
# --------------------------------------------------------------------------------------------------

def package_problems(parts: dict[str, bytes]) -> list[str]:
    """Every relationship target exists, every part is reached from the root, every Override names
    a part, every part has a content type."""
    out = []
    defaults, overrides = _content_types(parts["[Content_Types].xml"])
    reached, todo = set(), ["_rels/.rels"]
    seen_src = set()
    # walk the relationships from the package root
    sources = [""]
    while sources:
        src = sources.pop()
        if src in seen_src:
            continue
        seen_src.add(src)
        rels_part = "_rels/.rels" if src == "" else _rels_name(src)
        if rels_part not in parts:
            continue
        reached.add(rels_part)
        for r in _rels(parts[rels_part]):
            if r.external:
                continue
            t = _resolve(src, r.target)
            if t not in parts:
                out.append(f"{rels_part}: {r.id} → {t} missing")
                continue
            reached.add(t)
            sources.append(t)
    for p in parts:
        if p == "[Content_Types].xml" or p.endswith("/"):
            continue
        if p not in reached:
            out.append(f"orphan part {p}")
        if p not in overrides and _ext(p) not in defaults:
            out.append(f"no content type for {p}")
    for p in overrides:
        if p not in parts:
            out.append(f"Override for missing {p}")
    ids = re.findall(rb'<sheet\b[^>]*\bsheetId="(\d+)"', parts["xl/workbook.xml"])
    if len(ids) != len(set(ids)):
        out.append("duplicate sheetId")
    return out


def sheet_parts(parts) -> dict[str, str]:
    """sheet name → part."""
    wb = parts["xl/workbook.xml"]
    rid = {r.id: _resolve("xl/workbook.xml", r.target) for r in _rels(parts["xl/_rels/workbook.xml.rels"])}
    out = {}
    for m in re.finditer(rb'<sheet\b[^>]*/>', wb):
        name = unescape(re.search(rb'\bname="([^"]*)"', m.group(0)).group(1).decode())
        out[name] = rid[re.search(rb'r:id="([^"]*)"', m.group(0)).group(1).decode()]
    return out


def local_names(parts) -> set[tuple[str, str, str]]:
    """(name, sheet it is local to, formula) of every sheet-local defined name."""
    wb = parts["xl/workbook.xml"]
    sheets = [unescape(re.search(rb'\bname="([^"]*)"', m.group(0)).group(1).decode())
              for m in re.finditer(rb"<sheet\b[^>]*/>", wb)]
    out = set()
    for m in _elements(wb, "definedName"):
        a = dict(re.findall(r'(\w+)="([^"]*)"', m.group(0)[:m.group(0).index(b">")].decode()))
        if "localSheetId" in a:
            text = m.group(0)[m.group(0).index(b">") + 1:-len("</definedName>")].decode()
            out.add((a["name"], sheets[int(a["localSheetId"])], unescape(text)))
    return out


def style_signature(parts, part: str) -> dict[str, tuple]:
    """cell → (numFmt code, font, fill, border, alignment) as the styles part says, for every styled cell."""
    styles = parts["xl/styles.xml"]
    fonts, fills, borders = (_find_list(styles, t).items for t in ("fonts", "fills", "borders"))
    xfs = _find_list(styles, "cellXfs").items
    codes = dict(re.findall(rb'numFmtId="(\d+)" formatCode="([^"]*)"', styles))
    out = {}
    for ref, s in re.findall(rb'<c r="([A-Z]+\d+)"[^>]*?\ss="(\d+)"', parts[part]):
        xf = xfs[int(s)]
        a = dict(re.findall(rb'(\w+)="([^"]*)"', xf[:xf.index(b">")]))
        nf = a.get(b"numFmtId", b"0")
        align = re.search(rb"<alignment[^>]*/>", xf)
        out[ref] = (codes.get(nf, nf), _canon(fonts[int(a.get(b"fontId", 0))]), _canon(fills[int(a.get(b"fillId", 0))]),
                    _canon(borders[int(a.get(b"borderId", 0))]), _canon(align.group(0)) if align else None)
    return out


def _norm(v):
    if isinstance(v, dt.datetime):
        return v.date() if v.time() == dt.time() else v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def assert_cells(ws, lay: Layout):
    for (r, c), (v, _st) in lay.cells.items():
        got = ws.cell(row=r, column=c).value
        if isinstance(v, Formula):
            assert got == v, (r, c)
        elif v is None or v == "":
            assert got in (None, ""), (r, c)
        else:
            assert _norm(got) == _norm(v), (r, c, got, v)


# --------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------

def test_plan_sheet_grafted_after_its_neighbour(book, layouts, tmp_path):
    parts = read_parts(book)
    lay = _plan(layouts)
    # the plan as the job writes it (outline levels, print titles, autofilter, freeze), plus a
    # dropdown and a conditional fill the Layout can carry
    lay.validations = [Validation("M4:M40", choices=("是", "否"), prompt="已回访？")]
    lay.cond_fills = [CondFill("A4:A40", '=$M4="否"', "FFC7CE")]
    before_names = local_names(parts)
    changes = graft_layout(parts, lay, after="回访记录")
    new_part = next(k for k in changes if k.startswith("xl/worksheets/sheet") and k not in parts)
    # only what a new sheet needs changes; every other member is byte-identical
    assert set(changes) == {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                            "xl/styles.xml", new_part, "xl/vbaProject.bin"}
    # the new sheet's document module, as Excel adds one with the sheet
    modules = sheet_document_modules(changes["xl/vbaProject.bin"])
    assert set(modules) == set(sheet_document_modules(parts["xl/vbaProject.bin"])) | {"Sheet9"}
    assert project_problems(changes["xl/vbaProject.bin"]) == []
    out = apply(parts, changes)
    assert package_problems(out) == []
    path = zip_with_changes(book, changes, tmp_path / "plan.xlsm")
    # every sheet-local name still names its own sheet; the plan's print titles are its own
    assert before_names <= local_names(out)
    assert ("_xlnm.Print_Titles", lay.name, "'%s'!$3:$3" % lay.name) in local_names(out)
    wb = openpyxl.load_workbook(path)
    names = wb.sheetnames
    assert names.index(lay.name) == names.index("回访记录") + 1
    ws = wb[lay.name]
    assert_cells(ws, lay)
    assert {str(m) for m in ws.merged_cells.ranges} == {
        f"{openpyxl.utils.get_column_letter(c1)}{r1}:{openpyxl.utils.get_column_letter(c2)}{r2}"
        for r1, c1, r2, c2 in lay.merges}
    assert lay.outline and all(ws.row_dimensions[r].outlineLevel == lv for r, lv in lay.outline.items())
    assert ws.freeze_panes == lay.freeze
    assert ws.print_title_rows == "$3:$3" or ws.print_title_rows == "3:3"
    dv = ws.data_validations.dataValidation
    assert len(dv) == 1 and dv[0].formula1 == '"是,否"' and str(dv[0].sqref) == "M4:M40"
    rule = next(iter(ws.conditional_formatting)).rules[0]
    assert rule.formula == ['$M4="否"'] and rule.dxf.fill.bgColor.rgb.endswith("FFC7CE")
    assert ws.sheet_properties.codeName == "Sheet9"  # after the build's Sheet1..Sheet8
    # the header style came across: bold, filled, bordered
    hdr = ws.cell(row=3, column=1)
    assert hdr.font.b and hdr.fill.fgColor.rgb.endswith("D9E1F2") and hdr.border.left.style == "thin"
    # python-calamine reads the same text
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(lay.name).to_python()
    assert rows[2][0] == lay.cells[(3, 1)][0]


def test_report_replaces_its_sheet_in_place_with_its_charts(book, layouts, tmp_path):
    parts = read_parts(book)
    lay = layouts["统计"]
    assert len(lay.charts) == 3
    old = sheet_parts(parts)["统计"]
    wb_before = parts["xl/workbook.xml"]
    sheet_el = re.search('<sheet name="统计"[^>]*/>'.encode(), wb_before).group(0)
    changes = graft_layout(parts, lay, after="回访记录")  # `after` is ignored: the sheet keeps its place
    out = apply(parts, changes)
    assert package_problems(out) == []
    assert sheet_parts(out)["统计"] == old and sheet_el in out["xl/workbook.xml"]  # same part, sheetId, r:id
    assert b'codeName="Sheet7"' in out[old]
    charts = sorted(p for p in out if p.startswith("xl/charts/"))
    assert charts == ["xl/charts/chart1.xml", "xl/charts/chart2.xml", "xl/charts/chart3.xml"]
    for c in charts:  # the chart's series point at the 统计 sheet
        refs = re.findall(rb"<f>([^<]*)</f>", out[c])
        assert refs and all(r.startswith("'统计'!".encode()) for r in refs)
    path = write(out, tmp_path / "report.xlsm")
    ws = openpyxl.load_workbook(path)["统计"]
    assert len(ws._charts) == 3
    assert_cells(ws, lay)
    assert ws.print_area == "'统计'!" + openpyxl.utils.cell.absolute_coordinate(lay.print_area)
    # again: one 统计, its old drawing and charts replaced, not added to
    again = graft_layout(out, lay)
    out2 = apply(out, again)
    assert package_problems(out2) == []
    assert list(sheet_parts(out2)).count("统计") == 1
    assert sorted(p for p in out2 if p.startswith(("xl/charts/", "xl/drawings/drawing"))) == \
        sorted(p for p in out if p.startswith(("xl/charts/", "xl/drawings/drawing")))
    assert again == {}  # the same layout again: the same bytes, nothing to write


def test_graft_replace_remove_keep_everything_else(book, layouts, tmp_path):
    """Plan, report, form and check results in; the form replaced, then the plan and 统计 removed."""
    parts = read_parts(book)
    sigs = {name: style_signature(parts, part) for name, part in sheet_parts(parts).items()}
    names0 = local_names(parts)
    out = parts
    for lay, after in ((_plan(layouts), "回访记录"), (layouts["统计"], None), (_form(layouts), "统计"),
                       (_check_layout(), None)):
        out = apply(out, graft_layout(out, lay, after=after))
        assert package_problems(out) == []
    # a second form of the same name: replaced, one such sheet
    out = apply(out, graft_layout(out, _form(layouts)))
    assert list(sheet_parts(out)).count(_form(layouts).name) == 1
    codes = re.findall(rb'codeName="([^"]*)"', b"".join(out[p] for p in sheet_parts(out).values()))
    assert len(codes) == len(sheet_parts(out)) == len(set(codes))
    assert set(sheet_document_modules(out["xl/vbaProject.bin"])) == {c.decode() for c in codes}
    full = out
    # the other sheets' cells show exactly the styles they had
    for name, part in sheet_parts(parts).items():
        if name != "统计":
            assert style_signature(full, part) == sigs[name], name
    # remove the plan: its part goes, the names of the sheets after it follow them
    plan_name = _plan(layouts).name
    plan_part = sheet_parts(full)[plan_name]
    ch = remove_sheet(full, plan_name)
    assert ch[plan_part] is None
    out = apply(full, ch)
    assert package_problems(out) == []
    assert plan_name not in sheet_parts(out)
    assert names0 <= local_names(out)
    assert not any(n[1] == plan_name for n in local_names(out))
    # remove 统计: its drawing and charts go with it
    ch = remove_sheet(out, "统计")
    out = apply(out, ch)
    assert package_problems(out) == []
    assert not any(p.startswith(("xl/charts/", "xl/drawings/drawing")) for p in out)
    # the removed sheets' empty document modules went with them
    assert set(sheet_document_modules(out["xl/vbaProject.bin"])) == \
        {c.decode() for c in re.findall(rb'codeName="([^"]*)"', b"".join(out[p] for p in sheet_parts(out).values()))}
    assert project_problems(out["xl/vbaProject.bin"]) == []
    # the workbook's own tables, comments and sheets are all still there, byte for byte
    for p, data in parts.items():
        if p not in ("[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
                     "xl/vbaProject.bin", sheet_parts(parts)["统计"]):
            assert out.get(p) == data, p
    assert remove_sheet(out, "没有这张表") == {}
    path = write(full, tmp_path / "full.xlsm")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:5] == ["项目台账", "保修条款", "报修台账", "回访记录", plan_name]
    assert wb["检查结果"]["B3"].hyperlink.location == "'报修台账'!A3"
    from python_calamine import CalamineWorkbook

    cal = CalamineWorkbook.from_path(str(path))
    assert set(wb.sheetnames) == set(cal.sheet_names)
    assert cal.get_sheet_by_name("检查结果").to_python()[3][4] == HOSTILE[0]


def test_libreoffice_opens_the_grafted_workbook(book, layouts, tmp_path):
    from _lo import convert

    parts = read_parts(book)
    out = parts
    for lay, after in ((_plan(layouts), "回访记录"), (layouts["统计"], None), (_form(layouts), "统计"),
                       (layouts["统计"], None)):
        out = apply(out, graft_layout(out, lay, after=after))
    src = write(out, tmp_path / "grafted.xlsx")
    xlsx = convert(src, "xlsx", tmp_path / "lo")
    wb = openpyxl.load_workbook(xlsx)
    assert _plan(layouts).name in wb.sheetnames and _form(layouts).name in wb.sheetnames
    assert wb["统计"]["A1"].value == layouts["统计"].cells[(1, 1)][0]
    assert len(wb["统计"]._charts) == 3
    assert wb.sheetnames.index(_plan(layouts).name) == wb.sheetnames.index("回访记录") + 1


def test_text_is_never_a_formula(book, tmp_path):
    parts = read_parts(book)
    lay = Layout("文本")
    for i, s in enumerate(HOSTILE, start=1):
        lay.put(i, 1, s, "cell")
    lay.put(len(HOSTILE) + 1, 1, Formula("=1+2"), "int")
    lay.links[(1, 2)] = "'项目台账'!A1"
    lay.put(1, 2, "=HYPERLINK(\"http://evil\")", "link")
    changes = graft_layout(parts, lay)
    part = next(k for k in changes if k.startswith("xl/worksheets/"))
    xml = changes[part]
    assert xml.count(b"<f>") == 1 and b"<f>1+2</f>" in xml
    assert b"<hyperlink " in xml and b"r:id" not in xml.split(b"<hyperlinks>")[1].split(b"</hyperlinks>")[0]
    path = write(apply(parts, changes), tmp_path / "text.xlsm")
    ws = openpyxl.load_workbook(path)["文本"]
    for i, s in enumerate(HOSTILE, start=1):
        assert ws.cell(row=i, column=1).value == s and ws.cell(row=i, column=1).data_type == "s"
    assert ws.cell(row=len(HOSTILE) + 1, column=1).value == "=1+2"
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("文本").to_python()
    assert [r[0] for r in rows[:len(HOSTILE)]] == HOSTILE


def test_illegal_control_characters_are_dropped_not_fatal(book, tmp_path):
    parts = read_parts(book)
    lay = Layout("控制字符")
    lay.put(1, 1, "响\x07铃\x1f", "cell")
    lay.put(2, 1, "换行\n保留\t制表", "cell")
    lay.validations = [Validation("B1:B3", choices=("是\x01", "否"), prompt="选\x02")]
    changes = graft_layout(parts, lay)
    path = write(apply(parts, changes), tmp_path / "ctl.xlsm")
    ws = openpyxl.load_workbook(path)["控制字符"]
    assert ws["A1"].value == "响铃" and ws["A2"].value == "换行\n保留\t制表"
    assert ws.data_validations.dataValidation[0].formula1 == '"是,否"'
    assert lay.cells[(1, 1)][0] == "响\x07铃\x1f"  # the caller's layout is not changed


def _scratch_with_table_and_comment(name: str, table: str) -> dict[str, bytes]:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.worksheet.table import Table

    wb = Workbook()
    ws = wb.active
    ws.title = name
    ws.append(["编号", "名称"])
    ws.append(["P1", "甲"])
    ws.add_table(Table(displayName=table, ref="A1:B2"))
    ws["C1"] = "备注"
    ws["C1"].comment = Comment("说明", "aftercare")
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_tables_and_comments_get_names_and_ids_of_their_own(book, tmp_path):
    parts = read_parts(book)
    scratch = _scratch_with_table_and_comment("附表", "tblProjects")  # the name of a table the workbook has
    changes = graft_sheet(parts, scratch)
    out = apply(parts, changes)
    assert package_problems(out) == []
    new = {p for p in changes if p not in parts}
    assert {"xl/tables/table8.xml", "xl/comments/comment6.xml"} <= new
    tables = [re.search(rb"<table\b[^>]*>", out[p]).group(0) for p in out if p.startswith("xl/tables/")]
    ids = [re.search(rb'\bid="(\d+)"', t).group(1) for t in tables]
    names = [re.search(rb'displayName="([^"]*)"', t).group(1) for t in tables]
    assert len(set(ids)) == len(ids) == 8 and len(set(names)) == 8
    # the comment's VML shapes take an id block of their own, as Excel numbers them
    vml = next(changes[p] for p in new if p.endswith(".vml"))
    shapes = [int(n) for n in re.findall(rb"_x0000_s(\d+)", vml)]
    assert re.search(rb'idmap[^>]*data="2"', vml) and shapes and all(2048 < n <= 3072 for n in shapes)
    path = write(out, tmp_path / "tables.xlsm")
    wb = openpyxl.load_workbook(path)
    ws = wb["附表"]
    assert ws["C1"].comment.text == "说明"
    assert list(ws.tables) == ["tblProjects_2"]
    assert list(wb["项目台账"].tables) == ["tblProjects"]
    # nor a defined name's: tables and names share one namespace
    named = dict(parts)
    named["xl/workbook.xml"] = named["xl/workbook.xml"].replace(
        b"<definedNames>", b'<definedNames><definedName name="tblNew">\'\xe8\xae\xbe\xe7\xbd\xae\'!$A$1</definedName>')
    ch = graft_sheet(named, _scratch_with_table_and_comment("附表", "tblNew"))
    assert b'displayName="tblNew_2"' in ch["xl/tables/table8.xml"]
    # replaced: the old table and comment go, one of each stays
    out2 = apply(out, graft_sheet(out, scratch))
    assert package_problems(out2) == []
    assert sum(p.startswith("xl/tables/") for p in out2) == 8
    assert sum(p.startswith("xl/comments/") for p in out2) == 6
    # removed: its parts go, the workbook's own stay
    out3 = apply(out2, remove_sheet(out2, "附表"))
    assert package_problems(out3) == []
    assert {p for p in out3 if p.startswith(("xl/tables/", "xl/comments/", "xl/drawings/"))} == \
        {p for p in parts if p.startswith(("xl/tables/", "xl/comments/", "xl/drawings/"))}


def test_calc_chain_goes_when_a_sheet_is_replaced(book, layouts):
    parts = read_parts(book)
    parts["xl/calcChain.xml"] = (b'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                                 b'<c r="A1" i="7"/><c r="B1"/></calcChain>')
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/calcChain" Target="calcChain.xml"/></Relationships>')
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.calcChain+xml"/></Types>')
    assert package_problems(parts) == []
    # a new sheet leaves the chain alone
    assert "xl/calcChain.xml" not in graft_layout(parts, _check_layout())
    changes = graft_layout(parts, layouts["统计"])
    assert changes["xl/calcChain.xml"] is None
    out = apply(parts, changes)
    assert package_problems(out) == []
    assert b"calcChain" not in out["[Content_Types].xml"] + out["xl/_rels/workbook.xml.rels"]


def test_active_tab_and_local_names_follow_their_sheets(book, layouts):
    parts = read_parts(book)
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b'activeTab="0"', b'activeTab="5"')
    active = list(sheet_parts(parts))[5]
    out = apply(parts, graft_layout(parts, _check_layout(), after="保修条款"))
    tab = int(re.search(rb'activeTab="(\d+)"', out["xl/workbook.xml"]).group(1))
    assert list(sheet_parts(out))[tab] == active
    assert local_names(parts) <= local_names(out)
    out = apply(out, remove_sheet(out, "检查结果"))
    assert out["xl/workbook.xml"] == parts["xl/workbook.xml"]


# --------------------------------------------------------------------------------------------------
# Workbooks written by Excel (tests/data/excel, from XlsxWriter's comparison files)
# --------------------------------------------------------------------------------------------------

EXCEL = Path(__file__).parent / "data" / "excel"
EXCEL_FILES = sorted(p.name for p in EXCEL.glob("*.xls[xm]"))


@pytest.mark.parametrize("name", EXCEL_FILES)
def test_graft_into_excel_workbooks_and_back(name, layouts, tmp_path):
    parts = read_parts(EXCEL / name)
    first = list(sheet_parts(parts))[0]
    names0 = local_names(parts)
    assert package_problems(parts) == []
    # the report (charts) after the first sheet, the plan at the end, the report again (replaced)
    out = apply(parts, graft_layout(parts, layouts["统计"], after=first))
    out = apply(out, graft_layout(out, _plan(layouts)))
    out = apply(out, graft_layout(out, layouts["统计"]))
    assert package_problems(out) == []
    assert list(sheet_parts(out))[1] == "统计" and list(sheet_parts(out))[-1] == _plan(layouts).name
    assert names0 <= local_names(out)  # every local name still on its own sheet
    # Excel's own members are untouched
    for p in ("docProps/app.xml", "docProps/core.xml", "xl/sharedStrings.xml", "xl/theme/theme1.xml"):
        if p in parts:
            assert out[p] == parts[p], p
    for sheet, part in sheet_parts(parts).items():
        assert out[part] == parts[part], sheet
    assert ("xl/calcChain.xml" in out) == ("xl/calcChain.xml" in parts)  # no sheet of Excel's replaced
    path = write(out, tmp_path / name)
    wb = openpyxl.load_workbook(path)
    assert len(wb["统计"]._charts) == 3
    assert_cells(wb["统计"], layouts["统计"])
    for sheet in sheet_parts(parts):  # Excel's sheets read as before
        before = openpyxl.load_workbook(EXCEL / name)[sheet]
        if not hasattr(before, "iter_rows"):  # a chartsheet
            continue
        def values(ws):
            return [[(getattr(c.value, "text", c.value), getattr(c.value, "ref", None)) for c in r] for r in ws.iter_rows()]

        assert values(wb[sheet]) == values(before)
    if "xl/vbaProject.bin" in parts:
        assert project_problems(out["xl/vbaProject.bin"]) == []
        assert "Sheet3" in sheet_document_modules(out["xl/vbaProject.bin"])
    # both removed: workbook.xml, its rels and every part of Excel's as they were
    back = apply(out, remove_sheet(out, "统计"))
    back = apply(back, remove_sheet(back, _plan(layouts).name))
    assert package_problems(back) == []
    assert back["xl/workbook.xml"] == parts["xl/workbook.xml"]
    assert set(back) == set(parts)
    for p in parts:
        if p not in ("xl/styles.xml", "[Content_Types].xml", "xl/_rels/workbook.xml.rels", "xl/vbaProject.bin"):
            assert back[p] == parts[p], p


def test_libreoffice_opens_an_excel_workbook_with_grafted_sheets(layouts, tmp_path):
    from _lo import convert

    parts = read_parts(EXCEL / "defined_name01.xlsx")
    out = apply(parts, graft_layout(parts, layouts["统计"], after="Sheet1"))
    out = apply(out, graft_layout(out, _check_layout(), after="Sheet2"))
    xlsx = convert(write(out, tmp_path / "dn.xlsx"), "xlsx", tmp_path / "lo")
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["Sheet1", "统计", "Sheet2", "检查结果", "Sheet 3"]
    assert wb["统计"]["A1"].value == layouts["统计"].cells[(1, 1)][0]
    assert wb["检查结果"]["E4"].value == HOSTILE[0]
    # LibreOffice read the local names where they belong
    assert wb["Sheet2"].defined_names["aaa"].attr_text == "Sheet2!$A$1"
    assert wb["Sheet 3"].defined_names["Bar"].attr_text == "'Sheet 3'!$A$1"


def test_a_sheet_name_xml_must_escape(book, tmp_path):
    from pyfuncs.layout import ChartSpec

    parts = read_parts(book)
    lay = Layout("收&支<O'K>", print_title_rows="1:1")
    lay.put(1, 1, "月份", "header")
    lay.put(1, 2, "件数", "header")
    for r in range(2, 5):
        lay.put(r, 1, f"{r}月", "cell")
        lay.put(r, 2, r * 3, "int")
    lay.charts.append(ChartSpec("col", "件数", "D2", data=(2, 1, 2, 4), cats=(1, 2, 1, 4)))
    out = apply(parts, graft_layout(parts, lay, after="项目台账"))
    assert package_problems(out) == []
    assert "收&amp;支&lt;O'K&gt;".encode() in out["xl/workbook.xml"]
    path = write(out, tmp_path / "amp.xlsm")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[1] == lay.name
    ws = wb[lay.name]
    assert ws["B4"].value == 12 and len(ws._charts) == 1
    assert ws.print_title_rows == "$1:$1"
    out = apply(out, graft_layout(out, lay))
    assert package_problems(out) == [] and list(sheet_parts(out)).count(lay.name) == 1
    out = apply(out, remove_sheet(out, lay.name))
    assert out["xl/workbook.xml"] == parts["xl/workbook.xml"]


def test_a_package_without_styles_gets_the_scratch_styles(layouts, tmp_path):
    parts = read_parts(EXCEL / "table01.xlsx")
    del parts["xl/styles.xml"]
    parts["xl/_rels/workbook.xml.rels"] = re.sub(rb'<Relationship [^>]*styles"[^>]*/>', b"",
                                                 parts["xl/_rels/workbook.xml.rels"])
    parts["[Content_Types].xml"] = re.sub(rb'<Override PartName="/xl/styles.xml"[^>]*/>', b"", parts["[Content_Types].xml"])
    assert package_problems(parts) == []
    out = apply(parts, graft_layout(parts, _check_layout()))
    assert package_problems(out) == [] and "xl/styles.xml" in out
    ws = openpyxl.load_workbook(write(out, tmp_path / "nostyles.xlsx"))["检查结果"]
    assert ws["A2"].font.b and ws["A2"].fill.fgColor.rgb.endswith("D9E1F2")


def test_names_that_referred_to_a_removed_sheet_become_ref_errors(book, layouts):
    parts = read_parts(book)
    out = apply(parts, graft_layout(parts, _check_layout()))
    out["xl/workbook.xml"] = out["xl/workbook.xml"].replace(
        b"<definedNames>", "<definedNames><definedName name=\"结果\">'检查结果'!$A$1:$E$9</definedName>"
        "<definedName name=\"两张\">SUM('检查结果'!$C:$C,'项目台账'!$A:$A)</definedName>".encode())
    back = apply(out, remove_sheet(out, "检查结果"))
    wb = back["xl/workbook.xml"].decode()
    assert '<definedName name="结果">#REF!$A$1:$E$9</definedName>' in wb
    assert "<definedName name=\"两张\">SUM(#REF!$C:$C,'项目台账'!$A:$A)</definedName>" in wb
    assert local_names(back) == local_names(parts)


def test_a_chartsheet_of_the_same_name_makes_way_for_the_worksheet(layouts, tmp_path):
    parts = read_parts(EXCEL / "chartsheet01.xlsx")
    lay = _check_layout()
    lay.name = "Chart1"
    changes = graft_layout(parts, lay)
    assert {p for p, v in changes.items() if v is None} == {
        "xl/chartsheets/sheet1.xml", "xl/chartsheets/_rels/sheet1.xml.rels", "xl/drawings/drawing1.xml",
        "xl/drawings/_rels/drawing1.xml.rels", "xl/charts/chart1.xml"}
    out = apply(parts, changes)
    assert package_problems(out) == []
    assert list(sheet_parts(out)) == ["Sheet1", "Chart1"] and sheet_parts(out)["Chart1"].startswith("xl/worksheets/")
    wb = openpyxl.load_workbook(write(out, tmp_path / "cs.xlsx"))
    assert wb["Chart1"]["A2"].value == "级别"
    assert out["xl/worksheets/sheet1.xml"] == parts["xl/worksheets/sheet1.xml"]
