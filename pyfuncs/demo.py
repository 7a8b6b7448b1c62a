"""A realistic sample company, for ``aftercare demo`` (the README's first command).

:func:`sample_data` generates, from a fixed seed, a general contractor's aftercare records:
60 projects of all sizes in the cities of the season table (some without district heating, one
outside it, some written with their province), handed over 2016–2026, some with 四新技术 (the
technique's name); 保修条款 for most projects (some contract terms longer than the
law, a couple below the legal floor, some blank); 600 repair tickets over the years with Chinese
problem descriptions, places (a few blank), urgencies, causes, arrivals (some late, some still
missing), who went (维修单位 / 维修人员), user sign-off (recent ones sometimes still unsigned), costs;
a few projects with a contract dispatch time (约定到场天数); 200 visit records with satisfaction,
是否发现问题 (often blank, with the many ways staff write "nothing found", and one finding that
cannot be told), 问题部位. A few deliberate mistakes are left in so that 数据检查 has something
to show.

:func:`make_demo` writes it into a freshly built workbook, runs every job (plan for the current
year, refresh, visits, refresh, report, forms for a few rows, check) and saves the file safely.
"""
from __future__ import annotations

import datetime as dt
import functools
import importlib
import itertools
import os
import random
from pathlib import Path
from typing import Any

import pandas as pd

from pyfuncs.core.parts import PART_DISCIPLINE
from pyfuncs.schema import TABLES

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
         "霞", "平", "刚", "桂英", "建华", "建国", "志强", "海燕", "晓东", "文博", "思远", "国庆", "春梅", "红霞",
         "永刚", "立新", "宏伟", "振华", "学军", "玉兰", "丹", "鹏"]
CITIES_NORTH = ["北京", "天津", "石家庄", "济南", "郑州", "西安", "太原", "沈阳", "长春", "哈尔滨", "呼和浩特",
                "兰州", "银川", "西宁", "乌鲁木齐"]
CITIES_OTHER = ["上海", "广州"]  # no district heating (无 in the season table): no heating part
CITY_UNKNOWN = "鄂尔多斯"  # not in the season table: the 默认 row, with a note (数据检查 shows a 提示)
#: how some staff write the city: with the province and 市 (matched to the table's 呼和浩特 …)
PROVINCE_OF = {"呼和浩特": "内蒙古", "哈尔滨": "黑龙江省", "乌鲁木齐": "新疆", "石家庄": "河北省", "西安": "陕西省"}
#: what staff write in 四新技术 (blank, 否 or 无 = none)
TECHNIQUES = ["装配式混凝土结构", "BIM技术应用", "铝合金模板体系", "钢筋桁架楼承板", "建筑光伏一体化", "空气源热泵供暖",
              "高强钢筋应用", "外墙保温装饰一体化板"]
AREAS = ["滨河", "锦绣", "阳光", "翠湖", "金融街", "高新区", "经开区", "新城", "东湖", "南苑", "北辰", "西郊",
         "湖畔", "文化路", "科技园", "世纪", "和平", "长安", "丰泽", "润园", "御景", "朝阳", "泰和", "中心"]
KINDS = {
    "大型": ["商业综合体", "医院门诊医技楼", "体育中心", "会展中心", "超高层写字楼", "安置房小区"],
    "中型": ["住宅小区", "办公楼", "学校教学楼", "酒店", "养老服务中心", "科研楼", "图书馆"],
    "小型": ["厂房", "地下车库", "幼儿园", "社区服务中心", "变电站配套楼", "食堂", "门卫及围墙"],
}
CLIENT_FORMS = ["{c}{a}置业有限公司", "{c}{a}房地产开发有限公司", "{c}城市投资建设集团有限公司",
                "{c}市第一人民医院", "{c}市教育局", "{c}{a}实业有限公司", "{c}高新技术产业开发区管委会",
                "{c}{a}物业管理有限公司"]
