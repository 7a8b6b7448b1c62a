"""刷新台账 (``refresh``): recompute the computed columns of 保修条款 and 报修台账.

保修条款: 到期日期, 保修状态, 提示 (notes such as "约定保修期短于法定最低期限").
项目台账: 质保金应返还日期 and 质保金状态 (:func:`pyfuncs.jobs._common.compute_retention`,
docs/rules-retention.md).
报修台账: 报修单号 (only where blank: prefix + year + running number, never reusing a number),
专业 (only where blank, from 保修部位), 应到场日期 (the project's 约定到场天数 for 一般 tickets,
else the setting), 是否在保 (是/否), 费用承担 (docs/rules-ledger.md §3), 超期天数 (the core's one
definition, :func:`pyfuncs.core.clock.ticket_clock`: blank for a paid repair outside warranty
unless 过保报修计超期), 状态 (only where blank, from the dates and 用户签认), 提醒 (超期 / 长期未结 /
重复缺陷 / 状态与日期不符 / 已验收但未签认 / 完成后未签认 / 数据有误).

:func:`assess_tickets` is shared with 统计报表, so the ledger and the report count the same
tickets as open and overdue.

Only computed columns are written; staff columns never. A row with bad data is reported
(sheet, Excel row, column, Chinese message), its computed cells are left empty and its 提示/提醒
cell says why; every other row is processed. Everything is column-at-a-time (the core functions
take whole columns), so 20,000 tickets are a handful of numpy operations.
"""
from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import pandas as pd

from pyfuncs.core.parts import PART_LABELS, STRUCTURE
from pyfuncs.io.book import Book, is_blank
from pyfuncs.jobs import JobOptions, JobResult, Problem
from pyfuncs.jobs._common import raw_bad_values
from pyfuncs.schema import REPAIRS, TABLES
from pyfuncs.tables import ERROR, HINT, Frame, read_calendar, read_settings, read_table, write_columns

NAT = np.datetime64("NaT", "D")


def _key(values) -> np.ndarray:
    """Text keys: stripped, inner whitespace removed, '' for blank.

    >>> _key([" XM 2020-01 ", None, "XM2020-01", 7]).tolist()
    ['XM2020-01', '', 'XM2020-01', '7']
    """
    memo: dict = {}  # 20,000 tickets name a few thousand projects, parts and places
    out = []
    for v in values:
        try:
            k = memo.get(v)
        except TypeError:  # unhashable
            k = None
        if k is None:
            k = "" if is_blank(v) else "".join(str(v).split())
            try:
                memo[v] = k
            except TypeError:
                pass
        out.append(k)
    return np.array(out, dtype=object)


def project_index(projects: Frame | pd.DataFrame) -> pd.DataFrame:
    """The ledger by project id (first row wins for duplicates): accepted, city, design life,
    agreed dispatch days. Takes the read :class:`Frame` or its typed DataFrame."""
    df = projects.df if isinstance(projects, Frame) else projects
    for key in ("accepted", "city", "design_life", "dispatch_days"):
        if key not in df.columns:  # a caller's partial table: the missing facts are blank
            df = df.assign(**{key: pd.Series([None] * len(df), index=df.index, dtype=object)})
    if not pd.api.types.is_datetime64_any_dtype(df["accepted"]):
        df = df.assign(accepted=pd.to_datetime(df["accepted"], errors="coerce"))
    df = df[df["project_id"].notna()].copy()
    df["pid"] = _key(df["project_id"])
    df = df[~df["pid"].duplicated()]
    return df.set_index("pid")


def part_ends(projects: pd.DataFrame, settings) -> pd.DataFrame:
    """Every project × every part with the statutory default end (from 竣工验收日期)."""
    from pyfuncs.core.warranty import warranty_ends

    n = len(projects)
    parts = np.tile(np.array(PART_LABELS, dtype=object), n)
    pids = np.repeat(projects.index.to_numpy(dtype=object), len(PART_LABELS))
    starts = np.repeat(projects["accepted"].to_numpy(dtype="datetime64[s]").astype("datetime64[D]"),
                       len(PART_LABELS))
    cities = np.repeat(projects["city"].to_numpy(dtype=object), len(PART_LABELS))
    lives = np.repeat(np.array([None if pd.isna(v) else int(v) for v in projects["design_life"]], dtype=object),
                      len(PART_LABELS))
    res = warranty_ends(starts, parts, None, cities, lives, settings)
    return pd.DataFrame({"pid": pids, "part": parts, "end": res.ends})


