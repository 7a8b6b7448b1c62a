"""统计报表 (``report``): the 统计 sheet — figures of DOMAIN.md §4 and native Excel charts, dated.

sheet → typed tables → :func:`compute` (pure: DataFrames in, a :class:`Report` of small tables
out) → :func:`report_layout` (cells + chart definitions) → the 统计 sheet, cleared and rewritten
(only that sheet; its previous report content, charts included, is replaced).

Every ticket figure comes from :func:`pyfuncs.jobs.refresh.assess_ledger`, i.e. the core's one
definition (:func:`pyfuncs.core.clock.ticket_clock`), so the report and 刷新台账 count the same
tickets as open and overdue. Each figure says what it counts:

- parts whose warranty ends within the settings' tiers (30/60/90 days): in 概要 cumulative
  (「60天内到期（累计）」 includes the 30-day ones), in the band table by band (「31–60天」);
- 未结报修 (no 完成/验收日期 and 状态 not 已完成/已验收/已关闭), 未结中超期, 超期（含已结）: every
  ticket that was or is late, closed ones included; a paid repair outside warranty has no clock;
- repairs by part × cause and by 专业 × cause (responsible party); visit problems by 专业;
  repairs and overdue repairs by month, last 12 months;
- response time, days from 报修日期 to the day on site (到场日期, else 完成/验收日期): count,
  mean, median, overdue count, by urgency, by 维修单位 and by 维修人员;
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

from pyfuncs.core.parts import DISCIPLINES, PART_LABELS
from pyfuncs.jobs import JobOptions, JobResult, Problem
from pyfuncs.layout import keep_charts_on_page, ChartSpec, Layout, fit_row_heights
from pyfuncs.schema import CAUSES, REPORT_SHEET, URGENCIES

GOOD_LEVELS = ("很满意", "满意")
NO_PART = "未填部位"
NO_CAUSE = "未填原因"
NO_DISCIPLINE = "未填专业"
NOT_GIVEN = "未填"

# 概要 labels (also the keys of the run's summary)
F_IN_WARRANTY = "在保的保修部位（项）"
F_OPEN = "未结报修（件）"
F_OPEN_LATE = "未结中超期（件）"
F_LATE_ALL = "超期报修（含已结，件）"
F_SATISFACTION = "回访满意率（全部已评价回访）"


def tier_label(t: int) -> str:
    """概要's cumulative label for the tier ``t``: 「60天内到期的部位（累计，项）」."""
    return f"{t}天内到期的部位（累计，项）"


@dataclass
class Report:
    today: dt.date
    tiers: tuple[int, ...]
    figures: list[tuple[str, object]] = field(default_factory=list)
    expiring: pd.DataFrame = None          # band, project_id, name, part, end, days_left
    tier_counts: pd.DataFrame = None       # band label, count in the band, cumulative count
    open_repairs: pd.DataFrame = None      # ticket rows still open
    by_part_cause: pd.DataFrame = None     # index part, columns causes (+合计)
    by_discipline: pd.DataFrame = None     # index 专业, columns causes (+合计)
    visit_problems: pd.DataFrame = None    # 专业, visits that found a problem
    by_month: pd.DataFrame = None          # month label, repairs, overdue
    response: pd.DataFrame = None          # urgency, count, mean, median, overdue
    by_contractor: pd.DataFrame = None     # 维修单位, count, mean, median, overdue
    by_repairer: pd.DataFrame = None       # 维修人员, count, mean, median, overdue
    sat_year: pd.DataFrame = None          # year, rated, good, rate, mean score
    sat_project: pd.DataFrame = None       # project_id, name, year, rated, rate, mean
    retention: pd.DataFrame = None         # 质保金 to claim back: pyfuncs.core.retention.claimable


def _d64(s) -> np.ndarray:
    return pd.Series(s).to_numpy(dtype="datetime64[s]").astype("datetime64[D]")


def _txt(v) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) or pd.isna(v) else str(v).strip()


def _col(df: pd.DataFrame, key: str) -> pd.Series:
    """A column of a caller's table, blank where the table does not have it."""
    return df[key] if key in df.columns else pd.Series([None] * len(df), index=df.index, dtype=object)


