"""本周待办 (``todo``): one sheet 「待办」 saying what each person has to do, most urgent first.

sheet → typed tables → :class:`TodoData` → the ``todo_items_*`` functions (one per topic, each
returning a frame of :data:`ITEM_COLUMNS`) → :func:`collect_items` (one line per row of the
ledger or plan: a row that several topics name is listed once, under its most urgent topic, the
others said in 说明) → :func:`todo_layout` → the 待办 sheet, regenerated as a whole every run.

What is listed (``days`` = the look-ahead, default 7, ``--days N``):

- 超期未到场: open tickets nobody has been to and whose 应到场日期 has passed;
- 回访逾期: plan rows (回访计划YYYY) whose 计划日期 has passed, still 未回访 (or 状态 blank) and
  with no 实际回访日期;
- 期满未回访: parts (保修条款) whose warranty ends within 30 days with no 保修期满前回访 recorded
  for the project (回访记录, or a plan row 已回访) in the months before the end;
- 应到场: open tickets nobody has been to, due on site within ``days`` days;
- 待回访: plan rows planned within ``days`` days, not yet done;
- 期满通知书: 保修期满通知书 to print and hand over: per project and month of warranty end, the
  parts whose 保修期满前回访 falls within ``days`` days (期满前回访提前月数 before the end) and is
  not recorded yet; the line says the ``forms`` item that prints it;
- 待签认: finished tickets (完成/验收日期) the user has not signed (用户签认 not 是), not 已关闭;
- 长期未结: open tickets reported more than 长期未结天数 (设置) days ago.

Grouped by person: a plan row's 负责人 (else the project's 回访负责人, else 项目经理); a ticket's
维修人员 (else the project's 回访负责人 / 项目经理, who has to send someone); a part or a notice:
the project's 回访负责人 / 项目经理; nobody known: 「未指定」. Groups are ordered by their most
urgent line, then size; lines by urgency (the order above), then date. Each line links to its row
(Layout.links). ``--person 张三`` keeps that person's group only.

Adding a topic (e.g. 质保金 to return): write ``todo_items_<topic>(d: TodoData) -> DataFrame`` with
:data:`ITEM_COLUMNS` (see :func:`items_frame`), give it a rank in :data:`KINDS` and list it in
:data:`ITEM_SOURCES`.

Example (the pure part)::

    >>> import datetime as dt
    >>> items = items_frame([
    ...     dict(kind="待回访", person="李四", project_id="P1", what="例行回访", date=dt.date(2026, 11, 25),
    ...          sheet="回访计划2026", row=8),
    ...     dict(kind="超期未到场", person="李四", project_id="P2", what="BX2026-0002 漏水",
    ...          date=dt.date(2026, 11, 1), sheet="报修台账", row=3)])
    >>> lay = todo_layout(collect_items(items), dt.date(2026, 11, 21), 7)
    >>> lay.cells[(5, 1)][0], [lay.cells[(r, 2)][0] for r in (6, 7)], lay.links[(6, 8)]
    ('李四（2 项：超期未到场 1，待回访 1）', ['超期未到场', '待回访'], "'报修台账'!A3")
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from pyfuncs.jobs import JobOptions, JobResult, Problem
from pyfuncs.jobs._common import as_date, cell_text
from pyfuncs.layout import Layout, fit_row_heights
from pyfuncs.schema import PLAN_STATES, TABLES, plan_table

TODO_SHEET = "待办"
DEFAULT_DAYS = 7
#: parts whose warranty ends within this many days are listed when no before-expiry visit was done
EXPIRY_DAYS = 30
NO_PERSON = "未指定"
NOT_DONE = ("", PLAN_STATES[0])  # a plan row with 状态 blank or 未回访 is still to do
EXPIRY_KIND = "保修期满前回访"

#: topic → rank (smaller: more urgent) and what the line's 事项 says
KINDS: dict[str, int] = {
    "超期未到场": 10,
    "回访逾期": 20,
    "期满未回访": 30,
    "应到场": 40,
    "待回访": 50,
    "期满通知书": 60,
    "待签认": 70,
    "长期未结": 80,
    "质保金返还": 90,
}
#: an item: topic, person, project, what (text), date (the day it is due / was due), the row it is
#: about (sheet, Excel row: the line links there), note (anything else), and ``key``: lines of the
#: same key are one line (blank: sheet + row, so a ticket that is overdue and long open is listed once)
ITEM_COLUMNS = ("kind", "person", "project_id", "what", "date", "sheet", "row", "note", "key")
HEADERS = ("序号", "事项", "项目编号", "项目名称", "内容", "日期", "天数", "所在位置")
WIDTHS = (6, 11, 12, 24, 46, 11, 10, 17)
HEADER_ROW = 4
FIRST_ROW = 5


@dataclass
class TodoData:
    """What the topics look at: the typed tables (indexed by Excel row), the plans and settings."""

    today: dt.date
    days: int
    settings: Any
    calendar: Any
    projects: pd.DataFrame
    terms: pd.DataFrame                 # 保修条款 with ``end`` (see _common.terms_with_ends)
    repairs: pd.DataFrame
    visits: pd.DataFrame
    plans: dict[str, pd.DataFrame] = field(default_factory=dict)  # plan sheet → its plan rows
    assessment: Any = None              # refresh.TicketAssessment of ``repairs``

    @property
    def horizon(self) -> dt.date:
        return self.today + dt.timedelta(days=self.days)

    def owner(self, project_ids) -> list[str]:
        """The project's 回访负责人, else 项目经理, else ''; one per id."""
        m = self.__dict__.get("_owners")
        if m is None:
            m = self.__dict__["_owners"] = _owner_map(self.projects)
        return [m.get(cell_text(p), "") for p in project_ids]


