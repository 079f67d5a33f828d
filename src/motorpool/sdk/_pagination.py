"""Pages of a collection, and iteration across all of them.

``connections.list()`` on the sync client answers a :class:`SyncPage`: its ``data`` is the
first page, and iterating over it walks every item of every page, fetching the next page when
needed. On the async client ``connections.list()`` answers an :class:`AsyncPager`: ``await`` it
for the first :class:`AsyncPage`, or ``async for`` over it for every item.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import Any, Generic, TypeVar

from ._models import NO_META, ResponseMeta

T = TypeVar("T")


class Page(Generic[T]):
    """One page of a collection: its items and where it sits in the whole."""

    def __init__(
        self,
        data: list[T],
        *,
        page_number: int | None,
        page_size: int | None,
        total_count: int | None,
        next_call: Any = None,
        meta: ResponseMeta = NO_META,
        content: bytes | None = None,
    ) -> None:
        #: The items of this page.
        self.data = data
        self.page_number = page_number
        self.page_size = page_size
        #: How many items the whole collection holds, when the server says.
        self.total_count = total_count
        self.meta = meta
        self._next_call = next_call
        self._content = content

    @property
    def raw(self) -> Any:
        """The decoded JSON body of this page's answer."""
        return json.loads(self._content) if self._content else None

    def has_next_page(self) -> bool:
        """True when another page follows this one."""
        return self._next_call is not None

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(page_number={self.page_number}, items={len(self.data)}, "
            f"total_count={self.total_count})"
        )


class SyncPage(Page[T]):
    """A page of the sync client; iterating over it walks every item of every page."""

    def __init__(self, page: Page[T], fetch: Callable[[Any], Page[T]]) -> None:
        super().__init__(
            page.data,
            page_number=page.page_number,
            page_size=page.page_size,
            total_count=page.total_count,
            next_call=page._next_call,
            meta=page.meta,
            content=page._content,
        )
        self._fetch = fetch

    def next_page(self) -> SyncPage[T]:
        """Fetch the page after this one (check ``has_next_page()`` first)."""
        if self._next_call is None:
            raise RuntimeError("there is no next page: check has_next_page() first")
        return SyncPage(self._fetch(self._next_call), self._fetch)

    def iter_pages(self) -> Iterator[SyncPage[T]]:
        """This page and every page after it."""
        page = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = page.next_page()

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.data


class AsyncPage(Page[T]):
    """A page of the async client; ``async for`` over it walks every item of every page."""

    def __init__(self, page: Page[T], fetch: Callable[[Any], Awaitable[Page[T]]]) -> None:
        super().__init__(
            page.data,
            page_number=page.page_number,
            page_size=page.page_size,
            total_count=page.total_count,
            next_call=page._next_call,
            meta=page.meta,
            content=page._content,
        )
        self._fetch = fetch

    async def next_page(self) -> AsyncPage[T]:
        """Fetch the page after this one (check ``has_next_page()`` first)."""
        if self._next_call is None:
            raise RuntimeError("there is no next page: check has_next_page() first")
        return AsyncPage(await self._fetch(self._next_call), self._fetch)

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        """This page and every page after it."""
        page = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = await page.next_page()

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item


class AsyncPager(Generic[T]):
    """What the async ``list()`` calls answer: awaitable (first page) and async-iterable (all items)."""

    def __init__(self, first_call: Any, fetch: Callable[[Any], Awaitable[Page[T]]]) -> None:
        self._first_call = first_call
        self._fetch = fetch

    async def _first(self) -> AsyncPage[T]:
        return AsyncPage(await self._fetch(self._first_call), self._fetch)

    def __await__(self) -> Generator[Any, None, AsyncPage[T]]:
        return self._first().__await__()

    async def __aiter__(self) -> AsyncIterator[T]:
        page = await self._first()
        async for item in page:
            yield item


__all__ = [
    "AsyncPage",
    "AsyncPager",
    "Page",
    "SyncPage",
]
