#!/usr/bin/env python3
"""Screenshots of the claim explorer's pages for the README (docs/explorer-<name>-<page>.png).

usage: NEWSDEDUP_HOME=... python docs/make_screenshots.py --db seeds --name seeds
       NEWSDEDUP_HOME=... python docs/make_screenshots.py --db saudi --name saudinewsnet \\
           --claim-filter "attribution=رويترز"

Starts the real ``newsdedup web --port 0`` on the database and photographs, with
Debian's headless Chromium (Playwright, ``executable_path``), the claims list, a
claim (the first one of the list, or of ``--claim-filter``), that claim's first-seen
document, the outlets and the runs page, and a 404 page. Pages taller than
``--max-height`` pixels are cut there.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, unquote

DOCS = Path(__file__).resolve().parent
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--name", required=True, help="file name part, e.g. seeds")
    ap.add_argument("--claim-filter", default="", help="query string picking the claim to show, e.g. attribution=X")
    ap.add_argument("--search", default="", help="also photograph the list searched for this text")
    ap.add_argument("--max-height", type=int, default=2000)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    proc = subprocess.Popen([sys.executable, "-m", "newsdedup.cli", "web", "--db", args.db, "--port", "0"],
                            stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        line = proc.stdout.readline()
        m = re.search(r"(http://\S+?)/ ", line)
        if not m:
            raise SystemExit(f"newsdedup web did not start: {line!r}")
        base = m.group(1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)

            def shot(page_name: str, path: str) -> None:
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                height = page.evaluate("() => document.documentElement.scrollHeight")
                out = DOCS / f"explorer-{args.name}-{page_name}.png"
                page.screenshot(path=str(out), full_page=True,
                                clip={"x": 0, "y": 0, "width": 1280, "height": min(height, args.max_height)})
                print(out.relative_to(DOCS.parent), f"{min(height, args.max_height)} px of {height}")

            shot("claims", "/claims")
            if args.search:
                shot("search", "/claims?q=" + quote(args.search))
            page.goto(base + "/claims" + (("?" + args.claim_filter) if args.claim_filter else ""))
            href = unquote(page.locator("tr.claim-row td.rep a").first.get_attribute("href"))
            claim_path = "/claims/" + quote(href.split("/claims/", 1)[1], safe="")
            shot("claim", claim_path)
            page.goto(base + claim_path)
            doc = page.locator(".fs-cell a[href^='/documents/']").first.get_attribute("href")
            shot("document", doc)
            shot("outlets", "/outlets")
            shot("runs", "/runs")
            shot("error", "/claims?outlet%5B%24ne%5D=x")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
