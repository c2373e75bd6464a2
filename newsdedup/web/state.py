"""The explorer's catalog kept current: loaded from its on-disk copy, rebuilt when the database changes.

The catalog of a large database takes one scan to build (about half a minute on
SaudiNewsNet's 30,676 documents and 13,668 clusters), so it is built once, before
the first page, and saved under ``NEWSDEDUP_HOME/web``; the next start loads it
when the database's fingerprint (:meth:`ExplorerStore.generation`) is the same.
While serving, the fingerprint is checked at most every few seconds; when a run
has changed the database the new catalog is built in a background thread and
the pages keep showing the previous one, saying so, until it is ready.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import time
from pathlib import Path

from ..config import redact_uri
from ..db import resolve_uri
from ..tasks.ids import stable_id
from .catalog import Catalog, build_catalog
from .store import ExplorerStore

log = logging.getLogger("newsdedup.web")
CHECK_EVERY = 3.0  # seconds between two looks at the database's fingerprint
FORMAT = 4  # bump when Catalog changes shape: older files on disk are rebuilt


class CatalogHolder:
    def __init__(self, store: ExplorerStore, cache_dir: Path | None):
        self.store = store
        self.cache_dir = cache_dir
        self._catalog: Catalog | None = None
        self._lock = threading.Lock()
        self._building: threading.Thread | None = None
        self._checked = 0.0
        self.latest_generation: str | None = None
        self.last_error: str | None = None

    # ------------------------------------------------------------------ disk
    @property
    def path(self) -> Path | None:
        if self.cache_dir is None:
            return None
        key = stable_id(redact_uri(resolve_uri(self.store.settings)), self.store.db_name, length=16)
        return self.cache_dir / f"{self.store.db_name}-{key}.catalog"

    def _load(self, generation: str) -> Catalog | None:
        p = self.path
        if p is None or not p.exists():
            return None
        try:
            with p.open("rb") as f:
                fmt, gen = pickle.load(f)
                if fmt != FORMAT or gen != generation:
                    return None
                return pickle.load(f)
        except Exception:  # noqa: BLE001 - a damaged or foreign file is rebuilt, never trusted
            log.warning("explorer catalog %s could not be read; rebuilding it", p)
            return None

    def _save(self, cat: Catalog) -> None:
        p = self.path
        if p is None:
            return
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            tmp = p.with_suffix(f".tmp{os.getpid()}")
            with tmp.open("wb") as f:
                pickle.dump((FORMAT, cat.generation), f, protocol=pickle.HIGHEST_PROTOCOL)
                pickle.dump(cat, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, p)
        except OSError as exc:  # the explorer works without its copy on disk, only starts slower
            log.warning("explorer catalog not saved to %s: %s", p, exc)

    # ------------------------------------------------------------------ build
    def _build(self, generation: str) -> Catalog:
        cat = build_catalog(generation, *self.store.catalog_rows())
        self._save(cat)
        return cat

    def prepare(self) -> tuple[Catalog, bool]:
        """The current catalog, loaded from disk or built now; True when it was built."""
        gen = self.store.generation()
        self.latest_generation = gen
        cat = self._load(gen)
        built = cat is None
        if cat is None:
            cat = self._build(gen)
        with self._lock:
            self._catalog = cat
            self._checked = time.monotonic()
        return cat, built

    def _rebuild(self, generation: str) -> None:
        try:
            cat = self._build(generation)
            with self._lock:
                self._catalog = cat
            self.last_error = None
        except Exception as exc:  # noqa: BLE001 - keep serving the previous catalog, say why on the page
            log.exception("rebuilding the explorer catalog failed")
            self.last_error = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            self._building = None

    def current(self) -> Catalog:
        """The catalog to answer with; starts a rebuild in the background when the database changed."""
        if self._catalog is None:
            return self.prepare()[0]
        now = time.monotonic()
        if now - self._checked >= CHECK_EVERY:
            self._checked = now
            try:
                gen = self.store.generation()
            except Exception as exc:  # noqa: BLE001 - the database is away: serve what we have
                self.last_error = f"{type(exc).__name__}: {exc}"[:300]
                return self._catalog
            self.latest_generation = gen
            with self._lock:
                if gen != self._catalog.generation and self._building is None:
                    self._building = threading.Thread(target=self._rebuild, args=(gen,), daemon=True,
                                                      name="explorer-catalog")
                    self._building.start()
        return self._catalog

    @property
    def refreshing(self) -> bool:
        return self._building is not None

    def wait(self, timeout: float = 120.0) -> None:
        """Wait for a background rebuild (tests and the benchmark)."""
        t = self._building
        if t is not None:
            t.join(timeout)
