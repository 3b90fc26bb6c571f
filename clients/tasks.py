from celery import shared_task

from clients.services import permissions_sync_due
from iop.audit.services import AuditContext


@shared_task
def sync_due_care_team_permissions() -> int:
    """Hourly: grant or revoke access for memberships starting or ending today."""
    return permissions_sync_due(audit=AuditContext.system("careteam-sync"))
