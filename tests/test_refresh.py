"""刷新台账 on real workbook files: the clock, warranty, payer, states, numbers, flags, bad rows."""
from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
import pytest

from _io_fixtures import make_workbook
from pyfuncs.io.filebook import FileBook
from pyfuncs.jobs import JobOptions
from pyfuncs.jobs import refresh
from pyfuncs.schema import TABLES
from pyfuncs.tables import Frame, read_table

D = dt.date
TODAY = D(2026, 11, 21)
R = TABLES["repairs"]


def _row(table, **kw):
    return [kw.get(c.key) for c in table.columns]


@pytest.fixture
def book(tmp_path):
    p = make_workbook(tmp_path / "r.xlsm")
    b = FileBook.open(p)
    P = TABLES["projects"]
    b.write(P.sheet, 2, 1, [
        _row(P, project_id="P1", name="甲", city="北京", size="大型", accepted=D(2024, 6, 30)),
        _row(P, project_id="P2", name="乙", city="沈阳", size="小型", accepted=D(2020, 1, 10)),
    ])
    yield b
    b.close()


def _tickets(book, rows):
    book.write(R.sheet, 2, 1, [_row(R, **r) for r in rows])


def _run(book, today=TODAY):
    res = refresh.run(book, JobOptions(today=today))
    f = read_table(book, R)
    return res, f


def test_clock_rolls_forward_over_national_day_but_not_for_emergencies(book):
    _tickets(book, [
        dict(project_id="P1", notice=D(2026, 9, 28), part="屋面防水", urgency="一般", place="A"),
        dict(project_id="P1", notice=D(2026, 9, 28), part="屋面防水", urgency="紧急", place="B"),
        dict(project_id="P1", notice=D(2026, 9, 28), part="屋面防水", urgency="涉及结构安全", place="C"),
    ])
    res, f = _run(book)
    assert [str(d) for d in f.dates("due")] == ["2026-10-08", "2026-09-29", "2026-09-29"]


def test_in_warranty_payer_and_overdue_days(book):
    _tickets(book, [
        # roof: 5 years from 2024-06-30 → in warranty; arrived 2 days after the deadline
        dict(project_id="P1", notice=D(2026, 9, 28), part="屋面防水", cause="施工质量",
             arrival=D(2026, 10, 10), place="A"),
        # electrical: 2 years → through 2026-06-30; 07-01 is out
        dict(project_id="P1", notice=D(2026, 7, 1), part="电气管线", cause="施工质量", arrival=D(2026, 7, 2),
             place="B"),
        dict(project_id="P1", notice=D(2026, 6, 30), part="电气管线", cause="设计原因", arrival=D(2026, 7, 1),
             place="C"),
        # nobody arrived yet: counted to today
        dict(project_id="P1", notice=D(2026, 11, 2), part="防渗漏", cause="建设单位采购材料设备", place="D"),
        # only the completion date filled: counted to it; closed without dates: no clock
        dict(project_id="P1", notice=D(2026, 9, 28), part="防渗漏", done=D(2026, 10, 9), place="E"),
        dict(project_id="P1", notice=D(2026, 1, 5), part="防渗漏", state="已关闭", place="F"),
    ])
    res, f = _run(book)
    df = f.df
    assert df["in_warranty"].tolist() == ["是", "否", "是", "是", "是", "是"]
    assert df["payer"].tolist()[:4] == ["免费保修", "有偿维修", "建设单位承担（可向设计单位追偿）", "建设单位承担"]
    # the electrical ticket is out of warranty: a paid repair has no clock (过保报修计超期 = 否)
    got = [None if pd.isna(v) else v for v in df["overdue"].tolist()]
    assert got == [2, None, 0, (TODAY - D(2026, 11, 9)).days, 1, None]
    assert "超期2天" in df.loc[2, "flags"]


def test_contract_term_in_tblterms_extends_the_warranty(book):
    T = TABLES["terms"]
    book.write(T.sheet, 2, 1, [_row(T, project_id="P1", part="电气管线", term="3年")])
    _tickets(book, [dict(project_id="P1", notice=D(2026, 7, 1), part="电气管线", cause="施工质量", place="B")])
    res, f = _run(book)
    assert f.df["in_warranty"].tolist() == ["是"]
    terms = read_table(book, T)
    assert str(terms.dates("end")[0]) == "2027-06-30"
    assert terms.df["status"].tolist() == ["保修中"]


