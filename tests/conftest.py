import os

import pytest
from hypothesis import HealthCheck, settings

from autograd import ops
from autograd import value as value_module

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile(
    "dev",
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture
def restore_op_table():
    """Ops a test declares leave the table when it ends, and their Value methods with them;
    what was declared before stays."""
    saved = dict(ops.OPS)
    yield ops.OPS
    ops.OPS.clear()
    ops.OPS.update(saved)
    value_module.refresh_methods()
