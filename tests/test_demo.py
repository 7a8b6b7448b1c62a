"""``aftercare demo``: a realistic, reproducible sample company with every job run."""
from __future__ import annotations

import datetime as dt
import json
import re
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from pyfuncs.core.callbacks import four_new_text
from pyfuncs.core.settings import Settings
from pyfuncs.demo import sample_data

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 11, 21)


def test_sample_is_reproducible_and_seed_dependent():
    a = sample_data(TODAY, seed=5)
    b = sample_data(TODAY, seed=5)
    c = sample_data(TODAY, seed=6)
    for k in a:
        pd.testing.assert_frame_equal(a[k], b[k])
    assert not a["repairs"].equals(c["repairs"])


def test_sample_looks_like_a_real_company():
    d = sample_data(TODAY)
    p, t, r, v = d["projects"], d["terms"], d["repairs"], d["visits"]
    assert len(p) == 60 and p["project_id"].is_unique
    assert set(p["size"]) == {"大型", "中型", "小型", "超大型"}  # one deliberate mistake: planned as 中型, noted
    assert p["accepted"].min().year == 2016 and p["accepted"].max() <= TODAY
    known = p["city"].map(Settings().knows_city)
    assert known.mean() > 0.9 and (~known).any()  # one city the season table lacks: noted, not silent
    assert p["city"].str.endswith("市").any() and p["city"].map(lambda c: not Settings().season(c).has_heating).any()
    used = p["four_new"].map(four_new_text)
    assert (used != "").sum() >= 3 and ((used == "装配式混凝土结构") & (p["size"] == "大型")).any()
    assert set(p["four_new"].dropna()) - set(used[used != ""]) <= {"否", "无"}
    # terms: most projects; longer contract terms, a couple below the floor, many blank
    assert t["project_id"].nunique() >= 0.8 * len(p)
    assert t["term"].isin(["8年", "10年", "3个采暖期"]).any()
    assert ((t["part"] == "电气管线") & (t["term"] == "1年")).sum() + ((t["part"] == "屋面防水") & (t["term"] == "3年")).sum() >= 2
    assert t["term"].isna().mean() > 0.3
    # tickets: hundreds over several years, every urgency, causes, late and missing arrivals, costs
    assert len(r) == 600
    years = pd.to_datetime(r["notice"], errors="coerce").dt.year
    assert years.nunique() >= 6
    assert set(r["urgency"]) == {"一般", "紧急", "涉及结构安全"}
    assert r["cause"].nunique() >= 6 and r["problem"].nunique() >= 20 and r["place"].nunique() >= 100
    assert r["arrival"].isna().sum() >= 10 and r["cost"].notna().sum() >= 100
    notice = pd.to_datetime(r["notice"], errors="coerce")
    late = (pd.to_datetime(r["arrival"]) - notice).dt.days > 7
    assert late.sum() >= 20
    assert len(v) >= 150 and v["satisfaction"].nunique() == 5


def test_aftercare_demo_with_no_arguments_works_from_a_fresh_directory(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "pyfuncs.cli", "demo", "--today", "2026-11-21"],
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "aftercare-demo.xlsm"
    assert out.exists()
    assert "示例工作簿已生成" in r.stdout and "数据检查" in r.stdout
    assert "出错" not in r.stdout, r.stdout
    from openpyxl import load_workbook

    wb = load_workbook(out)
    assert "回访计划2026" in wb.sheetnames
    ws = wb["报修台账"]
    assert ws.max_row > 600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".~aftercare")]  # no temp/lock left


def test_demo_json_summary(tmp_path, capsys):
    from pyfuncs.cli import main

    p = tmp_path / "d.xlsm"
    assert main(["demo", str(p), "--today", "2026-11-21", "--projects", "12", "--tickets", "80",
                 "--visits", "20", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["projects"] == 12 and data["counts"]["repairs"] == 80
    assert "refresh" in data["jobs"] and "check" in data["jobs"]
    assert data["jobs"]["check"]["errors"] >= 1  # the deliberate mistakes are found
    assert not any("error" in (v or {}) for v in data["jobs"].values())


def test_sample_fills_the_ledger_columns_of_issue_11():
    d = sample_data(TODAY)
    p, r, v = d["projects"], d["repairs"], d["visits"]
    agreed = p["dispatch_days"].dropna()
    assert 2 <= len(agreed) < len(p) / 2 and set(agreed) <= {1, 2, 3, 5, 10}
    arrived = r["arrival"].notna()
    assert r.loc[arrived, "contractor"].notna().all() and r.loc[arrived, "repairer"].notna().all()
    assert r.loc[~arrived, "contractor"].isna().all() and r["contractor"].nunique() >= 5 and r["repairer"].nunique() <= 40
    assert (r["signed"] == "是").sum() > 300 and (r["done"].notna() & r["signed"].isna()).sum() >= 5
    assert r["place"].isna().sum() >= 10  # blank places: repeat defects fall back to project + part
    assert set(v["found"].dropna()) == {"是", "否"} and v["found"].isna().sum() >= 40
    assert v["problems"].isin(["使用正常", "一切正常，业主满意", "无明显问题。"]).sum() >= 5
    assert v.loc[v["part"].notna(), "problems"].notna().all()


def test_demo_refresh_and_report_agree_and_count_in_jian(tmp_path, capsys):
    from pyfuncs.cli import main

    assert main(["demo", str(tmp_path / "d.xlsm"), "--today", "2026-11-21", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    ref, rep = data["jobs"]["refresh"], data["jobs"]["report"]
    assert (ref["open"], ref["open_overdue"], ref["overdue"]) == \
        (rep["open_repairs"], rep["open_overdue"], rep["overdue_all"])
    assert ref["open_overdue"] < ref["overdue"] and ref["unsigned"] > 0
    assert data["jobs"]["visits"]["pending"]  # the finding that cannot be told waits for staff
    assert main(["demo", str(tmp_path / "e.xlsm"), "--today", "2026-11-21"]) == 0
    out = capsys.readouterr().out
    assert "超期（含已结）" in out and "其中超期" in out
    assert not re.search(r"\d+ ?单[，；。]", out), out