def _owner_map(projects: pd.DataFrame) -> dict[str, str]:
    out: dict[str, str] = {}
    if not len(projects):
        return out
    owner = projects["visit_owner"].map(cell_text) if "visit_owner" in projects else ""
    manager = projects["manager"].map(cell_text) if "manager" in projects else ""
    for pid, o, m in zip(projects["project_id"].map(cell_text), owner, manager):
        if pid and pid not in out:
            out[pid] = o or m
    return out


def items_frame(rows: list[dict] | pd.DataFrame) -> pd.DataFrame:
    """Items as a frame of :data:`ITEM_COLUMNS` (missing ones blank)."""
    df = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows.copy()
    for c in ITEM_COLUMNS:
        if c not in df.columns:
            df[c] = "" if c not in ("date", "row") else None
    return df[list(ITEM_COLUMNS)].reset_index(drop=True)


def _d64(s) -> np.ndarray:
    return pd.Series(s, dtype=object).map(lambda v: as_date(v)).to_numpy(dtype="datetime64[D]") \
        if not pd.api.types.is_datetime64_any_dtype(s) else np.asarray(s, dtype="datetime64[D]")


def _dates(a: np.ndarray) -> list[dt.date | None]:
    return [None if np.isnat(x) else x.astype(dt.date) for x in a]


# ---- the topics ------------------------------------------------------------------------------
def todo_items_plan(d: TodoData) -> pd.DataFrame:
    """回访逾期 and 待回访: plan rows not done, planned before today or within ``days`` days."""
    frames = []
    for sheet, plan in d.plans.items():
        if not len(plan):
            continue
        dates = _d64(plan["date"])
        state = plan["state"].map(cell_text).to_numpy(dtype=object)
        actual = plan["actual"].map(lambda v: not cell_text(v)).to_numpy(dtype=bool)
        todo = np.isin(state, NOT_DONE) & actual & ~np.isnat(dates)
        t, h = np.datetime64(d.today, "D"), np.datetime64(d.horizon, "D")
        late = todo & (dates < t)
        soon = todo & (dates >= t) & (dates <= h)
        sel = late | soon
        if not sel.any():
            continue
        p = plan[sel]
        owner = p["owner"].map(cell_text).tolist()
        fallback = d.owner(p["project_id"])
        kinds = p["kind"].map(cell_text)
        parts = p["parts"].map(cell_text)
        frames.append(items_frame(pd.DataFrame({
            "kind": np.where(late[sel], "回访逾期", "待回访"),
            "person": [o or f for o, f in zip(owner, fallback)],
            "project_id": p["project_id"].map(cell_text).to_numpy(),
            "what": [k + (f"（{pt}）" if pt else "") if k else "回访" for k, pt in zip(kinds, parts)],
            "date": _dates(dates[sel]),
            "sheet": sheet,
            "row": [int(r) for r in p.index],
            "note": "",
        })))
    return pd.concat(frames, ignore_index=True) if frames else items_frame([])


