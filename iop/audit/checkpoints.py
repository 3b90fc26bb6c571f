"""Checkpoints of the audit chain's head, kept outside the database.

The keyed hash stops anyone without IOP_AUDIT_KEY from rewriting or re-hashing rows,
but it cannot show that the newest rows were cut off: a shorter chain still holds.
So the head (event id and hash) is written, every few minutes by Celery beat and by
every ``verify_audit``, to the log and appended to IOP_AUDIT_CHECKPOINT_FILE. A
verification then finds a checkpointed event missing (truncation) or carrying another
hash (a rewrite). Only rows newer than the latest checkpoint can go unnoticed.
"""

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from iop.audit.models import AuditEvent

log = logging.getLogger("iop.audit.checkpoint")


@dataclass(frozen=True)
class Checkpoint:
    event_id: int
    hash: str
    at: str = ""


def _database_label() -> str:
    # One file may outlive a database (a fresh dev database, the test database):
    # a checkpoint speaks only for the database it was taken from.
    params = connection.settings_dict
    return f"{connection.vendor}:{params.get('HOST') or ''}:{params['NAME']}"


def checkpoint_write(*, source: str) -> Checkpoint | None:
    """Record the current head; None while the trail is empty."""
    head = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
    if head is None:
        return None
    checkpoint = Checkpoint(event_id=head[0], hash=head[1], at=timezone.now().isoformat())
    line = json.dumps(
        {
            "database": _database_label(),
            "event_id": checkpoint.event_id,
            "hash": checkpoint.hash,
            "at": checkpoint.at,
            "source": source,
        },
        sort_keys=True,
    )
    log.info("audit checkpoint %s", line)
    path = Path(settings.IOP_AUDIT_CHECKPOINT_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        file.write(line + "\n")
        file.flush()
        os.fsync(file.fileno())
    return checkpoint


def checkpoints_read() -> list[Checkpoint]:
    """This database's checkpoints from the file, oldest first."""
    path = Path(settings.IOP_AUDIT_CHECKPOINT_FILE)
    if not path.is_file():
        return []
    label = _database_label()
    checkpoints = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
            if entry.get("database") == label:
                checkpoints.append(
                    Checkpoint(int(entry["event_id"]), str(entry["hash"]), entry.get("at", ""))
                )
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("audit checkpoint file has an unreadable line; ignored")
    return checkpoints
