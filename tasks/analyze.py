"""One document through the text stages: segment → language → dateline → boilerplate.

Kept separate from the flow so the whole per-document path is one plain function
(testable without Prefect or MongoDB) and so batches can be shipped to any task
runner (threads, processes, Dask) as plain data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .boilerplate import clean_text, document_line_keys, flag_boilerplate
from .dateline import find_dateline
from .ids import passage_id
from .language import detect_document, warm_up
from .parallel import fork_map, shared
from .segment import segment

__all__ = ["analyze_document", "analyze_batch", "assign_cluster", "expand_passages", "line_keys_of", "passage_id"]


def line_keys_of(text: str) -> list[str]:
    """Sorted distinct line keys of a text, for the per-outlet line statistics."""
    return sorted(document_line_keys(text, segment(text)))


def analyze_document(doc: Mapping[str, Any], outlet_docs: int = 0,
                     outlet_key_counts: Mapping[str, int] | None = None) -> dict:
    """Analyze one document; returns the fields to store on it.

    Passages are kept compact on the document (``segments``: start, end, line,
    sentence, lang, confidence, boilerplate, reason) and expanded into the
    ``passages`` collection by :func:`expand_passages` once their clusters are
    known, so each passage is written once, never updated.
    """
    text: str = doc["text"]
    segs = segment(text)
    spans = [(s.start, s.end) for s in segs]
    (lang, conf), seg_langs = detect_document(text, spans, hint=doc.get("language"))
    flags = flag_boilerplate(text, segs, outlet_key_counts=outlet_key_counts, outlet_docs=outlet_docs,
                             title=doc.get("title"))
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
        "line_keys": sorted(document_line_keys(text, segs)),
        "n_passages": len(segments),
        "n_boilerplate": sum(1 for s in segments if s[6]),
    }


def assign_cluster(start: int, end: int, spans: Iterable[Sequence[Any]]) -> str | None:
    """The cluster whose member span overlaps ``[start, end)`` most (ties: smallest id), else None."""
    best: tuple[int, str] | None = None
    for s0, e0, cid in spans:
        ov = min(e0, end) - max(s0, start)
        if ov > 0 and (best is None or ov > best[0] or (ov == best[0] and cid < best[1])):
            best = (ov, cid)
    return best[1] if best else None


def expand_passages(doc: Mapping[str, Any], cluster_spans: Iterable[Sequence[Any]] = ()) -> list[dict]:
    """Passage records of a stored document from its ``segments`` (see :func:`analyze_document`)."""
    text: str = doc["text"]
    spans = list(cluster_spans)
    out = []
    for start, end, line, sentence, lang, conf, bp, reason in doc.get("segments") or ():
        pid = passage_id(doc["doc_id"], start)
        out.append({
            "_id": pid, "passage_id": pid, "doc_id": doc["doc_id"], "external_id": doc["external_id"],
            "outlet": doc.get("outlet"), "start": start, "end": end, "text": text[start:end],
            "lang": lang, "lang_confidence": conf, "boilerplate": bool(bp), "boilerplate_reason": reason,
            "cluster_id": None if bp else assign_cluster(start, end, spans),
            "line": line, "sentence": sentence,
        })
    return out


def _analyze_chunk(docs: Sequence[Mapping[str, Any]]) -> list[dict]:
    stats = shared["outlet_stats"]
    out = []
    for d in docs:
        n, counts = stats.get(d.get("outlet"), (0, {}))
        out.append(analyze_document(d, n, counts))
    return out


def analyze_batch(docs: Sequence[Mapping[str, Any]],
                  outlet_stats: Mapping[str | None, tuple[int, Mapping[str, int]]], workers: int = 1) -> list[dict]:
    """Analyze a batch; ``outlet_stats`` maps outlet → (documents, {line key: documents with it}).

    ``workers > 1`` forks processes (:func:`parallel.fork_map`); the output is the same.
    """
    if workers > 1:
        warm_up()  # load langdetect's profiles before forking: children must not race for its lock
    parts = fork_map(_analyze_chunk, list(docs), workers=workers, chunk_size=max(1, -(-len(docs) // max(1, workers))),
                     state={"outlet_stats": outlet_stats})
    return [f for part in parts for f in part]
