# A group note's addendum adds to the narrative (every attending client's chart) or to
# one client's section (that client's chart only). Existing addenda keep no section:
# they were shown to every member, as the narrative's are.
#
# The addendum triggers of 0001_notes and 0003_signature_locks read only note_id,
# author_id and signed_at, so they need no change; on PostgreSQL a new trigger refuses
# a section that is not one of the addendum's own note (clinical/notes/lock.py).
import django.db.models.deletion
from django.db import migrations, models

from clinical.notes.lock import apply_addendum_section_lock, remove_addendum_section_lock


class Migration(migrations.Migration):
    dependencies = [
        ("clinical", "0003_signature_locks"),
    ]

    operations = [
        migrations.AddField(
            model_name="addendum",
            name="section",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="addenda",
                to="clinical.groupnotesection",
            ),
        ),
        migrations.RunPython(apply_addendum_section_lock, remove_addendum_section_lock),
    ]
