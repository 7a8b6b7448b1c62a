"""RunPython entry points of the ribbon (macros/Ribbon.bas: ``import pyfuncs.macros as m; m.plan()``).

Each is a few lines: wrap ``xw.Book.caller()`` in :class:`~pyfuncs.io.xlbook.XlBook`, run the job
of the same name (the very code ``aftercare <job> FILE`` runs), and tell staff what happened in a
message box. Problems beyond the first few are listed on the 检查结果 sheet. Nothing here is
logic: it is all in ``pyfuncs.jobs``.

While a job runs, Excel's screen updating, events and alerts are off and calculation is manual
(:meth:`~pyfuncs.io.xlbook.XlBook.busy`); the status bar shows the job's steps. All of it is
restored when the job ends, also when it fails. Before a job changes anything, Excel saves a copy
of the open workbook as it stands (unsaved edits included) into the ``.aftercare-backup`` folder
beside it (:func:`backup_before_job`): Excel cannot undo a macro, and this copy is what
恢复上一版 and ``aftercare restore`` put back. A failure ends in one Chinese message box that
says what happened and where the details are: the traceback goes to a log file
(:func:`log_path`), never to staff as a Python traceback, and nothing escapes to xlwings (which
would show a second box with the traceback).
"""
from __future__ import annotations

import datetime as dt
import importlib
import os
import traceback
from pathlib import Path
from typing import Any

TITLE = "回访保修"
SHOWN = 12
#: the log keeps about this many bytes (one older file beside it, ``aftercare.log.1``)
LOG_BYTES = 1_000_000


def _book():
    import xlwings as xw

    from pyfuncs.io.xlbook import XlBook

    return XlBook(xw.Book.caller())


def _alert(book, text: str, mode: str = "info") -> None:
    """A message box over Excel (``mode``: "info", or "critical" for a failure)."""
    try:
        book.xb.app.alert(text, title=TITLE, mode=mode)
    except Exception:  # noqa: BLE001 - alert is not available everywhere (e.g. some Mac setups)
        book.set_status(text.splitlines()[0] if text else None)


def message_text(result, listed_on_sheet: bool = False) -> str:
    """The message box text for a job result (Chinese)."""
    lines = list(result.messages)
    probs = result.problems
    if probs:
        errors = sum(p.level == "错误" for p in probs)
        lines.append("")
        lines.append(f"问题 {len(probs)} 条（错误 {errors}，提示 {len(probs) - errors}）：")
        lines += [f"· {p}" for p in probs[:SHOWN]]
        if len(probs) > SHOWN:
            lines.append(f"……还有 {len(probs) - SHOWN} 条，" +
                         ("见“检查结果”工作表。" if listed_on_sheet else "请点“数据检查”查看全部。"))
    return "\n".join(lines) or "完成。"


def log_path() -> Path:
    """Where failures are logged: ``%LOCALAPPDATA%\\aftercare\\aftercare.log`` on Windows
    (``~/.aftercare/aftercare.log`` elsewhere; ``AFTERCARE_LOG_DIR`` overrides the folder). Per
    user and always writable, unlike the workbook's folder (a share, a read-only or a synced
    folder); the message box names it, so staff can send it on."""
    folder = os.environ.get("AFTERCARE_LOG_DIR")
    if not folder:
        local = os.environ.get("LOCALAPPDATA")
        folder = str(Path(local) / "aftercare") if local else str(Path.home() / ".aftercare")
    return Path(folder) / "aftercare.log"


def log_failure(job: str, book, error: BaseException) -> Path | None:
    """Append the failure (time, job, workbook, versions, traceback) to :func:`log_path`;
    returns the file, or None when it cannot be written."""
    import platform
    import sys

    path = log_path()
    try:
        where = book.wb.FullName
    except Exception:  # noqa: BLE001 - the log must not fail because Excel does
        where = "?"
    try:
        from pyfuncs import __version__ as ours
    except ImportError:  # pragma: no cover
        ours = "?"
    try:
        import xlwings

        theirs = xlwings.__version__
    except Exception:  # noqa: BLE001
        theirs = "?"
    text = (f"==== {dt.datetime.now():%Y-%m-%d %H:%M:%S} 作业 {job} 失败\n"
            f"工作簿：{where}\n"
            f"aftercare {ours}，xlwings {theirs}，Python {platform.python_version()}，{sys.platform}\n"
            + "".join(traceback.format_exception(type(error), error, error.__traceback__)) + "\n")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > LOG_BYTES:
            path.replace(path.with_name(path.name + ".1"))
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)
        return path
    except OSError:
        return None


