"""Build ``aftercare.xlsm`` from plain-text sources, reproducibly, on any OS.

Sources: the sheet schema (:mod:`pyfuncs.schema`), the settings rows
(:func:`pyfuncs.core.settings.settings_sheet_rows`), the VBA and ribbon in ``pyfuncs/resources/macros/``
(package data, :mod:`pyfuncs.resources`), the xlwings
VBA (``xlwings`` + ``Dictionary``) taken from the installed package's
``quickstart_standalone.xlsm`` with oletools, and the UDF wrappers generated from ``pyfuncs.udfs``
with xlwings' own generator (:mod:`pyfuncs.build_udfs`).

Steps: openpyxl writes the sheets; the package is turned into a macro-enabled workbook with the
2006 ribbon part; pyOpenVBA (pinned 6.5.0) gives it a VBA project the way Excel makes a first one
(document modules ``ThisWorkbook`` and ``Sheet1``… with their code names) and adds the modules;
the project is then written as [MS-OVBA] says a writer writes one, with no performance cache
(:func:`spec_vba_project`), so Excel compiles it from the sources; finally every part is written again into a zip with fixed timestamps, in sorted order, so the
same sources give the same bytes.

Usage::

    python -m pyfuncs.build                 # writes ./aftercare.xlsm (the committed build)
    python -m pyfuncs.build --out /tmp/x.xlsm

Example::

    >>> import tempfile, pathlib, zipfile
    >>> out = build_workbook(pathlib.Path(tempfile.mkdtemp()) / "book.xlsm")  # doctest: +SKIP
    >>> "customUI/customUI.xml" in zipfile.ZipFile(out).namelist()            # doctest: +SKIP
    True
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import re
import sys
import tempfile
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_from_string, column_index_from_string
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table as XlTable, TableStyleInfo

from pyfuncs import schema
from pyfuncs.core.settings import season_sheet_rows, settings_sheet_rows
from pyfuncs.core.warranty import EXPIRED, EXPIRING  # the 保修状态 values the formats key on
from pyfuncs.schema import Column, Table

ROOT = Path(__file__).resolve().parent.parent
MACROS_DIR = ("macros",)  # pyfuncs/resources/macros/ (package data)
DEFAULT_OUT = ROOT / "aftercare.xlsm"

#: Every timestamp in the package (zip entries, docProps created/modified): fixed for reproducibility.
BUILD_TIME = dt.datetime(2026, 1, 1, 0, 0, 0)
BUILD_AUTHOR = "aftercare build"
BUILD_TITLE = "工程回访与保修"
UDF_MODULE = "pyfuncs.udfs"

#: Last row covered by dropdowns and conditional formats (Excel's last row: the whole column).
LAST_ROW = 1048576
FONT_NAME = "微软雅黑"
STAFF_FILL = "1F4E78"     # header of columns staff fill in (dark blue)
COMPUTED_FILL = "548235"  # header of columns the jobs compute (green)
OVERDUE_FILL = "FFC7CE"   # 报修台账: 超期天数 > 0
EXPIRING_FILL = "FFE699"  # 保修条款: 即将到期 (amber)
EXPIRED_FILL = "D9D9D9"   # 保修条款: 已过保 (grey)
COMPUTED_NOTE = "【自动计算】此列由程序写入（刷新台账等），手工修改会被覆盖。"
FILL_BLANK_NOTE = "【自动填写】留空时由程序填写，已填的值不会被改动。"

#: The xlwings.conf sheet, as xlwings reads it: keys from A1 down to the first blank row, values in
#: column B. Keys and order follow the sheet shipped in xlwings' quickstart_standalone.xlsm.
#: Blank values are filled by ``aftercare configure`` (pyfuncs.configure).
CONF_ROWS: tuple[tuple[str, object], ...] = (
    ("Interpreter_Win", None),
    ("Interpreter_Mac", None),
    ("PYTHONPATH", None),
    ("Conda Path", None),
    ("Conda Env", None),
    ("UDF Modules", UDF_MODULE),
    ("Debug UDFs", False),
    ("Use UDF Server", False),
    ("Show Console", False),
)
CONF_NOTES = (
    "说明：",
    "本页由 xlwings 读取：从 A1 起逐行读取键（A列）和值（B列），遇到空行为止。请勿在上面的设置之间插入空行，也不要改动键名。",
    "Interpreter_Win：本机 Python 解释器（pythonw.exe）的完整路径。安装后运行命令  aftercare configure 工作簿路径  自动写入。",
    "PYTHONPATH：pyfuncs 程序包所在的目录（用 pip 安装了 aftercare 时可留空）。",
    "UDF Modules：工作表函数所在的 Python 模块，保持 pyfuncs.udfs。",
)

#: Beside the 节假日 table: where the calendar comes from, which years are an estimate, where staff
#: enter the State Council's days. Version-independent on purpose: the build must not change when
#: a newer holidays package knows one more year (``check`` and the plan name the years).
HOLIDAY_NOTES = (
    "说明：节假日从哪里来，哪些年份是估算",
    "1. 法定节假日和调休上班日来自 holidays 程序包。国务院办公厅已发布放假安排通知的年份，按通知计算，放假日和调休上班日都准确。",
    "2. 通知尚未发布的年份（国务院一般在每年年底前后发布下一年的安排；程序包收录后需升级才能用上），程序包只能按节日规则估算："
    "放假日可能不全，调休上班日无从得知。哪些年份是估算，运行「数据检查」会提示；生成这些年份的回访计划时，计划表标题下也会注明。",
    "3. 通知发布后（或公司另有安排时），请在左侧表格逐日录入：放假日的「类型」填“休”，调休上班日填“班”，「说明」写节日名称。"
    "录入的日子优先于程序包。某一年录入了任何一天，该年即视为已按通知录入、不再提示估算，所以请把该年的通知整份录入。",
    "4. 录入后重新运行「刷新台账」和「生成年度回访计划」，应到场日期和回访计划日期按新的日历重算。",
)

#: VBA module name → source file in pyfuncs/resources/macros/ (the xlwings modules and xlwings_udfs are not files).
MACRO_FILES = {"Ribbon": "Ribbon.bas", "ThisWorkbook": "ThisWorkbook.cls"}
CUSTOM_UI_FILE = "customUI.xml"
CUSTOM_UI_PART = "customUI/customUI.xml"
VBA_PART = "xl/vbaProject.bin"
CUSTOM_UI_REL = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


# --------------------------------------------------------------------------------------------------
# Sheets
# --------------------------------------------------------------------------------------------------

def _header_style(col: Column) -> tuple[Font, PatternFill]:
    fill = COMPUTED_FILL if col.computed else STAFF_FILL
    return (
        Font(name=FONT_NAME, size=10, bold=True, color="FFFFFF"),
        PatternFill("solid", start_color=fill, end_color=fill),
    )


def header_comment(col: Column) -> str:
    """The comment on a header cell: the schema's note, plus who fills the column.

    >>> from pyfuncs.schema import TABLES
    >>> header_comment(TABLES["repairs"].column("overdue")).startswith("【自动计算】")
    True
    >>> header_comment(TABLES["projects"].column("name"))
    ''
    """
    parts = []
    if col.computed:
        parts.append(COMPUTED_NOTE)
    elif col.fill_blank:
        parts.append(FILL_BLANK_NOTE)
    if col.comment:
        parts.append(col.comment)
    return "\n".join(parts)


def choice_formula(choices: tuple[str, ...]) -> str:
    """The inline list formula of a dropdown: ``"大型,中型,小型"`` (Excel caps it at 255 chars).

    >>> choice_formula(("是", "否"))
    '"是,否"'
    """
    text = ",".join(choices)
    if len(text) > 255 or any("," in c or '"' in c for c in choices):
        raise ValueError(f"dropdown list too long or has a comma/quote: {text}")
    return f'"{text}"'


def _anchor(table: Table) -> tuple[int, int]:
    letters, row = coordinate_from_string(table.anchor)
    return row, column_index_from_string(letters)


def table_ref(table: Table, n_rows: int) -> str:
    """The A1 range of ``table`` with ``n_rows`` data rows (at least one, empty if need be).

    >>> from pyfuncs.schema import TABLES
    >>> table_ref(TABLES["holidays"], 0), table_ref(TABLES["seasons"], 3)
    ('A1:C2', 'E1:J4')
    """
    row, col = _anchor(table)
    last_col = get_column_letter(col + len(table.columns) - 1)
    return f"{get_column_letter(col)}{row}:{last_col}{row + max(n_rows, 1)}"


#: Text columns at least this wide wrap (a long 提示 or 问题描述 stays inside its column when printed).
WRAP_WIDTH = 30


def _data_alignment(col: Column) -> Alignment | None:
    """Dates and dropdown values centred, so a date never runs into the text beside it; wide text
    columns wrapped, so a long text never runs past the table.

    >>> from pyfuncs.schema import TABLES
    >>> _data_alignment(TABLES["terms"].column("hint")).wrap_text
    True
    """
    if col.kind in ("date", "choice"):
        return Alignment(horizontal="center", vertical="center")
    if col.kind == "text" and col.width >= WRAP_WIDTH:
        return Alignment(vertical="center", wrap_text=True)
    return None


def write_table(ws, table: Table, rows: list[tuple] | None = None) -> XlTable:
    """Write ``table`` (header, rows, formats, dropdowns, comments) to ``ws`` as an Excel table."""
    rows = rows or []
    top, left = _anchor(table)
    thin = Side(style="thin", color="BFBFBF")
    for j, col in enumerate(table.columns):
        c = left + j
        letter = get_column_letter(c)
        cell = ws.cell(row=top, column=c, value=col.header)
        cell.font, cell.fill = _header_style(col)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        note = header_comment(col)
        if note:
            cell.comment = Comment(note, "回访保修", width=220, height=90)
        dim = ws.column_dimensions[letter]
        dim.width = col.width
        # Column style: Excel gives it to every cell typed in the column (the table grows into it).
        align = _data_alignment(col)
        dim.font = Font(name=FONT_NAME, size=10)
        if align:
            dim.alignment = align
        if col.format:
            dim.number_format = col.format
        for i in range(max(len(rows), 1)):
            value = rows[i][j] if i < len(rows) else None
            data = ws.cell(row=top + 1 + i, column=c, value=value)
            data.font = Font(name=FONT_NAME, size=10)
            if align:
                data.alignment = align
            if col.format:
                data.number_format = col.format
        if col.choices:
            dv = DataValidation(
                type="list",
                formula1=choice_formula(col.choices),
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="stop",
                errorTitle="请从下拉列表中选择",
                error=f"「{col.header}」只能填写：" + "、".join(col.choices),
                showInputMessage=False,
            )
            dv.add(f"{letter}{top + 1}:{letter}{LAST_ROW}")
            ws.add_data_validation(dv)
        dv = column_validation(col)
        if dv is not None:
            dv.add(f"{letter}{top + 1}:{letter}{LAST_ROW}")
            ws.add_data_validation(dv)
    ws.row_dimensions[top].height = 30
    ref = table_ref(table, len(rows))
    xt = XlTable(displayName=table.name, ref=ref)
    xt.tableStyleInfo = TableStyleInfo(
        name="TableStyleLight9", showFirstColumn=False, showLastColumn=False,
        showRowStripes=True, showColumnStripes=False,
    )
    xt.autoFilter = AutoFilter(ref=ref)
    ws.add_table(xt)
    return xt


def column_validation(col: Column) -> DataValidation | None:
    """The validation a column gets besides its inline choices (:func:`write_table`): a dropdown
    from a workbook list (``list_source``: a defined name of :data:`pyfuncs.schema.LIST_NAMES`),
    or, for a date column staff type in, a date between :data:`pyfuncs.schema.DATE_VALID`.

    >>> from pyfuncs.schema import TABLES
    >>> column_validation(TABLES["repairs"].column("project_id")).formula1
    '项目编号列表'
    >>> dv = column_validation(TABLES["repairs"].column("notice")); (dv.type, dv.formula1, dv.errorStyle)
    ('date', 'DATE(1950,1,1)', 'stop')
    >>> column_validation(TABLES["repairs"].column("due")) is None  # computed: the jobs write it
    True
    """
    if col.list_source:
        lst = schema.LIST_NAMES[col.list_source]
        return DataValidation(
            type="list", formula1=lst.name, allow_blank=True, showErrorMessage=True,
            errorStyle="stop" if lst.strict else "warning",
            errorTitle="不在列表中",
            error=(f"「{col.header}」只能从列表中选择（{lst.refers_to.replace('[', '的「').replace(']', '」列')}）"
                   if lst.strict else f"「{col.header}」不在{lst.name}中（设置工作表）；仍要填写请点“是”"),
            showInputMessage=False)
    if col.kind == "date" and not col.computed:
        return DataValidation(type="date", operator="between", formula1=schema.DATE_VALID[0],
                              formula2=schema.DATE_VALID[1], allow_blank=True, showErrorMessage=True,
                              errorStyle="stop", errorTitle="日期无效", error=schema.date_error(col.header))
    return None


def list_names(wb) -> None:
    """The defined names the dropdowns list from (:data:`pyfuncs.schema.LIST_NAMES`): each refers
    to a table column (``tblProjects[项目编号]``), so the list grows with the table."""
    from openpyxl.workbook.defined_name import DefinedName

    for name, lst in schema.LIST_NAMES.items():
        wb.defined_names[name] = DefinedName(name, attr_text=lst.refers_to)


def _page_setup(ws, title_rows: str | None = "1:1") -> None:
    """A4 landscape, one page wide, header row repeated, sheet name and page numbers printed."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.page_margins.header = ws.page_margins.footer = 0.3
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddHeader.left.text = "&A"
    ws.oddHeader.right.text = "回访保修"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def _conditional_formats(ws, table: Table) -> None:
    """报修台账: 超期天数>0 in red; 保修条款: 即将到期 amber, 已过保 grey (whole table row)."""
    top, left = _anchor(table)
    first = get_column_letter(left)
    last = get_column_letter(left + len(table.columns) - 1)
    rng = f"{first}{top + 1}:{last}{LAST_ROW}"

    def col_ref(key: str) -> str:
        idx = [c.key for c in table.columns].index(key)
        return f"${get_column_letter(left + idx)}{top + 1}"

    if table.key == "repairs":
        fill = PatternFill("solid", start_color=OVERDUE_FILL, end_color=OVERDUE_FILL, bgColor=OVERDUE_FILL)
        ws.conditional_formatting.add(rng, FormulaRule(
            formula=[f"N({col_ref('overdue')})>0"], fill=fill, font=Font(color="9C0006")))
    elif table.key == "terms":
        amber = PatternFill("solid", start_color=EXPIRING_FILL, end_color=EXPIRING_FILL, bgColor=EXPIRING_FILL)
        grey = PatternFill("solid", start_color=EXPIRED_FILL, end_color=EXPIRED_FILL, bgColor=EXPIRED_FILL)
        ws.conditional_formatting.add(rng, FormulaRule(
            formula=[f'{col_ref("status")}="{EXPIRING}"'], fill=amber))
        ws.conditional_formatting.add(rng, FormulaRule(
            formula=[f'{col_ref("status")}="{EXPIRED}"'], fill=grey, font=Font(color="595959")))