PLACES = {
    "地基基础和主体结构": ["{b}号楼地下室外墙", "{b}号楼{u}单元楼梯间梁", "{b}号楼首层柱", "地下车库顶板"],
    "屋面防水": ["{b}号楼屋面东北角", "{b}号楼屋面女儿墙根部", "{b}号楼屋面出风口周边", "裙房屋面"],
    "防渗漏": ["{b}号楼{u}单元{r}室卫生间", "{b}号楼{u}单元{r}室厨房", "{b}号楼外墙西立面", "{b}号楼{r}室窗边",
            "地下车库B1层"],
    "供热系统": ["{b}号楼{u}单元{r}室", "{b}号楼供暖立管", "换热站", "{b}号楼{u}单元地暖分水器"],
    "供冷系统": ["{b}号楼空调机房", "{b}号楼{r}室风机盘管", "冷却塔", "{b}号楼新风机组"],
    "电气管线": ["{b}号楼{u}单元配电箱", "{b}号楼{r}室插座回路", "地下车库照明", "{b}号楼楼道灯"],
    "给排水管道": ["{b}号楼{u}单元{r}室排水管", "{b}号楼{u}单元给水立管", "地下车库消防管", "{b}号楼{r}室地漏"],
    "设备安装": ["{b}号楼{u}单元电梯", "{b}号楼水泵房", "{b}号楼排烟风机", "门禁系统"],
    "装修工程": ["{b}号楼{u}单元{r}室墙面", "{b}号楼大堂地面", "{b}号楼{r}室门窗", "{b}号楼公共走道吊顶"],
    "其他": ["小区道路", "室外景观", "围墙", "单元门"],
}
PROBLEMS = {
    "地基基础和主体结构": ["梁底出现斜向裂缝，宽约0.3mm", "地下室外墙渗水并伴有裂缝", "柱根部混凝土剥落露筋",
                        "楼板出现贯通裂缝"],
    "屋面防水": ["雨后顶层室内天花板渗水", "屋面卷材起鼓开裂", "女儿墙根部渗漏", "落水口周边积水渗漏"],
    "防渗漏": ["卫生间地面渗水至楼下", "外墙窗边渗水，墙面发霉", "厨房墙面返潮", "地下室墙面渗水"],
    "供热系统": ["暖气片不热", "地暖分水器漏水", "供暖立管阀门滴漏", "室温达不到18℃"],
    "供冷系统": ["风机盘管冷凝水滴漏", "空调不制冷", "新风机组异响", "冷却塔漏水"],
    "电气管线": ["插座回路频繁跳闸", "楼道灯不亮", "配电箱内线头发热", "开关面板松动"],
    "给排水管道": ["排水管接头漏水", "给水立管爆裂", "地漏返味", "下水不畅反水"],
    "设备安装": ["电梯运行异响", "水泵房水泵振动大", "排烟风机无法启动", "门禁读卡失灵"],
    "装修工程": ["墙面空鼓开裂", "地砖空鼓", "入户门变形关不严", "吊顶板脱落"],
    "其他": ["道路面层开裂", "单元门闭门器损坏", "景观铺装松动", "围墙栏杆锈蚀"],
}
PART_WEIGHTS = {
    "防渗漏": 24, "屋面防水": 14, "给排水管道": 15, "装修工程": 15, "电气管线": 10, "设备安装": 8,
    "供热系统": 7, "供冷系统": 3, "地基基础和主体结构": 1, "其他": 3,
}
CAUSES = [("施工质量", 55), ("施工方采购材料", 10), ("设计原因", 6), ("建设单位采购材料设备", 7),
          ("使用不当", 15), ("第三方责任", 4), ("不可抗力", 1), ("待查", 2)]
SATISFACTION = [("很满意", 35), ("满意", 40), ("基本满意", 17), ("不太满意", 6), ("不满意", 2)]
VISIT_KINDS = [("例行回访", 55), ("季节性回访", 20), ("技术性回访", 8), ("保修期满前回访", 12), ("其他回访", 5)]
VISIT_WAYS = [("实地", 60), ("电话", 25), ("座谈", 10), ("问卷", 5)]
VISIT_PROBLEMS = [("卫生间地面有渗水痕迹", "防渗漏"), ("外墙局部有裂缝", "防渗漏"), ("顶层天花板有水渍", "屋面防水"),
                  ("地下车库墙面返潮", "防渗漏"), ("入户门关闭不严", "装修工程"), ("电梯运行有异响", "设备安装"),
                  ("部分房间暖气不热", "供热系统"), ("楼道灯不亮", "电气管线")]
