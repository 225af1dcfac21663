"""MLflow 3's GenAI evaluation datasets API (``/api/3.0/mlflow/datasets/...``) on the tracking
store (``tracking/evaluation_datasets.py``).

``mlflow.genai.datasets.create_dataset``, ``MlflowClient.create_dataset`` / ``search_datasets`` /
``set_dataset_tags`` and ``EvaluationDataset.merge_records`` / ``to_df`` call these. Tags, records
and schemas travel as JSON strings inside the JSON body, as in MLflow's protos. Searches take
MLflow's filter grammar (``name LIKE 'qa_%' AND tags.team = 'search'``; keys ``name``,
``created_by``, ``last_updated_by``, ``created_time``, ``last_update_time``, ``tags.<key>``) and
order (default ``created_time DESC``, then ``dataset_id DESC``); record pages use MLflow's cursor
token (base64 of ``created_time:record_id``).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from starlette.routing import Route

from shipyard.errors import InvalidInputError
from shipyard.tracking.evaluation_datasets import (
    MAX_EVALUATION_RESULTS,
    EvaluationDataset,
    EvaluationRecord,
)
from shipyard.tracking.server.mlflow_api import LOG_BATCH_BODY, Handler, json_endpoint
from shipyard.tracking.server.mlflow_json import int_field, string_field, strings_field
from shipyard.tracking.server.registry_search import matches, page, parse_registry_filter, sort_by
from shipyard.tracking.tracker import Tracker
from shipyard.web.bodies import MAX_JSON_BODY, parse_json_text

__all__ = ["DATASETS_PREFIX", "DATASET_ENDPOINTS", "DATASET_READ_POSTS", "DatasetsApi"]

DATASETS_PREFIX = "/api/3.0/mlflow"
DATASET_ENDPOINTS = (
    ("POST", "/datasets/create", "create_dataset"),
    ("POST", "/datasets/search", "search_datasets"),
    ("GET", "/datasets/search", "search_datasets"),
    ("GET", "/datasets/{dataset_id}", "get_dataset"),
    ("DELETE", "/datasets/{dataset_id}", "delete_dataset"),
    ("PATCH", "/datasets/{dataset_id}/tags", "set_dataset_tags"),
    ("DELETE", "/datasets/{dataset_id}/tags/{key}", "delete_dataset_tag"),
    ("POST", "/datasets/{dataset_id}/records", "upsert_dataset_records"),
    ("GET", "/datasets/{dataset_id}/records", "get_dataset_records"),
    ("DELETE", "/datasets/{dataset_id}/records", "delete_dataset_records"),
    ("GET", "/datasets/{dataset_id}/experiment-ids", "get_dataset_experiment_ids"),
    ("POST", "/datasets/{dataset_id}/add-experiments", "add_dataset_to_experiments"),
    ("POST", "/datasets/{dataset_id}/remove-experiments", "remove_dataset_from_experiments"),
)
"""``(method, path under DATASETS_PREFIX, DatasetsApi method)``; ``search`` comes before
``{dataset_id}`` so that it is not read as an id."""
DATASET_READ_POSTS = frozenset({DATASETS_PREFIX + "/datasets/search"})
_KEYS = frozenset({"name", "created_time", "last_update_time", "created_by", "last_updated_by"})
_NUMERIC = frozenset({"created_time", "last_update_time"})
_ORDER_KEYS = {key: key for key in ("name", "created_time", "last_update_time")}
_DEFAULT_ORDER = ("created_time DESC",)
_DEFAULT_RECORDS_PAGE = 1000


def dataset_json(dataset: EvaluationDataset) -> dict[str, Any]:
    """MLflow's ``Dataset`` message: tags as a JSON string, optional fields only when set."""
    shown: dict[str, Any] = {
        "dataset_id": dataset.dataset_id,
        "name": dataset.name,
        "tags": json.dumps(dict(dataset.tags)),
        "digest": dataset.digest,
        "created_time": dataset.created_time,
        "last_update_time": dataset.last_update_time,
    }
    for field in ("schema", "profile", "created_by", "last_updated_by"):
        value = getattr(dataset, field)
        if value is not None:
            shown[field] = value
    if dataset.experiment_ids is not None:
        shown["experiment_ids"] = list(dataset.experiment_ids)
    return shown


def record_json(record: EvaluationRecord) -> dict[str, Any]:
    """A record as MLflow's ``DatasetRecord.to_dict`` gives it."""
    shown: dict[str, Any] = {
        "dataset_record_id": record.record_id,
        "dataset_id": record.dataset_id,
        "inputs": record.inputs,
        "tags": record.tags or {},
        "created_time": record.created_time,
        "last_update_time": record.last_update_time,
    }
    for field in (
        "outputs",
        "expectations",
        "source",
        "source_id",
        "source_type",
        "created_by",
        "last_updated_by",
    ):
        value = getattr(record, field)
        if value is not None:
            shown[field] = value
    return shown


def _json_string(body: dict[str, Any], name: str, kind: type) -> Any:
    """The JSON value of string field ``name`` (MLflow sends tags and records as JSON text)."""
    text = body.get(name)
    if text in (None, ""):
        return kind()
    if not isinstance(text, str):
        raise InvalidInputError(f"{name} must be a JSON string")
    value = parse_json_text(text, name)
    if not isinstance(value, kind):
        raise InvalidInputError(f"{name} must hold a JSON {kind.__name__}")
    return value


