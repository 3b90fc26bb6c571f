from django import forms

from iop.accounts.forms import TokenForm


class LinkRequestForm(forms.Form):
    address = forms.CharField(
        label="Your email address or mobile number",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "inputmode": "email"}),
        help_text="The one the clinic has for you.",
    )


class CodeForm(TokenForm):
    """The authenticator's code: the staff form's field and check."""
