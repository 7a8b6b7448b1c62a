"""集团汇总 (``rollup``): every branch's aftercare workbook in a folder → one summary workbook.

A group company keeps one workbook per branch or region. :func:`rollup` reads every ``.xlsm`` /
``.xlsx`` under a folder (subfolders included), one at a time and read-only, and writes one new
summary workbook (``.xlsx``):

- 汇总: per workbook and in total — projects, warranty parts, parts in warranty, parts expiring
  within 30/60/90 days, tickets, open tickets, open and overdue, overdue (all), rated visits and
  the satisfaction rate, data errors;
- 未结报修: every open ticket of every workbook with its source file (relative path) and Excel
  row, as an Excel table with filters;
- 部位原因: repairs by part × cause, in total and per workbook;
- 满意度: satisfaction by year, in total and per workbook (rate = 满意 or better ÷ rated);
- 文件状态: one line per file found — 已汇总, or 已跳过 with the reason (open in Excel, encrypted,
  damaged, not an aftercare workbook, a used range too large to read, ...).

The figures follow the 统计报表 job's definitions (:mod:`pyfuncs.jobs.report`) and are computed
from what staff typed, never from the computed columns a refresh may have left stale: warranty
ends through :func:`pyfuncs.jobs._common.terms_with_ends`, deadlines, open and overdue through
the ledger's own assessment (:func:`pyfuncs.jobs.refresh.assess_ledger`, the call 统计报表 makes).

Nothing is written beside the source files: each is opened without a lock file
(``FileBook.open(path, lock=False)``, reads through python-calamine), its tables are reduced to
a few counts and its open tickets, and it is closed before the next. The open tickets go
straight out, as the 未结报修 sheet's XML, into a temporary file (deleted when closed) that is
spliced into the summary when it is saved, so memory does not grow with the number of workbooks.
The summary is saved through a temporary file beside it and an atomic replace.

Example::

    >>> a = Figures("华北.xlsm", projects=3, tickets=10, open=2, satisfaction={2026: [4, 3, 340, 4]})
    >>> b = Figures("华南.xlsm", projects=2, tickets=5, open=1, satisfaction={2026: [1, 0, 50, 1]})
    >>> total = Figures("合计")
    >>> for f in (a, b):
    ...     total.add(f)
    >>> total.projects, total.open, total.rated, total.rate
    (5, 3, 5, 0.6)
"""
from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from pyfuncs.io.book import BookError
from pyfuncs.io.guard import MAX_SHEET_CELLS, sheet_too_large, used_range  # noqa: F401 - one guard for every reader
from pyfuncs.io.safe import BACKUP_DIR, Refused

#: Parts expiring within these many days (cumulative, as the report's headline figures).
TIERS = (30, 60, 90)
SUFFIXES = (".xlsm", ".xlsx")

SUMMARY_SHEET, OPEN_SHEET, PART_CAUSE_SHEET, SATISFACTION_SHEET, STATUS_SHEET = (
    "汇总", "未结报修", "部位原因", "满意度", "文件状态")
OPEN_TABLE = "tblOpenRepairs"
DONE, SKIPPED = "已汇总", "已跳过"

#: The sheets a workbook must have to be an aftercare workbook (pyfuncs.schema); 设置/节假日 may
#: be missing (defaults are used, with a note).
DATA_TABLES = ("projects", "terms", "repairs", "visits")
OPTIONAL_TABLES = ("settings", "seasons", "holidays")

OPEN_COLUMNS = (  # (header, width)
    ("来源文件", 28), ("台账行号", 9), ("报修单号", 14), ("项目编号", 12), ("项目名称", 26), ("保修部位", 14),
    ("具体位置", 20), ("问题描述", 30), ("紧急程度", 10), ("报修日期", 12), ("应到场日期", 12), ("到场日期", 12),
    ("状态", 9), ("超期天数", 9), ("已开天数", 9),
)


