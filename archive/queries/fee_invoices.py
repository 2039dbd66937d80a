"""Service-fee invoices as the command line, the API and the dashboard show them."""

from __future__ import annotations

from datetime import date
from typing import Any

from events.fees import ServiceFeeMonth
from projections.fees import ServiceFees, to_yuan


def _entry(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in entry.items()}


def invoice_dict(fees: ServiceFeeMonth) -> dict[str, Any]:
    """One month's invoice record: the request and the receipt as they stand (each correction
    replaces the one before; ``requests``/``receipts`` count them all)."""
    request, receipt = _entry(fees.request), _entry(fees.receipt)
    return {
        "month": fees.month,
        "request": request,
        "receipt": receipt,
        "requests": len(fees.requests),
        "receipts": len(fees.receipts),
        # Flagged, not refused: the centre may have cut a claim, or one came in late.
        "requested_differs": bool(request and request["amount"] != request["computed"]),
        "received_differs": bool(request and receipt and receipt["amount"] != request["amount"]),
    }


def months_without_invoice(fees: ServiceFees, today: date) -> list[dict[str, Any]]:
    """Months over, with submitted claims, whose invoice has not come in (oldest first): the
    service manager's dashboard shows them until it does."""
    current = f"{today:%Y-%m}"
    owed = fees.month_fees("0000-00-00", f"{current}-01")
    invoices = fees.invoices("0000-00", current)
    result = []
    for month in sorted(owed):
        row = invoices.get(month)
        if row is not None and row["received_on"] is not None:
            continue
        requested = row is not None and row["requested_on"] is not None
        result.append(
            {
                "month": month,
                "claims": owed[month].claims,
                "fee": f"{owed[month].fee:.2f}",
                "requested_on": row["requested_on"] if requested else None,
                "requested": f"{to_yuan(row['requested_fen'])}" if requested else None,
                "state": "已申请，待收票" if requested else "未申请开票",
            }
        )
    return result
