"""Drives a running capmatch through a client generated from openapi/openapi.json.

Usage: client_smoke.py BASE_URL STATE_TOKEN PROVIDER_TOKEN COORDINATOR_TOKEN
(the generated package `capmatch_client` must be importable). Exits non-zero on any surprise.
"""

import sys
import time

from capmatch_client import AuthenticatedClient, Client
from capmatch_client.api.needs import get_need, list_needs, post_need
from capmatch_client.api.offers import get_offer, post_offer
from capmatch_client.api.statistics import stats
from capmatch_client.api.taxonomy import get_taxonomy
from capmatch_client.models import NeedDraft, NeedState, OfferDraft, OfferState, Problem


def check(condition, message):
    if not condition:
        print(f"client smoke test FAILED: {message}", file=sys.stderr)
        sys.exit(1)


def main():
    base, state_token, provider_token, coordinator_token = sys.argv[1:5]
    public = Client(base_url=base)
    state = AuthenticatedClient(base_url=base, token=state_token)
    provider = AuthenticatedClient(base_url=base, token=provider_token)
    coordinator = AuthenticatedClient(base_url=base, token=coordinator_token)

    taxonomy = get_taxonomy.sync_detailed(client=public)
    check(taxonomy.status_code == 200, f"taxonomy: {taxonomy.status_code}")

    draft = {
        "title": "Cybercrime legislation review",
        "description": "Review of the draft cybercrime bill against the Budapest and UN "
                       "conventions, with a workshop for legislators.",
        "themes": ["cybercrime"],
        "support_types": ["policy_advice"],
        "languages": ["en"],
        "visibility": "public",
    }
    need = post_need.sync(client=state, body=NeedDraft.from_dict(draft))
    check(isinstance(need, NeedState), f"post_need gave {need!r}")
    again = get_need.sync(client=public, id=need.id)
    check(isinstance(again, NeedState) and again.title == need.title, f"get_need gave {again!r}")

    offer = post_offer.sync(
        client=provider,
        body=OfferDraft.from_dict({
            "title": "Legislative drafting support on cybercrime",
            "description": "Experienced legislative drafters review cybercrime bills and "
                           "train parliamentary staff.",
            "themes": ["cybercrime"],
            "support_types": ["policy_advice", "training"],
            "languages": ["en", "fr"],
            "coverage": ["001"],
            "funding": "self_funded",
            "conditions_attached": False,
        }),
    )
    check(isinstance(offer, OfferState), f"post_offer gave {offer!r}")
    check(isinstance(get_offer.sync(client=public, id=offer.id), OfferState), "get_offer")

    page = list_needs.sync(client=coordinator, limit=5)
    check(page is not None and any(n.id == need.id for n in page.items), f"list_needs gave {page!r}")

    refused = post_need.sync(client=public, body=NeedDraft.from_dict(draft))
    check(isinstance(refused, Problem) and refused.status == 401, f"anonymous post gave {refused!r}")

    deadline = time.time() + 30
    while True:
        figures = stats.sync_detailed(client=public)
        if figures.status_code == 200:
            break
        check(time.time() < deadline, f"stats: {figures.status_code}")
        time.sleep(0.2)
    print("client smoke test passed: taxonomy, needs, offers, lists, problems and statistics")


if __name__ == "__main__":
    main()