# ---- figures ------------------------------------------------------------------------------------
@dataclass
class Figures:
    """One workbook's figures (or the total of several: :meth:`add`)."""

    file: str
    projects: int = 0
    parts: int = 0                 # 保修条款 rows read
    in_warranty: int = 0           # ... whose warranty has not ended
    expiring: dict[int, int] = field(default_factory=lambda: dict.fromkeys(TIERS, 0))  # within N days
    tickets: int = 0
    open: int = 0
    open_overdue: int = 0
    overdue: int = 0               # every ticket late on the clock, open or not (the report's 超期报修（全部）)
    by_part_cause: Counter = field(default_factory=Counter)  # (part, cause) → tickets
    satisfaction: dict[int, list] = field(default_factory=dict)  # year → [rated, good, score sum, scored]
    errors: int = 0                # data errors (those rows are not counted)
    hints: int = 0

    def add(self, other: "Figures") -> None:
        for name in ("projects", "parts", "in_warranty", "tickets", "open", "open_overdue", "overdue",
                     "errors", "hints"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for t, n in other.expiring.items():
            self.expiring[t] = self.expiring.get(t, 0) + n
        self.by_part_cause.update(other.by_part_cause)
        for year, vals in other.satisfaction.items():
            mine = self.satisfaction.setdefault(year, [0, 0, 0.0, 0])
            for i, v in enumerate(vals):
                mine[i] += v

    @property
    def rated(self) -> int:
        return sum(v[0] for v in self.satisfaction.values())

    @property
    def rate(self) -> float | None:
        """Visits rated 满意 or better ÷ rated visits, all years (None when none was rated)."""
        rated = self.rated
        return sum(v[1] for v in self.satisfaction.values()) / rated if rated else None


@dataclass
class FileStatus:
    file: str      # relative to the folder, with "/"
    status: str    # 已汇总 / 已跳过
    reason: str    # Chinese; empty when there is nothing to say


@dataclass
class RollupResult:
    folder: Path
    out: Path
    today: dt.date
    books: list[Figures]
    total: Figures
    statuses: list[FileStatus]
    open_rows: int
    backup: Path | None = None

    @property
    def skipped(self) -> list[FileStatus]:
        return [s for s in self.statuses if s.status != DONE]

    @property
    def summary(self) -> dict[str, Any]:
        t = self.total
        return {
            "folder": str(self.folder), "out": str(self.out), "today": self.today.isoformat(),
            "workbooks": len(self.books), "skipped": len(self.skipped),
            "projects": t.projects, "tickets": t.tickets, "open_repairs": t.open, "open_overdue": t.open_overdue,
            "overdue": t.overdue, "expiring": {f"{k}天内": v for k, v in t.expiring.items()},
            "satisfaction_rate": t.rate,
            "files": [{"file": s.file, "status": s.status, "reason": s.reason} for s in self.statuses],
        }

    @property
    def messages(self) -> list[str]:
        t = self.total
        lines = [f"已汇总 {len(self.books)} 个工作簿（跳过 {len(self.skipped)} 个文件），结果写入 {self.out}：",
                 f"  项目 {t.projects} 个；{TIERS[-1]}天内到期的保修部位 {t.expiring[TIERS[-1]]} 个；"
                 f"报修 {t.tickets} 单，未结 {t.open} 单（其中超期 {t.open_overdue} 单）；"
                 f"回访满意率 {'—' if t.rate is None else f'{t.rate:.1%}'}（统计日期 {self.today.isoformat()}）。"]
        for s in self.skipped:
            lines.append(f"  已跳过 {s.file}：{s.reason}")
        if not self.books and not self.skipped:
            lines.append(f"  文件夹中没有找到 .xlsm / .xlsx 工作簿：{self.folder}")
        return lines


def _d64(s):
    import pandas as pd

    return pd.Series(s).to_numpy(dtype="datetime64[s]").astype("datetime64[D]")


def _texts(s) -> list[str]:
    """A column as stripped text, '' for blank (the report's ``_txt``, for a whole column)."""
    import pandas as pd

    return ["" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v).strip() for v in s]


def compute(file: str, projects, terms, repairs, visits, settings, calendar, today: dt.date):
    """One workbook's :class:`Figures` and its open tickets (a DataFrame: the ledger's columns plus
    ``due``, ``late``, ``name``, ``days_open``). The frames are typed tables without their bad rows;
    ``terms`` carries ``end`` (see ``_common.terms_with_ends``). Pure."""
    import numpy as np
    import pandas as pd

    from pyfuncs.jobs.refresh import assess_ledger
    from pyfuncs.jobs.report import GOOD_LEVELS, NO_CAUSE, NO_PART

    fig = Figures(file)
    t64 = np.datetime64(today, "D")
    fig.projects = len({p for p in _texts(projects["project_id"]) if p})

    ends = _d64(terms["end"]) if len(terms) else np.array([], "datetime64[D]")
    left = (ends - t64).astype("timedelta64[D]").astype(float)
    left[np.isnat(ends)] = np.nan
    fig.parts = int(len(terms))
    fig.in_warranty = int((left >= 0).sum())
    fig.expiring = {t: int(((left >= 0) & (left <= t)).sum()) for t in TIERS}

    r = repairs
    # the ledger's own assessment, the same call 统计报表 makes (refresh.assess_ledger)
    a = assess_ledger(projects, terms, r, settings, calendar, today)
    due = np.where(~a.bad, a.clock.due, np.datetime64("NaT")) if len(r) else np.array([], "datetime64[D]")
    late = np.where(~a.bad, a.clock.late, np.nan) if len(r) else np.array([])
    is_open, is_late = a.open, a.overdue
    fig.tickets = int(len(r))
    fig.open = int(is_open.sum())
    fig.open_overdue = int((is_open & is_late).sum())
    fig.overdue = int(is_late.sum())
    fig.by_part_cause = Counter(zip([p or NO_PART for p in _texts(r["part"])],
                                    [c or NO_CAUSE for c in _texts(r["cause"])]))

    levels = _texts(visits["satisfaction"])
    years = [None if pd.isna(d) else pd.Timestamp(d).year for d in visits["date"]]
    for level, year in zip(levels, years):
        if not level or year is None:
            continue
        v = fig.satisfaction.setdefault(int(year), [0, 0, 0.0, 0])
        v[0] += 1
        v[1] += level in GOOD_LEVELS
        score = settings.score(level)
        if score is not None:
            v[2] += score
            v[3] += 1

    op = r.loc[is_open].copy()
    names = dict(zip(_texts(projects["project_id"]), _texts(projects["name"])))
    op["name"] = [names.get(p, "") for p in _texts(op["project_id"])]
    op["due"] = due[is_open]
    op["late"] = late[is_open]
    notice = _d64(op["notice"])
    op["days_open"] = np.where(np.isnat(notice), np.nan, (t64 - notice).astype("timedelta64[D]").astype(float))
    op = op.sort_values(["late", "notice"], ascending=[False, True], kind="stable", na_position="last")
    return fig, op


