"""British English: day before month, 24-hour clock."""

DATE_FORMAT = "D j M Y"  # a day: Fri 4 Dec 2026
MONTH_DAY_FORMAT = "D j M"  # a day where the page states the year: Fri 4 Dec
DATETIME_FORMAT = "j M Y, H:i"  # a moment: 4 Dec 2026, 09:35
DATETIME_SECONDS_FORMAT = "j M Y, H:i:s"  # a moment to the second (the audit trail)
TIME_FORMAT = "H:i"  # a time of day: 09:35
TIME_SECONDS_FORMAT = "H:i:s"  # to the second (autosave): 09:35:07
YEAR_MONTH_FORMAT = "F Y"  # a month: December 2026
MESSAGE_DAY_FORMAT = "l j F"  # a client message's day: Wednesday 2 December
