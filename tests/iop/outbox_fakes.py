"""SMS backends that kill the worker process mid-delivery (used by the worker tests)."""

import os

from iop.notifications.channels import FileSmsBackend


class DiesBeforeSendingBackend(FileSmsBackend):
    """The worker is killed after the claim, before the provider sees the message."""

    def send(self, *, to, body, reference):
        os._exit(1)


class DiesAfterSendingBackend(FileSmsBackend):
    """The provider has the message; the worker dies before recording it."""

    def send(self, *, to, body, reference):
        super().send(to=to, body=body, reference=reference)
        os._exit(1)
