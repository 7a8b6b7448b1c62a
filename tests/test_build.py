"""The built workbook, proven as a file: VBA read back, ribbon wiring, sheets against the schema,
openpyxl round trip, LibreOffice PDF export, determinism, the committed build, configure, 自检.

The workbook is built once per module (``built``); LibreOffice converts it once (``pdf``).
"""
from __future__ import annotations

import ast
import datetime as dt
import importlib
import importlib.util
import inspect
import io
import os
import re
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlwings
from defusedxml import ElementTree as ET

from pyfuncs import build, schema
from pyfuncs.build_udfs import udf_names, udf_wrapper_vba
from pyfuncs.core.settings import Settings, season_sheet_rows, settings_sheet_rows
from pyfuncs.jobs import RIBBON_COMMANDS, RIBBON_JOBS
from pyfuncs.selftest import FAIL, PASS, RESULT_SHEET, TODO, UdfCase, run_selftest, udf_cases, vba_functions

ROOT = Path(__file__).resolve().parent.parent
#: every ribbon button: the jobs and the commands that are not jobs (恢复上一版)
RIBBON_BUTTONS = {**RIBBON_JOBS, **RIBBON_COMMANDS}
CUI_NS = "{http://schemas.microsoft.com/office/2006/01/customui}"
RIBBON_SUB = r"^[ \t]*(?:Public[ \t]+)?Sub[ \t]+{name}[ \t]*\([ \t]*control[ \t]+As[ \t]+IRibbonControl[ \t]*\)[ \t]*\r?$"


# --------------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return build.build_workbook(tmp_path_factory.mktemp("build") / "aftercare.xlsm")


@pytest.fixture(scope="module")
def parts(built) -> dict[str, bytes]:
    with zipfile.ZipFile(built) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.fixture(scope="module")
def vba(built) -> dict[str, str]:
    from oletools.olevba import VBA_Parser

    p = VBA_Parser(str(built))
    try:
        assert p.detect_vba_macros()
        return {Path(name).stem: code for (_f, _s, name, code) in p.extract_macros()}
    finally:
        p.close()


@pytest.fixture(scope="module")
def wb(built):
    return openpyxl.load_workbook(built, keep_vba=True)


@pytest.fixture(scope="module")
def pdf(built, tmp_path_factory) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice (soffice) is not installed on this machine")
    out = tmp_path_factory.mktemp("pdf")
    profile = f"file:///tmp/lo-test-build-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        proc = subprocess.run(
            [soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
             "--convert-to", "pdf", "--outdir", str(out), str(built)],
            capture_output=True, text=True, timeout=240,
        )
    finally:
        shutil.rmtree(profile[len("file://"):], ignore_errors=True)
    result = out / (built.stem + ".pdf")
    assert proc.returncode == 0, proc.stderr
    assert result.exists(), f"no PDF written: {proc.stdout} {proc.stderr}"
    return result


def _ribbon_xml(parts) -> ET:
    return ET.fromstring(parts[build.CUSTOM_UI_PART])


def _buttons(parts) -> list:
    return list(_ribbon_xml(parts).iter(f"{CUI_NS}button"))


# --------------------------------------------------------------------------------------------------
# VBA
# --------------------------------------------------------------------------------------------------

def test_every_module_reads_back_exactly(vba):
    expected = build.vba_modules()
    assert set(expected) <= set(vba)
    for name, code in expected.items():
        assert vba[name] == code, name


def test_macro_sources_in_workbook_equal_the_files(vba):
    """Independently of the build's own reader: pyfuncs/resources/macros/*.bas|cls == the module in the workbook."""
    for module, filename in (("Ribbon", "Ribbon.bas"), ("ThisWorkbook", "ThisWorkbook.cls")):
        text = (ROOT / "pyfuncs" / "resources" / "macros" / filename).read_text(encoding="utf-8")
        assert vba[module] == text.replace("\r\n", "\n").replace("\n", "\r\n")
        assert text.isascii(), f"{filename} must be ASCII (VBA project code page 1252)"


def test_xlwings_vba_is_the_installed_packages(vba):
    pkg = Path(xlwings.__file__).parent
    bas = (pkg / "xlwings.bas").read_text(encoding="utf-8")
    assert vba["xlwings"] == bas.replace("\r\n", "\n").replace("\n", "\r\n")
    m = re.search(r'^Public Const XLWINGS_VERSION As String = "([^"]+)"', vba["xlwings"], re.M)
    assert m and m.group(1) == xlwings.__version__
    assert f'xlwings64-{xlwings.__version__}.dll' in vba["xlwings"]
    # the Dictionary class of the standalone flavour (used by xlwings on the Mac)
    assert vba["Dictionary"].startswith('Attribute VB_Name = "Dictionary"\r\n')
    assert 'Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"' in vba["Dictionary"]


