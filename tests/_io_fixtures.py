"""Test helpers: a workbook with every sheet and table of the schema, a VBA project and a ribbon.

Uses the real build (``pyfuncs.build.build_workbook``) when it exists; otherwise builds a stand-in
with openpyxl from the schema and injects a fake ``vbaProject.bin`` and ``customUI`` parts at zip
level (so the tests of "nothing lost" exercise the same package structure).
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

FAKE_VBA = b"\xd0\xcf\x11\xe0fake-vba-project" + bytes(range(256)) * 4
CUSTOM_UI = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<customUI xmlns="http://schemas.microsoft.com/office/2006/01/customui">'
    '<ribbon><tabs><tab id="tabAftercare" label="回访保修"><group id="g" label="任务">'
    '<button id="btnRefresh" label="刷新台账" onAction="RibbonRefresh"/>'
    "</group></tab></tabs></ribbon></customUI>"
).encode("utf-8")
CUSTOM_UI14 = CUSTOM_UI.replace(b"2006/01/customui", b"2009/07/customui")


def make_workbook(path: Path, *, real_build: bool = True, ribbon14: bool = True) -> Path:
    """The real build; ``real_build=False`` gives a schema-only stand-in with a VBA project and
    both ribbon parts injected (for testing what openpyxl drops and FileBook restores)."""
    path = Path(path)
    if real_build:
        from pyfuncs.build import build_workbook

        build_workbook(path)
        return path
    _openpyxl_workbook(path)
    inject_vba_and_ribbon(path, ribbon14=ribbon14)
    return path


def _openpyxl_workbook(path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.worksheet.table import Table as XTable, TableStyleInfo

    from pyfuncs.core.settings import season_sheet_rows, settings_sheet_rows
    from pyfuncs.io.book import col_letter, parse_ref
    from pyfuncs.schema import SHEET_ORDER, TABLES

    wb = Workbook()
    wb.remove(wb.active)
    for name in SHEET_ORDER:
        wb.create_sheet(name)
    for t in TABLES.values():
        ws = wb[t.sheet]
        top, left, _, _ = parse_ref(t.anchor)
        for j, c in enumerate(t.columns):
            ws.cell(row=top, column=left + j, value=c.header)
        rows = []
        if t.key == "settings":
            rows = [list(r) for r in settings_sheet_rows()]
        elif t.key == "seasons":
            rows = [list(r) for r in season_sheet_rows()]
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                ws.cell(row=top + 1 + i, column=left + j, value=v)
        bottom = top + max(1, len(rows))
        ref = f"{col_letter(left)}{top}:{col_letter(left + len(t.columns) - 1)}{bottom}"
        xt = XTable(displayName=t.name, ref=ref)
        xt.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
        ws.add_table(xt)
    wb.save(path)


def inject_vba_and_ribbon(path: Path, *, ribbon14: bool = True) -> None:
    """Make an openpyxl-saved .xlsx a macro-enabled package with a VBA project and ribbon parts."""
    src = zipfile.ZipFile(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                ).replace(
                    b"</Types>",
                    b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
                    b"</Types>",
                )
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/'
                    b'relationships/vbaProject" Target="vbaProject.bin"/></Relationships>',
                )
            elif info.filename == "_rels/.rels":
                extra = (b'<Relationship Id="rIdUI" Type="http://schemas.microsoft.com/office/2006/'
                         b'relationships/ui/extensibility" Target="customUI/customUI.xml"/>')
                if ribbon14:
                    extra += (b'<Relationship Id="rIdUI14" Type="http://schemas.microsoft.com/office/'
                              b'2007/relationships/ui/extensibility" Target="customUI/customUI14.xml"/>')
                data = data.replace(b"</Relationships>", extra + b"</Relationships>")
            z.writestr(info, data)
        z.writestr("xl/vbaProject.bin", FAKE_VBA)
        z.writestr("customUI/customUI.xml", CUSTOM_UI)
        if ribbon14:
            z.writestr("customUI/customUI14.xml", CUSTOM_UI14)
    src.close()
    Path(path).write_bytes(buf.getvalue())


def part_bytes(path: Path, name: str) -> bytes | None:
    with zipfile.ZipFile(path) as z:
        try:
            return z.read(name)
        except KeyError:
            return None


def root_rel_targets(path: Path) -> set[str]:
    import re

    data = part_bytes(path, "_rels/.rels") or b""
    return set(re.findall(r'Target="([^"]+)"', data.decode("utf-8")))


def all_values(path: Path) -> dict[str, dict[tuple[int, int], object]]:
    """Every non-empty cell value (formulas as text) of every sheet, by sheet and (row, col)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, rich_text=True)
    out = {}
    for ws in wb.worksheets:
        out[ws.title] = {(c.row, c.column): (str(c.value) if type(c.value).__name__ == "CellRichText" else c.value)
                         for row in ws.iter_rows() for c in row if c.value is not None}
    return out
