"""A group section's structured choices (issue 20).

The section lock (clinical/notes/lock.py, ``clinical_note_section_lock``) refuses any
INSERT, UPDATE or DELETE of a section of a signed note, whatever its columns: these new
columns are locked by it as they are, so it is not re-applied here."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0004_drop_duplicate_permission_index"),
        ("clinical", "0005_sign_warnings"),
    ]

    operations = [
        migrations.AddField(
            model_name="groupnotesection",
            name="affect",
            field=models.CharField(
                blank=True,
                choices=[
                    ("euthymic", "euthymic / appropriate to content"),
                    ("anxious", "anxious"),
                    ("depressed", "depressed"),
                    ("irritable", "irritable"),
                    ("flat", "flat / restricted"),
                    ("elevated", "elevated"),
                ],
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="groupnotesection",
            name="intervention_response",
            field=models.CharField(
                blank=True,
                choices=[
                    ("receptive", "receptive and engaged"),
                    ("practising", "receptive; needs more practice with the skill"),
                    ("ambivalent", "ambivalent"),
                    ("resistant", "resistant"),
                    ("limited", "limited understanding; needed redirection"),
                ],
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="groupnotesection",
            name="objective_index",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="groupnotesection",
            name="objective_plan",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="clinical.treatmentplanversion",
            ),
        ),
        migrations.AddField(
            model_name="groupnotesection",
            name="participation_level",
            field=models.CharField(
                blank=True,
                choices=[
                    ("active", "active, contributed without prompting"),
                    ("appropriate", "appropriate, took part when invited"),
                    ("minimal", "minimal, present but said little"),
                    ("disruptive", "disruptive, redirected during the session"),
                ],
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="groupnotesection",
            name="plan_choice",
            field=models.CharField(
                blank=True,
                choices=[
                    ("continue", "continue IOP as planned"),
                    ("primary", "review with the primary clinician"),
                    ("individual", "schedule an individual session"),
                    ("step_down", "assess readiness to step down"),
                    ("higher", "assess for a higher level of care"),
                ],
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="groupnotesection",
            name="progress_rating",
            field=models.CharField(
                blank=True,
                choices=[
                    ("progressing", "progressing"),
                    ("maintaining", "maintaining"),
                    ("regressing", "regressing"),
                    ("not_addressed", "not addressed this session"),
                ],
                max_length=14,
            ),
        ),
        migrations.AddConstraint(
            model_name="groupnotesection",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("objective_index__isnull", True), ("objective_plan__isnull", True)),
                    models.Q(("objective_index__isnull", False), ("objective_plan__isnull", False)),
                    _connector="OR",
                ),
                name="section_objective_plan_and_index",
            ),
        ),
    ]
