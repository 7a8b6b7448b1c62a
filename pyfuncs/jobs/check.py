"""数据检查 (``check``): every problem in the data, with sheet, row, column and a Chinese message.

Small check functions, each taking the loaded :class:`Data` and returning a list of
:class:`~pyfuncs.jobs.Problem` (beancount style); :func:`run` gathers them. Level 错误 is a
problem that makes a job skip the row; 提示 is worth a look but the row is processed.

The job writes nothing to the workbook by default. With ``opts.extra["sheet"] = True`` (the
ribbon button does this, since Excel has no console) it replaces a generated sheet 检查结果 with
the list; the command line prints the list and exits with status 1 when there are errors.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from pyfuncs.io.book import Book, is_blank
from pyfuncs.jobs import JobOptions, JobResult, Problem
from pyfuncs.layout import Layout, fit_row_heights
from pyfuncs.schema import TABLES
from pyfuncs.tables import ERROR, HINT, Frame, read_calendar, read_settings, read_table

RESULT_SHEET = "检查结果"


@dataclass
class Data:
    book: Book
    today: dt.date
    frames: dict[str, Frame] = field(default_factory=dict)
    settings: object = None
    settings_problems: list[Problem] = field(default_factory=list)

    @property
    def project_ids(self) -> set[str]:
        f = self.frames["projects"]
        return {str(v).strip() for v in f.df["project_id"].dropna()}


def load(book: Book, today: dt.date) -> Data:
    d = Data(book, today)
    for key in ("projects", "terms", "repairs", "visits", "holidays"):
        d.frames[key] = read_table(book, TABLES[key])
    d.settings, d.settings_problems = read_settings(book)
    return d


# ---- the checks ----------------------------------------------------------------------------------
def check_tables(d: Data) -> list[Problem]:
    """Headers, bad dates/numbers, values outside the dropdown lists, missing required values,
    merged cells: everything :func:`pyfuncs.tables.read_table` finds."""
    out = []
    for key in ("projects", "terms", "repairs", "visits"):
        out += d.frames[key].problems
    return out


def check_settings(d: Data) -> list[Problem]:
    """设置 and 城市季节 values, 节假日 rows."""
    _, cal_problems = read_calendar(d.book)
    return list(d.settings_problems) + cal_problems


def check_duplicate_projects(d: Data) -> list[Problem]:
    f = d.frames["projects"]
    ids = f.df["project_id"].dropna().map(lambda v: str(v).strip())
    dup = ids[ids.duplicated(keep=False)]
    out = []
    for pid, group in dup.groupby(dup):
        rows = [int(r) for r in group.index]
        for r in rows[1:]:
            out.append(Problem(f.sheet, r, f.header("project_id"),
                               f"项目编号「{pid}」重复（第{rows[0]}行已有），其他表按第{rows[0]}行的项目处理"))
    return out


def check_unknown_projects(d: Data) -> list[Problem]:
    known = d.project_ids
    out = []
    for key in ("terms", "repairs", "visits"):
        f = d.frames[key]
        ids = f.df["project_id"].dropna().map(lambda v: str(v).strip())
        for r, pid in ids[~ids.isin(known)].items():
            out.append(Problem(f.sheet, int(r), f.header("project_id"), f"项目编号「{pid}」不在项目台账中"))
    return out


def check_cities(d: Data) -> list[Problem]:
    """A 所在城市 the season table does not know (matched with province and 市 stripped:
    内蒙古呼和浩特市 → 呼和浩特) uses the 默认 row for its heating and cooling seasons: worth a look,
    since every heating warranty and pre-heating visit of the project depends on it."""
    f = d.frames["projects"]
    dflt = d.settings.default_season
    out = []
    for r, city in f.df["city"].items():
        if is_blank(city) and is_blank(f.df.at[r, "project_id"]):
            continue
        if d.settings.match_city(city) is not None:
            continue
        who = f"城市「{str(city).strip()}」不在城市季节表中" if not is_blank(city) else "未填所在城市"
        out.append(Problem(f.sheet, int(r), f.header("city"),
                           f"{who}，按“默认”行计算（采暖期{dflt.span('采暖期')}，供冷期{dflt.span('供冷期')}）；"
                           "请把该城市加入「设置」表的城市季节表（有集中供暖的填采暖期，没有的两格都填“无”）",
                           HINT))
    return out


def check_design_life(d: Data) -> list[Problem]:
    """合理使用年限 outside GB 50352's classes (5, 25, 50, 100 years): used as typed, worth a look
    (70 is a land-use term, not a design life)."""
    from pyfuncs.core.warranty import design_life_hint

    f = d.frames["projects"]
    out = []
    for r, life in f.df["design_life"].dropna().items():
        hint = design_life_hint(life)
        if hint:
            out.append(Problem(f.sheet, int(r), f.header("design_life"), hint, HINT))
    hint = design_life_hint(d.settings.design_life)
    if hint:
        out.append(Problem(TABLES["settings"].sheet, None, "值", "设置项「默认合理使用年限」：" + hint, HINT))
    return out


def check_holiday_years(d: Data) -> list[Problem]:
    """Years the ledger or a plan uses whose holidays the holidays package only estimates (the
    State Council has not published them, or the package predates it) and staff have not
    entered in 节假日: every working-day date in them may be off by the real notice."""
    from pyfuncs.core.calendar import estimated_years
    from pyfuncs.jobs.plan import holiday_notice

    years: set[int] = set()
    rep = d.frames["repairs"]
    if len(rep.df):
        notice = rep.dates("notice")
        notice = notice[~np.isnat(notice)]
        due = notice + np.timedelta64(max(d.settings.clock_days, 0) + 14, "D")  # a deadline may move on
        years |= {int(y) + 1970 for y in np.unique(np.concatenate([notice, due]).astype("datetime64[Y]").astype(int))}
    import re

    for name in d.book.sheet_names():
        m = re.fullmatch(r"回访计划(\d{4})", name)
        if m:
            years.add(int(m.group(1)))
    hol = d.frames["holidays"]
    staff = {int(x.year) for x in hol.df["date"].dropna()} if len(hol.df) else set()
    late = estimated_years(sorted(years), staff)
    if not late:
        return []
    text = holiday_notice(late, dates="应到场日期和回访计划日期", then="再运行「刷新台账」和「生成年度回访计划」")
    return [Problem(TABLES["holidays"].sheet, None, None, text, HINT)]


def check_duplicate_tickets(d: Data) -> list[Problem]:
    f = d.frames["repairs"]
    ids = f.df["ticket_id"].dropna().map(lambda v: str(v).strip())
    out = []
    dup = ids[ids.duplicated(keep=False)]
    for tid, group in dup.groupby(dup):
        rows = [int(r) for r in group.index]
        for r in rows[1:]:
            out.append(Problem(f.sheet, r, f.header("ticket_id"), f"报修单号「{tid}」重复（第{rows[0]}行已使用）"))
    return out


def check_date_order(d: Data) -> list[Problem]:
    f = d.frames["repairs"]
    out = []
    if not len(f.df):
        return out
    notice, arrival, done, accepted = (f.dates(k) for k in ("notice", "arrival", "done", "accepted"))
    today = np.datetime64(d.today, "D")
    pairs = (
        (arrival, notice, "arrival", "到场日期早于报修日期"),
        (done, arrival, "done", "完成日期早于到场日期"),
        (accepted, done, "accepted", "验收日期早于完成日期"),
        (done, notice, "done", "完成日期早于报修日期"),
    )
    seen = set()
    for later, earlier, key, msg in pairs:
        wrong = ~np.isnat(later) & ~np.isnat(earlier) & (later < earlier)
        for r in f.df.index[wrong]:
            if (int(r), key) not in seen:
                seen.add((int(r), key))
                out.append(Problem(f.sheet, int(r), f.header(key), msg))
    for key in ("notice", "arrival", "done", "accepted"):
        col = f.dates(key)
        future = ~np.isnat(col) & (col > today)
        for r in f.df.index[future]:
            out.append(Problem(f.sheet, int(r), f.header(key), f"日期在今天（{d.today:%Y-%m-%d}）之后", HINT))
    # a repair request before the project was handed over
    p = d.frames["projects"]
    pacc_col = p.dates("accepted") if len(p.df) else np.zeros(0, "datetime64[D]")
    for r in p.df.index[~np.isnat(pacc_col) & (pacc_col > today)]:
        out.append(Problem(p.sheet, int(r), p.header("accepted"),
                           f"竣工验收日期 {p.df.at[r, 'accepted']:%Y-%m-%d} 在今天之后", HINT))
    acc = pd.Series(p.dates("accepted"), index=p.df["project_id"].map(lambda v: "" if is_blank(v) else str(v).strip()))
    acc = acc[~acc.index.duplicated()]
    pid = f.df["project_id"].map(lambda v: "" if is_blank(v) else str(v).strip())
    pacc = pid.map(acc).to_numpy(dtype="datetime64[D]")
    early = ~np.isnat(pacc) & ~np.isnat(notice) & (notice < pacc)
    for r in f.df.index[early]:
        out.append(Problem(f.sheet, int(r), f.header("notice"), "报修日期早于该项目的竣工验收日期", HINT))
    return out


def check_terms(d: Data) -> list[Problem]:
    """Unreadable terms (错误), terms below the legal floor (提示), duplicate project+part rows."""
    from pyfuncs.core.parts import STATUTORY, STRUCTURE
    from pyfuncs.core.warranty import means_design_life, parse_term

    f = d.frames["terms"]
    out = []
    seen: dict[tuple[str, str], int] = {}
    for r in f.df.index:
        pid, part, term = f.df.at[r, "project_id"], f.df.at[r, "part"], f.df.at[r, "term"]
        if not is_blank(pid) and not is_blank(part):
            k = (str(pid).strip(), str(part))
            if k in seen:
                out.append(Problem(f.sheet, int(r), f.header("part"),
                                   f"项目「{k[0]}」的「{part}」已在第{seen[k]}行约定，按到期日较晚的一行判断是否在保", HINT))
            else:
                seen[k] = int(r)
        if is_blank(term):
            continue
        if means_design_life(term):
            if str(part) != STRUCTURE:
                out.append(Problem(f.sheet, int(r), f.header("term"),
                                   f"「{term}」只适用于地基基础和主体结构；{part}请写年数（如 5年），"
                                   "刷新台账和回访计划暂按法定期限计算"))
            continue
        try:
            t = parse_term(term)
        except ValueError as e:
            out.append(Problem(f.sheet, int(r), f.header("term"),
                               f"{e}；刷新台账和回访计划暂按法定期限计算，请改正"))
            continue
        floor = STATUTORY.get(part) if not is_blank(part) else None
        if t is None or floor is None:
            continue
        if t.unit == floor.unit and t.amount < floor.amount or (
                t.months is not None and floor.months is not None and t.months < floor.months):
            out.append(Problem(f.sheet, int(r), f.header("term"),
                               f"约定保修期{t.label()}短于法定最低{floor.label()}（{part}），按法定最低期限计", HINT))
    return out


def check_signoff(d: Data) -> list[Problem]:
    """用户签认 and 状态 agree: 已验收 needs the user's sign-off; a sign-off needs a finished repair."""
    f = d.frames["repairs"]
    out = []
    if not len(f.df):
        return out
    signed = f.df["signed"].map(lambda v: isinstance(v, str) and v.strip() == "是").to_numpy(dtype=bool)
    state = f.df["state"].to_numpy(dtype=object)
    for r in f.df.index[(state == "已验收") & ~signed]:
        out.append(Problem(f.sheet, int(r), f.header("signed"),
                           "状态为已验收，但用户签认未填：用户签认后才算已验收", HINT))
    unfinished = np.isnat(f.dates("done")) & np.isnat(f.dates("accepted"))
    for r in f.df.index[signed & unfinished]:
        out.append(Problem(f.sheet, int(r), f.header("done"), "用户已签认，但完成日期和验收日期都为空", HINT))
    return out


