"""The desk's HTTP side (aiohttp): the pages, the JSON API under /api/, feedback, health and metrics.

Handlers are thin: parse and check the request (:mod:`.params`, :mod:`.auth`), ask the store, render
(:mod:`.render`) or serialise. Reads are open or keyed (``DESK_READ_AUTH``); writes need an API key
(``Authorization: Bearer``) or a signed-in session with its CSRF token.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from services.desk import export, render
from services.desk.auth import Keyring, Session, Sessions, bearer
from services.desk.errors import BadRequest, StoreUnavailable
from services.desk.feedback import FeedbackRequest, build_feedback, target_of
from services.desk.params import SPECS, alert_query, feedback_query, observation_query, parse, window
from services.desk.render import Viewer
from services.desk.store import MAX_PAGE, AlertQuery, Page, PositionRow, Store, Window
from shared.contracts import Feedback
from shared.errors import BusError
from shared.observability import Metrics

log = logging.getLogger("stancewatch.desk")

COOKIE = "desk_session"
#: Most alerts one export returns (in pages of MAX_PAGE, streamed).
EXPORT_MAX = 100_000
FORM_FIELDS = {"actor", "topic", "article_id", "alert_id", "verdict", "note", "csrf_token", "return_to"}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

Publish = Callable[[Feedback], Awaitable[None]]


@dataclass
class DeskConfig:
    keyring: Keyring
    sessions: Sessions
    read_auth: str = "open"
    cookie_secure: bool = False
    page_size: int = 50
    session_ttl_s: int = 12 * 3600


@dataclass(frozen=True)
class Identity:
    name: str
    via: str  # "key" or "session"
    session: Session | None = None


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(data, ensure_ascii=False, default=str), status=status, content_type="application/json"
    )


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def safe_return(target: str | None) -> str:
    """Only a path on this site (``/…``, never ``//host`` or a scheme): no open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


def page_json(page: Page[Any], items: list[Any]) -> dict[str, Any]:
    return {
        "items": items,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "next_offset": page.next_offset,
    }


def cell_json(cell: PositionRow) -> dict[str, Any]:
    return {
        "actor": cell.actor,
        "topic": cell.topic,
        "actor_name": cell.actor_name,
        "topic_label": cell.topic_label,
        "established": cell.established,
        "established_since": cell.established_since.isoformat() if cell.established_since else None,
        "latest": cell.latest,
        "confidence": cell.confidence,
        "last_change": cell.last_change.isoformat() if cell.last_change else None,
        "updated_at": cell.updated_at.isoformat() if cell.updated_at else None,
        "provisional": cell.provisional,
    }


class DeskApp:
    def __init__(
        self,
        store: Store,
        publish: Publish,
        config: DeskConfig,
        *,
        clock: Callable[[], datetime],
        metrics: Metrics | None = None,
        ready: Callable[[], bool] = lambda: True,
        problems: Callable[[], list[dict[str, str]]] = lambda: [],
    ) -> None:
        self.store = store
        self.publish = publish
        self.config = config
        self.clock = clock
        self.metrics = metrics or Metrics()
        self.ready = ready
        self.problems = problems
        self._requests = self.metrics.counter("http_requests_total", "Requests the desk answered", ["route", "status"])
        self._seconds = self.metrics.histogram("http_seconds", "Time to answer one request", ["route"])
        self._auth_failures = self.metrics.counter(
            "auth_failures_total", "Refused credentials or CSRF tokens", ["kind"]
        )
        self._feedback = self.metrics.counter(
            "feedback_published_total", "Feedback events published", ["verdict", "via"]
        )
        self._css = resources.files("services.desk").joinpath("static/desk.css").read_text(encoding="utf-8")

    # --- the application -----------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024)
        r = app.router
        r.add_get("/", self.overview_page, name="overview")
        r.add_get("/timeline", self.timeline_page, name="timeline")
        r.add_get("/alerts", self.alerts_page, name="alerts")
        r.add_get("/alerts/export.{fmt}", self.export, name="export")
        r.add_get("/login", self.login_form, name="login")
        r.add_post("/login", self.login, name="login-post")
        r.add_post("/logout", self.logout, name="logout")
        r.add_post("/feedback", self.feedback_form, name="feedback-form")
        r.add_get("/static/desk.css", self.css, name="css")
        r.add_get("/api/overview", self.api_overview, name="api-overview")
        r.add_get("/api/positions", self.api_positions, name="api-positions")
        r.add_get("/api/timeline", self.api_timeline, name="api-timeline")
        r.add_get("/api/observations", self.api_observations, name="api-observations")
        r.add_get("/api/alerts", self.api_alerts, name="api-alerts")
        r.add_get("/api/alerts/export.{fmt}", self.export, name="api-export")
        r.add_get("/api/alerts/{alert_id}", self.api_alert, name="api-alert")
        r.add_get("/api/feedback", self.api_feedback_list, name="api-feedback")
        r.add_post("/api/feedback", self.api_feedback_post, name="api-feedback-post")
        r.add_get("/healthz", self.healthz, name="healthz")
        r.add_get("/readyz", self.readyz, name="readyz")
        r.add_get("/metrics", self.metrics_text, name="metrics")
        return app

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        t0 = time.perf_counter()
        route = request.match_info.route.name or "unmatched"
        api = request.path.startswith("/api/")
        try:
            response = await handler(request)
        except BadRequest as exc:
            response = self._error(request, exc.status, exc.reason, api)
        except StoreUnavailable as exc:
            log.warning("desk store unavailable: %s", exc)
            response = self._error(request, 503, "the desk's store is unavailable; try again shortly", api)
        except web.HTTPException as exc:
            if exc.status >= 400 and exc.status != 405:
                response = self._error(request, exc.status, exc.reason, api)
            else:
                exc.headers.update(SECURITY_HEADERS)
                self._requests.inc(route=route, status=str(exc.status))
                raise
        except Exception:
            log.exception("desk request failed", extra={"route": route})
            response = self._error(request, 500, "internal error", api)
        if not response.prepared:
            response.headers.update(SECURITY_HEADERS)
        self._requests.inc(route=route, status=str(response.status))
        self._seconds.observe(time.perf_counter() - t0, route=route)
        return response

    def _error(self, request: web.Request, status: int, reason: str, api: bool) -> web.StreamResponse:
        if api:
            response = _json({"error": reason, "status": status}, status=status)
            if status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="stancewatch-desk"'
            return response
        return _html(render.error_page(status, reason, self._viewer(self._session(request))), status=status)

    # --- who is asking -------------------------------------------------------------------------
    def _session(self, request: web.Request) -> Session | None:
        return self.config.sessions.verify(request.cookies.get(COOKIE), self.clock())

    def _identity(self, request: web.Request) -> Identity | None:
        header = request.headers.get("Authorization")
        if header is not None:
            token = bearer(header)
            name = self.config.keyring.identify(token) if token else None
            if name is None:
                self._auth_failures.inc(kind="key")
                raise BadRequest("the API key is not valid", status=401)
            return Identity(name, "key")
        session = self._session(request)
        return Identity(session.name, "session", session) if session else None

    def _viewer(self, session: Session | None) -> Viewer:
        if session is None:
            return Viewer(can_sign_in=bool(self.config.keyring))
        return Viewer(session.name, self.config.sessions.csrf_token(session), True)

    def _read(self, request: web.Request, *, page: bool) -> Viewer:
        """The viewer of a read; with keyed reads, nobody unidentified gets past here."""
        who = self._identity(request)
        if self.config.read_auth == "key" and who is None:
            if page:
                raise web.HTTPSeeOther(render.query_url("/login", {"next": request.path_qs}))
            raise BadRequest("reading needs an API key (Authorization: Bearer) or a session", status=401)
        return self._viewer(who.session if who else None)

    def _same_origin(self, request: web.Request) -> None:
        origin = request.headers.get("Origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.host:
            self._auth_failures.inc(kind="origin")
            raise BadRequest("cross-site request refused", status=403)

    # --- pages ---------------------------------------------------------------------------------
    async def overview_page(self, request: web.Request) -> web.Response:
        viewer = self._read(request, page=True)
        parse(SPECS["overview"], request.query)
        return _html(render.overview_page(await self.store.overview(), viewer))

    async def timeline_page(self, request: web.Request) -> web.Response:
        viewer = self._read(request, page=True)
        values = parse(SPECS["timeline"], request.query, required=("actor", "topic"))
        timeline = await self.store.timeline(
            values["actor"], values["topic"], window(values, max(self.config.page_size, 200))
        )
        return _html(render.timeline_page(timeline, viewer, values))

    async def alerts_page(self, request: web.Request) -> web.Response:
        viewer = self._read(request, page=True)
        values = parse(SPECS["alerts"], request.query)
        page = await self.store.alerts(alert_query(values, self.config.page_size))
        return _html(render.alerts_page(page, await self.store.overview(), viewer, values))

    async def css(self, request: web.Request) -> web.Response:
        return web.Response(text=self._css, content_type="text/css", headers={"Cache-Control": "max-age=3600"})

    async def export(self, request: web.Request) -> web.StreamResponse:
        self._read(request, page=not request.path.startswith("/api/"))
        fmt = request.match_info["fmt"]
        if fmt not in ("csv", "json"):
            raise BadRequest(f"export format {fmt!r}: must be csv or json", status=404)
        spec = {k: v for k, v in SPECS["alerts"].items() if k not in ("limit", "offset")}
        base = alert_query(parse(spec, request.query), MAX_PAGE)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/csv; charset=utf-8" if fmt == "csv" else "application/json; charset=utf-8",
                "Content-Disposition": f'attachment; filename="stancewatch-alerts.{fmt}"',
                **SECURITY_HEADERS,
            }
        )
        await response.prepare(request)
        await response.write((export.csv_header() if fmt == "csv" else "[").encode())
        offset, first = 0, True
        while offset < EXPORT_MAX:
            query = AlertQuery(
                **{**base.__dict__, "window": Window(base.window.since, base.window.until, MAX_PAGE, offset)}
            )
            page = await self.store.alerts(query)
            if fmt == "csv":
                await response.write(export.csv_lines(page.items).encode())
            else:
                for view in page.items:
                    await response.write(((", " if not first else "") + export.json_item(view)).encode())
                    first = False
            if page.next_offset is None:
                break
            offset = page.next_offset
        if fmt == "json":
            await response.write(b"]")
        await response.write_eof()
        return response

    # --- login ---------------------------------------------------------------------------------
    async def login_form(self, request: web.Request) -> web.Response:
        values = parse({"next": str}, request.query)
        return _html(render.login_page(self._viewer(self._session(request)), safe_return(values.get("next"))))

    async def login(self, request: web.Request) -> web.StreamResponse:
        self._same_origin(request)
        form = await request.post()
        unknown = set(form) - {"key", "next"}
        if unknown:
            raise BadRequest(f"unknown form field {sorted(unknown)[0]!r}")
        next_url = safe_return(str(form.get("next") or "/"))
        name = self.config.keyring.identify(str(form.get("key") or ""))
        if name is None:
            self._auth_failures.inc(kind="login")
            page = render.login_page(Viewer(can_sign_in=bool(self.config.keyring)), next_url, "That key is not valid.")
            return _html(page, status=401)
        response = web.HTTPSeeOther(next_url)
        response.set_cookie(
            COOKIE,
            self.config.sessions.issue(name, self.clock()),
            max_age=self.config.session_ttl_s,
            httponly=True,
            samesite="Strict",
            secure=self.config.cookie_secure,
            path="/",
        )
        log.info("desk login", extra={"author": name})
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        self._same_origin(request)
        form = await request.post()
        session = self._session(request)
        if session is not None and not self.config.sessions.check_csrf(session, str(form.get("csrf_token") or "")):
            self._auth_failures.inc(kind="csrf")
            raise BadRequest("the form token is missing or wrong (CSRF)", status=403)
        response = web.HTTPSeeOther("/")
        response.del_cookie(COOKIE, path="/")
        return response

    # --- feedback ------------------------------------------------------------------------------
    async def _submit(self, request: FeedbackRequest, who: Identity) -> Feedback:
        alert = observation = None
        if request.alert_id:
            alert = await self.store.alert(request.alert_id)
            if alert is None:
                raise BadRequest(f"feedback: no alert {request.alert_id!r}", status=404)
        else:
            missing = [n for n in ("actor", "topic", "article_id") if not getattr(request, n)]
            if missing:
                raise BadRequest(f"feedback: {', '.join(missing)} required (or alert_id)")
            observation = await self.store.observation(request.actor, request.topic, request.article_id)  # type: ignore[arg-type]
        judged = alert.alert.after if alert is not None else observation
        feedback = build_feedback(request, target_of(request, alert, observation), who.name, self.clock(), judged)
        try:
            await self.publish(feedback)
        except BusError as exc:
            log.warning("feedback not published: %s", exc, extra={"actor": feedback.actor, "topic": feedback.topic})
            raise BadRequest("feedback not recorded: the message bus is unavailable; try again", status=503) from exc
        await self.store.apply_feedback(feedback)  # shown at once; the topic brings the same row again
        self._feedback.inc(verdict=feedback.verdict, via=who.via)
        log.info(
            "feedback published",
            extra={
                "actor": feedback.actor,
                "topic": feedback.topic,
                "article_id": feedback.article_id,
                "alert_id": feedback.alert_id,
                "verdict": feedback.verdict,
                "author": feedback.author,
            },
        )
        return feedback

    async def feedback_form(self, request: web.Request) -> web.StreamResponse:
        self._same_origin(request)
        form = await request.post()
        unknown = set(form) - FORM_FIELDS
        if unknown:
            raise BadRequest(f"unknown form field {sorted(unknown)[0]!r}")
        session = self._session(request)
        if session is None:
            raise BadRequest("log in to give feedback", status=401)
        if not self.config.sessions.check_csrf(session, str(form.get("csrf_token") or "")):
            self._auth_failures.inc(kind="csrf")
            raise BadRequest("the form token is missing or wrong (CSRF)", status=403)
        fields = {k: str(v) for k, v in form.items() if k in FORM_FIELDS - {"csrf_token", "return_to"} and str(v)}
        await self._submit(FeedbackRequest.parse(fields), Identity(session.name, "session", session))
        target = safe_return(str(form.get("return_to") or "/"))
        anchor = f"#alert-{fields['alert_id']}" if fields.get("alert_id") else f"#obs-{fields.get('article_id', '')}"
        raise web.HTTPSeeOther(target + anchor)

    async def api_feedback_post(self, request: web.Request) -> web.Response:
        self._same_origin(request)
        who = self._identity(request)
        if who is None:
            raise BadRequest("writing needs an API key (Authorization: Bearer) or a session", status=401)
        if who.via == "session":
            assert who.session is not None
            if not self.config.sessions.check_csrf(who.session, request.headers.get("X-CSRF-Token")):
                self._auth_failures.inc(kind="csrf")
                raise BadRequest("the X-CSRF-Token header is missing or wrong", status=403)
        parse({}, request.query)
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BadRequest("feedback: the body is not JSON") from None
        feedback = await self._submit(FeedbackRequest.parse(body), who)
        return _json(feedback.model_dump(mode="json"), status=201)

    # --- API reads -----------------------------------------------------------------------------
    async def api_overview(self, request: web.Request) -> web.Response:
        self._read(request, page=False)
        parse(SPECS["overview"], request.query)
        view = await self.store.overview()
        return _json(
            {
                "figures": [{"id": i, "name": n} for i, n in view.figures],
                "topics": [{"id": i, "label": n} for i, n in view.topics],
                "cells": [cell_json(c) for c in view.cells],
            }
        )

    async def api_positions(self, request: web.Request) -> web.Response:
        self._read(request, page=False)
        values = parse(SPECS["positions"], request.query)
        cells = [
            c
            for c in (await self.store.overview()).cells
            if values.get("actor") in (None, c.actor) and values.get("topic") in (None, c.topic)
        ]
        return _json({"items": [cell_json(c) for c in cells], "total": len(cells)})

    async def api_timeline(self, request: web.Request) -> web.Response:
        self._read(request, page=False)
        values = parse(SPECS["timeline"], request.query, required=("actor", "topic"))
        t = await self.store.timeline(values["actor"], values["topic"], window(values, self.config.page_size))
        items = [
            {
                "observation": e.observation.model_dump(mode="json", by_alias=True),
                "alerts": [export.alert_json(v) for v in e.alerts],
                "feedback": [f.model_dump(mode="json") for f in e.feedback],
            }
            for e in t.entries.items
        ]
        return _json(
            {
                "actor": t.actor,
                "topic": t.topic,
                "position": cell_json(t.position) if t.position else None,
                **page_json(t.entries, items),
                "unplaced_alerts": [export.alert_json(v) for v in t.unplaced],
            }
        )

    async def api_observations(self, request: web.Request) -> web.Response:
        self._read(request, page=False)
        page = await self.store.observations(
            observation_query(parse(SPECS["observations"], request.query), self.config.page_size)
        )
        return _json(page_json(page, [o.model_dump(mode="json", by_alias=True) for o in page.items]))

    async def api_alerts(self, request: web.Request) -> web.Response:
        self._read(request, page=False)
        page = await self.store.alerts(alert_query(parse(SPECS["alerts"], request.query), self.config.page_size))
        return _json(page_json(page, [export.alert_json(v) for v in page.items]))

    async def api_alert(self, request: web.Request) -> web.Response:
        self._read(request, page=False)
        parse({}, request.query)
        view = await self.store.alert(request.match_info["alert_id"])
        if view is None:
            raise BadRequest("no such alert", status=404)
        return _json(export.alert_json(view))

    async def api_feedback_list(self, request: web.Request) -> web.Response:
        self._read(request, page=False)
        page = await self.store.feedback(feedback_query(parse(SPECS["feedback"], request.query), self.config.page_size))
        return _json(page_json(page, [f.model_dump(mode="json") for f in page.items]))

    # --- health --------------------------------------------------------------------------------
    async def healthz(self, request: web.Request) -> web.Response:
        problems = self.problems()
        if problems:
            return _json({"status": "unhealthy", "problems": problems}, status=503)
        return _json({"status": "ok"})

    async def readyz(self, request: web.Request) -> web.Response:
        ok = self.ready() and await self.store.ping()
        return _json({"ready": ok}, status=200 if ok else 503)

    async def metrics_text(self, request: web.Request) -> web.Response:
        return web.Response(text=self.metrics.render(), content_type="text/plain", headers={"X-Version": "0.0.4"})