# the many ways staff write "nothing found" (登记回访 reads them; 是否发现问题 is often left blank)
VISIT_NOTHING = [None, "无", "未发现问题", "没有问题", "使用正常", "一切正常，业主满意", "无明显问题。", "各部位使用情况良好",
                 "暂未发现问题"]
# who goes to repair: the company's own maintenance team or a subcontractor of the discipline
CONTRACTORS = {
    "土建": ["本公司维修班", "宏达防水工程有限公司", "建安劳务有限公司"],
    "机电": ["本公司机电维修班", "恒通机电安装有限公司"],
    "安装": ["本公司维修班", "恒通机电安装有限公司", "顺达电梯工程有限公司"],
    "装饰": ["美居装饰工程有限公司", "本公司维修班"],
    "其他": ["本公司维修班"],
}


def _four_new(r: float) -> str | None:
    """One draw → the 四新技术 cell: a technique one project in five, else 否, blank or 无."""
    if r < 0.2:
        return TECHNIQUES[int(r * 997) % len(TECHNIQUES)]
    return "否" if r < 0.6 else None if r < 0.9 else "无"


@functools.lru_cache(maxsize=None)
def _heated(city: str) -> bool:
    """Has the city district heating (by the shipped season table; 默认 for one it lacks)?"""
    from pyfuncs.core.settings import Settings

    return Settings().season(city).has_heating


def _pick(rng: random.Random, weighted) -> Any:
    items, weights = zip(*weighted) if not isinstance(weighted, dict) else zip(*weighted.items())
    return rng.choices(items, weights=weights)[0]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _phone(rng: random.Random) -> str:
    return rng.choice(["138", "139", "135", "136", "150", "186", "189", "131"]) + f"{rng.randrange(10**8):08d}"