def test_document_modules_match_sheet_code_names(vba, wb):
    assert wb.code_name == "ThisWorkbook" and "ThisWorkbook" in vba
    for ws in wb.worksheets:
        code = ws.sheet_properties.codeName
        assert code in vba, ws.title
        assert 'Attribute VB_Base = "0{00020820-0000-0000-C000-000000000046}"' in vba[code]


def test_udf_wrappers_cover_every_udf(vba):
    names = udf_names("pyfuncs.udfs")
    assert names, "pyfuncs.udfs has no @xw.func"
    wrapped = vba_functions(vba["xlwings_udfs"])
    assert sorted(wrapped) == sorted(names)
    for name in names:
        assert f'{name} = XLPy.CallUDF("pyfuncs.udfs", "{name}", ' in vba["xlwings_udfs"]
    assert vba["xlwings_udfs"] == udf_wrapper_vba("pyfuncs.udfs")


# MS-VBAL 3.3.5.2 reserved identifiers, plus names the generated wrapper body itself uses.
VBA_RESERVED = set("""
Abs AddressOf And Any Array As Attribute Boolean ByRef Byte ByVal Call Case CBool CByte CCur CDate
CDbl CDec CDecl CInt Circle CLng CLngLng CLngPtr Close Const CSng CStr Currency CVar CVErr Date
Debug Decimal Declare DefBool DefByte DefCur DefDate DefDbl DefDec DefInt DefLng DefLngLng
DefLngPtr DefObj DefSng DefStr DefVar Dim Do DoEvents Double Each Else ElseIf Empty End EndIf Enum
Eqv Erase Error Event Exit False Fix For Friend Function Get Global GoSub GoTo If Imp Implements
In Input InputB Int Integer Is LBound Len LenB Let Like LINEINPUT Lock Long LongLong LongPtr Loop
LSet Me Mod New Next Not Nothing Null Object On Open Option Optional Or ParamArray Preserve Print
Private PSet Public Put RaiseEvent ReDim Rem Resume Return RSet Scale Seek Select Set Sgn Shared
Single Spc Static Stop String Sub Tab Then To True Type TypeOf UBound Unlock Until Variant VB_Base
VB_Control VB_Creatable VB_Customizable VB_Description VB_Exposed VB_Ext_KEY VB_GlobalNameSpace
VB_HelpID VB_Invoke_Func VB_Invoke_Property VB_Invoke_PropertyPut VB_Invoke_PropertyPutRef
VB_MemberFlags VB_Name VB_PredeclaredId VB_ProcData VB_TemplateDerived VB_UserMemId VB_VarDescription
VB_VarHelpID VB_VarMemberFlags VB_VarProcData VB_VarUserMemId Wend While With WithEvents Write Xor
Application Err ThisWorkbook XLPy Range k argsArray failed
""".split())


def test_udf_argument_names_compile_in_vba():
    """A parameter named like a VBA keyword (``end``, ``date``...) is a compile error in the
    ``xlwings_udfs`` module: that module, or the whole project, would not run in Excel."""
    bad = []
    for line in udf_wrapper_vba("pyfuncs.udfs").split("\r\n"):
        m = re.match(r"Function (\w+)\((.*)\)$", line)
        if not m:
            continue
        for arg in filter(None, (a.strip() for a in m.group(2).split(","))):
            name = arg.split()[-1].removesuffix("()")
            if name.casefold() in {w.casefold() for w in VBA_RESERVED}:
                bad.append(f"{m.group(1)}({name})")
    assert not bad, "UDF parameters that are reserved words in VBA (rename them in pyfuncs/udfs.py): " + ", ".join(bad)


def test_vba_lines_within_vba_limits(vba):
    for name, code in vba.items():
        for line in code.split("\r\n"):
            assert len(line) <= 1023, (name, line[:80])


# --------------------------------------------------------------------------------------------------
# Ribbon
# --------------------------------------------------------------------------------------------------

