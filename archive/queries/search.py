"""Search as people see it: the query language's flags with their Chinese labels.

The search itself is the search projection (``ReadModels.search``); its query language is
parsed by ``projections.search.query``, whose errors are bad input like any other.
"""

from __future__ import annotations

from projections.search.query import FLAGS

FLAG_LABELS = {
    "amended": "已修改",
    "amended_after_signature": "签后修改",
    "voided": "已作废",
    "late": "迟交",
    "submitted": "已上报",
}
assert set(FLAG_LABELS) == FLAGS, "every search flag needs its label"
