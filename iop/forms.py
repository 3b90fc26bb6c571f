from django.core.exceptions import ValidationError


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