#: jobs that only read the tables (their result sheet is regenerated on every run): no backup
NO_BACKUP = {"check"}


def backup_before_job(book, job: str) -> tuple[Path | None, str]:
    """Excel's own copy (``Workbook.SaveCopyAs``) of the open workbook as it stands before ``job``,
    put into ``.aftercare-backup`` beside the workbook like the command line's backups (the newest
    :data:`~pyfuncs.io.safe.KEEP_BACKUPS` kept). Returns (the backup, a line for the message box);
    (None, why) when there is none: a never-saved workbook, one on a web location (OneDrive /
    SharePoint ``https://`` names), or a folder that cannot be written. The job still runs then,
    and the message says that there is no backup.
    """
    from pyfuncs.io.safe import BACKUP_DIR, backup_with

    if job in NO_BACKUP:
        return None, ""
    try:
        full = str(book.wb.FullName)
    except Exception:  # noqa: BLE001 - no name to be had: treat as never saved
        full = ""
    if "://" in full:
        return None, "注意：工作簿保存在网络位置（如 OneDrive、SharePoint），本次作业前未做本地备份。"
    path = Path(full) if full else None
    if path is None or not path.is_absolute() or not path.parent.is_dir():
        return None, "注意：工作簿尚未保存为文件，本次作业前没有备份。"
    try:
        book.set_status("回访保修：正在备份工作簿…")
        bak = backup_with(path, lambda tmp: book.wb.SaveCopyAs(str(tmp)))
    except Exception as e:  # noqa: BLE001 - no backup must not stop the job; staff are told
        return None, f"注意：作业前未能备份工作簿（{type(e).__name__}: {e}）。"
    return bak, f"作业前的工作簿已备份：{BACKUP_DIR}{os.sep}{bak.name}（“恢复上一版”可打开它）。"


def forms_pdf(book, result, now: "dt.datetime | None" = None) -> str:
    """打印回访单 in Excel: the form sheets the job wrote, printed by Excel into one PDF beside the
    workbook (``Sheets(Array(...)).ExportAsFixedFormat``, as ``aftercare forms --pdf`` does with
    LibreOffice), named ``<workbook> 单据 <time>.pdf``; returns the message line (where it went,
    or why there is none). The sheets stay in the workbook for Ctrl+P as before.
    """
    sheets = list((result.summary or {}).get("forms") or [])
    if not sheets:
        return ""
    try:
        full = str(book.wb.FullName)
    except Exception:  # noqa: BLE001
        full = ""
    path = Path(full) if full and "://" not in full else None
    if path is None or not path.is_absolute() or not path.parent.is_dir():
        return "单据没有另存为 PDF：工作簿不在本机的文件夹中（请先保存到本机，或用 Ctrl+P 打印）。"
    pdf = path.with_name(f"{path.stem} 单据 {(now or dt.datetime.now()):%Y-%m-%d %H.%M.%S}.pdf")
    try:
        book.wb.Worksheets(tuple(sheets)).ExportAsFixedFormat(0, str(pdf), 0, True, False)
    except Exception as e:  # noqa: BLE001 - the forms are written; only the PDF failed
        return f"单据已生成，但没有另存为 PDF（{type(e).__name__}: {e}）；可用 Ctrl+P 打印。"
    return f"{len(sheets)} 份单据已另存为 PDF：{pdf}"


def failure_text(job: str, error: BaseException, log: Path | None, backup: Path | None = None) -> str:
    """The message box for a job that failed (Chinese): what failed, what to do, where the
    details are."""
    from pyfuncs.jobs import RIBBON_JOBS

    label = next((k for k, v in RIBBON_JOBS.items() if v == job), job)
    detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
    lines = [f"「{label}」没有完成：程序出错（{type(error).__name__}{'：' + detail if detail else ''}）。",
             "工作簿可能已被改动了一部分。Excel 无法撤销宏所做的修改：如需回到原样，请关闭工作簿且不保存，"
             "然后重新打开再试。"]
    if backup is not None:
        lines.append(f"作业开始前的工作簿已备份为：{backup}")
    if log is not None:
        lines.append(f"错误详情已记录在：{log}\n请把这个文件发给维护人员。")
    else:
        lines.append("错误详情无法写入日志文件，请截图此窗口发给维护人员。")
    return "\n".join(lines)


