"""The National Provider Identifier's check digit.

CMS, "Requirements for National Provider Identifier (NPI) and NPI Enumeration"
(the NPI final rule's standard, 45 CFR 162.406; CMS NPPES document "NPI check digit",
May 2001): an NPI is ten digits, the tenth a Luhn (ISO/IEC 7812) check digit computed
over the first nine with the card-issuer prefix 80840 in front. Since the prefix always
adds 24 to the Luhn sum, the check digit is computed over the nine digits plus 24.

CMS's worked example: the nine digits 123456789 give the check digit 3, so
1234567893 is a valid NPI.
"""

import re

from django.core.exceptions import ValidationError

_TEN_DIGITS = re.compile(r"^[0-9]{10}$")
PREFIX_SUM = 24  # the Luhn contribution of the 80840 prefix


def check_digit(first_nine: str) -> int:
    """The tenth digit for nine digits (CMS: double the alternate digits from the right,
    add the digits of the products and the unaffected digits, add 24, subtract from the
    next higher number ending in zero)."""
    total = PREFIX_SUM
    for position, char in enumerate(reversed(first_nine)):
        digit = int(char)
        if position % 2 == 0:  # the rightmost of the nine is doubled
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10


def is_valid(npi: str) -> bool:
    return bool(_TEN_DIGITS.match(npi or "")) and check_digit(npi[:9]) == int(npi[9])


def validate_npi(value: str) -> None:
    if not _TEN_DIGITS.match(value or ""):
        raise ValidationError("An NPI is ten digits.", code="npi_format")
    if check_digit(value[:9]) != int(value[9]):
        raise ValidationError(
            "This NPI's check digit is wrong: please check the number on NPPES.", code="npi_check"
        )
