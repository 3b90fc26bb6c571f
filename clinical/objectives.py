"""Each client's current treatment-plan objectives, as the group note shows them.

The plans module fills this in (the treatment plan belongs to another part of
issue 9); until then no client has objectives. The group note form calls it once
for every attending client, so the real version must answer in one query.
"""


def current_objectives(client_ids) -> dict[int, list[str]]:
    """Client primary key -> the objectives of their current treatment plan."""
    return {}
