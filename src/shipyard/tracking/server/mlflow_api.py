"""The MLflow Tracking REST API (``/api/2.0/mlflow/...``) translated onto the tracking store.

Each handler takes the request's JSON object (a GET's query parameters) and returns the
response's. The body is parsed and the handler run in a worker thread (so a big body never
blocks the event loop), and their CPU time goes back in ``X-Shipyard-Handler-CPU-Ms`` (on a busy
machine wall time mostly measures the wait for a core). Bodies are limited per endpoint
(``BODY_LIMITS``), refused with 413 from their Content-Length or as a chunked body grows.
Errors are Shipyard errors that ``app.py`` maps to MLflow's error codes. Only what the ``mlflow``
client's tracking calls need is here: experiments, runs, logging, search and metric history, and
(``mlflow3_api``) MLflow 3's logged models, run inputs and outputs, and the two trace calls
the client makes outside tracing. Path parameters
(``/logged-models/{model_id}``) are merged into the handler's body.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shipyard.errors import InvalidInputError
from shipyard.tracking.entities import Metric, RunStatus, ViewType, now_ms
from shipyard.tracking.locations import ArtifactLocationPolicy
from shipyard.tracking.queries import MAX_SEARCH_RESULTS
from shipyard.tracking.server.mlflow3_api import Mlflow3Handlers
from shipyard.tracking.server.mlflow3_json import model_metrics_field
from shipyard.tracking.server.mlflow_json import (
    experiment_id_field,
    experiment_ids_field,
    experiment_json,
    int_field,
    metric_from_json,
    metric_json,
    pairs,
    run_info_json,
    run_json,
    string_field,
)
from shipyard.tracking.tracker import Tracker
from shipyard.web.bodies import MAX_JSON_BODY, parse_json_object, read_body
from shipyard.web.responses import JSONBody

__all__ = ["BODY_LIMITS", "ENDPOINTS", "PREFIX", "READ_POSTS", "MlflowApi"]

PREFIX = "/api/2.0/mlflow"
LOG_BATCH_BODY = 16 * 1024 * 1024
"""``runs/log-batch``'s body limit: MLflow's largest legal batch, escaped, is a few MiB."""
BODY_LIMITS = {"/runs/log-batch": LOG_BATCH_BODY, "/runs/log-inputs": LOG_BATCH_BODY}
ENDPOINTS = (
    ("POST", "/experiments/create", "create_experiment"),
    ("GET", "/experiments/get", "get_experiment"),
    ("GET", "/experiments/get-by-name", "get_experiment_by_name"),
    ("POST", "/experiments/search", "search_experiments"),
    ("GET", "/experiments/search", "search_experiments"),
    ("POST", "/experiments/delete", "delete_experiment"),
    ("POST", "/experiments/set-experiment-tag", "set_experiment_tag"),
    ("POST", "/experiments/delete-experiment-tag", "delete_experiment_tag"),
    ("POST", "/experiments/update", "update_experiment"),
    ("POST", "/experiments/restore", "restore_experiment"),
    ("POST", "/runs/create", "create_run"),
    ("GET", "/runs/get", "get_run"),
    ("POST", "/runs/update", "update_run"),
    ("POST", "/runs/delete", "delete_run"),
    ("POST", "/runs/restore", "restore_run"),
    ("POST", "/runs/search", "search_runs"),
    ("POST", "/runs/log-metric", "log_metric"),
    ("POST", "/runs/log-parameter", "log_parameter"),
    ("POST", "/runs/log-batch", "log_batch"),
    ("POST", "/runs/set-tag", "set_tag"),
    ("POST", "/runs/delete-tag", "delete_tag"),
    ("POST", "/runs/log-inputs", "log_inputs"),
    ("POST", "/runs/outputs", "log_outputs"),
    ("POST", "/runs/log-model", "log_model"),
    ("GET", "/metrics/get-history", "get_metric_history"),
    ("POST", "/logged-models", "create_logged_model"),
    ("POST", "/logged-models/search", "search_logged_models"),
    ("GET", "/logged-models/{model_id}", "get_logged_model"),
    ("PATCH", "/logged-models/{model_id}", "finalize_logged_model"),
    ("DELETE", "/logged-models/{model_id}", "delete_logged_model"),
    ("PATCH", "/logged-models/{model_id}/tags", "set_logged_model_tags"),
    ("DELETE", "/logged-models/{model_id}/tags/{tag_key}", "delete_logged_model_tag"),
    ("POST", "/logged-models/{model_id}/params", "log_logged_model_params"),
    ("GET", "/logged-models/{model_id}/artifacts/directories", "list_logged_model_artifacts"),
    ("POST", "/traces/delete-traces", "delete_traces"),
    ("POST", "/traces/link-to-run", "link_traces_to_run"),
)
"""``(method, path under PREFIX, MlflowApi method)`` of every endpoint served (the OpenAPI
document and ``scripts/mlflow_schemas.py`` read it too)."""
READ_POSTS = frozenset(
    PREFIX + path for path in ("/experiments/search", "/runs/search", "/logged-models/search")
)
"""The POST endpoints that only read: a read-only key may call them."""
"""Per-endpoint body limits; every other endpoint takes ``MAX_JSON_BODY`` (1 MiB)."""
Handler = Callable[[dict[str, Any]], dict[str, Any]]
Endpoint = Callable[[Request], Any]


def _timed(
    handler: Handler, body: dict[str, Any] | bytes, path: dict[str, Any]
) -> tuple[dict[str, Any], float]:
    """The handler's result on ``body`` (raw bytes are parsed first; the path's parameters win)
    and the CPU time its thread spent on both (ms)."""
    began = time.thread_time()
    parsed = parse_json_object(body) if isinstance(body, bytes) else body
    result = handler({**parsed, **path} if path else parsed)
    return result, (time.thread_time() - began) * 1000


def json_endpoint(handler: Handler, limit: int = MAX_JSON_BODY) -> Endpoint:
    """An endpoint that runs ``handler`` on the request's JSON (a GET: its query) in a thread;
    a body over ``limit`` bytes is refused with 413 before it is parsed."""

    async def endpoint(request: Request) -> Response:
        body: dict[str, Any] | bytes
        if request.method in ("GET", "HEAD"):
            body = dict(request.query_params)
        else:
            body = await read_body(request, limit)
        path = dict(request.path_params)
        result, cpu_ms = await run_in_threadpool(_timed, handler, body, path)
        return JSONBody(result, headers={"x-shipyard-handler-cpu-ms": f"{cpu_ms:.2f}"})

    return endpoint


def _run_id(body: dict[str, Any]) -> str:
    run_id = body.get("run_id") or body.get("run_uuid")
    if not isinstance(run_id, str) or not run_id:
        raise InvalidInputError("missing value for required parameter 'run_id'")
    return run_id


def _text(body: dict[str, Any], name: str) -> str:
    value = string_field(body, name)
    if value is None:  # pragma: no cover - string_field raises for a missing required field
        raise InvalidInputError(f"missing value for required parameter {name!r}")
    return value


def _max_results(body: dict[str, Any]) -> int:
    """``max_results`` (default 1000); 1 to ``MAX_SEARCH_RESULTS``, else refused."""
    limit = int_field(body, "max_results", 1000)
    if limit is None or not 0 < limit <= MAX_SEARCH_RESULTS:
        raise InvalidInputError(
            f"max_results must be between 1 and {MAX_SEARCH_RESULTS}, got {limit}"
        )
    return limit


def _order_by(body: dict[str, Any]) -> list[str]:
    """``order_by`` terms (a GET's query gives one term as a string)."""
    order_by = body.get("order_by") or []
    if isinstance(order_by, str):
        order_by = [order_by]
    if not isinstance(order_by, list) or not all(isinstance(t, str) for t in order_by):
        raise InvalidInputError("order_by must be a list of strings like 'metrics.auc DESC'")
    return order_by


def _view_type(value: Any) -> ViewType:
    if value in (None, "", 1, "1"):
        return ViewType.ACTIVE_ONLY
    names = {"2": "DELETED_ONLY", "3": "ALL"}
    try:
        return ViewType(names.get(str(value), str(value)))
    except ValueError:
        raise InvalidInputError(
            f"invalid view type {value!r}: use ACTIVE_ONLY, DELETED_ONLY or ALL"
        ) from None


class MlflowApi(Mlflow3Handlers):
    """Handlers for the MLflow tracking endpoints, over one ``Tracker``."""

    def __init__(self, tracker: Tracker, locations: ArtifactLocationPolicy) -> None:
        self.tracker = tracker
        self.store = tracker.store
        self.locations = locations

    def routes(self) -> list[Route]:
        return [
            Route(
                PREFIX + path.replace("{tag_key}", "{tag_key:path}"),  # a tag key may hold "/"
                json_endpoint(handler, BODY_LIMITS.get(path, MAX_JSON_BODY)),
                methods=[method],
            )
            for method, path, handler in self.handlers()
        ]

    def handlers(self) -> list[tuple[str, str, Handler]]:
        """``(method, path, handler)`` for every endpoint served."""
        return [(method, path, getattr(self, name)) for method, path, name in ENDPOINTS]

    # -- experiments ---------------------------------------------------------------------------

    def create_experiment(self, body: dict[str, Any]) -> dict[str, Any]:
        name = _text(body, "name")
        tags = dict(pairs(body.get("tags"), "tag"))
        location = string_field(body, "artifact_location", required=False)
        if location is not None:
            location = self.locations.check(location)
        return {"experiment_id": self.store.create_experiment(name, location, tags)}

    def get_experiment(self, body: dict[str, Any]) -> dict[str, Any]:
        experiment_id = experiment_id_field(body, "experiment_id")
        return {"experiment": experiment_json(self.store.get_experiment(experiment_id))}

    def get_experiment_by_name(self, body: dict[str, Any]) -> dict[str, Any]:
        name = _text(body, "experiment_name")
        return {"experiment": experiment_json(self.store.get_experiment_by_name(name))}

    def search_experiments(self, body: dict[str, Any]) -> dict[str, Any]:
        experiments, token = self.store.search_experiments(
            _view_type(body.get("view_type")),
            string_field(body, "filter", required=False),
            _order_by(body),
            max_results=_max_results(body),
            page_token=string_field(body, "page_token", required=False),
        )
        response: dict[str, Any] = {"experiments": [experiment_json(e) for e in experiments]}
        if token:
            response["next_page_token"] = token
        return response

    def update_experiment(self, body: dict[str, Any]) -> dict[str, Any]:
        experiment_id = experiment_id_field(body, "experiment_id")
        self.store.rename_experiment(experiment_id, _text(body, "new_name"))
        return {}

    def restore_experiment(self, body: dict[str, Any]) -> dict[str, Any]:
        self.store.restore_experiment(experiment_id_field(body, "experiment_id"))
        return {}

    def delete_experiment_tag(self, body: dict[str, Any]) -> dict[str, Any]:
        experiment_id = experiment_id_field(body, "experiment_id")
        self.store.delete_experiment_tag(experiment_id, _text(body, "key"))
        return {}

    def delete_experiment(self, body: dict[str, Any]) -> dict[str, Any]:
        experiment_id = experiment_id_field(body, "experiment_id")
        self.store.delete_experiment(experiment_id)
        return {}

    def set_experiment_tag(self, body: dict[str, Any]) -> dict[str, Any]:
        experiment_id = experiment_id_field(body, "experiment_id")
        key = _text(body, "key")
        self.store.set_experiment_tag(experiment_id, key, str(body.get("value", "")))
        return {}

    # -- runs ----------------------------------------------------------------------------------

    def create_run(self, body: dict[str, Any]) -> dict[str, Any]:
        run = self.store.create_run(
            experiment_id_field(body, "experiment_id", "0"),
            user_id=string_field(body, "user_id", required=False) or "unknown",
            run_name=string_field(body, "run_name", required=False),
            start_time=int_field(body, "start_time"),
            tags=dict(pairs(body.get("tags"), "tag")),
        )
        return {"run": run_json(run)}

    def get_run(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"run": run_json(self.store.get_run(_run_id(body)))}

    def update_run(self, body: dict[str, Any]) -> dict[str, Any]:
        status = body.get("status")
        try:
            parsed = RunStatus(status) if status else None
        except ValueError:
            choices = ", ".join(s.value for s in RunStatus)
            raise InvalidInputError(
                f"invalid run status {status!r}: use one of {choices}"
            ) from None
        run = self.store.update_run(
            _run_id(body),
            status=parsed,
            end_time=int_field(body, "end_time"),
            run_name=string_field(body, "run_name", required=False),
        )
        return {"run_info": run_info_json(run.info)}

    def delete_run(self, body: dict[str, Any]) -> dict[str, Any]:
        self.store.delete_run(_run_id(body))
        return {}

    def restore_run(self, body: dict[str, Any]) -> dict[str, Any]:
        self.store.restore_run(_run_id(body))
        return {}

    def search_runs(self, body: dict[str, Any]) -> dict[str, Any]:
        order_by = _order_by(body)
        runs, token = self.store.search_runs(
            experiment_ids_field(body, "experiment_ids"),
            string_field(body, "filter", required=False),
            order_by,
            max_results=_max_results(body),
            page_token=string_field(body, "page_token", required=False),
            view_type=_view_type(body.get("run_view_type")),
        )
        response: dict[str, Any] = {"runs": [run_json(run) for run in runs]}
        if token:
            response["next_page_token"] = token
        return response

    # -- logging -------------------------------------------------------------------------------

    def log_metric(self, body: dict[str, Any]) -> dict[str, Any]:
        item = {**body, "timestamp": body.get("timestamp") or now_ms()}
        metrics = [metric_from_json(item)]
        self.store.log_batch(
            _run_id(body), metrics=metrics, model_metrics=model_metrics_field([item], metrics)
        )
        return {}

    def log_parameter(self, body: dict[str, Any]) -> dict[str, Any]:
        key = _text(body, "key")
        self.store.log_batch(_run_id(body), params=[(key, str(body.get("value", "")))])
        return {}

    def set_tag(self, body: dict[str, Any]) -> dict[str, Any]:
        key = _text(body, "key")
        self.store.log_batch(_run_id(body), tags=[(key, str(body.get("value", "")))])
        return {}

    def delete_tag(self, body: dict[str, Any]) -> dict[str, Any]:
        self.store.delete_run_tag(_run_id(body), _text(body, "key"))
        return {}

    def log_batch(self, body: dict[str, Any]) -> dict[str, Any]:
        raw_metrics = body.get("metrics") or []
        if not isinstance(raw_metrics, list):
            raise InvalidInputError("metrics must be a list of {key, value, timestamp, step}")
        metrics: list[Metric] = [metric_from_json(item) for item in raw_metrics]
        self.store.log_batch(
            _run_id(body),
            metrics=metrics,
            params=pairs(body.get("params"), "param"),
            tags=pairs(body.get("tags"), "tag"),
            model_metrics=model_metrics_field(raw_metrics, metrics),
        )
        return {}

    def get_metric_history(self, body: dict[str, Any]) -> dict[str, Any]:
        key = _text(body, "metric_key")
        history = self.store.metric_history(_run_id(body), key)
        return {"metrics": [metric_json(m) for m in history]}
