"""Query counts of pages: the same number at two data sizes is the proof a page does not do N+1 reads."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.test.utils import CaptureQueriesContext


def counts(get: Callable[[str], object], urls: tuple[str, ...]) -> dict[str, int]:
    """Queries of one GET of each url (after one unmeasured GET: what a client reads on its first
    request only, such as its role, is not the page's)."""
    out = {}
    for url in urls:
        get(url)
        with CaptureQueriesContext(connection) as queries:
            response = get(url)
        assert getattr(response, "status_code", None) == 200, url
        out[url] = len(queries)
    return out
