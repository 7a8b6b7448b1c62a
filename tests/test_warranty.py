"""Warranty terms per part (DOMAIN.md §1) and their worked examples."""
import datetime as dt

import numpy as np
import pytest
from hypothesis import given, strategies as st

from pyfuncs.core.parts import PART_LABELS, STATUTORY, Term
from pyfuncs.core.settings import Settings
from pyfuncs.core.warranty import (
    TermError, parse_term, season_ends, warranty_ends, warranty_status,
)

D = dt.date


def end(start, part, term=None, city=None, life=None, settings=None):
    r = warranty_ends(np.array([start], "datetime64[D]"), [part], [term], [city], [life], settings)
    assert not r.errors, r.errors
    return r.ends[0].astype(dt.date), r.notes[0]


def test_the_ten_labels_exactly():
    assert PART_LABELS == (
        "地基基础和主体结构", "屋面防水", "防渗漏", "供热系统", "供冷系统",
        "电气管线", "给排水管道", "设备安装", "装修工程", "其他",
    )


@pytest.mark.parametrize(
    "part, expected",
    [
        ("地基基础和主体结构", D(2074, 6, 30)),  # design life, default 50 years
        ("屋面防水", D(2029, 6, 30)),
        ("防渗漏", D(2029, 6, 30)),
        ("电气管线", D(2026, 6, 30)),
        ("给排水管道", D(2026, 6, 30)),
        ("设备安装", D(2026, 6, 30)),
        ("装修工程", D(2026, 6, 30)),
        ("其他", D(2026, 6, 30)),  # no floor; the model 保修书 uses 2 years
        ("供热系统", D(2026, 3, 15)),  # Beijing default season
        ("供冷系统", D(2026, 9, 30)),
    ],
)
def test_default_term_per_part(part, expected):
    assert end(D(2024, 6, 30), part)[0] == expected


def test_domain_examples_years():
    assert end(D(2024, 6, 30), "电气管线")[0] == D(2026, 6, 30)
    assert end(D(2024, 2, 29), "屋面防水", "5年")[0] == D(2029, 2, 28)


def test_domain_example_heating_seasons_beijing():
    e, note = end(D(2024, 6, 30), "供热系统", "2个采暖期", "北京")
    assert e == D(2026, 3, 15) and note == ""


def test_domain_example_accepted_inside_a_season_gets_a_note():
    e, note = end(D(2024, 12, 1), "供热系统", None, "北京")
    assert e == D(2027, 3, 15)
    assert "不完整采暖期不计入" in note


def test_season_starting_on_the_acceptance_day_is_partial():
    # the start day is not counted, so the season that starts that day is not complete
    e, note = end(D(2024, 11, 15), "供热系统", None, "北京")
    assert e == D(2027, 3, 15) and note
    e, note = end(D(2024, 11, 14), "供热系统", None, "北京")
    assert e == D(2026, 3, 15) and note == ""


def test_city_season_table_and_default_row():
    assert end(D(2024, 6, 30), "供热系统", None, "太原")[0] == D(2026, 3, 31)
    assert end(D(2024, 6, 30), "供热系统", None, "北京市")[0] == D(2026, 3, 15)
    assert end(D(2024, 6, 30), "供热系统", None, "未知城")[0] == D(2026, 3, 15)
    s, _ = Settings().with_seasons([("默认", "11-01", "03-31", "", ""), ("某市", "10-15", "04-15", "06-01", "09-15")])
    assert end(D(2024, 6, 30), "供热系统", None, "未知城", settings=s)[0] == D(2026, 3, 31)
    assert end(D(2024, 6, 30), "供冷系统", None, "某市", settings=s)[0] == D(2026, 9, 15)
    # accepted 2024-06-30 is inside 某市's cooling season 06-01..09-15: that one does not count
    assert "不完整供冷期" in end(D(2024, 6, 30), "供冷系统", None, "某市", settings=s)[1]


def test_cooling_seasons_count_complete_seasons():
    assert end(D(2024, 4, 1), "供冷系统", "2个供冷期")[0] == D(2025, 9, 30)
    assert end(D(2024, 6, 1), "供冷系统", "3个供冷期")[0] == D(2027, 9, 30)


