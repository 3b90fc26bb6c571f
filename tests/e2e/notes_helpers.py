"""Charting one client's group-note section in the browser as a clinician does since
issue 20: a click per choice, one short line of the client's own."""

# The choices clicked for every client (their values), in the form's order.
CHOICES = {
    "participation_level": "active",
    "affect": "euthymic",
    "intervention_response": "receptive",
    "plan_choice": "continue",
    "risk": "none",
}


def choose(page, client, part, value):
    """Click the button of ``value`` in the client's ``part`` row (a radio's label)."""
    radio = page.locator(f"input[name='{client.public_id}-{part}'][value='{value}']")
    page.click(f"label[for='{radio.get_attribute('id')}']")


def chart_section(page, client, line, *, choices=None):
    """Click the section's choices and type its line. Returns (clicks, characters)."""
    picked = CHOICES | (choices or {})
    for part, value in picked.items():
        choose(page, client, part, value)
    page.fill(f"#id_{client.public_id}-response", line)
    return len(picked), len(line)
