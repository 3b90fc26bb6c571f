from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row, Submit
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from clients.models import (
    AGE_OF_MAJORITY,
    ASAM_DIMENSION_NAMES,
    ASAM_DIMENSIONS,
    ASAM_LEVEL_NAMES,
    ASSIGNABLE_ROLES,
    END_OF_TREATMENT,
    MRN_FORMAT_MESSAGE,
    AsamEdition,
    AsamLevel,
    CareTeamRole,
    Client,
    ClientStatus,
    Consent,
    ContinuingCare,
    DischargeReason,
    DisclosureMethod,
    InformationCategory,
    RecipientType,
    SignerRelationship,
    Substance,
    SupportContact,
    TpoRecipient,
    asam_dimensions,
    normalize_mrn,
    program_asam_edition,
)
from clients.services import (
    DEMOGRAPHIC_FIELDS,
    MAXIMUM_REASON_LENGTH,
    ROLE_STAFF,
    normalise_phone,
    possible_duplicates,
    validate_date_of_birth,
)
from iop import when
from iop.accounts.models import Role
from iop.dates import DateKind, PlausibleDateField, date_input
from iop.forms import TextField, text_formfield

DATE = date_input()
TIME = forms.TimeInput(attrs={"type": "time"})


def _helper(label: str) -> FormHelper:
    helper = FormHelper()
    helper.add_input(Submit("submit", label))
    return helper


def _clean_phone(form, name="phone"):
    try:
        return normalise_phone(form.cleaned_data.get(name, ""))
    except forms.ValidationError as exc:
        raise forms.ValidationError(exc.message_dict["phone"]) from exc


def reminder_errors(form, *, phone, email, consent_words="Reminders need the client's consent."):
    """The reminder rules of every form that sets them (staff's client form, the
    client's own in the portal): a channel needs consent and somewhere to send to.
    ``clients.services`` checks the same on save."""
    cleaned = form.cleaned_data
    channel = cleaned.get("reminder_channel")
    if channel in ("sms", "email") and not cleaned.get("reminder_consent"):
        form.add_error("reminder_consent", consent_words)
    if channel == "sms" and not phone and "phone" not in form.errors:
        form.add_error("reminder_channel", "Text reminders need a valid phone number.")
    if channel == "email" and not email and "email" not in form.errors:
        form.add_error("reminder_channel", "Email reminders need an email address.")


class ClientForm(forms.ModelForm):
    """Demographics, contact and reminders: what intake and the care team edit.
    Clinical intake data has its own form, shown only to people with CLINICAL."""

    date_of_birth = PlausibleDateField(kind=DateKind.BIRTH)
    confirm_not_duplicate = forms.BooleanField(
        required=False,
        label="I checked: this is a different person from the existing client",
        widget=forms.HiddenInput,
    )

    class Meta:
        model = Client
        formfield_callback = text_formfield
        # The one list of what a demographics edit may set; clinical intake is apart.
        fields = list(DEMOGRAPHIC_FIELDS)
        widgets = {
            "quiet_hours_start": TIME,
            "quiet_hours_end": TIME,
        }

    def __init__(self, *args, check_duplicates=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.check_duplicates = check_duplicates
        self.duplicate_count = 0
        self.duplicate_checked = False
        self.fields["phone"].help_text = "Any common format; stored as +1 555 201 4477."
        self.helper = _helper("Save" if self.instance.pk else "Register prospect")
        self.helper.layout = Layout(
            Fieldset(
                "Identity",
                Row(Column("legal_first_name"), Column("legal_last_name")),
                Row(Column("preferred_name"), Column("pronouns"), Column("date_of_birth")),
            ),
            Fieldset("Contact", Row(Column("phone"), Column("email"))),
            Fieldset(
                "Work and monitoring",
                Row(Column("profession"), Column("employer")),
                Row(Column("monitoring_program"), Column("monitoring_contact")),
                "referral_source",
            ),
            Fieldset(
                "Reminders",
                Row(Column("reminder_channel"), Column("reminder_consent")),
                "reminder_may_name_program",
                Row(Column("quiet_hours_start"), Column("quiet_hours_end")),
            ),
            "confirm_not_duplicate",
        )

    def clean_date_of_birth(self):
        dob = self.cleaned_data["date_of_birth"]
        try:
            validate_date_of_birth(dob)
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["date_of_birth"]) from exc
        return dob

    def clean_phone(self):
        return _clean_phone(self)

    def clean(self):
        cleaned = super().clean()
        reminder_errors(self, phone=cleaned.get("phone"), email=cleaned.get("email"))
        if self.check_duplicates and not self.errors:
            self.duplicate_checked = True
            matches = possible_duplicates(
                first_name=cleaned.get("legal_first_name", ""),
                last_name=cleaned.get("legal_last_name", ""),
                dob=cleaned.get("date_of_birth"),
            )
            if self.instance.pk:
                matches = matches.exclude(pk=self.instance.pk)
            self.duplicate_count = matches.count()
            if self.duplicate_count and not cleaned.get("confirm_not_duplicate"):
                # Show the confirmation box only now, so that a second submit is deliberate.
                self.fields["confirm_not_duplicate"].widget = forms.CheckboxInput()
                raise forms.ValidationError(
                    "A client with this name and date of birth exists. If this is a "
                    "different person, tick the box below.",
                    code="duplicate",
                )
        return cleaned


