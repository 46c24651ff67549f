"""HostileRequestMiddleware: oversized bodies and values nested too deep answer 413/400 on every page, not 500."""

import json
import logging

import pytest
from django.test import Client

from countermand.project.middleware import HostileRequestMiddleware


def test_a_form_post_over_the_upload_limit_is_413_not_a_traceback(db, settings, caplog):
    caplog.set_level(logging.WARNING)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = Client().post("/account/login/", {"username": "x" * 2000, "password": "y"})
    assert response.status_code == 413
    assert b"too large" in response.content
    assert [r for r in caplog.records if r.exc_info] == []
    assert any("upload limit" in r.getMessage() for r in caplog.records)


def test_a_small_form_post_passes_through(db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = Client().post("/account/login/", {"username": "nobody", "password": "y"})
    assert response.status_code != 413


@pytest.mark.parametrize(("path", "json_body"), [("/account/login/", False), ("/api/v1/orders", True)])
def test_a_view_that_recurses_too_deep_answers_400(rf, path, json_body):
    middleware = HostileRequestMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]
    response = middleware.process_exception(rf.post(path), RecursionError("maximum recursion depth exceeded"))
    assert response is not None
    assert response.status_code == 400
    if json_body:
        assert json.loads(response.content)["code"] == "PARSE_ERROR"


def test_other_exceptions_are_left_to_django(rf):
    middleware = HostileRequestMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]
    assert middleware.process_exception(rf.get("/"), ValueError("boom")) is None
