"""Passages of unfinished runs are settled on the ``doc_id`` index, before a bulk write drops it.

A recovery after Ctrl-C in the passage stage of SaudiNewsNet rewrote every document's passages with
the index dropped, and looked each batch up by ``doc_id`` without it: 1,200 of 30,676 documents in
222 s (the bug of issue #15 point 2 again, by another road). Here on a real server: the lookups and
deletes run while the index exists, then a bulk block may drop it."""

from __future__ import annotations

from pymongo import MongoClient

from newsdedup.db import Store
from newsdedup.tasks.recovery import settle_passage_groups


def _passage(doc_id: str, start: int) -> dict:
    pid = f"{doc_id}:{start:08d}-{start + 10:08d}"
    return {"_id": pid, "passage_id": pid, "doc_id": doc_id, "start": start, "end": start + 10, "text": "نص",
            "boilerplate": False}


def test_settled_on_the_index_then_plain_inserts(mongo_uri, db_name):
    client = MongoClient(mongo_uri)
    try:
        store = Store(client, db_name)
        store.ensure_schema()
        coll = client[db_name].passages
        coll.insert_many([_passage(d, s) for d in ("redo-a", "redo-b", "miss-a") for s in (0, 20)])
        seen_index: list[bool] = []

        def with_passages(ids):
            seen_index.append("doc_id_1" in coll.index_information())
            return store.doc_ids_with_passages(ids)

        def delete(ids):
            seen_index.append("doc_id_1" in coll.index_information())
            return store.delete_passages_of(ids)

        groups = [("new", ["n1", "n2"]), ("redo", ["redo-a", "redo-b", "redo-c"]), ("missing", ["miss-a", "miss-b"])]
        settled = settle_passage_groups(groups, with_passages, delete)
        assert settled == [("new", ["n1", "n2"]), ("redo", ["redo-a", "redo-b", "redo-c"]), ("missing", ["miss-b"])]
        assert seen_index and all(seen_index)  # every lookup and delete ran on the index
        assert sorted(coll.distinct("doc_id")) == ["miss-a"]  # redo documents lost theirs, missing kept theirs
        # nothing to settle: no lookups at all
        calls: list[str] = []
        assert settle_passage_groups([("new", ["x"]), ("redo", [])], lambda i: calls.append("w") or set(),
                                     lambda i: calls.append("d")) == [("new", ["x"]), ("redo", [])]
        assert calls == []
    finally:
        client.close()


def test_the_flow_settles_before_the_bulk_block():
    """The passage stage calls the settling task before it enters ``passage_index_for_bulk``."""
    import ast
    import inspect

    from newsdedup.flows import ingest

    src = inspect.getsource(ingest._passage_stage)  # noqa: SLF001 - the order inside the stage is the point
    tree = ast.parse(src.lstrip())
    order = [n.func.id if isinstance(n.func, ast.Name) else n.func.attr
             for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, (ast.Name, ast.Attribute))]
    assert "settle_passages" in order and "passage_index_for_bulk" in order
    lines = {name: min(n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call)
                       and getattr(n.func, "id", getattr(n.func, "attr", None)) == name)
             for name in ("settle_passages", "passage_index_for_bulk")}
    assert lines["settle_passages"] < lines["passage_index_for_bulk"]
