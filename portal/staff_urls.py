"""Staff pages of attendance letters, at /letters/ (namespace ``letters``)."""

from portal import letters

urlpatterns = letters.staff_urlpatterns
