"""项目档案 (``project``): one printable A4 sheet with everything about one project.

``aftercare project FILE XM2024-01`` (``opts.selection = ["XM2024-01"]``), or the ribbon button on
the project of the active cell's row (:func:`project_at`). The sheet 「档案-XM2024-01」
(:func:`sheet_name`: Excel's 31 characters and forbidden characters minded) is regenerated as a
whole on every run for that project: replaced, never piled up.

Sections, in order: 项目信息 (the 项目台账 row), 联系人 (the project's contact, the people met on
visits, who reported repairs), 保修部位 (every 保修条款 row with its end and status, computed as
刷新台账 does), 报修记录 (every open ticket first, then the latest 12 closed ones, with the ledger's
clock; a note says how many more), 回访记录 (the latest 10, with satisfaction), 本年回访计划 (the 回访计划YYYY rows of the year),
待办事项 (the project's lines of :mod:`pyfuncs.jobs.todo`). A4 portrait, fit to width.

Example::

    >>> sheet_name("XM2024-01"), sheet_name("A/B:C*D?[E]"), len(sheet_name("项" * 40))
    ('档案-XM2024-01', '档案-A_B_C_D__E_', 31)
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np
import pandas as pd

from pyfuncs.jobs import JobOptions, JobResult, Problem
from pyfuncs.jobs._common import as_date, cell_text
from pyfuncs.layout import Layout, fit_row_heights
from pyfuncs.schema import PROJECTS, TABLES, plan_table

PREFIX = "档案-"
MAX_REPORTERS = 6
#: closed tickets and visits shown (the latest; every open ticket is shown): a note says how many more
MAX_CLOSED = 12
MAX_VISITS = 10
COLS = 8
WIDTHS = (13, 12, 12, 12, 14, 12, 12, 12)
#: tables whose rows name a project (the ribbon button looks up the active row's 项目编号 there)
PROJECT_TABLES = ("projects", "terms", "repairs", "visits")


def sheet_name(project_id: str) -> str:
    """The sheet of a project's file: 「档案-」 + the id, Excel's forbidden characters
    (``[]:*?/\\``) replaced by ``_``, cut to Excel's 31 characters."""
    name = PREFIX + re.sub(r"[\[\]:*?/\\]", "_", str(project_id).strip())
    return name[:31].rstrip("'") or PREFIX.rstrip("-")


def project_at(book, sheet: str, row: int) -> str | None:
    """The 项目编号 of ``row`` on ``sheet`` (a ledger, a plan, the 待办 sheet or a project's file),
    or None where the row names none."""
    for key in PROJECT_TABLES:
        if TABLES[key].sheet == sheet:
            from pyfuncs.tables import read_table

            f = read_table(book, TABLES[key])
            if row in f.raw.index:
                return cell_text(f.raw.at[row, "project_id"]) or None
            return None
    if sheet.startswith("回访计划") and sheet[4:].isdigit():
        from pyfuncs.jobs.plan import read_plan

        f = read_plan(book, int(sheet[4:]))
        if f is not None and row in f.raw.index:
            return cell_text(f.raw.at[row, "project_id"]) or None
        return None
    if sheet.startswith(PREFIX):
        got = book.read(sheet, (2, 2, 2, 2))[0][0]  # the file's own id (项目信息's first value)
        return cell_text(got) or None
    from pyfuncs.jobs.todo import TODO_SHEET

    if sheet == TODO_SHEET:
        return cell_text(book.read(sheet, (row, 3, row, 3))[0][0]) or None
    return None


def _show(v: Any) -> Any:
    """A cell of the file: dates as dates, whole floats as ints, blank as None."""
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(v, (pd.Timestamp, np.datetime64, dt.datetime)):
        return pd.Timestamp(v).date()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


class _Sheet:
    """A little cursor over a Layout: sections, label/value pairs, tables."""

    def __init__(self, lay: Layout):
        self.lay = lay
        self.r = 1

    def section(self, title: str) -> None:
        self.r += 1
        self.lay.put(self.r, 1, title, "section")
        self.lay.merge(self.r, 1, self.r, COLS)
        self.r += 1

    def pairs(self, pairs: list[tuple[str, Any]]) -> None:
        """label, value, label, value … four to a row (values of the last pair span the rest)."""
        for i in range(0, len(pairs), 2):
            for j, (label, value) in enumerate(pairs[i:i + 2]):
                c = 1 + 4 * j
                self.lay.put(self.r, c, label, "label")
                self.lay.put(self.r, c + 1, _show(value), "date" if isinstance(_show(value), dt.date) else "value")
                self.lay.merge(self.r, c + 1, self.r, c + 3)
            self.r += 1

    def more(self, text: str) -> None:
        """A note under a table (what was left out)."""
        self.lay.put(self.r, 1, text, "note")
        self.lay.merge(self.r, 1, self.r, COLS)
        self.r += 1

    def table(self, headers: list[tuple[str, int]], rows: list[list[Any]], empty: str,
              styles: dict[int, str] | None = None) -> None:
        """headers: (text, columns it spans); rows: one value per header."""
        styles = styles or {}
        c = 1
        for text, span in headers:
            self.lay.put(self.r, c, text, "header")
            self.lay.merge(self.r, c, self.r, c + span - 1)
            c += span
        self.r += 1
        if not rows:
            self.lay.put(self.r, 1, empty, "cell")
            self.lay.merge(self.r, 1, self.r, COLS)
            self.r += 1
            return
        for row in rows:
            c = 1
            for j, ((_, span), v) in enumerate(zip(headers, row)):
                v = _show(v)
                style = styles.get(j) or ("date" if isinstance(v, dt.date) else "cell")
                if callable(style):
                    style = style(v)
                self.lay.put(self.r, c, v, style)
                self.lay.merge(self.r, c, self.r, c + span - 1)
                c += span
            self.r += 1


