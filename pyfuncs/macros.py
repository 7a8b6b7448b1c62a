"""RunPython entry points of the ribbon (macros/Ribbon.bas: ``import pyfuncs.macros as m; m.plan()``).

Each is a few lines: wrap ``xw.Book.caller()`` in :class:`~pyfuncs.io.xlbook.XlBook`, run the job
of the same name (the very code ``aftercare <job> FILE`` runs), and tell staff what happened in a
message box. Problems beyond the first few are listed on the 检查结果 sheet. Nothing here is
logic: it is all in ``pyfuncs.jobs``.
"""
from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

TITLE = "回访保修"
SHOWN = 12


def _book():
    import xlwings as xw

    from pyfuncs.io.xlbook import XlBook

    return XlBook(xw.Book.caller())


def _alert(book, text: str) -> None:
    try:
        book.xb.app.alert(text, title=TITLE)
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


def run(job: str, **options: Any):
    """Run job ``job`` on the calling workbook and show the outcome; returns the JobResult."""
    from pyfuncs.io.book import BookError
    from pyfuncs.jobs import JobOptions

    book = _book()
    today = dt.date.today()
    opts = JobOptions(today=today, year=options.pop("year", None) or today.year,
                      selection=options.pop("selection", []), extra=options)
    try:
        result = importlib.import_module(f"pyfuncs.jobs.{job}").run(book, opts)
    except BookError as e:
        _alert(book, str(e))
        return None
    except Exception as e:  # noqa: BLE001 - staff see a message, the traceback goes to xlwings' log
        _alert(book, f"程序出错，工作簿可能只更新了一部分，请检查后重试或撤销：\n{type(e).__name__}: {e}")
        raise
    finally:
        book.set_status(None)
    if job != "check" and len(result.problems) > SHOWN:
        from pyfuncs.jobs.check import write_result_sheet

        write_result_sheet(book, result.problems, today)
        _alert(book, message_text(result, listed_on_sheet=True))
    else:
        _alert(book, message_text(result, listed_on_sheet=job == "check"))
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


def selftest():
    """自检."""
    import xlwings as xw

    st = importlib.import_module("pyfuncs.selftest")
    wb = xw.Book.caller()
    report = st.run_selftest(wb)
    from pyfuncs.io.xlbook import XlBook

    _alert(XlBook(wb), f"自检完成：{report.summary()}\n详见“自检结果”工作表。")
    return report
