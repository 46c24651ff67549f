"""Hostile bodies answer a client error in the API's JSON format, anonymously, without a traceback in the log."""

import logging

import pytest
from django.test import Client

from countermand.api.errors import api_exception_handler

DEEP_JSON = "[" * 5000 + "]" * 5000


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.WARNING)
    return caplog


def assert_no_traceback_logged(log):
    assert [r.getMessage() for r in log.records if r.exc_info] == []


@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/orders/WEB-1001/cancel"])
def test_a_body_over_the_upload_limit_is_413_request_too_large_for_anyone(db, settings, log, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = Client().post(path, '{"username": "' + "x" * 2000 + '"}', content_type="application/json")
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "REQUEST_TOO_LARGE"
    assert body["limit"] == 1000
    assert_no_traceback_logged(log)


def test_a_body_at_the_default_limit_plus_one_is_refused_before_it_is_read(db, log):
    body = b"x" * (2621440 + 1)
    response = Client().post("/api/v1/auth/token", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "REQUEST_TOO_LARGE"


def test_json_nested_thousands_deep_is_400_parse_error_anonymously(db, log):
    response = Client().post("/api/v1/auth/token", DEEP_JSON, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "PARSE_ERROR"
    assert_no_traceback_logged(log)


def test_json_nested_thousands_deep_is_400_parse_error_for_a_buyer(world, log):
    response = world.api("buyer_c1000").post(
        "/api/v1/orders/WEB-1001/cancel", DEEP_JSON, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "PARSE_ERROR"
    assert_no_traceback_logged(log)


def test_the_exception_handler_maps_request_data_too_big_and_recursion_error(log):
    from django.core.exceptions import RequestDataTooBig

    too_big = api_exception_handler(RequestDataTooBig("too big"), {"view": None})
    too_deep = api_exception_handler(RecursionError("maximum recursion depth exceeded"), {"view": None})
    assert (too_big.status_code, too_big.data["code"]) == (413, "REQUEST_TOO_LARGE")
    assert (too_deep.status_code, too_deep.data["code"]) == (400, "PARSE_ERROR")
    assert_no_traceback_logged(log)
