"""Kind packages are installed for real (pip install --target) and tried on real workers."""
from tests.faults.conftest import cluster, pytest_runtest_makereport  # noqa: F401 (fixtures)
