"""The VBA project as [MS-OVBA] says a writer writes it (pyfuncs.io.vbaproject), read back with
olefile and oletools, on the built workbook and on Excel-authored projects (xlwings' templates).
"""
from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import olefile
import pytest
import xlwings
from oletools.olevba import VBA_Project, decompress_stream

from pyfuncs import build
from pyfuncs.io import vbaproject as vp

XLWINGS = Path(xlwings.__file__).parent
#: Saved by Excel 16 with its performance caches (_VBA_PROJECT version 0xB5, __SRP_ streams).
EXCEL_SAVED = XLWINGS / "quickstart.xlsm"
#: xlwings' own standalone template: version 0xFFFF, no _VBA_PROJECT cache, as a writer writes it.
XLWINGS_TEMPLATE = XLWINGS / "quickstart_standalone.xlsm"


def _bin(path: Path) -> bytes:
    return zipfile.ZipFile(path).read("xl/vbaProject.bin")


@pytest.fixture(scope="module")
def built_bin() -> bytes:
    return zipfile.ZipFile(io.BytesIO(build.build_bytes())).read(build.VBA_PART)


def read_back(vba_project_bin: bytes) -> dict:
    """What oletools/olefile read: the _VBA_PROJECT bytes, streams, and per module its text offset,
    type and source, and the cookies of the dir stream."""
    ole = olefile.OleFileIO(vba_project_bin)
    try:
        project = VBA_Project(ole, "", "PROJECT", "VBA/dir")
        project.parse_project_stream()
        for _ in project.parse_modules():  # a generator: it fills project.modules
            pass
        modules = {m.name: m for m in project.modules}
        dir_raw = decompress_stream(bytearray(ole.openstream("VBA/dir").read()))
        cookies = [struct.unpack("<H", d)[0] for r, d in vp.dir_records(dir_raw) if r in (0x0013, 0x002C)]
        return {
            "head": ole.openstream("VBA/_VBA_PROJECT").read(),
            "streams": {"/".join(e) for e in ole.listdir()},
            "offsets": {n: m.textoffset for n, m in modules.items()},
            "types": {n: m.type for n, m in modules.items()},
            "code": {n: m.code for n, m in modules.items()},
            "cookies": cookies,
            "project": ole.openstream("PROJECT").read().decode("cp1252"),
        }
    finally:
        ole.close()


# --------------------------------------------------------------------------------------------------
# the built workbook
# --------------------------------------------------------------------------------------------------

def test_built_project_has_the_seven_byte_vba_project_stream(built_bin):
    got = read_back(built_bin)
    head = got["head"]
    assert len(head) == 7
    reserved1, version, reserved2 = struct.unpack_from("<HHB", head)
    assert (reserved1, version, reserved2) == (0x61CC, 0xFFFF, 0x00)
    assert head == vp.VBA_PROJECT_STREAM
    assert not [s for s in got["streams"] if "__SRP_" in s]


def test_built_project_modules_are_source_only_and_read_back_exactly(built_bin):
    got = read_back(built_bin)
    expected = build.vba_modules()
    assert set(expected) <= set(got["code"])
    for name, code in expected.items():
        assert got["code"][name] == code, name
    assert set(got["offsets"].values()) == {0}, got["offsets"]  # MODULEOFFSET: the source starts the stream
    assert got["cookies"] and set(got["cookies"]) == {0xFFFF}
    assert vp.project_problems(built_bin) == []


def test_built_project_declares_what_dir_lists(built_bin):
    got = read_back(built_bin)
    declared = {}
    for line in got["project"].split("\r\n"):
        if line.startswith("["):
            break
        key, _, value = line.partition("=")
        if key in ("Module", "Class", "Document"):
            declared[value.split("/")[0]] = key
    assert set(declared) == set(got["code"])
    for name, kind in declared.items():
        assert (kind == "Module") == (got["types"][name] == 0x0021), name
        if kind == "Document":
            assert "Attribute VB_PredeclaredId = True" in got["code"][name]


# --------------------------------------------------------------------------------------------------
# projects Excel wrote
# --------------------------------------------------------------------------------------------------

