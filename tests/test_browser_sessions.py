"""The counter PC in a real browser: a form left open while someone else logs in comes back
with what was typed, and is sent again only as the person now logged in."""

from __future__ import annotations

import pytest

from archive import commands, queries
from archive.errors import NotFound
from tests.test_browser import (  # noqa: F401
    PASSWORD,
    browser,
    log_in,
    server,
    shot,
    start_work_order,
)

pytestmark = pytest.mark.browser


def test_a_form_left_open_while_another_person_logs_in(server, browser) -> None:  # noqa: F811
    base, archive = server
    commands.set_password(archive, "wang", PASSWORD, "admin")
    advisor = log_in(browser, base, "wang")  # 王强 starts a work order...
    start_work_order(advisor, base, "WO-S1")

    # ...and on the same PC, in another tab, he logs out and 赵敏 logs in.
    other_tab = advisor.context.new_page()
    other_tab.goto(f"{base}/")
    other_tab.click("button:has-text('退出')")
    other_tab.fill("input[name=username]", "admin")
    other_tab.fill("input[name=password]", PASSWORD)
    other_tab.click("button:has-text('登录')")
    other_tab.wait_for_url(f"{base}/")

    advisor.click("button:has-text('存档')")  # the old tab's form, with 王强's token
    advisor.wait_for_selector("h1:has-text('表单已过期')")
    text = advisor.inner_text("main")
    assert "赵敏（admin）" in text and "张<b>三</b>" in text and "制动异响" in text
    assert "VIN（车架号）" in text
    shot(advisor, "expired-form")
    with pytest.raises(NotFound):
        queries.show(archive, "work_order", "WO-S1")  # nothing was done

    advisor.click("button:has-text('以 赵敏 的身份重新提交')")
    advisor.wait_for_url(f"{base}/d/work_order/WO-S1**")
    history = queries.history(archive, "work_order", "WO-S1")
    assert history[0]["actor"] == "admin"  # filed as the person logged in now
    assert "张<b>三</b>" in advisor.inner_text("main")