@pytest.mark.parametrize(
    "text, term",
    [
        ("5年", Term(5, "year")), ("５年", Term(5, "year")), ("五年", Term(5, "year")),
        ("两年", Term(2, "year")), ("十年", Term(10, "year")), ("十二个月", Term(12, "month")),
        ("18个月", Term(18, "month")), ("18月", Term(18, "month")), ("2个采暖期", Term(2, "heating")),
        ("3个供暖期", Term(3, "heating")), ("2个供冷期", Term(2, "cooling")), (3, Term(3, "year")),
        (2.0, Term(2, "year")), ("1.5年", Term(18, "month")), ("8", Term(8, "year")),
        (" 5 年 ", Term(5, "year")),
    ],
)
def test_parse_term(text, term):
    assert parse_term(text) == term


@pytest.mark.parametrize("text", ["-1年", "0年", "五年半", "永久", "2个周期", True, "1.3年", -3, "300年"])
def test_bad_terms(text):
    with pytest.raises(TermError) as e:
        parse_term(text)
    assert "保修期无效" in str(e.value)


def test_contract_longer_than_floor_is_used():
    assert end(D(2024, 6, 30), "屋面防水", "8年") == (D(2032, 6, 30), "")
    assert end(D(2024, 6, 30), "装修工程", "30个月") == (D(2026, 12, 30), "")
    assert end(D(2024, 6, 30), "供热系统", "3个采暖期", "北京") == (D(2027, 3, 15), "")


def test_contract_shorter_than_floor_uses_floor_and_says_so():
    e, note = end(D(2024, 6, 30), "屋面防水", "3年")
    assert e == D(2029, 6, 30)
    assert note == "约定保修期3年短于法定最低5年，按法定最低期限计"
    e, note = end(D(2024, 6, 30), "电气管线", "18个月")
    assert e == D(2026, 6, 30) and "18个月" in note and "2年" in note
    e, note = end(D(2024, 6, 30), "供热系统", "1个采暖期", "北京")
    assert e == D(2026, 3, 15) and "1个采暖期" in note
    # a term in years for heating is compared by its end date against 2 heating seasons
    e, note = end(D(2024, 6, 30), "供热系统", "1年", "北京")
    assert e == D(2026, 3, 15) and "法定最低2个采暖期" in note


def test_other_has_no_floor():
    assert end(D(2024, 6, 30), "其他", "1年") == (D(2025, 6, 30), "")


def test_structure_uses_design_life():
    assert end(D(2024, 6, 30), "地基基础和主体结构", None, None, 70)[0] == D(2094, 6, 30)
    e, note = end(D(2024, 6, 30), "地基基础和主体结构", "10年", None, 50)
    assert e == D(2074, 6, 30) and "短于法定最低50年" in note
    s = Settings(design_life=100)
    assert end(D(2024, 6, 30), "地基基础和主体结构", settings=s)[0] == D(2124, 6, 30)


def test_errors_per_row_and_the_rest_still_computed():
    r = warranty_ends(
        np.array(["2024-06-30", "2024-06-30", "2024-06-30", "NaT", "2024-06-30"], "datetime64[D]"),
        ["屋面防水", "屋顶", "电气管线", "电气管线", "地基基础和主体结构"],
        [None, None, "很久", None, None], None, [None, None, None, None, "五十年?"],
    )
    assert str(r.ends[0]) == "2029-06-30"
    assert r.errors[1] == "保修部位无效: 屋顶"
    assert "保修期无效: 很久" in r.errors[2]
    assert np.isnat(r.ends[3]) and 3 not in r.errors  # no start date: no end, not an error here
    assert "合理使用年限无效" in r.errors[4]
    assert set(r.errors) == {1, 2, 4}


def test_status_windows():
    ends = np.array(["2027-03-01", "2027-02-19", "2026-11-22", "2026-11-21", "2026-11-20", "NaT"], "datetime64[D]")
    today = D(2026, 11, 21)
    assert warranty_status(ends, today).tolist() == ["保修中", "即将到期", "即将到期", "即将到期", "已过保", ""]
    assert warranty_status(ends, today, 30).tolist()[:2] == ["保修中", "保修中"]
    assert warranty_status(ends, today, 100).tolist()[0] == "即将到期"


dates = st.dates(min_value=D(1950, 1, 1), max_value=D(2150, 12, 31))
month_parts = [p for p in PART_LABELS if STATUTORY.get(p) is None or STATUTORY[p].months]


@given(dates, st.sampled_from(PART_LABELS), st.sampled_from(["北京", "哈尔滨", "太原", None]))
def test_end_is_after_start(start, part, city):
    e, _ = end(start, part, None, city)
    assert e > start


@given(dates, st.integers(1, 120), st.integers(1, 120))
def test_monotonic_in_the_term(start, a, b):
    lo, hi = sorted((a, b))
    e_lo, _ = end(start, "其他", f"{lo}个月")
    e_hi, _ = end(start, "其他", f"{hi}个月")
    assert e_lo <= e_hi


