import time
from hypothesis import HealthCheck, settings, Phase
from tests.services.test_state_machine import LedgerMachine


class TestTiming(LedgerMachine.TestCase):
    settings = settings(max_examples=150, stateful_step_count=12, deadline=None, suppress_health_check=list(HealthCheck), database=None, phases=[Phase.generate])
