import re

import pytest
from django.core.management import call_command

from iop.audit.services import AuditContext
from portal import services
from tests.clients.factories import ClientFactory

LINK = re.compile(r"/my/sign-in/[A-Za-z0-9_-]+/")


def link_path(url: str) -> str:
    return LINK.search(url).group(0)


@pytest.fixture
def portal_client(db, intake_user):
    """A client with portal access."""
    client = ClientFactory(legal_first_name="Rosalind", legal_last_name="Vantongeren")
    services.account_enable(client=client, actor=intake_user)
    return client


@pytest.fixture
def other_portal_client(db, intake_user):
    client = ClientFactory(legal_first_name="Bartholomew", legal_last_name="Quennell")
    services.account_enable(client=client, actor=intake_user)
    return client


@pytest.fixture
def link_for(db):
    """A fresh one-time link path for a client (what portal_link prints)."""

    def make(client) -> str:
        return link_path(services.staff_link(client=client, audit=AuditContext.system("test")))

    return make


@pytest.fixture
def portal_as(client, link_for):
    """The Django test client signed in to the portal as ``who`` (by a real link)."""

    def sign_in(who):
        response = client.post(link_for(who))
        assert response.status_code == 302, response.content[:400]
        return client

    return sign_in


def printed_link(mrn: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("portal_link", mrn=mrn, stdout=out)
    return out.getvalue().strip()