def test_ribbon_part_is_related_with_the_2006_type(parts):
    rels = ET.fromstring(parts["_rels/.rels"])
    ui = [r for r in rels if r.get("Type") == build.CUSTOM_UI_REL]
    assert len(ui) == 1 and ui[0].get("Target") == "customUI/customUI.xml"
    assert build.CUSTOM_UI_PART in parts
    ct = parts["[Content_Types].xml"].decode()
    assert 'PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"' in ct
    assert 'Extension="bin" ContentType="application/vnd.ms-office.vbaProject"' in ct
    assert 'Extension="xml" ContentType="application/xml"' in ct  # covers customUI/customUI.xml
    wrels = parts["xl/_rels/workbook.xml.rels"].decode()
    assert 'relationships/vbaProject" Target="vbaProject.bin"' in wrels


def test_ribbon_tab_has_a_button_per_job(parts):
    root = _ribbon_xml(parts)
    tabs = list(root.iter(f"{CUI_NS}tab"))
    assert [t.get("label") for t in tabs] == ["回访保修"]
    buttons = _buttons(parts)
    assert {b.get("label") for b in buttons} == set(RIBBON_BUTTONS)
    ids = [b.get("id") for b in buttons]
    assert len(ids) == len(set(ids))
    for b in buttons:
        assert b.get("imageMso"), b.get("label")


def test_every_onaction_names_a_ribbon_sub_that_runs_its_job(parts, vba):
    ribbon = vba["Ribbon"]
    for b in _buttons(parts):
        action = b.get("onAction")
        assert re.fullmatch(r"[A-Za-z]\w*", action), action
        m = re.search(RIBBON_SUB.format(name=re.escape(action)), ribbon, re.M | re.I)
        assert m, f"no Sub {action}(control As IRibbonControl) in Ribbon.bas"
        # the Sub's body runs the button's job
        body = ribbon[m.end():ribbon.index("End Sub", m.end())]
        job = RIBBON_BUTTONS[b.get("label")]
        assert f'RunPython "import pyfuncs.macros as m; m.{job}()"' in body, action
        # and no other module defines the same name (ambiguous callbacks fail in Excel)
        for name, code in vba.items():
            if name != "Ribbon":
                assert not re.search(rf"^\s*(Public\s+|Private\s+)?(Sub|Function)\s+{action}\b", code, re.M | re.I)


def _runpython_commands(vba: dict[str, str]) -> list[tuple[str, str]]:
    found = []
    for name, code in vba.items():
        if name == "xlwings":  # the library itself (its comments show examples)
            continue
        for line in code.split("\r\n"):
            if line.lstrip().startswith("'"):
                continue
            for m in re.finditer(r'RunPython\s*\(?\s*"((?:[^"]|"")*)"', line):
                found.append((name, m.group(1).replace('""', '"')))
    return found


def test_every_runpython_string_imports_a_real_function(vba):
    commands = _runpython_commands(vba)
    assert len(commands) >= len(RIBBON_JOBS)
    for module_name, command in commands:
        tree = ast.parse(command)
        aliases: dict[str, object] = {}
        calls = 0
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    mod = importlib.import_module(alias.name)  # fails if pyfuncs.macros is missing
                    aliases[alias.asname or alias.name.split(".")[0]] = mod
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                assert isinstance(owner, ast.Name) and owner.id in aliases, command
                fn = getattr(aliases[owner.id], node.func.attr, None)
                assert fn is not None, f"{module_name}: {command}: no {node.func.attr}"
                assert callable(fn) and inspect.isfunction(fn), command
                # callable with no arguments, as RunPython calls it
                sig = inspect.signature(fn)
                assert all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                           for p in sig.parameters.values()), command
                calls += 1
        assert calls == 1, command


# --------------------------------------------------------------------------------------------------
# Sheets against the schema
# --------------------------------------------------------------------------------------------------

def test_sheet_order(wb):
    assert wb.sheetnames == [*schema.SHEET_ORDER, schema.CONF_SHEET]
    assert wb.active.title == schema.SHEET_ORDER[0]


