"""Visit findings (回访记录 发现问题): did the visit find a problem that needs a repair ticket?

docs/rules-ledger.md §7: a problem found, or a 不太满意/不满意 rating, leads to a repair ticket. Staff say it
in the 是否发现问题 column (是/否), which decides whenever it is filled. When it is blank, the
text of 发现问题 is read: staff write "no problem" in many ways (无、没有问题、使用正常、一切正常，
业主满意、无明显问题。…), so the text is normalised (full-width → half-width, whitespace and
punctuation dropped) and split into clauses, and each clause is compared with the usual ways of
saying "nothing wrong":

- every clause says "nothing wrong" (or the cell is blank / only punctuation) → :data:`NONE`;
- no clause does → :data:`PROBLEM` (the text describes a problem: a ticket is opened);
- some do and some do not (「无明显问题，建议清理落水口」), or the clause hedges (「基本正常」、
  「问题不大」) → :data:`UNCLEAR`: no ticket is opened on a guess; the row is listed as a hint
  so staff fill 是否发现问题.

Example::

    >>> [classify(t) for t in ("", "无。", "没有问题", "一切正常，业主满意", "无 明显 问题", "暂未发现问题")]
    ['无问题', '无问题', '无问题', '无问题', '无问题', '无问题']
    >>> [classify(t) for t in ("卫生间地面渗水", "无法正常使用", "基本正常", "无明显问题，建议清理落水口")]
    ['有问题', '有问题', '不明确', '不明确']
    >>> decide("是", "", "满意")
    Decision(ticket=True, unclear=False, reason='是否发现问题：是')
    >>> decide(None, "基本正常", "很满意")
    Decision(ticket=False, unclear=True, reason='发现问题「基本正常」看不出是否有问题')
    >>> decide("否", "", "不满意").ticket
    True
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, NamedTuple

NONE, PROBLEM, UNCLEAR = "无问题", "有问题", "不明确"
LOW_RATINGS = ("不太满意", "不满意")
YES, NO = "是", "否"

# who/where/so-far words that may open a "nothing wrong" clause
_LEAD = r"(?:目前|当前|现在|暂时|暂|至今|现场|经查看|经检查|检查|查看|回访|本次|总体|整体|全部|各部位|各处|各项|" \
        r"均|都|也|一切|业主|用户|客户|使用单位|物业|房屋|工程|建筑|设备|系统|屋面|外墙|管道|使用中|使用过程中|使用期间)*"
# "there is no …"
_NEG = r"(?:无|没有|没|未发现|未见|未见到|没发现|没有发现|暂无|暂未发现|暂未|未出现|没出现|不存在|并无|并未发现|" \
       r"均无|都没有|未|无任何|没有任何)"
_QUAL = r"(?:明显|其他|其它|任何|重大|大的|什么|新的|新|质量|渗漏|安全|异常)?"
_THING = r"(?:问题|异常|缺陷|质量问题|隐患|故障|情况|投诉|意见|反映|反馈|报修|渗漏|渗水|漏水|裂缝|损坏)"
# "… is fine"
_STATE = r"(?:使用|运行|运转|情况|状况|质量|功能|效果|各项|性能)*"
_FINE = r"(?:正常|良好|完好|满意|很满意|非常满意|比较满意|很好|挺好|较好|不错|好|可以|正常使用|无异常|没问题|无问题)"

_NOTHING = re.compile(rf"{_LEAD}(?:{_NEG}{_QUAL}{_THING}?|{_STATE}{_FINE})")
# "<something> is fine" (门窗正常, 屋面防水良好), with no negation anywhere in it
_SUBJECT_FINE = re.compile(r"[^不未没无非欠差坏漏裂渗]{1,10}(?:正常|良好|完好|满意)")
_SPECIAL = {"ok", "none", "na", "n/a", "nil", "无", "没有", "良好", "正常", "满意"}
# a hedge on "fine" (基本正常, 问题不大): the visit may have seen something; ask rather than guess
_HEDGE = re.compile(r"基本|大体|大致|问题不大|无大碍|大问题|不太|还行|尚可|一般|轻微|稍有|待观察")
# advice, not a defect (建议雨季前清理落水口): with nothing else, ask rather than open a ticket
_ADVICE = re.compile(r"(?:建议|注意|提醒|希望|请)")
# clause separators: punctuation and line breaks (spaces inside a clause are dropped)
_SPLIT = re.compile(r"[,.;:!?、，。；：！？/\\|~～…·()（）\[\]【】\"'“”‘’《》<>\n\r\t]+")
_DASHES = re.compile(r"[-—_－]+")


def normalise(text: Any) -> str:
    """Full-width → half-width, lower case, no whitespace or punctuation.

    >>> normalise(" 无 明显问题。 ")
    '无明显问题'
    """
    return "".join(clauses(text))


def clauses(text: Any) -> list[str]:
    """The clauses of a finding, each normalised (no spaces, lower case); empty clauses dropped.

    >>> clauses("使用正常，业主满意。")
    ['使用正常', '业主满意']
    """
    if text is None:
        return []
    s = unicodedata.normalize("NFKC", str(text)).lower().strip()
    if s in _SPECIAL:
        return [s]
    s = _DASHES.sub(",", s)
    return [c for c in (re.sub(r"\s+", "", part) for part in _SPLIT.split(s)) if c]


def _raw_clauses(text: Any) -> list[str]:
    """Like :func:`clauses` but keeping the spaces inside each clause (「使用正常 无问题」)."""
    if text is None:
        return []
    s = unicodedata.normalize("NFKC", str(text)).lower().strip()
    if s in _SPECIAL:
        return [s]
    return [c.strip() for c in _SPLIT.split(_DASHES.sub(",", s)) if c.strip()]


def says_nothing_wrong(clause: str) -> bool:
    """True when one normalised clause is a way of saying "no problem".

    >>> [says_nothing_wrong(c) for c in ("没问题", "未见异常", "运行良好", "不正常", "无法使用", "有裂缝")]
    [True, True, True, False, False, False]
    """
    return clause in _SPECIAL or _NOTHING.fullmatch(clause) is not None or _SUBJECT_FINE.fullmatch(clause) is not None


def _kind(raw: str) -> str:
    clause = re.sub(r"\s+", "", raw)
    if _HEDGE.search(clause) and (re.search(_FINE, clause) or _HEDGE.fullmatch(clause)
                                  or re.search("问题不大|无大碍|大问题", clause)):
        return "hedge"
    if says_nothing_wrong(clause) or all(says_nothing_wrong(w) for w in raw.split()):
        return "fine"
    if _ADVICE.match(clause):
        return "advice"
    return "problem"


def classify(text: Any) -> str:
    """:data:`NONE`, :data:`PROBLEM` or :data:`UNCLEAR` for the text of 发现问题 (see the module)."""
    kinds = [_kind(c) for c in _raw_clauses(text)]
    if all(k == "fine" for k in kinds):  # blank included
        return NONE
    if "problem" in kinds and "fine" not in kinds and "hedge" not in kinds:
        return PROBLEM
    return UNCLEAR


class Decision(NamedTuple):
    """Whether a visit row opens a repair ticket, whether staff should say (unclear), and why."""

    ticket: bool
    unclear: bool
    reason: str


def _yes_no(value: Any) -> str | None:
    if value is True:
        return YES
    if value is False:
        return NO
    if isinstance(value, str) and value.strip() in (YES, NO):
        return value.strip()
    return None


def decide(found: Any, text: Any, rating: Any) -> Decision:
    """The rule for one visit row: 是否发现问题 decides when filled; blank → the text (see
    :func:`classify`); a 不太满意/不满意 rating always opens a ticket."""
    low = isinstance(rating, str) and rating.strip() in LOW_RATINGS
    yn = _yes_no(found)
    if yn == YES:
        return Decision(True, False, "是否发现问题：是")
    if low:
        return Decision(True, False, f"满意度：{rating.strip()}")
    if yn == NO:
        return Decision(False, False, "是否发现问题：否")
    kind = classify(text)
    if kind == PROBLEM:
        return Decision(True, False, "发现问题已填写")
    if kind == UNCLEAR:
        return Decision(False, True, f"发现问题「{str(text).strip()}」看不出是否有问题")
    return Decision(False, False, "未发现问题")


def found_problem(found: Any, text: Any) -> bool:
    """The visit found a problem (是否发现问题 是, or blank and the text describes one); the
    rating is not considered. Used to count visit problems by 专业."""
    yn = _yes_no(found)
    if yn is not None:
        return yn == YES
    return classify(text) == PROBLEM