def _response_table(keys: np.ndarray, resp: np.ndarray, late: np.ndarray, order=None) -> pd.DataFrame:
    """count, mean, median of the response days and the overdue count, per key (and 全部)."""
    rows = []
    groups = list(order) if order is not None else sorted(
        set(keys.tolist()), key=lambda k: (k == NOT_GIVEN, -int((keys == k).sum()), k))
    for k in (*groups, "全部"):
        sel = np.ones(len(keys), bool) if k == "全部" else (keys == k)
        vals = resp[sel & ~np.isnan(resp)]
        # rounded to what a figure of days means (the sheet shows one decimal): the cell holds the
        # number staff see, and every writer stores the same digits
        rows.append((k, int(len(vals)), round(float(np.mean(vals)), 2) if len(vals) else None,
                     round(float(np.median(vals)), 2) if len(vals) else None, int((sel & late).sum())))
    return pd.DataFrame(rows, columns=["key", "count", "mean", "median", "overdue"])


def compute(projects: pd.DataFrame, terms: pd.DataFrame, repairs: pd.DataFrame, visits: pd.DataFrame,
            settings, calendar, today: dt.date) -> Report:
    """All figures. ``terms`` carries ``end`` (see ``_common.terms_with_ends``); the other frames
    are the typed tables (schema keys; ``projects`` needs 竣工验收日期 for the warranty of each
    ticket). Pure."""
    from pyfuncs.core.findings import found_problem
    from pyfuncs.core.parts import discipline_of
    from pyfuncs.jobs.refresh import assess_ledger

    tiers = tuple(sorted(settings.warn_tiers)) or (30, 60, 90)
    rep = Report(today=today, tiers=tiers)
    names = {_txt(p): _txt(n) for p, n in zip(projects["project_id"], projects["name"])}
    t64 = np.datetime64(today, "D")

    # --- expiring parts ---
    ends = _d64(terms["end"]) if len(terms) else np.array([], "datetime64[D]")
    left = (ends - t64).astype("timedelta64[D]").astype(float) if len(terms) else np.array([])
    left[np.isnat(ends)] = np.nan
    within = (left >= 0) & (left <= tiers[-1])
    bands = []
    lo = 0
    for t in tiers:
        bands.append((f"{lo}–{t}天", lo, t))
        lo = t + 1
    exp = terms.loc[within, ["project_id", "part"]].copy()
    exp["days_left"] = left[within].astype(int)
    exp["end"] = [pd.Timestamp(e).date() for e in ends[within]]
    exp["name"] = exp["project_id"].map(lambda p: names.get(_txt(p), ""))
    exp["tier"] = exp["days_left"].map(lambda d: next(b for b, lo_, hi in bands if lo_ <= d <= hi))
    rep.expiring = exp.sort_values(["days_left", "project_id", "part"], kind="stable")[
        ["tier", "project_id", "name", "part", "end", "days_left"]].reset_index(drop=True)
    rep.tier_counts = pd.DataFrame(
        [(b, int(((left >= lo_) & (left <= hi)).sum()), int(((left >= 0) & (left <= hi)).sum()))
         for b, lo_, hi in bands], columns=["tier", "count", "cumulative"])

    # --- repairs: the ledger's own assessment (deadline, warranty, overdue, open) ---
    r = repairs.copy()
    a = assess_ledger(projects, terms, r, settings, calendar, today)
    good = ~a.bad
    notice = _d64(r["notice"]) if len(r) else np.array([], "datetime64[D]")
    late = np.where(good, a.clock.late, np.nan)
    r["due"] = np.where(good, a.clock.due, np.datetime64("NaT"))
    r["late"] = late
    r["on_site"] = a.clock.on_site
    is_open = a.open
    is_late = a.overdue
    op = r.loc[is_open].copy()
    op["name"] = op["project_id"].map(lambda p: names.get(_txt(p), ""))
    op["days_open"] = [(t64 - n).astype(int) if not np.isnat(n) else None for n in notice[is_open]]
    rep.open_repairs = op.sort_values(["late", "notice"], ascending=[False, True], kind="stable")

    # --- by part x cause; by 专业 x cause (responsible party) ---
    cause = r["cause"].map(lambda v: _txt(v) or NO_CAUSE) if len(r) else pd.Series(dtype=object)
    cause_order_all = (*CAUSES, NO_CAUSE)

    def crosstab(rows: pd.Series, row_order) -> pd.DataFrame:
        ct = pd.crosstab(rows, cause) if len(r) else pd.DataFrame()
        ct = ct.reindex(index=[x for x in row_order if x in ct.index],
                        columns=[c for c in cause_order_all if c in ct.columns], fill_value=0)
        ct["合计"] = ct.sum(axis=1)
        return ct

    part = r["part"].map(lambda v: _txt(v) or NO_PART) if len(r) else pd.Series(dtype=object)
    rep.by_part_cause = crosstab(part, (*PART_LABELS, NO_PART))
    given = _col(r, "discipline").map(_txt).to_numpy(dtype=object) if len(r) else np.zeros(0, object)
    default = discipline_of(r["part"].to_numpy(dtype=object)) if len(r) else np.zeros(0, object)
    disc = np.where(given != "", given, np.where(pd.isna(default), NO_DISCIPLINE, default))
    rep.by_discipline = crosstab(pd.Series(disc, index=r.index, dtype=object), (*DISCIPLINES, NO_DISCIPLINE))

    vf = visits[[found_problem(f, t) for f, t in zip(_col(visits, "found"), _col(visits, "problems"))]] \
        if len(visits) else visits
    vgiven = _col(vf, "discipline").map(_txt).to_numpy(dtype=object)
    vdefault = discipline_of(_col(vf, "part").to_numpy(dtype=object)) if len(vf) else np.zeros(0, object)
    vdisc = np.where(vgiven != "", vgiven, np.where(pd.isna(vdefault), NO_DISCIPLINE, vdefault)) \
        if len(vf) else np.zeros(0, object)
    counts = pd.Series(vdisc, dtype=object).value_counts()
    rep.visit_problems = pd.DataFrame(
        [(d, int(counts.get(d, 0))) for d in (*DISCIPLINES, NO_DISCIPLINE) if counts.get(d, 0)],
        columns=["discipline", "count"])

    # --- last 12 months ---
    this_month = np.datetime64(today, "M")
    months = [this_month - i for i in range(11, -1, -1)]
    nm = notice.astype("datetime64[M]")
    rows = []
    for m in months:
        sel = nm == m
        rows.append((str(m), int(sel.sum()), int((sel & is_late).sum())))
    rep.by_month = pd.DataFrame(rows, columns=["month", "repairs", "overdue"])

    # --- response times (报修日期 → on site), by urgency, 维修单位, 维修人员 ---
    resp = np.where(good, a.clock.response, np.nan) if len(r) else np.array([])
    urg = r["urgency"].map(lambda v: _txt(v) or "一般").to_numpy(dtype=object) if len(r) else np.array([], object)
    rep.response = _response_table(urg, resp, is_late, URGENCIES).rename(columns={"key": "urgency"})
    for key, attr in (("contractor", "by_contractor"), ("repairer", "by_repairer")):
        who = _col(r, key).map(lambda v: _txt(v) or NOT_GIVEN).to_numpy(dtype=object)
        setattr(rep, attr, _response_table(who, resp, is_late))

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

    # --- headline figures: each label says what it counts ---
    year_sel = nm.astype("datetime64[Y]") == np.datetime64(today, "Y") if len(r) else np.array([], bool)
    rated = int(len(v))
    rep.figures = [
        (F_IN_WARRANTY, int((left >= 0).sum())),
        *[(tier_label(t), int(((left >= 0) & (left <= t)).sum())) for t in tiers],
        (F_OPEN, int(is_open.sum())),
        (F_OPEN_LATE, int((is_open & is_late).sum())),
        (F_LATE_ALL, int(is_late.sum())),
        (f"{today.year}年报修（件）", int(year_sel.sum())),
        ("平均到场天数（报修日期→到场）", rep.response.iloc[-1]["mean"]),
        (F_SATISFACTION, float(v["good"].mean()) if rated else None),
    ]
    from pyfuncs.core.retention import claimable

    rep.retention = claimable(projects, today, default_months=settings.defect_months,
                              grace_days=settings.retention_grace_days)
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
    lay.put(r, 1, "注：超期按报修日期起算的应到场日期判断，未填到场日期的以完成日期或验收日期为到场日；"
                  "已结但曾超期的计入“超期（含已结）”；保修期外的有偿维修不计超期（见设置“过保报修计超期”）。"
                  "“N天内到期”为累计数，含更短的分档。", "text")
    lay.merge(r, 1, r, ncol)
    r += 2

    section(f"二、即将到期的保修部位（按剩余天数分档：{'/'.join(map(str, rep.tiers))}天）")
    table(["剩余天数", "本档部位数（项）", "累计部位数（项）"],
          [(t.tier, t.count, t.cumulative) for t in rep.tier_counts.itertuples()], ["center", "int", "int"])
    r += 1
    if len(rep.expiring):
        table(["分档", "项目编号", "项目名称", "保修部位", "到期日期", "剩余天数"],
              rep.expiring.itertuples(index=False), ["center", "center", "cell", "cell", "date", "int"])
    else:
        lay.put(r, 1, f"{rep.tiers[-1]}天内没有到期的保修部位。", "note")
        r += 1
    r += 1

    section("三、未结报修（含其中超期的，件）")
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
    block = r - 1
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
            x_title="", y_title="件", stacked=True, width=18, height=11, keep_from=block))
        r += 24
    else:
        lay.put(r, 1, "没有报修记录。", "note")
        r += 2

    section("五、报修按专业和原因（责任方）（件）")
    ct = rep.by_discipline
    if len(ct):
        cols = list(ct.columns)
        table(["专业", *cols], [(d, *[int(x) for x in ct.loc[d]]) for d in ct.index], ["cell", *["int"] * len(cols)])
    else:
        lay.put(r, 1, "没有报修记录。", "note")
        r += 1
    r += 1
    lay.put(r, 1, "回访发现的问题按专业（次）", "label")
    lay.merge(r, 1, r, 2)
    r += 1
    if len(rep.visit_problems):
        table(["专业", "发现问题的回访"], [(x.discipline, x.count) for x in rep.visit_problems.itertuples()],
              ["cell", "int"])
    else:
        lay.put(r, 1, "回访没有发现问题。", "note")
        r += 1
    r += 1

    section("六、近12个月报修和超期（件）")
    block = r - 1
    top = table(["月份", "报修", "其中超期（含已结）"],
                [(m.month, m.repairs, m.overdue) for m in rep.by_month.itertuples()], ["center", "int", "int"])
    lay.charts.append(ChartSpec(
        "bar+line", "近12个月报修和超期", f"E{top}",
        data=(2, top, 2, top + 12), cats=(1, top + 1, 1, top + 12), line_data=(3, top, 3, top + 12),
        y_title="报修（件）", line_axis_title="超期（件）", width=13, height=7, keep_from=block))
    r = max(r, top + chart_rows) + 1

    section("七、响应时间（报修日期→到场日期，天；未填到场日期的按完成或验收日期）")
    heads = ["已到场件数", "平均天数", "中位天数", "超期件数（含已结）"]
    styles = ["int", "num1", "num1", "int"]
    table(["紧急程度", *heads], [(x.urgency, x.count, x.mean, x.median, x.overdue) for x in rep.response.itertuples()],
          ["center", *styles])
    r += 1
    for title, frame in (("维修单位", rep.by_contractor), ("维修人员", rep.by_repairer)):
        table([title, *heads], [(x.key, x.count, x.mean, x.median, x.overdue) for x in frame.itertuples()],
              ["cell", *styles])
        r += 1

    section("八、回访满意度")
    block = r - 1
    if len(rep.sat_year):
        top = table(["年份", "评价次数", "满意及以上", "满意率", "平均分"],
                    [(int(y.year), int(y.rated), int(y.good), y.rate, y.mean) for y in rep.sat_year.itertuples()],
                    ["center", "int", "int", "pct", "num1"])
        n = len(rep.sat_year)
        lay.charts.append(ChartSpec(
            "bar+line", "回访满意度（按年）", f"A{r + 1}",
            data=(4, top, 4, top + n), cats=(1, top + 1, 1, top + n), line_data=(5, top, 5, top + n),
            y_title="满意率", line_axis_title="平均分", width=15, height=7, y_max=1, keep_from=block))
        r += chart_rows + 2
        table(["项目编号", "项目名称", "年份", "评价次数", "满意率", "平均分"],
              [(p.project_id, p.name, int(p.year), int(p.rated), p.rate, p.mean) for p in rep.sat_project.itertuples()],
              ["center", "cell", "center", "int", "pct", "num1"])
    else:
        lay.put(r, 1, "没有已评价的回访记录。", "note")
        r += 1
    r += 1
    section("九、可申请返还的质保金（缺陷责任期已满，建质〔2017〕138号第十条、第十一条）")
    claims = rep.retention if rep.retention is not None else pd.DataFrame()
    if len(claims):
        table(["项目编号", "项目名称", "质保金金额（元）", "应返还日期", "状态", "已过天数"],
              [(c.project_id, c.name, None if np.isnan(c.amount) else float(c.amount), _d(c.due), c.status,
                int(c.days_past_due)) for c in claims.itertuples()],
              ["center", "cell", "money", "date", "center", "int"])
        known = claims["amount"].dropna()
        lay.put(r, 1, f"合计 {len(claims)} 个项目，金额 {known.sum():,.2f} 元"
                      + (f"（另有 {len(claims) - len(known)} 个项目未填金额）" if len(known) < len(claims) else "")
                      + "；逾期未返还：应返还日期后超过设置中“质保金返还期限天数”仍未返还。", "note")
        lay.merge(r, 1, r, ncol)
        r += 1
    else:
        lay.put(r, 1, "没有可申请返还的质保金。", "note")
        r += 1
    from pyfuncs.io.book import col_letter

    lay.print_area = f"A1:{col_letter(max(ncol, lay.max_col))}{r}"
    fit_row_heights(lay)
    keep_charts_on_page(lay)  # after the row heights: they decide where the pages break
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

    # every project row, as 刷新台账 reads them: a bad optional cell (say 约定到场天数) is blank
    # for the clock and must not drop the project's tickets from the figures
    projects = frames["projects"].df
    terms, bad_ends = terms_with_ends(projects, frames["terms"].good, settings)
    for row, msg in bad_ends.items():
        result.problems.append(Problem(TABLES["terms"].sheet, row, "到期日期", msg, "提示"))
    rep = compute(projects, terms, frames["repairs"].good, frames["visits"].good, settings, calendar, opts.today)
    lay = report_layout(rep)
    book.progress(2, 2, "写入统计表和图表")
    book.put_sheet(lay)
    book.set_status(None)
    fig = dict(rep.figures)
    top = rep.tiers[-1]
    result.summary = {
        "date": opts.today.isoformat(),
        "expiring": {t.tier: int(t.count) for t in rep.tier_counts.itertuples()},
        "expiring_cumulative": {f"{t}天内": int(fig[tier_label(t)]) for t in rep.tiers},
        "open_repairs": fig[F_OPEN], "open_overdue": fig[F_OPEN_LATE], "overdue_all": fig[F_LATE_ALL],
        "satisfaction_rate": fig[F_SATISFACTION],
        "charts": len(lay.charts),
        "retention_claimable": int(len(rep.retention)),
    }
    result.messages.append(f"统计表已更新（统计日期 {opts.today.isoformat()}）：未结报修 {fig[F_OPEN]} 件，"
                           f"其中超期 {fig[F_OPEN_LATE]} 件；超期（含已结）{fig[F_LATE_ALL]} 件；"
                           f"{top}天内到期部位（累计）{fig[tier_label(top)]} 项")
    return result
