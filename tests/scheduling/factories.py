from datetime import time, timedelta
from importlib import import_module

import factory
from django.apps import apps as django_apps
from django.utils import timezone

from scheduling.models import Group, GroupSession, Room, Slot, Track, local_datetime


def _ensure_program_defaults():
    """Tracks and slots come from migration scheduling.0002; a transactional test's
    flush removes them for the tests after it, so put them back the same way."""
    if not Track.objects.exists():
        # The migrations' rows, gone after a transactional test's flush: the tracks and
        # slots, then the IOP tracks' adolescent floors.
        for migration in ("0002_tracks_and_slots", "0005_adolescent_floor"):
            import_module(f"scheduling.migrations.{migration}").seed(django_apps, None)


def track(code="iop6") -> Track:
    _ensure_program_defaults()
    return Track.objects.get(code=code)


def slot(code="evening") -> Slot:
    _ensure_program_defaults()
    return Slot.objects.get(code=code)


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Room {n}")


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Group {n}")
    track = factory.LazyFunction(track)
    slot = factory.LazyFunction(slot)
    weekdays = factory.LazyFunction(lambda: list(range(7)))
    room = factory.SubFactory(RoomFactory)
    capacity = 12

    @factory.post_generation
    def facilitator(self, create, extracted, **kwargs):
        if create and extracted:
            self.facilitators.add(extracted)


class GroupSessionFactory(factory.django.DjangoModelFactory):
    """A session today in the group's slot (already started in the evening slot
    tests override `starts_at` when they need a session that has begun)."""

    class Meta:
        model = GroupSession

    group = factory.SubFactory(GroupFactory)
    date = factory.LazyFunction(timezone.localdate)
    starts_at = factory.LazyAttribute(lambda s: local_datetime(s.date, s.group.slot.start_time))
    ends_at = factory.LazyAttribute(lambda s: local_datetime(s.date, s.group.slot.end_time))
    room = factory.LazyAttribute(lambda s: s.group.room)


def ended_session(group, *, minutes_ago=5) -> GroupSession:
    """A three-hour session of ``group`` that ended ``minutes_ago`` minutes ago: its note
    may be signed now. It stays on one clinic day (a note's times in and out are times
    of that day): between midnight and 03:00 it is yesterday's 20:00-23:00 instead."""
    end = timezone.localtime().replace(microsecond=0) - timedelta(minutes=minutes_ago)
    start = end - timedelta(hours=3)
    if start.date() != end.date():
        yesterday = end.date() - timedelta(days=1)
        start, end = local_datetime(yesterday, time(20)), local_datetime(yesterday, time(23))
    return GroupSessionFactory(
        group=group, date=timezone.localtime(start).date(), starts_at=start, ends_at=end
    )


def started_session(group, *, day=None) -> GroupSession:
    """A session of ``group`` that began an hour ago (attendance may be taken)."""
    now = timezone.localtime()
    start = now.replace(microsecond=0) - timezone.timedelta(hours=1)
    return GroupSessionFactory(
        group=group,
        date=day or start.date(),
        starts_at=start,
        ends_at=start + timezone.timedelta(hours=3),
    )
