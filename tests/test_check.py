"""数据检查: each kind of problem is found with sheet, row and column; nothing is written."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from _io_fixtures import all_values, make_workbook
from pyfuncs.cli import main
from pyfuncs.io.filebook import FileBook
from pyfuncs.jobs import check
from pyfuncs.schema import TABLES

D = dt.date
TODAY = D(2026, 11, 21)


def _row(table, **kw):
    return [kw.get(c.key) for c in table.columns]


def _fill(path, projects=(), terms=(), repairs=(), visits=(), settings=None):
    with FileBook.open(path) as b:
        for key, rows in (("projects", projects), ("terms", terms), ("repairs", repairs), ("visits", visits)):
            t = TABLES[key]
            if rows:
                b.write(t.sheet, 2, 1, [_row(t, **r) for r in rows])
        if settings:
            from pyfuncs.tables import read_table

            f = read_table(b, TABLES["settings"])
            for name, value in settings.items():
                r = next(r for r in f.raw.index if f.raw.at[r, "name"] == name)
                b.write("设置", r, f.cols["value"], [[value]])
        b.save()


@pytest.fixture
def path(tmp_path):
    return make_workbook(tmp_path / "c.xlsm")


GOOD = [dict(project_id="P1", name="甲", city="北京", accepted=D(2024, 6, 30)),
        dict(project_id="P2", name="乙", city="沈阳", accepted=D(2023, 5, 1))]


def _problems(path):
    with FileBook.open(path) as b:
        return check.find_problems(b, TODAY)


def _has(problems, sheet, row, column, words, level="错误"):
    return any(p.sheet == sheet and p.row == row and p.column == column and words in p.message and p.level == level
               for p in problems)


def test_clean_workbook_has_no_problems_and_exits_0(path, capsys):
    _fill(path, projects=GOOD, repairs=[dict(ticket_id="BX1", project_id="P1", notice=D(2026, 1, 5))])
    assert [p for p in _problems(path) if p.level == "错误"] == []
    assert main(["check", str(path), "--today", "2026-11-21"]) == 0


def test_every_kind_of_problem(path):
    _fill(path,
          projects=GOOD + [dict(project_id="P1", name="重复", accepted=D(2025, 1, 1)),
                           dict(project_id="P3", name="丙", city="火星城", accepted="2025-13-01")],
          terms=[dict(project_id="P1", part="电气管线", term="1年"),
                 dict(project_id="P1", part="屋面防水", term="两年半"),
                 dict(project_id="P7", part="屋面防水"),
                 dict(project_id="P2", part="不存在的部位")],
          repairs=[dict(ticket_id="BX1", project_id="P1", notice=D(2026, 1, 5)),
                   dict(ticket_id="BX1", project_id="P1", notice=D(2026, 1, 6)),
                   dict(ticket_id="BX2", project_id="P8", notice=D(2026, 1, 6)),
                   dict(ticket_id="BX3", project_id="P1", notice=D(2026, 1, 6), arrival=D(2026, 1, 5)),
                   dict(ticket_id="BX4", project_id="P1", notice=D(2026, 1, 6), arrival=D(2026, 1, 7),
                        done=D(2026, 1, 6)),
                   dict(ticket_id="BX5", project_id="P1", notice=D(2026, 1, 6), arrival=D(2026, 1, 7),
                        done=D(2026, 1, 9), accepted=D(2026, 1, 8)),
                   dict(ticket_id="BX6", project_id="P1", notice="2026/2/30"),
                   dict(ticket_id="BX7", project_id=None, notice=D(2026, 1, 6))],
          visits=[dict(date=D(2026, 3, 1), project_id="P9", satisfaction="不满意")],
          settings={"报修到场天数": "七天"})
    ps = _problems(path)
    assert _has(ps, "项目台账", 4, "项目编号", "重复")
    assert _has(ps, "项目台账", 5, "竣工验收日期", "日期无效")
    assert _has(ps, "项目台账", 5, "所在城市", "火星城", level="提示")
    assert _has(ps, "保修条款", 2, "约定保修期", "短于法定最低", level="提示")
    assert _has(ps, "保修条款", 3, "约定保修期", "两年半")
    assert _has(ps, "保修条款", 4, "项目编号", "P7")
    assert _has(ps, "保修条款", 5, "保修部位", "不是可选的值")
    assert _has(ps, "报修台账", 3, "报修单号", "重复")
    assert _has(ps, "报修台账", 4, "项目编号", "P8")
    assert _has(ps, "报修台账", 5, "到场日期", "到场日期早于报修日期")
    assert _has(ps, "报修台账", 6, "完成日期", "完成日期早于到场日期")
    assert _has(ps, "报修台账", 7, "验收日期", "验收日期早于完成日期")
    assert _has(ps, "报修台账", 8, "报修日期", "日期无效")
    assert _has(ps, "报修台账", 9, "项目编号", "必须填写")
    assert _has(ps, "回访记录", 2, "项目编号", "P9")
    assert _has(ps, "回访记录", 2, "满意度", "不满意", level="提示")
    assert any(p.sheet == "设置" and "报修到场天数" in p.message and p.level == "错误" for p in ps)
    # errors first, then hints; each one printable with sheet/row/column
    levels = [p.level for p in ps]
    assert levels == sorted(levels, key=lambda x: x != "错误")
    assert str(ps[0]).startswith(ps[0].sheet)


def test_check_writes_nothing_and_exits_1(path, capsys):
    _fill(path, projects=GOOD, repairs=[dict(ticket_id="BX1", project_id="PX", notice=D(2026, 1, 5))])
    before = path.read_bytes()
    assert main(["check", str(path), "--today", "2026-11-21"]) == 1
    out = capsys.readouterr().out
    assert "报修台账 第2行「项目编号」列：项目编号「PX」不在项目台账中" in out
    assert path.read_bytes() == before  # not even re-saved


def test_check_json_and_result_sheet(path, capsys):
    _fill(path, projects=GOOD, repairs=[dict(ticket_id="BX1", project_id="PX", notice=D(2026, 1, 5))])
    assert main(["check", str(path), "--today", "2026-11-21", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["job"] == "check" and data["ok"] is False and data["summary"]["errors"] >= 1
    assert {"sheet": "报修台账", "row": 2, "column": "项目编号", "level": "错误",
            "message": "项目编号「PX」不在项目台账中"} in data["problems"]
    assert main(["check", str(path), "--today", "2026-11-21", "--sheet"]) == 1
    vals = all_values(path)["检查结果"]
    assert "错误" in vals[(3, 1)] and vals[(2, 5)] == "问题"


def test_checks_are_small_functions_returning_problem_lists(path):
    _fill(path, projects=GOOD)
    with FileBook.open(path) as b:
        d = check.load(b, TODAY)
        for fn in check.CHECKS:
            out = fn(d)
            assert isinstance(out, list)


def test_new_columns_sign_off_and_visit_findings(path):
    _fill(path,
          projects=[dict(project_id="P1", name="甲", city="北京", accepted=D(2024, 6, 30), dispatch_days="三天"),
                    dict(project_id="P2", name="乙", city="沈阳", accepted=D(2023, 5, 1), dispatch_days=3)],
          repairs=[dict(ticket_id="BX1", project_id="P1", notice=D(2026, 1, 5), done=D(2026, 1, 8), state="已验收"),
                   dict(ticket_id="BX2", project_id="P1", notice=D(2026, 1, 5), signed="是"),
                   dict(ticket_id="BX3", project_id="P1", notice=D(2026, 1, 5), discipline="水电"),
                   dict(ticket_id="BX4", project_id="P1", notice=D(2026, 1, 5), done=D(2026, 1, 8), signed="是",
                        state="已验收")],
          visits=[dict(date=D(2026, 3, 1), project_id="P1", found="否", problems="卫生间渗水", satisfaction="满意"),
                  dict(date=D(2026, 3, 2), project_id="P1", problems="基本正常", satisfaction="满意"),
                  dict(date=D(2026, 3, 3), project_id="P1", problems="一切正常", satisfaction="满意"),
                  dict(date=D(2026, 3, 4), project_id="P1", found="也许", satisfaction="满意")])
    ps = _problems(path)
    assert _has(ps, "项目台账", 2, "约定到场天数", "应为数字")
    assert not any(p.sheet == "项目台账" and p.row == 3 and p.column for p in ps)
    assert _has(ps, "报修台账", 2, "用户签认", "用户签认后才算已验收", level="提示")
    assert _has(ps, "报修台账", 3, "完成日期", "用户已签认", level="提示")
    assert _has(ps, "报修台账", 4, "专业", "不是可选的值")
    assert not any(p.sheet == "报修台账" and p.row == 5 and p.column for p in ps)
    assert _has(ps, "回访记录", 2, "是否发现问题", "卫生间渗水", level="提示")
    assert _has(ps, "回访记录", 3, "是否发现问题", "看不出是否有问题", level="提示")
    assert not any(p.sheet == "回访记录" and p.row == 4 and p.column for p in ps)
    assert _has(ps, "回访记录", 5, "是否发现问题", "不是可选的值")
