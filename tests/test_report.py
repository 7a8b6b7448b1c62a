"""统计报表 (report): the figures (pure) and the 统计 sheet with native charts on a real file."""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import zipfile

import openpyxl
import pandas as pd
import pytest

from _jobs_data import run_job, sample_book, sheet_values
from pyfuncs.core.calendar import WorkCalendar
from pyfuncs.core.settings import Settings
from pyfuncs.jobs import plan, report, visits
from pyfuncs.jobs.report import compute

D = dt.date
TODAY = D(2026, 11, 21)


def _ts(*dates):
    return pd.Series([pd.Timestamp(d) if d else pd.NaT for d in dates], dtype="datetime64[s]")


@pytest.fixture(scope="module")
def rep():
    projects = pd.DataFrame({"project_id": ["P1", "P2"], "name": ["一号楼", "二号楼"], "city": ["北京", "北京"],
                             "accepted": _ts(D(2024, 6, 30), D(2024, 6, 30))})
    terms = pd.DataFrame({"project_id": ["P1"] * 5, "part": ["屋面防水", "防渗漏", "电气管线", "装修工程", "其他"],
                          "end": _ts(D(2026, 12, 1), D(2027, 1, 10), D(2027, 2, 15), D(2027, 3, 1), D(2026, 11, 20))})
    repairs = pd.DataFrame({
        "ticket_id": ["BX1", "BX2", "BX3"], "project_id": ["P1", "P2", "P1"],
        "notice": _ts(D(2026, 9, 28), D(2026, 11, 2), D(2026, 10, 10)),
        "urgency": ["一般", "一般", "紧急"], "part": ["屋面防水", "屋面防水", None],
        "cause": ["施工质量", "使用不当", "施工质量"],
        "arrival": _ts(None, D(2026, 11, 4), D(2026, 10, 12)),
        "done": _ts(None, D(2026, 11, 5), None), "state": ["待派工", "已完成", "维修中"],
    })
    visits = pd.DataFrame({"date": _ts(D(2026, 3, 1), D(2026, 4, 1), D(2026, 5, 1), D(2025, 6, 1), D(2026, 6, 1)),
                           "project_id": ["P1", "P1", "P2", "P2", "P2"],
                           "satisfaction": ["很满意", "满意", "不满意", "基本满意", None]})
    return compute(projects, terms, repairs, visits, Settings(), WorkCalendar(), TODAY)


def test_expiring_tiers(rep):
    # the band table counts each band; 概要 counts cumulatively, and each label says which
    assert rep.tier_counts.values.tolist() == [["0–30天", 1, 1], ["31–60天", 1, 2], ["61–90天", 1, 3]]
    assert rep.expiring[["tier", "part", "days_left"]].values.tolist() == \
        [["0–30天", "屋面防水", 10], ["31–60天", "防渗漏", 50], ["61–90天", "电气管线", 86]]
    fig = dict(rep.figures)
    assert fig["在保的保修部位（项）"] == 4
    assert [fig[f"{t}天内到期的部位（累计，项）"] for t in (30, 60, 90)] == [1, 2, 3]


def test_open_and_overdue(rep):
    # BX1: 09-28 + 7 = 10-05 in the National Day holiday -> 10-08; nobody came -> 44 days late.
    # BX3: urgent, 1 calendar day, no roll-forward: due 10-11, arrived 10-12 -> 1 day late.
    op = rep.open_repairs.set_index("ticket_id")
    assert sorted(op.index) == ["BX1", "BX3"]
    assert op.loc["BX1", "late"] == 44 and op.loc["BX3", "late"] == 1
    assert pd.Timestamp(op.loc["BX1", "due"]).date() == D(2026, 10, 8)
    fig = dict(rep.figures)
    assert (fig["未结报修（件）"], fig["未结中超期（件）"], fig["超期报修（含已结，件）"]) == (2, 2, 2)


