"""统计报表 (``report``): the 统计 sheet — figures of DOMAIN.md §4 and native Excel charts, dated.

sheet → typed tables → :func:`compute` (pure: DataFrames in, a :class:`Report` of small tables
out) → :func:`report_layout` (cells + chart definitions) → the 统计 sheet, cleared and rewritten
(only that sheet; its previous report content, charts included, is replaced).

Figures (as of the run's date, ``--today``):

- parts whose warranty ends within the settings' tiers (30/60/90 days), by tier, and the list;
- open repairs (no 完成日期 and 状态 not 已完成/已验收/已关闭) and overdue ones (deadline from the
  core clock, 超期天数 > 0), the list of open tickets;
- repairs by part × cause (all tickets); repairs and overdue repairs by month, last 12 months;
- response time, days from 报修日期 to 到场日期: count, mean, median, by urgency and overall;
- satisfaction by year and by project and year: rated visits, rate (满意 or better ÷ rated), mean
  score (settings' scores).

Charts (openpyxl BarChart/LineChart, rebuilt on every run): repairs by part and cause (stacked),
monthly repairs with overdue (columns + line), satisfaction by year (rate columns + mean-score line).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pyfuncs.core.parts import PART_LABELS
from pyfuncs.jobs import JobOptions, JobResult, Problem
from pyfuncs.layout import ChartSpec, Layout, fit_row_heights
from pyfuncs.schema import CAUSES, REPORT_SHEET, URGENCIES

CLOSED_STATES = ("已完成", "已验收", "已关闭")
GOOD_LEVELS = ("很满意", "满意")
NO_PART = "未填部位"
NO_CAUSE = "未填原因"


@dataclass
class Report:
    today: dt.date
    tiers: tuple[int, ...]
    figures: list[tuple[str, object]] = field(default_factory=list)
    expiring: pd.DataFrame = None          # tier, project_id, name, part, end, days_left
    tier_counts: pd.DataFrame = None       # tier label, count
    open_repairs: pd.DataFrame = None      # ticket rows still open
    by_part_cause: pd.DataFrame = None     # index part, columns causes (+合计)
    by_month: pd.DataFrame = None          # month label, repairs, overdue
    response: pd.DataFrame = None          # urgency, count, mean, median
    sat_year: pd.DataFrame = None          # year, rated, good, rate, mean score
    sat_project: pd.DataFrame = None       # project_id, name, year, rated, rate, mean


def _d64(s) -> np.ndarray:
    return pd.Series(s).to_numpy(dtype="datetime64[s]").astype("datetime64[D]")


def _txt(v) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) or pd.isna(v) else str(v).strip()


def compute(projects: pd.DataFrame, terms: pd.DataFrame, repairs: pd.DataFrame, visits: pd.DataFrame,
            settings, calendar, today: dt.date) -> Report:
    """All figures. ``terms`` carries ``end`` (see ``_common.terms_with_ends``); the other frames
    are the typed tables (schema keys). Pure."""
    from pyfuncs.core.clock import overdue_days, repair_due

    tiers = tuple(sorted(settings.warn_tiers)) or (30, 60, 90)
    rep = Report(today=today, tiers=tiers)
    names = {_txt(p): _txt(n) for p, n in zip(projects["project_id"], projects["name"])}
    t64 = np.datetime64(today, "D")

    # --- expiring parts ---
    ends = _d64(terms["end"]) if len(terms) else np.array([], "datetime64[D]")
    left = (ends - t64).astype("timedelta64[D]").astype(float) if len(terms) else np.array([])
    left[np.isnat(ends)] = np.nan
    within = (left >= 0) & (left <= tiers[-1])
    exp = terms.loc[within, ["project_id", "part"]].copy()
    exp["days_left"] = left[within].astype(int)
    exp["end"] = [pd.Timestamp(e).date() for e in ends[within]]
    exp["name"] = exp["project_id"].map(lambda p: names.get(_txt(p), ""))
    exp["tier"] = exp["days_left"].map(lambda d: next(f"{t}天内" for t in tiers if d <= t))
    rep.expiring = exp.sort_values(["days_left", "project_id", "part"], kind="stable")[
        ["tier", "project_id", "name", "part", "end", "days_left"]].reset_index(drop=True)
    labels = []
    lo = 0
    for t in tiers:
        labels.append((f"{t}天内", int(((left >= lo) & (left <= t)).sum()), f"{lo}–{t}天"))
        lo = t + 1
    rep.tier_counts = pd.DataFrame(labels, columns=["tier", "count", "range"])

    # --- repairs: deadline, overdue, open ---
    r = repairs.copy()
    notice = _d64(r["notice"]) if len(r) else np.array([], "datetime64[D]")
    arrival = _d64(r["arrival"]) if len(r) else np.array([], "datetime64[D]")
    due, _err = repair_due(notice, list(r["urgency"]) if len(r) else [], None, settings, calendar) \
        if len(r) else (np.array([], "datetime64[D]"), {})
    late = overdue_days(due, arrival, today) if len(r) else np.array([])
    r["due"] = due
    r["late"] = late
    done = r["done"].notna().to_numpy() if len(r) else np.array([], bool)
    closed = r["state"].map(lambda s: _txt(s) in CLOSED_STATES).to_numpy(dtype=bool) if len(r) else done
    is_open = ~(done | closed)
    is_late = np.nan_to_num(late) > 0
    op = r.loc[is_open].copy()
    op["name"] = op["project_id"].map(lambda p: names.get(_txt(p), ""))
    op["days_open"] = [(t64 - n).astype(int) if not np.isnat(n) else None for n in notice[is_open]]
    rep.open_repairs = op.sort_values(["late", "notice"], ascending=[False, True], kind="stable")

    # --- by part x cause ---
    part = r["part"].map(lambda v: _txt(v) or NO_PART) if len(r) else pd.Series(dtype=object)
    cause = r["cause"].map(lambda v: _txt(v) or NO_CAUSE) if len(r) else pd.Series(dtype=object)
    ct = pd.crosstab(part, cause) if len(r) else pd.DataFrame()
    part_order = [p for p in (*PART_LABELS, NO_PART) if p in ct.index]
    cause_order = [c for c in (*CAUSES, NO_CAUSE) if c in ct.columns]
    ct = ct.reindex(index=part_order, columns=cause_order, fill_value=0)
    ct["合计"] = ct.sum(axis=1)
    rep.by_part_cause = ct

    # --- last 12 months ---
    this_month = np.datetime64(today, "M")
    months = [this_month - i for i in range(11, -1, -1)]
    nm = notice.astype("datetime64[M]")
    rows = []
    for m in months:
        sel = nm == m
        rows.append((str(m), int(sel.sum()), int((sel & is_late).sum())))
    rep.by_month = pd.DataFrame(rows, columns=["month", "repairs", "overdue"])

    # --- response times ---
    resp = (arrival - notice).astype("timedelta64[D]").astype(float) if len(r) else np.array([])
    if len(r):
        resp[np.isnat(arrival) | np.isnat(notice)] = np.nan
    urg = r["urgency"].map(lambda v: _txt(v) or "一般").to_numpy(dtype=object) if len(r) else np.array([], object)
    rows = []
    for u in (*URGENCIES, "全部"):
        sel = ~np.isnan(resp) & ((urg == u) if u != "全部" else True)
        vals = resp[sel]
        rows.append((u, int(len(vals)), float(np.mean(vals)) if len(vals) else None,
                     float(np.median(vals)) if len(vals) else None,
                     int(((urg == u) if u != "全部" else np.ones(len(urg), bool))[is_late].sum()) if len(r) else 0))
    rep.response = pd.DataFrame(rows, columns=["urgency", "count", "mean", "median", "overdue"])

    # --- satisfaction ---
    v = visits.copy()
    v["level"] = v["satisfaction"].map(_txt)
    v = v[v["level"] != ""]
    v["year"] = [pd.Timestamp(d).year if not pd.isna(d) else None for d in v["date"]]
    v = v[v["year"].notna()]
    v["good"] = v["level"].isin(GOOD_LEVELS)
    v["score"] = v["level"].map(settings.score).astype(float)

    def agg(g):
        return pd.Series({"rated": len(g), "good": int(g["good"].sum()),
                          "rate": g["good"].mean() if len(g) else None,
                          "mean": g["score"].mean() if g["score"].notna().any() else None})

    cols = ["rated", "good", "rate", "mean"]
    if len(v):
        sy = v.groupby("year").apply(agg, include_groups=False).reset_index()
        sp = v.groupby(["project_id", "year"]).apply(agg, include_groups=False).reset_index()
    else:
        sy = pd.DataFrame(columns=["year", *cols])
        sp = pd.DataFrame(columns=["project_id", "year", *cols])
    sy["year"] = sy["year"].astype(int)
    sp["year"] = sp["year"].astype(int)
    sp.insert(1, "name", sp["project_id"].map(lambda p: names.get(_txt(p), "")))
    rep.sat_year = sy
    rep.sat_project = sp.sort_values(["project_id", "year"], kind="stable").reset_index(drop=True)

    # --- headline figures ---
    year_sel = nm.astype("datetime64[Y]") == np.datetime64(today, "Y") if len(r) else np.array([], bool)
    rated = int(len(v))
    rep.figures = [
        ("在保的保修部位", int((left >= 0).sum())),
        *[(f"{t}天内到期的部位", int(((left >= 0) & (left <= t)).sum())) for t in tiers],
        ("未结报修", int(is_open.sum())),
        ("其中已超期", int((is_open & is_late).sum())),
        ("超期报修（全部）", int(is_late.sum())),
        (f"{today.year}年报修", int(year_sel.sum())),
        ("平均到场天数", rep.response.iloc[-1]["mean"]),
        ("回访满意率（全部已评价回访）", float(v["good"].mean()) if rated else None),
    ]
    return rep


# --- layout -----------------------------------------------------------------------------------
def report_layout(rep: Report) -> Layout:
    lay = Layout(REPORT_SHEET, orientation="portrait", fit_width=True)
    widths = [14, 24, 26, 16, 12, 12, 12, 12, 12, 12]
    for i, w in enumerate(widths, start=1):
        lay.widths[i] = w
    ncol = len(widths)
    lay.put(1, 1, "工程回访与保修统计报表", "title")
    lay.merge(1, 1, 1, ncol)
    lay.heights[1] = 28
    lay.put(2, 1, f"统计日期: {rep.today.isoformat()}", "subtitle")
    lay.merge(2, 1, 2, ncol)
    r = 4

    def section(title):
        nonlocal r
        lay.put(r, 1, title, "section")
        lay.merge(r, 1, r, ncol)
        r += 1

    def table(headers, rows, styles):
        nonlocal r
        top = r
        for c, h in enumerate(headers, start=1):
            lay.put(r, c, h, "header")
        r += 1
        for row in rows:
            for c, (v, st) in enumerate(zip(row, styles), start=1):
                lay.put(r, c, None if _blank(v) else v, st)
            r += 1
        return top

    section("一、概要")
    for label, value in rep.figures:
        lay.put(r, 1, label, "label")
        lay.merge(r, 1, r, 3)
        st = "pct" if "满意率" in label else ("num1" if "天数" in label else "int")
        lay.put(r, 4, None if _blank(value) else value, st)
        r += 1
    r += 1

    section(f"二、即将到期的保修部位（{'/'.join(map(str, rep.tiers))}天）")
    table(["分档", "部位数"], [(t.tier, t.count) for t in rep.tier_counts.itertuples()], ["center", "int"])
    r += 1
    if len(rep.expiring):
        table(["分档", "项目编号", "项目名称", "保修部位", "到期日期", "剩余天数"],
              rep.expiring.itertuples(index=False), ["center", "center", "cell", "cell", "date", "int"])
    else:
        lay.put(r, 1, f"{rep.tiers[-1]}天内没有到期的保修部位。", "note")
        r += 1
    r += 1

    section("三、未结和超期报修")
    if len(rep.open_repairs):
        rows = [(_txt(t.ticket_id), _txt(t.project_id), t.name, _txt(t.part), _d(t.notice), _d(t.due),
                 _d(t.arrival), _txt(t.state), None if np.isnan(t.late) else int(t.late), t.days_open)
                for t in rep.open_repairs.itertuples()]
        table(["报修单号", "项目编号", "项目名称", "保修部位", "报修日期", "应到场日期", "到场日期", "状态",
               "超期天数", "已开天数"], rows,
              ["center", "center", "cell", "cell", "date", "date", "date", "center", "int", "int"])
    else:
        lay.put(r, 1, "没有未结的报修。", "note")
        r += 1
    r += 1

    section("四、报修按部位和原因（件）")
    ct = rep.by_part_cause
    chart_rows = 16
    if len(ct):
        cols = list(ct.columns)
        top = table(["保修部位", *cols], [(p, *[int(x) for x in ct.loc[p]]) for p in ct.index],
                    ["cell", *["int"] * len(cols)])
        n_causes = len(cols) - 1  # without 合计
        # the crosstab may be wider than the page's 10 columns: widths only matter for printing
        lay.charts.append(ChartSpec(
            "bar", "报修按部位和原因", f"A{r + 1}",
            data=(2, top, 1 + n_causes, top + len(ct)), cats=(1, top + 1, 1, top + len(ct)),
            x_title="", y_title="件", stacked=True, width=18, height=11))
        r += 24
    else:
        lay.put(r, 1, "没有报修记录。", "note")
        r += 2

    section("五、近12个月报修和超期（件）")
    top = table(["月份", "报修", "其中超期"], [(m.month, m.repairs, m.overdue) for m in rep.by_month.itertuples()],
                ["center", "int", "int"])
    lay.charts.append(ChartSpec(
        "bar+line", "近12个月报修和超期", f"E{top}",
        data=(2, top, 2, top + 12), cats=(1, top + 1, 1, top + 12), line_data=(3, top, 3, top + 12),
        y_title="报修（件）", line_axis_title="超期（件）", width=13, height=7))
    r = max(r, top + chart_rows) + 1

    section("六、响应时间（报修日期→到场日期，天）")
    table(["紧急程度", "已到场件数", "平均天数", "中位天数", "超期件数"],
          [(x.urgency, x.count, x.mean, x.median, x.overdue) for x in rep.response.itertuples()],
          ["center", "int", "num1", "num1", "int"])
    r += 1

    section("七、回访满意度")
    if len(rep.sat_year):
        top = table(["年份", "评价次数", "满意及以上", "满意率", "平均分"],
                    [(int(y.year), int(y.rated), int(y.good), y.rate, y.mean) for y in rep.sat_year.itertuples()],
                    ["center", "int", "int", "pct", "num1"])
        n = len(rep.sat_year)
        lay.charts.append(ChartSpec(
            "bar+line", "回访满意度（按年）", f"A{r + 1}",
            data=(4, top, 4, top + n), cats=(1, top + 1, 1, top + n), line_data=(5, top, 5, top + n),
            y_title="满意率", line_axis_title="平均分", width=15, height=7))
        r += chart_rows + 2
        table(["项目编号", "项目名称", "年份", "评价次数", "满意率", "平均分"],
              [(p.project_id, p.name, int(p.year), int(p.rated), p.rate, p.mean) for p in rep.sat_project.itertuples()],
              ["center", "cell", "center", "int", "pct", "num1"])
    else:
        lay.put(r, 1, "没有已评价的回访记录。", "note")
        r += 1
    from pyfuncs.io.book import col_letter

    lay.print_area = f"A1:{col_letter(max(ncol, lay.max_col))}{r}"
    fit_row_heights(lay)
    return lay


def _blank(v) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _d(v):
    if _blank(v):
        return None
    return pd.Timestamp(v).date()


# --- the job ----------------------------------------------------------------------------------
def run(book, opts: JobOptions) -> JobResult:
    from pyfuncs.jobs._common import settings_and_calendar, terms_with_ends
    from pyfuncs.schema import TABLES
    from pyfuncs.tables import read_table

    result = JobResult("report")
    settings, calendar, problems = settings_and_calendar(book)
    result.problems += problems
    book.progress(1, 2, "读取台账")
    frames = {k: read_table(book, TABLES[k]) for k in ("projects", "terms", "repairs", "visits")}
    for f in frames.values():
        result.problems += f.problems

    def good(k):
        f = frames[k]
        return f.df[~f.df.index.isin(f.bad_rows)]

    projects = good("projects")
    terms, bad_ends = terms_with_ends(projects, good("terms"), settings)
    for row, msg in bad_ends.items():
        result.problems.append(Problem(TABLES["terms"].sheet, row, "到期日期", msg, "提示"))
    rep = compute(projects, terms, good("repairs"), good("visits"), settings, calendar, opts.today)
    lay = report_layout(rep)
    book.progress(2, 2, "写入统计表和图表")
    book.put_sheet(lay)
    book.set_status(None)
    fig = dict(rep.figures)
    result.summary = {
        "date": opts.today.isoformat(),
        "expiring": {t.tier: int(t.count) for t in rep.tier_counts.itertuples()},
        "open_repairs": fig["未结报修"], "open_overdue": fig["其中已超期"],
        "satisfaction_rate": fig["回访满意率（全部已评价回访）"],
        "charts": len(lay.charts),
    }
    result.messages.append(f"统计表已更新（统计日期 {opts.today.isoformat()}）：未结报修 {fig['未结报修']} 件，"
                           f"其中超期 {fig['其中已超期']} 件；{rep.tiers[-1]}天内到期部位 {fig[f'{rep.tiers[-1]}天内到期的部位']} 个")
    return result
