import pytest


@pytest.fixture(autouse=True)
def _audit_checkpoints_in_tmp(settings, tmp_path):
    # Each test its own checkpoint file: checkpoints of one test database must not
    # speak for the next test's (empty) trail.
    settings.IOP_AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints.jsonl"
