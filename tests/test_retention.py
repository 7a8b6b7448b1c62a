"""质保金 (建质〔2017〕138号): the core's dates, statuses and flags, and refresh/check/report on real files."""
from __future__ import annotations

import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pytest

from _io_fixtures import make_workbook
from pyfuncs.core import retention
from pyfuncs.core.retention import assess, claimable
from pyfuncs.io.filebook import FileBook
from pyfuncs.jobs import JobOptions, check, refresh, report
from pyfuncs.schema import TABLES
from pyfuncs.tables import read_table

D = dt.date
TODAY = D(2026, 11, 21)
P = TABLES["projects"]


def d64(*days):
    return np.array([np.datetime64(x) if x else np.datetime64("NaT") for x in days], dtype="datetime64[D]")


def run_core(n=1, **kw):
    args = dict(price=[1e6] * n, ratio=[0.03] * n, amount=[None] * n, start=d64(*[None] * n),
                accepted=d64(*["2024-01-31"] * n), months=[None] * n, returned=d64(*[None] * n), today=TODAY)
    args.update(kw)
    return assess(**args)


def test_due_date_is_edate_from_the_start_or_the_acceptance_default_24_months():
    r = run_core(4, start=d64(None, "2024-08-31", None, None), months=[None, 18, 12, 1],
                 accepted=d64("2024-01-31", "2020-01-01", "2024-02-29", "2025-12-31"))
    assert [str(x) for x in r.due] == ["2026-01-31", "2026-02-28", "2025-02-28", "2026-01-31"]
    assert r.months.tolist() == [24, 18, 12, 1]
    r2 = run_core(1, months=[None], accepted=d64("2024-01-31"), default_months=12)
    assert str(r2.due[0]) == "2025-01-31"


def test_status_at_each_boundary():
    due = np.datetime64("2026-11-21")
    days = [-1, 0, 28, 29]
    todays = [(due + np.timedelta64(k, "D")).astype(object) for k in days]
    got = [run_core(1, accepted=d64("2024-11-21"), today=t).status[0] for t in todays]
    assert got == ["未到期", "可申请返还", "可申请返还", "逾期未返还"]
    assert run_core(1, accepted=d64("2024-11-21"), today=todays[-1], grace_days=60).status[0] == "可申请返还"
    r = run_core(2, returned=d64("2026-12-01", None), accepted=d64("2024-11-21", "2026-01-01"))
    assert r.status.tolist() == ["已返还", "未到期"]


def test_no_retention_no_status_and_amount_or_ratio_derive_each_other():
    r = run_core(4, price=[1e6, 2e6, None, 5e5], ratio=[None, 0.025, 3, None], amount=[None, None, 9000, 15000],
                 accepted=d64(*["2025-06-01"] * 4))
    assert r.status[0] is None and np.isnat(r.due[0])
    assert r.amount[1] == pytest.approx(50000) and r.ratio[2] == pytest.approx(0.03)  # 3 → 3%
    assert r.amount[2] == 9000 and r.ratio[3] == pytest.approx(0.03)
    assert all(s == "未到期" for s in r.status[1:])


def test_ratio_above_three_percent_is_flagged_citing_article_seven_and_still_computed():
    r = run_core(3, price=[1e6, 1e6, 1e6], ratio=[0.05, None, 0.03], amount=[None, 40000, None],
                 accepted=d64(*["2025-06-01"] * 3))
    flags = [(i, k, lvl) for i, k, m, lvl in r.findings]
    assert flags == [(0, "retention_ratio", "提示"), (1, "retention_amount", "提示")]
    assert all("建质〔2017〕138号）第七条" in m and "3%" in m for _, _, m, _ in r.findings)
    assert "5%" in r.findings[0][2] and "4%" in r.findings[1][2]
    assert r.status.tolist() == ["未到期"] * 3


def test_bad_cells_give_located_problems_and_other_rows_are_processed():
    r = run_core(5, months=[36, None, 0.5, None, None], ratio=[0.03, -0.01, 0.03, 0.03, 0.03],
                 accepted=d64("2024-01-31", "2024-01-31", "2024-01-31", None, "2024-01-31"),
                 returned=d64(None, None, None, None, "2023-01-01"))
    by_row = {i: (k, lvl, m) for i, k, m, lvl in r.findings}
    assert by_row[0][:2] == ("defect_months", "错误") and "第二条" in by_row[0][2]
    assert by_row[1][:2] == ("retention_ratio", "错误")
    assert by_row[2][:2] == ("defect_months", "错误")
    assert by_row[3][:2] == ("defect_start", "错误")
    assert by_row[4][:2] == ("retention_returned", "提示")
    assert [s.startswith("数据有误") for s in r.status[:4]] == [True] * 4 and np.isnat(r.due[:4]).all()
    assert r.status[4] == "已返还" and str(r.due[4]) == "2026-01-31"


def test_one_call_for_a_whole_column():
    n = 100_000
    acc = np.datetime64("2020-01-01") + np.arange(n) % 2500
    r = assess(np.full(n, 1e6), np.full(n, 0.03), None, None, acc, None, None, TODAY)
    assert len(r.status) == n and set(r.status) == {"已返还", "未到期", "可申请返还", "逾期未返还"} - {"已返还"}


