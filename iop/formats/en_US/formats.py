"""United States English: month before day, 12-hour clock."""

DATE_FORMAT = "D, M j, Y"  # a day: Fri, Dec 4, 2026
MONTH_DAY_FORMAT = "D, M j"  # a day where the page states the year: Fri, Dec 4
DATETIME_FORMAT = "M j, Y, g:i A"  # a moment: Dec 4, 2026, 9:35 AM
DATETIME_SECONDS_FORMAT = "M j, Y, g:i:s A"  # a moment to the second (the audit trail)
TIME_FORMAT = "g:i A"  # a time of day: 9:35 AM
TIME_SECONDS_FORMAT = "g:i:s A"  # to the second (autosave): 9:35:07 AM
YEAR_MONTH_FORMAT = "F Y"  # a month: December 2026
MESSAGE_DAY_FORMAT = "l, F j"  # a client message's day: Wednesday, December 2
