"""The README's pictures: the first printed page of each main sheet of the demo workbook, as PNG.

Usage::

    python -m pyfuncs.pictures docs/img                 # a fresh demo workbook, every main sheet
    python -m pyfuncs.pictures docs/img --book 台账.xlsm  # the sheets of this workbook instead
    python -m pyfuncs.pictures /tmp/x --sheets 报修台账 --dpi 80

Each sheet is printed by LibreOffice (:func:`pyfuncs.io.pdf.export_pdf`) and its first page turned
into a PNG by ``pdftoppm`` (poppler-utils), trimmed of the blank page margin. Needs LibreOffice,
poppler-utils and a CJK font (fonts-noto-cjk), as .ci/run installs them.

Example::

    >>> picture_name("回访计划2026")
    'plan.png'
    >>> picture_name("报修台账")
    'repairs.png'
"""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: Sheet (or sheet-name prefix) → picture file: ASCII names, so links work on every host.
PICTURES = {
    "项目台账": "projects.png",
    "保修条款": "terms.png",
    "报修台账": "repairs.png",
    "回访记录": "visits.png",
    "回访计划": "plan.png",
    "统计": "report.png",
    "检查结果": "check.png",
    "回访单-": "form-visit.png",
    "维修单-": "form-repair.png",
    "期满通知-": "form-notice.png",
}
#: The day the README's demo is made for, so the pictures do not change from day to day.
DEMO_DAY = dt.date(2026, 11, 21)


def picture_name(sheet: str) -> str | None:
    """The picture file of ``sheet`` (None: not a main sheet)."""
    for prefix, name in PICTURES.items():
        if sheet == prefix or (sheet.startswith(prefix) and (prefix.endswith("-") or sheet[len(prefix):].isdigit())):
            return name
    return None


def demo_book(folder: Path, today: dt.date = DEMO_DAY) -> Path:
    """A demo workbook with a plan, the report, the check sheet and one form of each kind."""
    import contextlib
    import io

    from pyfuncs.cli import main

    path = folder / "demo.xlsm"
    day = ["--today", today.isoformat(), "--json"]
    with contextlib.redirect_stdout(io.StringIO()):
        if main(["demo", str(path), *day]) != 0:
            raise RuntimeError("aftercare demo failed")
        main(["check", str(path), "--sheet", *day])
        main(["forms", str(path), *day])
    return path


def first_page_png(pdf: Path, out: Path, dpi: int = 100) -> Path:
    """The first page of ``pdf`` as the PNG ``out``, trimmed of blank margins."""
    from PIL import Image, ImageChops

    stem = out.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", str(pdf), str(stem)],
                   check=True, capture_output=True)
    made = stem.with_suffix(".png")
    img = Image.open(made).convert("RGB")
    box = ImageChops.difference(img, Image.new("RGB", img.size, "white")).getbbox()
    if box:
        pad = 12
        img = img.crop((max(0, box[0] - pad), max(0, box[1] - pad),
                        min(img.width, box[2] + pad), min(img.height, box[3] + pad)))
    img = img.quantize(colors=64)  # a few colours: small files, the text stays sharp
    img.save(out, optimize=True)
    if made != out:
        made.unlink(missing_ok=True)
    return out


def make_pictures(out: str | Path, book: str | Path | None = None, sheets: list[str] | None = None,
                  dpi: int = 100) -> list[Path]:
    """Write the pictures into ``out``; returns their paths."""
    import openpyxl

    from pyfuncs.io.pdf import export_pdf

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if shutil.which("pdftoppm") is None:
        raise RuntimeError("没有找到 pdftoppm（poppler-utils），无法把 PDF 转成图片")
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="aftercare-pictures-") as tmp:
        path = Path(book) if book else demo_book(Path(tmp))
        wb = openpyxl.load_workbook(path, read_only=True)
        names = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
        wb.close()
        done: set[str] = set()
        for sheet in names:
            name = picture_name(sheet)
            if name is None or name in done or (sheets and sheet not in sheets):
                continue
            pdf = export_pdf(path, [sheet], Path(tmp, f"{len(done)}.pdf"))
            written.append(first_page_png(pdf, out / name, dpi))
            done.add(name)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pyfuncs.pictures",
                                 description="把示例工作簿各主要工作表的第一页打印成 PNG 图片（README 用）")
    ap.add_argument("out", help="图片放在这个文件夹，如 docs/img")
    ap.add_argument("--book", default=None, help="用这个工作簿（默认：新生成一份示例工作簿）")
    ap.add_argument("--sheets", default=None, help="只画这些工作表，逗号分隔")
    ap.add_argument("--dpi", type=int, default=100, help="分辨率（默认 100）")
    args = ap.parse_args(argv)
    sheets = [s.strip() for s in args.sheets.split(",")] if args.sheets else None
    for p in make_pictures(args.out, args.book, sheets, args.dpi):
        print(f"{p}  {p.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