# ---- finding the workbooks --------------------------------------------------------------------
def is_own_file(name: str) -> bool:
    """Excel's owner files and this tool's temporary and lock files are never inputs."""
    return name.startswith("~$") or name.startswith(".~aftercare-")


def find_workbooks(folder: Path, out: Path | None = None) -> tuple[list[Path], list[FileStatus]]:
    """Every .xlsm/.xlsx under ``folder`` (sorted by relative path), leaving out owner files,
    temporary files, the backup folders and ``out``; plus a line for each subfolder that could
    not be listed."""
    folder = Path(folder)
    skip = _same_key(out) if out is not None else None
    found: list[Path] = []
    problems: list[FileStatus] = []

    def onerror(e: OSError) -> None:
        where = Path(e.filename) if e.filename else folder
        problems.append(FileStatus(_rel(where, folder) + "/", SKIPPED,
                                   f"无法读取此文件夹（{e.strerror or e}），其中的工作簿未汇总"))

    for root, dirs, files in os.walk(folder, onerror=onerror):
        dirs[:] = sorted(d for d in dirs if d != BACKUP_DIR)
        for name in files:
            if is_own_file(name) or not name.lower().endswith(SUFFIXES):
                continue
            p = Path(root) / name
            if skip is not None and _same_key(p) == skip:
                continue
            found.append(p)
    found.sort(key=lambda p: _rel(p, folder))
    return found, problems


def _same_key(p: Path):
    try:
        st = os.stat(p)
        return ("inode", st.st_dev, st.st_ino)
    except OSError:
        return ("path", os.path.normcase(os.path.abspath(p)))


def _rel(p: Path, folder: Path) -> str:
    try:
        return Path(os.path.relpath(p, folder)).as_posix()
    except ValueError:  # another drive (Windows)
        return Path(p).as_posix()


# ---- reading one workbook ---------------------------------------------------------------------
def sheet_parts(path) -> dict[str, str]:
    """{sheet name: worksheet part} of a workbook package (a path, a file or an open ZipFile; empty
    when it cannot be read this way), through the IO layer's one reader of package relationships."""
    import contextlib
    import zipfile

    from defusedxml import ElementTree as ET

    from pyfuncs.io.filebook import _MAIN_NS, _REL_ID, _part_rels

    try:
        with contextlib.nullcontext(path) if isinstance(path, zipfile.ZipFile) else zipfile.ZipFile(path) as z:
            book = next((t for typ, t in _part_rels(z, "").values() if typ.endswith("/officeDocument")), None)
            if book is None:
                return {}
            rels = _part_rels(z, book)
            return {sh.get("name", ""): rels.get(sh.get(_REL_ID, ""), ("", ""))[1]
                    for sh in ET.fromstring(z.read(book)).iter(_MAIN_NS + "sheet")}
    except Exception:  # noqa: BLE001 - the reader then says what is wrong
        return {}


def _refuse_huge(path: Path, sheets: Iterable[str]) -> None:
    parts = sheet_parts(path)
    for sheet in sheets:
        part = parts.get(sheet)
        if not part:  # the reader would find it some other way, unguarded
            raise Refused(f"无法确定工作表「{sheet}」在文件中的位置（文件结构异常，可能已损坏），未汇总。")
        try:
            far = sheet_too_large(path, part)
        except KeyError:
            raise Refused(f"工作表「{sheet}」的内容在文件中缺失（文件可能已损坏），未汇总。") from None
        if far is not None:
            rows, cols = far
            raise Refused(f"工作表「{sheet}」的已用区域过大（{rows:,} 行 × {cols:,} 列），可能有远处的单元格被误填了内容；"
                          "请在 Excel 中删除多余的行和列、保存后再汇总。")