def run(job: str, **options: Any):
    """Run job ``job`` on the calling workbook and show the outcome; returns the JobResult
    (None when the job was refused or failed: staff then saw why in a message box)."""
    from pyfuncs.io.book import BookError
    from pyfuncs.jobs import JobOptions

    book = _book()
    today = dt.date.today()
    opts = JobOptions(today=today, year=options.pop("year", None) or today.year,
                      selection=options.pop("selection", []), extra=options)
    result = bak = None
    note = ""
    try:
        with book.busy():
            bak, note = backup_before_job(book, job)
            result = importlib.import_module(f"pyfuncs.jobs.{job}").run(book, opts)
            listed = job == "check"
            if job != "check" and len(result.problems) > SHOWN:
                from pyfuncs.jobs.check import write_result_sheet

                write_result_sheet(book, result.problems, today)
                listed = True
        text, mode = message_text(result, listed_on_sheet=listed), "info"
        if job == "forms":
            text += "\n\n" + forms_pdf(book, result)
        if note:
            text += "\n\n" + note
    except BookError as e:
        result, text, mode = None, str(e), "critical"
    except Exception as e:  # noqa: BLE001 - staff get a message; the traceback goes to the log
        result, text, mode = None, failure_text(job, e, log_failure(job, book, e), bak), "critical"
    _alert(book, text, mode)
    return result


def selected_rows(xw_book) -> list[int]:
    """Excel rows of the current selection (every area), at most 200."""
    try:
        area = xw_book.selection
        rows = sorted({r for a in area.api.Areas for r in range(a.Row, a.Row + a.Rows.Count)})
    except Exception:  # noqa: BLE001 - Mac/other: one area
        try:
            area = xw_book.selection
            rows = list(range(area.row, area.last_cell.row + 1))
        except Exception:  # noqa: BLE001
            rows = []
    return rows[:200]


def forms_selection(book, sheet: str, rows: list[int], today: dt.date) -> list[str]:
    """打印回访单's items (``plan:2026:12``, ``repair:BX2026-0001``, ``notice:P001:2026-03``) for
    the rows staff selected on a plan sheet, 报修台账 or 保修条款; [] elsewhere (the job then
    prints this month's plan rows)."""
    from pyfuncs.schema import TABLES
    from pyfuncs.tables import read_table

    if sheet.startswith("回访计划") and sheet[4:].isdigit():
        return [f"plan:{sheet[4:]}:{r}" for r in rows if r > 3]
    if sheet == TABLES["repairs"].sheet:
        f = read_table(book, TABLES["repairs"])
        return [f"repair:{f.df.at[r, 'ticket_id']}" for r in rows
                if r in f.df.index and f.df.at[r, "ticket_id"] is not None]
    if sheet == TABLES["terms"].sheet:
        f = read_table(book, TABLES["terms"])
        out = []
        for r in rows:
            if r in f.df.index and f.df.at[r, "project_id"] is not None:
                end = f.df.at[r, "end"]
                month = f"{end:%Y-%m}" if end is not None and end == end else f"{today:%Y-%m}"
                item = f"notice:{f.df.at[r, 'project_id']}:{month}"
                if item not in out:
                    out.append(item)
        return out
    return []


def plan():
    """生成年度回访计划 (this year's plan)."""
    return run("plan")


def refresh():
    """刷新台账."""
    return run("refresh")


def visits():
    """登记回访."""
    return run("visits")


def report():
    """统计报表."""
    return run("report")


def forms():
    """打印回访单: for the rows selected on a plan sheet, 报修台账 or 保修条款."""
    book = _book()
    items = forms_selection(book, book.xb.sheets.active.name, selected_rows(book.xb), dt.date.today())
    return run("forms", selection=items)


def check():
    """数据检查: the list goes to the 检查结果 sheet."""
    return run("check", sheet=True)


def cases():
    """案例库."""
    return run("cases")


def selftest():
    """自检."""
    import xlwings as xw

    st = importlib.import_module("pyfuncs.selftest")
    wb = xw.Book.caller()
    report = st.run_selftest(wb)
    from pyfuncs.io.xlbook import XlBook

    _alert(XlBook(wb), f"自检完成：{report.summary()}\n详见“自检结果”工作表。")
    return report


def todo():
    """本周待办: the 待办 sheet, next 7 days, everybody."""
    return run("todo")


def project():
    """项目档案 of the project on the active cell's row (a ledger, a plan, 待办 or a project's file)."""
    from pyfuncs.jobs.project import project_at

    book = _book()
    sheet = book.xb.sheets.active.name
    rows = selected_rows(book.xb)
    pid = project_at(book, sheet, rows[0]) if rows else None
    if not pid:
        _alert(book, f"「{sheet}」的当前行没有项目编号。请先在项目台账、保修条款、报修台账、回访记录、"
                     "回访计划或待办中点选某个项目所在的行，再点「项目档案」。")
        return None
    result = run("project", selection=[pid])
    if result is not None and result.summary.get("sheets"):
        try:
            book.xb.sheets[result.summary["sheets"][0]].activate()
        except Exception:  # noqa: BLE001 - showing the sheet is a courtesy
            pass
    return result


