"""A worker SIGKILLed in the middle of a delivery: the notification is sent again by another worker
once its lease runs out, with the same idempotency key (at least once, recognisably the same)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from harborops.alerts.models import DeliveryAttempt, Notification
from harborops.alerts.services import actions
from harborops.alerts.services.delivery import dispatch_due
from tests.alerts.conftest import ACTOR, webhook
from tests.alerts.receivers import HTTPReceiver
from tests.support.processes import start_worker, stop, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.embedded, pytest.mark.worker,
              pytest.mark.timeout(180)]


def test_a_delivery_cut_off_by_a_killed_worker_is_retried_with_the_same_key(receiver: HTTPReceiver,
                                                                            tmp_path: Path):
    receiver.hold_first = True
    env = {"HARBOROPS_ALERT_DELIVERY_LEASE_SECONDS": "3"}
    first = start_worker(tmp_path / "worker1.log", **env)
    second = None
    try:
        hook = webhook(receiver.url, secret="k")
        n = actions.send_test(hook, actor=ACTOR)  # enqueued on commit: the worker picks it up
        assert receiver.arrived.wait(timeout=60), (tmp_path / "worker1.log").read_text()
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        receiver.release.set()
        n.refresh_from_db()
        assert n.status == "sending" and n.attempts == 1  # nobody will finish it: the broker dropped it

        # The next evaluation pass finds the expired lease and queues it again; a new worker sends it.
        requeued = wait_for(lambda: dispatch_due(), timeout=30, what="the lease to expire", interval=0.5)
        assert requeued == [n.pk]
        second = start_worker(tmp_path / "worker2.log", **env)
        wait_for(lambda: Notification.objects.get(pk=n.pk).status == "sent", timeout=60,
                 what=f"the second worker to send it (log: {tmp_path / 'worker2.log'})")
    finally:
        stop(first)
        if second is not None:
            stop(second)
    n.refresh_from_db()
    assert n.attempts == 2
    assert len(receiver.received) == 2
    keys = {r.headers["idempotency-key"] for r in receiver.received}
    assert keys == {str(n.idempotency_key)}
    assert receiver.received[0].body == receiver.received[1].body  # the same frozen payload
    log = list(DeliveryAttempt.objects.filter(notification=n).order_by("attempt").values_list("attempt", "ok", "error"))
    assert log[0][:2] == (1, False) and "worker lost" in log[0][2]
    assert log[1] == (2, True, "")