def test_terms_below_the_floor_and_unknown_projects(book):
    T = TABLES["terms"]
    book.write(T.sheet, 2, 1, [
        _row(T, project_id="P1", part="屋面防水", term="3年"),
        _row(T, project_id="P9", part="其他", term="2年"),
        _row(T, project_id="P2", part="供热系统"),
    ])
    res, _ = _run(book)
    t = read_table(book, T)
    assert str(t.dates("end")[0]) == "2029-06-30"
    assert "短于法定最低" in t.df.loc[2, "hint"]
    assert any(p.level == "提示" and p.row == 2 and p.column == "约定保修期" for p in res.problems)
    assert np.isnat(t.dates("end")[1]) and t.df.loc[3, "hint"].startswith("数据有误")
    assert any(p.level == "错误" and p.row == 3 and "P9" in p.message for p in res.problems)
    # 沈阳 heating 11-01→03-31, accepted 2020-01-10 inside a season: through 2022-03-31, with a note
    assert str(t.dates("end")[2]) == "2022-03-31" and t.df.loc[4, "status"] == "已过保"
    assert "不计入" in t.df.loc[4, "hint"]


def test_state_only_where_blank_and_flagged_when_behind_the_dates(book):
    _tickets(book, [
        dict(project_id="P1", notice=D(2026, 11, 1), place="A", part="防渗漏"),
        dict(project_id="P1", notice=D(2026, 11, 1), arrival=D(2026, 11, 2), place="B", part="防渗漏"),
        dict(project_id="P1", notice=D(2026, 11, 1), arrival=D(2026, 11, 2), done=D(2026, 11, 3), place="C",
             part="防渗漏"),
        dict(project_id="P1", notice=D(2026, 11, 1), arrival=D(2026, 11, 2), done=D(2026, 11, 3),
             accepted=D(2026, 11, 4), place="D", part="防渗漏"),
        dict(project_id="P1", notice=D(2026, 11, 1), state="已关闭", place="E", part="防渗漏"),
        dict(project_id="P1", notice=D(2026, 11, 1), arrival=D(2026, 11, 2), done=D(2026, 11, 3),
             state="待派工", place="F", part="防渗漏"),
        # signed off by the user: only now 已验收
        dict(project_id="P1", notice=D(2026, 11, 1), arrival=D(2026, 11, 2), done=D(2026, 11, 3),
             accepted=D(2026, 11, 4), signed="是", place="G", part="防渗漏"),
        # staff wrote 已验收 but the user never signed: kept, with a reminder
        dict(project_id="P1", notice=D(2026, 11, 1), arrival=D(2026, 11, 2), done=D(2026, 11, 3),
             state="已验收", place="H", part="防渗漏"),
        # staff wrote 已完成 and the user has signed since
        dict(project_id="P1", notice=D(2026, 11, 1), arrival=D(2026, 11, 2), done=D(2026, 11, 3),
             signed="是", state="已完成", place="I", part="防渗漏"),
    ])
    res, f = _run(book)
    # an 验收日期 without 用户签认 is 已完成, not 已验收
    assert f.df["state"].tolist() == ["待派工", "维修中", "已完成", "已完成", "已关闭", "待派工", "已验收", "已验收",
                                      "已完成"]
    assert "状态与日期不符（按日期应为已完成）" in f.df.loc[7, "flags"]
    assert "状态为已验收，但用户签认未填" in f.df.loc[9, "flags"]
    assert "状态与日期不符（按日期和用户签认应为已验收）" in f.df.loc[10, "flags"]
    assert f.df.loc[8, "flags"] is None


def test_ticket_numbers_continue_and_are_never_reused(book):
    V = TABLES["visits"]
    book.write(V.sheet, 2, 1, [_row(V, date=D(2026, 3, 1), project_id="P1", ticket_id="BX2026-0010")])
    _tickets(book, [
        dict(ticket_id="BX2026-0007", project_id="P1", notice=D(2026, 1, 5), place="A", part="防渗漏"),
        dict(project_id="P1", notice=D(2026, 2, 5), place="B", part="防渗漏"),
        dict(ticket_id="BX2025-0003", project_id="P1", notice=D(2025, 1, 5), place="C", part="防渗漏"),
        dict(project_id="P1", notice=D(2025, 3, 5), place="D", part="防渗漏"),
        dict(project_id="P1", notice="坏日期", place="E", part="防渗漏"),
    ])
    res, f = _run(book)
    assert f.df["ticket_id"].tolist() == ["BX2026-0007", "BX2026-0011", "BX2025-0003", "BX2025-0004",
                                          "BX2026-0012"]
    res2, f2 = _run(book)
    assert f2.df["ticket_id"].tolist() == f.df["ticket_id"].tolist()
    assert res2.summary["cells_written"] == 0  # idempotent


