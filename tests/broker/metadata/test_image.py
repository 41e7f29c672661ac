"""The image's broker registrations: registered fenced, unfenced and fenced by epoch."""

from __future__ import annotations

from strom.broker.metadata.image import BrokerListener, MetadataImage
from strom.broker.metadata.records import (
    BrokerRegistrationChangeRecord,
    FenceBrokerRecord,
    RegisterBrokerRecord,
    UnfenceBrokerRecord,
    UnregisterBrokerRecord,
)


def _registered(image: MetadataImage, broker_id: int, epoch: int, rack: str | None = None) -> None:
    endpoint = ("PLAINTEXT", f"broker-{broker_id}", 9092, "PLAINTEXT")
    image.apply(RegisterBrokerRecord(broker_id, f"inc-{epoch}", epoch, (endpoint,), rack), epoch)


def test_a_registered_broker_is_fenced_until_unfenced() -> None:
    image = MetadataImage()
    _registered(image, 1, epoch=0, rack="a")
    registration = image.brokers[1]
    assert registration.fenced and image.unfenced_brokers == ()
    assert registration.endpoint("PLAINTEXT") == BrokerListener(
        "PLAINTEXT", "broker-1", 9092, "PLAINTEXT"
    )
    image.apply(UnfenceBrokerRecord(1, 0), 1)
    assert image.unfenced_brokers == (1,) and image.active_brokers == (1,)


def test_a_broker_in_controlled_shutdown_is_live_but_not_active() -> None:
    image = MetadataImage()
    _registered(image, 1, epoch=0)
    image.apply(UnfenceBrokerRecord(1, 0), 1)
    image.apply(BrokerRegistrationChangeRecord(1, 0, in_controlled_shutdown=True), 2)
    assert image.unfenced_brokers == (1,) and image.active_brokers == ()


def test_changes_for_an_earlier_registration_are_ignored() -> None:
    image = MetadataImage()
    _registered(image, 1, epoch=0)
    _registered(image, 1, epoch=5)
    image.apply(UnfenceBrokerRecord(1, 0), 6)
    assert image.brokers[1].fenced
    image.apply(UnregisterBrokerRecord(1, 0), 7)
    assert 1 in image.brokers
    image.apply(UnfenceBrokerRecord(1, 5), 8)
    image.apply(FenceBrokerRecord(1, 5), 9)
    assert image.brokers[1].fenced
    image.apply(UnregisterBrokerRecord(1, 5), 10)
    assert image.brokers == {}
