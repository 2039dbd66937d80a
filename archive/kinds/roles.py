"""The roles people hold at the information desk (DOMAIN.md), with their Chinese names."""

from __future__ import annotations

ROLE_LABELS: dict[str, str] = {
    "clerk": "信息员",
    "service_advisor": "服务顾问",
    "technician": "维修技师",
    "workshop_lead": "维修组长",
    "claims_clerk": "索赔员",
    "service_manager": "服务经理",
    "sales_consultant": "销售顾问",
    "auditor": "审计",
    "admin": "管理员",
    # Not a staff role: the customer signs on paper or on the signature pad.
    "customer": "客户",
}

STAFF_ROLES: tuple[str, ...] = tuple(r for r in ROLE_LABELS if r != "customer")