def test_repeat_defects_and_long_open(book):
    base = dict(project_id="P1", part="防渗漏", place="3号楼 502 卫生间", arrival=None)
    _tickets(book, [
        {**base, "notice": D(2025, 1, 10), "done": D(2025, 1, 12), "arrival": D(2025, 1, 11)},
        {**base, "notice": D(2025, 6, 10), "done": D(2025, 6, 12), "arrival": D(2025, 6, 11)},
        {**base, "place": "3号楼502卫生间", "notice": D(2025, 12, 1), "done": D(2025, 12, 2),
         "arrival": D(2025, 12, 1)},
        {**base, "notice": D(2026, 11, 20)},  # 3rd within 12 months? 2025-12-01 and this one only
        {**base, "place": "别处", "notice": D(2026, 5, 1)},  # open 204 days
    ])
    res, f = _run(book)
    flags = f.df["flags"].fillna("").tolist()
    assert "重复缺陷（12个月内第3次）" in flags[2]
    assert "重复缺陷" not in flags[3] and "重复缺陷" not in flags[0]
    assert "长期未结（已204天）" in flags[4]
    assert res.summary["repeat_defects"] == 1 and res.summary["long_open"] == 1


def test_ticket_without_part_uses_latest_non_structural_end(book):
    _tickets(book, [dict(project_id="P1", notice=D(2029, 1, 5), place="A", cause="施工质量")])
    res, f = _run(book, today=D(2029, 2, 1))
    # roof and 防渗漏: 5 years → 2029-06-30; structure (50 years) ignored
    assert f.df["in_warranty"].tolist() == ["是"]
    assert "未填保修部位" in f.df.loc[2, "flags"]


def test_bad_rows_are_reported_marked_and_skipped_others_processed(book):
    _tickets(book, [
        dict(project_id="P1", notice="2026-02-30", part="防渗漏", place="A"),
        dict(project_id="PX", notice=D(2026, 2, 1), part="防渗漏", place="B"),
        dict(project_id="P1", notice=D(2026, 2, 5), arrival=D(2026, 2, 1), part="防渗漏", place="C"),
        dict(project_id="P1", notice=D(2026, 2, 5), urgency="特急", part="防渗漏", place="D"),
        dict(project_id="P1", notice=D(2026, 2, 5), part="防渗漏", place="E"),
    ])
    res, f = _run(book)
    where = {(p.row, p.column) for p in res.problems if p.level == "错误"}
    assert {(2, "报修日期"), (3, "项目编号"), (4, "到场日期"), (5, "紧急程度")} <= where
    for r in (2, 3, 4, 5):
        assert pd.isna(f.df.loc[r, "due"]) and f.df.loc[r, "payer"] is None
        assert f.df.loc[r, "flags"].startswith("数据有误")
    assert str(f.dates("due")[4]) == "2026-02-12" and f.df.loc[6, "in_warranty"] == "是"
    assert res.summary["bad_rows"] == 4


def test_staff_columns_never_change(book):
    _tickets(book, [dict(project_id="P1", notice=D(2026, 9, 28), part="屋面防水", place="A", problem="漏水",
                         reporter="张三", cost=1200.5, note="员工备注")])
    staff = [c for c in R.columns if not (c.computed or c.fill_blank)]
    before = read_table(book, R).raw[[c.key for c in staff]].copy()
    _run(book)
    after = read_table(book, R).raw[[c.key for c in staff]]
    pd.testing.assert_frame_equal(before, after)


