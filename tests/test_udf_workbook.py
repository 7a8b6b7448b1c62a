"""The worksheet functions follow the workbook: same 设置, 城市季节 and 节假日 as the ribbon jobs.

One real workbook file with non-default settings, an extra city, a changed season and holiday
overrides; 刷新台账 and 回访计划 run on it; then every AC_ function is called on the same rows
with that workbook's stamp (the tables read through the same Book interface the functions use
in Excel, :func:`pyfuncs.udf_tables.tables_for`) and must give what the jobs wrote, row by row.
The cache: read once per workbook and version, re-read on a new version, no read on a hit.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from _jobs_data import blank_book, run_job
from pyfuncs import udf_tables, udfs
from pyfuncs.io.filebook import FileBook
from pyfuncs.jobs import plan as plan_job
from pyfuncs.jobs import refresh
from pyfuncs.schema import TABLES
from pyfuncs.tables import append_rows, read_table

D = dt.date
DT = dt.datetime
TODAY = D(2026, 12, 10)
YEAR = 2027

SETTINGS = {
    "报修到场天数": "3",
    "紧急到场天数": "2",
    "到期提醒天数": "60",
    "默认合理使用年限": "70",
    "雨季前回访日": "05-20",
    "供冷期前回访日": "04-10",
    "例行回访间隔-中型": "4",
    "期满前回访提前月数": "2",
    "采暖期前回访提前月数": "2",
}
SEASONS = {  # city → (heat start, heat end, cool start, cool end)
    "北京": ("11-01", "03-31", "06-01", "09-15"),
    "测试市": ("10-10", "04-20", "05-20", "09-10"),
}
HOLIDAYS = [  # date, 类型, 说明: a rest day the official calendar does not have, and a make-up day
    (D(2026, 12, 4), "休", "单位停电"),
    (D(2027, 1, 8), "休", "2027年元旦假期（示例）"),
    (D(2026, 12, 12), "班", "调休上班（示例）"),
]
PROJECTS = [
    # id, city, size, accepted, life, four_new
    ("Q1", "北京", "中型", D(2025, 6, 30), None, "否"),
    ("Q2", "测试市", "大型", D(2024, 11, 20), 30, "是"),
    ("Q3", "广州", "小型", D(2026, 1, 31), None, "否"),
    ("Q4", None, "中型", D(2026, 2, 28), None, "是"),
]
TERMS = [
    # pid, part, term, start
    ("Q1", "供热系统", None, None),
    ("Q1", "供冷系统", "3个供冷期", None),
    ("Q1", "地基基础和主体结构", None, None),
    ("Q1", "屋面防水", "3年", None),
    ("Q2", "供热系统", None, D(2024, 12, 1)),
    ("Q2", "地基基础和主体结构", None, None),
    ("Q2", "装修工程", "18个月", None),
    ("Q3", "供热系统", "2个采暖期", None),
    ("Q3", "电气管线", None, D(2026, 3, 1)),
]
TICKETS = [
    # pid, notice, part, place, urgency, arrival, done, accepted, state
    ("Q1", D(2026, 12, 1), "屋面防水", "A", "一般", None, None, None, None),          # 3 days → 12-04 休 → 12-07
    ("Q1", D(2026, 12, 2), "屋面防水", "B", "一般", D(2026, 12, 10), None, None, None),  # 12-05 Sat → 12-07
    ("Q1", D(2026, 12, 9), "供热系统", "C", "一般", None, None, None, None),          # 12-12 Sat but 班 → 12-12
    ("Q2", D(2027, 1, 5), "装修工程", "D", "一般", None, None, None, None),           # 01-08 休 → 01-11
    ("Q2", D(2026, 12, 3), "装修工程", "E", "紧急", D(2026, 12, 9), None, None, None),   # 2 calendar days
    ("Q2", D(2026, 11, 20), "装修工程", "F", "涉及结构安全", None, D(2026, 11, 25), None, "已完成"),
    ("Q3", D(2026, 11, 2), "电气管线", "G", "一般", None, None, D(2026, 11, 30), "已验收"),
    ("Q3", D(2026, 10, 1), "电气管线", "H", "一般", None, None, None, "已关闭"),
    ("Q4", D(2026, 9, 28), "设备安装", "I", None, None, None, None, None),
]


def _set_settings(book) -> None:
    st = read_table(book, TABLES["settings"])
    for row in st.raw.index:
        label = st.raw.at[row, "name"]
        if label in SETTINGS:
            book.write(st.sheet, int(row), st.cols["value"], [[SETTINGS[label]]])
    se = read_table(book, TABLES["seasons"])
    keys = ("heat_start", "heat_end", "cool_start", "cool_end")
    new = dict(SEASONS)
    for row in se.raw.index:
        city = se.raw.at[row, "city"]
        if city in new:
            for key, value in zip(keys, new.pop(city)):
                book.write(se.sheet, int(row), se.cols[key], [[value]])
    append_rows(book, se, [dict(city=c, **dict(zip(keys, v))) for c, v in new.items()])
    append_rows(book, read_table(book, TABLES["holidays"]),
                [dict(date=d, type=t, note=n) for d, t, n in HOLIDAYS])


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    """The workbook after 回访计划 2027 and 刷新台账 (today 2026-12-10)."""
    path = blank_book(tmp_path_factory.mktemp("udfbook") / "aftercare.xlsm")
    with FileBook.open(path) as book:
        _set_settings(book)
        keys = ["project_id", "name", "city", "size", "accepted", "design_life", "four_new"]
        append_rows(book, read_table(book, TABLES["projects"]),
                    [dict(zip(keys, (p[0], f"项目{p[0]}", *p[1:]))) for p in PROJECTS])
        append_rows(book, read_table(book, TABLES["terms"]),
                    [dict(zip(["project_id", "part", "term", "start"], t)) for t in TERMS])
        keys = ["project_id", "notice", "part", "place", "urgency", "arrival", "done", "accepted", "state"]
        append_rows(book, read_table(book, TABLES["repairs"]), [dict(zip(keys, t)) for t in TICKETS])
        book.save()
    run_job(path, plan_job, today=TODAY, year=YEAR)  # adds Q4's ten statutory 保修条款 rows
    run_job(path, refresh, today=TODAY)
    return path


@pytest.fixture
def stamp(workbook):
    """The workbook's stamp, its tables read once into the functions' cache (as in Excel)."""
    udf_tables.forget()
    s = f"{workbook}|1"
    with FileBook.open(workbook) as book:
        udf_tables.tables_for(s, lambda: book)
    yield s
    udf_tables.forget()


def _frame(path, key):
    with FileBook.open(path) as book:
        return read_table(book, TABLES[key])


def _py(v):
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and pd.isna(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.date):
        return DT(v.year, v.month, v.day)
    if hasattr(v, "item"):
        return v.item()
    return v


def test_the_workbook_really_differs_from_the_defaults(workbook, stamp):
    """Otherwise agreeing with refresh would prove nothing."""
    t = udf_tables.tables_for(stamp)
    assert t.settings.clock_days == 3 and t.settings.design_life == 70
    assert t.settings.season("测试市").heat_start == (10, 10)
    assert not t.calendar.is_workday_one(D(2027, 1, 8))
    assert udfs.AC_REPAIR_DUE(D(2026, 12, 1)) == DT(2026, 12, 8)          # defaults: 7 days
    assert udfs.AC_REPAIR_DUE(D(2026, 12, 1), stamp=stamp) == DT(2026, 12, 7)
    assert udfs.AC_IS_WORKDAY(D(2027, 1, 8)) is True
    assert udfs.AC_IS_WORKDAY(D(2027, 1, 8), stamp=stamp) is False
    assert udfs.AC_NEXT_WORKDAY(D(2027, 1, 8), stamp=stamp) == DT(2027, 1, 11)
    assert udfs.AC_IS_WORKDAY(D(2026, 12, 12), stamp=stamp) is True


def test_repair_due_and_overdue_days_equal_refresh_row_by_row(workbook, stamp):
    rep = _frame(workbook, "repairs")
    df, raw = rep.df, rep.raw
    assert len(df) == len(TICKETS)
    for r in df.index:
        due = udfs.AC_REPAIR_DUE(raw.at[r, "notice"], raw.at[r, "urgency"], None, stamp)
        assert due == _py(df.at[r, "due"]), (r, raw.at[r, "notice"], raw.at[r, "urgency"])
        late = udfs.AC_OVERDUE_DAYS(raw.at[r, "due"], raw.at[r, "arrival"], TODAY, raw.at[r, "done"],
                                    raw.at[r, "accepted"], raw.at[r, "state"], raw.at[r, "in_warranty"], stamp)
        assert late == _py(df.at[r, "overdue"]), (r, late, df.at[r, "overdue"])
    # whole columns at once (one array formula over the ledger) give the same
    col = lambda k: [[v] for v in raw[k]]  # noqa: E731
    dues = udfs.AC_REPAIR_DUE(col("notice"), col("urgency"), None, stamp)
    assert dues == [[_py(v)] for v in df["due"]]
    lates = udfs.AC_OVERDUE_DAYS(col("due"), col("arrival"), TODAY, col("done"), col("accepted"), col("state"),
                                 col("in_warranty"), stamp)
    assert lates == [[_py(v)] for v in df["overdue"]]
    # the settings made a difference on these very rows
    assert dues != udfs.AC_REPAIR_DUE(col("notice"), col("urgency"))


def test_warranty_end_and_status_equal_refresh_row_by_row(workbook, stamp):
    terms = _frame(workbook, "terms")
    projects = _frame(workbook, "projects").df.set_index("project_id")
    df = terms.df
    ends, defaults = [], []
    for r in df.index:
        pid = df.at[r, "project_id"]
        start = df.at[r, "start"] if not pd.isna(df.at[r, "start"]) else projects.at[pid, "accepted"]
        life = projects.at[pid, "design_life"]
        args = (_py(start), df.at[r, "part"], df.at[r, "term"], projects.at[pid, "city"],
                None if pd.isna(life) else int(life))
        end = udfs.AC_WARRANTY_END(*args, stamp)
        assert end == _py(df.at[r, "end"]), (r, args)
        status = udfs.AC_WARRANTY_STATUS(end, TODAY, None, stamp)
        assert status == df.at[r, "status"], (r, end)
        ends.append(end)
        defaults.append(udfs.AC_WARRANTY_END(*args))
    assert ends != defaults  # the season table and the design life setting mattered


def test_callbacks_equal_the_plan_job_for_projects_planned_with_statutory_terms(workbook, stamp):
    """回访计划 gave Q4 (no 保修条款 rows of its own) the ten statutory parts: its plan rows are
    exactly AC_CALLBACKS for that project (date, kinds, parts, 回访事由及说明 with the notes of
    a blank city), with this workbook's timings, seasons and holidays."""
    with FileBook.open(workbook) as book:
        plan = plan_job.read_plan(book, YEAR).plan
    projects = {p[0]: p for p in PROJECTS}
    pid, city, size, accepted, _life, four_new = projects["Q4"]
    mine = plan[plan["project_id"] == pid]
    expected = [[DT(d.year, d.month, d.day), k, p, r]
                for d, k, p, r in zip(mine["date"], mine["kind"], mine["parts"], mine["reasons"])]
    assert expected, "the plan job planned nothing for Q4"
    assert any("注：" in r[3] for r in expected)  # Q4 has no city: its heating rows say so
    table = udfs.AC_CALLBACKS(accepted, None, size, YEAR, four_new, city, stamp)
    assert table[1:] == expected
    assert [r[:3] for r in udfs.AC_CALLBACKS(accepted, None, size, YEAR, four_new, city)[1:]] != \
        [r[:3] for r in expected]


