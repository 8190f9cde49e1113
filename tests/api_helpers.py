"""Small helpers for the customer API tests (issue 3): HTTP calls with JSON bodies and problem checks."""

import json

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
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"]
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
