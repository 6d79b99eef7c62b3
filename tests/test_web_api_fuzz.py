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
