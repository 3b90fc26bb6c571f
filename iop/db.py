"""Small query helpers that keep PostgreSQL on its indexes."""

from django.db import connection
from django.db.models import BooleanField, F, Func, Q


def pk_among(ids_queryset):
    """``pk IN (ids_queryset)``, written so that the planner fetches those rows by key.

    A query with many joins (a note with its author, signer, session and group) and
    ``pk IN (subquery)`` may be planned as joins over the whole table first and the
    filter last. On PostgreSQL ``pk = ANY(ARRAY(subquery))`` runs the subquery once,
    before the joins, and each row is then read through the primary key."""
    if connection.vendor != "postgresql":
        return Q(pk__in=ids_queryset)
    from django.contrib.postgres.expressions import ArraySubquery

    return Func(
        F("pk"),
        ArraySubquery(ids_queryset),
        template="(%(expressions)s))",
        arg_joiner=" = ANY(",
        output_field=BooleanField(),
    )
