"""What the cluster stage knows of the database, kept in memory and on disk next to the candidate index.

Every stored match (the fields clustering reads) and every stored cluster's member spans and
content hash. Recomputing the clusters a run touches needs the matches connected to its new
ones and the stored clusters of the documents involved; read from the database that was two
queries per 25 documents for the matches and, for the clusters, whole cluster documents loaded
again for every chunk of ids (a template cluster of 2,000 members is ~1 MB): 20 s of a 90 s
one-day run over SaudiNewsNet. Here both are dictionary lookups.

It also keeps, per member span of the clusters it knows whole, the attributions found in the
member's text (:func:`~newsdedup.tasks.attribution.attributions`), so a cluster that gains members
is voted on again without reading its old members' texts (:func:`~newsdedup.tasks.cluster.grow_clusters`).

Matches of method ``rewrite`` (retold sentences, :mod:`~newsdedup.tasks.rewrite`) are kept
apart: they are evidence of document derivation, not copied passages, so clustering never sees
them; :meth:`ClusterState.pair_matches` gives a document pair's matches of both sorts, which is
what the derivations of a run's new pairs are computed from (:mod:`~newsdedup.tasks.derivation`).

It is derived data, like the index: :meth:`save` writes it with a token, and the flow trusts
the file only while the database's ``meta`` holds the same token. The flow clears that token
before it writes any match and sets it after the clusters are written, so a run killed in
between leaves a state that is not trusted, and the next run rebuilds it from the database
(:meth:`from_rows`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .persist import load_pickle, save_pickle
from .rewrite import REWRITE

__all__ = ["ClusterState", "MATCH_KEYS"]

MATCH_KEYS = ("_id", "a_doc_id", "a_start", "a_end", "b_doc_id", "b_start", "b_end", "score", "method", "evidence",
              "kind", "a_words", "b_words", "rare_words")
_METHOD = MATCH_KEYS.index("method")
# rows stored before matches had an evidence and a kind, or the pair statistics derivations read
_DEFAULTS = {"evidence": None, "kind": "reuse", "a_words": None, "b_words": None, "rare_words": None}
_FORMAT = 4  # 3: evidence and kind (quality), a separate store of rewrite matches and pair statistics (deriv)
Attribs = Mapping[tuple[str, int, int], Sequence[tuple[int, str]]]


def _values(row: Mapping[str, Any]) -> tuple:
    """A match row's values in :data:`MATCH_KEYS` order."""
    return tuple(row[k] if k not in _DEFAULTS else row.get(k, _DEFAULTS[k]) for k in MATCH_KEYS)


