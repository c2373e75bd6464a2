"""Scale-out: the ingest flow on a local Dask cluster gives exactly the default runner's results.

The flow ships its compute tasks (analysis batches, alignment chunks) as plain data to
whatever task runner it is given; every write stays in the flow process. So running the
tasks in two Dask worker processes must not change a single exported row: documents,
passages (offsets, boilerplate flags, cluster ids), matches and clusters are compared
field by field with a run of the default (thread pool) runner into another fresh database.

Input: the bundled seeds plus ~190 SaudiNewsNet articles of its last day (every 9th record:
13 outlets, the wire service among them), written as JSONL into ``tmp_path``.
"""

from __future__ import annotations

import json
import uuid
import zipfile

import pytest

from conftest import SEEDS

pytest.importorskip("prefect_dask")

SNN_DAY = "2015-08-11.zip"  # the last day: it holds Saudi Press Agency (`was`) wire items too
STEP = 9
SAUDI_MAP = {"text": "content", "outlet": "source", "published": "date_extracted"}
KINDS = ("documents", "passages", "matches", "clusters")


@pytest.fixture(scope="module")
def inputs(shared, tmp_path_factory):
    """[seeds folder, folder with one JSONL file of ~190 SaudiNewsNet articles] and the seeds manifest."""
    src = shared("bench/saudinewsnet") / SNN_DAY
    if not src.exists():
        pytest.skip(f"{src} is not present")
    with zipfile.ZipFile(src) as zf:
        records = json.loads(zf.read(sorted(n for n in zf.namelist() if n.endswith(".json"))[0]))
    subset = records[::STEP]
    folder = tmp_path_factory.mktemp("snn-subset")
    with open(folder / f"snn-{SNN_DAY[:-4]}.jsonl", "w", encoding="utf-8") as fh:
        for r in subset:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return {"paths": [str(SEEDS), str(folder)], "manifest": str(SEEDS / "manifest.csv"), "n_snn": len(subset)}


def _run_and_export(flow, db: str, inputs: dict) -> tuple[dict, dict[str, list[dict]]]:
    from newsdedup.config import load_settings
    from newsdedup.db import Store

    summary = flow(paths=inputs["paths"], manifest=inputs["manifest"], field_map=SAUDI_MAP, db=db)
    store = Store.open(load_settings(db))
    try:
        return summary, {kind: list(store.export(kind)) for kind in KINDS}
    finally:
        store.close()


def test_dask_runner_gives_the_default_runners_exports(prefect_api, newsdedup_home, inputs):
    from prefect_dask import DaskTaskRunner

    from newsdedup.flows.ingest import ingest

    default_summary, default = _run_and_export(ingest, f"t_default_{uuid.uuid4().hex[:8]}", inputs)

    runner = DaskTaskRunner(cluster_kwargs={"n_workers": 2, "processes": True, "threads_per_worker": 1,
                                            "dashboard_address": None})
    dask_summary, dasked = _run_and_export(ingest.with_options(task_runner=runner),
                                           f"t_dask_{uuid.uuid4().hex[:8]}", inputs)

    # the input really exercised every stage
    n_seeds = len(list(SEEDS.glob("*.txt")))
    assert len(default["documents"]) >= n_seeds + inputs["n_snn"] - 5  # a few empty records may be rejected
    assert default["matches"] and default["clusters"]
    assert len({d["outlet"] for d in default["documents"]}) >= 5
    assert dask_summary["counts"] == default_summary["counts"]

    for kind in KINDS:
        a, b = default[kind], dasked[kind]
        assert len(a) == len(b), f"{kind}: {len(a)} rows with the default runner, {len(b)} on Dask"
        for x, y in zip(a, b):
            assert x == y, f"{kind} differs:\n default: {str(x)[:400]}\n dask:    {str(y)[:400]}"
