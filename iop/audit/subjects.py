"""Who a client-scoped audit row is about, without the platform importing ``clients``.

The audit stores only the client's opaque public id. The app that owns clients
registers how to turn an MRN into that id and ids into an MRN and a name (from its
AppConfig.ready), so the admin's audit page can show and filter by them while
dependencies keep pointing one way (iop <- clients).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from uuid import UUID

from django.apps import apps


@dataclass(frozen=True)
class Subject:
    mrn: str
    name: str


_resolve_mrn: Callable[[str], UUID | None] | None = None
_describe: Callable[[set[UUID]], dict[UUID, Subject]] | None = None


def register(
    *,
    resolve_mrn: Callable[[str], UUID | None],
    describe: Callable[[set[UUID]], dict[UUID, Subject]],
) -> None:
    """``resolve_mrn(mrn)`` answers the public id or None; ``describe(ids)`` answers
    a Subject per known id in one query."""
    global _resolve_mrn, _describe
    _resolve_mrn, _describe = resolve_mrn, describe


def register_model(
    model: str, *, id_field: str, mrn_field: str, name: Callable[[object], str]
) -> None:
    """The usual registration: a model with a public-id field and an MRN field."""

    def resolve_mrn(mrn: str) -> UUID | None:
        manager = apps.get_model(model)._default_manager
        return (
            manager.filter(**{f"{mrn_field}__iexact": mrn}).values_list(id_field, flat=True).first()
        )

    def describe(ids: set[UUID]) -> dict[UUID, Subject]:
        manager = apps.get_model(model)._default_manager
        return {
            getattr(row, id_field): Subject(mrn=getattr(row, mrn_field), name=name(row))
            for row in manager.filter(**{f"{id_field}__in": ids})
        }

    register(resolve_mrn=resolve_mrn, describe=describe)


def resolve_mrn(mrn: str) -> UUID | None:
    return _resolve_mrn(mrn.strip()) if _resolve_mrn is not None and mrn.strip() else None


def describe(ids: Iterable[UUID | None]) -> dict[UUID, Subject]:
    wanted = {value for value in ids if value is not None}
    if not wanted or _describe is None:
        return {}
    return _describe(wanted)