@given(dates, st.integers(2, 6), st.integers(2, 6))  # 1 season is below the floor of 2
def test_monotonic_in_seasons(start, a, b):
    lo, hi = sorted((a, b))
    e_lo = end(start, "供热系统", f"{lo}个采暖期", "北京")[0]
    e_hi = end(start, "供热系统", f"{hi}个采暖期", "北京")[0]
    assert (e_hi.year - e_lo.year) == hi - lo and e_lo <= e_hi


@given(st.integers(1950, 2150), st.sampled_from([1, 3, 5, 7, 8, 10, 12]), st.integers(1, 10))
def test_month_end_clamping(year, month, years):
    # accepted on the 31st: ends on the 31st or, in shorter months, that month's last day
    start = D(year, month, 31)
    e, _ = end(start, "其他", f"{years}年")
    assert e.month == month and e.year == year + years and e.day == 31


@given(st.integers(1950, 2150).filter(lambda y: y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)), st.integers(1, 10))
def test_29_february(year, years):
    e, _ = end(D(year, 2, 29), "其他", f"{years}年")
    target = year + years
    leap = target % 4 == 0 and (target % 100 != 0 or target % 400 == 0)
    assert e == D(target, 2, 29 if leap else 28)


@given(dates, st.integers(1, 5))
def test_season_end_is_a_season_end_and_counts_complete_seasons(start, n):
    e, inside = season_ends(np.array([start], "datetime64[D]"), n, ((11, 15), (3, 15)))
    e = e[0].astype(dt.date)
    assert (e.month, e.day) == (3, 15)
    # exactly n season starts (11-15) lie strictly after the start and before the end
    starts = [D(y, 11, 15) for y in range(start.year - 1, e.year + 1)]
    assert sum(start < s < e for s in starts) == n


def test_millions_of_distinct_values_fall_back_to_row_grouping(monkeypatch):
    import pyfuncs.core.warranty as w

    starts = np.array(["2024-06-30"] * 5, "datetime64[D]")
    parts = ["屋面防水", "电气管线", "屋面防水", None, "其他"]
    terms = [None, "3年", None, None, float("nan")]
    expected = warranty_ends(starts, parts, terms)
    # force the path taken when the product of distinct values would overflow int64
    calls = []
    real = w._combo_codes_by_rows
    monkeypatch.setattr(w, "_combo_codes_by_rows", lambda c, n: calls.append(n) or real(c, n))
    monkeypatch.setattr(w.pd, "factorize", _huge_factorize(w.pd.factorize))
    got = warranty_ends(starts, parts, terms)
    assert calls == [5]
    assert [str(x) for x in got.ends] == [str(x) for x in expected.ends]
    assert list(got.notes) == list(expected.notes) and got.errors == expected.errors


def _huge_factorize(real):
    def fake(values, **kw):
        codes, uniques = real(values, **kw)
        if kw.get("use_na_sentinel") and getattr(values, "dtype", None) == object:
            return codes, _Long(uniques)
        return codes, uniques
    return fake


class _Long:
    """Pretends to hold 2**31 distinct values so the radix product overflows."""

    def __init__(self, u):
        self.u = u

    def __len__(self):
        return 2**31

    def __getitem__(self, i):
        return self.u[i]


# --- issue 11: cities, design life, unreadable terms -------------------------------------------
def test_city_names_match_with_province_and_shi_stripped():
    s = Settings()
    for written in ("呼和浩特", "内蒙古呼和浩特", "内蒙古呼和浩特市", "内蒙古自治区呼和浩特市", "呼和浩特市赛罕区"):
        assert s.match_city(written) == "呼和浩特", written
        assert end(D(2024, 6, 30), "供热系统", None, written) == (D(2026, 4, 15), "")
    assert s.match_city("黑龙江省哈尔滨市") == "哈尔滨" and s.match_city("北京市朝阳区") == "北京"
    assert s.match_city("火星城") is None and s.match_city("") is None


def test_city_without_district_heating_invents_no_heating_season():
    # 广州: no heating season; "2个采暖期" counts as 2 years, and the row says so
    e, note = end(D(2024, 6, 30), "供热系统", None, "广东省广州市")
    assert e == D(2026, 6, 30)
    assert "无采暖期" in note and "2个采暖期按2年计算" in note
    assert not Settings().season("深圳").has_heating and Settings().season("上海").has_cooling