class ClusterState:
    """Matches by document and cluster membership by document, with the clusters' content hashes."""

    def __init__(self) -> None:
        self._matches: dict[str, tuple] = {}  # match id -> values in MATCH_KEYS order
        self._of_doc: dict[str, list[str]] = defaultdict(list)  # doc id -> ids of its matches
        self._side: dict[str, tuple] = {}  # ``rewrite`` matches (never clustered): id -> values
        self._side_of_doc: dict[str, list[str]] = defaultdict(list)
        self._members: dict[str, list[tuple[str, int, int]]] = {}  # cluster id -> member spans
        # doc id -> (start, end, cluster id) of its member spans: two clusters (a template and a reuse one) may
        # hold the same span of a document, and both count when its passages are assigned
        self._spans_of: dict[str, set[tuple[int, int, str]]] = defaultdict(set)
        self.sha: dict[str, str | None] = {}  # cluster id -> content hash as stored
        self._attrib: dict[tuple[str, int, int], tuple] = {}  # member span -> its attributions (non-empty only)
        self._attrib_known: set[str] = set()  # clusters whose members' attributions are all recorded

    # ------------------------------------------------------------ building
    @classmethod
    def from_rows(cls, matches: Iterable[Mapping[str, Any]],
                  clusters: Iterable[tuple[str, str | None, Sequence[tuple[str, int, int]]]]) -> "ClusterState":
        """A state from stored match rows and ``(cluster_id, content_sha, member spans)`` of stored clusters."""
        return cls._from_values((_values(r) for r in matches), clusters)

    @classmethod
    def _from_values(cls, matches: Iterable[Sequence[Any]],
                     clusters: Iterable[tuple[str, str | None, Sequence[tuple[str, int, int]]]],
                     attrib: Attribs | None = None, known: Iterable[str] = ()) -> "ClusterState":
        st = cls()
        for v in matches:
            st._add(tuple(v))
        for cid, sha, members in clusters:
            st.set_cluster(cid, sha, members)
        st._attrib = {(d, int(s), int(e)): tuple(map(tuple, v)) for (d, s, e), v in (attrib or {}).items()}
        st._attrib_known = set(known) & st._members.keys()
        return st

    def add_matches(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Add match rows (known ids are skipped); returns how many were new."""
        return sum(self._add(_values(r)) for r in rows)

    def _add(self, v: tuple) -> bool:
        """Add one match given as values in ``MATCH_KEYS`` order (False if its id is known)."""
        mid, a_doc, b_doc = v[0], v[1], v[4]
        if mid in self._matches or mid in self._side:
            return False
        store, of_doc = (self._side, self._side_of_doc) if v[_METHOD] == REWRITE else (self._matches, self._of_doc)
        store[mid] = v
        of_doc[a_doc].append(mid)
        if b_doc != a_doc:
            of_doc[b_doc].append(mid)
        return True

    def set_cluster(self, cid: str, sha: str | None, members: Sequence[tuple[str, int, int]],
                    attribs: Attribs | None = None) -> None:
        """Record a stored cluster; ``attribs``: its members' attributions (absent = none found), or
        None when they are not known (the cluster then cannot grow without being rebuilt)."""
        self.drop_cluster(cid)
        self._members[cid] = [(d, int(s), int(e)) for d, s, e in members]
        self.sha[cid] = sha
        for d, s, e in self._members[cid]:
            self._spans_of[d].add((s, e, cid))
        if attribs is not None:
            for key in self._members[cid]:
                found = attribs.get(key)
                if found:
                    self._attrib[key] = tuple(map(tuple, found))
            self._attrib_known.add(cid)

    def drop_cluster(self, cid: str) -> None:
        for key in self._members.pop(cid, ()):
            spans = self._spans_of.get(key[0])
            if spans is not None:
                spans.discard((*key[1:], cid))
                if not spans:
                    del self._spans_of[key[0]]
            self._attrib.pop(key, None)
        self.sha.pop(cid, None)
        self._attrib_known.discard(cid)

    # ------------------------------------------------------------ reading
    @property
    def n_matches(self) -> int:
        """Every match known, retold sentences included."""
        return len(self._matches) + len(self._side)

    @property
    def n_clusters(self) -> int:
        return len(self._members)

    def match_values(self, mid: str) -> tuple:
        """One match as values in ``MATCH_KEYS`` order."""
        return self._matches[mid]

    def match_ids_of(self, doc_id: str) -> Sequence[str]:
        return self._of_doc.get(doc_id, ())

    def attrib_known(self, cid: str) -> bool:
        return cid in self._attrib_known

    def attributions_of(self, member: tuple[str, int, int]) -> tuple:
        """The attributions recorded for a member span of a cluster whose attributions are known."""
        return self._attrib.get(member, ())

    def documents(self) -> Iterable[str]:
        """Documents named by at least one match."""
        return self._of_doc.keys()

    def matches_of(self, doc_ids: Iterable[str]) -> list[dict]:
        """Match rows naming any of ``doc_ids``, sorted by id (the form :func:`connected_matches` takes)."""
        ids = sorted({m for d in doc_ids for m in self._of_doc.get(d, ())})
        return [dict(zip(MATCH_KEYS, self._matches[m])) for m in ids]

    def all_matches(self) -> list[dict]:
        """Every match clustering reads (not the retold sentences), sorted by id."""
        return [dict(zip(MATCH_KEYS, self._matches[m])) for m in sorted(self._matches)]

    def pair_matches(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[dict]]:
        """Every match (retold sentences included) of each document pair ``(a_doc_id, b_doc_id)``,
        sorted by id; a pair with none is left out."""
        wanted: dict[str, set[str]] = defaultdict(set)
        for a, b in pairs:
            wanted[a].add(b)
        out: dict[tuple[str, str], list[dict]] = {}
        for a in sorted(wanted):  # each document's matches walked once, however many pairs it is in
            others = wanted[a]
            for store, of_doc in ((self._matches, self._of_doc), (self._side, self._side_of_doc)):
                for mid in of_doc.get(a, ()):
                    v = store[mid]
                    other = v[4] if v[1] == a else v[1]
                    if other in others:
                        out.setdefault((a, other), []).append(dict(zip(MATCH_KEYS, v)))
        return {k: sorted(v, key=lambda r: r["_id"]) for k, v in sorted(out.items())}

    def cluster_spans_of(self, doc_ids: Iterable[str]) -> dict[str, list[tuple[int, int, str]]]:
        """Per document, ``(start, end, cluster_id)`` of its spans in every stored cluster."""
        out: dict[str, list[tuple[int, int, str]]] = {}
        for d in sorted(set(doc_ids)):
            got = self._spans_of.get(d)
            if got:
                out[d] = [(s, e, cid) for cid, s, e in sorted((cid, s, e) for s, e, cid in got)]
        return out

    def member_spans_of(self, doc_id: str) -> Collection[tuple[int, int, str]]:
        """The document's ``(start, end, cluster id)`` in stored clusters."""
        return self._spans_of.get(doc_id, ())

    # ------------------------------------------------------------ persistence
    def save(self, path: Path, token: str) -> None:
        """Write the state with ``token`` (atomic rename)."""
        save_pickle(path, {"format": _FORMAT, "token": token, "keys": MATCH_KEYS,
                           "matches": [*self._matches.values(), *self._side.values()],
                           "clusters": [(cid, self.sha.get(cid), m) for cid, m in self._members.items()],
                           "attrib": self._attrib, "attrib_known": sorted(self._attrib_known)})

    @classmethod
    def load(cls, path: Path, token: str | None) -> "ClusterState | None":
        """The saved state if it carries ``token`` (None when missing, unreadable, outdated or another token)."""
        payload = load_pickle(path, _FORMAT, token)
        if payload is None or tuple(payload.get("keys") or ()) != MATCH_KEYS:
            return None
        return cls._from_values(payload["matches"], payload["clusters"], payload.get("attrib"),
                                payload.get("attrib_known") or ())