@pytest.mark.parametrize("key", list(schema.TABLES))
def test_table_matches_schema(wb, key):
    t = schema.TABLES[key]
    ws = wb[t.sheet]
    assert t.name in ws.tables
    xt = ws.tables[t.name]
    ref = openpyxl.utils.cell.range_boundaries(xt.ref)
    left, top = openpyxl.utils.cell.coordinate_to_tuple(t.anchor)[::-1]
    assert (ref[0], ref[1]) == (left, top)
    assert ref[2] - ref[0] + 1 == len(t.columns)
    assert ref[3] >= top + 1  # at least one data row
    assert xt.autoFilter is not None and xt.autoFilter.ref == xt.ref
    assert [c.name for c in xt.tableColumns] == t.headers
    assert [ws.cell(row=top, column=left + j).value for j in range(len(t.columns))] == t.headers
    dvs = {str(r): dv for dv in ws.data_validations.dataValidation for r in dv.sqref.ranges}
    for j, col in enumerate(t.columns):
        letter = openpyxl.utils.get_column_letter(left + j)
        head = ws.cell(row=top, column=left + j)
        assert ws.column_dimensions[letter].width == col.width, col.header
        if col.format:
            assert ws.cell(row=top + 1, column=left + j).number_format == col.format, col.header
            assert ws.column_dimensions[letter].number_format == col.format, col.header
        if col.choices:
            dv = dvs[f"{letter}{top + 1}:{letter}{build.LAST_ROW}"]
            assert dv.type == "list" and dv.showErrorMessage
            assert dv.formula1 == '"' + ",".join(col.choices) + '"'
            assert len(dv.formula1) <= 257 and len(dv.error) <= 255 and len(dv.errorTitle) <= 32
        elif col.list_source:  # a dropdown from a list in the workbook (a defined name)
            dv = dvs[f"{letter}{top + 1}:{letter}{build.LAST_ROW}"]
            assert dv.type == "list" and dv.showErrorMessage and dv.formula1 == col.list_source, col.header
            assert dv.errorStyle == ("stop" if schema.LIST_NAMES[col.list_source].strict else "warning")
        elif col.kind == "date" and not col.computed:  # a typed 2026/13/01 is refused
            dv = dvs[f"{letter}{top + 1}:{letter}{build.LAST_ROW}"]
            assert (dv.type, dv.operator, dv.errorStyle) == ("date", "between", "stop"), col.header
            assert (dv.formula1, dv.formula2) == ("DATE(1950,1,1)", "DATE(2199,12,31)") and dv.showErrorMessage
            assert col.header in dv.error
        else:
            assert not any(k.startswith(f"{letter}{top + 1}:") for k in dvs), col.header
        note = build.header_comment(col)
        if note:
            assert head.comment is not None and head.comment.text == note
            if col.comment:
                assert col.comment in head.comment.text
        else:
            assert head.comment is None
        want = build.COMPUTED_FILL if col.computed else build.STAFF_FILL
        assert head.fill.fgColor.rgb[-6:] == want, col.header
    assert build.COMPUTED_FILL != build.STAFF_FILL


@pytest.mark.parametrize("key", [k for k in schema.TABLES if schema.TABLES[k].sheet != schema.SETTINGS.sheet])
def test_data_sheet_frozen_under_header_and_prints_well(wb, key):
    t = schema.TABLES[key]
    ws = wb[t.sheet]
    assert ws.freeze_panes == "A2"
    _assert_print_setup(ws, "$1:$1")  # every ledger, 报修台账 too: one page wide, landscape
    assert ws.page_setup.fitToWidth == 1 and not ws.print_title_cols
    for j, col in enumerate(t.columns):
        align = ws.cell(row=2, column=j + 1).alignment
        assert (align.horizontal == "center") == (col.kind in ("date", "choice")), col.header
        assert bool(align.wrap_text) == (col.kind == "text" and col.width >= build.WRAP_WIDTH), col.header


def _assert_print_setup(ws, title_rows, wide=1):
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert int(ws.page_setup.fitToWidth) == wide and int(ws.page_setup.fitToHeight) == 0
    if title_rows:
        assert ws.print_title_rows == title_rows


def test_settings_sheet_holds_both_tables_and_reads_back_as_defaults(wb):
    ws = wb[schema.SETTINGS.sheet]
    assert ws.tables["tblSettings"].ref.startswith("A1:")
    assert ws.tables["tblSeasons"].ref.startswith("E1:")
    assert ws.freeze_panes == "A2"
    _assert_print_setup(ws, "$1:$1")
    rows = [tuple(r) for r in ws.iter_rows(min_row=2, max_col=3, values_only=True) if r[0] is not None]
    assert rows == [tuple(r) for r in settings_sheet_rows()]
    s, problems = Settings.from_rows((r[0], r[1]) for r in rows)
    assert problems == [] and s == Settings()
    seasons = [tuple(r) for r in ws.iter_rows(min_row=2, min_col=5, max_col=10, values_only=True) if r[0] is not None]
    assert seasons == [tuple(r) for r in season_sheet_rows()]
    s2, season_problems = Settings().with_seasons(seasons)
    assert season_problems == [] and s2.seasons == Settings().seasons


