"""Helpers for medication and measure tests: a client with a care team, answers."""

from datetime import timedelta

from django.utils import timezone

from tests.clients.factories import ClientFactory, EpisodeFactory, with_care_team


def treated_client(*staff, role="primary"):
    """An admitted client with each of ``staff`` on the care team."""
    client = ClientFactory(status="active")
    EpisodeFactory(client=client, admitted_on=timezone.localdate() - timedelta(days=60))
    for member in staff:
        with_care_team(client, member, role=role)
    return client


def phq9(*values):
    values = values or (0,) * 9
    return {str(n): v for n, v in enumerate(values, start=1)}


def gad7(*values):
    values = values or (0,) * 7
    return {str(n): v for n, v in enumerate(values, start=1)}


def phq9_post(*values, on=None):
    """The PHQ-9 form's POST data."""
    data = {f"item_{code}": str(v) for code, v in phq9(*values).items()}
    data["administered_on"] = (on or timezone.localdate()).isoformat()
    return data
