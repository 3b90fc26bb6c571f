"""The client's schedule as an iCalendar file (RFC 5545), with neutral titles: a phone's
calendar, a lock screen or a shared family calendar shows "Appointment", a time and
the clinic's address, never the program, a group's name or a clinician."""

from datetime import UTC

from django.conf import settings
from django.utils import timezone

TITLE = "Appointment"
PRODID = "-//Appointments//Portal//EN"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded (RFC 5545 3.1)."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts, start = [], 0
    while start < len(data):
        size = 75 if start == 0 else 74
        end = min(start + size, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # not inside a character
            end -= 1
        parts.append(data[start:end].decode())
        start = end
    return "\r\n ".join(parts)


def _stamp(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def ics(items: list[dict]) -> str:
    now = _stamp(timezone.now())
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    for item in items:
        where = settings.IOP_REMINDER_PLACE
        if item.get("where"):
            where = f"{where}, {item['where']}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{item['public_id']}@portal",
            f"DTSTAMP:{now}",
            f"DTSTART:{_stamp(item['starts_at'])}",
            f"DTEND:{_stamp(item['ends_at'])}",
            f"SUMMARY:{TITLE}",
            f"LOCATION:{_escape(where)}",
        ]
        if item.get("telehealth_url"):
            lines.append(f"URL:{_escape(item['telehealth_url'])}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