@dataclass
class Ledger:
    """What the roll-up needs of one workbook: its typed tables (bad rows dropped), settings,
    calendar and the problems found."""

    projects: Any
    terms: Any
    repairs: Any
    visits: Any
    settings: Any
    calendar: Any
    problems: list


def read_ledger(path: Path) -> Ledger:
    """Open ``path`` read-only (no lock file; reads through python-calamine), read every table
    the figures need, close it. Raises :class:`Refused` for a file that cannot be summed up."""
    from pyfuncs.io.filebook import FileBook
    from pyfuncs.jobs._common import settings_and_calendar, terms_with_ends
    from pyfuncs.problem import Problem
    from pyfuncs.schema import TABLES
    from pyfuncs.tables import read_table

    with FileBook.open(path, lock=False) as book:
        names = set(book.sheet_names())
        missing = [TABLES[k].sheet for k in DATA_TABLES if TABLES[k].sheet not in names]
        if len(missing) == len(DATA_TABLES):
            raise Refused("不是回访保修工作簿（没有「" + "」「".join(missing) + "」等工作表）。")
        if missing:
            raise Refused("不是完整的回访保修工作簿（缺少工作表「" + "」「".join(missing) + "」），未汇总。")
        _refuse_huge(path, sorted({TABLES[k].sheet for k in DATA_TABLES + OPTIONAL_TABLES} & names))
        settings, calendar, problems = settings_and_calendar(book)
        frames = {k: read_table(book, TABLES[k]) for k in DATA_TABLES}
    for f in frames.values():
        problems += f.problems

    # every project row, as 统计报表 reads them (a bad optional cell must not drop a project's tickets)
    projects = frames["projects"].df
    terms, _bad_ends = terms_with_ends(projects, frames["terms"].good, settings)
    problems += [Problem(TABLES["terms"].sheet, row, "到期日期", msg, "提示") for row, msg in _bad_ends.items()]
    return Ledger(projects, terms, frames["repairs"].good, frames["visits"].good, settings, calendar, problems)


def _explain(e: BaseException) -> str:
    if isinstance(e, BookError):
        return str(e)
    if isinstance(e, MemoryError):
        return "文件过大，内存不足，无法读取。"
    return f"无法读取（{type(e).__name__}: {e}）。"


# ---- the summary workbook -----------------------------------------------------------------------
def check_output(out: str | os.PathLike) -> Path:
    """Refuse an output we must not write: not ``.xlsx``, a folder, a workbook open in Excel, an
    aftercare workbook, or an existing file that is not an earlier summary."""
    from pyfuncs.io.safe import check_file

    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise Refused(f"汇总结果请保存为 .xlsx 文件（而不是「{out.name}」）。")
    if out.is_dir():
        raise Refused(f"输出路径是一个文件夹：{out}")
    if not out.exists():
        return out
    check_file(out)  # open in Excel, encrypted, damaged, not a workbook
    sheets = set(sheet_parts(out))
    from pyfuncs.schema import TABLES

    if any(TABLES[k].sheet in sheets for k in DATA_TABLES):
        raise Refused(f"「{out.name}」是回访保修工作簿，不能用汇总结果覆盖它；请换一个输出文件名。")
    if not {SUMMARY_SHEET, STATUS_SHEET} <= sheets:
        raise Refused(f"文件「{out.name}」已存在，且不是以前的汇总结果；为免覆盖它，请换一个输出文件名或先把它移走。")
    return out


def _illegal():
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE


#: pyfuncs.layout's named styles, with titles left-aligned: a streaming sheet cannot merge cells
#: to centre a title over the table
_STYLE_OVERRIDES = {"title": {"align": "left"}, "section": {"align": "left"},
                    "total": {"bold": True, "fill": "F2F2F2", "border": True, "align": "center"}}


