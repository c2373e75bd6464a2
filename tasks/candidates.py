"""Candidate pairs for alignment: an inverted index over hashed word shingles.

Why this shape:
- Each document contributes the *set* of its usable word n-gram hashes
  (:attr:`Prepared.shingles`, boilerplate-excluded n-grams and n-grams made only of
  function words left out). Small n (3) keeps short, lightly edited sentences findable.
- Posting lists are two parallel numpy arrays sorted by hash (``keys`` int64, ``docs``
  int32), so lookups are ``searchsorted`` and the candidate join is vectorized;
  no Python loop over documents or pairs.
- A document-frequency cap: a shingle seen in more than ``df_cap`` documents is a stock
  phrase or boilerplate; its postings are dropped for good and its hash goes to the
  ``stop`` array, so it can neither blow up the index nor create candidate pairs.
- A pair becomes a candidate when it shares at least ``min_shared`` capped shingles, a
  shingle in more than ``rare_df`` documents counting only ``common_weight`` (two rare
  3-grams make a candidate, a 4-word stock phrase does not); only pairs that share
  something are ever looked at (never all pairs).
- Word shuffling destroys n-grams, so a second, order-free channel indexes the
  document's rare content words (unigrams, own and much lower DF cap); a pair that
  shares at least ``min_shared_words`` of them is a candidate too.
- A word document-frequency table (every token, no cap) gives the aligner the corpus
  rarity its evidence is weighed with (:meth:`CandidateIndex.rarity`,
  :mod:`~newsdedup.tasks.evidence`).
- ``save``/``load`` write plain ``.npy`` files plus a JSON list of doc ids, so the next
  run indexes only new documents and queries them against everything stored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from .align import Prepared
from .evidence import COMMON_DF, Rarity

__all__ = ["CandidateIndex", "doc_shingles"]

_FORMAT = 2  # 2: the word document-frequency table


def doc_shingles(p: Prepared) -> np.ndarray:
    """Sorted unique int64 shingle hashes a document contributes to the index."""
    return np.unique(p.shingles[p.shingle_ok])


def doc_words(p: Prepared, min_len: int = 4) -> np.ndarray:
    """Sorted unique ids of the content words (>= ``min_len`` chars, not excluded) of a document."""
    ok = p.content & ~p.excluded & (p.wlen >= min_len)
    return np.unique(p.ids[ok])


def _runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first index, length) of each run of equal values in a sorted array."""
    if not len(keys):
        z = np.zeros(0, np.int64)
        return z, z
    flag = np.empty(len(keys), dtype=bool)
    flag[0] = True
    np.not_equal(keys[1:], keys[:-1], out=flag[1:])
    start = np.flatnonzero(flag)
    return start, np.diff(np.append(start, len(keys)))


def _save_arrays(d: Path, prefix: str, arrays: dict[str, np.ndarray]) -> None:
    """Write ``<prefix><name>.npy`` per array, each by an atomic rename."""
    for name, arr in arrays.items():
        tmp = d / f"{prefix}{name}.npy.tmp"
        with open(tmp, "wb") as fh:
            np.save(fh, arr)
        os.replace(tmp, d / f"{prefix}{name}.npy")


def _load_arrays(d: Path, prefix: str, names: Sequence[str]) -> list[np.ndarray]:
    return [np.load(d / f"{prefix}{name}.npy") for name in names]


