"""Records and text files into :class:`~.model.Document` (or :class:`~.model.Reject`): field mapping,
metadata clean-up, dates, identity."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ..dates import parse_date
from ..ids import make_doc_id
from .decode import clean, clean_field, decode_bytes, redecode_escaped
from .model import FIELDS, SURROGATE_RE, Document, ReadContext, Reject

__all__ = ["parse_map", "txt_document", "make_document", "record_document", "lookup", "MISSING", "type_name"]


def parse_map(spec: str) -> dict[str, str]:
    """``"text=content,outlet=source"`` → ``{"text": "content", "outlet": "source"}``."""
    if not isinstance(spec, str):
        raise ValueError(f"--map must be a string like 'text=content,outlet=source', got {type(spec).__name__}")
    out: dict[str, str] = {}
    items = [p.strip() for p in spec.split(",")]
    if not any(items):
        raise ValueError("--map is empty; expected FIELD=SOURCE pairs such as 'text=content,outlet=source'")
    for item in items:
        if not item:
            continue
        if "=" not in item:
            raise ValueError(f"--map item {item!r} has no '='; expected FIELD=SOURCE, e.g. 'text=content'")
        target, _, source = item.partition("=")
        target, source = target.strip(), source.strip()
        if target not in FIELDS:
            raise ValueError(f"--map item {item!r}: unknown field {target!r}; known fields: {', '.join(FIELDS)}")
        if not source:
            raise ValueError(f"--map item {item!r}: no source key after '='")
        if target in out and out[target] != source:
            raise ValueError(f"--map maps field {target!r} twice ({out[target]!r} and {source!r})")
        out[target] = source
    return out


def txt_document(raw: bytes, display: str, stem: str, ctx: ReadContext, meta: dict | None) -> Document | Reject:
    dec = decode_bytes(raw)
    if isinstance(dec, str):
        return Reject(display, None, dec)
    text, enc, notes = dec
    if not text.strip():
        return Reject(display, None, "file holds only whitespace" if text else "empty file (no text)")
    external_id = stem
    fields: dict[str, Any] = {}
    if meta:
        fields = {k: meta.get(k) for k in ("outlet", "url", "published", "title", "language")}
    return make_document(text, enc, notes, display, "txt", None, external_id, fields, ctx)


def make_document(
    text: str,
    enc: str,
    notes: list[str],
    display: str,
    kind: str,
    record: int | None,
    external_id: str,
    fields: Mapping[str, Any],
    ctx: ReadContext,
) -> Document | Reject:
    size = len(text) if text.isascii() else len(text.encode("utf-8"))
    if size > ctx.max_bytes:
        return Reject(display, record, f"text too large: {size:,} bytes, over the {ctx.max_bytes:,}-byte limit")
    notes = list(notes)

    def s(name: str) -> str | None:
        v = fields.get(name)
        if v is None:
            return None
        if isinstance(v, bool) or isinstance(v, (dict, list)):
            notes.append(f"{name} ignored: expected a string, got {type_name(v)}")
            return None
        if not isinstance(v, str):
            v = str(v)
        v = clean_field(v, name, notes).strip()
        return v or None

    outlet = s("outlet") or ctx.default_outlet
    title, url, language = s("title"), s("url"), s("language")
    raw_pub = fields.get("published")
    published_raw: str | None = None
    published: str | None = None
    if raw_pub is not None and not (isinstance(raw_pub, str) and not raw_pub.strip()):
        published_raw = raw_pub if isinstance(raw_pub, str) else json.dumps(raw_pub, ensure_ascii=False)
        published_raw = clean_field(published_raw, "published", notes)
        published = parse_date(raw_pub)
        if published is None:
            shown = published_raw if len(published_raw) <= 80 else published_raw[:77] + "..."
            notes.append(f"date did not parse: {json.dumps(shown, ensure_ascii=False)}")
    content_sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Document(
        doc_id=make_doc_id(kind, external_id, content_sha),
        external_id=external_id,
        source_path=display,
        source_kind=kind,
        record=record,
        text=text,
        content_sha256=content_sha,
        encoding=enc,
        outlet=outlet,
        title=title,
        url=url,
        published=published,
        published_raw=published_raw,
        language=language,
        notes=tuple(notes),
    )


def type_name(v: object) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


MISSING = object()


def lookup(rec: Mapping[str, Any], key: str) -> Any:
    if key in rec:
        return rec[key]
    if "." in key:
        cur: Any = rec
        for part in key.split("."):
            if isinstance(cur, Mapping) and part in cur:
                cur = cur[part]
            else:
                return MISSING
        return cur
    return MISSING


def record_document(
    rec: object,
    n: int,
    display: str,
    kind: str,
    stem: str,
    enc: str,
    ctx: ReadContext,
    meta: dict | None,
) -> Document | Reject:
    where = f"line {n}" if kind == "jsonl" else f"record {n}"
    if not isinstance(rec, dict):
        return Reject(display, n, f"{where} is a JSON {type_name(rec)}, expected an object")
    src = {f: ctx.field_map.get(f, f) for f in FIELDS}
    text = lookup(rec, src["text"])
    tname = repr(src["text"]) + ("" if src["text"] == "text" else " (mapped to text)")
    if text is MISSING:
        return Reject(display, n, f"{where} has no {tname} field")
    if not isinstance(text, str):
        return Reject(display, n, f"{where}: field {tname} is a {type_name(text)}, expected a string")
    notes: list[str] = []
    if SURROGATE_RE.search(text):
        fixed = redecode_escaped(text)
        if fixed is not None:
            text, enc = fixed
            notes.append(f"text bytes were not UTF-8, decoded as {enc}")
    text, cnotes = clean(text)
    notes.extend(cnotes)
    if not text.strip():
        return Reject(display, n, f"{where}: field {tname} is empty" + (" (whitespace only)" if text else ""))
    fields: dict[str, Any] = {}
    if meta:
        fields.update({k: meta.get(k) for k in ("outlet", "url", "published", "title", "language")})
    for f in ("title", "outlet", "url", "published", "language"):
        v = lookup(rec, src[f])
        if v is not MISSING and v is not None and v != "":
            fields[f] = v
    ext_id = f"{stem}:{n}"
    rid = lookup(rec, src["id"])
    if rid is not MISSING and rid is not None:
        if isinstance(rid, bool) or isinstance(rid, (dict, list)):
            notes.append(f"id ignored: expected a string or number, got {type_name(rid)}")
        else:
            if isinstance(rid, float) and rid.is_integer():
                rid = int(rid)
            rid_s = clean_field(str(rid), "id", notes).strip()
            if rid_s:
                ext_id = rid_s
            else:
                notes.append("id ignored: empty")
    return make_document(text, enc, notes, display, kind, n, ext_id, fields, ctx)

