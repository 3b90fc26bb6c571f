from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.validators import MaxLengthValidator

from billing import icd
from billing.models import (
    Authorization,
    BillingProvider,
    Coverage,
    Fee,
    Payer,
    Relationship,
)
from iop.dates import DateKind, PlausibleDateField
from iop.forms import TextField, TextValidator, text_formfield


def _helper(label: str) -> FormHelper:
    helper = FormHelper()
    helper.add_input(Submit("submit", label))
    return helper


def _loosen(form, **lengths):
    """Let a field take what people type (a dash in a ZIP+4 or an EIN, a phone with
    spaces): its ``clean_<name>`` strips that, and the model's check follows."""
    for name, length in lengths.items():
        field = form.fields[name]
        field.max_length = length
        field.widget.attrs["maxlength"] = str(length)
        field.validators = [
            v for v in field.validators if not isinstance(v, MaxLengthValidator | TextValidator)
        ]
        field.validators.append(TextValidator(length))


def _upper(form, name):
    return (form.cleaned_data.get(name) or "").strip().upper()


class PayerForm(forms.ModelForm):
    formfield_callback = text_formfield

    class Meta:
        model = Payer
        fields = [
            "code",
            "name",
            "payer_id",
            "filing_indicator",
            "h0015_rule",
            "min_hours",
            "min_days",
            "address_line1",
            "city",
            "state",
            "postal_code",
            "active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _loosen(self, postal_code=10)
        self.helper = _helper("Save payer")

    def clean_code(self):
        return _upper(self, "code")

    def clean_state(self):
        return _upper(self, "state")

    def clean_postal_code(self):
        return (self.cleaned_data.get("postal_code") or "").replace("-", "").strip()

    def validate_unique(self):
        pass  # the service says it in words (and a race is caught there too)


class FeeForm(forms.ModelForm):
    formfield_callback = text_formfield
    effective_on = PlausibleDateField(kind=DateKind.EXPIRY, label="Effective from")

    class Meta:
        model = Fee
        fields = ["code", "modifier", "amount", "effective_on"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("Add fee")

    def clean_code(self):
        return _upper(self, "code")

    def clean_modifier(self):
        return _upper(self, "modifier")

    def validate_unique(self):
        pass


class BillingProviderForm(forms.ModelForm):
    formfield_callback = text_formfield

    class Meta:
        model = BillingProvider
        fields = [
            "name",
            "npi",
            "tax_id",
            "taxonomy",
            "address_line1",
            "city",
            "state",
            "postal_code",
            "phone",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _loosen(self, postal_code=10, tax_id=10, phone=20)
        self.helper = _helper("Save billing provider")
        self.fields["npi"].help_text = "Ten digits; the check digit is verified."

    def clean_tax_id(self):
        return (self.cleaned_data.get("tax_id") or "").replace("-", "").strip()

    def clean_postal_code(self):
        return (self.cleaned_data.get("postal_code") or "").replace("-", "").strip()

    def clean_phone(self):
        value = self.cleaned_data.get("phone") or ""
        return "".join(ch for ch in value if ch.isdigit()) if len(value) < 30 else value

    def clean_state(self):
        return _upper(self, "state")

    def clean_taxonomy(self):
        return _upper(self, "taxonomy")

    def clean_npi(self):
        from iop.accounts.npi import validate_npi

        value = (self.cleaned_data.get("npi") or "").strip()
        validate_npi(value)
        return value


class CoverageForm(forms.ModelForm):
    formfield_callback = text_formfield
    effective_on = PlausibleDateField(kind=DateKind.EXPIRY, label="Effective from")
    ends_on = PlausibleDateField(kind=DateKind.EXPIRY, required=False, label="Ends on")
    verified_on = PlausibleDateField(kind=DateKind.RECORD, required=False)
    subscriber_dob = PlausibleDateField(
        kind=DateKind.BIRTH, required=False, label="Subscriber's date of birth"
    )

    class Meta:
        model = Coverage
        fields = [
            "payer",
            "order",
            "member_id",
            "group_number",
            "relationship",
            "subscriber_first_name",
            "subscriber_last_name",
            "subscriber_dob",
            "effective_on",
            "ends_on",
            "verified_on",
            "verified_how",
            "address_line1",
            "city",
            "state",
            "postal_code",
        ]
        help_texts = {
            "relationship": "Self unless someone else holds the policy.",
            "address_line1": "The client's address as the payer has it: claims send it.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        payers = Payer.objects.filter(active=True)
        if self.instance.pk:
            payers = Payer.objects.filter(active=True) | Payer.objects.filter(
                pk=self.instance.payer_id
            )
        self.fields["payer"].queryset = payers.order_by("name")
        self.helper = _helper("Save coverage")

    def clean(self):
        data = super().clean()
        start, end = data.get("effective_on"), data.get("ends_on")
        if start and end and end < start:
            self.add_error("ends_on", "The coverage cannot end before it starts.")
        if data.get("relationship") and data["relationship"] != Relationship.SELF:
            for name in ("subscriber_first_name", "subscriber_last_name", "subscriber_dob"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, "Needed when the client is not the subscriber.")
        return data

    def clean_state(self):
        return _upper(self, "state")

    def clean_postal_code(self):
        return (self.cleaned_data.get("postal_code") or "").replace("-", "").strip()

    def validate_unique(self):
        pass

    def _post_clean(self):
        # The row's constraints are the service's to state in words (and the database's
        # to enforce): the form checks fields only.
        if self.errors:
            return
        super()._post_clean()


class CoverageEndForm(forms.Form):
    ends_on = PlausibleDateField(kind=DateKind.EXPIRY, label="Last day covered")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("End coverage")


class DiagnosisForm(forms.Form):
    episode = forms.ModelChoiceField(queryset=None, empty_label=None)
    code = TextField(
        label="ICD-10-CM code",
        max_length=8,
        help_text="A billable code, e.g. F10.20; search below, substance-use codes first.",
        widget=forms.TextInput(attrs={"list": "icd-codes", "autocomplete": "off"}),
    )
    principal = forms.BooleanField(required=False, label="Principal diagnosis (the claim's first)")

    def __init__(self, *args, episodes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["episode"].queryset = episodes
        self.helper = _helper("Add diagnosis")

    def clean_code(self):
        code = icd.normalize(self.cleaned_data.get("code", ""))
        problem = icd.problem(code)
        if problem:
            raise forms.ValidationError(problem)
        return code


class AuthorizationForm(forms.ModelForm):
    formfield_callback = text_formfield
    starts_on = PlausibleDateField(kind=DateKind.EXPIRY, label="First day")
    ends_on = PlausibleDateField(kind=DateKind.EXPIRY, label="Last day")

    class Meta:
        model = Authorization
        fields = ["payer", "service_code", "units_approved", "starts_on", "ends_on", "reference"]
        help_texts = {
            "service_code": "The HCPCS or CPT code authorized, e.g. H0015.",
            "units_approved": "Units approved (for H0015, days).",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        payers = Payer.objects.filter(active=True)
        if self.instance.pk:
            payers = payers | Payer.objects.filter(pk=self.instance.payer_id)
        self.fields["payer"].queryset = payers.order_by("name")
        self.fields["units_approved"].widget.attrs["max"] = 100000
        self.fields["units_approved"].max_value = 100000
        self.helper = _helper("Save authorization")

    def clean_service_code(self):
        return _upper(self, "service_code")

    def clean_reference(self):
        return (self.cleaned_data.get("reference") or "").strip()

    def clean(self):
        data = super().clean()
        start, end = data.get("starts_on"), data.get("ends_on")
        if start and end and end < start:
            self.add_error("ends_on", "The authorization cannot end before it starts.")
        return data

    def validate_unique(self):
        pass


class IcdSearchForm(forms.Form):
    q = forms.CharField(label="Search codes", max_length=80, required=False)
