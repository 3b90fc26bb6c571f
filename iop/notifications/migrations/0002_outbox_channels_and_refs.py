import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    # Nothing wrote to the outbox before this migration (issue 11), so the unique
    # public_id default is evaluated on an empty table.

    dependencies = [
        ("notifications", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameField("outboxmessage", "not_before", "scheduled_for"),
        migrations.AlterField(
            model_name="outboxmessage",
            name="scheduled_for",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="audience",
            field=models.CharField(
                choices=[("client", "Client"), ("staff", "Staff")], default="staff", max_length=8
            ),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="client",
            field=models.UUIDField(blank=True, db_index=True, null=True),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="staff",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="outbox_messages",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="template",
            field=models.CharField(default="plain", max_length=60),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="ref",
            field=models.CharField(blank=True, db_index=True, max_length=120),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="refs",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="read_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="provider_id",
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="channel",
            field=models.CharField(
                choices=[("email", "Email"), ("sms", "Text message"), ("in_app", "In-app")],
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="recipient",
            field=models.CharField(blank=True, max_length=254),
        ),
        migrations.AlterField(
            model_name="outboxmessage",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("failed", "Failed"),
                    ("cancelled", "Cancelled"),
                ],
                db_index=True,
                default="pending",
                max_length=16,
            ),
        ),
        migrations.AddIndex(
            model_name="outboxmessage",
            index=models.Index(fields=["status", "scheduled_for"], name="outbox_due"),
        ),
        migrations.AddConstraint(
            model_name="outboxmessage",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("audience", "staff"), ("client__isnull", False), _connector="OR"
                ),
                name="outbox_client_message_names_client",
            ),
        ),
    ]
