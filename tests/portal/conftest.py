from tests.portal.fixtures import (  # noqa: F401  (fixtures)
    link_for,
    other_portal_client,
    portal_as,
    portal_client,
    week,
)
