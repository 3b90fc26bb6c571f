"""The sign-in backend: Django's ModelBackend, loading a person's roles with them."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import OuterRef


def with_roles(users):
    """``users`` with each person's role names in the same query (PostgreSQL): every
    request loads its user, and every page asks for the roles (menu, dashboard, access),
    so folding them in saves one query on every request. Elsewhere (SQLite in
    development) ``User.roles`` asks for them itself."""
    if connection.vendor != "postgresql":
        return users
    from django.contrib.postgres.expressions import ArraySubquery

    names = Group.objects.filter(user=OuterRef("pk")).order_by().values("name")
    return users.annotate(_role_names=ArraySubquery(names))


class StaffBackend(ModelBackend):
    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = with_roles(user_model._default_manager).get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        names = getattr(user, "_role_names", None)
        if names is not None:
            # Fills the cached property: the roles of this request's user object,
            # exactly what its own query would have answered.
            user.__dict__["roles"] = frozenset(names)
        return user if self.user_can_authenticate(user) else None
