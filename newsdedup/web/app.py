"""The claim explorer: a read-only, server-rendered web application over one newsdedup database.

Stack: Starlette with Jinja2 templates, served by uvicorn — all three already
come with Prefect, so the explorer adds no web dependency. Starlette rather than
FastAPI because these are HTML pages, not a JSON API: FastAPI's request
validation would answer bad parameters with JSON 422s, where a user needs a 400
*page*; the parameters are parsed strictly by :mod:`newsdedup.web.params`
instead. No JavaScript at all: every chart is SVG drawn on the server, the
filters are plain GET forms, and the fonts are files from PyPI packages served
by the app itself (nothing is fetched from the internet at run time).

Safety: only GET/HEAD routes; nothing here writes to MongoDB
(:mod:`newsdedup.web.store` has no writing call); Jinja's autoescaping covers
every corpus text (no ``|safe`` on data anywhere); a Content-Security-Policy
that forbids every script is sent with every page as a second line of defence;
unknown ids give a 404 page, bad parameters a 400 page, and an unexpected
error a 500 page without a traceback (it goes to the server log).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import __version__
from ..config import Settings
from . import charts
from .catalog import DERIVED, KINDS, day_str, derived_side
from .diff import word_diff
from .links import claim_url, document_url
from .params import BadRequest, Param, check_id, parse
from .state import CatalogHolder
from .store import ExplorerStore

log = logging.getLogger("newsdedup.web")
HERE = Path(__file__).resolve().parent
PAGE_SIZE = 25
MEMBER_PAGE = 50
CSP = ("default-src 'none'; style-src 'self' 'unsafe-inline'; font-src 'self'; img-src 'self' data:; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
UNKNOWN_OUTLET = "(unknown outlet)"

CLAIMS_PARAMS = (
    Param("q"), Param("outlet", max_len=300), Param("attribution", max_len=300),
    Param("kind", "choice", "claim", choices=(*KINDS, "all")),
    Param("min_outlets", "int", 1, low=1, high=10_000),
    Param("from", "date"), Param("to", "date"), Param("page", "int", 1, low=1, high=1_000_000),
)
CLAIM_PARAMS = (Param("compare", "int", None, low=0, high=10_000_000),
                Param("mpage", "int", 1, low=1, high=1_000_000))


# ---------------------------------------------------------------------- fonts
def font_files() -> dict[str, Path]:
    """The bundled fonts (PyPI packages ``fontpkg-noto-sans-arabic`` and ``fontpkg-noto-sans``): Noto Sans
    Arabic covers Arabic, Persian and Urdu letters; Noto Sans the Latin text around them."""
    out: dict[str, Path] = {}
    try:
        import fontpkg
    except ImportError:  # pragma: no cover - a dependency; the pages fall back to system fonts
        return out
    for slug, family in (("noto-sans-arabic", "Noto Sans Arabic"), ("noto-sans", "Noto Sans")):
        try:
            out[f"{slug}.ttf"] = Path(fontpkg.path(family))
        except Exception:  # noqa: BLE001 - a missing family: that font falls back to the system's
            log.warning("font %s is not installed; pages use a system font instead", family)
    return out


# ---------------------------------------------------------------------- Prefect UI
def prefect_ui_url(settings: Settings) -> str | None:
    """Where the Prefect UI is: ``PREFECT_UI_URL``, else the local server ``newsdedup run`` started under
    ``NEWSDEDUP_HOME``, else ``PREFECT_API_URL`` without its ``/api``."""
    url = (os.environ.get("PREFECT_UI_URL") or "").strip()
    if url:
        return url.rstrip("/")
    try:
        from ..prefect_server import prefect_server_status

        st = prefect_server_status(settings.home)
        if st and st.get("ui_url"):
            return str(st["ui_url"]).rstrip("/")
    except Exception:  # noqa: BLE001 - no local server state: try the API URL
        pass
    api = (os.environ.get("PREFECT_API_URL") or "").strip().rstrip("/")
    if api.endswith("/api"):
        return api[: -len("/api")]
    return None


def flow_run_url(ui: str | None, flow_run_id: str | None) -> str | None:
    return f"{ui}/runs/flow-run/{flow_run_id}" if ui and flow_run_id else None


# ---------------------------------------------------------------------- helpers for templates
def safe_href(url: Any) -> str | None:
    """An original article URL as a link only when it is http(s): a ``javascript:`` URL from a corpus
    is shown as text, never made clickable."""
    if not isinstance(url, str):
        return None
    u = url.strip()
    try:
        parts = urlsplit(u)
    except ValueError:
        return None
    return u if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{100 * x:.{digits}f}%"


def outlet_label(o: str | None) -> str:
    return o if o else UNKNOWN_OUTLET


def short_date(published: Any) -> str:
    if not published:
        return "date unknown"
    s = str(published)
    return s.replace("T", " ")[:19]


def fmt_dt(value: Any) -> str:
    if value is None:
        return "—"
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S") + (" UTC" if getattr(value, "tzinfo", None) else "")
    return str(value)


def ts(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(a: Any, b: Any) -> str:
    try:
        s = (b - a).total_seconds()
    except Exception:  # noqa: BLE001
        return "—"
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


def page_window(page: int, pages: int) -> list[int | None]:
    """Page numbers to link (None = a gap)."""
    want = {1, pages, page, page - 1, page + 1, page - 2, page + 2}
    out: list[int | None] = []
    for p in range(1, pages + 1):
        if p in want:
            if out and out[-1] is not None and p - out[-1] > 1:
                out.append(None)
            out.append(p)
    return out


def qs(values: dict[str, Any], defaults: Sequence[Param], **override: Any) -> str:
    """A query string of the non-default values, with overrides (dates back as YYYY-MM-DD)."""
    merged = {**values, **override}
    pairs = []
    for p in defaults:
        v = merged.get(p.name)
        if v is None or v == p.default or v == "":
            continue
        pairs.append((p.name, day_str(v) if p.kind == "date" else str(v)))
    return ("?" + urlencode(pairs)) if pairs else ""


# ---------------------------------------------------------------------- the application
class Explorer:
    """What the routes share: the read-only store, the catalog holder, the templates."""

    def __init__(self, settings: Settings, *, cache_dir: Path | None = None, store: ExplorerStore | None = None):
        self.settings = settings
        self.store = store or ExplorerStore(settings)
        self.holder = CatalogHolder(self.store, cache_dir)
        self.fonts = font_files()
        self._ui: tuple[str | None, float] | None = None
        self.env = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                               autoescape=select_autoescape(["html", "svg", "xml"], default=True),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(pct=pct, outlet_label=outlet_label, short_date=short_date, fmt_dt=fmt_dt,
                                day_str=day_str, claim_href=lambda cid: claim_url("", cid),
                                doc_href=lambda d: document_url("", d), safe_href=safe_href, duration=duration, ts=ts,
                                version=__version__, db_name=settings.db_name, heat=charts.heat, ink=charts.ink)

    def prefect_ui(self) -> str | None:
        """:func:`prefect_ui_url`, looked up at most every 30 s (it may ask the local Prefect server's health)."""
        now = time.monotonic()
        if self._ui is None or now - self._ui[1] > 30:
            self._ui = (prefect_ui_url(self.settings), now)
        return self._ui[0]

    def render(self, request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
        cat = self.holder._catalog  # noqa: SLF001 - the banner shows the state of the last catalog
        base = {"request": request, "catalog": cat, "refreshing": self.holder.refreshing,
                "catalog_error": self.holder.last_error, "path": request.url.path}
        html = self.env.get_template(name).render({**base, **ctx})
        return HTMLResponse(html, status_code=status)


def _query_pairs(request: Request) -> list[tuple[str, str]]:
    return list(request.query_params.multi_items())


def create_app(settings: Settings, *, cache_dir: Path | None = None, prepare: bool = True,
               store: ExplorerStore | None = None) -> Starlette:
    """The ASGI application; ``prepare`` builds (or loads) the catalog before the first request."""
    ex = Explorer(settings, cache_dir=cache_dir, store=store)
    if prepare:
        ex.holder.prepare()

    # ------------------------------------------------------------------ claims list
    def claims(request: Request) -> Response:
        v = parse(_query_pairs(request), CLAIMS_PARAMS)
        cat = ex.holder.current()
        if v["from"] is not None and v["to"] is not None and v["from"] > v["to"]:
            raise BadRequest("parameter 'from' is after 'to'")
        outlet = v["outlet"] or None
        rows, scores = cat.filter_claims(kind=v["kind"], min_outlets=v["min_outlets"], outlet=outlet,
                                         attribution=v["attribution"] or None, day_from=v["from"],
                                         day_to=v["to"], q=v["q"] or None)
        pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
        page = min(v["page"], pages)
        shown = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        items = [{"row": r, "score": scores.get(r.idx) if scores else None,
                  "spark": charts.spark(r.days, r.undated, r.fs_day, cat.first_day, cat.last_day)} for r in shown]
        return ex.render(request, "claims.html", {
            "v": v, "rows": items, "total": len(rows), "page": page, "pages": pages,
            "window": page_window(page, pages), "outlets": [o for o in cat.outlet_names() if o],
            "attributions": cat.attributions[:100], "kinds": KINDS,
            "page_href": lambda p: "/claims" + qs(v, CLAIMS_PARAMS, page=p), "date_from": day_str(v["from"]), "date_to": day_str(v["to"]),
            "unknown_outlet": outlet is not None and outlet not in cat.outlets})

    # ------------------------------------------------------------------ one claim
    def claim(request: Request) -> Response:
        cid = check_id(request.path_params["cluster_id"], "claim")
        v = parse(_query_pairs(request), CLAIM_PARAMS)
        c = ex.store.cluster(cid)
        if c is None:
            raise HTTPException(404, f"no claim with id {cid!r} in database {settings.db_name!r}")
        cat = ex.holder.current()
        members = list(c.get("members") or ())
        late: dict[str, tuple] = {}  # documents stored after the catalog was built
        missing = sorted({m["doc_id"] for m in members if m.get("doc_id") not in cat.docs})
        if missing:
            for d in ex.store.documents(missing, {"_id": 1, "outlet": 1, "published": 1, "external_id": 1}).values():
                late[d["_id"]] = (d.get("outlet"), d.get("published"), d.get("external_id") or "")

        def published(m: dict) -> str | None:
            return m.get("published") or (cat.docs.get(m["doc_id"]) or late.get(m["doc_id"]) or (None, None))[1]

        fs = c.get("first_seen") or {}
        order = sorted(range(len(members)), key=lambda i: (charts.when(published(members[i])) is None,
                                                           charts.when(published(members[i])) or 0.0,
                                                           members[i]["doc_id"] != fs.get("doc_id"),
                                                           members[i].get("outlet") or "", members[i]["doc_id"],
                                                           members[i].get("start", 0)))
        tl = charts.timeline([(m["doc_id"], m.get("outlet"), published(m)) for m in members], fs.get("doc_id"))
        # side by side: the first-seen document's (longest) member against another member
        ref = max((i for i, m in enumerate(members) if m["doc_id"] == fs.get("doc_id")),
                  key=lambda i: (members[i]["end"] - members[i]["start"], -i), default=(order[0] if order else None))
        other = v["compare"]
        if other is not None and other >= len(members):
            raise BadRequest(f"parameter 'compare' must be below {len(members)} (the claim's members)")
        if other is None and ref is not None:
            ref_doc, ref_outlet = members[ref]["doc_id"], members[ref].get("outlet")
            other = next((i for i in order if members[i]["doc_id"] != ref_doc and members[i].get("outlet") != ref_outlet),
                         next((i for i in order if members[i]["doc_id"] != ref_doc), None))
        compare = None
        if ref is not None and other is not None:
            texts = ex.store.documents({members[ref]["doc_id"], members[other]["doc_id"]}, {"_id": 1, "text": 1})

            def span_text(i: int) -> str:
                m = members[i]
                t = (texts.get(m["doc_id"]) or {}).get("text")
                if isinstance(t, str) and 0 <= m["start"] <= m["end"] <= len(t):
                    return t[m["start"]:m["end"]]
                return m.get("text") or ""

            compare = {"ref": ref, "other": other, "ref_m": members[ref], "other_m": members[other],
                       "ref_published": published(members[ref]), "other_published": published(members[other]),
                       "diff": word_diff(span_text(ref), span_text(other))}
        pages = max(1, math.ceil(len(order) / MEMBER_PAGE))
        mpage = min(v["mpage"], pages)
        page_idx = order[(mpage - 1) * MEMBER_PAGE: mpage * MEMBER_PAGE]
        docs = ex.store.documents({members[i]["doc_id"] for i in page_idx})
        rows = [{"i": i, "m": members[i], "doc": docs.get(members[i]["doc_id"]) or {}, "published": published(members[i]),
                 "first": members[i]["doc_id"] == fs.get("doc_id")} for i in page_idx]
        return ex.render(request, "claim.html", {
            "c": c, "fs": fs, "tl": tl, "rows": rows, "compare": compare, "mpage": mpage, "mpages": pages,
            "window": page_window(mpage, pages), "n_members": len(members),
            "n_docs": len({m["doc_id"] for m in members}), "kinds_computed": cat.kinds_computed,
            "member_qs": lambda **o: claim_url("", cid) + qs(v, CLAIM_PARAMS, **o),
            "member_page_href": lambda p: claim_url("", cid) + qs(v, CLAIM_PARAMS, mpage=p) + "#members"})

    # ------------------------------------------------------------------ one document
    def document(request: Request) -> Response:
        doc_id = check_id(request.path_params["doc_id"], "document")
        parse(_query_pairs(request), ())
        d = ex.store.document(doc_id)
        if d is None:
            raise HTTPException(404, f"no document with id {doc_id!r} in database {settings.db_name!r}")
        cat = ex.holder.current()
        text = d.get("text") or ""
        passages = ex.store.passages(d)
        from_segments = not passages and bool(d.get("segments"))
        if from_segments:  # passages are written last in a run: not there yet
            passages = [{"start": s[0], "end": s[1], "boilerplate": bool(s[6]), "boilerplate_reason": s[7],
                         "cluster_id": None} for s in d["segments"]]
        clusters = ex.store.clusters_of(doc_id)
        by_id = {c["_id"]: c for c in clusters}
        pieces: list[dict] = []
        pos = 0
        for p in passages:
            s, e = int(p["start"]), int(p["end"])
            if s < pos or e > len(text):
                continue
            if s > pos:
                pieces.append({"t": text[pos:s], "k": "gap"})
            if p.get("boilerplate"):
                pieces.append({"t": text[s:e], "k": "bp", "reason": p.get("boilerplate_reason") or "boilerplate"})
            elif p.get("cluster_id"):
                c = by_id.get(p["cluster_id"]) or {}
                pieces.append({"t": text[s:e], "k": "reused", "cid": p["cluster_id"], "c": c})
            else:
                pieces.append({"t": text[s:e], "k": "body"})
            pos = e
        if pos < len(text):
            pieces.append({"t": text[pos:], "k": "gap"})
        derivs = ex.store.derivations_of(doc_id)
        others: set[str] = set()
        drows = []
        for r in derivs or ():
            this_a = r.get("a_doc_id") == doc_id
            other = r.get("b_doc_id") if this_a else r.get("a_doc_id")
            others.add(other)
            derived = derived_side(r) if r.get("derivation") in DERIVED else None
            direction = ("derives-from" if derived == doc_id else "source-of" if derived == other else "shares")
            drows.append({"other": other, "direction": direction, "derivation": r.get("derivation"),
                          "this_cov": r.get("a_coverage") if this_a else r.get("b_coverage"),
                          "other_cov": r.get("b_coverage") if this_a else r.get("a_coverage")})
        mrows = []
        if derivs is None:  # a database written before derivations: the documents it shares matched text with
            per: dict[str, list] = {}
            for m in ex.store.matches_of(doc_id):
                this_a = m["a_doc_id"] == doc_id
                other = m["b_doc_id"] if this_a else m["a_doc_id"]
                per.setdefault(other, []).append(m)
            others.update(per)
            mrows = [{"other": o, "n": len(ms), "best": max(float(m.get("score") or 0) for m in ms)}
                     for o, ms in per.items()]
        dup_of = d.get("duplicate_of")
        dups = cat.duplicates.get(doc_id, [])
        others.update(x for x in [dup_of, *dups] if x)
        odocs = ex.store.documents(sorted(o for o in others if o))
        order = {"derives-from": 0, "source-of": 1, "shares": 2}
        drows.sort(key=lambda r: (order[r["direction"]], -(r["this_cov"] or 0), r["other"] or ""))
        mrows.sort(key=lambda r: (-r["best"], r["other"]))
        run = ex.store.run(d["run_id"]) if d.get("run_id") else None
        ui = ex.prefect_ui()
        return ex.render(request, "document.html", {
            "d": d, "pieces": pieces, "clusters": clusters, "drows": drows, "mrows": mrows,
            "has_derivations": derivs is not None, "odocs": odocs, "run": run, "dups": dups, "dup_of": dup_of,
            "from_segments": from_segments, "run_url": flow_run_url(ui, (run or {}).get("flow_run_id")),
            "n_bp": sum(1 for p in pieces if p["k"] == "bp"), "n_reused": sum(1 for p in pieces if p["k"] == "reused")})

    # ------------------------------------------------------------------ outlets
    def outlets(request: Request) -> Response:
        parse(_query_pairs(request), ())
        cat = ex.holder.current()
        rows = sorted(cat.outlets.values(), key=lambda r: (-r.documents, r.outlet or ""))
        names = [r.outlet for r in rows]

        def heat_map(cells: dict) -> dict:
            return {"cells": cells, "top": max((c[0] for c in cells.values()), default=0),
                    "rows": [o for o in names if any(cells.get((o, t)) for t in names)],
                    "cols": [o for o in names if any(cells.get((s, o)) for s in names)]}

        return ex.render(request, "outlets.html", {"rows": rows, "derived": heat_map(cat.matrix),
                                                   "claimed": heat_map(cat.claim_matrix)})

    # ------------------------------------------------------------------ runs
    def runs(request: Request) -> Response:
        parse(_query_pairs(request), ())
        ui = ex.prefect_ui()
        rows = [{"r": r, "url": flow_run_url(ui, r.get("flow_run_id"))} for r in ex.store.runs()]
        return ex.render(request, "runs.html", {"rows": rows, "ui": ui})

    def home(request: Request) -> Response:
        parse(_query_pairs(request), ())
        return RedirectResponse("/claims", status_code=303)

    def font(request: Request) -> Response:
        path = ex.fonts.get(request.path_params["name"])
        if path is None:
            raise HTTPException(404, "no such font")
        return FileResponse(path, media_type="font/ttf", headers={"Cache-Control": "public, max-age=86400"})

    # ------------------------------------------------------------------ errors
    def error_page(request: Request, status: int, title: str, message: str) -> Response:
        try:
            return ex.render(request, "error.html", {"status": status, "title": title, "message": message}, status)
        except Exception:  # noqa: BLE001 - never a traceback, even if the template itself fails
            log.exception("rendering the error page failed")
            return HTMLResponse(f"<!doctype html><title>{status}</title><h1>{status}</h1>", status_code=status)

    def on_http(request: Request, exc: HTTPException) -> Response:
        titles = {404: "Not found", 405: "Method not allowed"}
        detail = exc.detail if exc.status_code != 404 or "no " in str(exc.detail) else "There is no such page here."
        resp = error_page(request, exc.status_code, titles.get(exc.status_code, "Error"), str(detail))
        if exc.status_code == 405:
            resp.headers["Allow"] = "GET, HEAD"
        return resp

    def on_bad(request: Request, exc: BadRequest) -> Response:
        return error_page(request, 400, "Bad request", str(exc))

    def on_error(request: Request, exc: Exception) -> Response:
        log.exception("error on %s", request.url.path)
        return error_page(request, 500, "Something went wrong",
                          "The page could not be made (the error is in the server's log). "
                          "If the database is not reachable, start it and reload.")

    routes = [
        Route("/", home, methods=["GET", "HEAD"]),
        Route("/claims", claims, methods=["GET", "HEAD"]),
        Route("/claims/{cluster_id}", claim, methods=["GET", "HEAD"]),
        Route("/documents/{doc_id}", document, methods=["GET", "HEAD"]),
        Route("/outlets", outlets, methods=["GET", "HEAD"]),
        Route("/runs", runs, methods=["GET", "HEAD"]),
        Route("/fonts/{name}", font, methods=["GET", "HEAD"]),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: on_http, BadRequest: on_bad, Exception: on_error})
    app.state.explorer = ex
    return TimingAndHeaders(app)


class TimingAndHeaders:
    """ASGI wrapper: a ``Server-Timing`` header (time until the response starts, i.e. the whole page for
    these server-rendered routes) and the safety headers on every response."""

    def __init__(self, app: Starlette):
        self.app = app
        self.state = app.state

    async def __call__(self, scope, receive, send):  # noqa: ANN001 - ASGI
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()

        async def send_with_headers(message):  # noqa: ANN001
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - t0) * 1000
                headers = list(message.get("headers") or [])
                headers += [(b"server-timing", f"app;dur={ms:.1f}".encode()),
                            (b"content-security-policy", CSP.encode()),
                            (b"x-content-type-options", b"nosniff"),
                            (b"referrer-policy", b"no-referrer"),
                            (b"x-frame-options", b"DENY")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
