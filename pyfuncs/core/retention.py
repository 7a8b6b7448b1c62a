"""质保金 (retention money): how much is held, when it falls due, and where it stands.

The rules of 《建设工程质量保证金管理办法》（建质〔2017〕138号, docs/rules-retention.md):

- 第七条: the retention held may not exceed 3% of the settled contract price (工程价款结算总额).
  A higher 质保金比例 (given, or 质保金金额 ÷ 结算价款) is reported, citing the article; the row is
  still computed (the money is held whatever the contract says).
- 第二条: the defect-liability period (缺陷责任期) is agreed in the contract, normally 1 year and at
  most 2: 1–24 months; blank → the 设置 default (24). Outside 1–24: an error, no date computed.
- 第八条: it runs from the day the works passed 竣工验收: 缺陷责任期起算日 blank → the project's
  竣工验收日期.
- 第十条/第十一条: when the period ends the contractor applies for the money back; the employer
  verifies within 14 days and returns it within 14 days after that. So:

  ==============  =========================================================================
  已返还           质保金已返还日期 is filled
  未到期           today < 应返还日期 (起算日 + 缺陷责任期, Excel EDATE)
  可申请返还       应返还日期 ≤ today ≤ 应返还日期 + 返还期限 (设置 质保金返还期限天数, default 28)
  逾期未返还       today > 应返还日期 + 返还期限 and not returned
  ==============  =========================================================================

A project without retention (neither 质保金比例 nor 质保金金额) has no status. Everything is one
numpy call per column: the whole 项目台账 at once.

Example::

    >>> import numpy as np
    >>> d = lambda *s: np.array(s, dtype="datetime64[D]")
    >>> r = assess(price=[1e7, 2e6, 5e6, None], ratio=[0.03, None, 0.05, 0.03], amount=[None, 60000, None, None],
    ...            start=d("NaT", "2024-05-10", "NaT", "NaT"), accepted=d("2024-01-15", "2023-01-01", "2023-06-30", "2025-01-01"),
    ...            months=[None, 12, None, 36], returned=d("NaT", "NaT", "NaT", "NaT"), today=np.datetime64("2025-06-01"))
    >>> [str(x) for x in r.due], list(r.status)
    (['2026-01-15', '2025-05-10', '2025-06-30', 'NaT'], ['未到期', '可申请返还', '未到期', '数据有误：缺陷责任期应为1～24个月'])
    >>> r.amount.tolist(), [round(x, 3) for x in r.ratio.tolist()]
    ([300000.0, 60000.0, 250000.0, nan], [0.03, 0.03, 0.05, 0.03])
    >>> [(i, key, level) for i, key, message, level in r.findings]
    [(2, 'retention_ratio', '提示'), (3, 'settled_price', '提示'), (3, 'defect_months', '错误')]
"""
from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from pyfuncs.core.dates import add_months

#: 第七条: at most 3% of the settled price
MAX_RATIO = 0.03
#: 第二条: the defect-liability period, 1 to 24 months
MIN_MONTHS, MAX_MONTHS = 1, 24
DEFAULT_MONTHS = 24
#: 第十一条: 14 days to verify + 14 days to pay
DEFAULT_GRACE_DAYS = 28
RULE = "《建设工程质量保证金管理办法》（建质〔2017〕138号）"

NOT_DUE, CLAIMABLE, RETURNED, OVERDUE = "未到期", "可申请返还", "已返还", "逾期未返还"
STATES = (NOT_DUE, CLAIMABLE, RETURNED, OVERDUE)
ERROR, HINT = "错误", "提示"  # the levels of pyfuncs.problem, spelled here so the core imports nothing of ours
NAT = np.datetime64("NaT", "D")


class Retention(NamedTuple):
    """What :func:`assess` finds for each project (arrays aligned with the input)."""

    amount: np.ndarray    # float: 质保金金额 given, else 结算价款 × 质保金比例 (nan: unknown)
    ratio: np.ndarray     # float: 质保金比例 given, else 质保金金额 ÷ 结算价款 (nan: unknown)
    start: np.ndarray     # datetime64[D]: 缺陷责任期起算日, else 竣工验收日期
    months: np.ndarray    # int: the period used (0 where it is not usable)
    due: np.ndarray       # datetime64[D]: 应返还日期 (NaT: no retention, or not computable)
    status: np.ndarray    # object: one of STATES, None, or "数据有误：…" for a row that cannot be computed
    #: (position, column key, Chinese message, level): the caller locates them (sheet, row, header)
    findings: list[tuple[int, str, str, str]]


