"""The modalities and curriculum a program starts with (README, Clinical charting).

Seeded by migration ``clinical.0001_notes`` and editable in the admin afterwards;
``seed_catalog`` is idempotent (get_or_create by code or title), so tests that flush
the database put it back the same way.
"""

# (code, name, parent code)
MODALITIES = [
    ("cbt", "Cognitive behavioural therapy (CBT)", None),
    ("dbt", "Dialectical behaviour therapy (DBT)", None),
    ("dbt-mindfulness", "Mindfulness", "dbt"),
    ("dbt-distress-tolerance", "Distress tolerance", "dbt"),
    ("dbt-emotion-regulation", "Emotion regulation", "dbt"),
    ("dbt-interpersonal", "Interpersonal effectiveness", "dbt"),
    ("trauma", "Trauma-focused therapy", None),
    ("family", "Family therapy", None),
    ("mat", "Medication-assisted treatment", None),
    ("art", "Art therapy", None),
    ("outdoor", "Outdoor / adventure therapy", None),
    ("mindfulness", "Mindfulness and relaxation", None),
    ("psychoeducation", "Psychoeducation", None),
    ("relapse-prevention", "Relapse prevention", None),
    ("case-management", "Case management", None),
]

# In teaching order. IOP 6 covers each topic first; IOP 3 returns to it in depth.
TOPICS = [
    "Sober skills",
    "Co-occurring issues",
    "Identifying triggers",
    "Interpersonal process",
    "Grounding techniques",
    "Healthy lifestyle",
    "Communication skills",
    "Cognitive distortions",
    "Self-esteem",
    "Family roles",
    "Cycles of change",
    "Process of addiction and recovery",
    "Denial and defence mechanisms",
    "Emotional management",
    "Legal issues",
    "Stages of dependency",
    "High-risk situations",
    "Personal responsibility",
    "Cognitive skill building",
    "Alternatives to use",
    "Consequences of use",
]
TOPIC_DEPTH = {
    "iop6": "Introduction: name it, recognise it in your own story.",
    "iop3": "In depth: apply it at work and at home, rehearse, review what happened this week.",
}


def seed_catalog(apps, schema_editor=None):
    Modality = apps.get_model("clinical", "Modality")
    CurriculumTopic = apps.get_model("clinical", "CurriculumTopic")
    Track = apps.get_model("scheduling", "Track")
    by_code = {}
    for order, (code, name, parent) in enumerate(MODALITIES):
        by_code[code], _ = Modality.objects.get_or_create(
            code=code, defaults={"name": name, "parent": by_code.get(parent), "order": order}
        )
    for track in Track.objects.filter(code__in=TOPIC_DEPTH):
        for order, title in enumerate(TOPICS, start=1):
            CurriculumTopic.objects.get_or_create(
                track=track,
                title=title,
                defaults={"order": order, "description": TOPIC_DEPTH[track.code]},
            )
