from datetime import time
from decimal import Decimal

from django.db import migrations

# (code, name, days/week, hours/session, floor hours/week, typical days, steps down to)
TRACKS = [
    ("alumni", "Alumni group", 1, Decimal("1.5"), Decimal("0"), (90, 365), None),
    ("op", "Standard outpatient", 1, Decimal("1.5"), Decimal("1.5"), (60, 180), "alumni"),
    # ASAM level 2.1: at least 9 hours a week of structured programming for adults.
    ("iop3", "IOP 3", 3, Decimal("3"), Decimal("9"), (28, 60), "op"),
    ("iop6", "IOP 6", 6, Decimal("3"), Decimal("9"), (28, 45), "iop3"),
]
SLOTS = [
    ("morning", "Morning", time(7), time(10)),
    ("midday", "Midday", time(11), time(14)),
    ("evening", "Evening", time(18), time(21)),
    ("weekend", "Weekend", time(9), time(12)),
]


def seed(apps, schema_editor):
    Track = apps.get_model("scheduling", "Track")
    Slot = apps.get_model("scheduling", "Slot")
    for order, (code, name, days, hours, floor, (low, high), down) in enumerate(TRACKS):
        Track.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "days_per_week": days,
                "hours_per_session": hours,
                "min_hours_per_week": floor,
                "typical_min_days": low,
                "typical_max_days": high,
                "steps_down_to": Track.objects.filter(code=down).first() if down else None,
                "order": len(TRACKS) - order,
            },
        )
    for order, (code, name, start, end) in enumerate(SLOTS):
        Slot.objects.get_or_create(
            code=code, defaults={"name": name, "start_time": start, "end_time": end, "order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
