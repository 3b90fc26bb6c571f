"""The sign-in backend: Django's ModelBackend, loading a person's roles with them."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.db.models import Aggregate, JSONField, OuterRef, Subquery


class _NamesArray(Aggregate):
    """The names as one JSON array: jsonb_agg on PostgreSQL, json_group_array on SQLite."""

    function = "JSONB_AGG"
    output_field = JSONField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra)


def with_roles(users):
    """``users`` with each person's role names in the same query. Every request loads its
    user, and every page asks for the roles (menu, dashboard, access checks): folding
    them in saves one query on every request."""
    names = (
        Group.objects.filter(user=OuterRef("pk"))
        .order_by()
        .values("user")
        .annotate(names=_NamesArray("name"))
        .values("names")
    )
    return users.annotate(_role_names=Subquery(names, output_field=JSONField()))


class StaffBackend(ModelBackend):
    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = with_roles(user_model._default_manager).get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        # Fills the cached property: the roles of this request's user object, exactly
        # what its own query would have answered (no groups: no row, NULL).
        user.__dict__["roles"] = frozenset(user._role_names or ())
        return user if self.user_can_authenticate(user) else None
