"""One document through the text stages: segment → language → dateline → boilerplate.

Kept separate from the flow so the whole per-document path is one plain function
(testable without Prefect or MongoDB) and so batches can be shipped to any task
runner (threads, processes, Dask) as plain data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .boilerplate import clean_text, document_line_keys, flag_boilerplate
from .dateline import find_dateline
from .language import detect_document
from .segment import segment

__all__ = ["analyze_document", "analyze_batch", "line_keys_of", "passage_id"]


def passage_id(doc_id: str, start: int) -> str:
    """Passage identity: its document and start offset (stable across runs)."""
    return f"{doc_id}:{start}"


def line_keys_of(text: str) -> list[str]:
    """Sorted distinct line keys of a text, for the per-outlet line statistics."""
    return sorted(document_line_keys(text, segment(text)))


def analyze_document(doc: Mapping[str, Any], outlet_docs: int = 0,
                     outlet_key_counts: Mapping[str, int] | None = None) -> tuple[dict, list[dict]]:
    """Analyze one stored document; returns (document fields to set, passage records)."""
    text: str = doc["text"]
    doc_id: str = doc["doc_id"]
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
    passages = []
    for seg, (slang, sconf), (is_bp, reason) in zip(segs, seg_langs, flags):
        pid = passage_id(doc_id, seg.start)
        passages.append({
            "_id": pid, "passage_id": pid, "doc_id": doc_id, "external_id": doc["external_id"],
            "outlet": doc.get("outlet"), "start": seg.start, "end": seg.end, "text": text[seg.start:seg.end],
            "lang": slang, "lang_confidence": round(float(sconf), 4), "boilerplate": bool(is_bp),
            "boilerplate_reason": reason if is_bp else None, "cluster_id": None,
            "line": seg.line, "sentence": seg.sentence,
        })
    fields = {
        "doc_id": doc_id,
        "lang": lang,
        "lang_confidence": round(float(conf), 4),
        "clean_text": clean_text(text, segs, flags),
        "published": published,
        "published_source": source,
        "boilerplate_spans": [[p["start"], p["end"]] for p in passages if p["boilerplate"]],
        "n_passages": len(passages),
        "n_boilerplate": sum(p["boilerplate"] for p in passages),
    }
    return fields, passages


def analyze_batch(docs: Sequence[Mapping[str, Any]],
                  outlet_stats: Mapping[str | None, tuple[int, Mapping[str, int]]]) -> tuple[list[dict], list[dict]]:
    """Analyze a batch; ``outlet_stats`` maps outlet → (documents, {line key: documents with it})."""
    fields_out: list[dict] = []
    passages_out: list[dict] = []
    for d in docs:
        n, counts = outlet_stats.get(d.get("outlet"), (0, {}))
        fields, passages = analyze_document(d, n, counts)
        fields_out.append(fields)
        passages_out.extend(passages)
    return fields_out, passages_out
