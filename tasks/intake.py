"""The read stage: inputs → the records of new documents and of rejects, in two passes over one read.

Which inputs are read at all (:func:`plan_inputs`): a file is known by its sha256 *and the reading
options* that shape its documents (``--map``, ``--outlet``, the manifest's content), and only once a
run stored (or found stored) documents from it, so a run with a mistyped ``--map`` (every record
rejected) does not stop the corrected run from reading it; ``--reprocess`` reads everything again.

Why two passes: boilerplate such as «// انتهى //» is learned from how often a line recurs across
an outlet's documents (:mod:`~newsdedup.tasks.boilerplate`), so the line counts of the run's new
documents must be known before any of them is flagged. Why one read: decoding, JSON parsing and
segmenting are most of the cost of reading, so the first pass (:func:`first_pass`) reads and
decodes every input once, segments each new document once, and spools what it read to an
anonymous temporary file; the second pass (:func:`new_records`) builds the records from the spool,
and analysis reuses the segments.

Only ids, outlets and line keys are held in memory for the whole run, whatever its size.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .analyze import segment_and_key
from .dedup import Hit
from .readers import Document, InputEntry, InputFile, Reject
from .records import document_record, duplicate_record, reject_record

__all__ = ["InputPlan", "plan_inputs", "reading_options", "input_key", "documents_per_file", "RejectTally",
           "reason_kind", "FirstPass", "first_pass", "new_records", "batches", "batch_outlet_stats", "Segments"]

Segments = list[tuple[int, int, int, int]]
OutletCounts = dict[str | None, tuple[int, Counter]]
CHECK_BATCH = 500  # documents per existence query
FIRST_FILES = 3  # files named per reject reason in a run summary


def reading_options(field_map: Mapping[str, str] | None, outlet: str | None, manifest: InputFile | None) -> dict:
    """The options that change what documents a file gives (the manifest by its content)."""
    return {"field_map": dict(sorted((field_map or {}).items())), "outlet": outlet,
            "manifest_sha256": manifest.sha256 if manifest is not None else None}


def input_key(sha256: str, options: Mapping[str, Any]) -> str:
    """The id of "this file read with these options" in the ``inputs`` collection."""
    raw = json.dumps([sha256, options], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def _input_of(source_path: str, paths: Mapping[str, Any]) -> str | None:
    """The input file a document came from: its ``source_path`` is the file's path, or ``path!member``
    for an archive member (the longest such prefix that is an input)."""
    if source_path in paths:
        return source_path
    parts = source_path.split("!")
    for k in range(len(parts) - 1, 0, -1):
        head = "!".join(parts[:k])
        if head in paths:
            return head
    return None


def documents_per_file(files: Iterable[str], source_paths: Mapping[str, int]) -> dict[str, int]:
    """How many documents each input file gave (new or already stored), from the documents read per
    ``source_path``."""
    counts: dict[str, int] = {f: 0 for f in files}
    for sp, n in source_paths.items():
        f = _input_of(sp, counts)
        if f is not None:
            counts[f] += n
    return counts


_NUMBER = re.compile(r"\d[\d,.]*")


def reason_kind(reason: str) -> str:
    """A reject reason without its numbers (line, record, column, byte counts), to group by."""
    return _NUMBER.sub("N", reason.split(" at column ", 1)[0]).strip()[:160]


class RejectTally:
    """Rejects by reason (numbers folded, see :func:`reason_kind`): each reason's count and the first
    few files it came from, for the run summary; kept as they stream by."""

    def __init__(self, first: int = FIRST_FILES):
        self.first = first
        self.counts: Counter[str] = Counter()
        self.files: dict[str, list[str]] = {}
        self.all_files: dict[str, set[str]] = {}

    def add(self, source_path: str | None, reason: str | None) -> None:
        kind = reason_kind(str(reason or "unknown"))
        self.counts[kind] += 1
        got = self.files.setdefault(kind, [])
        name = str(source_path or "?")
        self.all_files.setdefault(kind, set()).add(name)
        if name not in got and len(got) < self.first:
            got.append(name)

    def summary(self) -> list[dict]:
        """``[{reason, count, files, n_files}]``, the most frequent first: ``files`` are the first few of
        the ``n_files`` files (or archive members) the reason came from."""
        return [{"reason": k, "count": n, "files": self.files[k], "n_files": len(self.all_files[k])}
                for k, n in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))]


@dataclass
class InputPlan:
    """What a run reads: every input file found (``entries``, with ``sha256`` by path), those to read, those
    skipped because an earlier run ingested the same bytes, and the paths that cannot be used."""

    entries: list[InputEntry]
    sha256: dict[str, str]
    to_read: list[InputEntry]
    skipped: list[InputEntry]
    rejects: list[Reject]
    manifest: InputFile | None = None
    options: dict = field(default_factory=dict)

    def key(self, path: str) -> str | None:
        """The ``inputs`` id of an input file read with this plan's options."""
        sha = self.sha256.get(path)
        return input_key(sha, self.options) if sha else None

    def inputs(self) -> list[dict]:
        """The inputs as the run's provenance lists them: the files, then the manifest that gave their metadata."""
        skipped = {e.display for e in self.skipped}
        out = [{"path": e.display, "sha256": self.sha256.get(e.display), "key": self.key(e.display),
                "skipped_as_known": e.display in skipped} for e in self.entries]
        if self.manifest is not None:
            out.append({"path": self.manifest.path, "sha256": self.manifest.sha256, "role": "manifest"})
        return out

    def key_inputs(self) -> list[tuple[str, str | None]]:
        """(path, sha256) of every input file: with the parameters, what makes two runs the same run."""
        return [(e.display, self.sha256.get(e.display)) for e in self.entries]


