"""What a note is checked for before it is signed: copied text, and another member's name.

Both are warnings, not refusals: the author edits the note, or acknowledges each
warning and signs (``clinical.notes.services.note_sign``). Each acknowledgment is kept
as a code (``SignWarning`` rows and the audit), never the text or a name.

Copied text (``copied_text_warnings``)
    Payers and auditors recover payment for cloned documentation: the same response
    or plan pasted into every client's section, or into this week's note as it was
    last week. Each free-text field of each section (``TEXT_FIELDS``) is compared
    with the same field of the note's other sections, and with the same field of the
    client's previous ``PREVIOUS_NOTES`` signed notes (by date of service; for an
    appointment's note, its format's body, plan and safety-plan note, the client's
    response under the format's response key being the section's ``response``).
    Structured choices (the risk screen, and whatever choices the section offers)
    are meant to repeat and are never compared.

    Text is compared normalised: case-folded, punctuation dropped, whitespace
    collapsed. Two texts match when

    - both are at least ``SHORT_TEXT`` characters and ``rapidfuzz.fuzz.ratio`` (an
      edit-distance similarity, 0-100) is at least ``SIMILARITY`` (90). Caught:
      "Client was engaged and participated actively in the discussion of triggers."
      against "client was engaged and participated actively in discussion of
      triggers" (97); "Ari will call a sponsor before shifts" against "Bea will call
      a sponsor before shifts" (95) and "Ari joined the role play" against "Bea
      joined the role play" (92): a template with only the name changed. Let pass:
      "Practised refusal skills with a peer" against "... with his wife" (86),
      "Shared about work stress" against "Shared about family stress" (80), "Named a
      work trigger: client dinners" against "Named a home trigger: the commute" (63);
    - or, shorter, they are the same once normalised: in a line of a few words one
      changed character is a different fact ("slept 5 hours", "slept 6 hours": 92 by
      ratio), so only an identical short line ("engaged", "Engaged.") is a copy.

    Why 90: from about 85 down the ratio joins lines that share the clinic's stock
    phrases but say different things (the 80-86 pairs above), which would teach
    clinicians to tick warnings unread; much above 90 a template with a name or a
    word changed passes. At 90 a long line that differs in one short word (a day, an
    hour: "before Friday shift" / "before Sunday shift", 92) is still flagged: the
    author, who knows, acknowledges it.

    Empty text is never compared. The matches are grouped: the sections of the note
    whose field is the same text are one warning (ten identical responses: one warning
    naming ten sections), and the sections whose field repeats the client's own
    earlier note are one warning per field.

Another member's name (``name_hits``)
    A group note enters every attending client's record; a name in it is disclosed to
    each of them (42 CFR 2.13). The group narrative must name no client of the group
    (attending or on the session's list), and a section no other member: their legal
    first and last names and preferred name, whole words, case-insensitive,
    Unicode-aware. A name the section's own client shares (two Alexes) is not a hit in
    that client's section: it is most likely their own. A name that is also a word
    ("Will", "Hope") is still a hit, which the author acknowledges as a false one. The
    hits are grouped by the word matched: one warning lists every place it was found.

Queries: the note's sections, the group's members and the previous notes (a group
section and an appointment note query, each capped per client in SQL): a fixed
number whatever the size of the group.
"""

import functools
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F, Window
from django.db.models.functions import RowNumber
from rapidfuzz import fuzz

from clients.models import Client
from clinical.notes.models import (
    FORMAT_SECTIONS,
    RESPONSE_KEY,
    GroupNoteSection,
    NoteStatus,
    ProgressNote,
    SignWarningKind,
)
from scheduling.models import Attendance, Enrollment

# The free-text columns of a group section. The risk screen and any structured choice
# are not here: they are meant to repeat.
TEXT_FIELDS = ("participation", "response", "progress", "plan", "safety_plan_note")
FIELD_LABELS = {
    "participation": "participation",
    "response": "response",
    "progress": "progress",
    "plan": "plan",
    "safety_plan_note": "safety-plan note",
    "narrative": "group narrative",
}
SIMILARITY = 90
SHORT_TEXT = 20
PREVIOUS_NOTES = 5
MIN_NAME = 2  # a one-letter "name" (an initial) would hit every "a" and "I"