def test_twenty_thousand_tickets_are_column_operations():
    """compute_repairs on 20,000 tickets: numpy/pandas column work, a few seconds at most."""
    from pyfuncs.core.calendar import WorkCalendar
    from pyfuncs.core.settings import Settings

    n = 20_000
    rng = np.random.default_rng(1)
    pids = np.array([f"P{i % 500}" for i in range(n)], dtype=object)
    notice = (np.datetime64("2020-01-01") + rng.integers(0, 2400, n).astype("timedelta64[D]"))
    arrival = np.where(rng.random(n) < 0.9, notice + rng.integers(0, 15, n).astype("timedelta64[D]"),
                       np.datetime64("NaT"))
    parts = np.array(["防渗漏", "屋面防水", "电气管线", None], dtype=object)[rng.integers(0, 4, n)]
    df = pd.DataFrame({c.key: pd.Series([None] * n, dtype=object) for c in R.columns},
                      index=pd.RangeIndex(2, n + 2))
    df["project_id"] = pids
    df["notice"] = notice.astype("datetime64[s]")
    for k in ("due", "arrival", "done", "accepted"):
        df[k] = pd.Series(np.full(n, np.datetime64("NaT"), "datetime64[s]"), index=df.index)
    df["arrival"] = arrival.astype("datetime64[s]")
    df["part"] = parts
    df["place"] = np.array(["A", "B", "C"], dtype=object)[rng.integers(0, 3, n)]
    df["urgency"] = np.array(["一般", "紧急"], dtype=object)[rng.integers(0, 2, n)]
    df["cause"] = "施工质量"
    frame = Frame(R, R.sheet, df, df.astype(object), 1, {c.key: i + 1 for i, c in enumerate(R.columns)}, None)
    proj = pd.DataFrame({"accepted": np.full(500, np.datetime64("2019-06-30"), "datetime64[s]"),
                         "city": "北京", "design_life": pd.array([None] * 500, dtype="Int64")},
                        index=pd.Index([f"P{i}" for i in range(500)], name="pid"))
    s = Settings()
    cal = WorkCalendar()
    t0 = time.perf_counter()
    ends = refresh.effective_ends(proj, Frame(TABLES["terms"], "保修条款", pd.DataFrame(columns=["project_id", "part"]),
                                              pd.DataFrame(), 1, {}, None), np.zeros(0, "datetime64[D]"), s)
    out, problems, stats = refresh.compute_repairs(frame, proj, ends, s, cal, TODAY)
    elapsed = time.perf_counter() - t0
    assert len(out) == n and stats["tickets"] == n and not problems
    assert elapsed < 10, f"{elapsed:.1f}s"


# --- issue 11: one clock for the ledger and the report; contract days; paid repairs; sign-off -------
def _setting(book, name, value):
    f = read_table(book, TABLES["settings"])
    r = next(r for r in f.raw.index if f.raw.at[r, "name"] == name)
    book.write("设置", r, f.cols["value"], [[value]])


def test_ledger_and_report_count_the_same_overdue_tickets(book):
    """Notice 2026-09-01, done 2026-09-05, no arrival, 已完成: not overdue in refresh nor in the
    report (total, monthly column, response times), which both use the core's ticket_clock."""
    from pyfuncs.jobs import report

    P = TABLES["projects"]
    book.write(P.sheet, 2, read_table(book, P).cols["dispatch_days"], [["三天"]])  # a bad cell on P1's row
    _tickets(book, [
        dict(project_id="P1", notice=D(2026, 11, 2), part="防渗漏", place="E"),  # the setting's 7 days: due 11-09
        dict(project_id="P1", notice=D(2026, 9, 1), done=D(2026, 9, 5), state="已完成", part="防渗漏", place="A"),
        dict(project_id="P1", notice=D(2026, 9, 1), arrival=D(2026, 9, 13), part="防渗漏", place="B"),   # 5 days late
        dict(project_id="P1", notice=D(2026, 9, 1), part="防渗漏", place="C"),                           # nobody came
        dict(project_id="P1", notice=D(2026, 9, 1), state="已关闭", part="防渗漏", place="D"),             # closed, no dates
    ])
    res, f = _run(book)
    assert [None if pd.isna(v) else v for v in f.df["overdue"]] == [12, 0, 5, (TODAY - D(2026, 9, 8)).days, None]
    assert (res.summary["overdue"], res.summary["open"], res.summary["open_overdue"]) == (3, 3, 3)
    rep = report.run(book, JobOptions(today=TODAY))
    assert (rep.summary["overdue_all"], rep.summary["open_repairs"], rep.summary["open_overdue"]) == (3, 3, 3)
    # the same figures in the report's monthly column and response table
    from pyfuncs.jobs._common import terms_with_ends

    data = {k: read_table(book, TABLES[k]).df for k in ("projects", "terms", "repairs", "visits")}
    terms, _ = terms_with_ends(data["projects"], data["terms"], refresh.read_settings(book)[0])
    r = report.compute(data["projects"], terms, data["repairs"], data["visits"], refresh.read_settings(book)[0],
                       refresh.read_calendar(book)[0], TODAY)
    assert r.by_month.set_index("month").loc["2026-09", "overdue"] == 2
    resp = r.response.set_index("urgency")
    assert resp.loc["全部", "overdue"] == 3 and resp.loc["全部", "count"] == 2  # 09-05 stands for the arrival
    assert resp.loc["全部", "mean"] == pytest.approx((4 + 12) / 2)
    assert "超期" not in (f.df.loc[3, "flags"] or "")
    for line in res.messages + rep.messages:
        assert " 单" not in line and "单，" not in line  # one unit: 件