def _ticket_what(r: pd.DataFrame) -> list[str]:
    tid = r["ticket_id"].map(cell_text)
    place = r["place"].map(cell_text)
    prob = r["problem"].map(cell_text)
    part = r["part"].map(cell_text)
    out = []
    for t, pl, pr, pa in zip(tid, place, prob, part):
        body = "，".join(x for x in (pl, pr or pa) if x)
        out.append(f"{t or '（无单号）'} {body}".strip())
    return out


def todo_items_tickets(d: TodoData) -> pd.DataFrame:
    """超期未到场, 应到场, 待签认, 长期未结 from the ledger's own clock (the one 刷新台账 uses)."""
    r = d.repairs
    a = d.assessment
    if not len(r) or a is None:
        return items_frame([])
    t, h = np.datetime64(d.today, "D"), np.datetime64(d.horizon, "D")
    good = ~a.bad
    due = a.clock.due
    not_there = np.isnat(a.clock.on_site)
    is_open = a.open
    notice = r["notice"].to_numpy(dtype="datetime64[s]").astype("datetime64[D]")
    done = r["done"].to_numpy(dtype="datetime64[s]").astype("datetime64[D]")
    accepted = r["accepted"].to_numpy(dtype="datetime64[s]").astype("datetime64[D]")
    finished = np.where(np.isnat(done), accepted, done)
    signed = r["signed"].isin(["是"]).to_numpy(dtype=bool)  # the reader gives a dropdown cell stripped
    state = a.clock.state
    age = (t - notice).astype("timedelta64[D]").astype(float)
    masks = {
        "超期未到场": good & is_open & not_there & ~np.isnat(due) & (due < t) & ~a.clock.clock_off,
        "应到场": good & is_open & not_there & ~np.isnat(due) & (due >= t) & (due <= h),
        "待签认": good & ~np.isnat(finished) & ~signed & ~pd.Series(state, dtype=object).isin(["已关闭"]).to_numpy(),
        "长期未结": good & is_open & (np.nan_to_num(age, nan=0) > d.settings.long_open_days),
    }
    dates = {"超期未到场": due, "应到场": due, "待签认": finished, "长期未结": notice}
    notes = {
        "超期未到场": lambda i: "",
        "应到场": lambda i: "",
        "待签认": lambda i: f"完成已{int((t - finished[i]).astype(int))}天，用户未签认",
        "长期未结": lambda i: f"报修已{int(age[i])}天未完成（长期未结天数 {d.settings.long_open_days}）",
    }
    # the text of the few listed tickets only (20,000 rows are numpy above, a few hundred here)
    listed = np.flatnonzero(np.logical_or.reduce(list(masks.values())))
    if not len(listed):
        return items_frame([])
    sub = r.iloc[listed]
    at = {int(i): j for j, i in enumerate(listed)}
    repairer = sub["repairer"].map(cell_text).to_numpy(dtype=object)
    fallback = np.array(d.owner(sub["project_id"]), dtype=object)
    pids = sub["project_id"].map(cell_text).to_numpy(dtype=object)
    what = np.array(_ticket_what(sub), dtype=object)
    rows = r.index.to_numpy()
    frames = []
    for kind, m in masks.items():
        idx = np.flatnonzero(m)
        if not len(idx):
            continue
        j = np.array([at[int(i)] for i in idx])
        person = [repairer[k] or fallback[k] for k in j]
        if kind in ("超期未到场", "应到场"):
            note = [("未指定维修人员" if not repairer[k] else "") for k in j]
        else:
            note = [notes[kind](i) for i in idx]
        frames.append(items_frame(pd.DataFrame({
            "kind": kind, "person": person, "project_id": pids[j],
            "what": what[j], "date": _dates(dates[kind][idx]), "sheet": TABLES["repairs"].sheet,
            "row": [int(x) for x in rows[idx]], "note": note})))
    return pd.concat(frames, ignore_index=True) if frames else items_frame([])