class SummaryBook:
    """The output workbook. The open tickets are written out as each workbook is read
    (:meth:`add_open`); the small sheets, through openpyxl's streaming ``write_only`` workbook, at
    the end (:meth:`finish`). Styles are pyfuncs.layout's named styles; wrapped text gets a row
    height that shows it in full."""

    def __init__(self):
        from openpyxl import Workbook

        self.wb = Workbook(write_only=True)
        self.wb.properties.title = "回访保修汇总"
        self.wb.properties.creator = "aftercare"
        self._styles: dict[tuple, Any] = {}
        self._bad = _illegal()
        self.sheets = {name: self.wb.create_sheet(name) for name in
                       (SUMMARY_SHEET, OPEN_SHEET, PART_CAUSE_SHEET, SATISFACTION_SHEET, STATUS_SHEET)}
        self._next = dict.fromkeys(self.sheets, 1)  # the row the next append writes
        self._width: dict[str, list[float]] = {}
        self.open_rows = 0
        ws = self.sheets[OPEN_SHEET]
        self._setup(ws, [w for _, w in OPEN_COLUMNS], landscape=True, title_rows="1:1", freeze="C2")
        self._append(ws, [(h, "header") for h, _ in OPEN_COLUMNS])
        # the open tickets' rows: XML in a temporary file, spliced in by save()
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.utils import get_column_letter

        self._rows = tempfile.TemporaryFile()
        self._letters = [get_column_letter(i) for i in range(1, len(OPEN_COLUMNS) + 1)]
        probe = WriteOnlyCell(ws, value=dt.date(2000, 1, 1))
        probe.number_format = "yyyy-mm-dd"
        self._date_xf = probe.style_id  # its index among the workbook's cell formats (styles.xml)

    # ---- cells and rows ----------------------------------------------------------------------------
    def _cell(self, ws, value, style: str | None = None, fmt: str | None = None):
        """A WriteOnlyCell with one of pyfuncs.layout's named styles; text stays text."""
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

        from pyfuncs.layout import STYLES

        if isinstance(value, str):
            value = self._bad.sub("", value)
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str) and value.startswith("="):
            c.data_type = "s"  # text a user typed is never a formula
        if style:
            key = (style, fmt)
            if key not in self._styles:
                s = {**STYLES.get(style, {}), **_STYLE_OVERRIDES.get(style, {})}
                thin = Side(style="thin", color="000000")
                self._styles[key] = (
                    Font(name="宋体" if s.get("size", 11) < 13 else "黑体", size=s.get("size", 11),
                         bold=s.get("bold", False), italic=s.get("italic", False)),
                    PatternFill("solid", fgColor=s["fill"]) if s.get("fill") else None,
                    Border(left=thin, right=thin, top=thin, bottom=thin) if s.get("border") else None,
                    Alignment(horizontal=s.get("align"), vertical=s.get("valign", "center"),
                              wrap_text=s.get("wrap", False)),
                    fmt or s.get("format"))
            font, fill, border, align, number = self._styles[key]
            c.font, c.alignment = font, align
            if fill is not None:
                c.fill = fill
            if border is not None:
                c.border = border
            if number:
                c.number_format = number
        elif fmt:
            c.number_format = fmt
        return c

    def _append(self, ws, cells: list, height: float | None = None) -> None:
        """Append a row of (value, style[, number format]) tuples; a row height that shows wrapped
        text in full (Excel and LibreOffice do not re-fit the rows of a generated file)."""
        import math

        from pyfuncs.layout import STYLES, text_width

        r = self._next[ws.title]
        widths = self._width.get(ws.title, [])
        lines = 1
        for j, (value, style, *_) in enumerate(cells):
            if isinstance(value, str) and STYLES.get(style, {}).get("wrap") and j < len(widths):
                room = max(widths[j] - 1, 2)
                lines = max(lines, sum(max(1, math.ceil(text_width(part) / room)) for part in value.split("\n")))
        if height is None and lines > 1:
            height = 14.0 * lines + 3
        if height:
            ws.row_dimensions[r].height = height
        ws.append([self._cell(ws, *c) if c[0] is not None or c[1] else None for c in cells])
        self._next[ws.title] = r + 1

    def _setup(self, ws, widths: list[float], *, landscape: bool, title_rows: str | None = None,
               freeze: str | None = None) -> None:
        """Column widths, frozen panes and A4 print setup: before the sheet's first row."""
        from openpyxl.utils import get_column_letter

        self._width[ws.title] = list(widths)
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = w
        if freeze:
            ws.freeze_panes = freeze
        ws.page_setup.paperSize = 9  # A4
        ws.page_setup.orientation = "landscape" if landscape else "portrait"
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.print_options.horizontalCentered = True
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.oddFooter.center.text = "第 &P 页，共 &N 页"
        if title_rows:
            ws.print_title_rows = title_rows

    def _print_area(self, ws) -> None:
        from openpyxl.utils import get_column_letter

        ws.print_area = f"A1:{get_column_letter(len(self._width[ws.title]))}{max(1, self._next[ws.title] - 1)}"

    # ---- the open tickets (streaming) -----------------------------------------------------------
    def add_open(self, file: str, op) -> None:
        """Append one workbook's open tickets (``compute``'s DataFrame) to the 未结报修 sheet.

        These rows are most of the output (hundreds of thousands for a large group), so they are
        written as the sheet's XML straight into a temporary file (deleted when closed) and
        spliced into the package on :meth:`save`: an openpyxl cell costs about 100 times more.
        Text is written as inline strings (never a formula), dates as serials in the date style."""
        import numpy as np
        import pandas as pd
        from xml.sax.saxutils import escape

        if not len(op):
            return

        def dates(col):
            days = _d64(op[col])
            serial = (days - np.datetime64("1899-12-30", "D")).astype("timedelta64[D]").astype(np.int64)
            return [None if nat else int(v) for v, nat in zip(serial, np.isnat(days))]

        def whole(vals):
            return [None if np.isnan(x) else int(x) for x in np.asarray(vals, dtype=float)]

        cols = [
            [file] * len(op), [int(r) for r in op.index], _texts(op["ticket_id"]), _texts(op["project_id"]),
            [str(v) for v in op["name"]], _texts(op["part"]), _texts(op["place"]), _texts(op["problem"]),
            _texts(op["urgency"]), dates("notice"), dates("due"), dates("arrival"), _texts(op["state"]),
            whole(op["late"]), whole(op["days_open"]),
        ]
        kinds = ["s", "n", "s", "s", "s", "s", "s", "s", "s", "d", "d", "d", "s", "n", "n"]
        letters = self._letters
        date_xf = self._date_xf
        bad = self._bad
        r = self._next[OPEN_SHEET]
        out = []
        for row in zip(*cols):
            cells = []
            for j, v in enumerate(row):
                if v is None or v == "":
                    continue
                k = kinds[j]
                if k == "s":
                    v = escape(bad.sub("", v))
                    keep = ' xml:space="preserve"' if v[:1].isspace() or v[-1:].isspace() else ""
                    cells.append(f'<c r="{letters[j]}{r}" t="inlineStr"><is><t{keep}>{v}</t></is></c>')
                elif k == "d":
                    cells.append(f'<c r="{letters[j]}{r}" s="{date_xf}"><v>{v}</v></c>')
                else:
                    cells.append(f'<c r="{letters[j]}{r}"><v>{v}</v></c>')
            out.append(f'<row r="{r}">{"".join(cells)}</row>')
            r += 1
        self._rows.write("".join(out).encode("utf-8"))
        self.open_rows += len(op)
        self._next[OPEN_SHEET] = r

    # ---- the small sheets -------------------------------------------------------------------------
    def finish(self, result: "RollupResult") -> None:
        from pyfuncs.layout import text_width

        self._finish_open()
        books = result.books
        file_w = min(50, max([text_width(b.file) for b in books] + [16]) + 2)
        self._summary_sheet(result, file_w)
        self._part_cause_sheet(result, file_w)
        self._satisfaction_sheet(result, file_w)
        self._status_sheet(result, file_w)

    def _finish_open(self) -> None:
        import warnings

        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

        ws = self.sheets[OPEN_SHEET]
        tbl = Table(displayName=OPEN_TABLE,
                    ref=f"A1:{get_column_letter(len(OPEN_COLUMNS))}{max(2, self.open_rows + 1)}")
        tbl.tableColumns = [TableColumn(id=i, name=h) for i, (h, _) in enumerate(OPEN_COLUMNS, start=1)]
        tbl.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
        with warnings.catch_warnings():  # "add table columns manually": they are, just above
            warnings.simplefilter("ignore")
            ws.add_table(tbl)

    def _summary_sheet(self, result: "RollupResult", file_w: float) -> None:
        from pyfuncs.layout import text_width

        ws = self.sheets[SUMMARY_SHEET]
        books, total = result.books, result.total
        headers = ["文件", "项目数", "保修部位", "在保部位", *[f"{t}天内到期" for t in TIERS], "报修单", "未结报修",
                   "其中超期", "超期报修（全部）", "已评价回访", "满意率", "数据错误"]
        self._setup(ws, [file_w] + [max(8, text_width(h) + 2) for h in headers[1:]], landscape=True,
                    title_rows="6:6", freeze="B7")
        self._append(ws, [("回访保修集团汇总", "title")], height=24)
        self._append(ws, [(f"统计日期：{result.today.isoformat()}", "plain")])
        self._append(ws, [(f"文件夹：{result.folder}", "plain")])
        self._append(ws, [(f"已汇总 {len(books)} 个工作簿；跳过 {len(result.skipped)} 个文件（原因见「{STATUS_SHEET}」）。",
                           "plain")])
        self._append(ws, [])
        self._append(ws, [(h, "header") for h in headers])

        def row(f: Figures, label: str, style: str) -> list:
            return [(label, "cell" if style == "int" else "subtotal"),
                    *[(v, style, "0") for v in
                      (f.projects, f.parts, f.in_warranty, *[f.expiring.get(t, 0) for t in TIERS], f.tickets,
                       f.open, f.open_overdue, f.overdue, f.rated)],
                    (f.rate, style, "0.0%"), (f.errors, style, "0")]

        for f in books:
            self._append(ws, row(f, f.file, "int"))
        self._append(ws, row(total, f"合计（{len(books)} 个工作簿）", "total"))
        self._append(ws, [])
        for line in (
            "说明：",
            f"· 明细：未结报修见「{OPEN_SHEET}」，报修按部位和原因见「{PART_CAUSE_SHEET}」，回访满意度见「{SATISFACTION_SHEET}」。",
            "· 口径同“统计报表”，按统计日期从员工填写的数据重新计算，不使用台账中的计算列：",
            "  到期日期按保修条款（及项目的竣工验收日期）计算；30/60/90天内到期为累计数。",
            "  应到场日期、超期天数按报修日期、紧急程度和该工作簿的设置、节假日计算。",
            "  未结 = 未填完成日期，且状态不是已完成、已验收、已关闭。",
            "  满意率 = 评为很满意、满意的回访 ÷ 已评价的回访。",
            f"· 有数据错误的行不计入（各工作簿的问题见「{STATUS_SHEET}」）。",
        ):
            self._append(ws, [(line, "plain")])
        self._print_area(ws)

    def _part_cause_sheet(self, result: "RollupResult", file_w: float) -> None:
        from pyfuncs.core.parts import PART_LABELS
        from pyfuncs.jobs.report import NO_CAUSE, NO_PART
        from pyfuncs.schema import CAUSES

        causes = [*CAUSES, NO_CAUSE]
        ws = self.sheets[PART_CAUSE_SHEET]
        self._setup(ws, [max(20, file_w)] + [11] * (len(causes) + 1), landscape=True)
        self._append(ws, [("报修按部位和原因（件，含已结报修）", "title")], height=24)
        self._append(ws, [(f"统计日期：{result.today.isoformat()}", "plain")])

        def crosstab(title: str, f: Figures) -> None:
            self._append(ws, [])
            self._append(ws, [(title, "section")] + [(None, "section")] * (len(causes) + 1))
            if not f.by_part_cause:
                self._append(ws, [("没有报修记录。", "note")])
                return
            self._append(ws, [(h, "header") for h in ("保修部位", *causes, "合计")], height=32)
            parts = [p for p in (*PART_LABELS, NO_PART) if any(f.by_part_cause.get((p, c)) for c in causes)]
            parts += sorted({p for p, _ in f.by_part_cause} - set(parts))
            for p in parts:
                counts = [f.by_part_cause.get((p, c), 0) for c in causes]
                self._append(ws, [(p, "cell"), *[(n, "int") for n in counts], (sum(counts), "total", "0")])
            sums = [sum(f.by_part_cause.get((p, c), 0) for p in parts) for c in causes]
            self._append(ws, [("合计", "subtotal"), *[(n, "total", "0") for n in sums], (sum(sums), "total", "0")])

        crosstab(f"全部工作簿合计（{len(result.books)} 个）", result.total)
        for f in result.books:
            crosstab(f"文件：{f.file}", f)
        self._print_area(ws)

    def _satisfaction_sheet(self, result: "RollupResult", file_w: float) -> None:
        ws = self.sheets[SATISFACTION_SHEET]
        total = result.total
        self._setup(ws, [max(12, file_w), 10, 12, 12, 10, 10], landscape=False)
        self._append(ws, [("回访满意度", "title")], height=24)
        self._append(ws, [(f"统计日期：{result.today.isoformat()}", "plain")])
        self._append(ws, [("满意率 = 评为很满意、满意的回访 ÷ 已评价的回访；平均分按各工作簿设置中的分值。", "plain")])
        self._append(ws, [])

        def sat(v, style="int") -> list:
            rated, good, score, scored = v
            return [(rated, style, "0"), (good, style, "0"), (good / rated if rated else None, style, "0.0%"),
                    (score / scored if scored else None, style, "0.0")]

        self._append(ws, [("按年份（全部工作簿）", "section")] + [(None, "section")] * 4)
        self._append(ws, [(h, "header") for h in ("年份", "已评价回访", "满意及以上", "满意率", "平均分")])
        for year in sorted(total.satisfaction):
            self._append(ws, [(year, "center"), *sat(total.satisfaction[year])])
        all_years = [sum(v[i] for v in total.satisfaction.values()) for i in range(4)]
        self._append(ws, [("全部年份", "subtotal"), *sat(all_years, "total")])
        self._append(ws, [])
        self._append(ws, [("按工作簿和年份", "section")] + [(None, "section")] * 5)
        self._append(ws, [(h, "header") for h in ("文件", "年份", "已评价回访", "满意及以上", "满意率", "平均分")])
        for f in result.books:
            for year in sorted(f.satisfaction):
                self._append(ws, [(f.file, "cell"), (year, "center"), *sat(f.satisfaction[year])])
        self._print_area(ws)

    def _status_sheet(self, result: "RollupResult", file_w: float) -> None:
        ws = self.sheets[STATUS_SHEET]
        self._setup(ws, [max(file_w, 24), 10, 80], landscape=True, title_rows="1:1", freeze="A2")
        self._append(ws, [(h, "header") for h in ("文件", "状态", "说明")])
        for s in result.statuses:
            self._append(ws, [(s.file, "cell"), (s.status, "good" if s.status == DONE else "bad"), (s.reason or None, "cell")])
        ws.auto_filter.ref = f"A1:C{max(2, len(result.statuses) + 1)}"
        self._print_area(ws)

    def save(self, path: Path) -> None:
        """The package openpyxl writes (every sheet but the open tickets' rows), with those rows
        spliced into the 未结报修 sheet's ``<sheetData>`` on the way to ``path``."""
        import io
        import shutil
        import zipfile

        from openpyxl.utils import get_column_letter

        small = io.BytesIO()
        self.wb.save(small)
        with zipfile.ZipFile(small) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
            part = sheet_parts(zin)[OPEN_SHEET]
            for item in zin.infolist():
                data = zin.read(item.filename)
                if item.filename != part:
                    zout.writestr(item, data)
                    continue
                head, sep, tail = data.partition(b"</sheetData>")
                if not sep:
                    raise BookError(f"程序错误：生成的「{OPEN_SHEET}」工作表没有 sheetData")
                last = max(2, self.open_rows + 1)
                ref = f"A1:{get_column_letter(len(OPEN_COLUMNS))}{last}".encode()
                head = re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="' + ref + b'"/>', head, count=1)
                info = zipfile.ZipInfo(item.filename, date_time=item.date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                with zout.open(info, "w", force_zip64=True) as dst:
                    dst.write(head)
                    self._rows.seek(0)
                    shutil.copyfileobj(self._rows, dst, 1 << 20)
                    dst.write(sep + tail)
        self._saved = True
        self.discard()

    def discard(self) -> None:
        """Drop the temporary files: the open tickets' rows, and (when the summary was not saved)
        those openpyxl keeps for each streaming sheet it has begun."""
        import contextlib

        with contextlib.suppress(OSError):
            self._rows.close()
        if getattr(self, "_saved", False):
            return
        for ws in self.sheets.values():
            writer = getattr(ws, "_writer", None)
            if writer is None:
                continue
            with contextlib.suppress(Exception):
                ws.close()
            with contextlib.suppress(Exception):
                writer.cleanup()


# ---- the job ----------------------------------------------------------------------------------
def rollup(folder: str | os.PathLike, out: str | os.PathLike, *, today: dt.date | None = None,
           progress: Callable[[int, int, str], None] | None = None) -> RollupResult:
    """Sum up every aftercare workbook under ``folder`` into the new workbook ``out`` (.xlsx).

    Raises :class:`~pyfuncs.io.safe.Refused` for a folder or output it will not use; a source
    file that cannot be read gets a line in 文件状态 and the others go on. ``progress`` is called
    with (number, total, relative path) before each workbook."""
    import gc

    from pyfuncs.io.safe import excel_has_open, job_lock, safe_save

    today = today or dt.date.today()
    folder = Path(folder)
    if not folder.exists():
        raise Refused(f"找不到文件夹：{folder}")
    if not folder.is_dir():
        raise Refused(f"这不是文件夹：{folder}（rollup 汇总一个文件夹中的全部工作簿）")
    out = check_output(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    paths, statuses = find_workbooks(folder, out)
    books: list[Figures] = []
    total = Figures("合计")
    with job_lock(out):
        check_output(out)  # again, now that no other roll-up can be writing it
        summary = SummaryBook()
        try:
            for i, path in enumerate(paths, start=1):
                rel = _rel(path, folder)
                if progress is not None:
                    progress(i, len(paths), rel)
                if excel_has_open(path):
                    statuses.append(FileStatus(rel, SKIPPED, "正在 Excel 中打开（旁边有 ~$ 锁定文件），磁盘上的内容可能不是最新的；"
                                                             "请在 Excel 中保存并关闭后重新汇总。"))
                    continue
                try:
                    led = read_ledger(path)
                    fig, op = compute(rel, led.projects, led.terms, led.repairs, led.visits, led.settings,
                                      led.calendar, today)
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as e:  # noqa: BLE001 - any file, however broken, is one line (pyo3 panics included)
                    statuses.append(FileStatus(rel, SKIPPED, _explain(e)))
                    continue
                fig.errors = sum(p.level == "错误" for p in led.problems)
                fig.hints = len(led.problems) - fig.errors
                summary.add_open(rel, op)
                books.append(fig)
                total.add(fig)
                statuses.append(FileStatus(rel, DONE, _problem_note(led.problems)))
                del led, op
                gc.collect()  # release this workbook's tables before the next is read
            statuses.sort(key=lambda s: s.file)
            result = RollupResult(folder, out, today, books, total, statuses, summary.open_rows)
            summary.finish(result)
            result.backup = safe_save(out, summary.save)
        except BaseException:
            summary.discard()
            raise
    return result


def _problem_note(problems: list) -> str:
    errors = [p for p in problems if p.level == "错误"]
    if not problems:
        return ""
    text = f"有 {len(errors)} 处数据错误（相应的行未计入）" if errors else ""
    hints = len(problems) - len(errors)
    if hints:
        text += ("，" if text else "") + f"{hints} 条提示"
    first = "；".join(str(p) for p in (errors or problems)[:3])
    return f"{text}。如：{first}{' 等' if len(errors or problems) > 3 else ''}。可在该工作簿中运行“数据检查”查看全部。"
