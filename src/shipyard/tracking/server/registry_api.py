"""MLflow's model registry REST API (``registered-models/*``, ``model-versions/*``) as a view of
Shipyard's registry.

There is one registry: a version registered through MLflow (``mlflow.register_model``,
``log_model(..., registered_model_name=...)``) is a Shipyard version that ``shipyard serve``,
``build``, ``deploy`` and ``predict`` take, and versions saved with ``shipyard.save_model`` are
listed and searched here. MLflow's aliases are Shipyard's aliases (every move is in the audit
history, with the access key's name as the actor, or the server's user when it has no keys), its
version tags are version tags, and its stages map onto the aliases ``production`` and ``staging``
(``registry_json.py``). Semantics follow MLflow's SQL store: error codes, default orders
(versions by ``last_updated_timestamp DESC, name ASC, version_number DESC``, models by name),
``max_results`` limits and offset page tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shipyard.errors import InvalidInputError, NotFoundError
from shipyard.refs import validate_alias
from shipyard.registry.metadata.catalog import Catalog, ModelInfo, VersionInfo
from shipyard.registry.registry import Registry
from shipyard.tracking.server.mlflow_json import int_field, pairs, string_field
from shipyard.tracking.server.mlflow_sources import register_source, source_location
from shipyard.tracking.server.registry_json import (
    ALL_STAGES,
    STAGE_ALIASES,
    canonical_stage,
    model_version_json,
    registered_model_json,
    stage_of,
)
from shipyard.tracking.server.registry_search import (
    MODEL_KEYS,
    VERSION_KEYS,
    RegistryClause,
    matches,
    order_terms,
    page,
    page_offset,
    page_token,
    parse_registry_filter,
    sort_by,
)
from shipyard.tracking.tracker import Tracker
from shipyard.web.bodies import MAX_JSON_BODY, parse_json_object, read_body
from shipyard.web.responses import JSONBody

__all__ = ["REGISTRY_ENDPOINTS", "REGISTRY_READ_POSTS", "RegistryApi"]

PREFIX = "/api/2.0/mlflow"
REGISTRY_ENDPOINTS = (
    ("POST", "/registered-models/create", "create_registered_model"),
    ("POST", "/registered-models/rename", "rename_registered_model"),
    ("PATCH", "/registered-models/update", "update_registered_model"),
    ("DELETE", "/registered-models/delete", "delete_registered_model"),
    ("GET", "/registered-models/get", "get_registered_model"),
    ("GET", "/registered-models/search", "search_registered_models"),
    ("POST", "/registered-models/get-latest-versions", "get_latest_versions"),
    ("GET", "/registered-models/get-latest-versions", "get_latest_versions"),
    ("POST", "/registered-models/set-tag", "set_registered_model_tag"),
    ("DELETE", "/registered-models/delete-tag", "delete_registered_model_tag"),
    ("POST", "/registered-models/alias", "set_registered_model_alias"),
    ("DELETE", "/registered-models/alias", "delete_registered_model_alias"),
    ("GET", "/registered-models/alias", "get_model_version_by_alias"),
    ("POST", "/model-versions/create", "create_model_version"),
    ("PATCH", "/model-versions/update", "update_model_version"),
    ("POST", "/model-versions/transition-stage", "transition_model_version_stage"),
    ("DELETE", "/model-versions/delete", "delete_model_version"),
    ("GET", "/model-versions/get", "get_model_version"),
    ("GET", "/model-versions/search", "search_model_versions"),
    ("GET", "/model-versions/get-download-uri", "get_model_version_download_uri"),
    ("POST", "/model-versions/set-tag", "set_model_version_tag"),
    ("DELETE", "/model-versions/delete-tag", "delete_model_version_tag"),
)
"""``(method, path under /api/2.0/mlflow, RegistryApi method)`` of every registry endpoint."""
REGISTRY_READ_POSTS = frozenset({PREFIX + "/registered-models/get-latest-versions"})
_LISTS = ("order_by", "stages")
"""Query parameters a GET may repeat (``?order_by=a&order_by=b``)."""
MAX_MODEL_RESULTS = 1000
MAX_VERSION_RESULTS = 200_000
_VERSION_ORDER = ("last_updated_timestamp DESC", "name ASC", "version_number DESC")
Handler = Callable[[dict[str, Any], str], dict[str, Any]]


class RegistryApi:
    """Handlers for MLflow's model registry endpoints over Shipyard's registry."""

    def __init__(self, tracker: Tracker, registry: Registry) -> None:
        self.tracker = tracker
        self.registry = registry
        self.catalog = Catalog(registry.metadata.engine)

    def routes(self) -> list[Route]:
        return [
            Route(PREFIX + path, self._endpoint(getattr(self, name)), methods=[method])
            for method, path, name in REGISTRY_ENDPOINTS
        ]

    def _endpoint(self, handler: Handler) -> Callable[[Request], Any]:
        user = self.registry.user

        async def endpoint(request: Request) -> Response:
            if request.method == "GET":
                query = request.query_params
                body: dict[str, Any] = {
                    key: query.getlist(key) if key in _LISTS else query[key] for key in query
                }
            else:
                body = parse_json_object(await read_body(request, MAX_JSON_BODY))
            actor = request.scope.get("state", {}).get("access_key") or user
            result = await run_in_threadpool(handler, body, actor)
            return JSONBody(result)

        return endpoint

    def _as(self, actor: str) -> Registry:
        return self.registry.acting_as(actor)

    # -- registered models ---------------------------------------------------------------------

    def create_registered_model(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        name = _name(body)
        tags = dict(pairs(body.get("tags"), "tag"))
        model = self.catalog.create_model(name, _description(body), tags)
        return {"registered_model": registered_model_json(model)}

    def rename_registered_model(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        name = _name(body)
        new_name = string_field(body, "new_name")
        model = self.catalog.rename_model(name, str(new_name))
        return {"registered_model": registered_model_json(model, self._latest(model))}

    def update_registered_model(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        model = self.catalog.describe_model(_name(body), _description(body))
        return {"registered_model": registered_model_json(model, self._latest(model))}

    def delete_registered_model(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        name = _name(body)
        model = self.catalog.model(name)
        if model.latest_version is not None and self.registry.list_versions(name):
            self._as(actor).delete_all(name, force=True)
        self.catalog.mark_deleted(name)
        return {}

    def get_registered_model(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        model = self.catalog.model(_name(body))
        return {"registered_model": registered_model_json(model, self._latest(model))}

    def search_registered_models(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        clauses = parse_registry_filter(string_field(body, "filter", required=False), MODEL_KEYS)
        limit = _max_results(body, 100, MAX_MODEL_RESULTS)
        found = [m for m in self.catalog.models() if matches(clauses, {"name": m.name}, m.tags)]
        ordered = sort_by(found, _order_by(body), ("name ASC",), _model_value)
        chunk, token = page(ordered, limit, string_field(body, "page_token", required=False))
        latest = self._latest_of(chunk)
        response: dict[str, Any] = {
            "registered_models": [registered_model_json(m, latest[m.name]) for m in chunk]
        }
        if token:
            response["next_page_token"] = token
        return response

    def get_latest_versions(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        model = self.catalog.model(_name(body))
        stages = body.get("stages") or list(ALL_STAGES)
        if isinstance(stages, str):
            stages = [stages]
        if not isinstance(stages, list):
            raise InvalidInputError("stages must be a list of stage names")
        wanted = {canonical_stage(stage) for stage in stages}
        latest = [v for v in self._latest(model) if stage_of(v.aliases) in wanted]
        return {"model_versions": [model_version_json(v) for v in latest]}

    def set_registered_model_tag(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        key = _tag_key(body)
        self.catalog.set_model_tag(_name(body), key, _tag_value(body))
        return {}

    def delete_registered_model_tag(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        self.catalog.delete_model_tag(_name(body), _tag_key(body))
        return {}

    def set_registered_model_alias(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        name = _name(body)
        alias = _alias(body)
        self.catalog.model(name)
        self._as(actor).set_alias(name, alias, _version(body))
        return {}

    def delete_registered_model_alias(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        name = _name(body)
        self.catalog.model(name)
        self._as(actor).remove_alias(name, _alias(body))
        return {}

    def get_model_version_by_alias(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        name, alias = _name(body), _alias(body)
        found = self.catalog.version_by_alias(name, alias)
        if found is None:
            self.catalog.model(name)  # RESOURCE_DOES_NOT_EXIST names the model when it is absent
            raise NotFoundError(f"Registered model alias {alias} not found.")
        return {"model_version": model_version_json(found)}

    # -- model versions ------------------------------------------------------------------------

    def create_model_version(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        name = _name(body)
        source = str(string_field(body, "source"))
        self.catalog.model(name)  # MLflow asks for the registered model first
        model_id = string_field(body, "model_id", required=False)
        created = register_source(
            self.tracker,
            self._as(actor),
            name,
            f"models:/{model_id}" if model_id and not source.startswith("models:/") else source,
            run_id=string_field(body, "run_id", required=False),
            tags=dict(pairs(body.get("tags"), "tag")),
        )
        description = _description(body)
        if description:
            self.catalog.describe_version(name, created.version, description)
        return {"model_version": model_version_json(self._version(name, created.version))}

    def update_model_version(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        name, number = _name(body), _version(body)
        self.catalog.describe_version(name, number, _description(body))
        return {"model_version": model_version_json(self._version(name, number))}

    def transition_model_version_stage(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        name, number = _name(body), _version(body)
        stage = canonical_stage(body.get("stage"))
        version = self._version(name, number)
        registry = self._as(actor)
        if stage in STAGE_ALIASES:
            registry.set_alias(name, STAGE_ALIASES[stage], number)
        for other, alias in STAGE_ALIASES.items():
            if other != stage and alias in version.aliases:
                registry.remove_alias(name, alias)
        return {"model_version": model_version_json(self._version(name, number))}

    def delete_model_version(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        name, number = _name(body), _version(body)
        self._version(name, number)
        self._as(actor).delete(f"{name}:{number}", force=True)
        return {}

    def get_model_version(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        return {"model_version": model_version_json(self._version(_name(body), _version(body)))}

    def search_model_versions(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        clauses = parse_registry_filter(string_field(body, "filter", required=False), VERSION_KEYS)
        limit = _max_results(body, 10_000, MAX_VERSION_RESULTS)
        names, run_ids = _pushed_down(clauses, "name"), _pushed_down(clauses, "run_id")
        token = string_field(body, "page_token", required=False)
        if all(_in_query(c) for c in clauses):  # filter, order and page in the query
            offset = page_offset(token)
            rows = self.catalog.versions(
                names,
                run_ids=run_ids,
                tags={c.key: str(c.value) for c in clauses if c.is_tag},
                order=order_terms(_order_by(body), _VERSION_ORDER),
                offset=offset,
                limit=limit + 1,
            )
            shown: dict[str, Any] = {
                "model_versions": [model_version_json(v) for v in rows[:limit]]
            }
            if len(rows) > limit:
                shown["next_page_token"] = page_token(offset + limit)
            return shown
        found = [
            v
            for v in self.catalog.versions(names, run_ids=run_ids)
            if matches(clauses, _version_attributes(v), v.tags)
        ]
        ordered = sort_by(found, _order_by(body), _VERSION_ORDER, _version_value)
        chunk, following = page(ordered, limit, token)
        response: dict[str, Any] = {"model_versions": [model_version_json(v) for v in chunk]}
        if following:
            response["next_page_token"] = following
        return response

    def get_model_version_download_uri(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        version = self._version(_name(body), _version(body))
        if not version.source:
            raise InvalidInputError(
                f"{version.name}:{version.version} was saved with shipyard.save_model, not in "
                "MLflow's format: fetch it with `shipyard models export`"
            )
        location, _ = source_location(self.tracker, version.source)
        return {"artifact_uri": f"mlflow-artifacts:/{location}"}

    def set_model_version_tag(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        name, number = _name(body), _version(body)
        self._version(name, number)
        self.registry.set_tags(f"{name}:{number}", {_tag_key(body): _tag_value(body)})
        return {}

    def delete_model_version_tag(self, body: dict[str, Any], actor: str) -> dict[str, Any]:
        name, number = _name(body), _version(body)
        key = _tag_key(body)
        if key in self._version(name, number).tags:  # an absent key is no error, as in MLflow
            self.registry.remove_tags(f"{name}:{number}", [key])
        return {}

    # -- lookups -------------------------------------------------------------------------------

    def _version(self, name: str, number: int) -> VersionInfo:
        found = self.catalog.versions([name], pairs=[(name, number)])
        if not found:
            raise NotFoundError(f"Model Version (name={name}, version={number}) not found")
        return found[0]

    def _latest(self, model: ModelInfo) -> list[VersionInfo]:
        return self._latest_of([model])[model.name]

    def _latest_of(self, models: list[ModelInfo]) -> dict[str, list[VersionInfo]]:
        """Per model, its latest version in each stage (MLflow's ``latest_versions``)."""
        wanted: set[tuple[str, int]] = set()
        for model in models:
            if model.latest_version is not None:
                wanted.add((model.name, model.latest_version))
            wanted.update(
                (model.name, v) for a, v in model.aliases.items() if a in STAGE_ALIASES.values()
            )
        found = self.catalog.versions(None, pairs=sorted(wanted)) if wanted else []
        latest: dict[str, list[VersionInfo]] = {model.name: [] for model in models}
        for name in latest:
            by_stage: dict[str, VersionInfo] = {}
            for version in (v for v in found if v.name == name):
                stage = stage_of(version.aliases)
                if stage not in by_stage or by_stage[stage].version < version.version:
                    by_stage[stage] = version
            latest[name] = sorted(by_stage.values(), key=lambda v: v.version)
        return latest


def _name(body: dict[str, Any]) -> str:
    return str(string_field(body, "name"))


def _alias(body: dict[str, Any]) -> str:
    return validate_alias(str(string_field(body, "alias")))


def _version(body: dict[str, Any]) -> int:
    number = int_field(body, "version")
    if number is None:
        raise InvalidInputError("missing value for required parameter 'version'")
    if number < 1:
        raise InvalidInputError(f"version must be a positive integer, got {number}")
    return number


def _description(body: dict[str, Any]) -> str:
    value = body.get("description")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInputError(f"description must be a string, got {value!r}")
    return value


def _tag_key(body: dict[str, Any]) -> str:
    key = str(string_field(body, "key"))
    if len(key) > 250:
        raise InvalidInputError(f"tag key is {len(key)} characters long: at most 250")
    return key


def _tag_value(body: dict[str, Any]) -> str:
    value = body.get("value", "")
    return value if isinstance(value, str) else str(value)


def _max_results(body: dict[str, Any], default: int, highest: int) -> int:
    limit = int_field(body, "max_results", default)
    if limit is None or not 0 < limit <= highest:
        raise InvalidInputError(f"max_results must be between 1 and {highest}, got {limit}")
    return limit


def _order_by(body: dict[str, Any]) -> list[str]:
    order_by = body.get("order_by") or []
    if isinstance(order_by, str):
        order_by = [order_by]
    if not isinstance(order_by, list) or not all(isinstance(t, str) for t in order_by):
        raise InvalidInputError("order_by must be a list of strings like 'name ASC'")
    return order_by


def _in_query(clause: RegistryClause) -> bool:
    """Whether the version query does what ``clause`` asks (``=``/``IN`` on name and run id,
    ``=`` on a tag)."""
    if clause.is_tag:
        return clause.op == "="
    return clause.key in ("name", "run_id") and clause.op in ("=", "IN")


def _pushed_down(clauses: tuple[RegistryClause, ...], key: str) -> list[str] | None:
    """The values an ``=`` or ``IN`` clause on ``key`` allows (a query can filter by them)."""
    for clause in clauses:
        if clause.key == key and not clause.is_tag:
            if clause.op == "=":
                return [str(clause.value)]
            if clause.op == "IN":
                return list(clause.value)  # type: ignore[arg-type]
    return None


def _version_attributes(version: VersionInfo) -> dict[str, Any]:
    return {
        "name": version.name,
        "run_id": version.run_id,
        "source_path": version.source,
        "version_number": version.version,
    }


def _version_value(version: VersionInfo, key: str) -> Any:
    return {
        "name": version.name,
        "version_number": version.version,
        "creation_timestamp": version.created_at,
        "last_updated_timestamp": version.updated_at,
    }[key]


def _model_value(model: ModelInfo, key: str) -> Any:
    if key in ("creation_timestamp",):
        return model.created_at
    if key == "last_updated_timestamp":
        return model.updated_at
    if key == "name":
        return model.name
    raise InvalidInputError(
        f"invalid order_by key {key!r} for registered models: use name or last_updated_timestamp"
    )