def plan_inputs(listing: Sequence[InputEntry | Reject], digests: Mapping[str, InputFile],
                known: Callable[[list[str]], set[str]], manifest: InputFile | None = None, *,
                options: Mapping[str, Any] | None = None, reprocess: bool = False) -> InputPlan:
    """Split the walker's listing: inputs ``known(keys)`` reports as read before with the same ``options``
    (:func:`reading_options`) are skipped, unless ``reprocess``."""
    entries = [x for x in listing if isinstance(x, InputEntry)]
    plan = InputPlan(entries, {d: f.sha256 for d, f in digests.items()}, [], [],
                     [x for x in listing if isinstance(x, Reject)], manifest, dict(options or {}))
    keys = {e.display: plan.key(e.display) for e in entries}
    done = set() if reprocess else known(sorted({k for k in keys.values() if k}))
    for e in entries:
        (plan.skipped if keys[e.display] in done else plan.to_read).append(e)
    return plan


class _Spool:
    """Items appended as pickles to an anonymous temporary file (removed by the OS when closed, and
    when the process dies), then read back once in order."""

    def __init__(self, directory: Path | None) -> None:
        if directory is not None:
            Path(directory).mkdir(parents=True, exist_ok=True)
        self._fh: IO[bytes] = tempfile.TemporaryFile(prefix="newsdedup-spool-", dir=directory)
        self.n = 0

    def append(self, item: Any) -> None:
        pickle.dump(item, self._fh, protocol=pickle.HIGHEST_PROTOCOL)
        self.n += 1

    def drain(self) -> Iterator[Any]:
        self._fh.flush()
        self._fh.seek(0)
        try:
            for _ in range(self.n):
                yield pickle.load(self._fh)
        finally:
            self.close()

    def close(self) -> None:
        self._fh.close()


@dataclass
class FirstPass:
    """What the first pass learnt: the new documents' line keys (by id), this run's line counts per outlet
    (documents, Counter of line keys), the spooled items for :func:`new_records`, how many documents
    each source path gave and the rejects by reason."""

    new_keys: dict[str, list[str]] = field(default_factory=dict)
    run_counts: OutletCounts = field(default_factory=dict)
    spool: _Spool | None = None
    source_paths: Counter = field(default_factory=Counter)  # documents read (new or stored) per source_path
    rejects: RejectTally = field(default_factory=RejectTally)


