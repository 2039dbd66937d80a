"""The registry: every document kind of DOMAIN.md, declared as data.

CLI, API, web forms, the search index and the PDF all read these declarations; adding a kind
means adding one ``Kind(...)`` here and touches no command code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archive.errors import NotFound
from archive.kinds.deadlines import Deadline, FiledBefore, FollowUpWithin, SubmitWithin
from archive.kinds.fieldtypes import (
    Boolean,
    Choice,
    Column,
    Date,
    DateTime,
    DecimalNumber,
    FieldType,
    Integer,
    Lines,
    Mileage,
    Money,
    Phone,
    Plate,
    StaffList,
    StaffRef,
    Text,
    Vin,
)
from archive.kinds.links import Link


@dataclass(frozen=True)
class Field:
    code: str
    label: str
    label_en: str
    type: FieldType
    required: bool = False
    hint: str = ""

    def describe(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "label_en": self.label_en,
            "required": self.required,
            "hint": self.hint,
            **self.type.describe(),
        }


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    label_en: str
    number_label: str
    fields: tuple[Field, ...]
    signers: tuple[str, ...]
    # A paper original must be scanned before the month can close (month volumes read this).
    scan_required: bool = False
    submittable: bool = False
    # Roles that may file, amend, scan and void this kind (see archive/permissions.py).
    filers: tuple[str, ...] = ("clerk",)
    # Warranty paperwork: a clerk must also be registered (备案) with the service centre.
    registered_clerk_only: bool = False
    deadlines: tuple[Deadline, ...] = ()
    # The papers this kind refers to (kinds/links.py), checked when filed or amended.
    links: tuple[Link, ...] = ()
    # Date or time fields that cannot fall before the paper's business date (a form is not
    # closed before it was opened); checked when filed and when amended (kinds/validation.py).
    not_before_business_date: tuple[str, ...] = ()
    print_template: str = "print/document.html"
    field_map: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "field_map", {f.code: f for f in self.fields})

    def field(self, code: str) -> Field | None:
        return self.field_map.get(code)

    def signer_fields(self, role: str) -> tuple[str, ...]:
        """Fields naming who owes ``role``'s signature (e.g. the technicians of an order)."""
        return tuple(
            f.code
            for f in self.fields
            if isinstance(f.type, (StaffRef, StaffList)) and f.type.role == role
        )

    def link(self, field_code: str) -> Link | None:
        return next((lk for lk in self.links if lk.field == field_code), None)

    def link_from(self, source_kind: str) -> Link | None:
        """The link a new document of this kind takes when created from ``source_kind``."""
        return next(
            (lk for lk in self.links if lk.column is None and source_kind in lk.target_kinds),
            None,
        )

    def describe(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label,
            "label_en": self.label_en,
            "number_label": self.number_label,
            "signers": list(self.signers),
            "scan_required": self.scan_required,
            "submittable": self.submittable,
            "filers": list(self.filers),
            "registered_clerk_only": self.registered_clerk_only,
            "links": [lk.describe() for lk in self.links],
            "fields": [f.describe() for f in self.fields],
        }


# -- shared field declarations (one code everywhere: API, CLI, import, index) ---------------


def _business_date(label: str = "业务日期") -> Field:
    return Field("business_date", label, "business date", Date(), required=True)


VIN = Field("vin", "VIN（车架号）", "VIN", Vin(), required=True, hint="17 位，不含 I、O、Q")
VIN_OPTIONAL = Field("vin", "VIN（车架号）", "VIN", Vin(), hint="17 位，不含 I、O、Q")
PLATE = Field("plate", "车牌号", "plate", Plate(), hint="如 京A12345")
MODEL = Field("model", "车型", "model", Text(max_length=80))
MILEAGE = Field("mileage_km", "行驶里程（km）", "mileage (km)", Mileage(), required=True)
CUSTOMER = Field("customer_name", "客户姓名", "customer name", Text(max_length=60))
CUSTOMER_REQUIRED = Field(
    "customer_name", "客户姓名", "customer name", Text(max_length=60), required=True
)
PHONE = Field("customer_phone", "客户手机", "customer phone", Phone())
PHONE_REQUIRED = Field("customer_phone", "客户手机", "customer phone", Phone(), required=True)
ADVISOR = Field(
    "service_advisor",
    "服务顾问",
    "service advisor",
    StaffRef(role="service_advisor"),
    required=True,
)
TECHNICIANS = Field("technicians", "维修技师", "technicians", StaffList(role="technician"))
FAULT = Field("fault_description", "车辆故障描述", "fault description", Text(multiline=True))
WORK_DONE = Field("work_done", "维修内容", "work done", Text(multiline=True))
WORK_ORDER_NO = Field(
    "work_order_no", "维修委托书号", "work order no", Text(max_length=40), required=True
)
SERVICE_FEE = Field("service_fee", "服务费用（元）", "service fee (yuan)", Money(), required=True)
CUSTOMER_WORDS = Field("customer_words", "用户原话", "customer's words", Text(multiline=True))

