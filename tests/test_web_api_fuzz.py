"""Schemathesis against the web app's OpenAPI schema (/api/v1/openapi.json): generated requests, with a token
and without, never get a 500, and every answer matches the schema."""
from __future__ import annotations

import shutil

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is missing (pip install -e '.[test]')")
from hypothesis import HealthCheck, given, settings  # noqa: E402

from test_web import make_project  # noqa: E402

from accord import app as accord_app  # noqa: E402
from accord.store import tokens  # noqa: E402
from accord.web import create_app  # noqa: E402


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = make_project(tmp_path_factory.mktemp("api") / "p")
    asgi = create_app(root, warm=False)
    asgi.state.site.overview(wait=True)
    token = tokens.add_token(asgi.state.site.db, "fuzz", ("sales",), ("read",))
    yield asgi, token
    asgi.state.site.close()
    shutil.rmtree(root, ignore_errors=True)


def test_no_generated_request_gets_a_500_or_breaks_the_schema(served):
    asgi, token = served
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", asgi)
    operations = list(schema.get_all_operations())
    assert len(operations) >= 2
    failures = []
    for result in operations:
        operation = result.ok()

        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def check(case):
            for headers in ({"Authorization": f"Bearer {token}"}, {}, {"Authorization": "Bearer not-a-token"}):
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} {case.query}: {response.status_code}")
                if headers.get("Authorization", "").endswith(token):
                    case.validate_response(response)
        check()
    assert failures == []


def test_the_contact_arbiter_gets_no_500_and_keeps_its_schema(tmp_path, monkeypatch):
    """The arbiter's endpoints (claim, check, states, timeline, release, metrics) with a token of every scope."""
    from test_arbiter import ALL_SCOPES, small, token

    from accord.web import arbiter_app
    monkeypatch.delenv("ACCORD_STORE", raising=False)
    root = small(tmp_path / "p")
    secret = token(root, scopes=ALL_SCOPES)
    asgi = arbiter_app(root)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", asgi)
    operations = list(schema.get_all_operations())
    assert len(operations) >= 6
    failures = []
    for result in operations:
        operation = result.ok()

        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def check(case):
            for headers in ({"Authorization": f"Bearer {secret}"}, {}):
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} {case.body!r}: {response.status_code}")
                if headers:
                    # a well-formed claim may still name a team or state the policy lacks: a 422 by design, so
                    # the check that every schema-valid request is accepted does not apply here
                    case.validate_response(response, excluded_checks=[schemathesis.checks.positive_data_acceptance])
        check()
    asgi.state.site.close()
    assert failures == []
