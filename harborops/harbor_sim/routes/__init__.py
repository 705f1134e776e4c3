"""Routing: path templates (the spec's own, e.g. `/projects/{project_name_or_id}`) to handlers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from harborops.harbor_sim.http import JSON_TYPE, TEXT_TYPE, HarborError, Query, SimRequest, SimResponse
from harborops.harbor_sim.query import Page, link_header, page_params

if TYPE_CHECKING:
    from harborops.harbor_sim.auth import Principal
    from harborops.harbor_sim.instance import HarborInstance

Handler = Callable[["Ctx"], SimResponse]


@dataclass(slots=True)
class Route:
    method: str
    template: str
    parts: tuple[str, ...]
    handler: Handler
    feature: str | None = None  # a capabilities.FEATURES name that must be present


class RouteSet:
    """What a routes module exports: `routes = RouteSet()` and `@routes.get("/path")`."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, feature: str | None = None) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            parts = tuple(p for p in template.strip("/").split("/"))
            self.routes.append(Route(method, template, parts, fn, feature))
            return fn

        return deco

    def get(self, template: str, feature: str | None = None) -> Callable[[Handler], Handler]:
        return self.add("GET", template, feature)

    def post(self, template: str, feature: str | None = None) -> Callable[[Handler], Handler]:
        return self.add("POST", template, feature)

    def put(self, template: str, feature: str | None = None) -> Callable[[Handler], Handler]:
        return self.add("PUT", template, feature)

    def delete(self, template: str, feature: str | None = None) -> Callable[[Handler], Handler]:
        return self.add("DELETE", template, feature)

    def patch(self, template: str, feature: str | None = None) -> Callable[[Handler], Handler]:
        return self.add("PATCH", template, feature)

    def head(self, template: str, feature: str | None = None) -> Callable[[Handler], Handler]:
        return self.add("HEAD", template, feature)


class Router:
    def __init__(self, sets: list[RouteSet]) -> None:
        self.routes = [r for s in sets for r in s.routes]
        # index by segment count for a cheap first cut
        self._by_len: dict[int, list[Route]] = {}
        for r in self.routes:
            self._by_len.setdefault(len(r.parts), []).append(r)
        for lst in self._by_len.values():  # literal segments beat parameters (…/search before …/{id})
            lst.sort(key=lambda r: tuple(p.startswith("{") for p in r.parts))

    def match(self, segments: list[str]) -> list[tuple[Route, dict[str, str]]]:
        """Every route (any method) whose template matches, most specific first."""
        out = []
        for r in self._by_len.get(len(segments), ()):
            params: dict[str, str] = {}
            for pat, seg in zip(r.parts, segments, strict=True):
                if pat.startswith("{"):
                    if seg == "":
                        break
                    params[pat[1:-1]] = seg
                elif pat != seg:
                    break
            else:
                out.append((r, params))
        return out


@dataclass(slots=True)
class Ctx:
    inst: HarborInstance
    req: SimRequest
    params: dict[str, str]
    query: Query
    who: Principal
    path: str  # full request path (incl. any /h/<n> prefix), for Location and Link
    api_root: str  # e.g. "/h/3/api/v2.0"
    _json: Any = field(default=None)

    @property
    def now(self) -> datetime:
        return self.inst.clock.now()

    def json(self, *, required: bool = True) -> Any:
        if self._json is not None:
            return self._json
        if not self.req.body.strip():
            if required:
                raise HarborError(422, "validation failure list:\nbody in body is required")
            return {}
        try:
            self._json = json.loads(self.req.body)
        except ValueError:
            raise HarborError(400, 'parsing body body from "" failed, because invalid character') from None
        return self._json

    def body_obj(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise HarborError(422, "validation failure list:\nbody in body must be of type object")
        return data

    def page(self) -> Page:
        return page_params(self.query)

    def is_resource_name(self) -> bool:
        return self.req.header("x-is-resource-name").lower() == "true"


def ok(data: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> SimResponse:
    return SimResponse(status, [("Content-Type", JSON_TYPE), *(headers or [])], json.dumps(data).encode())


def empty(status: int = 200) -> SimResponse:
    return SimResponse(status, [])


def text(body: str, content_type: str = TEXT_TYPE) -> SimResponse:
    return SimResponse(200, [("Content-Type", content_type)], body.encode())


def created(ctx: Ctx, ident: int | str, location: str | None = None) -> SimResponse:
    loc = location or f"{ctx.path.rstrip('/')}/{ident}"
    return SimResponse(201, [("Location", loc)])


def listing(ctx: Ctx, rows: list[Any], total: int, page: Page) -> SimResponse:
    headers = [("X-Total-Count", str(total))]
    link = link_header(ctx.path, ctx.query, page, total)
    if link:
        headers.append(("Link", link))
    return ok(rows, headers=headers)


def paged(ctx: Ctx, rows: list[Any]) -> SimResponse:
    """Paginate an in-memory list already filtered and sorted."""
    page = ctx.page()
    return listing(ctx, rows[page.offset : page.offset + page.size], len(rows), page)