def project_layout(pid: str, d, today: dt.date, plan: pd.DataFrame | None, todo_items: pd.DataFrame) -> Layout:
    """The file of project ``pid`` from :class:`pyfuncs.jobs.todo.TodoData` ``d``."""
    from pyfuncs.core.warranty import warranty_status

    lay = Layout(sheet_name(pid), orientation="portrait", fit_width=True, margins=(0.4, 0.4, 0.5, 0.5))
    for c, w in enumerate(WIDTHS, start=1):
        lay.widths[c] = w
    proj = d.projects[d.projects["project_id"].map(cell_text) == pid]
    p = proj.iloc[0].to_dict() if len(proj) else {}
    s = _Sheet(lay)
    lay.put(1, 1, f"项目档案：{pid}　{cell_text(p.get('name'))}", "title")
    lay.merge(1, 1, 1, COLS)
    lay.heights[1] = 28
    s.r = 2
    # 项目信息: the ledger row, every column in the schema's order (项目编号 first: B2 holds the id)
    info = [(c.header, p.get(c.key)) for c in PROJECTS.columns if c.key not in ("contact", "phone")]
    s.pairs(info)
    lay.put(s.r, 1, f"生成日期：{today:%Y-%m-%d}。本页由「项目档案」生成，再次生成时整页替换。", "note")
    lay.merge(s.r, 1, s.r, COLS)
    s.r += 1

    # 联系人
    s.section("联系人")
    contacts: list[list[Any]] = []
    seen = set()

    def add(role, name, phone=None):
        name, phone = cell_text(name), cell_text(phone)
        if name and (name, phone) not in seen:
            seen.add((name, phone))
            contacts.append([role, name, phone or None])

    add("建设单位联系人", p.get("contact"), p.get("phone"))
    add("项目经理", p.get("manager"))
    add("回访负责人", p.get("visit_owner"))
    v = d.visits[d.visits["project_id"].map(cell_text) == pid] if len(d.visits) else d.visits
    for met in v.get("met", pd.Series(dtype=object)):
        add("受访人（回访记录）", met)
    r = d.repairs[d.repairs["project_id"].map(cell_text) == pid] if len(d.repairs) else d.repairs
    if len(r):  # who reported, the latest first: a few, not the whole ledger
        recent = r.assign(_d=r["notice"].map(lambda x: as_date(x) or dt.date.min)).sort_values("_d", ascending=False)
        before = len(contacts)
        for who, phone in zip(recent["reporter"], recent["phone"]):
            if len(contacts) - before >= MAX_REPORTERS:
                break
            add("报修人（最近）", who, phone)
        others = {cell_text(x) for x in recent["reporter"]} - {c[1] for c in contacts}
        if others:
            contacts.append(["报修人", f"另有 {len(others)} 人", "见报修台账"])
    s.table([("身份", 3), ("姓名", 2), ("联系电话", 3)], contacts, "无联系人记录")

    # 保修部位
    s.section("保修部位")
    t = d.terms[d.terms["project_id"].map(cell_text) == pid] if len(d.terms) else d.terms
    rows = []
    if len(t):
        ends = t["end"].to_numpy(dtype="datetime64[s]").astype("datetime64[D]")
        status = warranty_status(ends, np.datetime64(today, "D"), d.settings.warn_days)
        for (_, row), st in zip(t.iterrows(), status):
            rows.append([row.get("part"), row.get("term_used") or row.get("term"), row.get("start_eff"),
                         row.get("end"), st or None, row.get("note") or None])
    status_style = {4: lambda v: {"已过保": "muted", "即将到期": "warn", "保修中": "good"}.get(v, "center")}
    s.table([("保修部位", 2), ("保修期", 1), ("起算日期", 1), ("到期日期", 1), ("保修状态", 1), ("提示", 2)],
            rows, "保修条款中没有这个项目的行（生成年度回访计划时会按法定期限补上）", status_style)

    # 报修记录: open first
    s.section("报修记录")
    rows = []
    if len(r) and d.assessment is not None:
        pos = d.repairs.index.get_indexer(r.index)
        a = d.assessment
        is_open = a.open[pos]
        late = a.clock.late[pos]
        state = a.clock.state[pos]
        due = a.clock.due[pos]
        order = sorted(range(len(r)), key=lambda i: (not is_open[i], -(as_date(r.iloc[i]["notice"]) or dt.date.min).toordinal()))
        closed = [i for i in order if not is_open[i]]
        left_out = closed[MAX_CLOSED:]  # every open ticket, the latest closed ones: the file stays short
        order = [i for i in order if is_open[i]] + closed[:MAX_CLOSED]
        for i in order:
            row = r.iloc[i]
            problem = "，".join(x for x in (cell_text(row.get("place")), cell_text(row.get("problem"))) if x)
            part = cell_text(row.get("part"))
            problem = f"{part}：{problem}" if part and problem else (part or problem)
            lt = None if np.isnan(late[i]) or late[i] <= 0 else int(late[i])
            rows.append([row.get("ticket_id"), row.get("notice"), problem or None,
                         state[i] or None, None if np.isnat(due[i]) else due[i].astype(dt.date),
                         row.get("done") if not pd.isna(row.get("done")) else row.get("accepted"), lt])
    late_style = {6: lambda v: "bad" if v else "int", 3: lambda v: "center"}
    s.table([("报修单号", 1), ("报修日期", 1), ("部位和问题", 2), ("状态", 1), ("应到场日期", 1),
             ("完成日期", 1), ("超期天数", 1)], rows, "没有报修记录", late_style)
    if len(r) and d.assessment is not None and left_out:
        s.more(f"另有 {len(left_out)} 件更早的已结报修（最早报修于 "
               f"{min(as_date(r.iloc[i]['notice']) or dt.date.max for i in left_out):%Y-%m-%d}），见报修台账")

    # 回访记录
    s.section("回访记录")
    rows = []
    left_visits = 0
    if len(v):
        vv = v.assign(_d=v["date"].map(lambda x: as_date(x) or dt.date.min)).sort_values("_d", ascending=False)
        left_visits = max(0, len(vv) - MAX_VISITS)
        for _, row in vv.head(MAX_VISITS).iterrows():
            rows.append([row.get("date"), row.get("kind"), row.get("way"), row.get("visitor"),
                         row.get("satisfaction"), cell_text(row.get("problems")) or None])
    s.table([("回访日期", 1), ("回访类型", 1), ("回访方式", 1), ("回访人", 1), ("满意度", 1), ("发现问题", 3)],
            rows, "没有回访记录")
    if left_visits:
        s.more(f"另有 {left_visits} 次更早的回访，见回访记录")

    # 本年回访计划
    s.section(f"{today.year}年回访计划")
    rows = []
    if plan is not None and len(plan):
        pl = plan[plan["project_id"].map(cell_text) == pid]
        for _, row in pl.iterrows():
            rows.append([row.get("date"), row.get("kind"), row.get("parts"), row.get("owner"), row.get("state"),
                         row.get("actual")])
    empty = (f"「{plan_table(today.year).sheet}」中没有这个项目的回访" if plan is not None
             else f"还没有生成{today.year}年度回访计划")
    s.table([("计划日期", 1), ("回访类型", 2), ("涉及部位", 2), ("负责人", 1), ("状态", 1), ("实际回访日期", 1)],
            rows, empty)

    # 待办事项
    s.section("待办事项")
    rows = []
    for it in todo_items.to_dict("records"):
        rows.append([it["kind"], cell_text(it["what"]), as_date(it["date"]), it["person"]])
    s.table([("事项", 1), ("内容", 4), ("日期", 1), ("负责人", 2)], rows, "没有待办事项")
    fit_row_heights(lay)
    return lay


