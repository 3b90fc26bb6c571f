"""The date and time filters every template uses (built in: settings' ``builtins``).

``{{ session.starts_at|day }}``, ``{{ note.signed_at|moment }}``,
``{{ session.ends_at|clock }}``, ``{{ event.at|moment:"seconds" }}``: one format per kind
of value, from the clinic's locale (``iop.when`` says which kind is for what). A raw
``|date:"..."`` is kept only for machine values (ISO in a URL or an input's value).
"""

from django import template

from iop import when

register = template.Library()


def _seconds(arg) -> bool:
    if arg in (None, ""):
        return False
    if arg == "seconds":
        return True
    raise template.TemplateSyntaxError('The only argument is "seconds".')


@register.filter(expects_localtime=True)
def day(value):
    return when.day(value)


@register.filter(expects_localtime=True)
def day_short(value):
    return when.day_short(value)


@register.filter(expects_localtime=True)
def month(value):
    return when.month(value)


@register.filter(expects_localtime=True)
def moment(value, arg=None):
    return when.moment(value, seconds=_seconds(arg))


@register.filter(expects_localtime=True)
def clock(value, arg=None):
    return when.clock(value, seconds=_seconds(arg))