def check_visits(d: Data) -> list[Problem]:
    from pyfuncs.core.findings import PROBLEM, UNCLEAR, classify

    f = d.frames["visits"]
    out = []
    if not len(f.df):
        return out
    low = f.df["satisfaction"].isin(("不太满意", "不满意")).to_numpy()
    pending = f.df["registered"].map(lambda v: isinstance(v, str) and v.startswith("待确认")).to_numpy(dtype=bool)
    no_ticket = f.df["ticket_id"].isna().to_numpy() & (f.df["registered"].isna().to_numpy() | pending)
    for r in f.df.index[low & no_ticket]:
        out.append(Problem(f.sheet, int(r), f.header("satisfaction"),
                           "评价为不满意但没有报修单，运行“登记回访”会自动开单", HINT))
    for r, found, text in zip(f.df.index, f.df["found"], f.df["problems"]):
        if is_blank(text):
            continue
        kind = classify(text)
        if found == "否" and kind == PROBLEM:
            out.append(Problem(f.sheet, int(r), f.header("found"),
                               f"是否发现问题为否，但发现问题写了「{str(text).strip()}」：请核对（为否时不开报修单）", HINT))
        elif is_blank(found) and kind == UNCLEAR:
            out.append(Problem(f.sheet, int(r), f.header("found"),
                               f"发现问题「{str(text).strip()}」看不出是否有问题：请填写是否发现问题（是：登记回访时开报修单）",
                               HINT))
    rep = d.frames["repairs"]
    tickets = set(rep.df["ticket_id"].dropna().map(lambda v: str(v).strip()))
    for r, tid in f.df["ticket_id"].dropna().items():
        for t in str(tid).replace("，", ",").replace("、", ",").split(","):
            if t.strip() and t.strip() not in tickets:
                out.append(Problem(f.sheet, int(r), f.header("ticket_id"), f"报修单号「{t.strip()}」在报修台账中找不到", HINT))
    return out


