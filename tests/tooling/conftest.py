# seed_scale writes and verifies audit rows: each test its own checkpoint file, as in tests/iop.
from tests.iop.conftest import _audit_checkpoints_in_tmp  # noqa: F401