class _Postings:
    """One channel: sorted (key, doc) postings with a DF cap and a stop list."""

    def __init__(self, df_cap: int, min_shared: float, rare_df: int | None = None, common_weight: float = 1.0) -> None:
        self.df_cap = int(df_cap)
        self.min_shared = float(min_shared)
        self.rare_df = int(rare_df) if rare_df is not None else int(df_cap)
        self.common_weight = float(common_weight)
        self.keys = np.zeros(0, dtype=np.int64)
        self.docs = np.zeros(0, dtype=np.int32)
        self.stop = np.zeros(0, dtype=np.int64)

    def _drop_stopped(self, keys: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(self.stop) and len(keys):
            keep = ~np.isin(keys, self.stop)
            return keys[keep], docs[keep]
        return keys, docs

    def _combined(self, keys: np.ndarray, docs: np.ndarray):
        """Stored postings + new ones, sorted, with the cap applied: (keys, docs, newly stopped)."""
        keys, docs = self._drop_stopped(keys, docs)
        if not len(keys):  # nothing new: the stored postings are sorted and capped already
            return self.keys, self.docs, np.zeros(0, np.int64)
        order = np.lexsort((docs, keys))
        keys, docs = keys[order], docs[order]
        if len(self.keys) and int(docs.min()) > int(self.docs.max()):
            # documents numbered after every stored one (a run's new documents): merge into the
            # sorted postings, each after the stored ones of its key, instead of sorting them all again;
            # the stored postings are capped already, so only keys of new postings can go over the cap
            # (counted by two binary searches each instead of a pass over every posting)
            at = np.searchsorted(self.keys, keys, side="right")
            start, cnt = _runs(keys)
            uniq = keys[start]
            stored = np.searchsorted(self.keys, uniq, side="right") - np.searchsorted(self.keys, uniq, side="left")
            over_keys = uniq[stored + cnt > self.df_cap]
            keys, docs = np.insert(self.keys, at, keys), np.insert(self.docs, at, docs)
            if not len(over_keys):
                return keys, docs, np.zeros(0, np.int64)
            lo = np.searchsorted(keys, over_keys, side="left")
            hi = np.searchsorted(keys, over_keys, side="right")
            keep = np.ones(len(keys), dtype=bool)
            span = hi - lo
            keep[np.repeat(lo - np.cumsum(span) + span, span) + np.arange(int(span.sum()))] = False
            return keys[keep], docs[keep], over_keys
        elif len(self.keys):
            keys = np.concatenate([self.keys, keys])
            docs = np.concatenate([self.docs, docs])
            order = np.lexsort((docs, keys))
            keys, docs = keys[order], docs[order]
        start, cnt = _runs(keys)  # keys are sorted: counts without another sort
        uniq = keys[start]
        over = cnt > self.df_cap
        if not over.any():
            return keys, docs, np.zeros(0, np.int64)
        keep = ~np.repeat(over, cnt)
        return keys[keep], docs[keep], uniq[over]

    def add(self, keys: np.ndarray, docs: np.ndarray) -> None:
        keys, docs, stopped = self._combined(keys, docs)
        if len(stopped):
            self.stop = np.union1d(self.stop, stopped)
        self.keys, self.docs = keys, docs

    def pair_counts(self, keys: np.ndarray, docs: np.ndarray, is_query: np.ndarray, chunk: int,
                    limit: int | None = None):
        """(pair codes lo*N+hi, shared counts) of query docs with everything, count >= min_shared.

        ``limit``: partners must be query documents or indexed documents numbered below it."""
        keys, docs, _ = self._combined(keys, docs)
        big = np.int64(len(is_query))
        qmask = is_query[docs]
        qk, qd = keys[qmask], docs[qmask]
        found: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        for s in range(0, len(qk), chunk):
            k, d = qk[s : s + chunk], qd[s : s + chunk]
            lo = np.searchsorted(keys, k, "left")
            ln = np.searchsorted(keys, k, "right") - lo
            total = int(ln.sum())
            if not total:
                continue
            rep = np.repeat(np.arange(len(k)), ln)
            off = np.arange(total) - np.repeat(np.cumsum(ln) - ln, ln) + np.repeat(lo, ln)
            me = d[rep].astype(np.int64)
            other = docs[off].astype(np.int64)
            w = np.where(ln <= self.rare_df, 1.0, self.common_weight)[rep]
            ok = (other != me) & (~is_query[other] | (other > me))
            if limit is not None:
                ok &= is_query[other] | (other < limit)
            me, other, w = me[ok], other[ok], w[ok]
            found.append(np.minimum(me, other) * big + np.maximum(me, other))
            weights.append(w)
        if not found:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        codes, inv = np.unique(np.concatenate(found), return_inverse=True)
        cnt = np.bincount(inv, weights=np.concatenate(weights))
        sel = cnt >= self.min_shared - 1e-9
        return codes[sel], cnt[sel]

    def save(self, d: Path, prefix: str) -> None:
        _save_arrays(d, prefix, {"keys": self.keys, "docs": self.docs, "stop": self.stop})

    def load(self, d: Path, prefix: str) -> None:
        self.keys, self.docs, self.stop = _load_arrays(d, prefix, ("keys", "docs", "stop"))


class _DocFreq:
    """Documents containing each token id: sorted ``keys`` with their ``counts`` (no cap)."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.int64)
        self.counts = np.zeros(0, dtype=np.int64)

    def add(self, ids: np.ndarray) -> None:
        """Count ``ids``: the concatenated unique token ids of some new documents."""
        if not len(ids):
            return
        u, c = np.unique(ids, return_counts=True)
        if not len(self.keys):
            self.keys, self.counts = u, c.astype(np.int64)
            return
        keys = np.union1d(self.keys, u)
        counts = np.zeros(len(keys), dtype=np.int64)
        counts[np.searchsorted(keys, self.keys)] += self.counts
        counts[np.searchsorted(keys, u)] += c
        self.keys, self.counts = keys, counts

    def save(self, d: Path, prefix: str) -> None:
        _save_arrays(d, prefix, {"keys": self.keys, "counts": self.counts})

    def load(self, d: Path, prefix: str) -> None:
        self.keys, self.counts = _load_arrays(d, prefix, ("keys", "counts"))


class CandidateIndex:
    """Inverted index over hashed normalized word shingles with a document-frequency cap; persistent."""

    def __init__(self, df_cap: int = 100, min_shared: float = 2, rare_df: int = 20, common_weight: float = 0.25,
                 word_df_cap: int = 10, min_shared_words: int = 10, word_min_len: int = 4,
                 chunk: int = 1_000_000) -> None:
        self.shingle = _Postings(df_cap, min_shared, rare_df, common_weight)
        self.word = _Postings(word_df_cap, min_shared_words)
        self.word_min_len = int(word_min_len)
        self.df = _DocFreq()
        self.chunk = int(chunk)
        self.doc_ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._pending: list = []  # postings of documents added with commit=False

    # ------------------------------------------------------------ basics
    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._pos

    def __len__(self) -> int:
        return len(self.doc_ids)

    @property
    def df_cap(self) -> int:
        return self.shingle.df_cap

    def stats(self) -> dict:
        return {"docs": len(self.doc_ids),
                "shingle_postings": int(len(self.shingle.keys)), "stopped_shingles": int(len(self.shingle.stop)),
                "word_postings": int(len(self.word.keys)), "stopped_words": int(len(self.word.stop)),
                "vocabulary": int(len(self.df.keys)),
                "df_cap": self.shingle.df_cap, "word_df_cap": self.word.df_cap}

    def rarity(self, min_df: int = COMMON_DF) -> Rarity:
        """The corpus statistics the aligner weighs evidence with: document frequencies of every
        word of the indexed documents and the stock n-grams (:meth:`common_shingles`)."""
        self.commit()
        return Rarity(len(self.doc_ids), self.df.keys, self.df.counts, self.common_shingles(min_df))

    def _entries(self, prepared: Sequence[Prepared], numbers: Sequence[int]):
        hs = [doc_shingles(p) for p in prepared]
        ws = [doc_words(p, self.word_min_len) for p in prepared]
        nums = np.asarray(list(numbers), dtype=np.int32)
        if not len(nums):
            z = np.zeros(0, np.int64), np.zeros(0, np.int32)
            return z, z
        sk = np.concatenate(hs)
        sd = np.repeat(nums, [len(h) for h in hs])
        wk = np.concatenate(ws)
        wd = np.repeat(nums, [len(w) for w in ws])
        return (sk, sd), (wk, wd)

    def common_shingles(self, min_df: int = 20) -> np.ndarray:
        """Sorted hashes of shingles in at least ``min_df`` indexed documents (all those
        over the cap included): stock phrases, for :func:`align_pairs`' ``common``."""
        self.commit()
        keys = self.shingle.keys  # sorted: a key is in >= min_df postings iff some key[i] == key[i + min_df - 1]
        k = max(int(min_df), 1) - 1
        if k == 0:
            frequent = keys
        else:
            head = keys[:-k] if len(keys) > k else keys[:0]
            frequent = head[head == keys[k:]]  # one pass of comparisons, not a run table over every posting
        return np.union1d(frequent, self.shingle.stop)

    # ------------------------------------------------------------ building
    def add(self, prepared: Sequence[Prepared], commit: bool = True) -> None:
        """Index documents not indexed yet (idempotent by doc_id).

        ``commit=False`` only numbers the documents and keeps their postings aside until
        :meth:`commit`: many batches are then merged with one sort instead of one each."""
        new: list[Prepared] = []
        taken: set[str] = set()
        for p in prepared:
            if p.doc_id not in self._pos and p.doc_id not in taken:
                taken.add(p.doc_id)
                new.append(p)
        if not new:
            return
        base = len(self.doc_ids)
        for k, p in enumerate(new):
            self._pos[p.doc_id] = base + k
            self.doc_ids.append(p.doc_id)
        self._pending.append((*self._entries(new, range(base, base + len(new))),
                              np.concatenate([np.unique(p.ids) for p in new])))
        if commit:
            self.commit()

    def commit(self) -> None:
        """Merge the postings of documents added with ``commit=False`` into the index."""
        if not self._pending:
            return
        parts, self._pending = self._pending, []
        for k, chan in enumerate((self.shingle, self.word)):
            chan.add(np.concatenate([p[k][0] for p in parts]), np.concatenate([p[k][1] for p in parts]))
        self.df.add(np.concatenate([p[2] for p in parts]))

    # ------------------------------------------------------------ querying
    def candidates(self, prepared: Sequence[Prepared], upto: int | None = None) -> list[tuple[str, str]]:
        """Pairs (doc_id, other_doc_id), ids sorted within the pair, deduplicated and sorted,
        of the given documents with each other and with everything indexed before."""
        return [pair for pair, _ in self.candidate_counts(prepared, upto)]

    def position(self, doc_id: str) -> int:
        """Number of an indexed document (documents are numbered in the order they were added)."""
        return self._pos[doc_id]

    def candidate_counts(self, prepared: Sequence[Prepared], upto: int | None = None
                         ) -> list[tuple[tuple[str, str], tuple[int, int]]]:
        """Like :meth:`candidates`, with (weighted shared shingles, shared rare words) of each pair.

        ``upto``: only partners among the first ``upto`` indexed documents (and the query
        itself). A run that indexes all its documents first (so that document frequencies,
        caps and stock phrases are those of the whole corpus, whatever the batch order) then
        queries batch after batch with ``upto`` = the end of the batch: each pair once."""
        self.commit()
        seen: dict[str, int] = {}
        names = list(self.doc_ids)
        new: list[Prepared] = []
        for p in prepared:
            if p.doc_id in seen:
                continue
            if p.doc_id in self._pos:
                seen[p.doc_id] = self._pos[p.doc_id]
            else:
                seen[p.doc_id] = len(names)
                names.append(p.doc_id)
                new.append(p)
        if not seen:
            return []
        is_query = np.zeros(len(names), dtype=bool)
        is_query[list(seen.values())] = True
        (sk, sd), (wk, wd) = self._entries(new, [seen[p.doc_id] for p in new])
        c1, n1 = self.shingle.pair_counts(sk, sd, is_query, self.chunk, upto)
        c2, n2 = self.word.pair_counts(wk, wd, is_query, self.chunk, upto)
        codes = np.union1d(c1, c2)
        s_cnt = np.zeros(len(codes), np.float64)
        w_cnt = np.zeros(len(codes), np.float64)
        s_cnt[np.searchsorted(codes, c1)] = n1
        w_cnt[np.searchsorted(codes, c2)] = n2
        big = len(names)
        out = []
        for c, x1, x2 in zip(codes.tolist(), s_cnt.tolist(), w_cnt.tolist()):
            x, y = names[c // big], names[c % big]
            out.append(((x, y) if x < y else (y, x), (round(x1, 2), int(x2))))
        out.sort()
        return out

    # ------------------------------------------------------------ persistence
    def save(self, directory: Path) -> None:
        """Write the index as .npy arrays + JSON (atomic renames; meta.json last)."""
        self.commit()
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        self.shingle.save(d, "shingle_")
        self.word.save(d, "word_")
        self.df.save(d, "df_")
        meta = {"format": _FORMAT, "df_cap": self.shingle.df_cap, "min_shared": self.shingle.min_shared,
                "rare_df": self.shingle.rare_df, "common_weight": self.shingle.common_weight,
                "word_df_cap": self.word.df_cap, "min_shared_words": self.word.min_shared,
                "word_min_len": self.word_min_len, "doc_ids": self.doc_ids}
        tmp = d / "meta.json.tmp"
        tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, d / "meta.json")

    @classmethod
    def load(cls, directory: Path, **kwargs) -> "CandidateIndex":
        """Load a saved index; an empty one (built with ``kwargs``) if nothing is there."""
        d = Path(directory)
        meta_p = d / "meta.json"
        if not meta_p.exists():
            return cls(**kwargs)
        meta = json.loads(meta_p.read_text(encoding="utf-8"))
        if meta.get("format") != _FORMAT:
            raise ValueError(f"{d}: index format {meta.get('format')} != {_FORMAT}; delete it to rebuild")
        try:
            idx = cls(df_cap=meta["df_cap"], min_shared=meta["min_shared"], rare_df=meta["rare_df"],
                      common_weight=meta["common_weight"], word_df_cap=meta["word_df_cap"],
                      min_shared_words=meta["min_shared_words"], word_min_len=meta["word_min_len"],
                      **{k: v for k, v in kwargs.items() if k == "chunk"})
            idx.doc_ids = list(meta["doc_ids"])
            idx._pos = {x: i for i, x in enumerate(idx.doc_ids)}
            idx.shingle.load(d, "shingle_")
            idx.word.load(d, "word_")
            idx.df.load(d, "df_")
        except (KeyError, FileNotFoundError) as exc:  # written by an early development version
            raise ValueError(f"{d}: incomplete or outdated candidate index ({exc}); delete it to rebuild") from exc
        return idx