def test_an_excel_saved_project_has_caches_and_loses_them_with_its_sources_intact():
    original = _bin(EXCEL_SAVED)
    before = read_back(original)
    assert len(before["head"]) > 7 and before["head"][2:4] != b"\xff\xff"  # Excel's own cache
    problems = vp.project_problems(original)
    assert any("_VBA_PROJECT" in p for p in problems)
    assert any("MODULEOFFSET" in p for p in problems)
    assert any("MODULECOOKIE" in p for p in problems)

    cleaned = vp.without_performance_cache(original)
    after = read_back(cleaned)
    assert vp.project_problems(cleaned) == []
    assert after["code"] == before["code"]
    assert after["types"] == before["types"]
    assert after["project"] == before["project"]
    assert len(cleaned) < len(original)


def test_srp_streams_are_found_and_dropped(built_bin):
    from pyopenvba.cfb import CFB

    cfb = CFB.from_bytes(built_bin)
    cfb.add_stream_to_storage("VBA", "__SRP_0", b"\x00" * 100)
    with_srp = cfb.to_bytes()
    assert "VBA/__SRP_0" in read_back(with_srp)["streams"]
    assert vp.project_problems(with_srp) == ["performance cache stream VBA/__SRP_0 present"]
    assert "VBA/__SRP_0" not in read_back(vp.without_performance_cache(with_srp))["streams"]


def test_xlwings_template_already_writes_the_seven_bytes():
    """Evidence kept as a test: xlwings ships its templates with this very stream."""
    assert read_back(_bin(XLWINGS_TEMPLATE))["head"] == vp.VBA_PROJECT_STREAM


# --------------------------------------------------------------------------------------------------
# document modules for sheets added later
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("source", ["built", "excel"])
def test_with_document_modules_adds_what_excel_writes_for_a_new_sheet(source, built_bin):
    original = built_bin if source == "built" else _bin(XLWINGS_TEMPLATE)
    before = read_back(original)
    names = vp.new_code_names(vp.module_names(original), 2)
    assert not {n.casefold() for n in names} & {n.casefold() for n in before["code"]}
    out = vp.with_document_modules(original, names)
    after = read_back(out)
    assert vp.project_problems(out) == []
    for name in names:
        code = after["code"][name]
        assert code.startswith(f'Attribute VB_Name = "{name}"\r\n')
        assert f'Attribute VB_Base = "{vp.WORKSHEET_BASE}"' in code
        assert after["types"][name] == 0x0022
        assert f"Document={name}/&H00000000\r\n" in after["project"]
        assert name in vp.sheet_document_modules(out)
    # everything else as it was
    assert {n: c for n, c in after["code"].items() if n not in names} == before["code"]
    # the same sheet's module is not added twice
    assert read_back(vp.with_document_modules(out, names))["code"] == after["code"]


def test_every_built_sheet_has_its_document_module(built_bin):
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(build.build_bytes()), keep_vba=True)
    code_names = [ws.sheet_properties.codeName for ws in wb.worksheets]
    assert all(code_names) and len(set(code_names)) == len(code_names)
    assert set(vp.sheet_document_modules(built_bin)) == set(code_names)
    # with_document_modules of the sheets already there changes no module
    assert read_back(vp.with_document_modules(built_bin, code_names))["code"] == read_back(built_bin)["code"]


@pytest.mark.parametrize("bad", ["9Sheet", "Sheet 9", "统计", "A" * 32, "ThisWorkbook", "ribbon"])
def test_with_document_modules_refuses_a_bad_or_taken_name(bad, built_bin):
    with pytest.raises(vp.VBAProjectProblem):
        vp.with_document_modules(built_bin, ["Sheet9", bad])


def test_without_document_modules_drops_only_empty_sheet_modules(built_bin):
    out = vp.with_document_modules(built_bin, ["Sheet9"])
    dropped = vp.without_document_modules(out, ["Sheet9", "NoSuchSheet"])
    assert read_back(dropped)["code"] == read_back(built_bin)["code"]
    assert "Sheet9" not in read_back(dropped)["project"]
    assert vp.project_problems(dropped) == []
    with pytest.raises(vp.VBAProjectProblem):  # not a sheet module
        vp.without_document_modules(out, ["Ribbon"])

    # a sheet module with code in it is never dropped
    from pyopenvba.cfb import CFB
    from pyopenvba.vba import compress

    cfb = CFB.from_bytes(out)
    code = read_back(out)["code"]["Sheet9"] + "Private Sub Worksheet_Activate()\r\nEnd Sub\r\n"
    cfb.write_stream_in_storage("VBA", "Sheet9", compress(code.encode("cp1252")))
    with pytest.raises(vp.VBAProjectProblem, match="holds code"):
        vp.without_document_modules(cfb.to_bytes(), ["Sheet9"])