def _expiry_visits(d: TodoData) -> dict[str, np.ndarray]:
    """Project → dates of its recorded 保修期满前回访 (回访记录, and plan rows 已回访 of that kind)."""
    days: dict[str, list] = {}
    v = d.visits
    if len(v):
        sel = v["kind"].map(cell_text) == EXPIRY_KIND
        for pid, day in zip(v.loc[sel, "project_id"].map(cell_text), v.loc[sel, "date"]):
            day = as_date(day)
            if pid and day:
                days.setdefault(pid, []).append(day)
    for plan in d.plans.values():
        if not len(plan):
            continue
        sel = plan["kind"].map(lambda k: EXPIRY_KIND in cell_text(k)) & (plan["state"].map(cell_text) == "已回访")
        for pid, day, actual in zip(plan.loc[sel, "project_id"].map(cell_text), plan.loc[sel, "date"],
                                    plan.loc[sel, "actual"]):
            day = as_date(actual) or as_date(day)
            if pid and day:
                days.setdefault(pid, []).append(day)
    return {p: np.array(sorted(x), dtype="datetime64[D]") for p, x in days.items()}


def _visited_before(d: TodoData, pids, ends: np.ndarray) -> np.ndarray:
    """Whether each (project, warranty end) has a 保修期满前回访 recorded in the months before
    the end (期满前回访提前月数 + 2 months: a visit done somewhat early still counts)."""
    from pyfuncs.core.dates import add_months

    done = _expiry_visits(d)
    lo = add_months(ends, -(d.settings.expiry_visit_months_before + 2)) if len(ends) else ends
    out = np.zeros(len(ends), dtype=bool)
    for i, (p, a, b) in enumerate(zip(pids, lo, ends)):
        got = done.get(p)
        if got is not None and len(got):
            out[i] = bool(((got >= a) & (got <= b)).any())
    return out


def _terms_ending(d: TodoData, until: np.datetime64) -> pd.DataFrame:
    t = d.terms
    if not len(t):
        return t
    ends = t["end"].to_numpy(dtype="datetime64[s]").astype("datetime64[D]")
    today = np.datetime64(d.today, "D")
    sel = ~np.isnat(ends) & (ends >= today) & (ends <= until)
    out = t[sel].copy()
    out["end_d"] = ends[sel]
    out["pid"] = out["project_id"].map(cell_text)
    out = out[out["pid"] != ""]
    if len(out):
        out = out[~_visited_before(d, out["pid"].tolist(), out["end_d"].to_numpy(dtype="datetime64[D]"))]
    return out


def todo_items_expiry(d: TodoData) -> pd.DataFrame:
    """期满未回访: parts ending within :data:`EXPIRY_DAYS` days with no before-expiry visit done."""
    t = _terms_ending(d, np.datetime64(d.today, "D") + EXPIRY_DAYS)
    if not len(t):
        return items_frame([])
    return items_frame(pd.DataFrame({
        "kind": "期满未回访", "person": d.owner(t["pid"]), "project_id": t["pid"].to_numpy(),
        "what": [f"{cell_text(p)} 保修期届满" for p in t["part"]],
        "date": _dates(t["end_d"].to_numpy()), "sheet": TABLES["terms"].sheet,
        "row": [int(x) for x in t.index], "note": "尚无保修期满前回访记录"}))


def todo_items_notices(d: TodoData) -> pd.DataFrame:
    """期满通知书: per project and month of warranty end, the notice to print and hand over at the
    before-expiry visit due within ``days`` days (not yet recorded)."""
    from pyfuncs.core.dates import add_months

    until = add_months(np.array([np.datetime64(d.horizon, "D")]), d.settings.expiry_visit_months_before)[0]
    t = _terms_ending(d, until)
    if not len(t):
        return items_frame([])
    t = t.assign(month=t["end_d"].to_numpy(dtype="datetime64[M]"))
    rows = []
    for (pid, month), g in t.groupby(["pid", "month"], sort=True):
        first = g["end_d"].min().astype(dt.date) if isinstance(g["end_d"].min(), np.datetime64) \
            else pd.Timestamp(g["end_d"].min()).date()
        parts = "、".join(dict.fromkeys(cell_text(p) for p in g["part"]))
        m = pd.Timestamp(month).strftime("%Y-%m")
        rows.append(dict(kind="期满通知书", person=d.owner([pid])[0], project_id=pid,
                         what=f"保修期满通知书（{parts}）", date=first, sheet=TABLES["terms"].sheet,
                         row=int(g.index.min()), note=f"打印：打印回访单 notice:{pid}:{m}",
                         key=f"notice:{pid}:{m}"))
    return items_frame(rows)


