"""One document through the text stages: segment → language → dateline → boilerplate.

Kept separate from the flow so the whole per-document path is one plain function
(testable without Prefect or MongoDB) and so batches can be shipped to any task
runner (threads, processes, Dask) as plain data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from .boilerplate import clean_text, document_line_keys, flag_boilerplate
from .dateline import find_dateline
from .dedup import DedupIndex, body_spans, signature
from .language import detect_document, warm_up
from .parallel import fork_map, shared
from .segment import Segment, segment

__all__ = ["analyze_document", "analyze_batch", "segment_and_key"]


def segment_and_key(text: str) -> tuple[list[tuple[int, int, int, int]], list[str]]:
    """A text's segments (compact: start, end, line, sentence) and its sorted distinct line keys: what
    the read stage needs before any document is flagged, kept so that analysis does not segment again."""
    segs = segment(text)
    return [(s.start, s.end, s.line, s.sentence) for s in segs], sorted(document_line_keys(text, segs))


def analyze_document(doc: Mapping[str, Any], outlet_docs: int = 0,
                     outlet_key_counts: Mapping[str, int] | None = None,
                     segments: Sequence[tuple[int, int, int, int]] | None = None,
                     dedup: DedupIndex | None = None, upto: int | None = None) -> dict:
    """Analyze one document; returns the fields to store on it, and its ``signature`` for deduplication.

    Passages are kept compact on the document (``segments``: start, end, line,
    sentence, lang, confidence, boilerplate, reason) and expanded into the
    ``passages`` collection by :func:`~newsdedup.tasks.records.expand_passages` once their clusters are
    known, so each passage is written once, never updated.

    With ``dedup`` (the kept documents' index, looked up among its first ``upto``), a document found
    to repeat one of them stops once its body is known: the result is only ``doc_id``,
    ``signature``, ``duplicate`` (a :class:`~newsdedup.tasks.dedup.Hit`) and ``body_spans``, its
    language and everything after are never computed.
    """
    text: str = doc["text"]
    keys_known = segments is not None and doc.get("line_keys") is not None  # keyed by the read stage on these segments
    segs = [Segment(*s) for s in segments] if segments is not None else segment(text)
    flags = flag_boilerplate(text, segs, outlet_key_counts=outlet_key_counts, outlet_docs=outlet_docs,
                             title=doc.get("title"))
    body = body_spans(segs, flags)
    sig = signature(text, body, doc.get("content_sha256") or hashlib.sha256(text.encode("utf-8")).hexdigest(),
                    title=doc.get("title"))
    hit = dedup.find(sig, doc.get("outlet"), upto) if dedup is not None else None
    if hit is not None:
        return {"doc_id": doc["doc_id"], "signature": sig, "duplicate": hit, "body_spans": body}
    spans = [(s.start, s.end) for s in segs]
    (lang, conf), seg_langs = detect_document(text, spans, hint=doc.get("language"))
    dateline_date, _ = find_dateline(text, segs)
    published = doc.get("published")
    source = doc.get("published_source") or ("input" if published else None)
    if not published and dateline_date:
        published, source = dateline_date, "dateline"
    segments = [[seg.start, seg.end, seg.line, seg.sentence, slang, round(float(sconf), 4), bool(bp),
                 reason if bp else None]
                for seg, (slang, sconf), (bp, reason) in zip(segs, seg_langs, flags)]
    return {
        "doc_id": doc["doc_id"],
        "lang": lang,
        "lang_confidence": round(float(conf), 4),
        "clean_text": clean_text(text, segs, flags),
        "published": published,
        "published_source": source,
        "segments": segments,
        "boilerplate_spans": [[s[0], s[1]] for s in segments if s[6]],
        # the body: every character outside the boilerplate passages (what derivations' coverage is a share of)
        "body_chars": len(text) - sum(s[1] - s[0] for s in segments if s[6]),
        "line_keys": list(doc["line_keys"]) if keys_known else sorted(document_line_keys(text, segs)),
        "n_passages": len(segments),
        "n_boilerplate": sum(1 for s in segments if s[6]),
        "signature": sig,
    }


def _analyze_chunk(docs: Sequence[Mapping[str, Any]]) -> list[dict]:
    stats, segments, dedup, upto = shared["outlet_stats"], shared["segments"], shared["dedup"], shared["upto"]
    out = []
    for d in docs:
        n, counts = stats.get(d.get("outlet"), (0, {}))
        out.append(analyze_document(d, n, counts, segments.get(d["doc_id"]), dedup, upto))
    return out


def analyze_batch(docs: Sequence[Mapping[str, Any]],
                  outlet_stats: Mapping[str | None, tuple[int, Mapping[str, int]]], workers: int = 1,
                  segments: Mapping[str, Sequence[tuple[int, int, int, int]]] | None = None,
                  dedup: DedupIndex | None = None, upto: int | None = None) -> list[dict]:
    """Analyze a batch; ``outlet_stats`` maps outlet → (documents, {line key: documents with it});
    ``segments``: the documents' segments when the read stage made them (by doc id); ``dedup``,
    ``upto``: see :func:`analyze_document` (forked workers inherit the index, nothing is copied).

    ``workers > 1`` forks processes (:func:`parallel.fork_map`); the output is the same.
    """
    if workers > 1:
        warm_up()  # load langdetect's profiles before forking: children must not race for its lock
    parts = fork_map(_analyze_chunk, list(docs), workers=workers, chunk_size=max(1, -(-len(docs) // max(1, workers))),
                     state={"outlet_stats": outlet_stats, "segments": segments or {}, "dedup": dedup, "upto": upto})
    return [f for part in parts for f in part]