class ClinicalIntakeForm(forms.Form):
    primary_substances = forms.MultipleChoiceField(
        choices=Substance.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    co_occurring_conditions = TextField(
        label="Co-occurring conditions",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("Save clinical intake")


class SupportContactForm(forms.ModelForm):
    class Meta:
        model = SupportContact
        formfield_callback = text_formfield
        fields = ["name", "relationship", "phone", "email", "is_emergency", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("Add contact")

    def clean_phone(self):
        return _clean_phone(self)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("phone") and not cleaned.get("email"):
            raise forms.ValidationError("Give a phone number or an email address.")
        return cleaned


class ConsentForm(forms.ModelForm):
    information_categories = forms.MultipleChoiceField(
        choices=InformationCategory.choices, widget=forms.CheckboxSelectMultiple
    )
    expiry_event = TextField(
        required=False,
        help_text=f"An event instead of (or besides) a date, e.g. '{END_OF_TREATMENT}'.",
    )
    signature_confirmed = forms.BooleanField(
        label="The signer signed the written form (or the e-signature was captured)",
        required=True,
    )
    recipient_type = forms.ChoiceField(choices=RecipientType.choices, widget=forms.RadioSelect)
    signed_on = PlausibleDateField(kind=DateKind.RECORD, label="Date signed")
    expires_on = PlausibleDateField(kind=DateKind.EXPIRY, required=False)

    class Meta:
        model = Consent
        formfield_callback = text_formfield
        fields = [
            "recipient_type",
            "recipient_name",
            "purpose",
            "information_categories",
            "information_description",
            "discloser",
            "expires_on",
            "expiry_event",
            "revocation_statement",
            "signed_by_name",
            "signer_relationship",
            "signed_on",
        ]
        widgets = {
            "information_description": forms.Textarea(attrs={"rows": 2}),
            "revocation_statement": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, client, program_name, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        self.fields["discloser"].initial = program_name
        self.fields["signed_by_name"].initial = client.legal_name
        self.fields["signed_on"].initial = timezone.localdate()
        self.fields["signer_relationship"].choices = SignerRelationship.choices
        self.fields["signer_relationship"].help_text = signer_help(client)
        self.helper = _helper("Record consent")

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("recipient_type") != RecipientType.TPO
            and not cleaned.get("recipient_name", "").strip()
        ):
            self.add_error("recipient_name", "Name the person or organisation.")
        if not cleaned.get("expires_on") and not cleaned.get("expiry_event", "").strip():
            self.add_error("expires_on", "Give an expiry date or an expiry event.")
        return cleaned


class ConsentPrepareForm(ConsentForm):
    """Every element of the consent but the signature, which the client gives in the
    portal (typed name, attestation, the basis their age allows)."""

    class Meta(ConsentForm.Meta):
        fields = [
            name
            for name in ConsentForm.Meta.fields
            if name not in ("signed_by_name", "signer_relationship", "signed_on")
        ]

    def __init__(self, *args, client, program_name, **kwargs):
        forms.ModelForm.__init__(self, *args, **kwargs)
        self.client = client
        del self.fields["signature_confirmed"]
        del self.fields["signed_on"]
        self.fields["discloser"].initial = program_name
        self.helper = _helper("Send to the client to sign")


def signer_help(client) -> str:
    """What 42 CFR 2.14 (2024 rule) asks of this client's signature, told on the form."""
    alone_from = settings.IOP_MINORS_CONSENT_ALONE
    age = client.age_on(timezone.localdate())
    if age >= AGE_OF_MAJORITY:
        return "The client signs, or a personal representative."
    if alone_from is not None and age >= alone_from:
        return (
            f"The client is a minor ({age}); this program's state lets a minor consent alone "
            f"from {alone_from}: only the minor signs (42 CFR 2.14(b))."
        )
    return (
        f"The client is a minor ({age}); this program's state requires a parent's consent: "
        "the minor and a parent or guardian sign (42 CFR 2.14(c))."
    )


class ConsentRevokeForm(forms.Form):
    revoked_on = PlausibleDateField(kind=DateKind.RECORD, initial=timezone.localdate)
    note = TextField(
        max_length=200, required=False, help_text="e.g. 'written revocation received by mail'"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("Revoke consent")


class DisclosureForm(forms.Form):
    # Chosen by its public id: no database sequence in forms or URLs.
    consent = forms.ModelChoiceField(queryset=Consent.objects.none(), to_field_name="public_id")
    recipient_name = TextField(max_length=200)
    recipient_address = TextField(
        max_length=300,
        required=False,
        label="Recipient's address (if known)",
        help_text="Postal, fax or email address: the accounting of disclosures lists it.",
    )
    tpo_recipient = forms.ChoiceField(
        choices=[("", "—"), *TpoRecipient.choices],
        required=False,
        label="Recipient class (TPO consents)",
    )
    information_categories = forms.MultipleChoiceField(
        choices=InformationCategory.choices, widget=forms.CheckboxSelectMultiple
    )
    description = TextField(widget=forms.Textarea(attrs={"rows": 3}), label="What was sent")
    purpose = TextField(
        max_length=300,
        label="Purpose of this disclosure",
        help_text="A brief statement of why it was sent, e.g. 'monthly monitoring report'.",
    )
    method = forms.ChoiceField(choices=DisclosureMethod.choices)
    disclosed_on = PlausibleDateField(kind=DateKind.RECORD, initial=timezone.localdate)

    def __init__(self, *args, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consent"].queryset = client.consents.signed()
        self.helper = _helper("Record disclosure")


class AccountingPeriodForm(forms.Form):
    """The period of an accounting of disclosures the client asked for (42 CFR 2.25(a),
    2024 rule): from a date no earlier than 3 years before the request, to the request."""

    since = forms.DateField(
        label="From", required=False, widget=date_input(), help_text="Empty: the full 3 years."
    )

    def __init__(self, *args, floor, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.floor, self.today = floor, today
        self.fields["since"].widget.attrs.update(
            {"min": floor.isoformat(), "max": today.isoformat()}
        )

    def clean_since(self):
        since = self.cleaned_data["since"]
        if since is not None and since < self.floor:
            raise forms.ValidationError(
                f"An accounting covers at most the 3 years before the request: from "
                f"{when.day(self.floor)} at the earliest."
            )
        if since is not None and since > self.today:
            raise forms.ValidationError("The period cannot start after today.")
        return since


class AdmitForm(forms.Form):
    admitted_on = PlausibleDateField(kind=DateKind.RECORD, initial=timezone.localdate)
    asam_level = forms.ChoiceField(label="ASAM level", choices=(), initial=AsamLevel.L2_1)
    planned_length_days = forms.IntegerField(
        label="Planned length (days)", min_value=14, max_value=365, initial=60
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The names of the edition the program assesses under (IOP_ASAM_EDITION); the
        # episode records it, so its chart keeps these names if the program moves on.
        edition = AsamEdition(program_asam_edition())
        self.fields["asam_level"].choices = list(ASAM_LEVEL_NAMES[edition].items())
        rating_choices = [("", "—"), *[(str(i), str(i)) for i in range(5)]]
        for key, label in asam_dimensions(edition):
            self.fields[f"{key}_rating"] = forms.TypedChoiceField(
                label=label, choices=rating_choices, coerce=int
            )
            # Six notes side by side: each says which dimension it is about, so a screen
            # reader (and the error list) never reads six fields called "Note".
            # The 3rd edition's full names; the 4th edition's are the rating's own.
            name = (
                ASAM_DIMENSION_NAMES[key]
                if edition == AsamEdition.THIRD
                else label.split(". ", 1)[1]
            )
            self.fields[f"{key}_note"] = TextField(
                label=f"Dimension {key[1:]} note: {name[0].lower()}{name[1:]}",
                required=False,
                max_length=300,
            )
        self.helper = _helper("Admit")
        self.helper.layout = Layout(
            Row(Column("admitted_on"), Column("asam_level"), Column("planned_length_days")),
            Fieldset(
                f"ASAM dimensions (0 none – 4 severe), {edition.label}",
                *[
                    Row(Column(f"{key}_rating", css_class="col-md-4"), Column(f"{key}_note"))
                    for key, _ in ASAM_DIMENSIONS
                ],
            ),
        )

    def episode_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "admitted_on": data["admitted_on"],
            "asam_level": data["asam_level"],
            "planned_length_days": data["planned_length_days"],
            "dimension_ratings": {key: data[f"{key}_rating"] for key, _ in ASAM_DIMENSIONS},
            "dimension_notes": {
                key: data[f"{key}_note"] for key, _ in ASAM_DIMENSIONS if data[f"{key}_note"]
            },
        }


class DischargeForm(forms.Form):
    discharged_on = PlausibleDateField(kind=DateKind.RECORD, initial=timezone.localdate)
    reason = forms.ChoiceField(choices=DischargeReason.choices)
    summary = TextField(widget=forms.Textarea(attrs={"rows": 4}))
    continuing_care = forms.ChoiceField(choices=ContinuingCare.choices)

    def __init__(self, *args, episode, **kwargs):
        super().__init__(*args, **kwargs)
        self.episode = episode
        self.helper = _helper("Discharge")


def _staff_with_roles(user) -> str:
    """A person with the roles they hold ("Casey Morgan, LPC-Associate (Clinician)"), so
    the care-team choice shows who can be a prescriber or a primary clinician. Read from
    the prefetched groups: no query per person."""
    labels = dict(Role.choices)
    roles = sorted(labels.get(group.name, group.name) for group in user.groups.all())
    return f"{user} ({', '.join(roles)})" if roles else str(user)


class CareTeamAddForm(forms.Form):
    staff = forms.ModelChoiceField(queryset=get_user_model().objects.none())
    role = forms.ChoiceField(choices=ASSIGNABLE_ROLES, initial=CareTeamRole.PRIMARY)
    started_on = PlausibleDateField(kind=DateKind.SCHEDULE, initial=timezone.localdate)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, groups__name__in=[r.value for r in Role])
            .exclude(groups__name=Role.ADMIN)
            .distinct()
            .prefetch_related("groups")
        )
        self.fields["staff"].label_from_instance = _staff_with_roles
        self.helper = _helper("Add to care team")
        self.helper.form_class = "row g-2 align-items-end"

    def clean(self):
        # The message comes early; the rule is care_team_add's (the admin shares it).
        cleaned = super().clean()
        staff, role = cleaned.get("staff"), cleaned.get("role")
        if staff and role and not staff.has_role(*ROLE_STAFF[role]):
            self.add_error(
                "staff", f"{staff} does not hold a role that can be {CareTeamRole(role).label}."
            )
        return cleaned


class EmergencyAccessForm(forms.Form):
    mrn = TextField(label="MRN", max_length=12)
    reason = TextField(
        max_length=MAXIMUM_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Say why you need this chart now. Your access is reviewed by a program admin.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("Open the record for 60 minutes")

    def clean_mrn(self):
        # Any format the app issues (clients.models.MRN_FORMAT), whatever the case.
        mrn = normalize_mrn(self.cleaned_data["mrn"])
        if mrn is None:
            raise forms.ValidationError(MRN_FORMAT_MESSAGE)
        return mrn


class EmergencyReviewForm(forms.Form):
    note = TextField(max_length=200, required=False)


class ClientSearchForm(forms.Form):
    q = TextField(required=False, label="Name or MRN", max_length=100)
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), *ClientStatus.choices],
    )