def todo_items_retention(d: TodoData) -> pd.DataFrame:
    """质保金返还: retention whose defect-liability period has ended and that is not yet returned
    (可申请返还, and 逾期未返还 past the 设置 返还期限), from :func:`pyfuncs.core.retention.claimable`,
    the rule 刷新台账 and 统计 use; the line links to the project's row on 项目台账."""
    from pyfuncs.core.retention import OVERDUE, claimable

    c = claimable(d.projects, d.today, default_months=getattr(d.settings, "defect_months", 24),
                  grace_days=getattr(d.settings, "retention_grace_days", 28))
    if not len(c):
        return items_frame([])
    first_row: dict[str, int] = {}
    for r, pid in d.projects["project_id"].items():
        first_row.setdefault(cell_text(pid), int(r))
    pids = [cell_text(p) for p in c["project_id"]]
    what = [("质保金" + (f" {a:,.0f} 元" if a == a else "") + ("逾期未返还" if st == OVERDUE else "可申请返还"))
            for a, st in zip(c["amount"], c["status"])]
    notes = [f"缺陷责任期满已 {n} 天" + ("，已过返还期限" if st == OVERDUE else "，可向发包人申请返还")
             for n, st in zip(c["days_past_due"], c["status"])]
    return items_frame(pd.DataFrame({
        "kind": "质保金返还", "person": d.owner(pids), "project_id": pids, "what": what,
        "date": _dates(c["due"].to_numpy(dtype="datetime64[D]")), "sheet": TABLES["projects"].sheet,
        "row": [first_row.get(p) for p in pids], "note": notes, "key": [f"retention:{p}" for p in pids]}))


#: the topics, in the order they are asked
ITEM_SOURCES: list[Callable[[TodoData], pd.DataFrame]] = [
    todo_items_tickets,
    todo_items_plan,
    todo_items_expiry,
    todo_items_notices,
    todo_items_retention,
]


# ---- one list --------------------------------------------------------------------------------
def collect_items(items: pd.DataFrame, person: str | None = None) -> pd.DataFrame:
    """Rank, dedupe (one line per sheet row: the most urgent topic, the others named in ``note``),
    fill blank persons with 未指定, keep ``person``'s lines only when given, sort by group then
    urgency then date. Adds ``rank`` and ``group_rank``."""
    df = items_frame(items)
    df["person"] = df["person"].map(cell_text).replace("", NO_PERSON)
    df["rank"] = df["kind"].map(lambda k: KINDS.get(k, 99))
    df["_d"] = df["date"].map(lambda v: as_date(v) or dt.date.max)
    df = df.sort_values(["rank", "_d"], kind="stable")
    key = df["sheet"].astype(str) + "\x1f" + df["row"].astype(str)
    key = key.where(df["key"].map(cell_text) == "", df["key"].map(cell_text))
    shared = key.duplicated(keep=False)
    also: dict[str, str] = {}
    if shared.any():  # only the few rows several topics name
        for k, ks in df.loc[shared, "kind"].groupby(key[shared], sort=False):
            also[k] = "、".join(list(dict.fromkeys(ks))[1:])
    first = ~key.duplicated()
    df = df[first].copy()
    df["note"] = [("；".join(x for x in (cell_text(n), f"另：{also[k]}" if also.get(k) else "") if x))
                  for n, k in zip(df["note"], key[first])]
    if person:
        df = df[df["person"] == person.strip()]
    g = df.groupby("person")["rank"].agg(["min", "size"])
    df["group_rank"] = df["person"].map(g["min"])
    df["group_size"] = df["person"].map(g["size"])
    df["_nobody"] = df["person"] == NO_PERSON
    df = df.sort_values(["_nobody", "group_rank", "group_size", "person", "rank", "_d"],
                        ascending=[True, True, False, True, True, True], kind="stable")
    return df.drop(columns=["_d", "_nobody"]).reset_index(drop=True)


