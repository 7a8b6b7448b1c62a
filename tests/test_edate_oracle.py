"""An independent oracle: our year/month warranty ends against EDATE computed by LibreOffice.

The test writes a sheet of EDATE formulas with no cached values; LibreOffice recalculates them
when it converts the file to CSV.
"""
import csv
import datetime as dt
import random

import numpy as np
import openpyxl

from pyfuncs.core.dates import to_serial
from pyfuncs.core.warranty import warranty_ends
from _lo import convert, require_soffice


def generated_cases(n=1200, seed=20261121):
    rng = random.Random(seed)
    cases = []
    # every month end and every 29 February from 1904 to 2096, then random days
    for year in range(1904, 2100, 4):
        cases.append(dt.date(year, 2, 29))
    for year in range(1990, 2031):
        for month in range(1, 13):
            nxt = dt.date(year + month // 12, month % 12 + 1, 1)
            cases.append(nxt - dt.timedelta(days=1))
    while len(cases) < n:
        cases.append(dt.date(1901, 1, 1) + dt.timedelta(days=rng.randrange(0, 200 * 365)))
    terms = [rng.choice([1, 2, 5, 8, 10, 50]) * 12 if rng.random() < 0.5 else rng.randrange(1, 241) for _ in cases]
    return cases, terms


def test_warranty_ends_equal_libreoffice_edate(tmp_path):
    require_soffice()
    starts, months = generated_cases()
    assert len(starts) >= 1000
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["start", "months", "edate"])
    for i, (s, m) in enumerate(zip(starts, months), start=2):
        ws.append([to_serial(s), m, f"=EDATE(A{i},B{i})"])
    src = tmp_path / "edate.xlsx"
    wb.save(src)
    out = convert(src, "csv", tmp_path / "out")
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    assert len(rows) == len(starts)
    oracle = [int(float(r[2])) for r in rows]

    # ours, through the warranty rules: part 其他 (no floor), terms in months or whole years
    terms = [f"{m // 12}年" if m % 12 == 0 else f"{m}个月" for m in months]
    result = warranty_ends(np.array(starts, "datetime64[D]"), ["其他"] * len(starts), terms)
    assert not result.errors
    ours = [to_serial(d.astype(dt.date)) for d in result.ends]
    mismatches = [(s, m, o, e) for s, m, o, e in zip(starts, months, ours, oracle) if o != e]
    assert not mismatches, mismatches[:10]