def test_contract_dispatch_days_per_project(book):
    P = TABLES["projects"]
    f = read_table(book, P)
    book.write(P.sheet, 2, f.cols["dispatch_days"], [[3]])  # P1's contract: on site within 3 days
    _tickets(book, [
        dict(project_id="P1", notice=D(2026, 3, 2), part="防渗漏", place="A", arrival=D(2026, 3, 7)),
        dict(project_id="P1", notice=D(2026, 3, 2), part="防渗漏", place="B", urgency="紧急", arrival=D(2026, 3, 3)),
        dict(project_id="P2", notice=D(2026, 3, 2), part="其他", place="C", arrival=D(2026, 3, 7)),
    ])
    res, f = _run(book)
    assert [str(d) for d in f.dates("due")] == ["2026-03-05", "2026-03-03", "2026-03-09"]
    assert f.df["overdue"].tolist()[:2] == [2, 0]
    assert "超期2天" in f.df.loc[2, "flags"]


def test_out_of_warranty_repairs_are_not_overdue_unless_set(book):
    # P2 (沈阳, accepted 2020-01-10): 装修工程 2 years → long out of warranty; nobody came for months
    _tickets(book, [dict(project_id="P2", notice=D(2026, 7, 17), part="装修工程", place="A", cause="施工质量")])
    res, f = _run(book)
    assert f.df.loc[2, "in_warranty"] == "否" and f.df.loc[2, "payer"] == "有偿维修"
    assert pd.isna(f.df.loc[2, "overdue"]) and "超期" not in (f.df.loc[2, "flags"] or "")
    assert res.summary["overdue"] == 0 and res.summary["out_of_warranty_no_clock"] == 1
    _setting(book, "过保报修计超期", "是")
    res, f = _run(book)
    assert f.df.loc[2, "overdue"] == (TODAY - D(2026, 7, 24)).days == 120
    assert "超期120天" in f.df.loc[2, "flags"] and res.summary["overdue"] == 1


def test_repeat_defects_without_a_place_fall_back_to_project_and_part(book):
    base = dict(project_id="P1", part="屋面防水", arrival=None)
    _tickets(book, [
        {**base, "notice": D(2026, 1, 10), "arrival": D(2026, 1, 11), "done": D(2026, 1, 12)},
        {**base, "notice": D(2026, 4, 10), "arrival": D(2026, 4, 11), "done": D(2026, 4, 12)},
        {**base, "notice": D(2026, 8, 1), "arrival": D(2026, 8, 2), "done": D(2026, 8, 3)},
        {**base, "part": "防渗漏", "notice": D(2026, 9, 1), "arrival": D(2026, 9, 2), "done": D(2026, 9, 3)},
    ])
    res, f = _run(book)
    flags = f.df["flags"].fillna("").tolist()
    assert "重复缺陷（12个月内第3次，未填具体位置，按项目和保修部位统计）" in flags[2]
    assert "重复缺陷" not in flags[1] and "重复缺陷" not in flags[3]
    assert res.summary["repeat_defects"] == 1


def test_discipline_defaults_from_the_part_and_staff_values_stay(book):
    _tickets(book, [
        dict(project_id="P1", notice=D(2026, 11, 1), part="给排水管道", place="A"),
        dict(project_id="P1", notice=D(2026, 11, 1), part="给排水管道", place="B", discipline="机电"),
        dict(project_id="P1", notice=D(2026, 11, 1), part="装修工程", place="C"),
        dict(project_id="P1", notice=D(2026, 11, 1), place="D"),
    ])
    _run(book)
    f = read_table(book, R)
    assert f.df["discipline"].tolist() == ["安装", "机电", "装饰", None]


def test_completed_but_unsigned_reminder_after_the_set_days(book):
    done = dict(project_id="P1", notice=D(2026, 11, 1), arrival=D(2026, 11, 2), part="防渗漏")
    _tickets(book, [
        {**done, "done": D(2026, 11, 10), "place": "A"},                    # 11 days, unsigned
        {**done, "done": D(2026, 11, 10), "signed": "是", "place": "B"},    # signed: fine
        {**done, "done": D(2026, 11, 18), "place": "C"},                    # 3 days: not yet
        {**done, "done": D(2026, 11, 10), "signed": "否", "place": "D"},    # user refused: reminded
    ])
    res, f = _run(book)
    flags = f.df["flags"].fillna("").tolist()
    assert "完成已11天，用户未签认" in flags[0] and "完成已11天，用户未签认" in flags[3]
    assert flags[1] == "" and flags[2] == ""
    assert res.summary["unsigned"] == 2 and "完成后未签认 2 件" in res.messages[0]
    _setting(book, "签认提醒天数", "14")
    res, f = _run(book)
    assert res.summary["unsigned"] == 0 and not any("未签认" in x for x in f.df["flags"].fillna(""))