def test_holidays_and_report_sheets(wb):
    ws = wb[schema.HOLIDAYS.sheet]
    n = len(schema.HOLIDAYS.columns)
    assert [c.value for c in ws[1]][:n] == schema.HOLIDAYS.headers
    assert all(c.value is None for c in ws[2][:n])
    # beside the table (a blank column apart): which years are an estimate, where to enter the
    # State Council's days; it names no year, so a newer holidays package does not change the build
    note = [ws.cell(r, n + 2).value for r in range(1, len(build.HOLIDAY_NOTES) + 1)]
    assert note == list(build.HOLIDAY_NOTES) and ws.cell(1, n + 1).value is None
    text = "".join(note)
    assert "估算" in text and "“休”" in text and "“班”" in text and "数据检查" in text
    assert not re.search(r"20\d\d", text)
    rep = wb[schema.REPORT_SHEET]
    assert rep["A1"].value == "统计报表" and not rep.tables
    assert rep.page_setup.orientation == "landscape"


def test_conditional_formats(wb):
    from pyfuncs.core import warranty

    repairs = wb[schema.REPAIRS.sheet]
    overdue_col = openpyxl.utils.get_column_letter(schema.REPAIRS.headers.index("超期天数") + 1)
    rules = [(str(cf.sqref), r) for cf in repairs.conditional_formatting for r in cf.rules]
    assert len(rules) == 1
    sqref, rule = rules[0]
    assert sqref == f"A2:{openpyxl.utils.get_column_letter(len(schema.REPAIRS.columns))}{build.LAST_ROW}"
    assert rule.type == "expression" and rule.formula == [f"N(${overdue_col}2)>0"]
    assert rule.dxf.fill.bgColor.rgb[-6:] == build.OVERDUE_FILL

    terms = wb[schema.TERMS.sheet]
    status_col = openpyxl.utils.get_column_letter(schema.TERMS.headers.index("保修状态") + 1)
    by_formula = {r.formula[0]: r for cf in terms.conditional_formatting for r in cf.rules}
    assert by_formula[f'${status_col}2="{warranty.EXPIRING}"'].dxf.fill.bgColor.rgb[-6:] == build.EXPIRING_FILL
    assert by_formula[f'${status_col}2="{warranty.EXPIRED}"'].dxf.fill.bgColor.rgb[-6:] == build.EXPIRED_FILL
    assert (build.EXPIRING, build.EXPIRED) == (warranty.EXPIRING, warranty.EXPIRED)


def _conf_as_xlwings_reads_it(ws) -> dict[str, object]:
    """GetConfigFromSheet in xlwings.bas: A1 down to the first blank cell, keys upper-cased."""
    out, r = {}, 1
    while ws.cell(row=r, column=1).value not in (None, ""):
        out.setdefault(str(ws.cell(row=r, column=1).value).upper(), ws.cell(row=r, column=2).value)
        r += 1
    return out


def test_xlwings_conf_sheet(wb):
    conf = _conf_as_xlwings_reads_it(wb[schema.CONF_SHEET])
    assert conf["UDF MODULES"] == "pyfuncs.udfs"
    for key in ("INTERPRETER_WIN", "INTERPRETER_MAC", "PYTHONPATH", "CONDA PATH", "CONDA ENV"):
        assert key in conf and conf[key] is None
    assert conf["SHOW CONSOLE"] is False and conf["USE UDF SERVER"] is False
    # the same keys as the sheet xlwings ships in its standalone quickstart
    qs = openpyxl.load_workbook(Path(xlwings.__file__).with_name("quickstart_standalone.xlsm"))
    shipped = _conf_as_xlwings_reads_it(qs["_xlwings.conf"])
    assert set(shipped) == set(conf)


# --------------------------------------------------------------------------------------------------
# The package: round trip, determinism, committed build
# --------------------------------------------------------------------------------------------------