LABOUR_LINES = Field(
    "labour_lines",
    "工时项目",
    "labour lines",
    Lines(
        columns=(
            Column("description", "项目", "description", Text(max_length=200), required=True),
            Column("hours", "工时", "hours", DecimalNumber(places=1, maximum=1000)),
            Column("amount", "金额（元）", "amount", Money(), required=True),
        )
    ),
)
PARTS_LINES = Field(
    "parts_lines",
    "配件",
    "parts lines",
    Lines(
        columns=(
            Column("part_no", "配件号", "part no", Text(max_length=40), required=True),
            Column("name", "名称", "name", Text(max_length=100), required=True),
            Column("qty", "数量", "quantity", DecimalNumber(places=2, maximum=10000), True),
            Column("amount", "金额（元）", "amount", Money(), required=True),
        )
    ),
)

REPAIR_TYPES = (
    ("maintenance", "保养"),
    ("repair", "一般维修"),
    ("warranty", "三包"),
    ("accident", "事故车"),
    ("first_service", "首保"),
    ("return_repair", "返修"),
)

SCORE = Integer(minimum=1, maximum=5)
CHURN_REASONS = (
    ("price", "价格"),
    ("distance", "距离远"),
    ("service", "服务不满意"),
    ("other_store", "转到其他店"),
    ("car_sold", "车已卖"),
    ("other", "其他"),
)

# What a paper created from a work order takes from it ("从此委托书新建").
FROM_ORDER = ("vin", "plate", "model", "mileage_km", "customer_name", "customer_phone")


