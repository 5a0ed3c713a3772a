"""The S3 server the object-storage tests run against is real, and honours create-if-absent
atomically: of many clients racing to create one key, exactly one succeeds (the guarantee
govern's commit protocol stands on)."""

from __future__ import annotations

import threading

import obstore
from obstore.exceptions import AlreadyExistsError
from obstore.store import S3Store


def _client(server) -> S3Store:
    return S3Store(
        server.bucket,
        endpoint=server.endpoint,
        region="us-east-1",
        allow_http=True,
        access_key_id="govern-test",
        secret_access_key="govern-test-secret",
    )


def _race(client: S3Store, key: str, writer: int, barrier: threading.Barrier, outcomes: list[str]) -> None:
    barrier.wait()
    try:
        obstore.put(client, key, f"writer {writer}".encode(), mode="create")
        outcomes.append(f"won {writer}")
    except AlreadyExistsError:
        outcomes.append("lost")


def test_create_if_absent_has_exactly_one_winner_under_a_race(seaweedfs) -> None:
    prefix = seaweedfs.fresh_prefix()
    clients = [_client(seaweedfs) for _ in range(8)]
    for round_number in range(10):
        key = f"{prefix}/head/{round_number:020d}.json"
        barrier = threading.Barrier(len(clients))
        outcomes: list[str] = []
        threads = [threading.Thread(target=_race, args=(client, key, n, barrier, outcomes)) for n, client in enumerate(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [o for o in outcomes if o.startswith("won")]
        assert len(winners) == 1 and outcomes.count("lost") == len(clients) - 1, outcomes
        stored = bytes(obstore.get(clients[0], key).bytes()).decode()
        assert stored == f"writer {winners[0].split()[1]}"  # the winner's bytes, never a loser's
