"""42 CFR Part 2 (2024 rule): each disclosure keeps its purpose and the recipient's
address (45 CFR 164.528(b)(2), applied by 2.25(a)); the signer's basis (2.14) has room
for the minor's bases. A disclosure recorded before this keeps its consent's purpose,
the purpose it was disclosed under."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def purpose_from_consent(apps, schema_editor):
    Disclosure = apps.get_model("clients", "Disclosure")
    Consent = apps.get_model("clients", "Consent")
    Disclosure.objects.filter(purpose="").update(
        purpose=Subquery(Consent.objects.filter(pk=OuterRef("consent_id")).values("purpose")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [("clients", "0004_drop_duplicate_permission_index")]

    operations = [
        migrations.AddField(
            model_name="disclosure",
            name="purpose",
            field=models.CharField(
                default="",
                help_text="A brief statement of why it was sent, e.g. 'monthly monitoring report'.",
                max_length=300,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="disclosure",
            name="recipient_address",
            field=models.CharField(
                blank=True, help_text="If known: postal, fax or email address.", max_length=300
            ),
        ),
        migrations.AlterField(
            model_name="consent",
            name="signer_relationship",
            field=models.CharField(
                choices=[
                    ("self", "The client (an adult)"),
                    ("minor_alone", "The client, a minor consenting alone under state law"),
                    ("minor_guardian", "The client (a minor) and a parent or guardian"),
                    ("guardian", "A parent or legal guardian alone"),
                    ("authorised", "A personal representative (authorised under state law)"),
                ],
                default="self",
                max_length=16,
                verbose_name="signed on the basis of",
            ),
        ),
        migrations.RunPython(purpose_from_consent, migrations.RunPython.noop),
    ]
