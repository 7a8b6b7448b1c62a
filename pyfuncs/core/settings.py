"""Every default from DOMAIN.md that staff may change, and how the 设置 sheet spells it.

``SETTING_ROWS`` is the single list: the build writes it to the 设置 sheet, ``Settings.from_rows``
reads the sheet back (unknown or bad values become problems and the default stays).

Example::

    >>> s = Settings()
    >>> s.clock_days, s.urgent_days, s.roll_forward, s.warn_days
    (7, 1, True, 90)
    >>> s2, problems = Settings.from_rows([("报修到场天数", "10"), ("到期顺延", "否")])
    >>> s2.clock_days, s2.roll_forward, problems
    (10, False, [])
    >>> s2.season("北京").heat_start
    (11, 15)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Iterable, NamedTuple


class Season(NamedTuple):
    """A city's heating and cooling seasons as (month, day) pairs; ``None`` for a season the city
    does not have (no district heating: no 采暖期)."""

    heat_start: tuple[int, int] | None
    heat_end: tuple[int, int] | None
    cool_start: tuple[int, int] | None
    cool_end: tuple[int, int] | None

    @property
    def has_heating(self) -> bool:
        return self.heat_start is not None and self.heat_end is not None

    @property
    def has_cooling(self) -> bool:
        return self.cool_start is not None and self.cool_end is not None

    def span(self, what: str = "采暖期") -> str:
        """'11-15→03-15' (or '无采暖期') for 采暖期 / 供冷期."""
        a, b = (self.heat_start, self.heat_end) if what == "采暖期" else (self.cool_start, self.cool_end)
        return f"{_md_text(a)}→{_md_text(b)}" if a is not None and b is not None else f"无{what}"


DEFAULT_CITY = "默认"
COOL = ((5, 15), (9, 30))
NO_HEAT = (None, None)
#: what staff may type in a season cell for "this city has no such season"
NO_SEASON_WORDS = ("无", "无集中供暖", "不供暖", "无供暖", "无供冷", "-", "—", "－", "/")

_CITY_RULE = "市供热条例/管理办法规定的供暖期（法规名称和年份未逐条核对，以当地现行规定为准）"
_SOUTH = "无城市集中供暖（个别小区自建供暖的，在保修条款中按合同写明约定保修期，如“2年”）"

#: The season table shipped in the 设置 sheet: city → (season, 来源及说明). Heating dates are
#: the legal heating periods of the cities' own rules (no national law fixes them); cities
#: without district heating have none; cooling is whatever the contract says (editable default).
SEASON_TABLE: dict[str, tuple[Season, str]] = {
    DEFAULT_CITY: (Season((11, 15), (3, 15), *COOL),
                   "不在本表中的城市按此行计算，并在保修条款提示、回访计划说明和数据检查中注明；请把项目所在城市加入本表"),
    "北京": (Season((11, 15), (3, 15), *COOL), "《北京市供热采暖管理办法》（2010年）：每年11月15日至次年3月15日"),
    "天津": (Season((11, 15), (3, 15), *COOL), "《天津市供热用热条例》：每年11月15日至次年3月15日（年份未核对）"),
    "石家庄": (Season((11, 15), (3, 15), *COOL), _CITY_RULE),
    "唐山": (Season((11, 15), (3, 15), *COOL), _CITY_RULE),
    "保定": (Season((11, 15), (3, 15), *COOL), _CITY_RULE),
    "太原": (Season((11, 1), (3, 31), *COOL), "《太原市城市供热管理条例》：居民供暖期当年11月1日至次年3月31日（年份未核对）"),
    "呼和浩特": (Season((10, 15), (4, 15), *COOL), _CITY_RULE),
    "包头": (Season((10, 15), (4, 15), *COOL), _CITY_RULE),
    "沈阳": (Season((11, 1), (3, 31), *COOL), "《沈阳市城市供热条例》：11月1日至次年3月31日（年份未核对）"),
    "大连": (Season((11, 5), (4, 5), *COOL), "《大连市供热条例》：11月5日至次年4月5日（年份未核对）"),
    "长春": (Season((10, 25), (4, 10), *COOL), "《长春市城市供热条例》：10月25日至次年4月10日（年份未核对）"),
    "哈尔滨": (Season((10, 20), (4, 20), *COOL), "《哈尔滨市城市供热办法》：10月20日至次年4月20日（年份未核对）"),
    "济南": (Season((11, 15), (3, 15), *COOL), "《济南市城市供热条例》：11月15日至次年3月15日（年份未核对）"),
    "青岛": (Season((11, 16), (4, 5), *COOL), "《青岛市供热条例》：11月16日至次年4月5日（未核实原文，请核对）"),
    "郑州": (Season((11, 15), (3, 15), *COOL), _CITY_RULE),
    "西安": (Season((11, 15), (3, 15), *COOL), _CITY_RULE),
    "兰州": (Season((11, 1), (3, 31), *COOL), _CITY_RULE),
    "西宁": (Season((10, 15), (4, 15), *COOL), _CITY_RULE),
    "银川": (Season((11, 1), (3, 31), *COOL), _CITY_RULE),
    "乌鲁木齐": (Season((10, 10), (4, 10), *COOL),
              "市供热管理规定的供暖期；另有资料记为10月15日至次年4月15日，未核实原文，请按当地现行规定核对"),
    "拉萨": (Season((11, 1), (3, 31), *COOL), "2015年起城市集中供暖；供暖期按公开资料为11月1日至次年3月31日，未核实原文，请核对"),
    **{city: (Season(*NO_HEAT, *COOL), _SOUTH) for city in (
        "上海", "南京", "苏州", "杭州", "宁波", "合肥", "福州", "厦门", "南昌", "武汉", "长沙",
        "广州", "深圳", "东莞", "佛山", "南宁", "海口", "重庆", "成都", "贵阳", "昆明", "香港", "澳门")},
}

#: City → season (the table without its notes).
DEFAULT_SEASONS: dict[str, Season] = {city: season for city, (season, _) in SEASON_TABLE.items()}


# --- matching a project's 所在城市 to a row of the season table ------------------------------------
_PROVINCES = ("黑龙江", "内蒙古", "河北", "山西", "辽宁", "吉林", "江苏", "浙江", "安徽", "福建", "江西", "山东",
              "河南", "湖北", "湖南", "广东", "广西", "海南", "四川", "贵州", "云南", "西藏", "陕西", "甘肃",
              "青海", "宁夏", "新疆", "台湾")
_PROVINCE_RE = None
_CITY_SUFFIX_RE = None


def city_key(city: Any) -> str:
    """The name a city is matched by: spaces, the province and 市/地区/自治州/盟 (and what follows
    it, e.g. the district) removed. Municipalities (北京、天津、上海、重庆) are cities here.

    >>> city_key("内蒙古呼和浩特市"), city_key("黑龙江省哈尔滨市南岗区"), city_key(" 北京市 "), city_key("吉林省吉林市")
    ('呼和浩特', '哈尔滨', '北京', '吉林')
    """
    import re
    import unicodedata

    global _PROVINCE_RE, _CITY_SUFFIX_RE
    if _PROVINCE_RE is None:
        _PROVINCE_RE = re.compile("^(?:" + "|".join(_PROVINCES) + ")(?:壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区|省)?")
        _CITY_SUFFIX_RE = re.compile(r"^(.{2,}?)(?:市|地区|自治州|盟)")
    if city is None:
        return ""
    key = "".join(unicodedata.normalize("NFKC", str(city)).split())
    m = _PROVINCE_RE.match(key)
    if m and len(key) - m.end() >= 2:
        key = key[m.end():]
    m = _CITY_SUFFIX_RE.match(key)
    if m:
        key = m.group(1)
    return key


SATISFACTION_LEVELS = ("很满意", "满意", "基本满意", "不太满意", "不满意")


@dataclass(frozen=True)
class Settings:
    clock_days: int = 7
    urgent_days: int = 1
    structural_days: int = 1
    roll_forward: bool = True
    warn_days: int = 90
    warn_tiers: tuple[int, ...] = (30, 60, 90)
    long_open_days: int = 90
    overdue_out_of_warranty: bool = False
    sign_remind_days: int = 7
    repeat_count: int = 3
    repeat_months: int = 12
    design_life: int = 50
    first_visit_months: int = 1
    mid_visit_months: int = 6
    routine_months_large: int = 12
    routine_months_medium: int = 6
    routine_months_small: int = 3
    rainy_visit: tuple[int, int] = (5, 15)
    heating_visit_months_before: int = 1
    cooling_visit: tuple[int, int] = (4, 15)
    expiry_visit_months_before: int = 1
    ticket_prefix: str = "BX"
    company: str = "××建设集团有限公司"
    open_summary: bool = False
    defect_months: int = 24
    retention_grace_days: int = 28
    scores: tuple[int, ...] = (100, 85, 70, 50, 20)
    seasons: dict[str, Season] = field(default_factory=lambda: dict(DEFAULT_SEASONS))

    def match_city(self, city: Any) -> str | None:
        """The season table row ``city`` matches (its name as written in the table), or None.

        Names are compared by :func:`city_key` (province and 市 stripped); failing an exact
        match, the longest table name the city's name starts with (北京朝阳 → 北京).

        >>> s = Settings()
        >>> s.match_city("内蒙古呼和浩特市"), s.match_city("呼和浩特"), s.match_city("火星城"), s.match_city(None)
        ('呼和浩特', '呼和浩特', None, None)
        """
        key = city_key(city)
        if not key:
            return None
        index = self._city_index()
        if key in index:
            return index[key]
        best = max((k for k in index if key.startswith(k)), key=len, default=None)
        return index[best] if best else None

    def _city_index(self) -> dict[str, str]:
        cache = self.__dict__.get("_index")
        if cache is None or cache[0] is not self.seasons:
            index = {}
            for name in self.seasons:
                k = city_key(name)
                if name != DEFAULT_CITY and k and k not in index:
                    index[k] = name
            cache = (self.seasons, index)
            object.__setattr__(self, "_index", cache)
        return cache[1]

    def season(self, city: Any) -> Season:
        """The season table row for ``city``, or the 默认 row when the city is not listed."""
        name = self.match_city(city)
        if name is not None:
            return self.seasons[name]
        return self.default_season

    @property
    def default_season(self) -> Season:
        return self.seasons.get(DEFAULT_CITY, DEFAULT_SEASONS[DEFAULT_CITY])

    def knows_city(self, city: Any) -> bool:
        return self.match_city(city) is not None

    def city_note(self, city: Any, what: str = "采暖期") -> str:
        """'' when ``city`` is in the season table, else the note its rows carry: which row was used.

        >>> Settings().city_note("广州市"), Settings().city_note("火星城")
        ('', '所在城市「火星城」不在城市季节表中，采暖期按“默认”行（11-15→03-15）计算')
        """
        if self.match_city(city) is not None:
            return ""
        span = self.default_season.span(what)
        who = f"所在城市「{str(city).strip()}」不在城市季节表中" if city_key(city) else "未填所在城市"
        return f"{who}，{what}按“{DEFAULT_CITY}”行（{span}）计算"

    def routine_months(self, size: Any) -> int:
        return {
            "大型": self.routine_months_large,
            "中型": self.routine_months_medium,
            "小型": self.routine_months_small,
        }.get(str(size).strip() if size is not None else "", self.routine_months_medium)

    def score(self, level: Any) -> int | None:
        try:
            return self.scores[SATISFACTION_LEVELS.index(str(level).strip())]
        except ValueError:
            return None

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[Any, Any]]) -> tuple["Settings", list[str]]:
        """Read (设置项, 值) pairs; returns the settings and a list of Chinese problems.

        Each problem names its 设置项 in 「」 (see :func:`problem_label`).
        """
        by_label = {r.label: r for r in SETTING_ROWS}
        values: dict[str, Any] = {}
        problems: list[str] = []
        scores = list(cls.scores)
        for label, raw in rows:
            label = "" if label is None else str(label).strip()
            if not label:
                continue
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            if label.startswith("满意度分值-"):
                level = label.split("-", 1)[1]
                if level in SATISFACTION_LEVELS:
                    try:
                        scores[SATISFACTION_LEVELS.index(level)] = _int(raw)
                    except ValueError:
                        problems.append(f"设置项「{label}」的值「{raw}」不是整数，已按默认值处理")
                    continue
            row = by_label.get(label)
            if row is None:
                problems.append(f"未知的设置项「{label}」，已忽略")
                continue
            try:
                values[row.attr] = row.parse(raw)
            except ValueError as e:
                problems.append(f"设置项「{label}」的值「{raw}」无效（{e}），已按默认值处理")
        values["scores"] = tuple(scores)
        return cls(**values), problems

    def with_seasons(self, rows: Iterable[tuple[Any, ...]]) -> tuple["Settings", list[tuple[int, str]]]:
        """Replace the season table with (城市, 采暖期开始, 采暖期结束, 供冷期开始, 供冷期结束[, 来源及说明]) rows.

        Returns the new settings and ``(row index, problem)`` pairs; a bad row is skipped (that
        city then uses the 默认 row). 无 (or 无集中供暖, -) in both cells of a season means the
        city has no such season; a blank cooling pair takes the default 05-15→09-30; a blank
        heating cell is a problem (write 无 for a city without district heating).

        >>> rows = [("甲市", "11-01", "03-31", "", ""), ("乙市", "13-45", "03-31", "", ""), ("丙市", "无", "无", "", "")]
        >>> s, problems = Settings().with_seasons(rows)
        >>> s.season("甲市").heat_start, s.season("丙市").has_heating, problems
        ((11, 1), False, [(1, '城市「乙市」的采暖期开始无效：不存在的日期「13-45」')])
        """
        seasons = {}
        problems: list[tuple[int, str]] = []
        headers = ("采暖期开始", "采暖期结束", "供冷期开始", "供冷期结束")
        defaults = (None, None, "05-15", "09-30")
        for i, (city, *rest) in enumerate(rows):
            if city is None or not str(city).strip():
                continue
            edges = (list(rest) + [None] * 4)[:4]
            parsed: list[tuple[int, int] | None] = []
            error = None
            for j, (header, raw, default) in enumerate(zip(headers, edges, defaults)):
                other = edges[j + 1 if j % 2 == 0 else j - 1]
                if _is_no_season(raw):
                    if not _is_no_season(other):
                        error = f"城市「{city}」的{header}写了“{str(raw).strip()}”，另一格却不是：无此季节时两格都填“无”"
                        break
                    parsed.append(None)
                    continue
                if raw is None or not str(raw).strip():
                    if not default:
                        error = f"城市「{city}」的{header}为空（无集中供暖的城市两格都填“无”）"
                        break
                    raw = default
                try:
                    parsed.append(parse_month_day(raw))
                except ValueError as e:
                    error = f"城市「{city}」的{header}无效：{e}"
                    break
            if error:
                problems.append((i, error))
            else:
                seasons[str(city).strip()] = Season(*parsed)
        if DEFAULT_CITY not in seasons:
            seasons[DEFAULT_CITY] = self.seasons.get(DEFAULT_CITY, DEFAULT_SEASONS[DEFAULT_CITY])
        return dataclasses.replace(self, seasons=seasons), problems


def _is_no_season(value: Any) -> bool:
    return value is not None and str(value).strip() in NO_SEASON_WORDS


def problem_label(message: str) -> str | None:
    """The 设置项 a :meth:`Settings.from_rows` problem is about (the first 「…」 in it).

    >>> problem_label("设置项「到期顺延」的值「也许」无效（应为“是”或“否”），已按默认值处理")
    '到期顺延'
    """
    import re

    m = re.search(r"「([^」]*)」", message)
    return m.group(1) if m else None


def parse_month_day(value: Any) -> tuple[int, int]:
    """``'11-15'``, ``'11/15'``, ``'11月15日'`` or a date → ``(11, 15)``.

    >>> parse_month_day("3月31日")
    (3, 31)
    """
    import datetime as _dt
    import re

    if isinstance(value, (_dt.date, _dt.datetime)):
        return (value.month, value.day)
    m = re.fullmatch(r"\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*", str(value))
    if not m:
        raise ValueError(f"应为“月-日”，如 11-15，实为「{value}」")
    month, day = int(m.group(1)), int(m.group(2))
    try:
        _dt.date(2001, month, day)  # 02-30, 13-45 … (29 Feb is not a season edge either)
    except ValueError:
        raise ValueError(f"不存在的日期「{value}」") from None
    return (month, day)


def _int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError("应为整数")
    if isinstance(raw, (int,)):
        v = raw
    elif isinstance(raw, float) and raw.is_integer():
        v = int(raw)
    else:
        s = str(raw).strip().replace("天", "").replace("个月", "").replace("年", "").replace("次", "")
        if not s.lstrip("-").isdigit():
            raise ValueError("应为整数")
        v = int(s)
    if v < 0:
        raise ValueError("不能为负数")
    return v


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    s = str(raw).strip().upper()
    if s in ("是", "Y", "YES", "TRUE", "1", "开", "顺延"):
        return True
    if s in ("否", "N", "NO", "FALSE", "0", "关", "不顺延"):
        return False
    raise ValueError("应为“是”或“否”")


def _tiers(raw: Any) -> tuple[int, ...]:
    import re

    parts = [p for p in re.split(r"[,，、/\s]+", str(raw).strip()) if p]
    return tuple(sorted(_int(p) for p in parts))


def _md_text(md: tuple[int, int]) -> str:
    return f"{md[0]:02d}-{md[1]:02d}"


def _company(raw: Any) -> str:
    s = str(raw).strip()
    if not s or len(s) > 60:
        raise ValueError("公司名称应为1到60个字符")
    return s


def _prefix(raw: Any) -> str:
    s = str(raw).strip()
    if not s or len(s) > 8:
        raise ValueError("前缀应为1到8个字符")
    return s


def _defect_months(raw: Any) -> int:
    v = _int(raw)
    if not 1 <= v <= 24:
        raise ValueError("缺陷责任期应为1到24个月")
    return v


class SettingRow(NamedTuple):
    attr: str
    label: str
    parse: Any
    show: Any
    note: str


SETTING_ROWS: tuple[SettingRow, ...] = (
    SettingRow("clock_days", "报修到场天数", _int, str, "接到报修通知后应到场的天数（示范保修书：7天）"),
    SettingRow("urgent_days", "紧急到场天数", _int, str, "紧急抢修应到场的天数，按日历日计算，不顺延"),
    SettingRow("structural_days", "结构安全到场天数", _int, str, "涉及结构安全的报修应到场的天数，按日历日计算，不顺延"),
    SettingRow("roll_forward", "到期顺延", _bool, lambda v: "是" if v else "否", "期限最后一天是法定休假日的，顺延至其后第一个工作日（民法典第203条）"),
    SettingRow("warn_days", "到期提醒天数", _int, str, "保修到期前多少天显示“即将到期”"),
    SettingRow("warn_tiers", "提醒分档", _tiers, lambda v: ",".join(map(str, v)), "统计报表中即将到期的分档（天）"),
    SettingRow("long_open_days", "长期未结天数", _int, str, "报修超过多少天未完成时提醒"),
    SettingRow("overdue_out_of_warranty", "过保报修计超期", _bool, lambda v: "是" if v else "否",
               "保修期外的报修（有偿维修）是否也按到场时限计超期；否：过保报修没有保修的7天到场时限，不计超期"),
    SettingRow("sign_remind_days", "签认提醒天数", _int, str, "维修完成后超过多少天用户仍未签认时提醒"),
    SettingRow("repeat_count", "重复缺陷次数", _int, str, "同一项目、同一具体位置和保修部位（未填具体位置的按项目和保修部位）在期间内报修达到此次数时提醒"),
    SettingRow("repeat_months", "重复缺陷期间月数", _int, str, "重复缺陷的统计期间（月）"),
    SettingRow("design_life", "默认合理使用年限", _int, str, "项目未填合理使用年限时，地基基础和主体结构的保修期（年）"),
    SettingRow("first_visit_months", "首次回访月数", _int, str, "交付后第几个月内首次例行回访"),
    SettingRow("mid_visit_months", "中期回访月数", _int, str, "交付后第几个月中期回访"),
    SettingRow("routine_months_large", "例行回访间隔-大型", _int, str, "大型项目例行回访间隔（月）"),
    SettingRow("routine_months_medium", "例行回访间隔-中型", _int, str, "中型项目例行回访间隔（月）"),
    SettingRow("routine_months_small", "例行回访间隔-小型", _int, str, "小型项目例行回访间隔（月）"),
    SettingRow("rainy_visit", "雨季前回访日", parse_month_day, _md_text, "屋面、外墙、地下室防水的雨季前回访日（月-日）"),
    SettingRow("heating_visit_months_before", "采暖期前回访提前月数", _int, str, "采暖期开始前多少个月回访供热系统"),
    SettingRow("cooling_visit", "供冷期前回访日", parse_month_day, _md_text, "供冷期前回访空调通风的日期（月-日）"),
    SettingRow("expiry_visit_months_before", "期满前回访提前月数", _int, str, "保修期满前多少个月回访并发保修期满通知"),
    SettingRow("ticket_prefix", "报修单号前缀", _prefix, str, "新报修单号的前缀，单号形如 BX2026-0001"),
    SettingRow("company", "公司名称", _company, str, "打印的回访单、维修单、保修期满通知书抬头上的公司名称"),
    SettingRow("open_summary", "打开时显示待办摘要", _bool, lambda v: "是" if v else "否",
               "是：打开工作簿时在 Excel 状态栏显示待办事项的数量（需要启动 Python，打开后稍等几秒）；否：不显示"),
    SettingRow("defect_months", "默认缺陷责任期月数", _defect_months, str,
               "项目未填缺陷责任期时按此计算质保金应返还日期；1～24个月（建质〔2017〕138号第二条：一般为1年，最长不超过2年）"),
    SettingRow("retention_grace_days", "质保金返还期限天数", _int, str,
               "缺陷责任期满后多少天仍未返还质保金即为“逾期未返还”（第十一条：发包人接到返还申请后14天内核实，"
               "核实后14天内返还，共28天）"),
)


def settings_sheet_rows(settings: Settings | None = None) -> list[tuple[str, str, str]]:
    """The (设置项, 值, 说明) rows the build writes to the 设置 sheet."""
    s = settings or Settings()
    rows = [(r.label, r.show(getattr(s, r.attr)), r.note) for r in SETTING_ROWS]
    for level, score in zip(SATISFACTION_LEVELS, s.scores):
        rows.append((f"满意度分值-{level}", str(score), "满意度评分（统计报表用）"))
    return rows


def season_sheet_rows(settings: Settings | None = None) -> list[tuple[str, str, str, str, str, str]]:
    """The (城市, 采暖期开始, 采暖期结束, 供冷期开始, 供冷期结束, 来源及说明) rows the build writes to the
    设置 sheet's tblSeasons; a season the city does not have is written 无.

    >>> [r for r in season_sheet_rows() if r[0] in ("北京", "广州")][0][:5]
    ('北京', '11-15', '03-15', '05-15', '09-30')
    >>> [r for r in season_sheet_rows() if r[0] == "广州"][0][1:3]
    ('无', '无')
    """
    s = settings or Settings()
    notes = {city: note for city, (_, note) in SEASON_TABLE.items()}
    return [(city, *("无" if md is None else _md_text(md) for md in season), notes.get(city, ""))
            for city, season in s.seasons.items()]
