"""URLs of the claim explorer's pages, for links from outside it (the Prefect ``top-claims`` artifact).

Kept free of any web-framework import so the flow can use it cheaply. Ids are
percent-encoded as one path segment (cluster ids hold ``:``, which is fine in a
path but not in every Markdown renderer's link parser).
"""

from __future__ import annotations

import os
from urllib.parse import quote

WEB_URL_ENV = "NEWSDEDUP_WEB_URL"


def _join(base_url: str, *parts: str) -> str:
    return base_url.rstrip("/") + "/" + "/".join(quote(str(p), safe="") for p in parts)


def claim_url(base_url: str, cluster_id: str) -> str:
    """The claim page of ``cluster_id`` on the explorer at ``base_url`` (e.g. ``http://127.0.0.1:8765``)."""
    return _join(base_url, "claims", cluster_id)


def document_url(base_url: str, doc_id: str) -> str:
    """The document page of ``doc_id`` on the explorer at ``base_url``."""
    return _join(base_url, "documents", doc_id)


def configured_base_url() -> str | None:
    """The explorer's base URL from ``NEWSDEDUP_WEB_URL`` (None when unset or not http(s))."""
    url = (os.environ.get(WEB_URL_ENV) or "").strip()
    return url if url.startswith(("http://", "https://")) else None
