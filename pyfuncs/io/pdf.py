"""Print sheets of a workbook file to PDF with LibreOffice (no Excel needed).

:func:`export_pdf` copies the workbook, hides every sheet but the ones asked for (in the copy's
``xl/workbook.xml`` only: nothing else of the package is touched, so charts, print areas, print
titles and page setup print as the workbook has them) and runs
``soffice --headless --convert-to pdf`` on the copy. The user's file is never written.

In Excel the ribbon's 打印回访单 does the same with ``ExportAsFixedFormat``
(pyfuncs/resources/macros/Ribbon.bas); this module is the file door (``aftercare forms --pdf``)
and the door of the README's pictures (:mod:`pyfuncs.pictures`).

Example::

    >>> only_sheets_visible(
    ...     b'<workbook><bookViews><workbookView activeTab="0"/></bookViews><sheets>'
    ...     b'<sheet name="A" sheetId="1" state="visible"/><sheet name="B" sheetId="2"/></sheets></workbook>',
    ...     ["B"]).decode()  # doctest: +NORMALIZE_WHITESPACE
    '<workbook><bookViews><workbookView activeTab="1" firstSheet="1"/></bookViews><sheets><sheet name="A" sheetId="1" state="hidden"/><sheet name="B" sheetId="2" state="visible"/></sheets></workbook>'
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import uuid
import zipfile
from pathlib import Path
from xml.sax.saxutils import unescape

#: What staff read when LibreOffice is missing (the file door's PDF needs it).
NO_LIBREOFFICE = ("没有找到 LibreOffice，无法生成 PDF。请安装 LibreOffice（免费软件，从它的官方网站下载；"
                  "Linux 上安装 libreoffice-calc-nogui 软件包），或在 Excel 中打开工作簿，选中单据工作表后"
                  "用 文件 → 导出 → 创建 PDF。")

_SHEET = re.compile(rb"<sheet\b[^>]*?/>")
_NAME = re.compile(rb'\bname="([^"]*)"')
_STATE = re.compile(rb'\sstate="[^"]*"')


class PdfError(RuntimeError):
    """The PDF could not be written (message in Chinese, for staff)."""


def soffice() -> str | None:
    """The LibreOffice program, or None when it is not installed."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    for candidate in (r"C:\Program Files\LibreOffice\program\soffice.exe",
                      r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
                      "/Applications/LibreOffice.app/Contents/MacOS/soffice"):
        if os.path.exists(candidate):
            return candidate
    return None


def only_sheets_visible(workbook_xml: bytes, keep: list[str]) -> bytes:
    """``xl/workbook.xml`` with every sheet not in ``keep`` hidden, the first kept one active."""
    wanted = set(keep)
    first = None
    index = 0

    def one(m: re.Match) -> bytes:
        nonlocal first, index
        tag = m.group(0)
        name = unescape(_NAME.search(tag).group(1).decode("utf-8"), {"&quot;": '"', "&apos;": "'"})
        state = b"visible" if name in wanted else b"hidden"
        if name in wanted and first is None:
            first = index
        index += 1
        tag = _STATE.sub(b"", tag)
        return tag[:-2].rstrip() + b' state="' + state + b'"/>'

    out = _SHEET.sub(one, workbook_xml)
    if first is None:
        raise PdfError("没有要打印的工作表")
    # LibreOffice prints a hidden sheet that has a print area: drop the hidden sheets' print areas
    names = [unescape(_NAME.search(t).group(1).decode("utf-8"), {"&quot;": '"', "&apos;": "'"})
             for t in _SHEET.findall(workbook_xml)]
    hidden = {str(i) for i, n in enumerate(names) if n not in wanted}

    def area(m: re.Match) -> bytes:
        local = re.search(rb'localSheetId="(\d+)"', m.group(0))
        return b"" if local and local.group(1).decode() in hidden else m.group(0)

    out = re.sub(rb'<definedName\b[^>]*name="_xlnm.Print_Area"[^>]*>[^<]*</definedName>', area, out)
    # the active (and first shown) sheet must be a visible one
    view = re.search(rb"<workbookView\b[^>]*?/>", out)
    if view:
        tag = re.sub(rb'\s(activeTab|firstSheet)="\d+"', b"", view.group(0))
        tag = tag[:-2].rstrip() + b' activeTab="%d" firstSheet="%d"/>' % (first, first)
        out = out[:view.start()] + tag + out[view.end():]
    return out


def _copy_with_only(src: Path, dst: Path, sheets: list[str]) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/workbook.xml":
                data = only_sheets_visible(data, sheets)
            zout.writestr(info, data)


def export_pdf(workbook: str | os.PathLike, sheets: list[str], out: str | os.PathLike,
               timeout: int = 300) -> Path:
    """Print ``sheets`` of the workbook file (in workbook order, each with its own page setup)
    into one PDF at ``out``. Raises :class:`PdfError` (Chinese) when LibreOffice is missing or fails."""
    exe = soffice()
    if exe is None:
        raise PdfError(NO_LIBREOFFICE)
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="aftercare-pdf-") as tmp:
        copy = Path(tmp, "print" + Path(workbook).suffix)
        _copy_with_only(Path(workbook), copy, list(sheets))
        profile = Path(tmp, "profile")
        try:
            proc = subprocess.run(
                [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                 "--convert-to", "pdf", "--outdir", str(Path(tmp, "out")), str(copy)],
                capture_output=True, text=True, timeout=timeout, env={**os.environ, "HOME": str(profile)})
        except subprocess.TimeoutExpired as e:
            raise PdfError(f"LibreOffice 在 {timeout} 秒内没有生成 PDF") from e
        made = Path(tmp, "out", "print.pdf")
        if not made.exists():
            raise PdfError("LibreOffice 没有生成 PDF：" + (proc.stderr or proc.stdout).strip()[-300:])
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(made), str(out))
    return out