def test_part_cause_month_response(rep):
    ct = rep.by_part_cause
    assert ct.loc["屋面防水", "施工质量"] == 1 and ct.loc["屋面防水", "使用不当"] == 1
    assert ct.loc["未填部位", "合计"] == 1 and int(ct["合计"].sum()) == 3
    bm = rep.by_month.set_index("month")
    assert len(bm) == 12 and bm.index[0] == "2025-12" and bm.index[-1] == "2026-11"
    assert (bm.loc["2026-09"].tolist(), bm.loc["2026-10"].tolist(), bm.loc["2026-11"].tolist()) == ([1, 1], [1, 1], [1, 0])
    resp = rep.response.set_index("urgency")
    assert resp.loc["一般", "count"] == 1 and resp.loc["一般", "mean"] == 2.0
    assert resp.loc["全部", "count"] == 2 and resp.loc["全部", "median"] == 2.0 and resp.loc["全部", "mean"] == 2.0


def test_satisfaction(rep):
    sy = rep.sat_year.set_index("year")
    assert sy.loc[2026, "rated"] == 3 and sy.loc[2026, "rate"] == pytest.approx(2 / 3)
    assert sy.loc[2026, "mean"] == pytest.approx((100 + 85 + 20) / 3)
    assert sy.loc[2025, "rate"] == 0 and sy.loc[2025, "mean"] == 70
    sp = rep.sat_project.set_index(["project_id", "year"])
    assert sp.loc[("P2", 2026), "rated"] == 1 and sp.loc[("P2", 2026), "name"] == "二号楼"
    assert dict(rep.figures)["回访满意率（全部已评价回访）"] == pytest.approx(2 / 4)


def test_run_on_file_charts_and_rerun(tmp_path):
    path = sample_book(tmp_path)
    wb = openpyxl.load_workbook(path, keep_vba=True)
    wb["统计"]["Q300"] = "上次报表的残留"
    wb["项目台账"]["Z1"] = "员工的备注列"
    wb.save(path)
    run_job(path, plan, today=TODAY, year=2026)  # fills 保修条款
    res = run_job(path, report, today=TODAY)
    assert res.summary["open_repairs"] == 2 and res.summary["charts"] == 3
    ws = openpyxl.load_workbook(path)["统计"]
    vals = sheet_values(path, "统计")
    assert "统计日期: 2026-11-21" in vals.values()
    assert "上次报表的残留" not in vals.values()
    assert openpyxl.load_workbook(path)["项目台账"]["Z1"].value == "员工的备注列"
    titles = sorted("".join(r.t for p in c.title.tx.rich.p for r in p.r) for c in ws._charts)
    assert titles == sorted(["报修按部位和原因", "近12个月报修和超期", "回访满意度（按年）"])
    # the monthly chart reads the 12 month rows written on the sheet
    monthly = next(c for c in ws._charts if "12" in "".join(r.t for p in c.title.tx.rich.p for r in p.r))
    ref = monthly.series[0].val.numRef.f
    import re

    first, last = [int(x) for x in re.findall(r"\$(\d+)", ref)]
    assert last - first == 11 and ws.cell(first, 1).value == "2025-12" and ws.cell(last, 1).value == "2026-11"
    # another job's load+save keeps the charts byte for byte; the report rerun gives the same file cells
    charts = {n: zipfile.ZipFile(path).read(n) for n in zipfile.ZipFile(path).namelist() if "charts/" in n}
    run_job(path, visits, today=TODAY)
    after = {n: zipfile.ZipFile(path).read(n) for n in zipfile.ZipFile(path).namelist() if "charts/" in n}
    assert after == charts and len(charts) == 3
    run_job(path, report, today=TODAY)
    assert sheet_values(path, "统计") == vals
    assert len(openpyxl.load_workbook(path)["统计"]._charts) == 3


@pytest.mark.skipif(not shutil.which("soffice") or not shutil.which("pdftotext"), reason="LibreOffice/poppler not installed")
def test_statistics_page_prints_with_its_charts(tmp_path):
    """The 统计 sheet alone, converted by LibreOffice: dated, and the three charts are drawn."""
    path = sample_book(tmp_path)
    run_job(path, plan, today=TODAY, year=2026)
    run_job(path, report, today=TODAY)
    wb = openpyxl.load_workbook(path)
    for name in wb.sheetnames:
        if name != "统计":
            del wb[name]
    wb.save(tmp_path / "stat.xlsx")
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(tmp_path / "stat.xlsx")], check=True, capture_output=True, timeout=120)
    text = subprocess.run(["pdftotext", str(tmp_path / "stat.pdf"), "-"], capture_output=True, text=True).stdout
    for s in ("统计日期: 2026-11-21", "报修按部位和原因", "近12个月报修和超期", "回访满意度（按年）", "BX2026-0002"):
        assert s.replace(" ", "") in text.replace(" ", ""), s


