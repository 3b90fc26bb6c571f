"""Two clients may share a name (the demo has two Alex Abbotts): every staff page that
names a client also shows what tells them apart. A template that prints
``display_name`` must print the MRN too, except the client's own printed copies."""

from pathlib import Path

from django.conf import settings

# Printed for the client to take home: their own name only, no internal number needed.
CLIENT_COPIES = {
    "scheduling/client_schedule.html",
    "clinical/plans/relapse_print.html",
}


def test_every_template_that_names_a_client_shows_the_mrn():
    root = Path(settings.BASE_DIR) / "templates"
    missing = []
    for path in sorted(root.rglob("*.html")):
        name = str(path.relative_to(root))
        text = path.read_text()
        if "display_name" in text and "mrn" not in text and name not in CLIENT_COPIES:
            missing.append(name)
    assert missing == []