def test_openpyxl_round_trip_keeps_vba_ribbon_and_features(built, parts, tmp_path):
    wb = openpyxl.load_workbook(built, keep_vba=True)
    out = tmp_path / "rt.xlsm"
    wb.save(out)
    with zipfile.ZipFile(out) as z:
        after = {n: z.read(n) for n in z.namelist()}
    assert after["xl/vbaProject.bin"] == parts["xl/vbaProject.bin"]
    assert after[build.CUSTOM_UI_PART] == parts[build.CUSTOM_UI_PART]
    assert build.CUSTOM_UI_REL.encode() in after["_rels/.rels"]
    assert b"macroEnabled.main+xml" in after["[Content_Types].xml"]
    wb2 = openpyxl.load_workbook(out, keep_vba=True)
    for name in wb.sheetnames:
        a, b = wb[name], wb2[name]
        assert a.sheet_properties.codeName == b.sheet_properties.codeName
        assert sorted(a.tables) == sorted(b.tables)
        assert len(a.data_validations.dataValidation) == len(b.data_validations.dataValidation)
        assert len(list(a.conditional_formatting)) == len(list(b.conditional_formatting))
    assert wb2.code_name == "ThisWorkbook"


def test_build_is_deterministic(built):
    first = build.build_bytes()
    assert first == build.build_bytes()
    assert first == built.read_bytes()
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        infos = z.infolist()
    assert infos[0].filename == "[Content_Types].xml"
    assert [i.filename for i in infos[1:]] == sorted(i.filename for i in infos[1:])
    assert {i.date_time for i in infos} == {build.BUILD_TIME.timetuple()[:6]}
    core = dict((i.filename, i) for i in infos)
    assert "docProps/core.xml" in core


def test_committed_workbook_equals_a_fresh_build(parts):
    committed = ROOT / "aftercare.xlsm"
    assert committed.exists(), "aftercare.xlsm is not committed: run python -m pyfuncs.build"
    with zipfile.ZipFile(committed) as z:
        mine = {n: z.read(n) for n in z.namelist()}
    assert sorted(mine) == sorted(parts)
    stale = [n for n in parts if mine[n] != parts[n]]
    assert not stale, f"aftercare.xlsm is stale in {stale}: run python -m pyfuncs.build and commit it"


def _venv_with_lxml(where: Path) -> Path:
    """A venv that sees this machine's packages plus lxml (installed from the package index)."""
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(where)], check=True, timeout=300)
    py = where / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    probe = [str(py), "-c", "import lxml.etree, openpyxl.xml; assert openpyxl.xml.LXML"]
    if subprocess.run(probe, capture_output=True).returncode != 0:
        inst = subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", "lxml"],
                              capture_output=True, text=True, timeout=600)
        if inst.returncode != 0:
            pytest.skip(f"lxml could not be installed from the package index: {inst.stderr[-500:]}")
    return py


def test_build_is_byte_identical_with_and_without_lxml(tmp_path):
    """openpyxl writes other bytes when lxml is importable: the build must not depend on it."""
    import openpyxl.xml

    py = _venv_with_lxml(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items() if k != "OPENPYXL_LXML"}
    env["PYTHONPATH"] = str(ROOT)
    active = subprocess.run([str(py), "-c", "import openpyxl.xml; print(openpyxl.xml.LXML)"],
                            capture_output=True, text=True, env=env)
    assert active.stdout.strip() == "True", active.stderr  # openpyxl there really would use lxml
    out = tmp_path / "with-lxml.xlsm"
    proc = subprocess.run([str(py), "-m", "pyfuncs.build", "--out", str(out)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    here = build.build_bytes()
    if openpyxl.xml.LXML:  # this interpreter has lxml too: compare with one that has not
        plain = tmp_path / "without-lxml.xlsm"
        blocked = subprocess.run([sys.executable, "-c",
                                  "import sys; sys.modules['lxml'] = None; import runpy; "
                                  "sys.argv = ['build', '--out', sys.argv[1]]; "
                                  "runpy.run_module('pyfuncs.build', run_name='__main__')", str(plain)],
                                 cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert blocked.returncode == 0, blocked.stderr
        here = plain.read_bytes()
    assert out.read_bytes() == here


def test_build_command_line(tmp_path):
    out = tmp_path / "cli.xlsm"
    proc = subprocess.run([sys.executable, "-m", "pyfuncs.build", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == build.build_bytes()


def test_build_udfs_leaves_no_stand_ins_behind():
    before = {m for m in ("pythoncom", "pywintypes", "win32com", "win32com.client", "win32api") if m in sys.modules}
    func = xlwings.func
    udf_wrapper_vba("pyfuncs.udfs")
    after = {m for m in ("pythoncom", "pywintypes", "win32com", "win32com.client", "win32api") if m in sys.modules}
    assert after == before
    assert xlwings.func is func
    import pyfuncs.udfs as real

    if sys.platform != "win32":  # the imported module keeps xlwings' no-op decorators
        assert not any(hasattr(getattr(real, n), "__xlfunc__") for n in dir(real))


# --------------------------------------------------------------------------------------------------
# LibreOffice
# --------------------------------------------------------------------------------------------------

def test_libreoffice_exports_every_sheet_to_pdf(pdf):
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True)
    if info.returncode == 0:
        pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))
        assert pages >= len(schema.SHEET_ORDER)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
        for needle in ("报修单号", "超期天数", "竣工验收日期", "报修到场天数", "统计报表", "保修状态"):
            assert needle in text, needle
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "1", str(pdf), str(pdf.with_suffix(""))],
                       check=True, timeout=120)


