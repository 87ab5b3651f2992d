"""Schemathesis fuzzes every operation of /openapi.json: never a 5xx, every response valid against the schema.

Not checked: ``positive_data_acceptance`` (that a schema-valid body is accepted): scenario, drug and
parameter names are checked against the shipped data and answer 404/400 with suggestions by design.
Population jobs are not started (``max_jobs=0``: each valid request is answered 429), so the run
stays short; jobs themselves are tested in ``test_api.py``.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from schemathesis.specs.openapi.checks import positive_data_acceptance

from cytonet.web import create_app
from cytonet.web.limits import Limits

app = create_app(Limits(max_jobs=0))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms(case: schemathesis.Case) -> None:
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