def check_plan_states(d: Data) -> list[Problem]:
    """Every year's plan (回访计划YYYY): a 状态 outside the dropdown (未回访/已回访/已取消/已改期),
    such as 「完成」 or 「1月7号」, and an 实际回访日期 that is not a date. The plan keeps what staff
    wrote, but 本周待办 and the plan's highlight only know the four states."""
    import re

    from pyfuncs.jobs.plan import read_plan
    from pyfuncs.schema import PLAN_STATES, plan_table

    out = []
    for name in d.book.sheet_names():
        m = re.fullmatch(r"回访计划(\d{4})", name)
        if not m:
            continue
        frame = read_plan(d.book, int(m.group(1)))
        if frame is None:
            continue
        t = plan_table(int(m.group(1)))
        for r, v in frame.plan["state"].items():
            text = "" if is_blank(v) else str(v).strip()
            if text and text not in PLAN_STATES:
                out.append(Problem(name, int(r), t.column("state").header,
                                   f"「{text}」不是可选的状态（可选：{'、'.join(PLAN_STATES)}）；已回访的请选“已回访”，"
                                   "并在“实际回访日期”填写日期", ERROR))
        for r, v in frame.plan["actual"].items():
            if not is_blank(v) and not isinstance(v, (dt.date, dt.datetime)):
                out.append(Problem(name, int(r), t.column("actual").header,
                                   f"「{str(v).strip()}」不是有效的日期，请写成 2026-03-05 这样的日期", ERROR))
    return out