# Kinds of warning (the SignWarning.kind values and the audit codes' first part).
COPIED_IN_NOTE = SignWarningKind.COPIED_TEXT.value
COPIED_FROM_EARLIER = SignWarningKind.COPIED_EARLIER.value
NAME_HIT = SignWarningKind.NAME_HIT.value
COPIED_KINDS = (COPIED_IN_NOTE, COPIED_FROM_EARLIER)

_NOT_WORD = re.compile(r"[^\w\s]")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Place:
    """Where a warning points: a client's section (``client`` set) or the note itself
    (the group narrative, or an appointment note's field)."""

    field: str
    anchor: str  # the field's id on the note's page
    client: Client | None = None
    title: str = ""  # the field's label on its page, when it is not FIELD_LABELS'

    @property
    def label(self) -> str:
        what = self.title or FIELD_LABELS.get(self.field, self.field.replace("_", " "))
        if self.client is None:
            return what[:1].upper() + what[1:]
        return f"{self.client.display_name} (MRN {self.client.mrn}): {what}"

    @property
    def where(self) -> str:
        """The audit's word for the place: never who."""
        return "section" if self.client is not None else "note"


@dataclass
class NoteWarning:
    kind: str
    field: str
    key: str  # stable for the same content; a changed note makes a new key
    message: str
    places: list[Place]
    # A repeat of an earlier note: the date of service of the note each place repeats.
    earlier: list[datetime] = field(default_factory=list)
    # A name hit: the members who bear the name.
    bearers: list[Client] = field(default_factory=list)

    @property
    def entries(self) -> list[tuple[Place, datetime | None]]:
        """Each place with the earlier note it repeats (None when it repeats none)."""
        return [
            (p, self.earlier[i] if i < len(self.earlier) else None)
            for i, p in enumerate(self.places)
        ]

    @property
    def code(self) -> str:
        """The audit's record of the acknowledgment: kind, field and a count."""
        if self.kind == NAME_HIT:
            wheres = "+".join(sorted({p.where for p in self.places}))
            return f"{NAME_HIT}:{wheres}:places={len(self.places)}"
        return f"{self.kind}:{self.field}:sections={len(self.places)}"

    @property
    def ack_label(self) -> str:
        if self.kind == NAME_HIT:
            return "Not a member's name here (a false hit): sign as written."
        return "I reviewed this text: it is true for each client named, sign as written."


# --- Normalising and comparing ------------------------------------------------------


def normalise(text: str) -> str:
    return _SPACE.sub(" ", _NOT_WORD.sub(" ", text.casefold())).strip()


def similar(a: str, b: str) -> bool:
    """``a`` and ``b`` normalised (``normalise``): the same text, or near enough."""
    if not a or not b:
        return False
    if a == b:
        return True
    if min(len(a), len(b)) < SHORT_TEXT:
        return False
    return fuzz.ratio(a, b, score_cutoff=SIMILARITY) >= SIMILARITY


def _names(client: Client) -> list[str]:
    names = (client.legal_first_name, client.legal_last_name, client.preferred_name)
    return [n.strip() for n in names if len(n.strip()) >= MIN_NAME]


@functools.lru_cache(maxsize=512)
def _name_pattern(names: tuple[str, ...]) -> re.Pattern:
    # Lookarounds rather than \b: \b needs a word character at the name's edge, and a
    # name may end in one that is not ("Jr."); (?<!\w)...(?!\w) is \b's meaning for
    # any name. Longest first, so "Ann-Marie" wins over "Ann". str patterns are
    # Unicode-aware: "Zoë", "José" are whole words.
    alternatives = "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _key(*parts) -> str:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return digest[:20]


# --- What a note holds -----------------------------------------------------------------


@dataclass
class _Text:
    place: Place
    compare_as: str  # the field compared across notes (an appointment's response key
    #                  is the section's "response")
    text: str
    normal: str
    client_id: int


def _sections(note: ProgressNote) -> list[GroupNoteSection]:
    return list(note.sections.select_related("client").order_by("pk"))


def _note_texts(note: ProgressNote, sections) -> list[_Text]:
    texts = []
    if note.is_group:
        for section in sections:
            for name in TEXT_FIELDS:
                value = getattr(section, name)
                place = Place(name, f"id_{section.client.public_id}-{name}", section.client)
                texts.append(_Text(place, name, value, normalise(value), section.client_id))
    else:
        titles = dict(FORMAT_SECTIONS[note.format])
        for name, compare_as, value in _appointment_fields(note):
            anchor = f"id_{name}" if name in ("plan", "safety_plan_note") else f"id_body_{name}"
            place = Place(compare_as, anchor, title=titles.get(name, ""))
            texts.append(_Text(place, compare_as, value, normalise(value), note.client_id))
    return [t for t in texts if t.normal]