def _date(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    if hi <= lo:
        return lo
    return lo + dt.timedelta(days=rng.randrange((hi - lo).days + 1))


def sample_data(today: dt.date, seed: int = 2026, n_projects: int = 60, n_tickets: int = 600,
                n_visits: int = 200) -> dict[str, pd.DataFrame]:
    """The sample company's tables (schema keys as columns), deterministic for a seed and day."""
    rng = random.Random(seed)
    first = dt.date(2016, 1, 1)
    last_acc = min(today - dt.timedelta(days=45), dt.date(2026, 12, 31))
    projects = []
    used_names = set()
    for i in range(n_projects):
        size = _pick(rng, [("大型", 25), ("中型", 45), ("小型", 30)])
        city = rng.choice(CITIES_OTHER) if i in (7, 31) else rng.choice(CITIES_NORTH)
        accepted = _date(rng, first, last_acc)
        for _ in range(40):
            name = f"{city}{rng.choice(AREAS)}{rng.choice(KINDS[size])}"
            if name not in used_names:
                break
        else:  # the city's names run out with many thousands of projects: a plot number makes it new
            name = f"{name}{i + 1}号地块"
        used_names.add(name)
        if size != "小型" and rng.random() < 0.3:
            name += rng.choice(["一期", "二期", "三期"])
        life = None
        r = rng.random()
        if r < 0.15:
            life = 50
        elif r < 0.22 and size == "大型":
            life = 100
        projects.append({
            "project_id": f"XM{accepted.year}-{i + 1:03d}",
            "name": name,
            "client": rng.choice(CLIENT_FORMS).format(c=city, a=rng.choice(AREAS)),
            "city": city,
            "size": size,
            "accepted": accepted,
            "design_life": life,
            "four_new": _four_new(rng.random()),
            "manager": _name(rng),
            "visit_owner": _name(rng),
            "contact": _name(rng),
            "phone": _phone(rng),
            # a few contracts agree a faster dispatch (hospitals, schools) or a longer one
            "dispatch_days": (rng.choice([1, 2, 3]) if "医院" in name or "学校" in name else
                              rng.choice([None] * 12 + [3, 5, 10])),
            "note": rng.choice([None, None, None, "业主要求每季度电话回访", "含地下人防工程", "装配式建筑",
                                "EPC总承包"]),
        })
    # re-number in acceptance order so ids read naturally
    projects.sort(key=lambda p: (p["accepted"], p["name"]))
    per_year: dict[int, int] = {}
    for p in projects:
        y = p["accepted"].year
        per_year[y] = per_year.get(y, 0) + 1
        p["project_id"] = f"XM{y}-{per_year[y]:02d}"

    terms = []
    low_floor_left = 2
    for k, p in enumerate(projects):
        if k % 7 == 3:  # about one in seven has no 保修条款 yet: the plan job fills them
            continue
        parts = ["地基基础和主体结构", "屋面防水", "防渗漏", "电气管线", "给排水管道", "设备安装", "装修工程"]
        if _heated(p["city"]):
            parts.insert(3, "供热系统")
        if p["size"] == "大型" or rng.random() < 0.3:
            parts.insert(4, "供冷系统")
        for part in parts:
            term = None
            start = None
            r = rng.random()
            if part in ("屋面防水", "防渗漏") and r < 0.25:
                term = rng.choice(["8年", "10年"])
            elif part == "供热系统" and r < 0.2:
                term = "3个采暖期"
            elif part == "设备安装" and r < 0.2:
                term = rng.choice(["3年", "36个月"])
                start = p["accepted"] + dt.timedelta(days=rng.randrange(20, 90))  # 单项验收 later
            elif part == "电气管线" and low_floor_left and r < 0.1:
                term, low_floor_left = "1年", low_floor_left - 1  # below the floor: shows the 提示
            elif r < 0.5 and part != "地基基础和主体结构":
                term = {"供热系统": "2个采暖期", "供冷系统": "2个供冷期"}.get(part, "5年" if part in ("屋面防水", "防渗漏") else "2年")
            terms.append({"project_id": p["project_id"], "part": part, "term": term, "start": start})
    if low_floor_left and terms:
        for t in terms:
            if t["part"] == "屋面防水" and t["term"] is None:
                t["term"] = "3年"
                break

    # tickets: weighted by size, more in the first years after handover
    size_w = {"大型": 3.0, "中型": 1.6, "小型": 0.7}
    weights = [size_w[p["size"]] * min(1.0, max(0.15, (today - p["accepted"]).days / 700)) for p in projects]
    places_of: dict[tuple[str, str], list[str]] = {}
    crews: dict[str, list[str]] = {}  # 维修单位 → its few repairers (the same people go again and again)
    tickets = []
    # cumulative weights once (random.choices(weights=...) sums them on every call: quadratic in
    # projects × tickets); the draws are the same
    cum_weights = list(itertools.accumulate(weights))
    for i in range(n_tickets):
        p = rng.choices(projects, cum_weights=cum_weights)[0]
        north = _heated(p["city"])
        pw = {k: v for k, v in PART_WEIGHTS.items() if north or k != "供热系统"}
        part = _pick(rng, pw)
        span = (today - p["accepted"]).days
        # front-loaded: most repairs come in the first two years
        offset = int(min(span, rng.expovariate(1 / 420))) if span > 10 else 0
        notice = p["accepted"] + dt.timedelta(days=max(3, offset) if span > 3 else 0)
        notice = min(notice, today)
        key = (p["project_id"], part)
        if key not in places_of:
            places_of[key] = [rng.choice(PLACES[part]).format(b=rng.randint(1, 12), u=rng.randint(1, 4),
                                                              r=rng.choice([301, 502, 1203, 801, 1602, 203]))
                              for _ in range(3)]
        place = rng.choice(places_of[key]) if rng.random() < 0.7 else rng.choice(PLACES[part]).format(
            b=rng.randint(1, 12), u=rng.randint(1, 4), r=rng.choice([101, 402, 702, 1101, 1502]))
        problem = rng.choice(PROBLEMS[part])
        urgency = "一般"
        if part == "地基基础和主体结构":
            urgency = "涉及结构安全"
        elif "爆裂" in problem or "漏水" in problem and rng.random() < 0.5 or "跳闸" in problem and rng.random() < 0.3:
            urgency = "紧急"
        age = (today - notice).days
        cause = _pick(rng, CAUSES) if age > 20 or rng.random() < 0.5 else None
        # arrival: within the clock mostly, some late, some not yet
        limit = 1 if urgency != "一般" else (p["dispatch_days"] or 7)
        r = rng.random()
        if age <= 3 and r < 0.7:
            arrival = None
        elif r < 0.03:
            arrival = None  # an old ticket nobody went to: overdue and long open
        elif r < 0.15:
            arrival = notice + dt.timedelta(days=limit + rng.randint(1, 14))
        else:
            arrival = notice + dt.timedelta(days=rng.randint(0, limit))
        if arrival is not None and arrival > today:
            arrival = None
        done = accepted = None
        signed = None
        if arrival is not None:
            d = arrival + dt.timedelta(days=rng.choice([0, 0, 1, 2, 3, 5, 7, 10, 15, 30]))
            if d <= today and rng.random() < 0.93:
                done = d
                a = done + dt.timedelta(days=rng.randint(0, 10))
                # old repairs were signed off long ago; recent ones are still waiting for some users
                if a <= today and rng.random() < (0.98 if (today - a).days > 120 else 0.75):
                    accepted = a
                    signed = "是" if rng.random() < 0.97 else None  # a few 验收日期 without the signature
        contractor = repairer = None
        if arrival is not None:
            contractor = rng.choice(CONTRACTORS[PART_DISCIPLINE[part]])
            if contractor not in crews:
                crews[contractor] = [_name(rng) for _ in range(rng.randint(2, 4))]
            repairer = rng.choice(crews[contractor])
        cost = None
        if done is not None and rng.random() < 0.6:
            cost = round(rng.choice([300, 500, 800, 1200, 2000, 3500, 6000, 12000]) * rng.uniform(0.7, 1.4), -1)
        tickets.append({
            "ticket_id": None, "project_id": p["project_id"], "notice": notice,
            "reporter": _name(rng), "phone": _phone(rng),
            "part": part if rng.random() > 0.02 else None,
            "place": place if rng.random() > 0.05 else None,  # staff sometimes leave the place blank
            "problem": problem, "urgency": urgency, "cause": cause,
            "arrival": arrival, "contractor": contractor, "repairer": repairer, "done": done, "accepted": accepted,
            "signed": signed,
            "state": "已关闭" if accepted and rng.random() < 0.3 else None,
            "cost": cost,
            "note": rng.choice([None] * 8 + ["业主自行找人维修后报销", "已拍照存档", "需设计单位出具处理方案",
                                             "与物业共同查看"]),
        })
    tickets.sort(key=lambda t: (t["notice"], t["project_id"]))
    # pre-numbered, except the newest ones (refresh numbers them)
    per_year = {}
    recent = today - dt.timedelta(days=30)
    for t in tickets:
        if t["notice"] < recent:
            y = t["notice"].year
            per_year[y] = per_year.get(y, 0) + 1
            t["ticket_id"] = f"BX{y}-{per_year[y]:04d}"
    # deliberate mistakes for 数据检查
    if len(tickets) > 40:
        tickets[17]["notice"] = f"{tickets[17]['notice'].year}-02-30"
        tickets[29]["project_id"] = "XM2099-99"
        t = tickets[35]
        if t["done"] and t["arrival"]:
            t["done"] = t["arrival"] - dt.timedelta(days=2)
            t["accepted"] = None
            t["signed"] = None

    # cells staff get wrong in the ledger: each changes only what depends on it (数据检查 lists
    # them; the plan still plans those projects, with a note)
    if len(projects) > 12:
        projects[-6]["size"] = "超大型"          # routine visits fall back to 中型
        projects[-12]["design_life"] = 70        # a land-use term, not a design life: a hint
        projects[-9]["city"] = CITY_UNKNOWN      # not in the season table: the 默认 row, noted
        large = [p for p in projects if p["size"] == "大型"]
        if large:  # the technique's name, shown on the plan and the visit form
            large[0]["four_new"] = "装配式混凝土结构"
    for k, p in enumerate(projects):
        if k % 10 == 3 and p["city"] in PROVINCE_OF:
            p["city"] = f"{PROVINCE_OF[p['city']]}{p['city']}市"
    for t in terms:
        if t["part"] == "防渗漏" and t["term"] is None:
            t["term"] = "十年整"                 # unreadable: the statutory 5 years, noted
            break
    for t in terms:
        if t["part"] == "地基基础和主体结构":
            t["term"] = "设计文件规定的合理使用年限"  # the 保修书's wording: the design life
            break

    visits = []
    for i in range(n_visits):
        p = rng.choice(projects)
        if (today - p["accepted"]).days < 20:
            continue
        date = _date(rng, p["accepted"] + dt.timedelta(days=15), today - dt.timedelta(days=1))
        sat = _pick(rng, SATISFACTION)
        prob = part = None
        if sat in ("不太满意", "不满意") or rng.random() < 0.08:
            prob, part = rng.choice(VISIT_PROBLEMS)
        # newer forms have the 是否发现问题 box; staff often leave it blank and just write the finding
        found = ("是" if prob else "否") if rng.random() < 0.6 else None
        visits.append({
            "date": date, "project_id": p["project_id"], "kind": _pick(rng, VISIT_KINDS),
            "way": _pick(rng, VISIT_WAYS), "visitor": p["visit_owner"], "met": p["contact"],
            "found": found,
            "problems": prob or rng.choice(VISIT_NOTHING),
            "part": part,
            "satisfaction": sat,
            "handling": "已登记报修，安排维修" if prob else rng.choice([None, "继续保持", "按计划回访"]),
            "ticket_id": None,
            "next_date": date + dt.timedelta(days=rng.choice([90, 180, 365])),
            "note": None,
        })
    visits.sort(key=lambda v: (v["date"], v["project_id"]))
    # visits older than two months were registered back then (回访编号, 登记状态); the newest are
    # new rows for the 登记回访 job
    per_year = {}
    for v in visits:
        if v["date"] < today - dt.timedelta(days=60):
            y = v["date"].year
            per_year[y] = per_year.get(y, 0) + 1
            v["visit_id"] = f"HF{y}-{per_year[y]:04d}"
            v["registered"] = f"已登记 {v['date'] + dt.timedelta(days=1):%Y-%m-%d}"
        else:
            v["visit_id"] = v["registered"] = None
    # one new visit whose finding cannot be told: 登记回访 lists it instead of opening a ticket
    new = [v for v in visits if v["registered"] is None and v["satisfaction"] in ("很满意", "满意")]
    if new:
        new[0].update(found=None, problems="基本正常，建议雨季前疏通屋面落水口", part="屋面防水")
    _case_and_retention_data(today, seed, projects, tickets, visits)
    return {
        "projects": pd.DataFrame(projects),
        "terms": pd.DataFrame(terms),
        "repairs": pd.DataFrame(tickets),
        "visits": pd.DataFrame(visits),
    }


#: what was done, by part (报修台账 维修内容)
WORK = {
    "地基基础和主体结构": "裂缝注胶封闭，经设计单位复核结构安全", "屋面防水": "揭除破损卷材，重做附加层和防水层，闭水试验48小时无渗漏",
    "防渗漏": "凿开地面重做防水层和闭水试验，恢复面层", "供热系统": "更换阀门，系统排气冲洗后复测室温",
    "供冷系统": "疏通冷凝水管，更换保温", "电气管线": "更换老化线路和开关，测试绝缘电阻合格",
    "给排水管道": "更换接头和管段，通水试验无渗漏", "设备安装": "更换损坏部件，调试运行正常",
    "装修工程": "铲除空鼓部位重新铺贴/抹灰", "其他": "修补破损部位",
}


def _case_and_retention_data(today: dt.date, seed: int, projects: list[dict], tickets: list[dict],
                             visits: list[dict]) -> None:
    """维修内容, 典型 and 照片 on the ledgers (回访案例库) and 质保金 on 项目台账: a random stream of
    their own, so the rest of the sample stays what it was for a seed. Among the projects with
    retention: most returned, one claimable now, one overdue, one whose ratio (5%) breaks 第七条."""
    from pyfuncs.core.dates import edate

    rng = random.Random(seed * 31 + 14)
    for t in tickets:
        if t.get("done") or t.get("accepted"):
            t["work"] = WORK.get(t.get("part") or "其他", WORK["其他"])
        else:
            t["work"] = None
        t["typical"] = t["photos"] = None
    closed = [t for t in tickets if t["work"] and t.get("ticket_id") and t.get("cause") in ("施工质量", "设计原因",
                                                                                          "施工方采购材料")]
    for k, t in enumerate(rng.sample(closed, min(len(closed), max(2, len(tickets) // 40)))):
        t["typical"] = "是"
        if k % 3 != 2:
            t["photos"] = f"\\\\nas\\保修照片\\{t['ticket_id']}.jpg" + (
                f"；\\\\nas\\保修照片\\{t['ticket_id']}-2.jpg" if k % 3 == 1 else "")
    for v in visits:
        v["typical"] = v["photos"] = None
    found = [v for v in visits if v.get("part") and v.get("visit_id")]
    for k, v in enumerate(found[:3]):
        v["typical"] = "是"
        v["photos"] = f"https://pan.example.com/aftercare/{v['visit_id']}" if k != 1 else None

    for p in projects:
        p.update(settled_price=None, retention_ratio=None, retention_amount=None, defect_start=None,
                 defect_months=None, retention_returned=None)
    held = [p for p in projects if rng.random() < 0.7]
    for p in held:
        p["settled_price"] = float(rng.randrange(300, 30000) * 10000)
        if rng.random() < 0.15:
            p["retention_amount"] = round(p["settled_price"] * 0.025, 2)
        else:
            p["retention_ratio"] = rng.choice([0.03, 0.03, 0.03, 0.025, 0.02])
        p["defect_months"] = rng.choice([None, None, None, 12, 24])
        due = edate(p["accepted"], p["defect_months"] or 24)
        if due is not None and due < today - dt.timedelta(days=40):
            p["retention_returned"] = due + dt.timedelta(days=rng.randrange(5, 35))
    old = [p for p in held if p["retention_returned"] is not None]
    if len(old) >= 3:
        old[0]["retention_returned"] = None          # overdue: due long ago, never returned
        claim = old[1]                               # claimable: the period ended ten days ago
        claim["retention_returned"] = None
        claim["defect_months"] = 24
        claim["defect_start"] = edate(today - dt.timedelta(days=10), -24)
        old[2]["retention_ratio"], old[2]["retention_amount"] = 0.05, None  # above 3%: flagged


def fill(book, data: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Append the sample tables to an (empty) workbook's tables."""
    from pyfuncs.tables import append_rows, read_table

    counts = {}
    for key, df in data.items():
        frame = read_table(book, TABLES[key])
        append_rows(book, frame, df)
        counts[key] = len(df)
    return counts


def _job(name: str):
    try:
        return importlib.import_module(f"pyfuncs.jobs.{name}")
    except ModuleNotFoundError:
        return None


def demo_steps(today: dt.date, data: dict[str, pd.DataFrame]):
    """(label, job name, JobOptions) in the order the demo runs them."""
    from pyfuncs.jobs import JobOptions

    tickets = [t for t in data["repairs"]["ticket_id"].dropna().tolist()][-3:]
    return [
        ("生成年度回访计划", "plan", JobOptions(today=today, year=today.year)),
        ("刷新台账", "refresh", JobOptions(today=today)),
        ("登记回访", "visits", JobOptions(today=today)),
        ("刷新台账（含回访新开的报修单）", "refresh", JobOptions(today=today)),
        ("统计报表", "report", JobOptions(today=today)),
        ("案例库", "cases", JobOptions(today=today)),
        ("打印回访单", "forms", JobOptions(today=today, year=today.year,
                                      selection=[f"plan:{today.year}:4", f"plan:{today.year}:5",
                                                 *[f"repair:{t}" for t in tickets]])),
        ("本周待办", "todo", JobOptions(today=today)),
        ("项目档案", "project", JobOptions(today=today, selection=data["projects"]["project_id"].dropna().tolist()[:1])),
        ("数据检查", "check", JobOptions(today=today)),
    ]


def make_demo(path: str | os.PathLike = "aftercare-demo.xlsm", *, today: dt.date | None = None, seed: int = 2026,
              n_projects: int = 60, n_tickets: int = 600, n_visits: int = 200, verbose: bool = False,
              on_progress=None) -> dict:
    """Build the demo workbook at ``path`` (an existing file is backed up, never half-overwritten)
    and run every job on it. Returns {"path", "counts", "jobs": {name: summary}, "lines": [...]}.

    ``on_progress(step, total, text)`` is told each step (the command line's progress bar)."""
    from pyfuncs.build import build_workbook
    from pyfuncs.io.filebook import FileBook
    from pyfuncs.io.safe import check_file, job_lock

    today = today or dt.date.today()
    target = Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    check_file(target, must_exist=False)
    lines: list[str] = []
    jobs: dict[str, Any] = {}
    problems = []
    with job_lock(target):
        work = target.with_name(f".~aftercare-demo-{os.getpid()}{target.suffix}")
        try:
            say = on_progress or (lambda step, total, text: None)
            data = sample_data(today, seed, n_projects, n_tickets, n_visits)
            steps = list(demo_steps(today, data))
            total = len(steps) + 3
            say(1, total, "生成工作簿")
            build_workbook(work)
            with FileBook.open(work, lock=False, verbose=verbose) as book:
                say(2, total, "填写示例数据")
                counts = fill(book, data)
                for i, (label, name, opts) in enumerate(steps, start=3):
                    say(i, total, label)
                    job = _job(name)
                    if job is None:
                        lines.append(f"· {label}：（此功能尚未安装，已跳过）")
                        continue
                    book.set_status(f"{label}…")
                    try:
                        result = job.run(book, opts)
                    except Exception as e:  # noqa: BLE001 - one job's bug must not lose the demo
                        lines.append(f"· {label}：出错（{type(e).__name__}: {e}），已跳过")
                        jobs[name] = {"error": f"{type(e).__name__}: {e}"}
                        continue
                    jobs[name] = result.summary
                    msg = "；".join(m.rstrip("。") for m in result.messages) or "完成"
                    if len(msg) > 160:
                        msg = msg[:158] + "……"
                    lines.append(f"· {label}：{msg}")
                    if name == "check":
                        problems = result.problems
                say(total, total, "保存工作簿")
                book.save(target)
        finally:
            if work.exists():
                work.unlink()
    p = data["projects"]
    sizes = p["size"].value_counts()
    head = [
        f"示例工作簿已生成：{target}",
        f"示例公司：项目 {len(p)} 个（大型 {sizes.get('大型', 0)}、中型 {sizes.get('中型', 0)}、小型 {sizes.get('小型', 0)}），"
        f"竣工 {p['accepted'].min():%Y}–{p['accepted'].max():%Y} 年；保修条款 {counts['terms']} 行；"
        f"报修 {counts['repairs']} 件；回访记录 {counts['visits']} 条（按 {today:%Y-%m-%d} 计算）。",
    ]
    tail = []
    if problems:
        errors = [q for q in problems if q.level == "错误"]
        tail.append("数据检查发现的问题（示例中故意留了几处错误）：")
        for q in errors[:5]:
            tail.append(f"  [{q.level}] {q}")
    tail.append("用 Excel 打开该文件，启用宏后在“回访保修”选项卡中使用各按钮。")
    return {"path": str(target), "today": today.isoformat(), "seed": seed, "counts": counts, "jobs": jobs,
            "lines": head + lines + tail}
