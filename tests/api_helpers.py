"""The one set of helpers for API tests: HTTP calls with JSON bodies and problem checks."""

import json

from core.problems import PROBLEM_TYPES

URL = "/api/v1/customers"


def detail_url(customer_id) -> str:
    return f"{URL}/{customer_id}"


def send(client, method: str, path: str, body=None, **headers):
    """`method` `path` with `body` as JSON; headers given as HTTP_* keyword arguments."""
    data = body if body is None or isinstance(body, str | bytes) else json.dumps(body)
    call = getattr(client, method.lower())
    if data is None:
        return call(path, **headers)
    return call(path, data, content_type=headers.pop("content_type", "application/json"), **headers)


def create(client, body=None, **headers) -> dict:
    """POST a customer (default: firstname Ada) and return the 201 body."""
    response = send(client, "post", URL, body if body is not None else {"firstname": "Ada"}, **headers)
    assert response.status_code == 201, response.content
    return response.json()


def assert_problem(response, status: int, slug: str | None = None) -> dict:
    """The response is an RFC 9457 problem of a registered type (core/problems.py) with this status; its body."""
    assert response.status_code == status, response.content[:2000]
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    registered = {problem.type: problem for problem in PROBLEM_TYPES.values()}
    assert body["type"] in registered, body
    assert (registered[body["type"]].status, registered[body["type"]].title) == (status, body["title"]), body
    assert body["detail"]
    assert body["request_id"] == response["X-Request-ID"]
    if slug is not None:
        assert body["type"] == f"/problems/{slug}", body
    return body


def error_fields(response) -> dict[str, list[str]]:
    """A 400 validation problem's errors as {field: [codes]}."""
    body = assert_problem(response, 400, "validation-error")
    found: dict[str, list[str]] = {}
    for error in body["errors"]:
        assert error["message"]
        found.setdefault(error["field"], []).append(error["code"])
    return found