def run(book, opts: JobOptions) -> JobResult:
    from pyfuncs.jobs.plan import read_plan
    from pyfuncs.jobs.todo import gather, load

    result = JobResult("project")
    wanted = [cell_text(x) for x in opts.selection if cell_text(x)]
    if not wanted:
        result.problems.append(Problem(PROJECTS.sheet, None, "项目编号", "没有指定项目：请给出项目编号，如 XM2024-01"))
        return result
    book.progress(1, 2, "读取项目的台账、回访和计划")
    # the tables' own problems are 数据检查's business: here an error is only a project that does not
    # exist (the command line then writes nothing)
    d, _ = load(book, opts.today)
    known = set(d.projects["project_id"].map(cell_text))
    items = gather(d)
    frame = read_plan(book, opts.today.year)
    plan = frame.plan if frame is not None else None
    sheets = []
    book.progress(2, 2, "写入项目档案")
    for pid in dict.fromkeys(wanted):
        if pid not in known:
            result.problems.append(Problem(PROJECTS.sheet, None, "项目编号", f"项目台账中没有项目「{pid}」"))
            continue
        lay = project_layout(pid, d, opts.today, plan, items[items["project_id"].map(cell_text) == pid])
        book.put_sheet(lay)
        sheets.append(lay.name)
    book.set_status(None)
    result.summary = {"sheets": sheets, "projects": [s[len(PREFIX):] for s in sheets]}
    if sheets:
        result.messages.append("已生成项目档案：" + "、".join(f"「{s}」" for s in sheets))
    return result
