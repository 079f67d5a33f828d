"""Connect's own error is shown even on an answer the demo refuses for its state: a link without
a scope, opened outside the demo, says what Connect said rather than only "state is missing"."""

from __future__ import annotations

from .conftest import Demo


async def test_connects_error_is_shown_on_a_refused_answer(demo: Demo) -> None:
    browser = await demo.browser()
    answer = await browser.get(
        "/exchange",
        params={"error": "invalid_request", "error_description": "The scope parameter is <missing>."},
    )
    assert answer.status_code == 400
    assert "This sign-in was refused" in answer.text
    assert "invalid_request" in answer.text
    assert "The scope parameter is &lt;missing&gt;." in answer.text  # escaped, as it came


async def test_a_refused_answer_without_an_error_shows_none(demo: Demo) -> None:
    browser = await demo.browser()
    answer = await browser.get("/exchange", params={"state": "x", "user_id": "u"})
    assert answer.status_code == 400 and "Connect&#39;s error" not in answer.text
    assert "Connect's error" not in answer.text
