"""Create a Prefect Automation that posts to a webhook when a claim reaches N outlets.

    python docs/examples/claim_alerts.py --webhook https://hooks.example.org/T000/B000/XXX \
        --attribution "رويترز" --outlets 3

Runs against the Prefect server in ``PREFECT_API_URL`` (``newsdedup db status`` does not show it;
the local one's API is in ``$NEWSDEDUP_HOME/prefect/server.json``). It saves the webhook as a Prefect
notification block (``CustomWebhookNotificationBlock``: a JSON POST, which Slack, Mattermost,
Discord, ntfy and most chat tools accept) and an Automation whose trigger is newsdedup's
``newsdedup.claim.reached-outlets`` event, narrowed to one attribution if given. The runs must emit
the event at the same number: ``NEWSDEDUP_ALERT_OUTLETS=3`` (the default) or ``--alert-outlets 3``.
Prints the automation's id; ``prefect automation ls`` lists it, ``prefect automation delete`` removes it.
"""

from __future__ import annotations

import argparse

from prefect.automations import Automation
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect.events.actions import SendNotification
from prefect.events.schemas.automations import EventTrigger, Posture

BODY = ("{{ event.payload.n_outlets }} outlets now carry a claim"
        "{% if event.payload.attribution %} attributed to {{ event.payload.attribution }}{% endif %}: "
        "{{ event.payload.outlets | join(', ') }}. First seen: {{ event.payload.first_seen.outlet }} "
        "({{ event.payload.first_seen.published }}). "
        "«{{ event.payload.representative[:200] }}» {{ event.payload.url or event.payload.cluster_id }}")


def claim_trigger(attribution: str | None, outlets: int) -> EventTrigger:
    """Fire once per claim that reaches the outlets (the event is emitted at NEWSDEDUP_ALERT_OUTLETS)."""
    match = {"prefect.resource.id": "newsdedup.cluster.*"}
    if attribution:
        match["newsdedup.attribution"] = attribution
    return EventTrigger(expect={"newsdedup.claim.reached-outlets"}, match=match, posture=Posture.Reactive,
                        threshold=1, within=0)


def create(webhook: str, attribution: str | None, outlets: int, name: str) -> Automation:
    block = CustomWebhookNotificationBlock(name=name, url=webhook, json_data={"text": "{{body}}"})
    block_id = block.save(name, overwrite=True)
    who = f" attributed to {attribution}" if attribution else ""
    return Automation(
        name=f"{name}: a claim{who} reaches {outlets} outlets",
        description="newsdedup claim alert (docs/examples/claim_alerts.py)",
        trigger=claim_trigger(attribution, outlets),
        actions=[SendNotification(block_document_id=block_id, subject=f"newsdedup: claim{who} in {outlets} outlets",
                                  body=BODY)],
    ).create()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--webhook", required=True, help="URL that receives a JSON POST {'text': ...}")
    ap.add_argument("--attribution", help="only claims whose attribution is this source (as newsdedup shows it)")
    ap.add_argument("--outlets", type=int, default=3, help="the NEWSDEDUP_ALERT_OUTLETS the runs use (default 3)")
    ap.add_argument("--name", default="newsdedup-claim-alert", help="name of the block and prefix of the automation")
    args = ap.parse_args(argv)
    print(create(args.webhook, args.attribution, args.outlets, args.name).id)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