# --------------------------------------------------------------------------------------------------
# the whole package, as the jobs leave it
# --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def jobs_parts(tmp_path_factory) -> dict[str, bytes]:
    """A workbook after every job ran on it (the demo, small): plan, report, forms add sheets."""
    import datetime as dt

    from pyfuncs.demo import make_demo

    path = tmp_path_factory.mktemp("jobs") / "demo.xlsm"
    make_demo(path, today=dt.date(2026, 11, 21), n_projects=8, n_tickets=20, n_visits=6)
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _without_code_name(xml: bytes) -> bytes:
    import re

    return re.sub(rb' codeName="[^"]*"', b"", xml).replace(b"<sheetPr/>", b"")


def test_every_sheet_of_a_jobs_workbook_gets_its_code_name_and_module(jobs_parts):
    before = vp.worksheet_code_names(jobs_parts)
    assert len(before) > 9  # the jobs added sheets
    out = vp.with_sheet_document_modules(jobs_parts)
    after = vp.worksheet_code_names(out)
    codes = [code for _, _, code in after]
    assert all(codes) and len({c.casefold() for c in codes}) == len(codes)
    # a code name a sheet had is kept; the sheets' XML changes only by the code name
    for (name, part, old), (_, _, new) in zip(before, after):
        if old:
            assert new == old, name
            assert out[part] == jobs_parts[part]
        else:
            assert _without_code_name(out[part]) == _without_code_name(jobs_parts[part]), name
    bin_ = out[vp.VBA_PART]
    assert vp.project_problems(bin_) == []
    assert {n.casefold() for n in vp.sheet_document_modules(bin_)} == {c.casefold() for c in codes}  # no orphans
    # the other modules read back exactly as before
    kept = read_back(jobs_parts[vp.VBA_PART])["code"]
    now = read_back(bin_)["code"]
    for name in build.vba_modules():
        assert now[name] == kept[name], name
    # openpyxl reads the package; the code names are the sheets'
    import openpyxl

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, data in out.items():
            z.writestr(n, data)
    wb = openpyxl.load_workbook(io.BytesIO(buf.getvalue()), keep_vba=True)
    assert [ws.sheet_properties.codeName for ws in wb.worksheets] == codes
    # a second pass changes nothing
    again = vp.with_sheet_document_modules(out)
    assert vp.worksheet_code_names(again) == after
    assert read_back(again[vp.VBA_PART])["code"] == now


def test_a_sheet_module_with_code_survives_its_sheet(built_bin):
    from pyopenvba.cfb import CFB
    from pyopenvba.vba import compress

    parts = {n: zipfile.ZipFile(io.BytesIO(build.build_bytes())).read(n)
             for n in zipfile.ZipFile(io.BytesIO(build.build_bytes())).namelist()}
    bin_ = vp.with_document_modules(built_bin, ["Sheet20", "Sheet21"])  # two modules with no sheet
    cfb = CFB.from_bytes(bin_)
    code = read_back(bin_)["code"]["Sheet20"] + "Private Sub Worksheet_Activate()\r\nEnd Sub\r\n"
    cfb.write_stream_in_storage("VBA", "Sheet20", compress(code.encode("cp1252")))
    parts[vp.VBA_PART] = cfb.to_bytes()
    out = vp.with_sheet_document_modules(parts)
    modules = vp.sheet_document_modules(out[vp.VBA_PART])
    assert "Sheet20" in modules and "Sheet21" not in modules
    assert vp.project_problems(out[vp.VBA_PART]) == []
    # the built workbook's sheets already have their names: their parts are untouched
    for _, part, _ in vp.worksheet_code_names(parts):
        assert out[part] == parts[part]
