"""Cells to dates: every form DOMAIN/issue 2 names, blanks, and clear problems."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, strategies as st

from pyfuncs.core.dates import DateError, add_months, from_serial, to_date, to_dates, to_serial

D = dt.date


@pytest.mark.parametrize(
    "cell, expected",
    [
        (dt.datetime(2024, 3, 5, 14, 30), D(2024, 3, 5)),
        (D(2024, 3, 5), D(2024, 3, 5)),
        (pd.Timestamp("2024-03-05"), D(2024, 3, 5)),
        (np.datetime64("2024-03-05"), D(2024, 3, 5)),
        ("2024-03-05", D(2024, 3, 5)),
        ("2024-3-5", D(2024, 3, 5)),
        ("2024/3/5", D(2024, 3, 5)),
        ("2024.3.5", D(2024, 3, 5)),
        ("2024年3月5日", D(2024, 3, 5)),
        ("2024年03月05日", D(2024, 3, 5)),
        ("２０２４年３月５日", D(2024, 3, 5)),
        ("２０２４－０３－０５", D(2024, 3, 5)),
        ("  2024/03/05 ", D(2024, 3, 5)),
        ("2024-03-05 00:00:00", D(2024, 3, 5)),
        ("20240305", D(2024, 3, 5)),
        (45356, D(2024, 3, 5)),
        (45356.75, D(2024, 3, 5)),  # time of day dropped
        (1, D(1900, 1, 1)),
        (59, D(1900, 2, 28)),
        (61, D(1900, 3, 1)),
    ],
)
def test_cell_forms(cell, expected):
    assert to_date(cell) == expected


@pytest.mark.parametrize("cell", [None, "", "   ", float("nan"), pd.NaT])
def test_blank_is_no_date(cell):
    assert to_date(cell) is None


@pytest.mark.parametrize(
    "cell, reason",
    [
        ("2024-13-01", "日期无效: 2024-13-01"),
        ("2023-02-29", "日期无效: 2023-02-29"),
        ("明天", "日期无效: 明天"),
        (60, "序号60是不存在的1900-02-29"),
        (0, "超出Excel日期范围"),
        (-5, "超出Excel日期范围"),
        (3_000_000, "超出Excel日期范围"),
        (True, "日期无效"),
        ("1899-12-31", "早于1900-01-01"),
    ],
)
def test_bad_cells_give_chinese_reason(cell, reason):
    with pytest.raises(DateError) as e:
        to_date(cell)
    assert reason in str(e.value)


def test_serial_round_trip_matches_excel_anchor_points():
    # Anchors from Excel's own 1900 system: 1 = 1900-01-01, 61 = 1900-03-01, 45292 = 2024-01-01.
    assert to_serial(D(1900, 1, 1)) == 1
    assert to_serial(D(1900, 3, 1)) == 61
    assert to_serial(D(2024, 1, 1)) == 45292
    for n in (1, 59, 61, 100, 45292, 2958465):
        assert to_serial(from_serial(n)) == n


def test_column_mixes_forms_and_reports_only_bad_positions():
    cells = [D(2024, 1, 31), 45356.0, "2024年3月5日", None, "2024-02-30", 60, "", "２０２４.１.２"]
    dates, errors = to_dates(cells)
    assert [str(d) for d in dates] == [
        "2024-01-31", "2024-03-05", "2024-03-05", "NaT", "NaT", "NaT", "NaT", "2024-01-02",
    ]
    assert set(errors) == {4, 5}
    assert "2024-02-30" in errors[4] and "1900-02-29" in errors[5]


def test_numeric_column_fast_path_agrees_with_scalar():
    serials = np.arange(1, 70_000, 7, dtype=float)  # 1, 8, ... never hits 60
    dates, errors = to_dates(serials)
    assert errors == {}
    for i in range(0, len(serials), 97):
        assert dates[i].astype(dt.date) == from_serial(serials[i])


def test_serial_60_in_a_numeric_column():
    dates, errors = to_dates(np.array([59.0, 60.0, 61.0]))
    assert str(dates[0]) == "1900-02-28" and np.isnat(dates[1]) and str(dates[2]) == "1900-03-01"
    assert list(errors) == [1]


@given(st.dates(min_value=D(1900, 3, 1), max_value=D(9999, 12, 31)))
def test_serial_round_trip_property(d):
    assert from_serial(to_serial(d)) == d


@given(st.dates(min_value=D(1900, 1, 1), max_value=D(2200, 12, 31)), st.integers(0, 600))
def test_add_months_is_edate(d, months):
    end = add_months(np.array([d], "datetime64[D]"), months)[0].astype(dt.date)
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    last = (D(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
    assert end == D(y, m, min(d.day, last))
    assert end >= d


def test_add_months_equals_numpy_month_arithmetic_over_eight_centuries():
    """The integer EDATE against the plain datetime64[M] formulation on 200,000 random dates
    (NaT included) and offsets of ±200 years."""
    import numpy as np

    from pyfuncs.core.dates import NAT, add_months

    rng = np.random.default_rng(11)
    n = 200_000
    d = np.datetime64("1600-01-01") + rng.integers(0, 365 * 800, n).astype("timedelta64[D]")
    d[rng.random(n) < 0.05] = NAT
    m = rng.integers(-2400, 2400, n)
    month = d.astype("datetime64[M]")
    day = (d - month.astype("datetime64[D]")).astype(np.int64)
    target = month + m.astype("timedelta64[M]")
    first = target.astype("datetime64[D]")
    last = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - first).astype(np.int64) - 1
    expected = np.where(np.isnat(d), NAT, first + np.minimum(day, last).astype("timedelta64[D]"))
    got = add_months(d, m)
    assert got.dtype == np.dtype("datetime64[D]")
    assert np.array_equal(np.isnat(got), np.isnat(d))
    assert (got[~np.isnat(d)] == expected[~np.isnat(d)]).all()
    assert str(add_months(np.datetime64("2024-01-31"), 1)) == "2024-02-29"  # a scalar works too
