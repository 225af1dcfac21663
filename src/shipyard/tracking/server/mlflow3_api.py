"""The MLflow 3 tracking endpoints: logged models, run inputs (datasets) and outputs.

``mlflow.<flavor>.log_model`` creates a logged model (``POST /logged-models``), uploads its files
through the artifacts API to the model's ``artifact_uri``, links it to the run
(``POST /runs/outputs``) and finalizes it (``PATCH /logged-models/<id>``); loading
``models:/<model_id>`` reads it back with ``GET /logged-models/<id>``, and ``runs:/<run>/<name>``
finds it with ``POST /logged-models/search``. Handlers take the request's JSON (path parameters
merged in) and return the response's, as in ``mlflow_api``.

Shipyard stores no traces (GenAI tracing is not what it is for): logging one (``start-trace``,
spans) is an unknown endpoint. ``delete_traces`` and ``link_traces_to_run``, which scripts call
outside tracing, answer as MLflow's SQL store does when it holds no trace: nothing deleted, no
link made (MLflow links only traces it has).
"""

from __future__ import annotations

import json
from typing import Any

from shipyard.errors import InvalidInputError
from shipyard.tracking.artifacts import check_artifact_path, store_path
from shipyard.tracking.server.mlflow3_json import (
    dataset_filters_field,
    dataset_inputs_field,
    logged_model_json,
    model_order_field,
    model_outputs_field,
    status_field,
)
from shipyard.tracking.server.mlflow_json import (
    experiment_id_field,
    experiment_ids_field,
    int_field,
    pairs,
    string_field,
    strings_field,
)
from shipyard.tracking.tracker import Tracker

__all__ = ["LOG_MODEL_HISTORY_TAG", "Mlflow3Handlers", "server_info"]

LOG_MODEL_HISTORY_TAG = "mlflow.log-model.history"
MAX_TRACE_LINKS = 100
"""MLflow's ``MAX_TRACE_LINKS_PER_REQUEST``."""


def _required(body: dict[str, Any], name: str) -> str:
    value = string_field(body, name)
    if value is None:  # pragma: no cover - string_field raises for a missing required field
        raise InvalidInputError(f"missing value for required parameter {name!r}")
    return value


def server_info() -> dict[str, Any]:
    """``GET /api/3.0/mlflow/server-info``: what ``mlflow.server.handlers`` says of a SQL store
    without workspaces, trace archival, multipart or presigned uploads, or the AI gateway."""
    return {
        "store_type": "SqlStore",
        "workspaces_enabled": False,
        "trace_archival_enabled": False,
        "multipart_uploads_enabled": False,
        "multipart_downloads_enabled": False,
        "presigned_upload_run_id_supported": False,
        "presigned_upload_model_id_supported": False,
        "features_enabled": {"gateway": False},
    }


