"""Send a run's claim events (:func:`~newsdedup.tasks.claim_events.claim_events`) to Prefect.

They are ordinary Prefect events, so Automations can react to them ("notify me when a claim
attributed to X reaches 3 outlets": see the README's "Claim events and Automations"). Each event's id
is derived from the database, run, event name and cluster, so a retried emission is the same
event, not a second one. Sending is asynchronous (Prefect's events worker); without a Prefect API
that accepts events nothing is sent and the run goes on.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from prefect.events import emit_event

__all__ = ["emit_claim_events", "event_id"]

_NAMESPACE = uuid.UUID("5b0d3c4e-8f1a-4c39-9d1e-6e0f2a7b9c11")  # newsdedup claim events


def event_id(key: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, key)


def emit_claim_events(events: Sequence[dict]) -> int:
    """Emit the events; returns how many were handed to Prefect's events worker."""
    n = 0
    for e in events:
        sent = emit_event(e["event"], resource=e["resource"], related=e["related"], payload=e["payload"],
                          id=event_id(e["key"]))
        n += sent is not None
    return n
