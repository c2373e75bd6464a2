"""Claim events computed after the cluster update (:func:`claim_events.claim_events`): plain data, no Prefect."""

from __future__ import annotations

import json

from newsdedup.tasks.cluster_state import ClusterState
from newsdedup.tasks.claim_events import CLAIM_GAINED_OUTLET, CLAIM_NEW, CLAIM_REACHED_OUTLETS, claim_events
from newsdedup.tasks.cluster_update import ClusterUpdate

OUTLET = {"d1": "A", "d2": "B", "d3": "C", "d4": "D", "d5": "A"}


def _cluster(cid: str, members: list[tuple[str, int, int]], **extra) -> dict:
    ms = [{"doc_id": d, "start": s, "end": e, "outlet": OUTLET[d], "external_id": d, "text": "نص", "score": 90.0}
          for d, s, e in members]
    outlets = sorted({m["outlet"] for m in ms})
    first = ms[0]
    return {"cluster_id": cid, "size": len(ms), "outlets": outlets, "n_outlets": len(outlets),
            "first_seen": {"doc_id": first["doc_id"], "outlet": first["outlet"], "published": "2015-08-10"},
            "representative": "  قال   المتحدث \n باسم الوزارة " * 20, "attribution": extra.pop("attribution", "واس"),
            "members": ms, **extra}


def _state(stored: dict[str, list[tuple[str, int, int]]]) -> ClusterState:
    st = ClusterState()
    for cid, members in stored.items():
        st.set_cluster(cid, "sha-" + cid, members, {})
    return st


def _events(update, state, threshold=3, summaries=None, link=None):
    asked: list[list[str]] = []

    def read(ids):
        asked.append(sorted(ids))
        return {i: (summaries or {})[i] for i in ids if i in (summaries or {})}

    out = claim_events(update, state, read, threshold=threshold, run_id="run-1", database="db", link=link)
    return out, asked


def _names(events):
    return [(e["payload"]["cluster_id"], e["event"]) for e in events]


def test_a_new_claim_across_two_outlets():
    c = _cluster("c1", [("d1", 0, 50), ("d2", 10, 60)])
    events, asked = _events(ClusterUpdate(clusters=[c]), _state({}), threshold=3)
    assert _names(events) == [("c1", CLAIM_NEW)]
    assert asked == []  # nothing was replaced: nothing read
    p = events[0]["payload"]
    assert p["outlets"] == ["A", "B"] and p["new_outlets"] == ["A", "B"] and p["previous_outlets"] == []
    assert p["first_seen"] == {"doc_id": "d1", "outlet": "A", "published": "2015-08-10"}
    assert p["attribution"] == "واس" and p["url"] is None and p["run_id"] == "run-1"
    json.dumps(events)  # plain data: what Prefect's event payload takes


def test_new_claim_reaching_the_threshold_at_once():
    c = _cluster("c1", [("d1", 0, 50), ("d2", 0, 50), ("d3", 0, 50)])
    events, _ = _events(ClusterUpdate(clusters=[c]), _state({}), threshold=3)
    assert _names(events) == [("c1", CLAIM_NEW), ("c1", CLAIM_REACHED_OUTLETS)]
    assert events[1]["payload"]["threshold"] == 3


def test_a_claim_gaining_an_outlet_and_reaching_the_threshold():
    state = _state({"c1": [("d1", 0, 50), ("d2", 0, 50)]})
    grown = _cluster("c1", [("d1", 0, 50), ("d2", 0, 52), ("d3", 5, 55)])
    upd = ClusterUpdate(clusters=[grown], stale={"c1"}, previous={"c1": {"outlets": ["A", "B"], "n_outlets": 2}})
    events, asked = _events(upd, state, threshold=3)
    assert _names(events) == [("c1", CLAIM_GAINED_OUTLET), ("c1", CLAIM_REACHED_OUTLETS)]
    assert asked == []  # the grown cluster's old form was read by the update already
    p = events[0]["payload"]
    assert p["new_outlets"] == ["C"] and p["previous_outlets"] == ["A", "B"] and p["replaces"] == ["c1"]
    # past the threshold already: a further outlet is a gain, not a crossing
    events, _ = _events(upd, state, threshold=2)
    assert _names(events) == [("c1", CLAIM_GAINED_OUTLET)]


def test_a_new_member_from_a_known_outlet_is_no_event():
    state = _state({"c1": [("d1", 0, 50), ("d2", 0, 50)]})
    grown = _cluster("c1", [("d1", 0, 50), ("d2", 0, 50), ("d5", 0, 50)])  # d5 is outlet A again
    upd = ClusterUpdate(clusters=[grown], stale={"c1"}, previous={"c1": {"outlets": ["A", "B"], "n_outlets": 2}})
    assert _events(upd, state)[0] == []


def test_one_outlet_reusing_itself_is_no_claim_until_a_second_outlet_has_it():
    lone = _cluster("c1", [("d1", 0, 50), ("d5", 0, 50)])  # both outlet A
    assert _events(ClusterUpdate(clusters=[lone]), _state({}))[0] == []
    state = _state({"c1": [("d1", 0, 50), ("d5", 0, 50)]})
    grown = _cluster("c1", [("d1", 0, 50), ("d2", 0, 50), ("d5", 0, 50)])
    upd = ClusterUpdate(clusters=[grown], stale={"c1"}, previous={"c1": {"outlets": ["A"], "n_outlets": 1}})
    assert _names(_events(upd, state)[0]) == [("c1", CLAIM_NEW)]