KINDS: dict[str, Kind] = {
    k.code: k
    for k in (
        Kind(
            code="work_order",
            label="维修委托书",
            label_en="work order",
            number_label="委托书号",
            fields=(
                _business_date("开单日期"),
                VIN,
                PLATE,
                Field("model", "车型", "model", Text(max_length=80), required=True),
                MILEAGE,
                CUSTOMER_REQUIRED,
                PHONE_REQUIRED,
                ADVISOR,
                TECHNICIANS,
                Field("repair_type", "维修类别", "repair type", Choice(options=REPAIR_TYPES)),
                FAULT,
                WORK_DONE,
                LABOUR_LINES,
                PARTS_LINES,
                Field("settled_at", "结帐时间", "settled at", DateTime()),
            ),
            signers=("service_advisor", "technician", "customer"),
            filers=("clerk", "service_advisor"),
            deadlines=(
                FollowUpWithin(
                    setting="callback_days",
                    days=3,
                    follow_up_kind="callback",
                    link_field="work_order_no",
                    label="回访",
                ),
            ),
        ),
        Kind(
            code="warranty_claim",
            label="三包索赔单",
            label_en="warranty claim",
            number_label="索赔单号",
            fields=(
                _business_date("维修日期"),
                WORK_ORDER_NO,
                VIN,
                PLATE,
                MODEL,
                MILEAGE,
                CUSTOMER,
                PHONE,
                TECHNICIANS,
                Field(
                    "fault_description",
                    "车辆故障描述",
                    "fault description",
                    Text(multiline=True),
                    required=True,
                ),
                Field(
                    "handling_process",
                    "处理故障过程描述",
                    "handling process",
                    Text(multiline=True),
                    required=True,
                ),
                Field(
                    "parts",
                    "更换配件",
                    "parts replaced",
                    Lines(
                        columns=(
                            Column("part_no", "配件号", "part no", Text(max_length=40), True),
                            Column("name", "名称", "name", Text(max_length=100)),
                            Column(
                                "qty", "数量", "quantity", Integer(minimum=1, maximum=999), True
                            ),
                            Column(
                                "damaged_part_returned",
                                "旧件已返回",
                                "damaged part returned",
                                Boolean(),
                            ),
                        )
                    ),
                ),
                Field(
                    "labour_hours",
                    "工时",
                    "labour hours",
                    DecimalNumber(places=1, maximum=1000),
                ),
                SERVICE_FEE,
                Field(
                    "offsite_mileage_claimed",
                    "外出里程（申报 km）",
                    "off-site mileage claimed",
                    Mileage(),
                ),
                Field(
                    "offsite_mileage_verified",
                    "外出里程（核实 km）",
                    "off-site mileage verified",
                    Mileage(),
                ),
                Field("report_deadline", "上报截止日期", "report deadline", Date()),
            ),
            signers=("technician", "claims_clerk", "service_manager", "customer"),
            scan_required=True,
            submittable=True,
            filers=("clerk",),
            registered_clerk_only=True,
            deadlines=(SubmitWithin(setting="warranty_claim_days", days=7, label="上报服务中心"),),
            links=(
                Link(
                    "work_order_no",
                    ("work_order",),
                    mileage="equal",
                    one_per_target=True,
                    copies=("business_date", *FROM_ORDER, "technicians", "fault_description"),
                ),
            ),
        ),
        Kind(
            code="pdi_sheet",
            label="PDI检查单",
            label_en="PDI sheet",
            number_label="PDI单号",
            fields=(
                _business_date("检查日期"),
                VIN,
                Field("model", "车型", "model", Text(max_length=80), required=True),
                Field(
                    "inspector",
                    "检查人",
                    "inspector",
                    StaffRef(role="technician"),
                    required=True,
                ),
                Field(
                    "sales_consultant",
                    "销售顾问",
                    "sales consultant",
                    StaffRef(role="sales_consultant"),
                ),
                Field("delivery_date", "预计交车日期", "delivery date", Date()),
                Field(
                    "checklist",
                    "检查项目",
                    "checklist",
                    Lines(
                        columns=(
                            Column("item", "项目", "item", Text(max_length=100), required=True),
                            Column("ok", "合格", "ok", Boolean(), required=True),
                            Column("note", "备注", "note", Text(max_length=200)),
                        )
                    ),
                    required=True,
                ),
            ),
            signers=("technician", "sales_consultant"),
            scan_required=True,
            filers=("clerk", "sales_consultant", "technician"),
            deadlines=(FiledBefore(field="delivery_date", label="交车前存档"),),
        ),
        Kind(
            code="warranty_registration",
            label="保修登记表",
            label_en="warranty registration",
            number_label="登记号",
            fields=(
                _business_date("登记日期"),
                VIN,
                MODEL,
                CUSTOMER_REQUIRED,
                PHONE_REQUIRED,
                Field("purchase_date", "购车日期", "purchase date", Date(), required=True),
                Field("delivery_date", "交车日期", "delivery date", Date(), required=True),
                Field("mileage_km", "交车里程（km）", "odometer at delivery", Mileage()),
                Field(
                    "sales_consultant",
                    "销售顾问",
                    "sales consultant",
                    StaffRef(role="sales_consultant"),
                    required=True,
                ),
            ),
            signers=("sales_consultant", "customer"),
            scan_required=True,
            filers=("clerk", "sales_consultant"),
            deadlines=(
                # The callback 7 days after delivery names this registration (registration_no).
                FollowUpWithin(
                    setting="delivery_callback_days",
                    days=7,
                    follow_up_kind="callback",
                    link_field="registration_no",
                    label="交车回访",
                    from_field="delivery_date",
                ),
            ),
        ),
        Kind(
            code="first_service_voucher",
            label="首保凭证",
            label_en="first-service voucher",
            number_label="凭证号",
            fields=(
                _business_date("首保日期"),
                VIN,
                PLATE,
                MILEAGE,
                CUSTOMER,
                WORK_ORDER_NO,
                Field(
                    "service_advisor",
                    "服务顾问",
                    "service advisor",
                    StaffRef(role="service_advisor"),
                ),
            ),
            signers=("service_advisor",),
            scan_required=True,
            filers=("clerk", "service_advisor"),
            links=(
                Link(
                    "work_order_no",
                    ("work_order",),
                    mileage="equal",
                    copies=(
                        "business_date",
                        "vin",
                        "plate",
                        "mileage_km",
                        "customer_name",
                        "service_advisor",
                    ),
                ),
            ),
        ),
        Kind(
            code="diagnostic_sheet",
            label="问诊表",
            label_en="diagnostic sheet",
            number_label="问诊表号",
            fields=(
                _business_date("问诊日期"),
                WORK_ORDER_NO,
                VIN_OPTIONAL,
                Field(
                    "customer_words",
                    "客户描述（原话）",
                    "customer's description",
                    Text(multiline=True),
                    required=True,
                ),
                Field("occurs_when", "出现时机", "when it occurs", Text(max_length=200)),
                Field(
                    "frequency",
                    "出现频率",
                    "frequency",
                    Choice(
                        options=(
                            ("always", "一直"),
                            ("often", "经常"),
                            ("sometimes", "偶尔"),
                            ("once", "仅一次"),
                        )
                    ),
                ),
                Field(
                    "advisor_findings",
                    "服务顾问初步判断",
                    "advisor's findings",
                    Text(multiline=True),
                    required=True,
                ),
                ADVISOR,
            ),
            signers=("service_advisor",),
            filers=("clerk", "service_advisor"),
            links=(
                Link(
                    "work_order_no",
                    ("work_order",),
                    copies=("business_date", "vin", "service_advisor"),
                ),
            ),
        ),
        Kind(
            code="offsite_service",
            label="外出服务单",
            label_en="off-site service order",
            number_label="服务令号",
            fields=(
                _business_date("服务日期"),
                VIN_OPTIONAL,
                PLATE,
                CUSTOMER,
                PHONE,
                Field("place", "服务地点", "place", Text(max_length=200), required=True),
                Field(
                    "technicians",
                    "外出技师",
                    "technicians",
                    StaffList(role="technician"),
                    required=True,
                ),
                Field(
                    "handheld_terminal_id",
                    "手持机编号",
                    "handheld terminal id",
                    Text(max_length=40),
                    required=True,
                ),
                FAULT,
            ),
            signers=("clerk", "technician"),
        ),
        Kind(
            code="callback",
            label="回访记录",
            label_en="callback",
            number_label="回访编号",
            fields=(
                _business_date("回访日期"),
                Field(
                    "work_order_no",
                    "维修委托书号",
                    "work order no",
                    Text(max_length=40),
                    hint="维修后回访填写；交车回访填保修登记号",
                ),
                Field(
                    "registration_no",
                    "保修登记号",
                    "warranty registration no",
                    Text(max_length=40),
                    hint="交车 7 天回访填写",
                ),
                CUSTOMER,
                Field("customer_phone", "回访号码", "number called", Phone(), required=True),
                Field("called_at", "回访时间", "called at", DateTime(), required=True),
                Field(
                    "outcome",
                    "回访结果",
                    "outcome",
                    Choice(
                        options=(
                            ("reached", "已接通"),
                            ("no_answer", "无人接听"),
                            ("wrong_number", "号码错误"),
                            ("refused", "拒绝回访"),
                        )
                    ),
                    required=True,
                ),
                Field("score_reception", "接待速度", "reception speed", SCORE),
                Field("score_completion", "完工速度", "completion speed", SCORE),
                Field("score_settlement", "结算速度", "settlement speed", SCORE),
                Field("score_price", "配件工时价格", "parts and labour prices", SCORE),
                Field(
                    "advisor_explained",
                    "服务顾问事先报价并逐项解释",
                    "advisor quoted and explained",
                    Boolean(),
                ),
                Field("score_repair", "维修质量", "repair quality", SCORE),
                Field("score_paint", "钣喷质量", "paint quality", SCORE),
                Field("score_cleaning", "车辆清洁", "cleaning", SCORE),
                Field("score_overall", "总体满意度", "overall satisfaction", SCORE),
                CUSTOMER_WORDS,
                Field("problem", "客户有问题", "customer has a problem", Boolean()),
                Field(
                    "quick_handling_no",
                    "快速处理表号",
                    "quick-handling form no",
                    Text(max_length=40),
                ),
                # Asked of a lapsed customer (客户流失率): why he no longer comes.
                Field(
                    "churn_reason",
                    "流失原因",
                    "churn reason",
                    Choice(options=CHURN_REASONS),
                    hint="回访流失客户时填写",
                ),
            ),
            signers=("clerk",),
            links=(
                Link(
                    "work_order_no",
                    ("work_order",),
                    unless="registration_no",
                    copies=("customer_name", "customer_phone"),
                ),
                Link(
                    "registration_no",
                    ("warranty_registration",),
                    required=False,
                    copies=("customer_name", "customer_phone"),
                ),
            ),
        ),
        Kind(
            code="quick_handling",
            label="快速处理表",
            label_en="quick-handling form",
            number_label="处理单号",
            fields=(
                _business_date("受理日期"),
                Field(
                    "source",
                    "来源",
                    "source",
                    Choice(options=(("callback", "回访"), ("complaint", "投诉"))),
                    required=True,
                ),
                Field("source_no", "来源单号", "source number", Text(max_length=40)),
                Field("work_order_no", "维修委托书号", "work order no", Text(max_length=40)),
                CUSTOMER,
                PHONE,
                Field(
                    "department_at_fault",
                    "责任部门",
                    "department at fault",
                    Choice(
                        options=(
                            ("service", "服务前台"),
                            ("workshop", "车间"),
                            ("parts", "配件"),
                            ("sales", "销售"),
                            ("other", "其他"),
                        )
                    ),
                ),
                Field(
                    "description",
                    "问题描述",
                    "description",
                    Text(multiline=True),
                    required=True,
                ),
                Field("action", "处理措施", "action", Text(multiline=True), required=True),
                Field("result", "处理结果", "result", Text(multiline=True)),
                Field("customer_reaction", "客户反应", "customer's reaction", Text()),
                Field("return_repair", "返修", "return repair", Boolean()),
                Field("closed_at", "关闭时间", "closed at", DateTime()),
            ),
            signers=("service_manager",),
            filers=("clerk", "service_manager"),
            not_before_business_date=("closed_at",),
            links=(
                # A complaint is not a kind yet: its number is kept as text, unchecked. A form
                # from a callback handles that callback's order, not another one.
                Link(
                    "source_no",
                    ("callback",),
                    kind_field="source",
                    copies=("work_order_no", "customer_name", "customer_phone"),
                    agrees=("work_order_no",),
                ),
                Link(
                    "work_order_no",
                    ("work_order",),
                    required=False,
                    copies=("customer_name", "customer_phone"),
                ),
            ),
        ),
        Kind(
            code="daily_report",
            label="日报",
            label_en="daily report",
            number_label="日报编号",
            fields=(
                _business_date("日期"),
                Field(
                    "lines",
                    "当日委托书",
                    "work orders of the day",
                    Lines(
                        columns=(
                            Column("work_order_no", "委托书号", "work order no", Text(), True),
                            Column("plate", "车牌号", "plate", Plate()),
                            Column(
                                "repair_type", "类别", "repair type", Choice(options=REPAIR_TYPES)
                            ),
                            Column("amount", "金额（元）", "amount", Money()),
                        ),
                        max_lines=500,
                    ),
                ),
                Field("work_order_count", "委托书数", "work orders", Integer(maximum=10000)),
                Field("revenue", "产值（元）", "revenue (yuan)", Money()),
                Field("notes", "备注", "notes", Text(multiline=True)),
            ),
            signers=("clerk", "service_manager"),
            # Each line names a work order of the day (archive/commands/daily_report.py).
            links=(Link("lines", ("work_order",), same_vin=False, column="work_order_no"),),
        ),
    )
}


class UnknownKind(NotFound):
    """A kind code the registry does not have: not found on a page or in the API, bad input
    (exit 2) on the command line, where it was typed."""

    exit_code = 2

    def __init__(self, code: str) -> None:
        super().__init__(
            "unknown_kind",
            f"没有“{code}”这种单据，可选：{'、'.join(KINDS)}",
            f"unknown document kind {code!r}; choose one of {', '.join(KINDS)}",
        )
        self.kind = code


def get_kind(code: str) -> Kind:
    try:
        return KINDS[code]
    except KeyError:
        raise UnknownKind(code) from None
