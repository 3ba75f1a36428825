"""Shared fixtures: an app with the in-memory store and a TestClient on it."""

import pytest
from fastapi.testclient import TestClient

from app.config import Config
from app.main import create_app


@pytest.fixture
def config():
    return Config()


@pytest.fixture
def client(config):
    with TestClient(create_app(config)) as c:
        yield c


@pytest.fixture
def session(client):
    """A fresh default session's state."""
    r = client.post("/api/sessions")
    assert r.status_code == 201
    return r.json()