def _data_sheet(wb, table: Table, rows=None):
    ws = wb.create_sheet(table.sheet)
    write_table(ws, table, rows)
    top, left = _anchor(table)
    ws.freeze_panes = ws.cell(row=top + 1, column=left).coordinate
    _conditional_formats(ws, table)
    _page_setup(ws, f"{top}:{top}")  # one page wide, landscape, the header row on every page
    ws.sheet_view.zoomScale = 100
    return ws


def _settings_sheet(wb):
    ws = wb.create_sheet(schema.SETTINGS.sheet)
    write_table(ws, schema.SETTINGS, [tuple(r) for r in settings_sheet_rows()])
    write_table(ws, schema.SEASONS, [tuple(r) for r in season_sheet_rows()])
    gap = _anchor(schema.SEASONS)[1] - 1  # the blank column between the two tables
    ws.column_dimensions[get_column_letter(gap)].width = 3
    write_table(ws, schema.STAFF)  # the staff list the name dropdowns take (empty: staff fill it)
    gap = _anchor(schema.STAFF)[1] - 1
    ws.column_dimensions[get_column_letter(gap)].width = 3
    ws.freeze_panes = "A2"
    _page_setup(ws, "1:1")
    return ws


def _holiday_note(ws) -> None:
    """The note beside the 节假日 table (column E, after a blank column)."""
    top, left = _anchor(schema.HOLIDAYS)
    col = left + len(schema.HOLIDAYS.columns) + 1
    ws.column_dimensions[get_column_letter(col - 1)].width = 3
    ws.column_dimensions[get_column_letter(col)].width = 90
    for i, text in enumerate(HOLIDAY_NOTES):
        cell = ws.cell(row=top + i, column=col, value=text)
        cell.font = Font(name=FONT_NAME, size=10, bold=(i == 0), color=STAFF_FILL if i == 0 else "595959")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if i:
            ws.row_dimensions[top + i].height = 15 * (1 + len(text) // 44)


def _report_sheet(wb):
    ws = wb.create_sheet(schema.REPORT_SHEET)
    ws["A1"] = "统计报表"
    ws["A1"].font = Font(name=FONT_NAME, size=16, bold=True, color=STAFF_FILL)
    ws["A2"] = "本页由功能区「回访保修」→「统计报表」生成；每次生成会覆盖本页内容。"
    ws["A2"].font = Font(name=FONT_NAME, size=10, italic=True, color="7F7F7F")
    ws.column_dimensions["A"].width = 24
    ws.row_dimensions[1].height = 28
    _page_setup(ws, None)
    return ws


def _conf_sheet(wb):
    ws = wb.create_sheet(schema.CONF_SHEET)
    for i, (key, value) in enumerate(CONF_ROWS, start=1):
        ws.cell(row=i, column=1, value=key)
        ws.cell(row=i, column=2, value=value)
    for i, text in enumerate(CONF_NOTES, start=len(CONF_ROWS) + 2):
        ws.cell(row=i, column=1, value=text).font = Font(name=FONT_NAME, size=10, color="595959",
                                                         bold=(text == "说明："))
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 60
    ws.sheet_properties.tabColor = "808080"
    # hidden: staff neither see nor print its English keys; xlwings reads it by name all the same
    ws.sheet_state = "hidden"
    _page_setup(ws, None)
    return ws


def _default_font(wb) -> None:
    """The workbook's default font (the Normal style, font 0) is the table font 微软雅黑 10: a
    cell any writer adds without a format of its own (a job's new ledger row, a row staff paste
    in) prints like the rest of the table, not in Calibri 11."""
    from openpyxl.utils.indexed_list import IndexedList

    font = Font(name=FONT_NAME, size=10, family=2, charset=134)
    wb._fonts = IndexedList([font])
    wb._named_styles["Normal"].font = font


def make_workbook() -> Workbook:
    """The openpyxl workbook with every sheet of :data:`pyfuncs.schema.SHEET_ORDER` and xlwings.conf."""
    wb = Workbook()
    _default_font(wb)
    wb.remove(wb.active)
    by_sheet = {t.sheet: t for t in schema.TABLES.values()}
    for name in schema.SHEET_ORDER:
        if name == schema.SETTINGS.sheet:
            _settings_sheet(wb)
        elif name == schema.REPORT_SHEET:
            _report_sheet(wb)
        else:
            ws = _data_sheet(wb, by_sheet[name])
            if name == schema.HOLIDAYS.sheet:
                _holiday_note(ws)
    _conf_sheet(wb)
    list_names(wb)
    wb.active = 0
    p = wb.properties
    p.creator = p.lastModifiedBy = BUILD_AUTHOR
    p.title = BUILD_TITLE
    p.created = p.modified = BUILD_TIME
    return wb


def _core_xml() -> bytes:
    """docProps/core.xml, written here rather than by openpyxl so that its bytes do not depend on
    which XML library openpyxl found (see :func:`openpyxl_package`)."""
    stamp = BUILD_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:creator>{BUILD_AUTHOR}</dc:creator><dc:title>{BUILD_TITLE}</dc:title>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        f"<cp:lastModifiedBy>{BUILD_AUTHOR}</cp:lastModifiedBy></cp:coreProperties>"
    ).encode("utf-8")


