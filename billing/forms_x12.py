"""Forms of the 837P export and 835 upload pages (the x12 part of billing)."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from billing.models import Payer
from billing.services.remittance import MAX_BYTES
from iop.dates import DateKind, PlausibleDateField


def _helper(label: str) -> FormHelper:
    helper = FormHelper()
    helper.add_input(Submit("submit", label))
    return helper


class ExportForm(forms.Form):
    payer = forms.ModelChoiceField(
        queryset=Payer.objects.filter(active=True).order_by("name"), to_field_name="code"
    )
    through = PlausibleDateField(
        kind=DateKind.RECORD,
        label="Dates of service through",
        help_text="Every ready claim of the payer whose services are all on or before this day.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("Export and download the 837P")


class RemittanceUploadForm(forms.Form):
    file = forms.FileField(
        label="835 remittance file",
        help_text=f"An X12 835 (005010X221A1) from the payer, at most "
        f"{MAX_BYTES // (1024 * 1024)} MB.",
        allow_empty_file=True,  # the service says "The file is empty." in words
    )
    payer = forms.ModelChoiceField(
        queryset=Payer.objects.order_by("name"),
        to_field_name="code",
        required=False,
        empty_label="Any of our payers",
        help_text="Refuse the file unless it is from this payer.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper("Import")
        self.helper.form_tag = True
        self.helper.attrs = {"enctype": "multipart/form-data"}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB: it is not a "
                "remittance this page takes."
            )
        return upload
