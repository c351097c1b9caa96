"""Fixtures shared with other test packages."""

from tests.alerts.test_test_send import push_service  # noqa: F401 (a loopback push service, web push set up for it)
