"""The clinic's date and time formats, one module per locale (``FORMAT_MODULE_PATH``).

``IOP_LOCALE`` (``LANGUAGE_CODE``) picks ``iop/formats/<locale>/formats.py``; Django's own
module for the language supplies what these leave out (input formats, separators).
Every module here defines every name in ``iop.when.FORMAT_NAMES`` (a test checks), so a
page never falls back to a format of Django's that reads differently. The names, each
for one kind of value, are read only through ``iop.when`` (and its template filters).
"""
