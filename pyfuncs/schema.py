"""The workbook's sheet schema: the one place that says which sheets, tables and columns exist.

Every fact about a column is declared here once and used by the build (headers, widths, number
formats, dropdown validation), by the readers (which Python type a column becomes), by the writers
(which columns a job may write: ``computed=True``) and by validation (required columns, choices).

Example::

    >>> from pyfuncs.schema import TABLES
    >>> t = TABLES["repairs"]
    >>> t.sheet, t.name, t.column("due").header
    ('报修台账', 'tblRepairs', '应到场日期')
    >>> [c.header for c in t.computed_columns][:3]
    ['报修单号', '专业', '应到场日期']
"""
from __future__ import annotations

from dataclasses import dataclass

from pyfuncs.core.parts import DISCIPLINES, PART_LABELS

# --- value lists (dropdown validation); the exact labels staff pick -------------------------------
SIZES = ("大型", "中型", "小型")
YES_NO = ("是", "否")
URGENCIES = ("一般", "紧急", "涉及结构安全")
CAUSES = (
    "施工质量",
    "施工方采购材料",
    "设计原因",
    "建设单位采购材料设备",
    "使用不当",
    "第三方责任",
    "不可抗力",
    "待查",
)
REPAIR_STATES = ("待派工", "已到场", "维修中", "已完成", "已验收", "已关闭")
VISIT_KINDS = ("例行回访", "季节性回访", "技术性回访", "保修期满前回访", "其他回访")
VISIT_WAYS = ("实地", "电话", "座谈", "问卷")
SATISFACTION = ("很满意", "满意", "基本满意", "不太满意", "不满意")
DAY_TYPES = ("休", "班")
PLAN_STATES = ("未回访", "已回访", "已取消", "已改期")

DATE_FORMAT = "yyyy-mm-dd"
#: the days a date cell accepts in Excel (data validation of the date columns staff type in): a
#: typed 2026/13/01 stays text and is refused, so is a year typed as 226
DATE_VALID = ("DATE(1950,1,1)", "DATE(2199,12,31)")


def date_error(header: str) -> str:
    """The message Excel shows when a date cell is refused.

    >>> date_error("报修日期")
    '「报修日期」应填写日期（1950年至2199年），如 2026-03-05；2026/13/01 这样不存在的日期无法输入'
    """
    return f"「{header}」应填写日期（1950年至2199年），如 2026-03-05；2026/13/01 这样不存在的日期无法输入"


@dataclass(frozen=True)
class Column:
    """One column of a table.

    ``kind`` is one of ``text``, ``date``, ``int``, ``number``, ``choice``.
    ``computed`` columns are written by the jobs; every other column belongs to staff and no job
    ever writes it (except to fill it where it is blank, when ``fill_blank`` is set).
    """

    key: str
    header: str
    kind: str = "text"
    width: float = 12
    choices: tuple[str, ...] | None = None
    number_format: str | None = None
    computed: bool = False
    fill_blank: bool = False
    required: bool = False
    comment: str = ""
    #: a dropdown from a list in the workbook: the defined name of :data:`LIST_NAMES` (Excel's data
    #: validation cannot name a table column itself, a defined name can)
    list_source: str | None = None
    #: a computed column of a later feature (质保金): a workbook built before it lacks the column,
    #: which is a 提示 (the feature is off there), not an error
    optional: bool = False

    @property
    def format(self) -> str | None:
        if self.number_format:
            return self.number_format
        if self.kind == "date":
            return DATE_FORMAT
        if self.kind == "int":
            return "0"
        if self.kind == "number":
            return "#,##0.00"
        if self.kind == "text":
            return "@"
        return None


@dataclass(frozen=True)
class Table:
    """An Excel table (ListObject) on a sheet, its header row at ``anchor``."""

    key: str
    sheet: str
    name: str
    columns: tuple[Column, ...]
    anchor: str = "A1"
    id_column: str | None = None

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @property
    def computed_columns(self) -> list[Column]:
        return [c for c in self.columns if c.computed or c.fill_blank]

    def by_header(self) -> dict[str, Column]:
        return {c.header: c for c in self.columns}


def _c(key, header, kind="text", width=12, **kw) -> Column:
    return Column(key=key, header=header, kind=kind, width=width, **kw)


