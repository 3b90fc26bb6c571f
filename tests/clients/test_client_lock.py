"""One client row lock (``Client.objects.lock``), taken by every app's writes that
read and then write several rows of one client."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import Client, ClientQuerySet
from clinical.meds.services import medication_add
from clinical.plans.services import treatment_plan_save_draft
from screening.services import breath_record
from tests.clients.factories import with_care_team
from tests.clinical.plans_factories import problem
from tests.screening.factories import enrolled_client

pytestmark = pytest.mark.django_db


def test_the_lock_is_the_clients_row_for_update(clinician):
    client = enrolled_client(clinician)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert Client.objects.lock(client) == client
        assert Client.objects.lock(client.pk) == client
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert Client._meta.db_table in sql
    if connection.vendor == "postgresql":  # SQLite locks the whole database on a write
        assert sql.count("FOR UPDATE") == 2


def test_clients_scheduling_screening_and_clinical_writes_take_it(
    clinician, medical_user, monkeypatch
):
    locked = []
    original = ClientQuerySet.lock

    def spy(self, client):
        row = original(self, client)
        locked.append(row.pk)
        return row

    monkeypatch.setattr(ClientQuerySet, "lock", spy)

    def took_the_lock(write) -> bool:
        locked.clear()
        write()
        return person.pk in locked

    person = enrolled_client(clinician)  # care_team_add and enrollment_create
    assert person.pk in locked
    assert took_the_lock(lambda: with_care_team(person, medical_user, role="prescriber"))
    assert took_the_lock(
        lambda: breath_record(
            client=person,
            tested_at=timezone.now() - timedelta(minutes=5),
            bac="0.000",
            device="Alco-Sensor FST",
            actor=medical_user,
        )
    )
    assert took_the_lock(
        lambda: medication_add(
            client=person,
            mat_agent="buprenorphine",
            name="Buprenorphine/naloxone film",
            dose="8 mg/2 mg",
            schedule="once daily",
            started_on=timezone.localdate() - timedelta(days=3),
            prescriber=medical_user,
            actor=medical_user,
        )
    )
    assert took_the_lock(
        lambda: treatment_plan_save_draft(
            episode=person.episodes.get(),
            content={"problems": [problem("Attend groups")]},
            revision=0,
            actor=clinician,
        )
    )


def test_nothing_else_locks_a_client_row():
    """No app writes its own ``Client.objects.select_for_update()`` again."""
    root = Path(settings.BASE_DIR)
    pattern = re.compile(r"Client\.objects\S*\.select_for_update\(")
    packages = [p.parent for p in root.glob("*/__init__.py") if p.parent.name != "tests"]
    assert {"clients", "scheduling", "screening", "clinical"} <= {p.name for p in packages}
    found = [
        str(path.relative_to(root))
        for package in packages
        for path in package.rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []
