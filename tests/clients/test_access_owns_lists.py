"""Nothing outside clients/access.py filters client-owned rows by the person asking.

Reads the source of every module that serves pages and lists (selectors, views,
registrations, reports, reminders, the dashboard): a filter whose keyword follows a
person (author, supervisor, facilitators, clinician, staff…) to a value that is not a
constant is a list deciding on its own who sees what, unless it is in ALLOWED below
with its reason. Writes (``services`` modules) check their actor through
``clients.access.may`` and are not lists; demo and scale seeders only write.
"""

import ast
from pathlib import Path

from django.conf import settings

APPS = ("clients", "clinical", "scheduling", "screening", "iop")
# Accounts hold no client rows (a person's roles and authenticator devices).
SKIP_PARTS = {"migrations", "bench", "management", "accounts"}
PEOPLE = {
    "author",
    "clinical_supervisor",
    "facilitators",
    "clinician",
    "collector",
    "operator",
    "confirm_operator",
    "recorded_by",
    "created_by",
    "staff",
    "prescriber",
    "acknowledged_by",
    "flag_acknowledged_by",
    "owner",
    "user",
}
CALLS = {"filter", "exclude", "Q", "get", "first"}

# (enclosing function, keyword): why a person filter outside clients.access is right.
# Keyed by function, not file, so moving a module does not break the list.
ALLOWED = {
    # The caseloads narrow clients_for(user) to the clients the person (or their
    # supervisees) serve in a clinical role: a subset of the scope, never more.
    ("caseload_for", "staff"): "inside clients_for(user)",
    ("supervised_caseload_for", "staff__clinical_supervisor"): "inside clients_for(user)",
    # Screens to follow up: the primary clinician's, inside write_scope (clients_for).
    ("follow_ups_for", "staff_id"): "inside clients_for(user, CLINICAL_WRITE)",
    # Documentation compliance counts notes per clinician and names no client; its
    # overdue-plans part is inside clients_for(user, CLINICAL).
    ("note_authors", "clinical_supervisor"): "staff rows (the clinician choices), no client",
    # A co-signature's round: the addenda a note's own author added (each answers a
    # return and re-queues it), a count on one note, not a list of anyone's.
    ("_with_requeues", "addenda__author_id"): "a note's own author's addenda, counted",
    # The breath form fills in the device the collector last used: one value of their
    # own tests (the instrument's name), no client and no row leaves the query.
    ("last_breath_device", "operator"): "the collector's own instrument name, no client",
    ("plans_overdue", "staff"): "the clinician filter, inside clients_for(user)",
    ("plans_overdue", "staff__in"): "a supervisor's team, inside clients_for(user)",
    ("_scope", "staff"): "the report's clinician filter, inside clients_for(user)",
    # A person's own staff tasks (rows addressed to them); the list names a client only
    # through clients_for(user, CLINICAL) (clients.selectors.openable_client_labels).
    ("unread_for", "staff"): "a person's own messages",
    ("open_tasks_for", "staff"): "a person's own tasks",
    ("task_done", "staff"): "a person's own task",
}


def _modules():
    root = Path(settings.BASE_DIR)
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            rel = path.relative_to(root)
            if SKIP_PARTS & set(rel.parts) or "services" in path.stem:
                continue
            if "demo" in path.stem or path.stem.startswith("scale"):
                continue
            if rel.as_posix() == "clients/access.py":
                continue
            yield rel, path


def _person_filters(tree):
    """(function, keyword, line) of every person filter with a non-constant value."""
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            name = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = child.name
            if isinstance(child, ast.Call):
                f = child.func
                called = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                if called in CALLS:
                    for kw in child.keywords:
                        if kw.arg is None or isinstance(kw.value, ast.Constant):
                            continue
                        parts = {p.removesuffix("_id") for p in kw.arg.split("__")}
                        if parts & PEOPLE:
                            found.append((function, kw.arg, child.lineno))
            visit(child, name)

    visit(tree, "<module>")
    return found


def test_no_list_filters_client_owned_rows_by_person_outside_access():
    offenders, used = [], set()
    for rel, path in _modules():
        for function, keyword, line in _person_filters(ast.parse(path.read_text())):
            if (function, keyword) in ALLOWED:
                used.add((function, keyword))
            else:
                offenders.append(f"{rel}:{line} {function}(): {keyword}=")
    assert not offenders, (
        "Filter by person through clients.access.scope (or staff_relation for a "
        "person's own calendar), or add the line to ALLOWED with its reason:\n"
        + "\n".join(offenders)
    )
    # An entry that no longer matches anything is removed, so the list stays honest.
    assert not set(ALLOWED) - used, sorted(set(ALLOWED) - used)


def test_the_scan_finds_what_it_looks_for():
    """The scan's own control: the co-sign queue as it was before issue 17 is caught."""
    before = """
def cosign_queue(supervisor):
    return ProgressNote.objects.filter(author__clinical_supervisor=supervisor)

def open_notes(author):
    return ProgressNote.objects.filter(author=author)

def facilitator_today(user, day):
    return GroupSession.objects.on(day).filter(group__facilitators=user)
"""
    found = {(f, k) for f, k, _ in _person_filters(ast.parse(before))}
    assert found == {
        ("cosign_queue", "author__clinical_supervisor"),
        ("open_notes", "author"),
        ("facilitator_today", "group__facilitators"),
    }
