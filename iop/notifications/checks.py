"""The deploy check's word on client email: a production server that still sends as
the development default (``clinic@localhost``) reaches nobody, or lands in spam."""

from email.utils import parseaddr

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def sender_is_configured(app_configs, **kwargs):
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    if address.endswith("@localhost") or "@" not in address:
        return [
            Warning(
                f"Client email goes from {address or 'no address'}.",
                hint="Set DJANGO_DEFAULT_FROM_EMAIL (and IOP_MAIL_FROM_NAME, a neutral "
                "display name) to the clinic's sending address.",
                id="iop.W001",
            )
        ]
    return []
