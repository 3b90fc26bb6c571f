"""The words of a Part 2 consent as the client reads them in the portal.

One rendering, used by the portal page that shows the consent and by the signing
service that stores it (``Consent.signed_text``): what is kept is what was read.
"""

from django.template.loader import render_to_string

ATTESTATION = (
    "I have read this consent in full. By typing my name I sign it electronically, and I "
    "understand that my typed name has the same effect as my handwritten signature."
)


def consent_text(consent) -> str:
    """Every 42 CFR 2.31 element of ``consent``, as plain text (no markup)."""
    text = render_to_string(
        "clients/consent_text.txt",
        {"consent": consent, "client": consent.client, "attestation": ATTESTATION},
    )
    return "\n".join(line.rstrip() for line in text.strip().splitlines())