def test_row_that_fell_back_to_the_default_city_says_so():
    e, note = end(D(2024, 6, 30), "供热系统", None, "火星城")
    assert e == D(2026, 3, 15) and "「火星城」不在城市季节表中" in note and "默认" in note
    e, note = end(D(2024, 6, 30), "供热系统", None, None)
    assert e == D(2026, 3, 15) and "未填所在城市" in note
    # only rows that depend on the season: a 2-year part in the same city has no note
    assert end(D(2024, 6, 30), "电气管线", None, "火星城") == (D(2026, 6, 30), "")


def test_season_table_rows_with_no_heating_and_their_problems():
    rows = [("丙市", "无", "无", "", "", "说明"), ("丁市", "", "", "", ""), ("戊市", "无", "03-15", "", "")]
    s, problems = Settings().with_seasons(rows)
    assert not s.season("丙市").has_heating and s.season("丙市").cool_start == (5, 15)
    assert [i for i, _ in problems] == [1, 2]
    assert "为空" in problems[0][1] and "“无”" in problems[1][1]
    assert s.match_city("丁市") is None  # a bad row is skipped: the city uses 默认, with a note


def test_shipped_season_table_has_the_official_heating_dates():
    s = Settings()
    expected = {"北京": ((11, 15), (3, 15)), "天津": ((11, 15), (3, 15)), "石家庄": ((11, 15), (3, 15)),
                "太原": ((11, 1), (3, 31)), "呼和浩特": ((10, 15), (4, 15)), "沈阳": ((11, 1), (3, 31)),
                "长春": ((10, 25), (4, 10)), "哈尔滨": ((10, 20), (4, 20)), "济南": ((11, 15), (3, 15)),
                "郑州": ((11, 15), (3, 15)), "西安": ((11, 15), (3, 15)), "兰州": ((11, 1), (3, 31)),
                "西宁": ((10, 15), (4, 15)), "银川": ((11, 1), (3, 31)), "乌鲁木齐": ((10, 10), (4, 10)),
                "拉萨": ((11, 1), (3, 31))}
    for city, (a, b) in expected.items():
        assert (s.season(city).heat_start, s.season(city).heat_end) == (a, b), city
    for city in ("广州", "深圳", "上海", "武汉", "成都", "重庆"):
        assert not s.season(city).has_heating, city
    from pyfuncs.core.settings import season_sheet_rows

    rows = season_sheet_rows()
    assert all(r[5] for r in rows)  # every row says where its dates come from


def test_structure_term_may_say_the_design_life():
    for wording in ("设计文件规定的合理使用年限", "设计文件规定的该工程的合理使用年限", "合理使用年限"):
        assert end(D(2024, 6, 30), "地基基础和主体结构", wording, life=100) == (D(2124, 6, 30), "")
        assert end(D(2024, 6, 30), "地基基础和主体结构", wording)[0] == D(2074, 6, 30)
    # the wording belongs to the structure only
    r = warranty_ends(np.array(["2024-06-30"], "datetime64[D]"), ["屋面防水"], ["设计文件规定的合理使用年限"])
    assert r.errors


def test_design_life_outside_gb50352_is_used_with_a_hint():
    e, note = end(D(2024, 6, 30), "地基基础和主体结构", None, life=70)
    assert e == D(2094, 6, 30) and "土地使用权" in note and "5、25、50、100" in note
    assert end(D(2024, 6, 30), "地基基础和主体结构", None, life=25) == (D(2049, 6, 30), "")


def test_fallback_gives_the_default_term_and_says_so():
    d = np.array(["2024-06-30"] * 4, "datetime64[D]")
    parts = ["屋面防水", "其他", "地基基础和主体结构", "地基基础和主体结构"]
    terms = ["十年整", "很久", "两百年整", None]
    r = warranty_ends(d, parts, terms, design_lives=[None, None, None, "很久"], fallback=True)
    assert [x.astype(dt.date) for x in r.ends] == [D(2029, 6, 30), D(2026, 6, 30), D(2074, 6, 30), D(2074, 6, 30)]
    assert not r.errors and set(r.term_errors) == {0, 1, 2}
    assert "法定最低期限5年" in r.notes[0] and "默认期限2年" in r.notes[1] and "合理使用年限50年" in r.notes[2]
    assert "「很久」无法识别，按默认50年计算" in r.notes[3]
    # without fallback (the worksheet function), the same rows are errors
    assert set(warranty_ends(d, parts, terms, design_lives=[None, None, None, "很久"]).errors) == {0, 1, 2, 3}