PROJECTS = Table(
    key="projects",
    sheet="项目台账",
    name="tblProjects",
    id_column="project_id",
    columns=(
        _c("project_id", "项目编号", width=12, required=True),
        _c("name", "项目名称", width=28, required=True),
        _c("client", "建设单位", width=24),
        _c("city", "所在城市", width=10),
        _c("size", "项目规模", "choice", 10, choices=SIZES),
        _c("accepted", "竣工验收日期", "date", 13, required=True),
        _c("design_life", "合理使用年限", "int", 12,
           comment="设计使用年限（年），按设计文件填写；GB 50352 分为 5、25、50、100 年；空白按设置中的默认值（50年）"),
        _c("four_new", "四新技术", width=20,
           comment="采用的新技术、新材料、新工艺、新设备，如“装配式混凝土结构”；空白、否、无 = 未采用。"
                   "填写的内容显示在回访计划和回访单上"),
        _c("manager", "项目经理", width=10),
        _c("visit_owner", "回访负责人", width=10, list_source="人员名单"),
        _c("contact", "联系人", width=10),
        _c("phone", "联系电话", width=14),
        _c("dispatch_days", "约定到场天数", "int", 12,
           comment="合同约定接到报修后几天内到场（一般报修）；空白按设置中的报修到场天数"),
        _c("note", "备注", width=24),
        # 质保金 (建质〔2017〕138号; docs/rules-retention.md): staff's contract facts, then what refresh computes
        _c("settled_price", "结算价款", "number", 14,
           comment="工程价款结算总额（元），未结算的先填合同价款；质保金金额按它和质保金比例计算"),
        _c("retention_ratio", "质保金比例", "number", 10, number_format="0.0%",
           comment="预留的质保金占结算价款的比例，如 3%；不得高于3%（建质〔2017〕138号第七条）。"
                   "填了质保金金额的可不填"),
        _c("retention_amount", "质保金金额", "number", 14,
           comment="预留的质保金（元）；空白时按结算价款×质保金比例计算"),
        _c("defect_start", "缺陷责任期起算日", "date", 14,
           comment="空白按竣工验收日期（建质〔2017〕138号第八条：缺陷责任期从工程通过竣工验收之日起计）"),
        _c("defect_months", "缺陷责任期（月）", "int", 12,
           comment="合同约定的缺陷责任期，1～24个月（一般1年，最长不超过2年）；空白按设置中的默认值（24个月）"),
        _c("retention_returned", "质保金已返还日期", "date", 14,
           comment="质保金实际返还（收回）的日期；填写后状态为已返还"),
        _c("retention_due", "质保金应返还日期", "date", 14, computed=True, optional=True),
        _c("retention_status", "质保金状态", width=14, computed=True, optional=True),
    ),
)

TERMS = Table(
    key="terms",
    sheet="保修条款",
    name="tblTerms",
    columns=(
        _c("project_id", "项目编号", width=12, required=True, list_source="项目编号列表"),
        _c("part", "保修部位", "choice", 18, choices=PART_LABELS, required=True),
        _c("term", "约定保修期", width=12, comment="如 5年、18个月、2个采暖期；空白按法定最低期限"),
        _c("start", "起算日期", "date", 12, comment="空白按项目的竣工验收日期"),
        _c("end", "到期日期", "date", 12, computed=True),
        _c("status", "保修状态", width=10, computed=True),
        _c("hint", "提示", width=40, computed=True),
    ),
)

