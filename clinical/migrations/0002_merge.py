# Each part of the clinical app was built in parallel with its own first migration;
# this joins them so the app has one history.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("clinical", "0001_meds"),
        ("clinical", "0001_notes"),
        ("clinical", "0001_plans"),
    ]

    operations = []
