from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.db import models
from django.utils.deconstruct import deconstructible


def apply_validation_error(form, exc: ValidationError) -> None:
    """Show a service's refusal on the form: field errors where they belong, the rest
    at the top. Services validate for the truth; this only carries the message."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def form_status(form) -> int:
    """A bound form shown again is a refusal: 400, so the status says it, not only the page."""
    return 400 if form.is_bound else 200


def render_form(request, template, context, form):
    """Render a form page with the status ``form_status`` gives."""
    from django.shortcuts import render

    return render(request, template, context, status=form_status(form))


# --- Free text: one check, one message -------------------------------------------------
# PostgreSQL cannot store a NUL character, and an overlong text is a slip (or a probe),
# not a note. Every form field of free text (``TextField``) and every service that
# takes free text (``clean_text``) refuses both with the same words.

NUL_MESSAGE = (
    "This text contains a null character (an invisible one, often pasted from another "
    "program): remove it and try again."
)


def too_long_message(limit: int, length: int) -> str:
    return f"Keep this to at most {limit} characters (it has {length})."


def text_problem(value: str, limit: int | None) -> str | None:
    """What is wrong with this free text (a NUL character, more than ``limit``
    characters), in the one message a person reads, or None."""
    if "\x00" in value:
        return NUL_MESSAGE
    if limit is not None and len(value) > limit:
        return too_long_message(limit, len(value))
    return None


def clean_text(value, *, field: str, limit: int | None, label: str = "") -> str:
    """Trimmed free text for a service, or a ValidationError on ``field``; ``label``
    says where, when one field gathers several texts ("Problem 2, goal: ...")."""
    value = "" if value is None else str(value).strip()
    problem = text_problem(value, limit)
    if problem:
        raise ValidationError(
            {field: f"{label}: {problem[0].lower()}{problem[1:]}" if label else problem}
        )
    return value


@deconstructible
class TextValidator:
    """``text_problem`` as a form field's validator."""

    def __init__(self, limit: int | None = None):
        self.limit = limit

    def __call__(self, value) -> None:
        problem = text_problem(str(value), self.limit)
        if problem:
            raise ValidationError(problem, code="text")

    def __eq__(self, other) -> bool:
        return isinstance(other, TextValidator) and other.limit == self.limit


class TextField(forms.CharField):
    """A CharField whose NUL and length check is ``text_problem``'s instead of Django's
    two validators, so a form and the service behind it say the same thing."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [
            v
            for v in self.validators
            if not isinstance(v, MaxLengthValidator | ProhibitNullCharactersValidator)
        ]
        self.validators.append(TextValidator(int(self.max_length) if self.max_length else None))


def text_formfield(model_field, **kwargs):
    """A ModelForm's ``formfield_callback``: plain text model fields get a ``TextField``."""
    if type(model_field) in (models.CharField, models.TextField) and not model_field.choices:
        kwargs.setdefault("form_class", TextField)
    return model_field.formfield(**kwargs)