# --------------------------------------------------------------------------------------------------
# configure and 自检
# --------------------------------------------------------------------------------------------------

def test_configure_writes_interpreter_and_keeps_the_rest(built, parts, tmp_path):
    from pyfuncs.configure import configure_workbook

    target = tmp_path / "aftercare.xlsm"
    shutil.copyfile(built, target)
    written = configure_workbook(target, interpreter=r"C:\Python311\pythonw.exe",
                                 pythonpath=r"D:\aftercare", platform="win")
    assert written["Interpreter_Win"] == r"C:\Python311\pythonw.exe"
    conf = _conf_as_xlwings_reads_it(openpyxl.load_workbook(target)[schema.CONF_SHEET])
    assert conf["INTERPRETER_WIN"] == r"C:\Python311\pythonw.exe"
    assert conf["PYTHONPATH"] == r"D:\aftercare"
    assert conf["UDF MODULES"] == "pyfuncs.udfs"
    with zipfile.ZipFile(target) as z:
        assert z.read("xl/vbaProject.bin") == parts["xl/vbaProject.bin"]
        assert z.read(build.CUSTOM_UI_PART) == parts[build.CUSTOM_UI_PART]
    assert not list(tmp_path.glob(".~aftercare-tmp-*"))  # saved through a temp file, then replaced


def test_configure_adds_a_missing_key_inside_the_block():
    from pyfuncs.configure import conf_block, set_conf

    wb = build.make_workbook()
    ws = wb[schema.CONF_SHEET]
    n = len(build.CONF_ROWS)
    set_conf(ws, "Show Error Popups", "False")
    block = conf_block(ws)
    assert block["SHOW ERROR POPUPS"] == n + 1 and len(block) == n + 1
    assert ws.cell(row=n + 2, column=1).value is None  # the blank line before the notes stays


def test_configure_a_file_adds_a_missing_key_inside_the_block(built, tmp_path):
    """The file book's configure (read/write, no openpyxl): a key missing from the block goes at
    its end; the blank line and the notes below it move down."""
    from pyfuncs.configure import configure_file_book
    from pyfuncs.io.filebook import FileBook

    target = tmp_path / "conf.xlsm"
    shutil.copyfile(built, target)
    with FileBook.open(target) as book:
        last, width = book.extent(schema.CONF_SHEET)
        book.write(schema.CONF_SHEET, 1, 1, [[None] * width for _ in range(last)])
        book.write(schema.CONF_SHEET, 1, 1, [["Interpreter_Win", None], ["UDF Modules", "pyfuncs.udfs"],
                                             [None, None], ["说明：", None]])
        book.save()
    with FileBook.open(target) as book:
        configure_file_book(book, interpreter="C:\\py\\pythonw.exe", pythonpath="D:\\x", platform="win")
        book.save()
    with FileBook.open(target) as book:
        cells = book.read(schema.CONF_SHEET, (1, 1, 5, 2))
    assert cells == [["Interpreter_Win", "C:\\py\\pythonw.exe"], ["UDF Modules", "pyfuncs.udfs"],
                     ["PYTHONPATH", "D:\\x"], [None, None], ["说明：", None]]


def test_every_udf_has_a_selftest_case():
    assert set(udf_names("pyfuncs.udfs")) <= {c.udf for c in udf_cases()}