class Mlflow3Handlers:
    """The logged-model, input and output handlers of ``MlflowApi``."""

    tracker: Tracker

    # -- logged models -------------------------------------------------------------------------

    def create_logged_model(self, body: dict[str, Any]) -> dict[str, Any]:
        model = self.tracker.store.create_logged_model(
            experiment_id_field(body, "experiment_id"),
            name=string_field(body, "name", required=False),
            source_run_id=string_field(body, "source_run_id", required=False),
            model_type=string_field(body, "model_type", required=False),
            params=pairs(body.get("params"), "param"),
            tags=pairs(body.get("tags"), "tag"),
        )
        return {"model": logged_model_json(model)}

    def get_logged_model(self, body: dict[str, Any]) -> dict[str, Any]:
        allow_deleted = str(body.get("allow_deleted", "false")).lower() == "true"
        model = self.tracker.store.get_logged_model(
            _required(body, "model_id"), allow_deleted=allow_deleted
        )
        return {"model": logged_model_json(model)}

    def finalize_logged_model(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("status") in (None, ""):
            raise InvalidInputError("missing value for required parameter 'status'")
        model = self.tracker.store.finalize_logged_model(
            _required(body, "model_id"), status_field(body["status"])
        )
        return {"model": logged_model_json(model)}

    def delete_logged_model(self, body: dict[str, Any]) -> dict[str, Any]:
        self.tracker.store.delete_logged_model(_required(body, "model_id"))
        return {}

    def set_logged_model_tags(self, body: dict[str, Any]) -> dict[str, Any]:
        tags = pairs(body.get("tags"), "tag")
        self.tracker.store.set_logged_model_tags(_required(body, "model_id"), tags)
        return {}

    def delete_logged_model_tag(self, body: dict[str, Any]) -> dict[str, Any]:
        self.tracker.store.delete_logged_model_tag(
            _required(body, "model_id"), _required(body, "tag_key")
        )
        return {}

    def log_logged_model_params(self, body: dict[str, Any]) -> dict[str, Any]:
        params = pairs(body.get("params"), "param")
        self.tracker.store.log_logged_model_params(_required(body, "model_id"), params)
        return {}

    def search_logged_models(self, body: dict[str, Any]) -> dict[str, Any]:
        limit = int_field(body, "max_results") or 100
        models, token = self.tracker.store.search_logged_models(
            experiment_ids_field(body, "experiment_ids"),
            string_field(body, "filter", required=False),
            datasets=dataset_filters_field(body.get("datasets")),
            order_by=model_order_field(body.get("order_by")),
            max_results=limit,
            page_token=string_field(body, "page_token", required=False),
        )
        response: dict[str, Any] = {"models": [logged_model_json(m) for m in models]}
        if token:
            response["next_page_token"] = token
        return response

    def list_logged_model_artifacts(self, body: dict[str, Any]) -> dict[str, Any]:
        """The files in a folder of the model's artifacts, paths relative to its root."""
        model = self.tracker.store.get_logged_model(_required(body, "model_id"))
        folder = check_artifact_path(
            (string_field(body, "artifact_directory_path", required=False) or "").strip("/")
        )
        root = model.artifact_location
        files = []
        base = store_path(root)
        if base is not None:
            listed = self.tracker.artifacts.list(f"{base}/{folder}" if folder else base)
            for name, is_dir, size in listed:
                entry: dict[str, Any] = {"path": f"{folder}/{name}" if folder else name}
                entry["is_dir"] = is_dir
                if size is not None:
                    entry["file_size"] = size
                files.append(entry)
        return {"root_uri": root, "files": files}

    # -- run inputs and outputs ----------------------------------------------------------------

    def log_inputs(self, body: dict[str, Any]) -> dict[str, Any]:
        models = model_outputs_field(body.get("models"), "models")
        self.tracker.store.log_inputs(
            _required(body, "run_id"),
            dataset_inputs_field(body.get("datasets")),
            [model.model_id for model in models],
        )
        return {}

    def log_outputs(self, body: dict[str, Any]) -> dict[str, Any]:
        outputs = model_outputs_field(body.get("models"), "models")
        self.tracker.store.log_outputs(_required(body, "run_id"), outputs)
        return {}

    def log_model(self, body: dict[str, Any]) -> dict[str, Any]:
        """``runs/log-model``: the model's MLmodel (JSON) appended to the run's
        ``mlflow.log-model.history`` tag, as MLflow's server does."""
        run_id = body.get("run_id") or body.get("run_uuid")
        if not isinstance(run_id, str) or not run_id:
            raise InvalidInputError("missing value for required parameter 'run_id'")
        try:
            model = json.loads(_required(body, "model_json"))
        except ValueError:
            raise InvalidInputError("model_json must be the MLmodel as a JSON object") from None
        if not isinstance(model, dict):
            raise InvalidInputError("model_json must be the MLmodel as a JSON object")
        run = self.tracker.store.get_run(run_id)
        try:
            history = json.loads(run.tags.get(LOG_MODEL_HISTORY_TAG, "[]"))
        except ValueError:
            history = []
        if not isinstance(history, list):
            history = []
        value = json.dumps([*history, model])
        self.tracker.store.log_batch(run_id, tags=[(LOG_MODEL_HISTORY_TAG, value)])
        return {}

    # -- traces (none are stored) -------------------------------------------------------------

    def delete_traces(self, body: dict[str, Any]) -> dict[str, Any]:
        """``traces/delete-traces``: the request checked as MLflow does; no trace to delete."""
        experiment_id_field(body, "experiment_id")
        int_field(body, "max_timestamp_millis")
        int_field(body, "max_traces")
        strings_field(body, "request_ids")
        return {"traces_deleted": 0}

    def link_traces_to_run(self, body: dict[str, Any]) -> dict[str, Any]:
        """``traces/link-to-run``: at most 100 ids; none is a trace here, so none is linked."""
        trace_ids = strings_field(body, "trace_ids")
        _required(body, "run_id")
        if len(trace_ids) > MAX_TRACE_LINKS:
            raise InvalidInputError(
                f"Cannot link more than {MAX_TRACE_LINKS} traces to a run in a single request. "
                f"Provided {len(trace_ids)} traces."
            )
        return {}
