"""打印回访单 (``forms``): 工程回访单, 保修(维修)单 and 保修期满通知书, filled from the tables.

The layouts are in ``pyfuncs/resources/templates/forms.toml`` (the editable, diffable source); :func:`render_form`
turns a template and a dict of fields into a :class:`~pyfuncs.layout.Layout` (A4 portrait,
one page). Each form becomes a sheet of the workbook (``回访单-P001-2026-03``,
``维修单-BX2026-0001``, ``期满通知-P001-2026-03``; a rerun replaces the sheet of the same name),
or, with ``opts.extra["out"]`` = a folder, one ``.xlsx`` file per form there.

What to print (``opts.selection``; the command line passes its arguments through):

- ``visit:P001:2026-03`` — the 工程回访单 of P001's plan row in March 2026 (the plan sheet
  ``回访计划2026``); if a 回访记录 row of that project and month exists, what it recorded (date,
  people, problems, satisfaction, handling, ticket) is printed too;
- ``plan:2026:12`` — the plan row in Excel row 12 of ``回访计划2026`` (its 回访单, and its
  保修期满通知书 when the visit is a 保修期满前回访);
- ``notice:P001:2026-03`` — the 保修期满通知书 for P001's parts whose warranty ends from that month
  to ``期满前回访提前月数`` months after it;
- ``repair:BX2026-0001`` or just ``BX2026-0001`` — the 保修(维修)单 of that ticket.

An item that names nothing (no such ticket, project or plan visit) is an error problem; with
``opts.extra["strict"]`` (the command line) no form at all is written then.

No selection: every plan row of the current month (``--today``), with the notices they need.
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pyfuncs.core.callbacks import four_new_text
from pyfuncs.jobs._common import is_blank
from pyfuncs.jobs import JobOptions, JobResult, Problem
from pyfuncs.layout import Layout, fit_row_heights

TEMPLATES = ("templates", "forms.toml")  # pyfuncs/resources/templates/forms.toml (package data)
SAT_LEVELS = ("很满意", "满意", "基本满意", "不太满意", "不满意")
JOB_SHEET = "打印回访单"
_FIELD = re.compile(r"\{(\.?[A-Za-z_][A-Za-z0-9_]*)\}")


def load_templates(path: str | Path | None = None) -> dict[str, Any]:
    if path is None:
        from pyfuncs.resources import load_toml

        return load_toml(*TEMPLATES)
    with open(path, "rb") as f:
        return tomllib.load(f)


def show(v: Any) -> str:
    """A value as printed: dates as YYYY-MM-DD, whole floats without .0, blank as ''."""
    if is_blank(v):
        return ""
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        v = pd.Timestamp(v).to_pydatetime()
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ", timespec="minutes")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def fill(text: str, fields: dict[str, Any], item: dict[str, Any] | None = None) -> str:
    def sub(m):
        key = m.group(1)
        if key.startswith("."):
            return show((item or {}).get(key[1:]))
        return show(fields.get(key))

    return _FIELD.sub(sub, text)


def render_form(kind: str, fields: dict[str, Any], templates: dict[str, Any] | None = None) -> Layout:
    """The form ``kind`` (visit / repair / notice) with ``fields`` filled in. Pure."""
    templates = templates or load_templates()
    t = templates[kind]
    fields = dict(fields)
    if is_blank(fields.get("company")):
        fields["company"] = templates.get("company", "")
    ncol = len(t["widths"])
    lay = Layout(sheet_name(kind, fields, templates), orientation="portrait", fit_width=True, fit_height=True,
                 footer="", margins=(0.6, 0.6, 0.7, 0.6))
    for c, w in enumerate(t["widths"], start=1):
        lay.widths[c] = w
    r = 1
    for row in t["rows"]:
        items = [None]
        if "repeat" in row:
            items = list(fields.get(row["repeat"]) or [])
            items += [{}] * max(0, int(row.get("min", 0)) - len(items))
        for item in items:
            c = 1
            for text, span, style in row["cells"]:
                lay.put(r, c, fill(text, fields, item) or None, style)
                for k in range(1, span):
                    lay.put(r, c + k, None, style)
                lay.merge(r, c, r, c + span - 1)
                c += span
            if c - 1 != ncol:
                raise ValueError(f"templates/forms.toml [{kind}]: a row spans {c - 1} columns, not {ncol}")
            if row.get("height"):
                lay.heights[r] = row["height"]
            r += 1
    from pyfuncs.io.book import col_letter

    lay.print_area = f"A1:{col_letter(ncol)}{r - 1}"
    fit_row_heights(lay)
    return lay


def sheet_name(kind: str, fields: dict[str, Any], templates: dict[str, Any]) -> str:
    name = fill(templates[kind]["sheet"], fields)
    return re.sub(r"[\[\]:*?/\\]", "-", name)[:31]


# --- fields ------------------------------------------------------------------------------------
def satisfaction_boxes(level: Any) -> str:
    lv = show(level)
    return "    ".join(("■" if lv == x else "□") + x for x in SAT_LEVELS)


def project_fields(project: dict[str, Any]) -> dict[str, Any]:
    keys = ("project_id", "name", "client", "city", "contact", "phone", "accepted", "manager", "visit_owner")
    return {k: project.get(k) for k in keys}


def visit_fields(plan_row: dict[str, Any], project: dict[str, Any], record: dict[str, Any] | None = None,
                 open_tickets: list[str] | None = None) -> dict[str, Any]:
    d = plan_row.get("date")
    d = pd.Timestamp(d).date() if not is_blank(d) else None
    f = project_fields(project)
    f.update({
        "ym": f"{d.year}-{d.month:02d}" if d else "",
        "form_no": f"HFD-{plan_row.get('project_id')}-{d:%Y%m}" if d else "",
        "plan_date": d, "kinds": plan_row.get("kind"), "parts": plan_row.get("parts"),
        "reasons": plan_row.get("reasons"),
        "four_new": four_new_text(project.get("four_new")) or "无",
        "way": plan_row.get("way"), "visitor": plan_row.get("owner"),
        "open_tickets": "；".join(open_tickets or []) or "无",
        "satisfaction_boxes": satisfaction_boxes(None),
    })
    if record:
        f.update({
            "visit_date": record.get("date"), "way": record.get("way") or f["way"],
            "visitor": record.get("visitor") or f["visitor"], "met": record.get("met"),
            "problems": record.get("problems"), "handling": record.get("handling"),
            "ticket_id": record.get("ticket_id"), "next_date": record.get("next_date"),
            "seen": record.get("note"),
            "satisfaction_boxes": satisfaction_boxes(record.get("satisfaction")),
        })
        if not is_blank(record.get("visit_id")):
            f["form_no"] = record.get("visit_id")
    return f


def repair_fields(ticket: dict[str, Any], project: dict[str, Any], settings) -> dict[str, Any]:
    f = project_fields(project)
    f.update({k: v for k, v in ticket.items() if k not in ("name", "client", "city")})
    # the ticket's own 联系电话 wins over the project's; 验收日期 prints in 用户签认
    f["phone"] = ticket.get("phone") if not is_blank(ticket.get("phone")) else project.get("phone")
    f["accepted"] = ticket.get("accepted")
    if is_blank(f.get("discipline")) and not is_blank(f.get("part")):
        from pyfuncs.core.parts import PART_DISCIPLINE

        f["discipline"] = PART_DISCIPLINE.get(str(f["part"]).strip())
    agreed = project.get("dispatch_days")
    f["clock_days"] = settings.clock_days if is_blank(agreed) else int(agreed)  # the contract's, if agreed
    f["cost"] = ticket.get("cost")
    return f


def notice_fields(project: dict[str, Any], ending: list[dict[str, Any]], open_tickets: list[str],
                  issue_date: dt.date, ym: str) -> dict[str, Any]:
    f = project_fields(project)
    f.update({
        "ym": ym, "form_no": f"QM-{project.get('project_id')}-{ym.replace('-', '')}",
        "ending": ending, "issue_date": f"{issue_date.year}年{issue_date.month}月{issue_date.day}日",
        "open_summary": ("无。" if not open_tickets else f"{len(open_tickets)} 项（" + "；".join(open_tickets)
                         + "），我公司将在保修期满前处理完毕。"),
    })
    return f


def parse_selection(items: list[str]) -> tuple[list[tuple[str, tuple]], list[str]]:
    """``['visit:P001:2026-03', 'BX2026-0001', ...]`` → ([(kind, args)], [bad items])."""
    out, bad = [], []
    for raw in items:
        s = str(raw).strip()
        m = re.fullmatch(r"(visit|notice):([^:]+):(\d{4})-(\d{1,2})", s)
        if m:
            out.append((m.group(1), (m.group(2).strip(), int(m.group(3)), int(m.group(4)))))
            continue
        m = re.fullmatch(r"plan:(\d{4}):(\d+)", s)
        if m:
            out.append(("plan", (int(m.group(1)), int(m.group(2)))))
            continue
        m = re.fullmatch(r"repair:(.*\S.*)", s) or re.fullmatch(r"(\S+-\d+)", s)
        if m and not s.startswith(("visit:", "notice:", "plan:")):
            out.append(("repair", (m.group(1).strip(),)))
            continue
        bad.append(s)
    return out, bad


# --- the job -----------------------------------------------------------------------------------
def run(book, opts: JobOptions) -> JobResult:
    from pyfuncs.core.clock import payer, repair_due
    from pyfuncs.jobs._common import settings_and_calendar, terms_with_ends
    from pyfuncs.jobs.plan import read_plan
    from pyfuncs.schema import TABLES
    from pyfuncs.core.parts import PART_LABELS

    result = JobResult("forms")
    templates = load_templates(opts.extra.get("templates"))
    settings, calendar, problems = settings_and_calendar(book)
    result.problems += [p for p in problems if p.level != "错误"]
    from pyfuncs.tables import read_table

    frames = {k: read_table(book, TABLES[k]) for k in ("projects", "terms", "repairs", "visits")}
    projects = frames["projects"].df
    company = getattr(settings, "company", None) or templates.get("company", "")
    proj = {}
    for _, p in projects.iterrows():
        if not is_blank(p["project_id"]) and p["project_id"] not in proj:
            proj[str(p["project_id"]).strip()] = p.to_dict()
    repairs = frames["repairs"].df
    # open as the ledger counts it (the core's one definition: no 完成/验收日期, 状态 not closed)
    from pyfuncs.core.clock import ticket_clock

    def _days(key):
        return repairs[key].to_numpy(dtype="datetime64[s]").astype("datetime64[D]")

    open_mask = pd.Series(ticket_clock(_days("notice"), None, arrivals=_days("arrival"), done=_days("done"),
                                       accepted=_days("accepted"), signed=repairs["signed"].to_numpy(dtype=object),
                                       states=repairs["state"].to_numpy(dtype=object), as_of=opts.today).open,
                          index=repairs.index) if len(repairs) else pd.Series(dtype=bool)

    def open_tickets(pid: str) -> list[str]:
        sel = repairs[(repairs["project_id"] == pid) & open_mask]
        return [f"{show(t.ticket_id) or '(未编号)'} {show(t.part)} {show(t.problem)}".strip() for t in sel.itertuples()]

    plans: dict[int, Any] = {}

    def plan_of(year: int):
        if year not in plans:
            plans[year] = read_plan(book, year)
        return plans[year]

    visits = frames["visits"].df
    terms, _ = terms_with_ends(projects, frames["terms"].df, settings)

    def record_for(pid: str, y: int, m: int):
        if visits.empty:  # (an empty date column maps to a datetime Series: nothing to combine)
            return None
        sel = visits[(visits["project_id"] == pid)
                     & visits["date"].map(lambda d: not pd.isna(d) and (d.year, d.month) == (y, m))]
        return sel.iloc[-1].to_dict() if len(sel) else None

    layouts: list[Layout] = []

    def add_visit(pid: str, prow: dict):
        p = proj.get(pid)
        if p is None:
            result.problems.append(Problem(plan_table_sheet(prow), None, "项目编号", f"项目「{pid}」不在项目台账中"))
            return
        d = pd.Timestamp(prow["date"]).date()
        f = visit_fields(prow, p, record_for(pid, d.year, d.month), open_tickets(pid))
        layouts.append(render_form("visit", {**f, "company": company}, templates))
        if "保修期满前回访" in show(prow.get("kind")):
            add_notice(pid, d.year, d.month)

    def add_notice(pid: str, y: int, m: int):
        p = proj.get(pid)
        if p is None:
            result.problems.append(Problem(JOB_SHEET, None, None, f"项目「{pid}」不在项目台账中"))
            return
        lo = dt.date(y, m, 1)
        hi = (pd.Timestamp(lo) + pd.DateOffset(months=1 + settings.expiry_visit_months_before) - pd.Timedelta(days=1)).date()
        t = terms[(terms["project_id"] == pid) & terms["end"].notna()]
        t = t[t["end"].map(lambda e: lo <= pd.Timestamp(e).date() <= hi)]
        order = {x: i for i, x in enumerate(PART_LABELS)}
        t = t.assign(_o=t["part"].map(lambda x: order.get(x, 99))).sort_values(["end", "_o"])
        ending = [{"part": r.part, "term": r.term_used or show(r.term), "start": pd.Timestamp(r.start_eff).date(),
                   "end": pd.Timestamp(r.end).date(),
                   "note": "" if is_blank(r.term) else f"约定{show(r.term)}"} for r in t.itertuples()]
        if not ending:
            result.problems.append(Problem(TABLES["terms"].sheet, None, None,
                                           f"项目「{pid}」在 {y}-{m:02d} 至 {hi:%Y-%m} 没有到期的保修部位，未生成保修期满通知书", "提示"))
            return
        f = notice_fields(p, ending, open_tickets(pid), opts.today, f"{y}-{m:02d}")
        layouts.append(render_form("notice", {**f, "company": company}, templates))

    def plan_rows(year: int):
        fr = plan_of(year)
        return None if fr is None else fr.plan

    def plan_table_sheet(prow):
        return f"回访计划{pd.Timestamp(prow['date']).year}"

    selection, bad = parse_selection(list(opts.selection))
    for b in bad:
        result.problems.append(Problem(JOB_SHEET, None, None,
                                       f"无法识别的选择「{b}」（应为 visit:项目编号:YYYY-MM、plan:年份:行号、notice:项目编号:YYYY-MM 或报修单号）"))
    if not opts.selection:
        y, m = opts.today.year, opts.today.month
        pr = plan_rows(y)
        if pr is None:
            result.problems.append(Problem(f"回访计划{y}", None, None, f"还没有{y}年度回访计划，请先生成年度回访计划", "提示"))
        else:
            for _, row in pr.iterrows():
                d = row["date"]
                if isinstance(d, dt.date) and (d.year, d.month) == (y, m):
                    selection.append(("plan", (y, int(row.name))))
    for kind, args in selection:
        if kind == "visit":
            pid, y, m = args
            pr = plan_rows(y)
            hit = None if pr is None else pr[(pr["project_id"].map(show) == pid) & pr["date"].map(
                lambda d: isinstance(d, dt.date) and (d.year, d.month) == (y, m))]
            if hit is None or not len(hit):
                result.problems.append(Problem(f"回访计划{y}", None, None, f"回访计划中没有项目「{pid}」{y}年{m}月的回访"))
                continue
            add_visit(pid, hit.iloc[0].to_dict())
        elif kind == "plan":
            y, row = args
            pr = plan_rows(y)
            if pr is None or row not in pr.index or not isinstance(pr.at[row, "date"], dt.date):
                result.problems.append(Problem(f"回访计划{y}", row, None, "这一行不是回访计划行，已跳过", "提示"))
                continue
            add_visit(show(pr.at[row, "project_id"]), pr.loc[row].to_dict())
        elif kind == "notice":
            pid, y, m = args
            add_notice(pid, y, m)
        elif kind == "repair":
            (tid,) = args
            hit = repairs[repairs["ticket_id"].map(show) == tid]
            if not len(hit):
                result.problems.append(Problem(TABLES["repairs"].sheet, None, "报修单号", f"没有报修单「{tid}」"))
                continue
            t = hit.iloc[0].to_dict()
            p = proj.get(show(t["project_id"]), {"project_id": t["project_id"]})
            if is_blank(t.get("due")) and not is_blank(t.get("notice")):
                agreed = p.get("dispatch_days")
                due, _ = repair_due(np.array([t["notice"]], dtype="datetime64[D]"), [t.get("urgency")], None,
                                    settings, calendar, [None if is_blank(agreed) else agreed])
                t["due"] = due[0]
            if is_blank(t.get("in_warranty")) and not is_blank(t.get("notice")):
                ends = terms[(terms["project_id"] == show(t["project_id"])) & (terms["part"] == t.get("part"))]["end"]
                if len(ends) and not pd.isna(ends.iloc[0]):
                    t["in_warranty"] = "是" if pd.Timestamp(t["notice"]) <= pd.Timestamp(ends.iloc[0]) else "否"
            if is_blank(t.get("payer")) and not is_blank(t.get("in_warranty")):
                t["payer"] = payer([t.get("cause")], [t["in_warranty"]])[0]
            layouts.append(render_form("repair", {**repair_fields(t, p, settings), "company": company}, templates))

    if opts.extra.get("strict") and not result.ok:
        # the command line: an item that names nothing (an unknown ticket or project, a bad
        # item) is a wrong argument, so nothing is written at all
        result.summary = {"forms": [], "count": 0}
        result.messages.append("所选的项中有错误（见下面的问题），没有生成任何表单")
        return result
    # one form per sheet name (a selection may name the same form twice)
    unique: dict[str, Layout] = {}
    for lay in layouts:
        unique.setdefault(lay.name, lay)
    out = opts.extra.get("out")
    written = []
    if out:
        import openpyxl

        from pyfuncs.io.layout_openpyxl import render

        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        for name, lay in unique.items():
            wb = openpyxl.Workbook()
            ws = wb.active
            ws.title = name
            render(ws, lay)
            target = folder / f"{name}.xlsx"
            wb.save(target)
            written.append(str(target))
    else:
        for name, lay in unique.items():
            book.put_sheet(lay)
            written.append(name)
    result.summary = {"forms": written, "count": len(written)}
    result.messages.append(f"生成了 {len(written)} 份表单" + (f"（文件夹 {out}）" if out else "（每份一个工作表）")
                           + ("：" + "、".join(Path(w).stem if out else w for w in written) if written else ""))
    return result