def _floats(values: Any, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    return pd.to_numeric(pd.Series(list(values) if not isinstance(values, pd.Series) else values.to_numpy(),
                                   dtype=object), errors="coerce").to_numpy(dtype=float)


def _dates(values: Any, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, NAT)
    return pd.Series(values).to_numpy(dtype="datetime64[s]").astype("datetime64[D]") if not isinstance(
        values, np.ndarray) or values.dtype.kind != "M" else values.astype("datetime64[D]")


def percent(ratio: float) -> str:
    """A ratio as staff write it: ``percent(0.05) == '5%'``, ``percent(0.035) == '3.5%'``.

    >>> percent(0.05), percent(0.035)
    ('5%', '3.5%')
    """
    return f"{ratio * 100:.2f}".rstrip("0").rstrip(".") + "%"


def assess(price, ratio, amount, start, accepted, months, returned, today, *,
           default_months: int = DEFAULT_MONTHS, grace_days: int = DEFAULT_GRACE_DAYS) -> Retention:
    """The retention of every project (one element each; see the module for the rules).

    ``price``/``ratio``/``amount``: numbers or blank (None/NaN); a ratio above 1 is read as percent
    points (3 → 3%), as staff sometimes type it into a cell not formatted as %. ``start``,
    ``accepted``, ``returned``: dates (datetime64 or anything pandas reads); ``months``: ints or
    blank. ``today``: a date. Returns a :class:`Retention`."""
    acc = _dates(accepted, len(accepted))
    n = len(acc)
    price = _floats(price, n)
    ratio_in = _floats(ratio, n)
    amount_in = _floats(amount, n)
    own_start = _dates(start, n)
    returned = _dates(returned, n)
    months_in = _floats(months, n)
    today64 = np.datetime64(today, "D")
    findings: list[tuple[int, str, str, str]] = []

    ratio_in = np.where(ratio_in > 1, ratio_in / 100, ratio_in)
    has_ratio, has_amount, has_price = ~np.isnan(ratio_in), ~np.isnan(amount_in), ~np.isnan(price) & (price > 0)
    held = has_ratio | has_amount
    amount_out = np.where(has_amount, amount_in, np.where(has_ratio & has_price, price * ratio_in, np.nan))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_out = np.where(has_ratio, ratio_in, np.where(has_amount & has_price, amount_in / price, np.nan))

    bad = np.zeros(n, dtype=bool)
    why = np.full(n, "", dtype=object)
    for i in np.flatnonzero(has_ratio & (ratio_in < 0)):
        findings.append((int(i), "retention_ratio", "质保金比例不能为负数", ERROR))
        bad[i], why[i] = True, "质保金比例为负数"
    for i in np.flatnonzero(has_amount & (amount_in < 0)):
        findings.append((int(i), "retention_amount", "质保金金额不能为负数", ERROR))
        bad[i], why[i] = True, "质保金金额为负数"
    over = held & ~bad & (np.nan_to_num(ratio_out, nan=0.0) > MAX_RATIO + 1e-9)
    for i in np.flatnonzero(over):
        how = "质保金比例" if has_ratio[i] else "质保金金额占结算价款"
        key = "retention_ratio" if has_ratio[i] else "retention_amount"
        findings.append((int(i), key, f"{how} {percent(ratio_out[i])} 超过 3%：{RULE}第七条规定，"
                                      "保证金总预留比例不得高于工程价款结算总额的3%", HINT))
    both = has_ratio & has_amount & has_price & ~bad
    off = both & (np.abs(price * ratio_in - amount_in) > np.maximum(1.0, 0.005 * amount_in))
    for i in np.flatnonzero(off):
        findings.append((int(i), "retention_amount",
                         f"质保金金额 {amount_in[i]:,.2f} 与结算价款×质保金比例（{price[i] * ratio_in[i]:,.2f}）不一致，"
                         "按质保金金额计", HINT))
    for i in np.flatnonzero(has_ratio & ~has_amount & ~has_price & ~bad):
        findings.append((int(i), "settled_price", "有质保金比例但未填结算价款，质保金金额无法计算（状态和应返还日期照常计算）",
                         HINT))

    # 缺陷责任期: 1–24 months, blank → the default
    m = np.where(np.isnan(months_in), float(default_months), months_in)
    bad_m = held & ~((m >= MIN_MONTHS) & (m <= MAX_MONTHS) & (m == np.floor(m)))
    for i in np.flatnonzero(bad_m & ~bad):
        findings.append((int(i), "defect_months",
                         f"缺陷责任期「{months_in[i]:g}」个月不在1～24个月之间（{RULE}第二条：一般为1年，最长不超过2年），"
                         "应返还日期未计算", ERROR))
        bad[i], why[i] = True, "缺陷责任期应为1～24个月"
    months_out = np.where(bad_m, 0, m).astype(np.int64)

    starts = np.where(np.isnat(own_start), acc, own_start)
    no_start = held & ~bad & np.isnat(starts)
    for i in np.flatnonzero(no_start):
        findings.append((int(i), "defect_start", "缺少缺陷责任期起算日，也没有竣工验收日期，应返还日期无法计算", ERROR))
        bad[i], why[i] = True, "缺少起算日"
    early = held & ~bad & ~np.isnat(returned) & ~np.isnat(starts) & (returned < starts)
    for i in np.flatnonzero(early):
        findings.append((int(i), "retention_returned", f"质保金已返还日期 {returned[i]} 早于缺陷责任期起算日 {starts[i]}",
                         HINT))

    ok = held & ~bad
    due = np.where(ok, add_months(np.where(ok, starts, NAT), np.where(ok, months_out, 0)), NAT)
    limit = due + np.timedelta64(int(grace_days), "D")
    status = np.full(n, None, dtype=object)
    status[ok & (today64 < due)] = NOT_DUE
    status[ok & (today64 >= due)] = CLAIMABLE
    status[ok & (today64 > limit)] = OVERDUE
    status[held & ~np.isnat(returned) & ~bad] = RETURNED
    for i in np.flatnonzero(held & bad):
        status[i] = "数据有误：" + why[i]
    findings.sort(key=lambda f: f[0])
    return Retention(amount_out, ratio_out, starts, months_out, due, status, findings)


#: the columns :func:`claimable` returns
CLAIM_COLUMNS = ("project_id", "name", "amount", "due", "status", "days_past_due")


def claimable(projects: pd.DataFrame, today: dt.date | np.datetime64, *, default_months: int = DEFAULT_MONTHS,
              grace_days: int = DEFAULT_GRACE_DAYS) -> pd.DataFrame:
    """The retention that can be claimed back (可申请返还 and 逾期未返还), oldest due first.

    ``projects``: the typed 项目台账 (schema keys: project_id, name, accepted, settled_price,
    retention_ratio, retention_amount, defect_start, defect_months, retention_returned; a missing
    column counts as blank). Returns columns :data:`CLAIM_COLUMNS` (``amount`` NaN where unknown,
    ``due`` datetime64, ``days_past_due`` ≥ 0). For the report, the to-do page and the roll-up.

    >>> df = pd.DataFrame({"project_id": ["A", "B", "C"], "name": ["甲", "乙", "丙"],
    ...                    "accepted": pd.to_datetime(["2023-03-01", "2024-09-01", "2022-01-10"]),
    ...                    "settled_price": [1e6, 1e6, 2e6], "retention_ratio": [0.03, 0.03, 0.02]})
    >>> claimable(df, dt.date(2025, 3, 20)).to_dict("records")[0]["status"]
    '逾期未返还'
    >>> claimable(df, dt.date(2025, 3, 20))[["project_id", "amount", "days_past_due"]].values.tolist()
    [['C', 40000.0, 435], ['A', 30000.0, 19]]
    """
    n = len(projects)

    def col(key):
        return projects[key] if key in projects.columns else pd.Series([None] * n, index=projects.index, dtype=object)

    r = assess(col("settled_price"), col("retention_ratio"), col("retention_amount"), col("defect_start"),
               col("accepted"), col("defect_months"), col("retention_returned"), today,
               default_months=default_months, grace_days=grace_days)
    sel = np.isin(r.status.astype(str), (CLAIMABLE, OVERDUE))
    today64 = np.datetime64(today, "D")
    out = pd.DataFrame({
        "project_id": col("project_id").to_numpy(dtype=object)[sel],
        "name": col("name").to_numpy(dtype=object)[sel],
        "amount": r.amount[sel],
        "due": r.due[sel].astype("datetime64[s]"),
        "status": r.status[sel],
        "days_past_due": (today64 - r.due[sel]).astype(np.int64),
    }, columns=list(CLAIM_COLUMNS))
    return out.sort_values(["due", "project_id"], kind="stable").reset_index(drop=True)
