import phonenumbers
from django import template
from django.conf import settings

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """An E.164 number as people read it: national format at home, international abroad."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, settings.IOP_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return value
    region = phonenumbers.region_code_for_number(number)
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if region == settings.IOP_PHONE_REGION
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)
