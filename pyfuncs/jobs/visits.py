"""登记回访 (``visits``): register new rows of 回访记录.

For every row of 回访记录 whose 登记状态 is blank (a new row):

- give it a 回访编号 ``HF2026-0001`` (HF + the visit's year + a running number that never reuses a
  number already in the column);
- mark the matching plan row done in ``回访计划YYYY``: same 项目编号, a not-yet-done row (状态 blank
  or 未回访, 实际回访日期 blank) in the same month, else the nearest not-done planned visit within
  one month either side. Only blank cells are written (状态=已回访, 实际回访日期=回访日期);
- decide whether the visit opens a repair ticket (:func:`pyfuncs.core.findings.decide`):
  是否发现问题 是 → yes, 否 → no; blank → the text of 发现问题 is read (the usual ways of saying
  "no problem" — 无、没有问题、使用正常、一切正常，业主满意 … — open none; a description of a
  defect opens one); a 不太满意/不满意 rating always opens one. A text that cannot be told
  (「基本正常」「无明显问题，建议清理落水口」) opens none on a guess: the row is listed as a hint
  and its 登记状态 says ``待确认 …``; once staff fill 是否发现问题, the next run finishes it
  (only the ticket decision: its 回访编号 and plan row are kept);
- a ticket: 报修单号 numbered like refresh (``BX2026-0001``: settings' prefix, the 报修日期's
  year, the next number never used), 报修日期=回访日期, 问题描述, 保修部位 and 专业 from 问题部位
  and 专业, 紧急程度 一般, 原因分类 待查, 状态 待派工, 报修人=受访人, 联系电话 from the ledger,
  来源回访=回访编号; the new 报修单号 goes into the visit row (only if blank) — linked both ways.
  A visit that already names a ticket in 报修单号 opens none; that ticket's 来源回访 is filled if
  blank;
- set 登记状态 to ``已登记 YYYY-MM-DD`` (the run's date, so a rerun with the same --today writes
  the same cells, and registered rows are never registered twice).

On every row, 专业 is filled where blank from 问题部位 (:data:`pyfuncs.core.parts.PART_DISCIPLINE`).

Rows with a bad or missing 回访日期 or an unknown 项目编号 are reported as problems (sheet, row,
column) and skipped; the other rows are processed.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from dateutil.relativedelta import relativedelta

from pyfuncs.core.dates import to_date
from pyfuncs.core.findings import Decision, LOW_RATINGS, NONE, classify, decide
from pyfuncs.core.parts import PART_DISCIPLINE
from pyfuncs.core.settings import Settings
from pyfuncs.jobs._common import cell_text, is_blank
from pyfuncs.jobs import JobOptions, JobResult, Problem
from pyfuncs.schema import REPAIRS, VISITS

DONE_STATE = "已回访"
REGISTERED = "已登记"
PENDING = "待确认"
OPEN_PLAN_STATES = ("", "未回访")


def next_numbers(existing: list[Any], prefix: str, year: int, count: int) -> list[str]:
    """``count`` new ids ``{prefix}{year}-NNNN`` after the highest number already used for that
    prefix and year in ``existing`` (numbers are never reused, gaps are not filled).

    >>> next_numbers(["BX2026-0007", "BX2025-0100", "x"], "BX", 2026, 2)
    ['BX2026-0008', 'BX2026-0009']
    """
    pat = re.compile(rf"^{re.escape(prefix)}{year}-(\d+)$")
    top = 0
    for v in existing:
        m = pat.match(cell_text(v))
        if m:
            top = max(top, int(m.group(1)))
    return [f"{prefix}{year}-{top + i:04d}" for i in range(1, count + 1)]


class _Counter:
    """Hands out ids per (prefix, year), continuing after what ``existing`` holds."""

    def __init__(self, existing: list[Any], prefix: str):
        self.existing = list(existing)
        self.prefix = prefix

    def take(self, year: int) -> str:
        new = next_numbers(self.existing, self.prefix, year, 1)[0]
        self.existing.append(new)
        return new


class _TicketCounter(_Counter):
    """Ticket ids exactly as 刷新台账 assigns them (one implementation: refresh.next_ticket_ids)."""

    def take(self, year: int) -> str:
        from pyfuncs.jobs.refresh import next_ticket_ids

        new = next_ticket_ids(self.existing, [year], self.prefix)[0]
        self.existing.append(new)
        return new


def wants_ticket(problems: Any, satisfaction: Any, found: Any = None) -> bool:
    """Whether a visit row opens a repair ticket (:func:`pyfuncs.core.findings.decide`)."""
    return decide(found, problems, satisfaction).ticket


def _ticket_text(problems: Any, satisfaction: Any, decision: Decision) -> str:
    text = cell_text(problems)
    if text and classify(text) != NONE:
        if cell_text(satisfaction) in LOW_RATINGS:
            return f"{text}（回访满意度：{cell_text(satisfaction)}）"
        return text
    if decision.reason.startswith("是否发现问题"):
        return "回访发现问题（未写明，请补充问题描述）"
    return f"回访满意度：{cell_text(satisfaction)}"


@dataclass
class Registration:
    """What :func:`register` decided; ``run`` writes it."""

    visit_cells: dict[int, dict[str, Any]] = field(default_factory=dict)      # visit row → {key: value}
    plan_cells: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)  # year → row → {key: value}
    new_tickets: list[dict[str, Any]] = field(default_factory=list)          # 报修台账 rows (schema keys)
    ticket_cells: dict[int, dict[str, Any]] = field(default_factory=dict)    # existing ticket row → {key: value}
    problems: list[Problem] = field(default_factory=list)
    registered: int = 0
    plan_marked: int = 0
    unmatched: list[str] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)   # visit rows waiting for 是否发现问题
    discipline: dict[int, str] = field(default_factory=dict)  # visit row → 专业 to fill (blank cells)


def _plan_index(plans: dict[int, pd.DataFrame]) -> dict[str, list[tuple[int, int, dt.date]]]:
    """项目编号 → [(year, Excel row, planned date)] of the plan rows not yet done."""
    out: dict[str, list[tuple[int, int, dt.date]]] = {}
    for year, plan in plans.items():
        if plan is None or plan.empty:
            continue
        for row, pid, state, actual, date in zip(plan.index, plan["project_id"], plan["state"],
                                                 plan["actual"], plan["date"]):
            if cell_text(state) not in OPEN_PLAN_STATES or not is_blank(actual):
                continue
            try:
                d = to_date(date)
            except ValueError:
                continue
            if d is not None:
                out.setdefault(cell_text(pid), []).append((year, int(row), d))
    return out


def _find_plan_row(index: dict[str, list[tuple[int, int, dt.date]]], pid: str, day: dt.date,
                   taken: set[tuple[int, int]]) -> tuple[int, int] | None:
    """(year, Excel row) of the plan row this visit fulfils: same month first, else the nearest
    within one month either side; None if there is none."""
    lo, hi = day - relativedelta(months=1), day + relativedelta(months=1)
    best = None
    for year, row, planned in index.get(pid, ()):
        if (year, row) in taken:
            continue
        same_month = (planned.year, planned.month) == (day.year, day.month)
        if not same_month and not (lo <= planned <= hi):
            continue
        rank = (0 if same_month else 1, abs((planned - day).days), planned)
        if best is None or rank < best[0]:
            best = (rank, (year, row))
    return best[1] if best else None


def register(visits: pd.DataFrame, projects: pd.DataFrame, plans: dict[int, pd.DataFrame],
             repairs: pd.DataFrame, settings: Settings, today: dt.date,
             skip: set[int] | frozenset = frozenset()) -> Registration:
    """Decide everything for the new rows (登记状态 blank) of ``visits`` (the whole table, indexed
    by Excel row, so numbers already used are never handed out again). Rows in ``skip`` (already
    reported as bad) are left alone. Pure."""
    out = Registration()
    sheet = VISITS.sheet
    h = {c.key: c.header for c in VISITS.columns}
    known = {}
    for _, p in projects.iterrows():
        pid = cell_text(p.get("project_id"))
        if pid and pid not in known:
            known[pid] = p
    visit_ids = _Counter(list(visits.get("visit_id", pd.Series(dtype=object))), "HF")
    ticket_ids = _TicketCounter(
        list(repairs.get("ticket_id", pd.Series(dtype=object)))
        + list(visits.get("ticket_id", pd.Series(dtype=object))),
        settings.ticket_prefix,
    )
    ticket_rows = {}
    for row, r in repairs.iterrows():
        tid = cell_text(r.get("ticket_id"))
        if tid and tid not in ticket_rows:
            ticket_rows[tid] = row
    taken: set[tuple[int, int]] = set()
    plan_index = _plan_index(plans)
    stamp = f"{REGISTERED} {today.isoformat()}"
    for row, v in visits.iterrows():
        part = cell_text(v.get("part"))
        if is_blank(v.get("discipline")) and part in PART_DISCIPLINE:
            out.discipline[int(row)] = PART_DISCIPLINE[part]
        status = cell_text(v.get("registered"))
        pending = status.startswith(PENDING)
        if (status and not pending) or row in skip:
            continue
        if all(is_blank(v.get(k)) for k in ("date", "project_id", "problems", "satisfaction", "visitor")):
            continue  # an empty row inside the table
        bad = False
        try:
            day = to_date(v.get("date"))
            if day is None:
                out.problems.append(Problem(sheet, int(row), h["date"], "回访日期为空，本行未登记"))
                bad = True
        except ValueError as e:
            out.problems.append(Problem(sheet, int(row), h["date"], f"回访日期无效（{e}），本行未登记"))
            bad = True
        pid = cell_text(v.get("project_id"))
        if not pid:
            out.problems.append(Problem(sheet, int(row), h["project_id"], "项目编号为空，本行未登记"))
            bad = True
        elif pid not in known:
            out.problems.append(Problem(sheet, int(row), h["project_id"],
                                        f"项目编号「{pid}」不在项目台账中，本行未登记"))
            bad = True
        if bad:
            continue
        cells: dict[str, Any] = {}
        vid = cell_text(v.get("visit_id")) or visit_ids.take(day.year)
        cells["visit_id"] = vid
        # plan row (a row waiting for 是否发现问题 found its plan row on its first run)
        hit = None if pending else _find_plan_row(plan_index, pid, day, taken)
        if hit:
            taken.add(hit)
            year, prow = hit
            pr = plans[year].loc[prow]
            pc = {}
            if cell_text(pr.get("state")) in OPEN_PLAN_STATES:
                pc["state"] = DONE_STATE
            if is_blank(pr.get("actual")):
                pc["actual"] = day
            if pc:
                out.plan_cells.setdefault(year, {})[prow] = pc
                out.plan_marked += 1
        elif not pending:
            out.unmatched.append(f"{pid} {day.isoformat()}")
        # ticket
        own = cell_text(v.get("ticket_id"))
        decision = decide(v.get("found"), v.get("problems"), v.get("satisfaction"))
        if own:
            trow = ticket_rows.get(own)
            if trow is not None and is_blank(repairs.loc[trow].get("visit_ref")):
                out.ticket_cells[trow] = {"visit_ref": vid}
        elif decision.ticket:
            tid = ticket_ids.take(day.year)
            p = known[pid]
            discipline = cell_text(v.get("discipline")) or PART_DISCIPLINE.get(part)
            out.new_tickets.append({
                "ticket_id": tid,
                "project_id": pid,
                "notice": day,
                "reporter": cell_text(v.get("met")) or cell_text(p.get("contact")),
                "phone": cell_text(p.get("phone")),
                "part": part or None,
                "discipline": discipline or None,
                "problem": _ticket_text(v.get("problems"), v.get("satisfaction"), decision),
                "urgency": "一般",
                "cause": "待查",
                "state": "待派工",
                "visit_ref": vid,
            })
            cells["ticket_id"] = tid
        elif decision.unclear:
            msg = (f"{decision.reason}，未开报修单；请在「{h['found']}」列填写是或否，"
                   "再运行“登记回访”（填“是”时开报修单）")
            out.problems.append(Problem(sheet, int(row), h["found"], msg, "提示"))
            out.pending.append(int(row))
            cells["registered"] = f"{PENDING} {today.isoformat()}：请填写{h['found']}"
            out.visit_cells[int(row)] = cells
            continue
        cells["registered"] = stamp
        out.visit_cells[int(row)] = cells
        out.registered += 1
    return out


# --- the job ----------------------------------------------------------------------------------
def run(book, opts: JobOptions) -> JobResult:
    from pyfuncs.jobs._common import settings_and_calendar, write_updates
    from pyfuncs.jobs.plan import read_plan
    from pyfuncs.schema import PROJECTS
    from pyfuncs.tables import append_rows, read_table, write_columns

    result = JobResult("visits")
    settings, _cal, problems = settings_and_calendar(book)
    result.problems += problems
    book.progress(1, 2, "读取回访记录")
    visits = read_table(book, VISITS)
    projects = read_table(book, PROJECTS)
    repairs = read_table(book, REPAIRS)
    new_rows = [r for r in visits.df.index if is_blank(visits.raw.at[r, "registered"])
                or cell_text(visits.raw.at[r, "registered"]).startswith(PENDING)]
    result.problems += [p for p in visits.problems if p.row is None or p.row in new_rows]
    # dates as Python dates for the pure function
    df = visits.df.assign(date=visits.df["date"].map(lambda v: None if pd.isna(v) else pd.Timestamp(v).date()))
    years = sorted({d.year + k for r, d in df["date"].items() if d and r in new_rows for k in (-1, 0, 1)})
    plan_frames = {y: read_plan(book, y) for y in years}
    plans = {y: f.plan for y, f in plan_frames.items() if f is not None}
    # a visit only needs its project to exist: a bad optional cell (or a bad 竣工验收日期, which the
    # plan and check report) must not make the project look unknown here
    unusable = {r for r, bad in projects.bad.items() if "project_id" in bad or "" in bad}
    good_projects = projects.df[~projects.df.index.isin(unusable)]
    reg = register(df, good_projects, plans, repairs.df, settings, opts.today, set(visits.bad_rows))
    result.problems += reg.problems
    book.progress(2, 2, "登记回访")
    if reg.new_tickets:
        append_rows(book, repairs, reg.new_tickets)
    if reg.ticket_cells:
        write_columns(book, repairs, {"visit_ref": pd.Series({r: c["visit_ref"] for r, c in reg.ticket_cells.items()})})
    cols = {}
    for key in ("visit_id", "ticket_id", "registered"):
        vals = {r: c[key] for r, c in reg.visit_cells.items() if key in c}
        if vals:
            cols[key] = pd.Series(vals, dtype=object)
    if reg.discipline:
        cols["discipline"] = pd.Series(reg.discipline, dtype=object)
    if cols:
        write_columns(book, visits, cols)
    for year, cells in reg.plan_cells.items():
        write_updates(book, plan_frames[year], cells)
    book.set_status(None)
    result.summary = {
        "registered": reg.registered,
        "tickets_opened": [t["ticket_id"] for t in reg.new_tickets],
        "plan_rows_marked": reg.plan_marked,
        "unmatched": reg.unmatched,
        "pending": reg.pending,
        "skipped": len(new_rows) - reg.registered - len(reg.pending),
    }
    result.messages.append(f"登记了 {reg.registered} 条回访记录，{reg.plan_marked} 条计划标为已回访，"
                           f"新开报修 {len(reg.new_tickets)} 件")
    if reg.new_tickets:
        result.messages.append("新报修单号：" + "、".join(t["ticket_id"] for t in reg.new_tickets)
                               + "（请运行「刷新台账」计算应到场日期）")
    if reg.pending:
        result.messages.append(f"{len(reg.pending)} 条回访的发现问题看不出是否有问题，未开报修单（第"
                               + "、".join(map(str, reg.pending)) + "行）：请填写「是否发现问题」后再运行登记回访")
    if reg.unmatched:
        result.messages.append("以下回访在回访计划中没有对应的未完成计划：" + "；".join(reg.unmatched))
    return result