REPAIRS = Table(
    key="repairs",
    sheet="报修台账",
    name="tblRepairs",
    id_column="ticket_id",
    columns=(
        _c("ticket_id", "报修单号", width=14, fill_blank=True),
        _c("project_id", "项目编号", width=12, required=True, list_source="项目编号列表"),
        _c("notice", "报修日期", "date", 12, required=True),
        _c("reporter", "报修人", width=10),
        _c("phone", "联系电话", width=14),
        _c("part", "保修部位", "choice", 18, choices=PART_LABELS),
        _c("discipline", "专业", "choice", 8, choices=DISCIPLINES, fill_blank=True,
           comment="土建/机电/装饰/安装/其他；空白时按保修部位填写，可改"),
        _c("place", "具体位置", width=18),
        _c("problem", "问题描述", width=30),
        _c("urgency", "紧急程度", "choice", 12, choices=URGENCIES),
        _c("cause", "原因分类", "choice", 16, choices=CAUSES),
        _c("due", "应到场日期", "date", 12, computed=True),
        _c("arrival", "到场日期", "date", 12),
        _c("contractor", "维修单位", width=20, comment="去维修的单位（本公司维修班或分包单位）"),
        _c("repairer", "维修人员", width=10, list_source="人员名单"),
        _c("done", "完成日期", "date", 12),
        _c("accepted", "验收日期", "date", 12),
        _c("signed", "用户签认", "choice", 10, choices=YES_NO,
           comment="用户在维修单上签字认可维修结果：是；未签为空白或否。只有签认的报修才算已验收"),
        _c("state", "状态", "choice", 10, choices=REPAIR_STATES, fill_blank=True),
        _c("in_warranty", "是否在保", "choice", 10, choices=YES_NO, computed=True),
        _c("payer", "费用承担", width=22, computed=True),
        _c("overdue", "超期天数", "int", 10, computed=True),
        _c("cost", "维修费用", "number", 12),
        _c("note", "备注", width=24),
        _c("flags", "提醒", width=30, computed=True),
        _c("visit_ref", "来源回访", width=16, computed=True),
        # 回访案例库 (the cases job): what was done, whether it is a typical case, photos
        _c("work", "维修内容", width=24, comment="实际采取的维修措施和结果，收入案例库"),
        _c("typical", "典型", "choice", 6, choices=YES_NO,
           comment="是：收入回访案例库（“案例库”按钮或 aftercare cases 生成「案例库」工作表）"),
        _c("photos", "照片", width=16,
           comment="照片的路径或网址，如 \\\\服务器\\照片\\BX2026-0001.jpg 或 https://…；多个用换行或分号分隔，"
                   "案例库中第一个可点击打开"),
    ),
)

VISITS = Table(
    key="visits",
    sheet="回访记录",
    name="tblVisits",
    columns=(
        _c("date", "回访日期", "date", 12, required=True),
        _c("project_id", "项目编号", width=12, required=True, list_source="项目编号列表"),
        _c("kind", "回访类型", "choice", 14, choices=VISIT_KINDS),
        _c("way", "回访方式", "choice", 10, choices=VISIT_WAYS),
        _c("visitor", "回访人", width=10, list_source="人员名单"),
        _c("met", "受访人", width=10),
        _c("found", "是否发现问题", "choice", 12, choices=YES_NO,
           comment="是：登记回访时开报修单；否：不开（满意度为不太满意、不满意的仍开）；"
                   "空白时按发现问题的文字判断，看不出的列为提示"),
        _c("problems", "发现问题", width=30),
        _c("part", "问题部位", "choice", 18, choices=PART_LABELS),
        _c("discipline", "专业", "choice", 8, choices=DISCIPLINES, fill_blank=True,
           comment="空白时按问题部位填写，可改"),
        _c("satisfaction", "满意度", "choice", 10, choices=SATISFACTION),
        _c("handling", "处理意见", width=24),
        _c("ticket_id", "报修单号", width=14, fill_blank=True),
        _c("next_date", "下次回访日期", "date", 13),
        _c("note", "备注", width=24),
        _c("visit_id", "回访编号", width=14, computed=True),
        _c("registered", "登记状态", width=16, computed=True),
        # 回访案例库: a typical finding and its photos
        _c("typical", "典型", "choice", 8, choices=YES_NO,
           comment="是：本次回访发现的问题收入回访案例库"),
        _c("photos", "照片", width=24, comment="照片的路径或网址；多个用换行或分号分隔"),
    ),
)

HOLIDAYS = Table(
    key="holidays",
    sheet="节假日",
    name="tblHolidays",
    columns=(
        _c("date", "日期", "date", 12, required=True),
        _c("type", "类型", "choice", 8, choices=DAY_TYPES, required=True),
        _c("note", "说明", width=30),
    ),
)

SETTINGS = Table(
    key="settings",
    sheet="设置",
    name="tblSettings",
    columns=(
        _c("name", "设置项", width=22, required=True),
        _c("value", "值", width=16),
        _c("note", "说明", width=50),
    ),
)

SEASONS = Table(
    key="seasons",
    sheet="设置",
    name="tblSeasons",
    anchor="E1",
    columns=(
        _c("city", "城市", width=10, required=True),
        _c("heat_start", "采暖期开始", width=11, comment="月-日，如 11-15"),
        _c("heat_end", "采暖期结束", width=11),
        _c("cool_start", "供冷期开始", width=11),
        _c("cool_end", "供冷期结束", width=11),
        _c("source", "来源及说明", width=48, comment="采暖期的依据（各市供热条例/办法）；无集中供暖的城市两格填“无”"),
    ),
)