# --- the cache ----------------------------------------------------------------------------------
class CountingLoader:
    """Opens the workbook file like a job would, counting the reads."""

    def __init__(self, path):
        self.path = path
        self.calls = 0
        self.books = []

    def __call__(self):
        self.calls += 1
        self.books.append(FileBook.open(self.path, lock=False))
        return self.books[-1]

    def close(self):
        for b in self.books:
            b.close()


@pytest.fixture
def loader():
    made = []

    def make(path):
        made.append(CountingLoader(path))
        return made[-1]

    yield make
    for m in made:
        m.close()


def test_tables_are_read_once_per_workbook_and_version(workbook, loader):
    udf_tables.forget()
    load = loader(workbook)
    a = udf_tables.tables_for(f"{workbook}|7", load)
    for _ in range(5):
        assert udf_tables.tables_for(f"{workbook}|7", load) is a
    assert load.calls == 1
    b = udf_tables.tables_for(f"{workbook}|8", load)  # the sheets changed: a new version
    assert load.calls == 2 and b is not a
    assert udf_tables.tables_for(f"{workbook}|8", load) is b and load.calls == 2
    udf_tables.forget()


def test_a_cache_hit_makes_no_call_into_the_workbook(workbook, stamp, monkeypatch):
    """In Excel the loader is the COM route (XlBook of xw.Book.caller()); on a hit the functions
    must not touch it, whatever the size of the range."""
    def no_com():
        raise AssertionError("the workbook was read on a cache hit")

    monkeypatch.setattr(udf_tables, "calling_book", no_com)
    column = [[D(2026, 12, 1) + dt.timedelta(days=i)] for i in range(500)]
    assert len(udfs.AC_REPAIR_DUE(column, None, None, stamp)) == 500
    assert udfs.AC_IS_WORKDAY(D(2027, 1, 8), stamp) is False
    # a new version does go to the workbook
    assert udfs.AC_IS_WORKDAY(D(2027, 1, 8), stamp.replace("|1", "|2")).startswith("#无法读取工作簿的设置和节假日")


