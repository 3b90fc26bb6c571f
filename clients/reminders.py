"""May a reminder go to this client, by which route, and may it name the program.

The client's own consent and preferences (README, *Reminders*), read by every source
of client messages: session and appointment reminders, the absence check-in
(scheduling) and the random-test call-in (screening).
"""

from django.conf import settings

from clients.models import Client, ReminderChannel


def reminder_route(client: Client) -> tuple[str, str] | None:
    """(channel, address) the client agreed to, or None: no consent, no reminders."""
    if not client.reminder_consent:
        return None
    if client.reminder_channel == ReminderChannel.SMS and client.phone:
        return "sms", client.phone
    if client.reminder_channel == ReminderChannel.EMAIL and client.email:
        return "email", client.email
    return None


def reminder_wording(client: Client) -> dict:
    """The words every client message may use: the place and the clinic's phone, and
    the program's name only when the client opted in to it (``named``); otherwise the
    templates say only time and place, never the program or a clinical word."""
    return {
        "place": settings.IOP_REMINDER_PLACE,
        "phone": settings.IOP_REMINDER_PHONE,
        "named": client.reminder_may_name_program,
        "program": settings.IOP_PROGRAM_NAME,
    }
