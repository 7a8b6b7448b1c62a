"""Visit findings (是否发现问题 / 发现问题) and the part → 专业 mapping: the pure rules."""
from __future__ import annotations

import pytest

from pyfuncs.core.findings import NONE, PROBLEM, UNCLEAR, classify, decide, found_problem
from pyfuncs.core.parts import DISCIPLINES, PART_DISCIPLINE, PART_LABELS, discipline_of

# issue 11: each of these opened a ticket with cause 待查
ISSUE_PHRASES = ["没有问题", "使用正常", "一切正常", "无明显问题", "无异常", "良好", "暂未发现问题"]


@pytest.mark.parametrize("text", ISSUE_PHRASES + [
    "无", "无。", "没有", "暂无", "未发现", "-", "/", "—", "N/A", "ＯＫ", "  无 明显 问题 ", "一切正常，业主满意。",
    "使用正常；无问题", "各部位使用情况良好", "未见异常", "没问题", "房屋使用正常，无渗漏", "门窗正常", "无其他问题",
    "使用正常 无问题", "满意", "业主很满意",
])
def test_ways_of_saying_no_problem(text):
    assert classify(text) == NONE
    assert decide(None, text, "满意").ticket is False


@pytest.mark.parametrize("text", ["卫生间地面有渗水痕迹", "外墙局部有裂缝", "无热水", "暖气不热", "不正常",
                                  "水压不正常", "个别窗户轻微渗水", "业主反映地漏返味", "电梯运行有异响"])
def test_descriptions_of_a_defect(text):
    assert classify(text) == PROBLEM
    assert decide(None, text, "很满意").ticket is True


@pytest.mark.parametrize("text", ["基本正常", "问题不大", "一般", "无明显问题，建议雨季前清理落水口",
                                  "一切正常，卫生间渗水", "建议定期检查屋面"])
def test_unclear_findings_are_hints_not_tickets(text):
    assert classify(text) == UNCLEAR
    d = decide(None, text, "满意")
    assert (d.ticket, d.unclear) == (False, True) and text in d.reason


def test_the_explicit_column_decides_when_filled():
    assert decide("是", "", "很满意").ticket and decide("是", "一切正常", "很满意").ticket
    assert not decide("否", "卫生间渗水", "满意").ticket
    assert not decide("否", "基本正常", "满意").unclear  # staff decided: no hint
    # a low rating always leads to a ticket (DOMAIN §3)
    for rating in ("不太满意", "不满意"):
        assert decide("否", "无", rating).ticket and decide(None, "基本正常", rating).ticket
    assert found_problem("是", "") and not found_problem("否", "渗水") and found_problem(None, "渗水")


def test_every_part_has_one_discipline():
    assert set(PART_DISCIPLINE) == set(PART_LABELS) and set(PART_DISCIPLINE.values()) <= set(DISCIPLINES)
    assert set(DISCIPLINES) == {"土建", "机电", "装饰", "安装", "其他"}
    assert discipline_of(["地基基础和主体结构", "屋面防水", "供热系统", "设备安装", "装修工程", "其他", " 电气管线 "]).tolist() == \
        ["土建", "土建", "机电", "安装", "装饰", "其他", "机电"]