def test_edited_sheets_are_picked_up_with_the_next_version(workbook, tmp_path, loader):
    copy = tmp_path / "copy.xlsm"
    copy.write_bytes(workbook.read_bytes())
    udf_tables.forget()
    load = loader(copy)
    s1 = f"{copy}|1"
    udf_tables.tables_for(s1, load)
    assert udfs.AC_REPAIR_DUE(D(2026, 12, 1), None, None, s1) == DT(2026, 12, 7)
    with FileBook.open(copy) as book:  # staff change 报修到场天数 to 5
        st = read_table(book, TABLES["settings"])
        row = int(st.raw.index[st.raw["name"] == "报修到场天数"][0])
        book.write(st.sheet, row, st.cols["value"], [[5]])
        book.save()
    assert udfs.AC_REPAIR_DUE(D(2026, 12, 1), None, None, s1) == DT(2026, 12, 7)  # same version: cached
    s2 = f"{copy}|2"
    udf_tables.tables_for(s2, load)
    assert udfs.AC_REPAIR_DUE(D(2026, 12, 1), None, None, s2) == DT(2026, 12, 7)  # 12-06 Sun → 12-07
    assert udfs.AC_REPAIR_DUE(D(2026, 12, 7), None, None, s2) == DT(2026, 12, 12)  # a Saturday, but 班
    udf_tables.forget()


def test_a_failed_read_is_reported_and_retried(workbook):
    udf_tables.forget()
    calls = []

    def broken():
        calls.append(1)
        raise OSError("文件被占用")

    with pytest.raises(udf_tables.TablesError, match="文件被占用"):
        udf_tables.tables_for("X.xlsm|1", broken)
    with pytest.raises(udf_tables.TablesError):
        udf_tables.tables_for("X.xlsm|1", broken)
    assert len(calls) == 2  # nothing cached after a failure
    assert udf_tables.cached_books() == []


def test_the_cache_keeps_a_bounded_number_of_workbooks(workbook, loader):
    udf_tables.forget()
    load = loader(workbook)
    for i in range(udf_tables.MAX_BOOKS + 3):
        udf_tables.tables_for(f"book{i}.xlsm|1", load)
    books = udf_tables.cached_books()
    assert len(books) == udf_tables.MAX_BOOKS and books[-1] == f"book{udf_tables.MAX_BOOKS + 2}.xlsm"
    udf_tables.forget()


def test_no_stamp_means_the_defaults():
    assert udf_tables.tables_for(None).settings.clock_days == 7
    assert udf_tables.tables_for("").settings.clock_days == 7