STAFF = Table(
    key="staff",
    sheet="设置",
    name="tblStaff",
    anchor="L1",
    columns=(
        _c("name", "姓名", width=10, required=True,
           comment="回访负责人、维修人员、回访人的下拉列表取自此列；不在名单中的姓名也可以填写（Excel 会提示确认）"),
        _c("role", "岗位", width=12, comment="如 回访专员、维修班长、项目经理"),
        _c("phone", "联系电话", width=14),
    ),
)

PLAN = Table(
    key="plan",
    sheet="回访计划{year}",
    name="tblPlan{year}",
    columns=(
        _c("seq", "序号", "int", 6, computed=True),
        _c("date", "计划日期", "date", 12, computed=True),
        _c("project_id", "项目编号", width=11, computed=True),
        _c("name", "项目名称", width=24, computed=True),
        _c("client", "建设单位", width=20, computed=True),
        _c("contact", "联系人", width=9, computed=True),
        _c("phone", "联系电话", width=13, computed=True),
        _c("kind", "回访类型", width=22, computed=True),
        _c("parts", "涉及部位", width=30, computed=True),
        _c("reasons", "回访事由及说明", width=34, computed=True),
        _c("way", "回访方式", "choice", 9, choices=VISIT_WAYS, fill_blank=True),
        _c("owner", "负责人", width=9, fill_blank=True, list_source="人员名单"),
        _c("state", "状态", "choice", 9, choices=PLAN_STATES, fill_blank=True),
        _c("actual", "实际回访日期", "date", 12),
        _c("note", "备注", width=20),
    ),
)

#: Data tables that every workbook has, in sheet order.
TABLES: dict[str, Table] = {
    t.key: t for t in (PROJECTS, TERMS, REPAIRS, VISITS, HOLIDAYS, SETTINGS, SEASONS, STAFF)
}


@dataclass(frozen=True)
class ListName:
    """A defined name a dropdown lists from: a table column, so it follows the table as it grows.
    ``strict``: a value not in the list is refused (else Excel warns and lets staff keep it)."""

    name: str
    table: str
    column: str
    strict: bool = True

    @property
    def refers_to(self) -> str:
        """``tblProjects[项目编号]`` (a structured reference: Excel keeps it on the table's column)."""
        t = TABLES[self.table]
        return f"{t.name}[{t.column(self.column).header}]"


#: The lists of the dropdowns that tie the sheets together (Column.list_source names one).
LIST_NAMES: dict[str, ListName] = {n.name: n for n in (
    ListName("项目编号列表", "projects", "project_id", strict=True),
    ListName("人员名单", "staff", "name", strict=False),
)}
#: Sheet order of the built workbook (the plan sheets are added by the plan job).
SHEET_ORDER = ("项目台账", "保修条款", "报修台账", "回访记录", "节假日", "设置", "统计")
#: The sheets that make a workbook ours: those of the data tables. 统计 is not among them (the
#: report job makes it again), nor are the generated sheets.
REQUIRED_SHEETS = tuple(dict.fromkeys(t.sheet for t in TABLES.values()))


def missing_sheets(sheet_names) -> list[str]:
    """The required sheets a workbook lacks; [] for a complete one.

    >>> missing_sheets(list(SHEET_ORDER)), missing_sheets(["项目台账", "保修条款", "报修台账", "设置"])
    ([], ['回访记录', '节假日'])
    """
    have = set(sheet_names)
    return [s for s in REQUIRED_SHEETS if s not in have]


def is_ours(sheet_names) -> bool:
    """Whether a workbook is an aftercare workbook: it has at least half of the required sheets.

    Every job command refuses one that is not (「不是回访保修工作簿，缺少工作表…」). One of ours that
    lacks a sheet (deleted or renamed by staff) is still worked on: the jobs that need the sheet
    report it, located, and the others run (a bad input affects only what depends on it).

    >>> is_ours(["Sheet1"]), is_ours(["设置", "节假日", "Sheet1"]), is_ours(["项目台账", "保修条款", "报修台账"])
    (False, False, True)
    """
    return 2 * (len(REQUIRED_SHEETS) - len(missing_sheets(sheet_names))) >= len(REQUIRED_SHEETS)
REPORT_SHEET = "统计"
CONF_SHEET = "xlwings.conf"


def plan_table(year: int) -> Table:
    """The plan table for one year: sheet ``回访计划2026``, table ``tblPlan2026``."""
    return Table(
        key="plan",
        sheet=PLAN.sheet.format(year=year),
        name=PLAN.name.format(year=year),
        columns=PLAN.columns,
        anchor="A3",
    )
