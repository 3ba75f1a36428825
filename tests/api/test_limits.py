"""No single address can crowd out the others, on each store: the per-address cap evicts the address's own
sessions, a full store evicts from the heaviest address, creation floods get 429, and all sessions together
stay within the memory budget. Client addresses come from X-Forwarded-For through uvicorn's own proxy-headers
middleware, as behind a reverse proxy."""

import gc
import time
import tracemalloc
from contextlib import contextmanager

import numpy as np
import pytest
from fastapi.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.api import responses
from app.core.trainer import Trainer
from app.config import Config
from app.main import create_app
from app.session_limits import Limits, Ranking, owner_key, session_bytes

BIG = {"X": [[(i % 37) / 37 - 0.5, (i % 41) / 41 - 0.5] for i in range(2000)], "y": [i % 3 for i in range(2000)]}


@contextmanager
def served(config, **limits):
    """A TestClient whose requests come from the address in their X-Forwarded-For, and the store."""
    app = create_app(config.model_copy(update=dict(**limits)))
    with TestClient(ProxyHeadersMiddleware(app, trusted_hosts="*")) as client:
        yield client, app.state.store


def create(client, address, **body):
    return client.post("/api/sessions", json=body or None, headers={"X-Forwarded-For": address})


def new(client, address, **body):
    r = create(client, address, **body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def alive(client, sid):
    status = client.get(f"/api/sessions/{sid}?detail=summary").status_code
    assert status in (200, 404)
    return status == 200


def count(client, store):
    return client.portal.call(store.count)


def accounted(client, store):
    return client.portal.call(store.bytes)


FLOOD = {"create_burst": 5000, "create_rate": 1000.0}  # the live-session limits alone, not the creation rate


def test_one_address_creating_1500_sessions_leaves_every_other_address_sessions_alive(config):
    with served(config, max_sessions=300, **FLOOD) as (client, store):
        victims = [new(client, f"10.0.0.{i}") for i in range(20)]
        for sid in victims:
            assert client.post(f"/api/sessions/{sid}/step").status_code == 200
        flood = [new(client, "10.9.9.9") for _ in range(1500)]
        assert all(alive(client, sid) for sid in victims)
        assert count(client, store) == 20 + Limits().per_address == 220
        # the flood evicted only its own sessions, least recently used first
        assert [alive(client, sid) for sid in flood[-205:]] == [False] * 5 + [True] * 200


def test_a_full_store_evicts_from_the_address_holding_the_most(config):
    with served(config, max_sessions=30, max_sessions_per_address=200, **FLOOD) as (client, store):
        victims = [new(client, f"10.0.0.{i}") for i in range(20)]
        flood = [new(client, "10.9.9.9") for _ in range(100)]  # under its own cap, over the store's
        assert all(alive(client, sid) for sid in victims)
        assert count(client, store) == 30 and sum(alive(client, sid) for sid in flood) == 10


def test_between_equal_addresses_the_least_recently_used_session_goes(config):
    with served(config, max_sessions=3, **FLOOD) as (client, store):
        a, b, c = (new(client, address) for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"))
        assert client.post(f"/api/sessions/{a}/step").status_code == 200
        d = new(client, "10.0.0.4")
        assert [alive(client, sid) for sid in (a, b, c, d)] == [True, False, True, True]


def test_over_its_cap_an_address_loses_its_own_least_recently_used_idle_session(config):
    with served(config, max_sessions_per_address=3, **FLOOD) as (client, store):
        other = new(client, "10.0.0.9")
        a, b, c = (new(client, "10.0.0.1") for _ in range(3))
        assert client.post(f"/api/sessions/{a}/step").status_code == 200
        d = new(client, "10.0.0.1")
        assert [alive(client, sid) for sid in (a, b, c, d, other)] == [True, False, True, True, True]


def test_an_experiment_flood_gets_429_in_its_own_words(config):
    with served(config, create_burst=2, create_rate=0.01) as (client, _):
        def experiment():
            return client.post("/api/experiments", json={"dataset": "digits"}, headers={"X-Forwarded-For": "10.0.0.3"})

        assert [experiment().status_code for _ in range(2)] == [201, 201]
        r = experiment()
        assert r.status_code == 429 and r.json()["detail"].startswith("Too many new experiments from this address")


def test_a_creation_flood_gets_429_with_retry_after_and_other_addresses_do_not(config):
    with served(config, create_burst=5, create_rate=1.0) as (client, store):
        for _ in range(5):
            new(client, "10.0.0.1")
        before = count(client, store)
        for path, body in (("/api/sessions", None), ("/api/sessions/import", "record")):
            if body:
                body = client.get(f"/api/sessions/{new(client, '10.0.0.2')}/export").json()
                before += 1
            r = client.post(path, json=body, headers={"X-Forwarded-For": "10.0.0.1"})
            assert r.status_code == 429 and r.headers["retry-after"] == "1"
            assert r.json() == {"detail": "Too many new sessions from this address; try again in 1 s"}
        assert count(client, store) == before  # nothing was created
        new(client, "10.0.0.2")
        time.sleep(1.1)  # a token is back after 1/rate = 1 s
        new(client, "10.0.0.1")
        assert create(client, "10.0.0.1").status_code == 429


def test_the_default_limits_let_one_address_hold_a_class(config):
    """A class of 100 behind one NAT (or a teacher's demo machine) opens the page at once: every session lives."""
    with served(config) as (client, store):
        ids = [new(client, "192.0.2.1") for _ in range(100)]
        assert all(alive(client, sid) for sid in ids) and count(client, store) == 100


def test_sessions_together_stay_within_the_memory_budget(config):
    budget = 1.5  # MB: on the memory store about 13 sessions of 2,000 points, on Redis about 30
    with served(config, max_memory_mb=budget, **FLOOD) as (client, store):
        ids = [new(client, f"10.0.0.{i}", **BIG) for i in range(60)]
        live = [alive(client, sid) for sid in ids]
        assert accounted(client, store) <= budget * 2**20
        kept = sum(live)
        assert kept >= 5 and live == [False] * (60 - kept) + [True] * kept  # the least recently used went
        # a session that grows (its history) evicts others to stay within the budget, never itself
        r = client.post(f"/api/sessions/{ids[-1]}/step", json={"steps": 10_000}, params={"detail": "summary"})
        assert r.status_code == 200 and alive(client, ids[-1])
        assert accounted(client, store) <= budget * 2**20 and sum(alive(client, sid) for sid in ids) < kept


def test_large_sessions_from_one_address_evict_only_its_own(config):
    with served(config, max_memory_mb=1.5, **FLOOD) as (client, store):
        victims = [new(client, f"10.0.0.{i}") for i in range(10)]  # small default sessions
        for _ in range(60):
            new(client, "10.9.9.9", **BIG)
        assert all(alive(client, sid) for sid in victims)
        assert accounted(client, store) <= 1.5 * 2**20


@pytest.mark.parametrize("points, classes, optimizer, steps", [(9, 3, "gd", 0), (9, 3, "gd", 20_000),
                                                              (2000, 3, "sgd", 1), (10_000, 10, "sgd", 3)])
def test_the_accounted_size_is_an_upper_estimate_of_the_memory_a_session_holds(points, classes, optimizer, steps):
    """session_bytes against tracemalloc's count of what a session holds once created and used (its state
    evaluated, as the state response does)."""
    rng = np.random.default_rng(0)
    body = {"X": rng.uniform(-1, 1, (points, 2)).tolist(), "y": (np.arange(points) % classes).tolist(),
            "W": rng.uniform(-1, 1, (classes, 2)).tolist(), "b": [0.0] * classes,
            "optimizer": optimizer, "batch_size": points}

    def session():
        t = Trainer.create(seed=1, **body)
        t.run(steps)
        responses.JSON(responses.state("x" * 32, t))
        return t

    session()  # first-use caches are not a session's
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = [session() for _ in range(3)]
    gc.collect()
    held = (tracemalloc.get_traced_memory()[0] - before) / len(kept)
    tracemalloc.stop()
    assert held <= session_bytes(kept[0]) <= 1.1 * held + 2048


@pytest.mark.parametrize("host, owner", [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"), ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),  # one host
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
    ("::ffff:192.0.2.5", "192.0.2.5"),
    (None, "unknown"), ("", "unknown"), ("testclient", "testclient"), ("x" * 500, "x" * 64),
])
def test_addresses_are_grouped_as_hosts_hold_them(host, owner):
    assert owner_key(host) == owner


def test_ipv6_hosts_share_their_64_network_cap(config):
    with served(config, max_sessions_per_address=2, **FLOOD) as (client, store):
        a = new(client, "2001:db8::1")
        b = new(client, "2001:db8::2")
        c = new(client, "2001:db8::3")  # the same /64: over its cap of 2
        other = new(client, "2001:db8:0:1::1")
        assert [alive(client, sid) for sid in (a, b, c, other)] == [False, True, True, True]


def test_the_ranking_finds_the_heaviest_as_a_sort_would():
    """Random weight changes against a plain dictionary sorted each time."""
    rng = np.random.default_rng(7)
    ranking, weights = Ranking(), {}
    for _ in range(3000):
        owner = int(rng.integers(40))
        new = None if rng.random() < 0.2 else int(rng.integers(6))
        ranking.move(owner, weights.get(owner), new)
        if new is None:
            weights.pop(owner, None)
        else:
            weights[owner] = new
        expected = [(w, {o for o, v in weights.items() if v == w}) for w in sorted(set(weights.values()), reverse=True)]
        assert [(w, set(owners)) for w, owners in ranking.descending()] == expected


def assert_accounting_adds_up(redis_db, max_sessions, max_bytes):
    """Totals, owners' bytes and counts, and their ranks against the sums they stand for."""
    owner_of = {k.decode(): v.decode() for k, v in redis_db.hgetall("linclass:meta:owner").items()}
    size = {k.decode(): int(v) for k, v in redis_db.hgetall("linclass:meta:size").items()}
    live = {m.decode() for m in redis_db.zrange("linclass:meta:used", 0, -1)}
    assert set(owner_of) == set(size) == live and len(live) <= max_sessions
    assert {k.decode()[len("linclass:s:"):] for k in redis_db.keys("linclass:s:*")} == live
    assert int(redis_db.get("linclass:meta:total")) == sum(size.values()) <= max_bytes
    for owner in set(owner_of.values()):
        mine = {m.decode() for m in redis_db.zrange(f"linclass:meta:o:{owner}", 0, -1)}
        assert mine == {sid for sid, o in owner_of.items() if o == owner}
        owner_bytes = sum(size[sid] for sid in mine)
        assert int(redis_db.hget("linclass:meta:obytes", owner)) == owner_bytes
        assert redis_db.zscore("linclass:meta:rank:n", owner) == len(mine)
        assert redis_db.zscore("linclass:meta:rank:b", owner) == owner_bytes // 65536
    assert redis_db.zcard("linclass:meta:rank:n") == len(set(owner_of.values()))


def every_kind_of_change(client):
    """40 sessions from four addresses, some large, some stepped, edited or deleted (the accounting's workout)."""
    ids = []
    for i in range(40):
        ids.append(new(client, f"10.0.0.{i % 4}", **(BIG if i % 3 == 0 else {})))
        if i % 5 == 0:
            client.post(f"/api/sessions/{ids[-1]}/step", json={"steps": 3000}, params={"detail": "summary"})
        if i % 7 == 0:
            client.patch(f"/api/sessions/{ids[-1]}", json={"X": [[0, 0], [1, 1], [0, 1]], "y": [0, 1, 2]})
        if i % 11 == 10:
            client.delete(f"/api/sessions/{ids[-2]}")


def test_the_redis_accounting_adds_up_after_every_kind_of_change(redis_url, redis_db):
    config = Config(session_store=redis_url, max_sessions=25, max_memory_mb=1.0, **FLOOD)
    with served(config) as (client, store):
        every_kind_of_change(client)
        assert_accounting_adds_up(redis_db, 25, 2**20)


def test_a_step_that_takes_its_address_past_a_64_kb_step_reranks_it(redis_url, redis_db):
    with served(Config(session_store=redis_url, **FLOOD)) as (client, store):
        ids = [new(client, "10.0.0.1")]
        while int(redis_db.hget("linclass:meta:obytes", "10.0.0.1")) < 60_000:
            ids.append(new(client, "10.0.0.1"))
        below = int(redis_db.hget("linclass:meta:obytes", "10.0.0.1"))
        steps = (65536 - below) // 8 + 100  # the session stays within its own first 64 KB, its address does not
        client.post(f"/api/sessions/{ids[0]}/step", json={"steps": steps}, params={"detail": "summary"})
        assert int(redis_db.hget("linclass:meta:size", ids[0])) < 65536 < int(redis_db.hget("linclass:meta:obytes", "10.0.0.1"))
        assert_accounting_adds_up(redis_db, 10_000, 2**30)


def test_the_memory_accounting_adds_up_after_every_kind_of_change():
    config = Config(max_sessions=25, max_memory_mb=1.0, **FLOOD)
    with served(config) as (client, store):
        every_kind_of_change(client)
        entries = store._entries.values()
        assert len(entries) <= 25 and all(e.size == session_bytes(e.trainer) for e in entries)
        assert client.portal.call(store.bytes) == sum(e.size for e in entries) <= 2**20
        owners = {e.owner for e in entries}
        assert set(store._owners) == owners
        for name, owner in store._owners.items():
            assert set(owner.sessions) == {e.sid for e in entries if e.owner == name}
            assert owner.bytes == sum(e.size for e in owner.sessions.values())
        by_count = {o: len(o.sessions) for o in store._owners.values()}
        by_bytes = {o: o.bytes // 65536 for o in store._owners.values()}
        for ranking, weights in ((store._by_count, by_count), (store._by_bytes, by_bytes)):
            assert {o: w for w, group in ranking.descending() for o in group} == weights