# ---- 保修条款 ------------------------------------------------------------------------------------
def compute_terms(terms: Frame, proj: pd.DataFrame, settings, today,
                  projects: Frame | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """Computed columns of 保修条款 (end, status, hint) for every row of ``terms``.

    A 约定保修期 that cannot be read gets the statutory default (as the plan does), its 提示 says
    so and it is listed as an error to correct; the same for a 合理使用年限 on the ledger
    (``projects``: the 项目台账 frame, to quote what staff typed) and a city the season table
    does not know (the 默认 row, said in the 提示)."""
    from pyfuncs.core.warranty import warranty_ends, warranty_status

    df = terms.df
    n = len(df)
    problems: list[Problem] = []
    pid = _key(df["project_id"])
    known = pd.Series(pid).isin(proj.index).to_numpy() if n else np.zeros(0, bool)
    acc = proj["accepted"].to_numpy(dtype="datetime64[s]").astype("datetime64[D]")
    acc_by = pd.Series(acc, index=proj.index)
    own = terms.dates("start")
    project_acc = pd.Series(pid).map(acc_by).to_numpy(dtype="datetime64[D]") if n else own
    starts = np.where(np.isnat(own), project_acc, own)
    cities = pd.Series(pid).map(proj["city"]).to_numpy(dtype=object) if n else np.zeros(0, object)
    lives = pd.Series(pid).map(proj["design_life"]).to_numpy(dtype=object) if n else np.zeros(0, object)
    lives = np.array([None if pd.isna(v) else int(v) for v in lives], dtype=object)
    if projects is not None and n:
        raw = {_key([p])[0]: v for p, v in raw_bad_values(projects, "design_life").items()}
        if raw:
            lives = np.array([raw.get(p, life) for p, life in zip(pid, lives)], dtype=object)
    res = warranty_ends(starts, df["part"].to_numpy(dtype=object), df["term"].to_numpy(dtype=object),
                        cities, lives, settings, fallback=True)
    ends = res.ends.copy()
    hint = np.array(res.notes, dtype=object)
    bad_msg = np.full(n, "", dtype=object)
    rows = df.index.to_numpy()
    for i, r in enumerate(rows):
        if int(r) in terms.bad:
            bad_msg[i] = "；".join(terms.bad[int(r)].values())
    for i, msg in res.errors.items():
        if not bad_msg[i]:
            problems.append(Problem(terms.sheet, int(rows[i]), terms.header("term"), msg, ERROR))
            bad_msg[i] = msg
    for i, msg in res.term_errors.items():
        if not bad_msg[i]:  # computed with the default term: the row is kept, the cell listed
            problems.append(Problem(terms.sheet, int(rows[i]), terms.header("term"), msg, ERROR))
    for i in np.flatnonzero(~known & (pid != "")):
        if not bad_msg[i]:
            msg = f"项目编号「{pid[i]}」不在项目台账中"
            problems.append(Problem(terms.sheet, int(rows[i]), terms.header("project_id"), msg, ERROR))
            bad_msg[i] = msg
    for i in np.flatnonzero(np.isnat(starts) & (bad_msg == "")):
        msg = "缺少起算日期，项目台账中也没有竣工验收日期"
        problems.append(Problem(terms.sheet, int(rows[i]), terms.header("start"), msg, ERROR))
        bad_msg[i] = msg
    bad = bad_msg != ""
    ends[bad] = NAT
    hint = np.where(bad, np.char.add("数据有误：", bad_msg.astype(str)).astype(object), hint)
    for i in np.flatnonzero(~bad & np.array(["短于法定最低" in h for h in hint], dtype=bool)):
        problems.append(Problem(terms.sheet, int(rows[i]), terms.header("term"), hint[i], HINT))
    status = warranty_status(ends, np.datetime64(today, "D"), settings.warn_days) if n else np.zeros(0, object)
    out = pd.DataFrame({
        "end": ends,
        "status": status,
        "hint": [h if h else None for h in hint],
    }, index=df.index)
    return out, problems


def effective_ends(proj: pd.DataFrame, terms: Frame, term_ends: np.ndarray, settings) -> pd.DataFrame:
    """(pid, part) → end: the 保修条款 row's end where there is one (latest if several), else the
    statutory default from the project's 竣工验收日期."""
    rows = None
    if len(terms.df):
        rows = pd.DataFrame({"project_id": terms.df["project_id"].to_numpy(dtype=object),
                             "part": terms.df["part"].to_numpy(dtype=object), "end": term_ends})
    return effective_ends_from(proj, rows, settings)


def effective_ends_from(proj: pd.DataFrame, term_rows: pd.DataFrame | None, settings) -> pd.DataFrame:
    """:func:`effective_ends` from a plain table of 保修条款 rows (project_id, part, end)."""
    base = part_ends(proj, settings)
    if term_rows is not None and len(term_rows):
        ends = term_rows["end"].to_numpy(dtype="datetime64[s]").astype("datetime64[D]")
        t = pd.DataFrame({"pid": _key(term_rows["project_id"]), "part": term_rows["part"].to_numpy(dtype=object),
                          "end": ends})
        t = t[(t["pid"] != "") & t["part"].notna() & ~np.isnat(t["end"].to_numpy(dtype="datetime64[D]"))]
        t = t.groupby(["pid", "part"], as_index=False)["end"].max()
        base = base.set_index(["pid", "part"])
        t = t.set_index(["pid", "part"])
        base.loc[base.index.intersection(t.index), "end"] = t["end"]
        base = base.reset_index()
    return base


# ---- 报修台账 ------------------------------------------------------------------------------------
def next_ticket_ids(existing, years: np.ndarray, prefix: str) -> list[str]:
    """New ticket ids for ``years`` (one per new row, in order), continuing each year's numbers
    after the highest existing ``<prefix><year>-<n>`` and never reusing one."""
    pat = re.compile(rf"^{re.escape(prefix)}(\d{{4}})-(\d+)$")
    top: dict[int, int] = {}
    taken = set()
    for v in existing:
        if is_blank(v):
            continue
        s = str(v).strip()
        taken.add(s)
        m = pat.match(s)
        if m:
            y, k = int(m.group(1)), int(m.group(2))
            top[y] = max(top.get(y, 0), k)
    out = []
    for y in years:
        y = int(y)
        k = top.get(y, 0) + 1
        while f"{prefix}{y}-{k:04d}" in taken:
            k += 1
        top[y] = k
        tid = f"{prefix}{y}-{k:04d}"
        taken.add(tid)
        out.append(tid)
    return out


def repeat_counts(pids, places, parts, notices: np.ndarray, months: int) -> np.ndarray:
    """For each ticket: how many tickets of the same project and place and part were reported in
    the ``months`` months up to and including its own notice date.

    Where 具体位置 is blank the key falls back to project + 保修部位 (docs/rules-ledger.md §5), where 保修部位
    is blank to project + 具体位置; 0 where neither is filled or the project or date is missing."""
    from pyfuncs.core.dates import add_months

    n = len(notices)
    out = np.zeros(n, dtype=np.int64)
    kp, kl, kt = _key(pids), _key(places), _key(parts)
    key = pd.Series(kp) + "\x1f" + pd.Series(kl) + "\x1f" + pd.Series(kt)
    ok = (kp != "") & ((kl != "") | (kt != "")) & ~np.isnat(notices)
    if not ok.any():
        return out
    idx = np.flatnonzero(ok)
    df = pd.DataFrame({"k": key.to_numpy()[idx], "d": notices[idx], "i": idx}).sort_values(["k", "d"], kind="stable")
    d = df["d"].to_numpy(dtype="datetime64[D]")
    codes = pd.factorize(df["k"])[0]
    # order by (key code, date) so one searchsorted serves every group
    ordinal = codes.astype(np.int64) * 1_000_000 + (d - np.datetime64("1900-01-01")).astype(np.int64)
    lo_d = add_months(d, -months)
    lo = codes.astype(np.int64) * 1_000_000 + (lo_d - np.datetime64("1900-01-01")).astype(np.int64)
    first = np.searchsorted(ordinal, lo, side="right")   # strictly after the window start
    last = np.searchsorted(ordinal, ordinal, side="right")  # same-day tickets count together
    out[df["i"].to_numpy()] = last - first
    return out


def derived_state(arrival, done, accepted, signed=None) -> np.ndarray:
    """状态 from the dates and 用户签认 (the core's :func:`pyfuncs.core.clock.derived_state`)."""
    from pyfuncs.core.clock import derived_state as core_derived_state

    return core_derived_state(arrival, done, accepted, signed)


class TicketAssessment(NamedTuple):
    """What the ledger knows about each ticket, before reminders: used by 刷新台账 and 统计报表
    alike, so both count the same tickets as open and overdue."""

    clock: object            # pyfuncs.core.clock.TicketClock
    end: np.ndarray          # warranty end of the ticket's part (datetime64[D])
    in_warranty: np.ndarray  # bool: reported on or before that end
    no_part: np.ndarray      # bool: no 保修部位, the project's latest non-structural end used
    bad_msg: np.ndarray      # "" where the row is good, else why its computed cells stay empty
    problems: list[Problem]

    @property
    def bad(self) -> np.ndarray:
        return self.bad_msg != ""

    @property
    def overdue(self) -> np.ndarray:
        return self.clock.overdue & ~self.bad

    @property
    def open(self) -> np.ndarray:
        return self.clock.open & ~self.bad


def assess_ledger(projects: pd.DataFrame, terms: pd.DataFrame, repairs: pd.DataFrame, settings, calendar,
                  today) -> TicketAssessment:
    """:func:`assess_tickets` for the typed tables as 统计报表 and the group roll-up read them
    (``terms`` with their ``end``, see :func:`pyfuncs.jobs._common.terms_with_ends`): the one place
    both ask the ledger's clock, so their figures are the ledger's."""
    proj = project_index(projects)
    ends = effective_ends_from(proj, terms[["project_id", "part", "end"]] if len(terms) else None, settings)
    return assess_tickets(repairs, {}, proj, ends, settings, calendar, today)


def assess_tickets(df: pd.DataFrame, bad_rows: dict, proj: pd.DataFrame, ends: pd.DataFrame, settings, calendar,
                   today) -> TicketAssessment:
    """Every ticket of ``df`` (the typed 报修台账, indexed by Excel row): its warranty end, whether
    it is in warranty, and its clock (:func:`pyfuncs.core.clock.ticket_clock`), with the rows whose
    data make the clock meaningless marked bad. ``bad_rows``: {row: {key: message}} found when the
    sheet was read. ``proj``: :func:`project_index`; ``ends``: :func:`effective_ends`."""
    from pyfuncs.core.clock import ticket_clock

    missing = [c.key for c in REPAIRS.columns if c.key not in df.columns]
    if missing:  # a caller's partial table: what it does not have is blank
        df = df.assign(**{k: pd.Series([None] * len(df), index=df.index, dtype=object) for k in missing})
    n = len(df)
    rows = df.index.to_numpy()
    h = {c.key: c.header for c in REPAIRS.columns}
    problems: list[Problem] = []
    today64 = np.datetime64(today, "D")

    def dates(key):
        return df[key].to_numpy(dtype="datetime64[s]").astype("datetime64[D]") if n else np.zeros(0, "datetime64[D]")

    pid = _key(df["project_id"])
    part = df["part"].to_numpy(dtype=object)
    notice = dates("notice")
    arrival, done, accepted = dates("arrival"), dates("done"), dates("accepted")

    bad_msg = np.full(n, "", dtype=object)
    for i, r in enumerate(rows):
        if int(r) in bad_rows:
            bad_msg[i] = "；".join(bad_rows[int(r)].values())
    known = pd.Series(pid).isin(proj.index).to_numpy() if n else np.zeros(0, bool)
    for i in np.flatnonzero(~known & (pid != "") & (bad_msg == "")):
        bad_msg[i] = f"项目编号「{pid[i]}」不在项目台账中"
        problems.append(Problem(REPAIRS.sheet, int(rows[i]), h["project_id"], bad_msg[i], ERROR))

    # warranty end of the ticket's part; no part: the project's latest non-structural end
    key_end = ends.set_index(["pid", "part"])["end"]
    idx = pd.MultiIndex.from_arrays([pid, part.astype(object)])
    end = key_end.reindex(idx).to_numpy(dtype="datetime64[D]") if n else np.zeros(0, "datetime64[D]")
    nonstruct = ends[ends["part"] != STRUCTURE].groupby("pid")["end"].max()
    no_part = pd.isna(part) & (bad_msg == "") if n else np.zeros(0, bool)
    if no_part.any():
        end = np.where(no_part, pd.Series(pid).map(nonstruct).to_numpy(dtype="datetime64[D]"), end)
    for i in np.flatnonzero((bad_msg == "") & np.isnat(end) & known):
        bad_msg[i] = "无法确定保修到期日（项目台账缺少竣工验收日期）"
        problems.append(Problem(REPAIRS.sheet, int(rows[i]), h["project_id"], bad_msg[i], ERROR))
    in_w = ~np.isnat(end) & ~np.isnat(notice) & (notice <= end)
    out_w = ~np.isnat(end) & ~np.isnat(notice) & (notice > end)

    agreed = (pd.Series(pid).map(proj["dispatch_days"]).to_numpy(dtype=object)
              if n and "dispatch_days" in proj.columns else None)
    if agreed is not None:
        agreed = np.array([None if pd.isna(v) else v for v in agreed], dtype=object)
    clock = ticket_clock(notice, df["urgency"].to_numpy(dtype=object), arrivals=arrival, done=done,
                         accepted=accepted, signed=df["signed"].to_numpy(dtype=object),
                         states=df["state"].to_numpy(dtype=object), out_of_warranty=out_w,
                         agreed_days=agreed, as_of=today64, settings=settings, calendar=calendar)
    for i, msg in clock.errors.items():
        if not bad_msg[i]:
            bad_msg[i] = msg
            col = "urgency" if msg.startswith("紧急程度") else "project_id"
            problems.append(Problem(REPAIRS.sheet, int(rows[i]), h[col], msg, ERROR))
    # dates out of order make the clock meaningless for that row
    order_checks = (
        (arrival, notice, "arrival", "到场日期早于报修日期"),
        (done, arrival, "done", "完成日期早于到场日期"),
        (accepted, done, "accepted", "验收日期早于完成日期"),
    )
    for later, earlier, key, msg in order_checks:
        wrong = ~np.isnat(later) & ~np.isnat(earlier) & (later < earlier) & (bad_msg == "")
        for i in np.flatnonzero(wrong):
            bad_msg[i] = msg
            problems.append(Problem(REPAIRS.sheet, int(rows[i]), h[key], msg, ERROR))
    return TicketAssessment(clock, end, in_w, no_part, bad_msg, problems)


def compute_repairs(rep: Frame, proj: pd.DataFrame, ends: pd.DataFrame, settings, calendar, today,
                    visits_ticket_ids=()) -> tuple[pd.DataFrame, list[Problem], dict]:
    from pyfuncs.core.clock import SIGNED_OFF, STATE_RANK, payer
    from pyfuncs.core.parts import discipline_of

    df = rep.df
    n = len(df)
    today64 = np.datetime64(today, "D")
    pid = _key(df["project_id"])
    part = df["part"].to_numpy(dtype=object)
    notice = rep.dates("notice")
    arrival, done, accepted = rep.dates("arrival"), rep.dates("done"), rep.dates("accepted")
    signed_raw = df["signed"].to_numpy(dtype=object)
    signed = np.array([isinstance(v, str) and v.strip() == "是" for v in signed_raw], dtype=bool)

    a = assess_tickets(df, rep.bad, proj, ends, settings, calendar, today)
    problems = list(a.problems)
    bad, bad_msg, clock, in_w, no_part = a.bad, a.bad_msg, a.clock, a.in_warranty, a.no_part
    pay = payer(df["cause"].to_numpy(dtype=object), in_w) if n else np.zeros(0, object)
    late = clock.late

    # 状态: derived from the dates and the sign-off, written only where blank (fill_blank)
    derived = derived_state(arrival, done, accepted, signed_raw)
    state_now = df["state"].to_numpy(dtype=object)
    state = np.where(pd.isna(state_now), derived, state_now)

    # 提醒
    flags = [[] for _ in range(n)]
    for i in np.flatnonzero(~bad & (np.nan_to_num(late, nan=0) > 0)):
        flags[i].append(f"超期{int(late[i])}天")
    open_ = clock.open
    age = (today64 - notice).astype("timedelta64[D]").astype(float)
    for i in np.flatnonzero(~bad & open_ & (np.nan_to_num(age, nan=0) > settings.long_open_days)):
        flags[i].append(f"长期未结（已{int(age[i])}天）")
    places = df["place"].to_numpy(dtype=object)
    reps = repeat_counts(pid, places, part, np.where(bad, NAT, notice), settings.repeat_months)
    no_place = _key(places) == ""
    for i in np.flatnonzero(reps >= settings.repeat_count):
        how = "，未填具体位置，按项目和保修部位统计" if no_place[i] else ""
        flags[i].append(f"重复缺陷（{settings.repeat_months}个月内第{reps[i]}次{how}）")
    rank_now = pd.Series(state_now).map(STATE_RANK).to_numpy(dtype=float)
    rank_dates = pd.Series(derived).map(STATE_RANK).to_numpy(dtype=float)
    behind = ~bad & ~np.isnan(rank_now) & (rank_now < rank_dates)
    for i in np.flatnonzero(behind):
        by = "日期和用户签认" if signed[i] else "日期"
        flags[i].append(f"状态与日期不符（按{by}应为{derived[i]}）")
    unsigned_accept = ~bad & (state_now == SIGNED_OFF) & ~signed
    for i in np.flatnonzero(unsigned_accept):
        flags[i].append("状态为已验收，但用户签认未填（用户签认后才算已验收）")
    finished = np.where(np.isnat(done), accepted, done)
    since = (today64 - finished).astype("timedelta64[D]").astype(float)
    unsigned = (~bad & ~signed & ~np.isnat(finished) & ~unsigned_accept & (state_now != "已关闭")
                & (np.nan_to_num(since, nan=0) > settings.sign_remind_days))
    for i in np.flatnonzero(unsigned):
        flags[i].append(f"完成已{int(since[i])}天，用户未签认")
    for i in np.flatnonzero(no_part & ~bad):
        flags[i].append("未填保修部位，按该项目非结构部位最晚到期日判断是否在保")
    for i in np.flatnonzero(bad):
        flags[i] = ["数据有误：" + bad_msg[i]]

    # 报修单号 for rows without one: prefix + year of the notice (else this year) + running number
    tid = df["ticket_id"].to_numpy(dtype=object)
    need = pd.isna(tid)
    new_ids = tid.copy()
    if need.any():
        years = np.where(np.isnat(notice[need]), today.year,
                         notice[need].astype("datetime64[Y]").astype(int) + 1970)
        new_ids[need] = next_ticket_ids(list(tid[~need]) + list(visits_ticket_ids), years, settings.ticket_prefix)

    out = pd.DataFrame({
        "ticket_id": new_ids,
        "discipline": discipline_of(part) if n else np.zeros(0, object),
        "due": np.where(bad, NAT, clock.due),
        "in_warranty": np.where(bad | np.isnat(a.end) | np.isnat(notice), None, np.where(in_w, "是", "否")),
        "payer": np.where(bad, None, pay),
        "overdue": pd.array(np.where(bad | np.isnan(late), np.nan, late), dtype="Float64").astype("Int64")
        if n else pd.array([], dtype="Int64"),
        "state": np.where(bad & pd.isna(state_now), None, state),
        "flags": ["；".join(f) if f else None for f in flags],
    }, index=df.index)
    overdue = a.overdue
    stats = {
        "tickets": int(n),
        "new_ticket_ids": int(need.sum()),
        "overdue": int(overdue.sum()),
        "open": int(a.open.sum()),
        "open_overdue": int((overdue & a.open).sum()),
        "long_open": int(sum(any(f.startswith("长期未结") for f in fl) for fl in flags)),
        "repeat_defects": int((reps >= settings.repeat_count).sum()),
        "unsigned": int(unsigned.sum()),
        "in_warranty": int((in_w & ~bad).sum()),
        "out_of_warranty_no_clock": int((clock.clock_off & ~bad).sum()),
        "bad_rows": int(bad.sum()),
    }
    return out, problems, stats


def run(book: Book, opts: JobOptions) -> JobResult:
    result = JobResult("refresh")
    today = opts.today
    # the big sheets parse in the background while the small ones are read and typed
    book.prefetch([TABLES["repairs"].sheet])
    book.progress(1, 5, "读取设置和节假日")
    settings, p1 = read_settings(book)
    calendar, p2 = read_calendar(book)
    result.problems += p1 + p2
    book.progress(2, 5, "读取项目台账")
    projects = read_table(book, TABLES["projects"])
    result.problems += projects.problems
    proj = project_index(projects)

    book.progress(3, 5, "计算保修到期日")
    terms = read_table(book, TABLES["terms"])
    result.problems += terms.problems
    t_out, tp = compute_terms(terms, proj, settings, today, projects)
    result.problems += tp
    t_written = write_columns(book, terms, t_out) if terms.cols else 0
    ends = effective_ends(proj, terms, t_out["end"].to_numpy(dtype="datetime64[D]") if len(t_out) else
                          np.zeros(0, "datetime64[D]"), settings)
    # the ledger is read only now: a file book has been parsing it in the background meanwhile
    rep = read_table(book, TABLES["repairs"])
    result.problems += rep.problems
    visit_ids = ()
    if book.has_sheet(TABLES["visits"].sheet):
        vt = read_table(book, TABLES["visits"])
        visit_ids = [v for v in vt.df["ticket_id"].dropna()] if len(vt.df) else ()

    book.progress(4, 5, "刷新报修台账")
    r_out, rp, stats = compute_repairs(rep, proj, ends, settings, calendar, today, visit_ids)
    result.problems += rp
    book.progress(5, 5, "写入报修台账")
    r_written = write_columns(book, rep, r_out) if rep.cols else 0
    # 质保金 (建质〔2017〕138号): 应返还日期 and 状态 on 项目台账 (pyfuncs.core.retention)
    from pyfuncs.jobs._common import compute_retention

    q_out, qp = compute_retention(projects, settings, today)
    result.problems += qp
    r_written += write_columns(book, projects, q_out) if projects.cols else 0
    retention = pd.Series(q_out["retention_status"]).value_counts().to_dict() if len(q_out) else {}
    stats["retention"] = {str(k): int(v) for k, v in retention.items() if k and not str(k).startswith("数据有误")}
    book.set_status(None)

    status_counts = pd.Series(t_out["status"]).value_counts().to_dict() if len(t_out) else {}
    result.summary = {
        "today": today.isoformat(),
        "terms": int(len(terms.df)),
        "terms_status": {str(k): int(v) for k, v in status_counts.items() if k},
        **stats,
        "cells_written": int(t_written + r_written),
        "errors": sum(p.level == ERROR for p in result.problems),
    }
    s = result.summary
    result.messages.append(
        f"刷新完成（{today:%Y-%m-%d}）：保修条款 {s['terms']} 行，其中即将到期 {s['terms_status'].get('即将到期', 0)} 项；"
        f"报修 {s['tickets']} 件，新编单号 {s['new_ticket_ids']} 个；未结 {s['open']} 件，其中超期 {s['open_overdue']} 件；"
        f"超期（含已结）{s['overdue']} 件；长期未结 {s['long_open']} 件，重复缺陷 {s['repeat_defects']} 件，"
        f"完成后未签认 {s['unsigned']} 件。")
    if s["retention"].get("可申请返还") or s["retention"].get("逾期未返还"):
        result.messages.append(f"质保金：可申请返还 {s['retention'].get('可申请返还', 0)} 个项目，"
                               f"逾期未返还 {s['retention'].get('逾期未返还', 0)} 个项目。")
    if s["errors"]:
        result.messages.append(f"有 {s['errors']} 处数据错误，相应行未计算，详见问题清单。")
    return result