def openpyxl_package() -> bytes:
    """The package openpyxl writes for :func:`make_workbook`, always through openpyxl's
    standard-library serializer.

    openpyxl serialises with lxml when lxml is importable and with ``xml.etree`` otherwise, and the
    bytes differ (self-closing tags, namespace declarations, character references). It decides when
    it is first imported (``OPENPYXL_LXML``), so where lxml is active the sheets are written by a
    child interpreter started with ``OPENPYXL_LXML=False``: the build is byte-identical with or
    without lxml installed (tests/test_build.py::test_build_is_byte_identical_with_and_without_lxml).
    """
    import openpyxl.xml

    if not openpyxl.xml.LXML:
        buf = io.BytesIO()
        make_workbook().save(buf)
        return buf.getvalue()
    import subprocess

    here = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "OPENPYXL_LXML": "False",
           "PYTHONPATH": os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)}
    code = "import sys; from pyfuncs.build import openpyxl_package; sys.stdout.buffer.write(openpyxl_package())"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError("openpyxl (without lxml) could not write the sheets: "
                           + proc.stderr.decode("utf-8", "replace")[-2000:])
    return proc.stdout


# --------------------------------------------------------------------------------------------------
# VBA sources
# --------------------------------------------------------------------------------------------------

def crlf(text: str) -> str:
    """VBA stores lines ending in CRLF. ``crlf("a\\nb\\r\\n") == "a\\r\\nb\\r\\n"``."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def xlwings_package_vba() -> dict[str, str]:
    """The VBA a standalone xlwings workbook carries, read with oletools from the installed
    ``xlwings/quickstart_standalone.xlsm``: ``{"xlwings": ..., "Dictionary": ...}`` (CRLF)."""
    import xlwings
    from oletools.olevba import VBA_Parser

    path = Path(xlwings.__file__).with_name("quickstart_standalone.xlsm")
    parser = VBA_Parser(str(path))
    try:
        found = {Path(name).stem: code for (_f, _s, name, code) in parser.extract_macros()}
    finally:
        parser.close()
    return {name: crlf(found[name]) for name in ("xlwings", "Dictionary")}


def _source(filename: str) -> bytes:
    """The bytes of a file of ``pyfuncs/resources/macros/`` (shipped in the package)."""
    from pyfuncs.resources import read_bytes

    return read_bytes(*MACROS_DIR, filename)


def read_macro(name: str) -> str:
    """The text of a module kept in ``pyfuncs/resources/macros/`` (CRLF, as VBA stores it)."""
    return crlf(_source(MACRO_FILES[name]).decode("utf-8"))


def vba_modules(udf_module: str = UDF_MODULE) -> dict[str, str]:
    """Every non-sheet module of the workbook's VBA project, name → exact code, in project order.

    ``ThisWorkbook`` (document module), ``xlwings`` and ``Dictionary`` (from the installed
    xlwings), ``xlwings_udfs`` (generated from ``udf_module``), ``Ribbon`` (ribbon callbacks).
    """
    from pyfuncs.build_udfs import SUPPORT_VBA_MODULE, udf_support_vba, udf_wrapper_vba

    mods = {"ThisWorkbook": read_macro("ThisWorkbook")}
    mods.update(xlwings_package_vba())
    mods["xlwings_udfs"] = udf_wrapper_vba(udf_module, "aftercare.xlsm")
    mods[SUPPORT_VBA_MODULE] = udf_support_vba(udf_module)  # function help, cached-tables version
    mods["Ribbon"] = read_macro("Ribbon")
    for name, code in mods.items():
        if name != "xlwings_udfs" and not code.isascii():
            # The project's code page is 1252; anything else would be garbled in the VBE.
            raise ValueError(f"VBA module {name} must be ASCII")
    return mods


# --------------------------------------------------------------------------------------------------
# Package
# --------------------------------------------------------------------------------------------------

def _read_zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def _macro_enable(parts: dict[str, bytes]) -> None:
    """Main part → macro-enabled type; the ribbon part, its relationship and fixed docProps."""
    ct = parts["[Content_Types].xml"].decode("utf-8")
    if XLSX_MAIN not in ct:
        raise RuntimeError("unexpected [Content_Types].xml from openpyxl")
    parts["[Content_Types].xml"] = ct.replace(XLSX_MAIN, XLSM_MAIN).encode("utf-8")
    rels = parts["_rels/.rels"].decode("utf-8")
    ids = [int(m) for m in re.findall(r'Id="rId(\d+)"', rels)]
    rel = f'<Relationship Id="rId{max(ids, default=0) + 1}" Type="{CUSTOM_UI_REL}" Target="{CUSTOM_UI_PART}"/>'
    close = "</Relationships>"
    if close not in rels:
        raise RuntimeError("unexpected _rels/.rels from openpyxl")
    parts["_rels/.rels"] = rels.replace(close, rel + close).encode("utf-8")
    parts[CUSTOM_UI_PART] = _source(CUSTOM_UI_FILE)
    parts["docProps/core.xml"] = _core_xml()


def _zip_bytes(parts: dict[str, bytes]) -> bytes:
    """A zip of ``parts`` with fixed metadata: [Content_Types].xml first, the rest sorted."""
    names = sorted(parts, key=lambda n: (n != "[Content_Types].xml", n))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=BUILD_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            z.writestr(info, parts[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    return buf.getvalue()


def _add_vba(package: bytes, modules: dict[str, str]) -> bytes:
    """The package with a VBA project holding ``modules`` (pyOpenVBA, as Excel makes a first one)."""
    from pyopenvba import ExcelFile, VBAModuleKind

    with tempfile.TemporaryDirectory(prefix="aftercare-build-") as tmp:
        src = Path(tmp, "in.xlsm")
        dst = Path(tmp, "out.xlsm")
        src.write_bytes(package)
        with ExcelFile(src) as book:
            project = book.add_vba_project()
            for name, code in modules.items():
                if name == "ThisWorkbook":
                    book.set_module(name, code)
                elif name == "Dictionary":
                    project.add_module(name, code, kind=VBAModuleKind.other)
                else:
                    project.add_module(name, code, kind=VBAModuleKind.standard)
            book.save(dst)
        with ExcelFile(dst) as book:
            problems = book.validate()
        if problems:
            raise RuntimeError("VBA project inconsistent: " + "; ".join(problems))
        return dst.read_bytes()


def workbook_parts(udf_module: str = UDF_MODULE) -> dict[str, bytes]:
    """Every part (name → bytes) of the built workbook."""
    parts = _read_zip(openpyxl_package())
    _macro_enable(parts)
    with_vba = _read_zip(_add_vba(_zip_bytes(parts), vba_modules(udf_module)))
    with_vba[VBA_PART] = spec_vba_project(with_vba[VBA_PART])
    return with_vba


def spec_vba_project(vba_project_bin: bytes) -> bytes:
    """The project as [MS-OVBA] says a writer writes it: no performance cache (a 7-byte
    ``_VBA_PROJECT`` of version 0xFFFF), so every Excel version compiles it from the sources
    (see :mod:`pyfuncs.io.vbaproject` and docs/vba-project.md)."""
    from pyfuncs.io.vbaproject import project_problems, without_performance_cache

    out = without_performance_cache(vba_project_bin)
    problems = project_problems(out)
    if problems:
        raise RuntimeError("VBA project not as MS-OVBA writes it: " + "; ".join(problems))
    return out


def build_bytes(udf_module: str = UDF_MODULE) -> bytes:
    """The bytes of the built workbook (the same every time for the same sources)."""
    return _zip_bytes(workbook_parts(udf_module))


def build_workbook(path: str | os.PathLike = DEFAULT_OUT, udf_module: str = UDF_MODULE) -> Path:
    """Build a fresh workbook at ``path`` (``aftercare new PATH`` calls this) and return the path.

    Written to a temporary file beside ``path`` first and then moved over it, so an open or
    half-written file is never left behind.
    """
    path = Path(path)
    data = build_bytes(udf_module)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~build-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pyfuncs.build", description="构建 aftercare.xlsm 工作簿")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="输出路径（默认：仓库根目录的 aftercare.xlsm）")
    args = ap.parse_args(argv)
    out = build_workbook(args.out)
    print(f"已生成 {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