def _appointment_fields(note) -> list[tuple[str, str, str]]:
    """(field on the page, field compared as, text) of an appointment's note."""
    response = RESPONSE_KEY[note.format]
    fields = [
        (key, "response" if key == response else key, note.body.get(key, ""))
        for key, _label in FORMAT_SECTIONS[note.format]
    ]
    return [
        *fields,
        ("plan", "plan", note.plan),
        ("safety_plan_note", "safety_plan_note", note.safety_plan_note),
    ]


def _earlier_texts(note: ProgressNote, client_ids) -> dict[int, list[tuple[datetime, str, str]]]:
    """Per client, the texts of their previous ``PREVIOUS_NOTES`` signed notes before
    this one's date of service: (date of service, field compared as, raw text). Two
    queries (group sections; appointment notes), each capped per client by a window."""
    before = note.service_start
    sections = (
        GroupNoteSection.objects.filter(
            client_id__in=client_ids,
            note__status=NoteStatus.SIGNED,
            note__session__starts_at__lt=before,
        )
        .exclude(note_id=note.pk)
        .annotate(
            served=F("note__session__starts_at"),
            rank=Window(
                RowNumber(),
                partition_by=[F("client_id")],
                order_by=[F("note__session__starts_at").desc(), F("note_id").desc()],
            ),
        )
        .filter(rank__lte=PREVIOUS_NOTES)
        .values("client_id", "served", *TEXT_FIELDS)
    )
    notes = (
        ProgressNote.objects.filter(
            client_id__in=client_ids,
            status=NoteStatus.SIGNED,
            appointment__starts_at__lt=before,
        )
        .exclude(pk=note.pk)
        .annotate(
            served=F("appointment__starts_at"),
            rank=Window(
                RowNumber(),
                partition_by=[F("client_id")],
                order_by=[F("appointment__starts_at").desc(), F("pk").desc()],
            ),
        )
        .filter(rank__lte=PREVIOUS_NOTES)
        .values("client_id", "served", "format", "body", "plan", "safety_plan_note")
    )
    found: dict[int, list[tuple[datetime, list[tuple[str, str]]]]] = defaultdict(list)
    for row in sections:
        found[row["client_id"]].append((row["served"], [(name, row[name]) for name in TEXT_FIELDS]))
    for row in notes:
        shell = ProgressNote(
            format=row["format"],
            body=row["body"] or {},
            plan=row["plan"],
            safety_plan_note=row["safety_plan_note"],
        )
        found[row["client_id"]].append(
            (row["served"], [(as_, text) for _n, as_, text in _appointment_fields(shell)])
        )
    earlier = {}
    for client_id, rows in found.items():
        rows.sort(key=lambda r: r[0], reverse=True)
        earlier[client_id] = [
            (served, as_, text) for served, texts in rows[:PREVIOUS_NOTES] for as_, text in texts
        ]
    return earlier


# --- The checks ------------------------------------------------------------------------