def test_claimable_lists_claimable_and_overdue_oldest_first():
    df = pd.DataFrame({"project_id": ["A", "B", "C", "D"], "name": ["甲", "乙", "丙", "丁"],
                       "accepted": pd.to_datetime(["2024-11-01", "2022-01-10", "2025-06-01", "2020-01-01"]),
                       "settled_price": [1e6, 2e6, 1e6, None], "retention_ratio": [0.03, 0.02, 0.03, None],
                       "retention_returned": pd.to_datetime([None, None, None, None])})
    c = claimable(df, TODAY)
    assert list(c.columns) == list(retention.CLAIM_COLUMNS)
    assert c[["project_id", "status"]].values.tolist() == [["B", "逾期未返还"], ["A", "可申请返还"]]
    assert c["amount"].tolist() == [40000.0, 30000.0] and c["days_past_due"].tolist() == [(TODAY - D(2024, 1, 10)).days, 20]


# ---- the jobs on a real file -------------------------------------------------------------------------
def _project(**kw):
    return [kw.get(c.key) for c in P.columns]


@pytest.fixture
def book(tmp_path):
    p = make_workbook(tmp_path / "q.xlsm")
    with FileBook.open(p) as b:
        b.write(P.sheet, 2, 1, [
            _project(project_id="P1", name="甲", accepted=D(2024, 11, 1), settled_price=1e7, retention_ratio=0.03),
            _project(project_id="P2", name="乙", accepted=D(2022, 3, 1), settled_price=2e6, retention_ratio=0.05,
                     defect_months=12),
            _project(project_id="P3", name="丙", accepted=D(2025, 1, 1), settled_price="一千万", retention_ratio=0.03),
            _project(project_id="P4", name="丁", accepted=D(2023, 1, 1), retention_amount=30000, defect_months=36),
            _project(project_id="P5", name="戊", accepted=D(2022, 1, 1), settled_price=1e6, retention_ratio=0.03,
                     retention_returned=D(2024, 1, 20)),
            _project(project_id="P6", name="己", accepted=D(2025, 6, 1)),
        ])
        b.save()
    return p


def test_refresh_writes_due_dates_and_statuses_and_locates_problems(book):
    with FileBook.open(book) as b:
        res = refresh.run(b, JobOptions(today=TODAY))
        b.save()
    ws = openpyxl.load_workbook(book)[P.sheet]
    head = [c.value for c in ws[1]]
    due, st = head.index("质保金应返还日期") + 1, head.index("质保金状态") + 1
    dues = [ws.cell(r, due).value for r in range(2, 8)]
    states = [ws.cell(r, st).value for r in range(2, 8)]
    assert [d.date() if d else None for d in dues] == [D(2026, 11, 1), D(2023, 3, 1), None, None, D(2024, 1, 1), None]
    assert states[0] == "可申请返还" and states[1] == "逾期未返还" and states[4] == "已返还" and states[5] is None
    assert states[2].startswith("数据有误") and states[3].startswith("数据有误")
    assert ws.cell(2, due).number_format == "yyyy-mm-dd"
    text = [str(p) for p in res.problems]
    assert any(t.startswith("项目台账 第3行「质保金比例」列") and "第七条" in t for t in text)
    assert any(t.startswith("项目台账 第4行「结算价款」列") for t in text)
    assert any(t.startswith("项目台账 第5行「缺陷责任期（月）」列") and "1～24" in t for t in text)
    assert res.summary["retention"] == {"可申请返还": 1, "逾期未返还": 1, "已返还": 1}
    assert any("逾期未返还 1 个项目" in m for m in res.messages)
    # staff columns untouched; a second run changes nothing
    assert ws.cell(3, head.index("质保金比例") + 1).value == 0.05
    with FileBook.open(book) as b:
        again = refresh.run(b, JobOptions(today=TODAY))
    assert again.summary["cells_written"] == 0


def test_check_and_report_show_retention(book):
    with FileBook.open(book) as b:
        res = check.run(b, JobOptions(today=TODAY))
        assert any(p.sheet == "项目台账" and p.row == 3 and "第七条" in p.message for p in res.problems)
        rep = report.run(b, JobOptions(today=TODAY))
        b.save()
    assert rep.summary["retention_claimable"] == 2
    ws = openpyxl.load_workbook(book)["统计"]
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    top = next(i for i, row in enumerate(cells) if isinstance(row[0], str) and row[0].startswith("九、可申请返还的质保金"))
    assert cells[top + 1][:6] == ["项目编号", "项目名称", "质保金金额（元）", "应返还日期", "状态", "已过天数"]
    assert cells[top + 2][:3] == ["P2", "乙", 100000] and cells[top + 2][4] == "逾期未返还"
    assert cells[top + 3][:3] == ["P1", "甲", 300000] and cells[top + 3][4] == "可申请返还"


def test_settings_reject_a_default_period_over_24_months(book):
    from pyfuncs.tables import read_settings

    with FileBook.open(book) as b:
        st = read_table(b, TABLES["settings"])
        row = next(r for r in st.raw.index if st.raw.at[r, "name"] == "默认缺陷责任期月数")
        assert st.raw.at[row, "value"] == "24"
        b.write("设置", row, 2, [["36"]])
        settings, problems = read_settings(b)
    assert settings.defect_months == 24
    assert any(p.row == row and "1到24" in p.message for p in problems)