def _days_text(day: Any, today: dt.date) -> str:
    day = as_date(day)
    if day is None:
        return ""
    n = (day - today).days
    return "今天" if n == 0 else (f"超过{-n}天" if n < 0 else f"还有{n}天")


def _where(sheet: str, row: Any) -> str:
    return f"{sheet} 第{int(row)}行" if row is not None and not pd.isna(row) else sheet


def todo_layout(items: pd.DataFrame, today: dt.date, days: int, names: dict[str, str] | None = None,
                person: str | None = None) -> Layout:
    """The 待办 sheet: title, a line of counts by topic, the header, then per person a group row
    (name and count) and its lines. A4 landscape, fit to width, header repeated on every page."""
    names = names or {}
    n = len(HEADERS)
    lay = Layout(TODO_SHEET, orientation="landscape", fit_width=True, print_title_rows=f"{HEADER_ROW}:{HEADER_ROW}",
                 freeze=f"A{FIRST_ROW}")
    who = f"　{person}" if person else ""
    lay.put(1, 1, f"本周待办{who}（{today:%Y-%m-%d} 起 {days} 天）", "title")
    lay.merge(1, 1, 1, n)
    lay.heights[1] = 28
    counts = items["kind"].value_counts() if len(items) else pd.Series(dtype=int)
    parts = [f"{k} {int(counts[k])}" for k in KINDS if k in counts]
    parts += [f"{k} {int(c)}" for k, c in counts.items() if k not in KINDS]
    lay.put(2, 1, (f"共 {len(items)} 项：" + "，".join(parts)) if len(items) else
            (f"{person} 没有待办事项" if person else "没有待办事项"), "note")
    lay.merge(2, 1, 2, n)
    lay.put(3, 1, f"本页由「本周待办」生成（{today:%Y-%m-%d}），每次生成会覆盖本页；点“所在位置”跳到台账或计划中的那一行。",
            "note")
    lay.merge(3, 1, 3, n)
    for c, (h, w) in enumerate(zip(HEADERS, WIDTHS), start=1):
        lay.put(HEADER_ROW, c, h, "header")
        lay.widths[c] = w
    r = FIRST_ROW
    seq = 0
    # the group rows' counts, one groupby for all groups (the items come sorted by group)
    by = items.groupby(["person", "kind"], sort=False).size() if len(items) else pd.Series(dtype=int)
    size = items.groupby("person", sort=False).size() if len(items) else pd.Series(dtype=int)
    texts: dict[str, list[str]] = {}
    for (who, kind), k in by.items():
        texts.setdefault(who, []).append(f"{kind} {int(k)}")
    rank_of = KINDS.get
    current = None
    for it in items.to_dict("records"):
        who = it["person"]
        if who != current:  # the group row: who, how many, of what
            current = who
            lay.put(r, 1, f"{who}（{int(size[who])} 项：" + "，".join(texts[who]) + "）", "section")
            lay.merge(r, 1, r, n)
            r += 1
        seq += 1
        rank = it["rank"]
        lay.put(r, 1, seq, "int")
        lay.put(r, 2, it["kind"], "bad" if rank <= rank_of("期满未回访") else ("warn" if rank <= rank_of("待回访") else "center"))
        pid = cell_text(it["project_id"])
        lay.put(r, 3, pid or None, "center")
        lay.put(r, 4, names.get(pid) or None, "cell")
        note = cell_text(it["note"])
        lay.put(r, 5, cell_text(it["what"]) + (f"\n{note}" if note else ""), "cell")
        day = as_date(it["date"])
        lay.put(r, 6, day, "date")
        lay.put(r, 7, _days_text(day, today) or None, "center")
        row = it["row"]
        has_row = row is not None and not pd.isna(row)
        lay.put(r, 8, _where(it["sheet"], row), "link")
        if has_row:
            lay.link(r, 8, it["sheet"], f"A{int(row)}")
        lay.outline[r] = 1
        r += 1
    fit_row_heights(lay, list(range(FIRST_ROW, r)))
    lay.meta["lines"] = seq
    return lay


