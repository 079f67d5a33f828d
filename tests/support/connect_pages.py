"""An owner going through Connect's pages without a browser: each page's one Connect form is read
with ``html.parser`` and posted back with its hidden fields, as a browser would submit it.

Shared by the platform's Connect tests, the SDK's tutorial flow, the in-process demo tests and
the end-to-end test over real sockets."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

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
    """``preamble``, ``brand``, ``login``, ``permissions`` or ``confirm``: the last part of the
    form's action."""
    return str(connect_form(page)["action"]).rsplit("/", 1)[-1]


def hidden(page: httpx.Response) -> dict[str, str]:
    """The hidden fields of the page's Connect form."""
    fields = connect_form(page)["fields"]
    return {f["name"]: f.get("value") or "" for f in fields if f.get("type") == "hidden"}


def inputs(page: httpx.Response, name: str) -> list[dict[str, Any]]:
    """The form's ``<input>``s named ``name``."""
    return [
        f for f in connect_form(page)["fields"] if f["tag"] == "input" and f.get("name") == name
    ]


def checked(page: httpx.Response, name: str) -> list[str]:
    """The values a browser would submit for the checkboxes ``name``: checked, not disabled."""
    return [f["value"] for f in inputs(page, name) if "checked" in f and "disabled" not in f]


def first_brand(page: httpx.Response) -> str:
    """The first brand a brand page offers."""
    return str(next(f["value"] for f in connect_form(page)["fields"] if f.get("name") == "make"))


def query_of(response: httpx.Response) -> dict[str, str]:
    """The query of the redirect ``response`` is."""
    assert response.status_code == 302, response.text  # Connect redirects as Smartcar does
    return dict(parse_qsl(urlsplit(response.headers["location"]).query, keep_blank_values=True))


def target_of(response: httpx.Response) -> str:
    """Where a redirect leads, without its query."""
    parts = urlsplit(response.headers["location"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


async def submit(
    browser: httpx.AsyncClient, page: httpx.Response, fields: dict[str, Any]
) -> httpx.Response:
    """Post the page's form with its hidden fields and ``fields``."""
    return await browser.post(
        urljoin(str(page.url), connect_form(page)["action"]), data=hidden(page) | fields
    )


async def go_through_connect(
    browser: httpx.AsyncClient,
    page: httpx.Response,
    *,
    email: str = "owner@example.com",
    password: str = "any password",
    vehicles: list[str] | None = None,
    permissions: list[str] | None = None,
    action: str = "approve",
    brand: str | None = None,
) -> httpx.Response:
    """From Connect's first page, pick ``brand`` (the first one listed when not given), sign in,
    share ``vehicles`` and grant ``permissions`` (those ticked when not given), and ``approve``
    or ``deny``; answer the response the last form led to (the redirect itself when ``browser``
    does not follow redirects)."""
    assert page.status_code == 200, page.text
    if step_of(page) == "preamble":
        page = await submit(browser, page, {"action": "continue"})
    if step_of(page) == "brand":
        page = await submit(browser, page, {"make": brand or first_brand(page)})
    assert step_of(page) == "login", page.text
    page = await submit(browser, page, {"email": email, "password": password, "action": "continue"})
    if page.status_code != 200 or not _is_connect(page):
        return page
    assert step_of(page) == "permissions", page.text
    if not offers_approval(page):
        # Nothing compatible to share: the page offers only the way back to the application.
        return await submit(browser, page, {"action": "incompatible"})
    fields: dict[str, Any] = {"action": action}
    if inputs(page, "vehicle"):  # several vehicles: the owner chooses
        fields["vehicle"] = checked(page, "vehicle") if vehicles is None else vehicles
    fields["permission"] = checked(page, "permission") if permissions is None else permissions
    return await submit(browser, page, fields)


def offers_approval(page: httpx.Response) -> bool:
    """Whether the approval page has its Allow button (not when nothing offered is compatible)."""
    return any(f.get("id") == "approval-button" for f in connect_form(page)["fields"])


def _is_connect(page: httpx.Response) -> bool:
    return page.url.path.startswith("/oauth/")