def check_retention(d: Data) -> list[Problem]:
    """质保金 on 项目台账 (建质〔2017〕138号): a ratio above 3% (第七条), a defect-liability period
    outside 1–24 months (第二条), no start date, amount and ratio that disagree — the same
    problems 刷新台账 reports (:func:`pyfuncs.jobs._common.compute_retention`)."""
    from pyfuncs.jobs._common import compute_retention

    _, problems = compute_retention(d.frames["projects"], d.settings, d.today)
    return problems


CHECKS: tuple[Callable[[Data], list[Problem]], ...] = (
    check_tables,
    check_settings,
    check_duplicate_projects,
    check_unknown_projects,
    check_cities,
    check_design_life,
    check_holiday_years,
    check_duplicate_tickets,
    check_date_order,
    check_terms,
    check_signoff,
    check_visits,
    check_plan_states,
    check_retention,
)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        k = (p.sheet, p.row, p.column, p.message)
        if k not in seen:
            seen.add(k)
            out.append(p)
    return out


def find_problems(book: Book, today: dt.date) -> list[Problem]:
    d = load(book, today)
    problems: list[Problem] = []
    for check in CHECKS:
        problems += check(d)
    problems = _dedupe(problems)
    order = {name: i for i, name in enumerate(book.sheet_names())}
    problems.sort(key=lambda p: (p.level != ERROR, order.get(p.sheet, 99), p.row or 0, p.column or ""))
    return problems