def open_summary(show: bool | None = None) -> str | None:
    """The on-open summary (ThisWorkbook's Workbook_Open, when 设置「打开时显示待办摘要」is 是): the
    to-do counts on Excel's status bar, no message box, nothing written to the workbook. Returns
    the text shown (None when the setting is off or the workbook cannot be read)."""
    from pyfuncs.jobs.todo import gather, load, summary_text
    from pyfuncs.tables import read_settings

    book = _book()
    try:
        settings, _ = read_settings(book)
        if not (settings.open_summary if show is None else show):
            return None
        d, _ = load(book, dt.date.today())
        text = summary_text(gather(d), d.days)
    except Exception as e:  # noqa: BLE001 - opening the workbook must never end in an error box
        log_failure("open_summary", book, e)
        return None
    book.set_status(text)
    return text


# ---- 恢复上一版 (not a job on the open Book: it works on the workbook's file and its backups) -------
#: where the ribbon puts the read-only copy of a backup it opens (never the backup itself)
BACKUP_COPIES = "aftercare-备份副本"


def restore():
    """恢复上一版: list this workbook's backups and open the newest as a read-only copy.

    Excel has this workbook open, so its file cannot be replaced under it (on Windows the open
    file is locked, and closing the workbook whose VBA is running the button is not safe). So the
    button does the safe half in Excel: it shows the backups (newest first, time and size) and
    opens the newest as a read-only copy beside the workbook's window, to compare and copy from.
    Putting a whole version back is ``aftercare restore FILE`` once the workbook is closed (the
    message says so, with the file's path): it backs up the current file first, so it can be undone.
    """
    import xlwings as xw

    return restore_in_excel(xw.Book.caller())


def restore_in_excel(xb, *, copies: "str | None" = None):
    """:func:`restore` on an xlwings Book (``copies``: the folder for the read-only copy, default
    the temp folder's ``aftercare-备份副本``). Returns the copy opened, or None."""
    import shutil
    import tempfile
    from pathlib import Path

    from pyfuncs.io.backups import list_backups, listing

    def alert(text: str) -> None:
        try:
            xb.app.alert(text, title=TITLE)
        except Exception:  # noqa: BLE001 - no alert (e.g. some Mac setups): the status bar
            try:
                xb.app.status_bar = text.splitlines()[0]
            except Exception:  # noqa: BLE001
                pass

    try:
        path = Path(xb.fullname)
        exists = path.is_file()
    except Exception:  # noqa: BLE001 - a new, never saved workbook has no file
        path, exists = None, False
    backups = list_backups(path) if exists else []
    if not backups:
        alert((f"「{path.name}」还没有备份。" if path is not None else "这个工作簿还没有保存为文件，没有备份。")
              + "\n备份在功能区按钮运行作业之前、以及命令 aftercare 的作业保存工作簿时生成（.aftercare-backup 文件夹）。"
                "\n在 Excel 中的改动可以用“撤销”，或关闭时选“不保存”放弃。")
        return None
    newest = backups[0]
    folder = Path(copies) if copies else Path(tempfile.gettempdir()) / BACKUP_COPIES
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / f"{path.stem}（备份于 {newest.time:%Y-%m-%d %H.%M.%S}）{path.suffix}"
    try:
        if not copy.exists():
            shutil.copyfile(newest.path, copy)
        xb.app.books.open(str(copy), read_only=True, add_to_mru=False)
        opened = f"已以只读方式打开最新的一份，名为「{copy.name}」，可与当前工作簿对照并复制需要的内容。"
    except Exception as e:  # noqa: BLE001 - e.g. a copy of the same name already open
        opened = f"未能打开最新的一份（{type(e).__name__}: {e}），可直接打开 {newest.path}（请勿修改备份本身）。"
        copy = None
    shown = listing(backups[:SHOWN])
    more = [f"……另有 {len(backups) - SHOWN} 份"] if len(backups) > SHOWN else []
    alert("\n".join([f"「{path.name}」共有 {len(backups)} 份备份（最新在前）：", *shown, *more, "", opened, "",
                     "要把整个工作簿恢复为某一版：先保存并关闭本工作簿，然后在命令提示符中运行",
                     f'  aftercare restore "{path}"',
                     "（恢复最新的一份；--pick 序号 选其他份，--list 只列出）。恢复前当前文件会先备份，所以恢复可以撤销。"]))
    return copy
