import pytest

from vlsc_portal import health


@pytest.mark.django_db
def test_it_reports_each_dependency_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    for name in ("database", "broker", "cache"):
        assert body[name] == {"state": "up"}


@pytest.mark.django_db
def test_it_answers_503_naming_the_dependency_that_is_down(client, monkeypatch):
    def broken() -> None:
        raise ConnectionRefusedError("broker unreachable")

    monkeypatch.setitem(health.CHECKS, "broker", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["broker"] == {"state": "down", "error": "ConnectionRefusedError"}
    assert body["database"] == {"state": "up"}
    assert body["status"] == "unavailable"


def test_it_refuses_other_methods(client):
    assert client.post("/healthz").status_code == 405