def _cursor(token: str | None) -> tuple[int, str] | None:
    if not token:
        return None
    try:
        created, _, record_id = base64.b64decode(token, validate=True).decode().partition(":")
        return int(created), record_id
    except (binascii.Error, ValueError, UnicodeError):
        raise InvalidInputError(f"invalid page_token {token[:100]!r}") from None


def _value(dataset: EvaluationDataset, key: str) -> Any:
    return getattr(dataset, key)


class DatasetsApi:
    """Handlers for the evaluation-dataset endpoints, over one ``Tracker``'s store."""

    def __init__(self, tracker: Tracker) -> None:
        self.store = tracker.store

    def routes(self) -> list[Route]:
        return [
            Route(
                DATASETS_PREFIX + path.replace("{key}", "{key:path}"),
                json_endpoint(handler, LOG_BATCH_BODY if "records" in path else MAX_JSON_BODY),
                methods=[method],
            )
            for method, path, handler in self.handlers()
        ]

    def handlers(self) -> list[tuple[str, str, Handler]]:
        return [(method, path, getattr(self, name)) for method, path, name in DATASET_ENDPOINTS]

    def create_dataset(self, body: dict[str, Any]) -> dict[str, Any]:
        dataset = self.store.create_evaluation_dataset(
            str(string_field(body, "name")),
            _json_string(body, "tags", dict),
            strings_field(body, "experiment_ids"),
        )
        return {"dataset": dataset_json(dataset)}

    def get_dataset(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"dataset": dataset_json(self.store.get_evaluation_dataset(body["dataset_id"]))}

    def delete_dataset(self, body: dict[str, Any]) -> dict[str, Any]:
        self.store.delete_evaluation_dataset(body["dataset_id"])
        return {}

    def search_datasets(self, body: dict[str, Any]) -> dict[str, Any]:
        filter_text = string_field(body, "filter_string", required=False)
        clauses = parse_registry_filter(filter_text, _KEYS, numeric=_NUMERIC, listed={"name"})
        limit = int_field(body, "max_results") or MAX_EVALUATION_RESULTS
        if not 0 < limit <= MAX_EVALUATION_RESULTS:
            raise InvalidInputError(
                f"max_results must be between 1 and {MAX_EVALUATION_RESULTS}, got {limit}"
            )
        order_by = strings_field(body, "order_by")
        found = [
            d
            for d in self.store.evaluation_datasets(strings_field(body, "experiment_ids"))
            if matches(clauses, {key: getattr(d, key) for key in _KEYS}, d.tags)
        ]
        found.sort(key=lambda d: d.dataset_id, reverse=True)  # MLflow's tie-break
        ordered = sort_by(found, order_by, _DEFAULT_ORDER, _value, keys=_ORDER_KEYS)
        chunk, token = page(ordered, limit, string_field(body, "page_token", required=False))
        response: dict[str, Any] = {"datasets": [dataset_json(d) for d in chunk]}
        if token:
            response["next_page_token"] = token
        return response

    def set_dataset_tags(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("tags") in (None, ""):
            raise InvalidInputError("missing value for required parameter 'tags'")
        self.store.set_evaluation_dataset_tags(body["dataset_id"], _json_string(body, "tags", dict))
        return {}

    def delete_dataset_tag(self, body: dict[str, Any]) -> dict[str, Any]:
        self.store.delete_evaluation_dataset_tag(body["dataset_id"], body["key"])
        return {}

    def upsert_dataset_records(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("records") in (None, ""):
            raise InvalidInputError("missing value for required parameter 'records'")
        records = _json_string(body, "records", list)
        inserted, updated = self.store.upsert_evaluation_records(body["dataset_id"], records)
        return {"inserted_count": inserted, "updated_count": updated}

    def get_dataset_records(self, body: dict[str, Any]) -> dict[str, Any]:
        limit = int_field(body, "max_results") or _DEFAULT_RECORDS_PAGE
        if not 0 < limit <= _DEFAULT_RECORDS_PAGE:
            raise InvalidInputError(
                f"max_results must be between 1 and {_DEFAULT_RECORDS_PAGE}, got {limit}"
            )
        after = _cursor(string_field(body, "page_token", required=False))
        records, last = self.store.evaluation_records(body["dataset_id"], limit, after)
        response: dict[str, Any] = {"records": json.dumps([record_json(r) for r in records])}
        if last is not None:
            response["next_page_token"] = base64.b64encode(f"{last[0]}:{last[1]}".encode()).decode()
        return response

    def delete_dataset_records(self, body: dict[str, Any]) -> dict[str, Any]:
        ids = strings_field(body, "dataset_record_ids")
        return {"deleted_count": self.store.delete_evaluation_records(body["dataset_id"], ids)}

    def get_dataset_experiment_ids(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"experiment_ids": self.store.evaluation_dataset_experiments(body["dataset_id"])}

    def add_dataset_to_experiments(self, body: dict[str, Any]) -> dict[str, Any]:
        dataset = self.store.add_evaluation_dataset_experiments(
            body["dataset_id"], strings_field(body, "experiment_ids")
        )
        return {"dataset": dataset_json(dataset)}

    def remove_dataset_from_experiments(self, body: dict[str, Any]) -> dict[str, Any]:
        dataset = self.store.remove_evaluation_dataset_experiments(
            body["dataset_id"], strings_field(body, "experiment_ids")
        )
        return {"dataset": dataset_json(dataset)}