def copied_text_warnings(note: ProgressNote, *, sections=None) -> list["NoteWarning"]:
    """The copied-text warnings of ``note`` (module docstring)."""
    if sections is None and note.is_group:
        sections = _sections(note)
    texts = _note_texts(note, sections or [])
    warnings = []
    # Within the note: the sections whose field is the same text (a cluster of
    # pairwise matches, so ten identical responses are one warning).
    by_field = defaultdict(list)
    for t in texts:
        if t.place.client is not None:
            by_field[t.compare_as].append(t)
    for name in TEXT_FIELDS:
        for cluster in _clusters(by_field.get(name, [])):
            places = [t.place for t in cluster]
            warnings.append(
                NoteWarning(
                    kind=COPIED_IN_NOTE,
                    field=name,
                    key=_key(
                        COPIED_IN_NOTE,
                        name,
                        *sorted((t.client_id, t.normal) for t in cluster),
                    ),
                    message=f"The same {FIELD_LABELS[name]} in {len(places)} sections: "
                    "write what each client said and did.",
                    places=places,
                )
            )
    # Against the client's own earlier notes.
    if texts:
        earlier = _earlier_texts(note, {t.client_id for t in texts})
        repeats = defaultdict(list)
        for t in texts:
            for served, as_, text in earlier.get(t.client_id, ()):
                if as_ != t.compare_as:
                    continue
                if similar(t.normal, normalise(text)):
                    repeats[t.compare_as].append((t, served))
                    break
        order = {name: i for i, name in enumerate(TEXT_FIELDS)}
        for name in sorted(repeats, key=lambda n: (order.get(n, len(order)), n)):
            found = repeats[name]
            label = FIELD_LABELS.get(name, name.replace("_", " "))
            warnings.append(
                NoteWarning(
                    kind=COPIED_FROM_EARLIER,
                    field=name,
                    key=_key(
                        COPIED_FROM_EARLIER,
                        name,
                        *sorted((t.client_id, t.normal, served.isoformat()) for t, served in found),
                    ),
                    message=f"The {label} repeats the same client's earlier note: "
                    "say what is new this time.",
                    places=[t.place for t, _served in found],
                    earlier=[served for _t, served in found],
                )
            )
    return warnings


def _clusters(texts: list[_Text]) -> list[list[_Text]]:
    parent = list(range(len(texts)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            if similar(texts[i].normal, texts[j].normal):
                parent[root(j)] = root(i)
    groups = defaultdict(list)
    for i, t in enumerate(texts):
        groups[root(i)].append(t)
    return [g for g in groups.values() if len(g) > 1]


def group_members(note: ProgressNote) -> list[Client]:
    """The clients of the note's session: on the group's list that day, or marked on
    its attendance (present or not): the names the narrative and sections must not
    carry. One query."""
    session = note.session
    roster = Enrollment.objects.on(session.date).filter(group_id=session.group_id)
    marked = Attendance.objects.filter(session=session)
    return list(
        Client.objects.filter(
            pk__in=roster.order_by().values("client").union(marked.order_by().values("client"))
        ).only("public_id", "mrn", "legal_first_name", "legal_last_name", "preferred_name")
    )


def name_hits(note: ProgressNote, *, sections=None, members=None) -> list[NoteWarning]:
    """Another member's name in a group note (module docstring): one warning per word
    matched, listing each place it was found. An appointment's note is one client's and
    names no group: none."""
    if not note.is_group:
        return []
    if sections is None:
        sections = _sections(note)
    if members is None:
        members = group_members(note)
    owners = defaultdict(list)  # name (case-folded) -> members who bear it
    for member in members:
        for name in _names(member):
            owners[name.casefold()].append(member)
    if not owners:
        return []
    pattern = _name_pattern(tuple(owners))
    hits = defaultdict(list)  # word -> [(place, text)]

    def scan(place: Place, text: str, exclude: Client | None):
        own = {n.casefold() for n in _names(exclude)} if exclude is not None else set()
        for word in dict.fromkeys(m.group(0).casefold() for m in pattern.finditer(text)):
            others = [m for m in owners[word] if exclude is None or m.pk != exclude.pk]
            if others and word not in own:
                hits[word].append((place, text))

    scan(Place("narrative", "id_narrative"), note.narrative, None)
    for section in sections:
        for name in TEXT_FIELDS:
            place = Place(name, f"id_{section.client.public_id}-{name}", section.client)
            scan(place, getattr(section, name), section.client)
    warnings = []
    for word in sorted(hits):
        found = hits[word]
        bearers = owners[word]
        whose = "; ".join(f"{m.display_name} (MRN {m.mrn})" for m in bearers)
        shown = next(n for n in _names(bearers[0]) if n.casefold() == word)
        warnings.append(
            NoteWarning(
                kind=NAME_HIT,
                field="narrative" if found[0][0].client is None else found[0][0].field,
                key=_key(NAME_HIT, word, *sorted((p.anchor, text) for p, text in found)),
                message=f"“{shown}” is the name of a member of the group ({whose}): a "
                "client's record names no one else in the room.",
                places=[p for p, _text in found],
                bearers=list(bearers),
            )
        )
    return warnings


def sign_warnings(note: ProgressNote) -> list[NoteWarning]:
    """Every warning to acknowledge before ``note`` is signed: copied text, then names."""
    sections = _sections(note) if note.is_group else []
    return copied_text_warnings(note, sections=sections) + name_hits(note, sections=sections)