def test_by_discipline_and_response_by_contractor_and_repairer():
    projects = pd.DataFrame({"project_id": ["P1"], "name": ["一号楼"], "city": ["北京"],
                             "accepted": _ts(D(2025, 6, 30))})  # every part in warranty in 2026-09
    terms = pd.DataFrame({"project_id": [], "part": [], "end": _ts()})
    repairs = pd.DataFrame({
        "ticket_id": ["A", "B", "C", "D"], "project_id": ["P1"] * 4,
        "notice": _ts(D(2026, 9, 1), D(2026, 9, 1), D(2026, 9, 1), D(2026, 9, 1)),
        "urgency": ["一般"] * 4,
        "part": ["屋面防水", "给排水管道", "给排水管道", None],
        "discipline": [None, None, "机电", None],             # staff's 专业 wins over the part's default
        "cause": ["施工质量", "使用不当", "施工质量", None],
        "arrival": _ts(D(2026, 9, 3), D(2026, 9, 12), None, None),
        "contractor": ["本公司维修班", "恒通机电", "本公司维修班", None],
        "repairer": ["张三", "李四", "张三", None],
        "done": _ts(D(2026, 9, 4), D(2026, 9, 13), D(2026, 9, 6), None),
        "state": [None] * 4,
    })
    visits = pd.DataFrame({"date": _ts(D(2026, 3, 1), D(2026, 4, 1), D(2026, 5, 1), D(2026, 6, 1)),
                           "project_id": ["P1"] * 4, "found": ["是", None, None, "否"],
                           "problems": ["", "屋面渗水", "一切正常", "外墙裂缝"],
                           "part": ["装修工程", "屋面防水", None, "防渗漏"], "discipline": [None] * 4,
                           "satisfaction": ["满意"] * 4})
    rep = compute(projects, terms, repairs, visits, Settings(), WorkCalendar(), TODAY)
    bd = rep.by_discipline
    assert bd.loc["土建", "施工质量"] == 1 and bd.loc["安装", "使用不当"] == 1 and bd.loc["机电", "施工质量"] == 1
    assert bd.loc["未填专业", "合计"] == 1 and int(bd["合计"].sum()) == 4
    assert rep.visit_problems.values.tolist() == [["土建", 1], ["装饰", 1]]
    # A: 2 days; B: 11 days, 4 late (due 09-08); C: done 09-06 stands for the arrival, 5 days
    c = rep.by_contractor.set_index("key")
    assert (c.loc["本公司维修班", "count"], c.loc["本公司维修班", "mean"], c.loc["本公司维修班", "overdue"]) == (2, 3.5, 0)
    assert (c.loc["恒通机电", "count"], c.loc["恒通机电", "overdue"]) == (1, 1)
    assert c.loc["未填", "overdue"] == 1 and c.loc["全部", "overdue"] == 2
    assert rep.by_repairer.set_index("key").loc["李四", "median"] == 11


def test_sheet_labels_say_what_each_figure_counts(tmp_path):
    path = sample_book(tmp_path)
    run_job(path, plan, today=TODAY, year=2026)
    res = run_job(path, report, today=TODAY)
    text = set(str(v) for v in sheet_values(path, "统计").values())
    for label in ("未结报修（件）", "未结中超期（件）", "超期报修（含已结，件）", "30天内到期的部位（累计，项）",
                  "0–30天", "31–60天", "本档部位数（项）", "累计部位数（项）", "五、报修按专业和原因（责任方）（件）",
                  "维修单位", "维修人员", "其中超期（含已结）"):
        assert label in text, label
    assert "件" in res.messages[0] and "单" not in res.messages[0].replace("报修单", "")