def result_layout(problems: list[Problem], today: dt.date, sheets: list[str] = ()) -> Layout:
    """The 检查结果 sheet: a title, a header, one row per problem; the sheet name links to the
    problem's row on that sheet (when the sheet exists)."""
    lay = Layout(RESULT_SHEET, print_title_rows="2:2", freeze="A3")
    lay.put(1, 1, f"数据检查结果（{today:%Y-%m-%d}）：错误 {sum(p.level == ERROR for p in problems)} 处，"
                  f"提示 {sum(p.level == HINT for p in problems)} 处", "section")
    lay.merge(1, 1, 1, 5)
    for j, h in enumerate(("级别", "工作表", "行", "列", "问题"), start=1):
        lay.put(2, j, h, "header")
    for i, p in enumerate(problems, start=3):
        lay.put(i, 1, p.level, "bad" if p.level == ERROR else "warn")
        lay.put(i, 2, p.sheet, "link" if p.sheet in sheets else "cell")
        if p.sheet in sheets:
            lay.link(i, 2, p.sheet, f"A{p.row or 1}")
        lay.put(i, 3, p.row, "int")
        lay.put(i, 4, p.column, "cell")
        lay.put(i, 5, p.message, "cell")
    if not problems:
        lay.put(3, 5, "没有发现问题", "cell")
    lay.widths = {1: 6, 2: 12, 3: 6, 4: 14, 5: 70}
    fit_row_heights(lay)
    return lay


def write_result_sheet(book: Book, problems: list[Problem], today: dt.date) -> None:
    book.put_sheet(result_layout(problems, today, book.sheet_names()))


def run(book: Book, opts: JobOptions) -> JobResult:
    book.progress(1, 1, "检查数据")
    problems = find_problems(book, opts.today)
    if opts.extra.get("sheet"):
        write_result_sheet(book, problems, opts.today)
    book.set_status(None)
    errors = sum(p.level == ERROR for p in problems)
    hints = len(problems) - errors
    result = JobResult("check", problems=problems)
    result.summary = {"errors": errors, "hints": hints,
                      "by_sheet": pd.Series([p.sheet for p in problems], dtype=object).value_counts().to_dict()
                      if problems else {}}
    result.messages.append(f"数据检查完成：错误 {errors} 处，提示 {hints} 处。" if problems else "数据检查完成：没有发现问题。")
    return result
