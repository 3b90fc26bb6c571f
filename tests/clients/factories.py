from datetime import timedelta

import factory
from django.utils import timezone

from clients import services
from clients.models import (
    AsamLevel,
    Client,
    ClientStatus,
    Consent,
    Episode,
    InformationCategory,
    Profession,
    RecipientType,
    Substance,
)
from tests.iop.factories import UserFactory


def _registrar():
    # The models leave created_by/admitted_by null-able but full_clean() requires them,
    # as the services always set them; one shared intake account keeps rows realistic.
    return UserFactory(username="registrar", roles=["intake"])


def _years_ago(years: int, days: int = 0):
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=min(today.day, 28)) - timedelta(days=days)


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    legal_first_name = factory.Faker("first_name")
    legal_last_name = factory.Faker("last_name")
    preferred_name = ""
    pronouns = factory.Faker("random_element", elements=["she/her", "he/him", "they/them", ""])
    # About 35: the working professionals an IOP like this one serves.
    date_of_birth = factory.Faker(
        "date_between_dates", date_start=_years_ago(36), date_end=_years_ago(35)
    )
    phone = factory.Faker("numerify", text="+1617555####")
    email = factory.LazyAttribute(
        lambda c: f"{c.legal_first_name}.{c.legal_last_name}@mail.example".lower()
    )
    profession = factory.Faker("random_element", elements=Profession.values)
    employer = factory.Faker("company")
    referral_source = "Employee assistance program"
    primary_substances = factory.LazyFunction(lambda: [Substance.ALCOHOL])
    status = ClientStatus.PROSPECT
    created_by = factory.LazyFunction(_registrar)


class EpisodeFactory(factory.django.DjangoModelFactory):
    """An open episode; pass ``discharged_on`` and a reason for a closed one.

    Built directly, not through ``episode_admit``: tests of the admit rules call the
    service; other tests only need the episode to exist. The client's status follows.
    """

    class Meta:
        model = Episode
        skip_postgeneration_save = True

    client = factory.SubFactory(ClientFactory, status=ClientStatus.ACTIVE)
    admitted_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=20))
    asam_level = AsamLevel.L2_1
    dimension_ratings = factory.LazyFunction(
        lambda: {"d1": 0, "d2": 1, "d3": 2, "d4": 1, "d5": 3, "d6": 2}
    )
    planned_length_days = 60
    admitted_by = factory.LazyFunction(_registrar)

    @factory.post_generation
    def _status(self, create, extracted, **kwargs):
        if create:
            status = ClientStatus.ACTIVE if self.discharged_on is None else ClientStatus.DISCHARGED
            Client.objects.filter(pk=self.client_id).update(status=status)
            self.client.status = status


class ConsentFactory(factory.django.DjangoModelFactory):
    """A consent to a named organisation, signed a week ago, expiring in a year."""

    class Meta:
        model = Consent

    client = factory.SubFactory(ClientFactory)
    discloser = "Intensive Outpatient Program"
    information_categories = factory.LazyFunction(
        lambda: [InformationCategory.ATTENDANCE, InformationCategory.SCREENS]
    )
    information_description = "Attendance and toxicology results since admission"
    recipient_type = RecipientType.ORGANISATION
    recipient_name = "State Physician Health Program"
    purpose = "Monitoring of return to practice"
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365))
    expiry_event = ""
    signed_by_name = factory.LazyAttribute(lambda c: c.client.legal_name)
    signed_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=7))
    recorded_by = factory.LazyFunction(_registrar)


def with_care_team(client, staff, role="primary", *, actor=None):
    """Put ``staff`` on the care team through the service, so permissions follow."""
    return services.care_team_add(
        client=client, staff=staff, role=role, actor=actor or _registrar()
    )
