"""A schemathesis run over ``/openapi.json``: whatever it sends, no answer is a 5xx.

Bounded (a few dozen examples per operation, positive and negative data) so the file runs in
well under a minute against real loopback servers: the forest (tensor input) and a columns model
with a nullable field.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from shipyard.serve import ServeConfig, create_app
from tests.serve.conftest import table_model
from tests.serve.servers import ThreadServer, wait_until_ready

BOUNDED = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@pytest.fixture(scope="module")
def table_server() -> Iterator[ThreadServer]:
    app = create_app(table_model(), ServeConfig(), name="table")
    with ThreadServer(app) as running:
        wait_until_ready(running.url)
        yield running


def _fuzz(url: str) -> list[str]:
    """Every operation of the schema at ``url``, positive and negative examples; the operations."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    seen = []
    for result in schema.get_all_operations():
        operation = result.ok()
        seen.append(f"{operation.method.upper()} {operation.path}")
        modes = [GenerationMode.POSITIVE]
        if operation.method.upper() == "POST":  # a GET without parameters has no negative case
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:

            @BOUNDED
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: schemathesis.Case) -> None:
                case.call_and_validate(checks=[not_a_server_error, status_code_conformance])

            call()
    return seen


# Large finite floats make numpy warn inside scikit-learn's input checks (overflow in the float32
# cast, inf - inf in its finiteness sum) before those checks refuse them with a 422; a served
# model runs without warnings-as-errors, so let these be warnings here too.
@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered in reduce:RuntimeWarning")
def test_forest_api_never_answers_5xx(server: ThreadServer) -> None:
    wait_until_ready(server.url)
    assert "POST /predict" in _fuzz(server.url)


def test_table_api_never_answers_5xx(table_server: ThreadServer) -> None:
    assert "POST /predict" in _fuzz(table_server.url)