# ---- reading and the job ---------------------------------------------------------------------
def plan_sheets(sheet_names: list[str], today: dt.date, days: int) -> list[tuple[int, str]]:
    """(year, sheet) of the plans to look at: last year's (overdue visits) to the horizon's year.

    >>> plan_sheets(["回访计划2025", "回访计划2026", "回访计划2027", "回访计划2030"], dt.date(2026, 12, 28), 7)
    [(2025, '回访计划2025'), (2026, '回访计划2026'), (2027, '回访计划2027')]
    """
    years = range(today.year - 1, (today + dt.timedelta(days=days)).year + 1)
    have = set(sheet_names)
    return [(y, plan_table(y).sheet) for y in years if plan_table(y).sheet in have]


def load(book, today: dt.date, days: int = DEFAULT_DAYS) -> tuple[TodoData, list[Problem]]:
    """Read everything the topics need (every table before any write)."""
    from pyfuncs.jobs._common import settings_and_calendar, terms_with_ends
    from pyfuncs.jobs.plan import read_plan
    from pyfuncs.jobs.refresh import assess_ledger
    from pyfuncs.tables import read_table

    settings, calendar, problems = settings_and_calendar(book)
    frames = {k: read_table(book, TABLES[k]) for k in ("projects", "terms", "repairs", "visits")}
    for f in frames.values():
        problems += f.problems

    projects = frames["projects"].df
    terms, _ = terms_with_ends(projects, frames["terms"].good, settings)
    plans = {}
    for year, sheet in plan_sheets(book.sheet_names(), today, days):
        frame = read_plan(book, year)
        if frame is not None:
            plans[sheet] = frame.plan
    repairs = frames["repairs"].good
    assessment = assess_ledger(projects, terms, repairs, settings, calendar, today)
    d = TodoData(today, days, settings, calendar, projects, terms, repairs, frames["visits"].good, plans, assessment)
    return d, problems


def gather(d: TodoData, person: str | None = None) -> pd.DataFrame:
    """Every item of every topic, as one sorted list (:func:`collect_items`)."""
    parts = [f(d) for f in ITEM_SOURCES]
    parts = [p for p in parts if len(p)]
    return collect_items(pd.concat(parts, ignore_index=True) if parts else items_frame([]), person)


def summary_text(items: pd.DataFrame, days: int) -> str:
    """One line for the status bar (the on-open summary) and the message box.

    >>> summary_text(items_frame([dict(kind="应到场"), dict(kind="应到场"), dict(kind="回访逾期")]), 7)
    '回访保修待办：回访逾期 1，应到场 2（未来7天；点「本周待办」查看）'
    >>> summary_text(items_frame([]), 7)
    '回访保修待办：未来7天没有待办事项'
    """
    if not len(items):
        return f"回访保修待办：未来{days}天没有待办事项"
    counts = items["kind"].value_counts()
    parts = [f"{k} {int(counts[k])}" for k in sorted(counts.index, key=lambda k: KINDS.get(k, 99))]
    return "回访保修待办：" + "，".join(parts) + f"（未来{days}天；点「本周待办」查看）"


def run(book, opts: JobOptions) -> JobResult:
    days = int(opts.extra.get("days") or DEFAULT_DAYS)
    person = cell_text(opts.extra.get("person")) or None
    result = JobResult("todo")
    book.progress(1, 2, "读取台账和回访计划")
    d, problems = load(book, opts.today, days)
    result.problems += problems
    items = gather(d, person)
    names = {cell_text(p): cell_text(n) for p, n in zip(d.projects["project_id"], d.projects["name"])}
    lay = todo_layout(items, opts.today, days, names, person)
    book.progress(2, 2, "写入待办")
    book.put_sheet(lay, after=None)
    book.set_status(None)
    by_kind = {k: int(v) for k, v in items["kind"].value_counts().items()} if len(items) else {}
    by_person = {k: int(v) for k, v in items["person"].value_counts().items()} if len(items) else {}
    result.summary = {"sheet": TODO_SHEET, "days": days, "person": person, "items": int(len(items)),
                      "by_kind": by_kind, "by_person": by_person}
    result.messages.append(f"「{TODO_SHEET}」已生成：" + summary_text(items, days).split("：", 1)[1])
    if person and not len(items):
        result.messages.append(f"{person} 没有待办事项（按负责人、维修人员、项目回访负责人查找）。")
    return result
