from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from billing.services.charges import build_charges
from billing.services.claims import build_claims, month_bounds


@shared_task
def build_charges_and_claims(since: str | None = None, through: str | None = None) -> dict:
    """Nightly (iop.settings CELERY_BEAT_SCHEDULE) and from the claims page's button:
    charge what happened from the first of last month to yesterday (a note signed late,
    a coverage recorded late are charged on the next run), then put last month's
    charges on claims and check every open claim. Arguments are ISO dates, never
    client data; both steps are idempotent, so a run twice, or two at once, adds nothing."""
    from datetime import date

    today = timezone.localdate()
    last_month_end = today.replace(day=1) - timedelta(days=1)
    first = date.fromisoformat(since) if since else month_bounds(last_month_end)[0]
    until = date.fromisoformat(through) if through else today - timedelta(days=1)
    built = build_charges(since=first, through=until)
    claims = build_claims(through=min(until, last_month_end) if not through else until)
    return {
        "charges": built.total,
        "claims_created": claims.created,
        "ready": claims.ready,
        "held": claims.held,
    }
