"""The claim explorer in a real browser: Debian's Chromium driven headless by Playwright, over a real
embedded database filled by the real ``newsdedup run`` (the seeds, plus an input file whose text,
title, outlet and URL carry script injections), served by the real ``newsdedup web`` process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pymongo
import pytest

from conftest import ROOT, cli

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("NEWSDEDUP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
FIRST = "بوابة الحركات الإسلامية"
SECOND = "العربي الجديد"
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
SHARED = ("قال مصدر مطلع إن الحكومة قررت تأجيل الانتخابات البلدية إلى موعد لاحق بسبب الأوضاع الأمنية "
          f"في المحافظات الشمالية {SCRIPT} وأضاف المصدر أن القرار اتخذ بعد مشاورات طويلة مع الأحزاب "
          f"السياسية وممثلي المجتمع المدني {IMG} وأن موعدا جديدا سيعلن خلال الأسابيع المقبلة بعد تقييم الوضع")


def _chromium_or_skip() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (.ci/run installs Debian's chromium)")
    pytest.skip(f"Chromium is not installed at {CHROMIUM}: apt-get install chromium")


@pytest.fixture(scope="session")
def browser():
    exe = _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.dialogs = []  # every alert/confirm/prompt the page tries to open
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    ctx.close()


def _xss_input(folder: Path) -> Path:
    rows = [
        {"id": "xss-1", "outlet": f"Outlet {SCRIPT}", "title": f"Title {IMG} {SCRIPT}",
         "url": "javascript:alert(1)", "published": "2016-12-01T08:30:00",
         "text": f"خبر أول {SCRIPT}\n\n{SHARED}.\n\nوفي سياق آخر تحدث الوزير عن الاقتصاد والاستثمار في البلاد."},
        {"id": "xss-2", "outlet": f'Other {IMG}', "title": "عنوان عادي", "url": "https://example.org/a?b=1&c=<x>",
         "published": "2016-12-02T17:05:00",
         "text": f"خبر ثان\n\n{SHARED}.\n\nوفي الرياضة فاز الفريق المحلي على ضيفه بهدفين نظيفين."},
    ]
    path = folder / "xss.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


class Web:
    """A running ``newsdedup web`` process and what the test needs to know about its database."""

    def __init__(self, db: str, proc: subprocess.Popen, url: str, banner: str):
        self.db, self.proc, self.url, self.banner = db, proc, url.rstrip("/"), banner

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(15)


def start_web(db: str, env: dict | None = None) -> Web:
    e = {**os.environ, **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "newsdedup.cli", "web", "--db", db, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e, cwd=str(ROOT))
    line = proc.stdout.readline()
    m = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
    if not m:
        proc.kill()
        raise AssertionError(f"newsdedup web printed no URL: {line!r} {proc.stderr.read()}")
    return Web(db, proc, m.group(1), line)


@pytest.fixture(scope="session")
def corpus(prefect_api, newsdedup_home, tmp_path_factory):
    """Seeds and the injection file, ingested by the real CLI into one database."""
    db = f"web_{uuid.uuid4().hex[:8]}"
    folder = tmp_path_factory.mktemp("web-input")
    cli("run", "--db", db)
    out = cli("run", str(_xss_input(folder)), "--db", db, "--json", env={"NEWSDEDUP_WEB_URL": "http://127.0.0.1:9"})
    summary = json.loads(out.stdout)
    uri = cli("db", "uri", "--db", db).stdout.strip()
    client = pymongo.MongoClient(uri)
    yield {"db": db, "mdb": client.get_default_database(), "xss_run": summary}
    client.close()


@pytest.fixture(scope="session")
def web(corpus):
    w = start_web(corpus["db"])
    yield w
    w.stop()


def _debka(corpus) -> dict:
    for c in corpus["mdb"].clusters.find({}):
        if "ديبكا" in (c.get("representative") or "") or any("ديبكا" in (m.get("text") or "") for m in c["members"]):
            return c
    raise AssertionError("the seeds' DEBKA claim is not in the database")


def _xss_claim(corpus) -> dict:
    docs = {d["_id"] for d in corpus["mdb"].documents.find({"external_id": {"$in": ["xss-1", "xss-2"]}}, {"_id": 1})}
    for c in corpus["mdb"].clusters.find({}):
        if {m["doc_id"] for m in c["members"]} & docs:
            return c
    raise AssertionError("the injection documents formed no cluster")


# ---------------------------------------------------------------------- the pages
def test_web_prints_its_url_on_loopback(web):
    assert web.banner.startswith("newsdedup explorer at http://127.0.0.1:")
    assert f"database {web.db}" in web.banner


def test_claims_list_shows_the_debka_claim(web, page, corpus):
    resp = page.goto(web.url + "/")
    assert resp.status == 200 and page.url.endswith("/claims")
    row = page.locator("tr.claim-row", has_text="ديبكا")
    assert row.count() == 1
    text = row.inner_text()
    assert FIRST in text  # first seen
    assert "2016-11-30" in text
    assert re.search(r"\b2\b", row.locator("td.num").nth(1).inner_text())  # two outlets
    assert row.locator("svg.spark circle.first").count() == 1  # the spread mark marks the first-seen day
    assert page.dialogs == []


def test_claims_search_filters_and_pagination_controls(web, page):
    page.goto(web.url + "/claims")
    page.fill("input[name=q]", "على مسافة 700 كم من أوروبا")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/claims\?q="))  # until the results page has loaded, not only committed
    assert page.locator("tr.claim-row", has_text="ديبكا").count() == 1
    assert "1 claim" in page.locator("#count").inner_text()
    page.goto(web.url + "/claims?outlet=" + quote(SECOND))
    assert page.locator("tr.claim-row", has_text="ديبكا").count() == 1
    page.goto(web.url + "/claims?outlet=" + quote("عربي21"))
    assert page.locator("tr.claim-row").count() == 0
    page.goto(web.url + "/claims?attribution=" + quote("ديبكا") + "&from=2016-11-30&to=2016-11-30")
    assert page.locator("tr.claim-row", has_text="ديبكا").count() == 1
    page.goto(web.url + "/claims?from=2016-12-01")
    assert page.locator("tr.claim-row", has_text="ديبكا").count() == 0
    page.goto(web.url + "/claims?min_outlets=3")
    assert page.locator("tr.claim-row").count() == 0


def test_claim_timeline_marks_first_seen(web, page, corpus):
    page.goto(web.url + "/claims")
    page.locator("tr.claim-row", has_text="ديبكا").locator("td.rep a").click()
    c = _debka(corpus)
    page.wait_for_url("**/claims/" + quote(c["_id"], safe=""))  # loaded: lanes are counted, not awaited
    lanes = page.locator(".tl-lane")
    outlets = [lanes.nth(i).get_attribute("data-outlet") for i in range(lanes.count())]
    assert set(outlets) == {FIRST, SECOND}
    first_lane = page.locator(".tl-lane.tl-first")
    assert first_lane.count() == 1 and first_lane.get_attribute("data-outlet") == FIRST
    marked = page.locator("circle.first-seen")
    assert marked.count() == 1
    assert first_lane.locator("circle.first-seen").count() == 1
    second = page.locator(f'.tl-lane[data-outlet="{SECOND}"] circle')
    assert second.count() == 1 and "first-seen" not in (second.get_attribute("class") or "")
    # the ringed point is drawn bigger and red: what a user sees, not only a class name
    assert float(marked.get_attribute("r")) > float(second.get_attribute("r"))
    fill = marked.evaluate("e => getComputedStyle(e).fill")
    assert fill == "rgb(192, 57, 43)"
    # members link to their documents
    assert page.locator("table.members a[href^='/documents/']").count() == 2


def test_side_by_side_highlights_the_shared_text(web, page, corpus):
    c = _debka(corpus)
    page.goto(web.url + "/claims/" + quote(c["_id"], safe=""))
    sides = page.locator(".sbs .side")
    assert sides.count() == 2
    left, right = sides.nth(0), sides.nth(1)
    assert "first seen" in left.locator("h3").inner_text() and FIRST in left.locator("h3").inner_text()
    shared_left = " ".join(left.locator("mark.w-shared").all_inner_texts())
    shared_right = " ".join(right.locator("mark.w-shared").all_inner_texts())
    for phrase in ("ديبكا", "على مسافة 700 كم فقط من أوروبا"):
        assert phrase in shared_left and phrase in shared_right
    # differences are marked on each side with their own class
    assert left.locator("mark.w-dropped, mark.w-changed").count() > 0
    assert right.locator("mark.w-added, mark.w-changed").count() > 0
    bg = left.locator("mark.w-shared").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert bg == "rgb(255, 240, 168)"
    # the passage text is exactly the stored span of the document
    doc = corpus["mdb"].documents.find_one({"_id": c["first_seen"]["doc_id"]})
    ref = max((m for m in c["members"] if m["doc_id"] == doc["_id"]), key=lambda m: m["end"] - m["start"])
    assert left.locator("p.passage").inner_text() == doc["text"][ref["start"]:ref["end"]]
    # the members table names the compared pair; any member can be chosen by its index
    assert page.locator("table.members", has_text="compared").count() == 1
    other = next(i for i, m in enumerate(c["members"]) if m["doc_id"] != doc["_id"])
    page.goto(web.url + "/claims/" + quote(c["_id"], safe="") + f"?compare={other}")
    assert page.locator(".sbs .side").count() == 2
    assert page.goto(web.url + "/claims/" + quote(c["_id"], safe="") + "?compare=99").status == 400


def test_document_page_greys_boilerplate_and_links_reuse(web, page, corpus):
    doc = corpus["mdb"].documents.find_one({"external_id": "000_0fc2040b98299895"})
    page.goto(web.url + "/documents/" + doc["_id"])
    bp = page.locator(".doctext .p-bp")
    assert bp.count() >= 3
    dateline = page.locator(".doctext .p-bp", has_text="الأربعاء 30/نوفمبر/2016 - 03:16 م")
    assert dateline.count() == 1
    assert "dateline" in dateline.get_attribute("title")
    assert dateline.locator(".why").inner_text() == "dateline"
    assert dateline.evaluate("e => getComputedStyle(e).color") == "rgb(138, 138, 138)"
    reasons = {bp.nth(i).locator(".why").inner_text() for i in range(bp.count())}
    assert "repeated-line" in reasons
    c = _debka(corpus)
    reused = page.locator(f".doctext a.p-reused[href='/claims/{quote(c['_id'], safe='')}']")
    assert reused.count() >= 1 and "ديبكا" in reused.first.inner_text()
    # the text is the text as received, passages and gaps together
    assert page.locator(".doctext").inner_text().replace("dateline", "").strip()[:20] == doc["text"][:20]
    facts = page.locator("dl.facts").first.inner_text()
    assert FIRST in facts and "ar" in facts
    prov = page.locator("details.provenance").inner_text()
    assert doc["run_id"] in prov and "000_0fc2040b98299895.txt" in prov
    assert page.locator("#derivations").count() == 1


def test_document_direction_is_per_line(web, page, corpus):
    doc = corpus["mdb"].documents.find_one({"external_id": "xss-1"})
    page.goto(web.url + "/documents/" + doc["_id"])
    box = page.locator(".doctext")
    assert box.evaluate("e => getComputedStyle(e).unicodeBidi") == "plaintext"
    assert box.get_attribute("dir") == "auto"
    # the Arabic font from the PyPI package is the one used
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => document.fonts.check('16px \"Noto Sans Arabic\"', 'خبر')")
    loaded = page.evaluate("() => [...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)")
    assert any("Noto Sans Arabic" in f for f in loaded)


def test_outlets_and_runs_pages(web, page, corpus):
    page.goto(web.url + "/outlets")
    table = page.locator("table.outlets")
    assert FIRST in table.inner_text() and SECOND in table.inner_text()
    assert page.locator("#matrix").count() == 1
    has_derivations = "derivations" in corpus["mdb"].list_collection_names()
    if has_derivations:
        assert page.locator("[data-matrix=derived], #matrix + p.note").count() == 1
    else:
        assert "Derivations were not computed" in page.locator("main").inner_text()
    # the DEBKA claim: first seen at FIRST, also at SECOND
    claims = page.locator("[data-matrix=claims] tbody tr", has_text=FIRST)
    assert claims.count() == 1 and "1" in claims.locator("td").all_inner_texts()
    page.goto(web.url + "/runs")
    sections = page.locator("section.run")
    assert sections.count() == 2
    run = corpus["mdb"].runs.find_one({"_id": corpus["xss_run"]["run_id"]})
    link = page.locator(f"#run-{run['_id']} a.prefect")
    assert link.count() == 1
    assert link.get_attribute("href").endswith(f"/runs/flow-run/{run['flow_run_id']}")


# ---------------------------------------------------------------------- safety
def test_injected_text_renders_as_text(web, page, corpus):
    c = _xss_claim(corpus)
    docs = list(corpus["mdb"].documents.find({"external_id": {"$in": ["xss-1", "xss-2"]}}))
    urls = ["/claims", "/claims?kind=all", "/claims?q=" + quote("تأجيل الانتخابات البلدية"),
            "/claims/" + quote(c["_id"], safe=""), "/outlets", "/runs",
            *("/documents/" + d["_id"] for d in docs)]
    for u in urls:
        resp = page.goto(web.url + u)
        assert resp.status == 200, u
        page.wait_for_load_state("load")
        assert page.locator("img").count() == 0, u
        assert page.locator("script").count() == 0, u
    # visible literally where a user reads them
    page.goto(web.url + "/claims/" + quote(c["_id"], safe=""))
    body = page.locator("main").inner_text()
    assert SCRIPT in body and IMG in body
    assert f"Outlet {SCRIPT}" in page.locator(".timeline").inner_text()
    d1 = next(d for d in docs if d["external_id"] == "xss-1")
    page.goto(web.url + "/documents/" + d1["_id"])
    assert page.locator("h1.doc-title").inner_text() == f"Title {IMG} {SCRIPT}"
    assert f"Outlet {SCRIPT}" in page.locator("dl.facts").first.inner_text()
    assert SCRIPT in page.locator(".doctext").inner_text()
    # a javascript: URL from the corpus is shown, never linked
    assert page.locator("a[href^='javascript']").count() == 0
    assert "javascript:alert(1)" in page.locator("dl.facts").first.inner_text()
    page.goto(web.url + "/claims?q=" + quote(SCRIPT))
    assert SCRIPT in page.locator("#count").inner_text()
    assert page.dialogs == []


@pytest.mark.parametrize("query", ["outlet[$ne]=x", "outlet%5B%24ne%5D=x", "min_outlets[$gt]=0", "kind=claim&kind=all",
                                   "min_outlets=abc", "from=yesterday", "page=0", "kind=$where"])
def test_bad_parameters_are_a_400_page(web, page, query):
    resp = page.goto(web.url + "/claims?" + query)
    assert resp.status == 400
    text = page.locator("main").inner_text()
    assert "400" in text and "Bad request" in text
    assert "Traceback" not in page.content()
    assert page.dialogs == []


def test_operator_looking_search_is_literal(web, page, corpus):
    for q in ('{"$where": "sleep(1000)"}', '{"$gt": ""}', ".*", "'; db.dropDatabase(); '"):
        resp = page.goto(web.url + "/claims?q=" + quote(q))
        assert resp.status == 200
        assert page.locator("tr.claim-row").count() == 0
        assert q in page.locator("#count").inner_text()
    assert corpus["mdb"].documents.count_documents({}) == 7


def test_unknown_ids_and_methods(web, page):
    for u in ("/claims/nope", "/documents/000000000000000000000000", "/no/such/page", "/claims/" + quote("<script>x")):
        resp = page.goto(web.url + u)
        assert resp.status == 404, u
        assert "Not found" in page.locator("main").inner_text()
        assert "Traceback" not in page.content()
    resp = page.request.post(web.url + "/claims", data={"q": "x"})
    assert resp.status == 405
    assert "Method not allowed" in resp.text()
    resp = page.goto(web.url + "/documents/x?q=1")
    assert resp.status == 400  # the document page takes no parameter
    assert page.dialogs == []


def test_security_headers(web, page):
    resp = page.goto(web.url + "/claims")
    h = resp.headers
    assert "script-src" not in h["content-security-policy"] and "default-src 'none'" in h["content-security-policy"]
    assert h["x-content-type-options"] == "nosniff"
    assert re.match(r"app;dur=\d", h["server-timing"])


# ---------------------------------------------------------------------- old databases, artifacts
def test_database_written_before_kinds_and_derivations(corpus, browser, tmp_path):
    """A copy of the corpus without cluster kinds and without the derivations collection."""
    src = corpus["mdb"]
    old = src.client[f"old_{uuid.uuid4().hex[:8]}"]
    for name in ("documents", "passages", "matches", "clusters", "runs", "meta"):
        rows = list(src[name].find({}))
        if name == "clusters":
            for r in rows:
                r.pop("kind", None)
                r.pop("confidence", None)
        if rows:
            old[name].insert_many(rows)
    w = start_web(old.name)
    try:
        ctx = browser.new_context()
        page = ctx.new_page()
        page.goto(w.url + "/claims")
        assert "Cluster kinds were not computed" in page.locator("main").inner_text()
        assert page.locator("tr.claim-row", has_text="ديبكا").count() == 1
        page.goto(w.url + "/outlets")
        assert page.locator("[data-matrix=derived]").count() == 0
        assert "Derivations were not computed" in page.locator("main").inner_text()
        assert page.locator("[data-matrix=claims] td", has_text="1").count() >= 1  # the claims still travel
        doc = old.documents.find_one({"external_id": "000_0fc2040b98299895"})
        page.goto(w.url + "/documents/" + doc["_id"])
        assert "Derivations were not computed" in page.locator("main").inner_text()
        assert page.locator("table.derivs a[href^='/documents/']").count() >= 1  # matched documents instead
        page.goto(w.url + "/claims/" + quote(_debka(corpus)["_id"], safe=""))
        assert "not computed for this database" in page.locator("dl.facts").inner_text()
        ctx.close()
    finally:
        w.stop()
        src.client.drop_database(old.name)


def test_top_claims_artifact_links_to_the_explorer(corpus, prefect_api):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    run = corpus["mdb"].runs.find_one({"_id": corpus["xss_run"]["run_id"]})
    deadline = time.monotonic() + 30
    with get_client(sync_client=True) as client:
        while True:
            arts = {a.key: a for a in client.read_artifacts(artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[run["flow_run_id"]])))}
            if "top-claims" in arts or time.monotonic() > deadline:
                break
            time.sleep(1)
    md = str(arts["top-claims"].data)
    top = corpus["mdb"].clusters.find_one({}, sort=[("n_outlets", -1), ("size", -1), ("_id", 1)])
    assert "http://127.0.0.1:9/claims/" in md
    assert f"http://127.0.0.1:9/claims/{quote(top['_id'], safe='')}" in md


def test_a_new_run_reaches_the_open_explorer(prefect_api, newsdedup_home, browser, tmp_path):
    """The explorer keeps serving while a run writes, then shows the new claims without a restart."""
    db = f"live_{uuid.uuid4().hex[:8]}"
    cli("run", str(_xss_input(tmp_path)), "--db", db)
    w = start_web(db)
    try:
        ctx = browser.new_context()
        page = ctx.new_page()
        page.goto(w.url + "/claims")
        assert page.locator("tr.claim-row", has_text="ديبكا").count() == 0
        cli("run", "--db", db)  # the seeds
        deadline = time.monotonic() + 90
        seen_banner = False
        while time.monotonic() < deadline:
            page.goto(w.url + "/claims")
            seen_banner = seen_banner or page.locator(".banner").count() > 0
            if page.locator("tr.claim-row", has_text="ديبكا").count() == 1:
                break
            time.sleep(1)
        assert page.locator("tr.claim-row", has_text="ديبكا").count() == 1
        ctx.close()
    finally:
        w.stop()


def test_document_and_outlets_pages_show_real_derivations(web, page, corpus):
    """The derivation rows the run wrote, as a reader meets them: the later document of a derived pair
    says which one it derives from and how, the earlier one that it is its source, and the outlets
    page counts the derived document in the source → outlet matrix."""
    mdb = corpus["mdb"]
    rows = [r for r in mdb.derivations.find() if r["derivation"] in ("wholly", "partially") and r["source_doc_id"]]
    assert rows, "the seeds and the injection file give at least one derived pair with a known source"
    r = min(rows, key=lambda x: x["_id"])
    src = r["source_doc_id"]
    derived = r["b_doc_id"] if src == r["a_doc_id"] else r["a_doc_id"]
    docs = {d["_id"]: d for d in mdb.documents.find({"_id": {"$in": [src, derived]}}, {"outlet": 1, "title": 1})}
    cov = r["b_coverage"] if derived == r["b_doc_id"] else r["a_coverage"]

    href = {d: "/documents/" + quote(d, safe="") for d in (src, derived)}
    page.goto(web.url + href[derived])
    row = page.locator("table.derivs tr.rel-derives-from", has=page.locator(f"a[href='{href[src]}']"))
    assert row.count() == 1
    cells = row.locator("td").all_inner_texts()
    assert cells[0].startswith("derives from") and cells[4] == r["derivation"]
    assert cells[5] == f"{100 * cov:.1f}%"
    page.goto(web.url + href[src])
    back = page.locator("table.derivs tr.rel-source-of", has=page.locator(f"a[href='{href[derived]}']"))
    assert back.count() == 1 and back.locator("td").nth(4).inner_text() == r["derivation"]

    page.goto(web.url + "/outlets")
    matrix = page.locator("[data-matrix=derived]")
    assert matrix.count() == 1
    cell = matrix.locator(f"td[title*='derived from {docs[src]['outlet']}']").filter(
        has_text=re.compile(r"^\d+$")).all_inner_texts()
    assert cell and all(int(n) >= 1 for n in cell)
    assert page.dialogs == []
