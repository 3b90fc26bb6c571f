"""Seed the analytes, the two panels, the program policy and the track policies.

HHS Mandatory Guidelines for Federal Workplace Drug Testing Programs (urine, 2017),
initial/confirmatory cutoffs in ng/mL; the clinical add-ons' cutoffs are the lab's to
set (these are common defaults). Codes match ``clinical.meds.models.Analyte`` where a
medication can make an analyte expected (buprenorphine, methadone, ...).
"""

from decimal import Decimal

from django.db import migrations

D = Decimal
# (code, name, initial, confirmatory, alcohol marker)
HHS = [
    ("thc", "Marijuana metabolite (THCA)", D(50), D(15), False),
    ("cocaine", "Cocaine metabolite (benzoylecgonine)", D(150), D(100), False),
    ("opiates", "Codeine/morphine", D(2000), D(2000), False),
    ("hydrocodone", "Hydrocodone/hydromorphone", D(300), D(100), False),
    ("oxycodone", "Oxycodone/oxymorphone", D(100), D(100), False),
    ("6am", "6-Acetylmorphine (heroin)", D(10), D(10), False),
    ("pcp", "Phencyclidine (PCP)", D(25), D(25), False),
    ("amphetamines", "Amphetamine/methamphetamine", D(500), D(250), False),
    ("mdma", "MDMA/MDA", D(500), D(250), False),
    ("fentanyl", "Fentanyl (norfentanyl 1)", D(1), D(1), False),
]
ADD_ONS = [
    ("benzodiazepines", "Benzodiazepines", D(300), None, False),
    ("buprenorphine", "Buprenorphine", D(5), None, False),
    ("norbuprenorphine", "Norbuprenorphine", D(5), None, False),
    ("methadone", "Methadone", D(300), None, False),
    ("eddp", "EDDP (methadone metabolite)", D(100), None, False),
    ("etg", "Ethyl glucuronide (EtG)", D(500), None, True),
    ("ets", "Ethyl sulfate (EtS)", D(100), None, True),
]
# Random tests a week and the minimum days between two, per track code.
POLICIES = {"iop6": (D(2), 2), "iop3": (D(1), 3), "op": (D("0.5"), 3)}


def seed(apps, schema_editor):
    Analyte = apps.get_model("screening", "Analyte")
    Panel = apps.get_model("screening", "Panel")
    ProgramPolicy = apps.get_model("screening", "ProgramPolicy")
    TestingPolicy = apps.get_model("screening", "TestingPolicy")
    Track = apps.get_model("scheduling", "Track")
    analytes = {}
    for order, (code, name, initial, confirm, alcohol) in enumerate(HHS + ADD_ONS):
        analytes[code], _ = Analyte.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "initial_cutoff": initial,
                "confirm_cutoff": confirm,
                "alcohol_marker": alcohol,
                "order": order,
            },
        )
    hhs, _ = Panel.objects.get_or_create(code="hhs", defaults={"name": "HHS federal panel"})
    hhs.analytes.add(*(analytes[code] for code, *_ in HHS))
    clinical, _ = Panel.objects.get_or_create(
        code="iop", defaults={"name": "IOP clinical panel (HHS + add-ons)", "is_default": True}
    )
    clinical.analytes.add(*analytes.values())
    ProgramPolicy.objects.get_or_create(pk=1, defaults={"missed_counts_positive": True})
    for code, (per_week, gap) in POLICIES.items():
        track = Track.objects.filter(code=code).first()
        if track is not None:
            TestingPolicy.objects.get_or_create(
                track=track, defaults={"tests_per_week": per_week, "min_gap_days": gap}
            )


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial"), ("scheduling", "0002_tracks_and_slots")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