def test_kind_decides_when_clusters_carry_one():
    template = _cluster("c1-t", [("d1", 0, 50), ("d2", 0, 50), ("d3", 0, 50)], kind="template")
    assert _events(ClusterUpdate(clusters=[template]), _state({}))[0] == []
    # a formula (stock text of many outlets) that now reads as a claim is a new claim
    state = _state({"c1": [("d1", 0, 50), ("d2", 0, 50)]})
    claim = _cluster("c1", [("d1", 0, 50), ("d2", 0, 50), ("d3", 0, 50)], kind="claim")
    upd = ClusterUpdate(clusters=[claim], stale={"c1"},
                        previous={"c1": {"outlets": ["A", "B"], "n_outlets": 2, "kind": "formula"}})
    assert _names(_events(upd, state)[0]) == [("c1", CLAIM_NEW), ("c1", CLAIM_REACHED_OUTLETS)]


def test_merged_claims_continue_the_one_keeping_the_id_and_replaced_ones_are_read_when_needed():
    state = _state({"c1": [("d1", 0, 50), ("d2", 0, 50)], "c3": [("d3", 100, 150), ("d4", 0, 40)],
                    "other": [("d4", 500, 600), ("d1", 700, 800)]})
    merged = _cluster("c1", [("d1", 0, 50), ("d2", 0, 50), ("d3", 90, 150), ("d4", 0, 45)])
    upd = ClusterUpdate(clusters=[merged], stale={"c1", "c3"},
                        previous={"c1": {"outlets": ["A", "B"], "n_outlets": 2}})
    summaries = {"c3": {"outlets": ["C", "D"], "n_outlets": 2}}
    events, asked = _events(upd, state, threshold=3, summaries=summaries)
    assert asked == [["c3"]]  # only the replaced cluster the update had not read; "other" is not replaced
    assert _names(events) == [("c1", CLAIM_GAINED_OUTLET), ("c1", CLAIM_REACHED_OUTLETS)]
    assert events[0]["payload"]["new_outlets"] == ["C", "D"]
    assert events[0]["payload"]["replaces"] == ["c1", "c3"]


def test_renamed_claim_continues_the_widest_replaced_claim():
    state = _state({"old": [("d2", 0, 50), ("d3", 0, 50)]})
    renamed = _cluster("new", [("d1", 0, 50), ("d2", 0, 50), ("d3", 0, 50)])  # an earlier member took the anchor
    upd = ClusterUpdate(clusters=[renamed], stale={"old"}, previous={"old": {"outlets": ["B", "C"], "n_outlets": 2}})
    events, _ = _events(upd, state, threshold=4)
    assert _names(events) == [("new", CLAIM_GAINED_OUTLET)]
    assert events[0]["payload"]["new_outlets"] == ["A"] and events[0]["payload"]["replaces"] == ["old"]


def test_event_records_name_the_cluster_its_outlets_and_the_run():
    c = _cluster("53ce:00004672-00004918", [("d1", 0, 50), ("d2", 0, 50), ("d3", 0, 50)])
    events, _ = _events(ClusterUpdate(clusters=[c]), _state({}), link=lambda cid: f"http://x/claims/{cid}")
    e = events[0]
    assert e["resource"]["prefect.resource.id"] == "newsdedup.cluster.53ce:00004672-00004918"
    assert all(isinstance(v, str) for v in e["resource"].values())  # Prefect resource labels are strings
    assert e["resource"]["newsdedup.attribution"] == "واس" and e["resource"]["newsdedup.n-outlets"] == "3"
    assert e["resource"]["prefect.resource.name"].startswith("قال المتحدث باسم الوزارة")  # whitespace folded
    roles = [(r["prefect.resource.role"], r["prefect.resource.id"]) for r in e["related"]]
    assert roles == [("outlet", "newsdedup.outlet.A"), ("outlet", "newsdedup.outlet.B"),
                     ("outlet", "newsdedup.outlet.C"), ("first-seen", "newsdedup.outlet.A"),
                     ("attribution", "newsdedup.source.واس"), ("newsdedup-run", "newsdedup.run.run-1")]
    assert e["payload"]["url"] == "http://x/claims/53ce:00004672-00004918"
    assert len(e["payload"]["representative"]) <= 300
    keys = [x["key"] for x in events]
    assert len(set(keys)) == len(keys)  # one key per (database, run, event, cluster)
    again, _ = _events(ClusterUpdate(clusters=[c]), _state({}), link=lambda cid: f"http://x/claims/{cid}")
    assert again == events  # deterministic


def test_no_attribution_no_attribution_resource():
    c = _cluster("c1", [("d1", 0, 50), ("d2", 0, 50)], attribution=None)
    e = _events(ClusterUpdate(clusters=[c]), _state({}))[0][0]
    assert e["resource"]["newsdedup.attribution"] == ""
    assert "attribution" not in [r["prefect.resource.role"] for r in e["related"]]
