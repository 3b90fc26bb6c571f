"""List filters kept on the server, named in the address by an opaque id.

A filter by MRN, name or date of birth in a query string reaches every access log
between the browser and the app, the browser's history and the Referer of the next
request. So a list that may be filtered by client takes its filter as a POST; the
view keeps the posted values in the session (server-side, deleted at sign-out) under
a random id and redirects to ``?f=<id>``. The id names nothing: the list's pages and
its export carry it (``?f=<id>&before=…``), each browser tab keeps its own filter,
and it lasts as long as the session.

An address that carries a filter's value itself (a bookmark from before, a hand-typed
``?mrn=D1001``) is never honoured: the list answers with a redirect to itself without
the value and a message, so the value leaves the address bar too.
"""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse

PARAM = "f"
# The newest filters of each list a session keeps; an older id answers "expired".
KEEP = 20

REFUSED = (
    "Filters are not taken from the address, which would carry client details into "
    "access logs and browser history: use the form."
)
# Parameters that would carry a client's details, refused by every saved-filter list
# besides the list's own form fields: an address never brings one in as a filter.
CLIENT_DETAILS = ("q", "search", "mrn", "name", "first_name", "last_name", "dob", "date_of_birth")
EXPIRED = "That filter is no longer available (filters last for the session): filter again."


def _session_key(kind: str) -> str:
    return f"filters:{kind}"


@dataclass(frozen=True)
class SavedFilter:
    """The filter a GET names: ``id`` and ``data`` (the posted values) when it names
    one this session holds, both empty when unfiltered; ``refusal`` is the message
    when the address must not be honoured."""

    id: str = ""
    data: dict | None = None
    refusal: str = ""

    @property
    def query(self) -> str:
        return f"{PARAM}={self.id}" if self.id else ""

    def refuse(self, request, to: str) -> HttpResponseRedirect:
        messages.warning(request, self.refusal)
        return redirect(to)


def filter_save(request, *, kind: str, data: dict[str, str]) -> str:
    """Keep the posted values of a valid filter form in the session and answer their
    id; the same values posted again get the same id."""
    saved = dict(request.session.get(_session_key(kind), {}))
    found = next((key for key, values in saved.items() if values == data), None)
    key = found or secrets.token_hex(8)
    saved.pop(key, None)
    saved[key] = data  # newest last
    while len(saved) > KEEP:
        saved.pop(next(iter(saved)))
    request.session[_session_key(kind)] = saved
    return key


def filter_redirect(request, *, kind: str, data: dict[str, str], to: str):
    """After a valid POST: keep the filter and go to the list named by its id."""
    return redirect(f"{reverse(to)}?{PARAM}={filter_save(request, kind=kind, data=data)}")


def posted_values(request, fields: Iterable[str]) -> dict[str, str]:
    return {name: request.POST.get(name, "") for name in fields}


def saved_filter(request, *, kind: str, fields: Iterable[str]) -> SavedFilter:
    """The filter named by ``?f=`` in this session. An address that carries any of
    the filter form's ``fields`` (or of ``CLIENT_DETAILS``) itself is refused,
    whatever ``f`` says."""
    if any(name in request.GET for name in (*fields, *CLIENT_DETAILS)):
        return SavedFilter(refusal=REFUSED)
    key = request.GET.get(PARAM, "")
    if not key:
        return SavedFilter()
    data = request.session.get(_session_key(kind), {}).get(key)
    if data is None:
        return SavedFilter(refusal=EXPIRED)
    return SavedFilter(id=key, data=data)
