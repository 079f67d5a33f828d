"""An owner going through Connect's pages without a browser: each page's one form is read with
``html.parser`` and posted back with its hidden fields, as a browser would submit it.

Shared by the in-process demo tests and the end-to-end test over real sockets."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import httpx


class FormReader(HTMLParser):
    """Every form of a page with its inputs and buttons (attributes as a dict)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._open: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self._open = {"action": attributes.get("action"), "fields": []}
            self.forms.append(self._open)
        elif tag in ("input", "button") and self._open is not None:
            self._open["fields"].append({"tag": tag, **attributes})

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def connect_form(page: httpx.Response) -> dict[str, Any]:
    """The Connect form of a page (the only form whose action is under ``/oauth/``)."""
    reader = FormReader()
    reader.feed(page.text)
    forms = [form for form in reader.forms if str(form["action"] or "").startswith("/oauth/")]
    assert len(forms) == 1, f"expected one Connect form on {page.url}:\n{page.text}"
    return forms[0]


def step_of(page: httpx.Response) -> str:
    """``brand``, ``login``, ``vehicles`` or ``permissions``: the last part of the form's action."""
    return str(connect_form(page)["action"]).rsplit("/", 1)[-1]


def _hidden(form: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f.get("value") or "" for f in form["fields"] if f.get("type") == "hidden"}


def _checked(form: dict[str, Any], name: str) -> list[str]:
    return [
        f["value"]
        for f in form["fields"]
        if f["tag"] == "input" and f.get("name") == name and "checked" in f and "disabled" not in f
    ]


async def submit(browser: httpx.AsyncClient, page: httpx.Response, fields: dict[str, Any]) -> httpx.Response:
    """Post the page's form with its hidden fields and ``fields``."""
    form = connect_form(page)
    return await browser.post(urljoin(str(page.url), form["action"]), data=_hidden(form) | fields)


async def go_through_connect(
    browser: httpx.AsyncClient,
    page: httpx.Response,
    *,
    email: str = "owner@example.com",
    password: str = "any password",
    action: str = "approve",
) -> httpx.Response:
    """From Connect's first page, sign in, keep the vehicles and permissions offered, and
    ``approve`` or ``deny``; answer the response the last form led to (redirects followed)."""
    assert page.status_code == 200, page.text
    if step_of(page) == "brand":
        first_brand = next(f["value"] for f in connect_form(page)["fields"] if f.get("name") == "make")
        page = await submit(browser, page, {"make": first_brand})
    assert step_of(page) == "login", page.text
    page = await submit(browser, page, {"email": email, "password": password, "action": "continue"})
    if page.status_code != 200 or not _is_connect(page):
        return page
    assert step_of(page) == "vehicles", page.text
    vehicles = _checked(connect_form(page), "vehicle")
    if not vehicles:
        # Nothing compatible to share: the page offers only the way back to the application.
        return await submit(browser, page, {"action": "incompatible"})
    page = await submit(browser, page, {"vehicle": vehicles, "action": "continue"})
    if page.status_code != 200 or not _is_connect(page):
        return page
    assert step_of(page) == "permissions", page.text
    permissions = _checked(connect_form(page), "permission")
    return await submit(browser, page, {"permission": permissions, "action": action})


def _is_connect(page: httpx.Response) -> bool:
    return page.url.path.startswith("/oauth/")