def first_pass(items: Iterable[Document | Reject], stored: Callable[[list[str]], set[str]],
               spool_dir: Path | None = None, copy_of: Callable[[Document], Hit | None] | None = None) -> FirstPass:
    """Read every item once: which documents are new (``stored(ids)`` says which ids the database has),
    their segments and line keys, and per outlet how often each line recurs among them.

    ``copy_of(doc)``: the kept document a new one repeats byte for byte (see
    :meth:`~newsdedup.tasks.dedup.DedupIndex.find_key`), found before anything else is done with it:
    such a copy is neither segmented nor counted, and becomes a duplicate record."""
    out = FirstPass(spool=_Spool(spool_dir))
    seen: set[str] = set()
    pending: list[Document | Reject] = []

    def flush() -> None:
        known = stored([x.doc_id for x in pending if isinstance(x, Document) and x.doc_id not in seen])
        for x in pending:
            if isinstance(x, Reject):
                out.rejects.add(x.source_path, x.reason)
            else:
                out.source_paths[x.source_path] += 1
            if isinstance(x, Reject) or x.doc_id in seen or x.doc_id in known:
                out.spool.append((x, None, None))  # a reject, a document stored already or repeated in this run
                continue
            seen.add(x.doc_id)
            out.new_keys[x.doc_id] = []
            hit = copy_of(x) if copy_of is not None else None
            if hit is not None:
                out.spool.append((x, None, hit))
                continue
            segs, keys = segment_and_key(x.text)
            out.new_keys[x.doc_id] = keys
            n, c = out.run_counts.get(x.outlet, (0, Counter()))
            c.update(keys)
            out.run_counts[x.outlet] = (n + 1, c)
            out.spool.append((x, segs, None))
        pending.clear()

    try:
        for item in items:
            pending.append(item)
            if len(pending) >= CHECK_BATCH:
                flush()
        flush()
    except BaseException:
        out.spool.close()
        raise
    return out


def new_records(first: FirstPass, run_id: str, next_seq: int, counts: Counter
                ) -> Iterator[tuple[str, dict, Segments | None]]:
    """The second pass: ``("document", record, segments)`` for every new document (``ingest_seq`` from
    ``next_seq`` on, in input order), ``("duplicate", record, None)`` for every copy the first pass
    recognised and ``("reject", record, None)`` for every reject. ``counts`` receives ``documents_read``,
    ``documents_known``, ``documents_duplicate_in_run`` and ``rejects``."""
    assert first.spool is not None
    seen: set[str] = set()
    seq = next_seq
    for item, segs, hit in first.spool.drain():
        if isinstance(item, Reject):
            counts["rejects"] += 1
            yield "reject", reject_record(item, run_id), None
            continue
        counts["documents_read"] += 1
        if item.doc_id in seen or item.doc_id not in first.new_keys:
            counts["documents_known" if item.doc_id not in seen else "documents_duplicate_in_run"] += 1
            continue
        seen.add(item.doc_id)
        record = document_record(item, run_id, seq, first.new_keys[item.doc_id])
        seq += 1
        if hit is not None:
            yield "duplicate", duplicate_record(record, hit.doc_id, hit.kind, hit.lang, hit.lang_confidence), None
        else:
            yield "document", record, segs


def batches(first: FirstPass, run_id: str, next_seq: int, counts: Counter, batch_size: int,
            reject_batch: int = 500) -> Iterator[tuple[str, list[dict], dict[str, Segments]]]:
    """:func:`new_records` in batches: ``("documents", records, segments by doc id)`` of ``batch_size``
    documents, ``("duplicates", records, {})`` and ``("rejects", records, {})`` of ``reject_batch``, the
    last ones shorter."""
    docs: list[dict] = []
    segments: dict[str, Segments] = {}
    held: dict[str, list[dict]] = {"reject": [], "duplicate": []}
    for kind, record, segs in new_records(first, run_id, next_seq, counts):
        if kind in held:
            held[kind].append(record)
            if len(held[kind]) >= reject_batch:
                yield kind + "s", held[kind], {}
                held[kind] = []
            continue
        docs.append(record)
        segments[record["doc_id"]] = segs or []
        if len(docs) >= batch_size:
            yield "documents", docs, segments
            docs, segments = [], {}
    if docs:
        yield "documents", docs, segments
    for kind, rest in held.items():
        if rest:
            yield kind + "s", rest, {}


def batch_outlet_stats(batch: Sequence[Mapping[str, Any]], stats: Mapping[str | None, tuple[int, Mapping[str, int]]]
                       ) -> dict[str | None, tuple[int, dict[str, int]]]:
    """The part of the per-outlet line counts a batch of records needs (its outlets, its line keys):
    analysis tasks receive this, not the counts of the whole corpus."""
    keys = {k for d in batch for k in d["line_keys"]}
    out = {}
    for o in {d.get("outlet") for d in batch}:
        total, c = stats.get(o, (0, {}))
        out[o] = (total, {k: c[k] for k in keys if k in c})
    return out
