"""Which partitions this broker follows, and from which leader (Kafka's
ReplicaFetcherManager): one ReplicaFetcher per leader broker, re-balanced whenever a
partition's leader or leader epoch changes."""

from __future__ import annotations

from strom.broker.replication.fetcher import FetcherSettings, LeaderEndpoint, ReplicaFetcher
from strom.broker.replication.partition import Partition
from strom.broker.topic_partition import TopicPartition

NO_LEADER = -1


class ReplicaFetcherManager:
    def __init__(self, endpoint: LeaderEndpoint, settings: FetcherSettings) -> None:
        self._endpoint = endpoint
        self._settings = settings
        self._fetchers: dict[int, ReplicaFetcher] = {}
        self._leader_of: dict[TopicPartition, int] = {}
        self._running = False

    def start(self) -> None:
        self._running = True
        for fetcher in self._fetchers.values():
            fetcher.start()

    async def stop(self) -> None:
        self._running = False
        for fetcher in self._fetchers.values():
            await fetcher.stop()

    def leadership_changed(self, partition: Partition, hosted: bool = True) -> None:
        """Follow `partition` from its leader, or stop following it (we lead it, it has no
        leader, or this broker no longer hosts it)."""
        tp = partition.topic_partition
        previous = self._leader_of.pop(tp, None)
        if previous is not None:
            self._fetchers[previous].remove(tp)
        leader = partition.state.leader
        if not hosted or partition.is_leader or leader == NO_LEADER:
            return
        fetcher = self._fetchers.get(leader)
        if fetcher is None:
            fetcher = ReplicaFetcher(leader, self._endpoint, self._settings)
            self._fetchers[leader] = fetcher
            if self._running:
                fetcher.start()
        fetcher.add(partition)
        self._leader_of[tp] = leader

    def following(self) -> dict[TopicPartition, int]:
        """Each followed partition and the leader it is fetched from."""
        return dict(self._leader_of)