def test_selftest_writes_real_results(built, tmp_path):
    target = tmp_path / "selftest.xlsm"
    shutil.copyfile(built, target)
    wrong = UdfCase("AC_WARRANTY_END", "故意写错的期望值", (dt.date(2024, 6, 30), "电气管线"),
                    lambda: dt.date(2099, 1, 1))
    report = run_selftest(target, today=dt.date(2026, 11, 21), cases=udf_cases() + [wrong])
    ws = openpyxl.load_workbook(target)[RESULT_SHEET]
    rows = {(r[0], r[1]): (r[2], r[3]) for r in ws.iter_rows(min_row=5, max_col=4, values_only=True) if r[0]}
    assert [c.value for c in ws[4]][:4] == ["类别", "检查项", "结果", "说明"]
    assert len(rows) == len(report.checks)
    assert ws["A3"].value == report.summary()
    # the deliberately wrong expectation fails, with both values shown
    res, detail = rows[("工作表函数", "AC_WARRANTY_END：故意写错的期望值")]
    assert res == FAIL and "2026-06-30" in detail and "2099-01-01" in detail
    # the real cases pass
    for case in udf_cases():
        assert rows[("工作表函数", f"{case.udf}：{case.label}")][0] == PASS, case.label
    assert rows[("版本", "xlwings（Python 与 VBA 一致）")][0] == PASS
    assert rows[("VBA", "xlwings_udfs 模块")][0] == PASS
    assert all(rows[k][0] == PASS for k in rows if k[0] in ("导入", "工作簿")), \
        [(k, v) for k, v in rows.items() if k[0] in ("导入", "工作簿") and v[0] != PASS]
    # each job: 未实现 exactly when its module does not exist, never a pass without running
    labels = {job: label for label, job in RIBBON_JOBS.items()}
    for job in RIBBON_JOBS.values():
        if job == "selftest":
            continue
        res, detail = rows[("作业", f"{labels[job]}（{job}）")]
        exists = importlib.util.find_spec(f"pyfuncs.jobs.{job}") is not None
        assert (res == TODO) == (not exists), (job, res, detail)
        if res == PASS:
            assert "副本" in detail or "提示" in detail
    # the original workbook keeps its VBA code and ribbon after the self-test saved it (the new
    # 自检结果 sheet brings its own empty document module, as Excel gives every new sheet)
    from pyfuncs.selftest import vba_modules_of

    old, new = vba_modules_of(built), vba_modules_of(target)
    assert all(new.get(m) == code for m, code in old.items())
    assert all("Sub " not in code and "Function " not in code for m, code in new.items() if m not in old)
    with zipfile.ZipFile(target) as z, zipfile.ZipFile(built) as orig:
        assert z.read(build.CUSTOM_UI_PART) == orig.read(build.CUSTOM_UI_PART)


def test_selftest_reports_a_version_mismatch(built, tmp_path, monkeypatch):
    target = tmp_path / "v.xlsm"
    shutil.copyfile(built, target)
    monkeypatch.setattr(xlwings, "__version__", "0.0.1")
    report = run_selftest(target, cases=[], write=False)
    row = next(c for c in report.checks if c.name == "xlwings（Python 与 VBA 一致）")
    assert row.result == FAIL and "0.0.1" in row.detail
    assert not report.ok


def test_smoke_test_doc():
    doc = (ROOT / "docs" / "excel-smoke-test.md").read_text(encoding="utf-8")
    assert "aftercare configure" in doc and "pip install" in doc
    for label in RIBBON_BUTTONS:
        assert label in doc, label
    for name in udf_names("pyfuncs.udfs"):
        assert name in doc, name
    assert "未在 Excel 中" in doc  # says plainly that nobody ran it in Excel while writing it


def test_selftest_on_an_open_book_writes_the_sheet_without_saving(built, tmp_path):
    """The ribbon passes the open workbook (a Book): results go into it; saving is the caller's."""
    from pyfuncs.io.filebook import FileBook

    target = tmp_path / "open.xlsm"
    shutil.copyfile(built, target)
    before = target.read_bytes()
    book = FileBook.open(target)
    try:
        report = run_selftest(book, cases=udf_cases()[:2])
        assert RESULT_SHEET in book.sheet_names()
        assert book.read(RESULT_SHEET, (3, 1, 3, 1)) == [[report.summary()]]
        assert any(c.category == "作业" for c in report.checks)  # jobs ran on copies of the file
    finally:
        book.close()
    assert target.read_bytes() == before


def test_every_job_runs_on_a_fresh_workbook(built):
    """A new workbook (empty tables) is where staff start: every ribbon job must run on it."""
    from pyfuncs.selftest import SelftestReport, check_jobs

    report = SelftestReport()
    check_jobs(report, built, dt.date(2026, 11, 21))
    failed = [(c.name, c.detail) for c in report.checks if c.result == FAIL]
    assert not failed, failed
