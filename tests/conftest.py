import os
import shutil

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
settings.register_profile(
    "ci-other",  # CI's other Pythons: the same fixed examples, fewer of them (see noxfile.py)
    derandomize=True,
    deadline=None,
    max_examples=50,
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


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright (skipped only when either is missing)."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


ONCE_FIXTURES = {"browser", "dists"}  # Chromium pages; a wheel and sdist built from the tree
ONCE_MODULES = {"test_nn_main.py"}  # the command line in real processes, with real signals


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use a browser or the built distributions, and the command line's process
    tests, check no Python-specific behaviour: they are marked ``once`` (see pyproject's
    markers), as the large sympy sweeps are by hand."""
    for item in items:
        if (ONCE_FIXTURES.intersection(getattr(item, "fixturenames", ()))
                or item.path.name in ONCE_MODULES):
            item.add_marker(pytest.mark.once)
