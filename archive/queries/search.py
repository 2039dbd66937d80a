"""Search as people see it: the query language's flags with their Chinese labels, and the
answer to a search, which says when the index may not hold everything yet.

The search itself is the search projection (``ReadModels.search``); its query language is
parsed by ``projections.search.query``, whose errors are bad input like any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from projections.search.query import FLAGS, MAX_OFFSET

if TYPE_CHECKING:
    from archive.bootstrap import ReadModels

FLAG_LABELS = {
    "amended": "已修改",
    "amended_after_signature": "签后修改",
    "voided": "已作废",
    "late": "迟交",
    "submitted": "已上报",
    "late_submission": "上报逾期",  # submitted after its deadline, or past it and not submitted
    "submission_due": "待上报",
    "unlinked": "未关联",  # filed without the paper it refers to, with a reason
    "mileage_mismatch": "里程不符",  # the mileage differs from its work order's
    "further_claim": "再次索赔",  # a further claim on the same work order, with its reason
    "on_behalf": "代签",  # signed on behalf of the person the form names
    "submission_withdrawn": "撤回上报",  # submitted, then sent back to be corrected
}
assert set(FLAG_LABELS) == FLAGS, "every search flag needs its label"

__all__ = ["FLAG_LABELS", "INCOMPLETE_ZH", "MAX_OFFSET", "index_behind", "search_answer"]

INCOMPLETE_ZH = "检索索引正在重建或更新，最近的改动可能还没有收录，结果可能不完整；请稍后再查。"
INCOMPLETE_EN = "the search index is being rebuilt or updated; results may be incomplete"


def index_behind(models: ReadModels) -> bool:
    """Whether the index lacks events of the log. While ``archive rebuild search`` runs in
    another process it holds the index's writer, so the live index stays at the position it
    had while documents keep being filed; so it is, briefly, after any write."""
    return models.search.position() < models.runner.reader.head()


def search_answer(models: ReadModels, text: str, page: int, page_size: int) -> dict[str, Any]:
    """The search as the API answers it, with ``incomplete`` (and why) when the index lags."""
    behind = index_behind(models)  # before searching: an index that had caught up has it all
    answer = models.search.search(text, page=page, page_size=page_size).as_dict()
    answer["incomplete"] = behind
    if behind:
        answer.update(notice_zh=INCOMPLETE_ZH, notice_en=INCOMPLETE_EN)
    return answer
