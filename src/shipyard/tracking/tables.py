"""The tracking stage's tables (SQLAlchemy Core); migration ``0003_tracking`` creates them.

tracking_experiments     one row per experiment (id 0 is MLflow's "Default")
tracking_experiment_tags key/value tags of an experiment
tracking_runs            one row per run: status, times, heartbeat (stale detection)
tracking_run_params      immutable parameters, one row per (run, key)
tracking_run_tags        mutable tags, one row per (run, key)
tracking_metric_history  every logged metric value (append only)
tracking_latest_metrics  the latest value per (run, key): searching and listing read only this
tracking_run_environment what a run ran on: git, Python, packages, host, argv (JSON)
tracking_run_models      model versions registered from a run (run -> version lineage)
tracking_artifact_files  run artifact paths -> content-addressed blobs in the artifact store

Migration ``0006_tracking_mlflow3`` adds MLflow 3's logged models and datasets:

tracking_logged_models        one row per logged model (``m-<hex>``): status, source run, location
tracking_logged_model_params  immutable parameters of a logged model
tracking_logged_model_tags    mutable tags of a logged model
tracking_logged_model_metrics every metric value logged with a ``model_id`` (and its dataset)
tracking_datasets             a dataset an experiment's runs used, once per (name, digest)
tracking_run_datasets         run -> dataset inputs, with the input's tags (``mlflow.data.context``)
tracking_run_model_links      run -> logged models it took as inputs or produced as outputs

Migration ``0008_evaluation_datasets`` adds MLflow's GenAI evaluation datasets (``d-<hex>``):

tracking_evaluation_datasets            name, digest, schema and profile (JSON), who and when
tracking_evaluation_dataset_tags        key/value tags of a dataset
tracking_evaluation_dataset_experiments the experiments a dataset belongs to (ids, not checked)
tracking_evaluation_dataset_records     its records (``dr-<hex>``), one per distinct inputs
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "artifact_files",
    "datasets",
    "evaluation_dataset_experiments",
    "evaluation_dataset_records",
    "evaluation_dataset_tags",
    "evaluation_datasets",
    "experiment_tags",
    "experiments",
    "latest_metrics",
    "logged_model_metrics",
    "logged_model_params",
    "logged_model_tags",
    "logged_models",
    "metadata",
    "metric_history",
    "run_datasets",
    "run_environment",
    "run_model_links",
    "run_models",
    "run_params",
    "run_tags",
    "runs",
]

metadata = sa.MetaData()


def _run_fk() -> sa.ForeignKey:
    return sa.ForeignKey("tracking_runs.run_id", ondelete="CASCADE")


experiments = sa.Table(
    "tracking_experiments",
    metadata,
    sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(500), nullable=False, unique=True),
    sa.Column("artifact_location", sa.String(1024), nullable=False),
    sa.Column("lifecycle_stage", sa.String(16), nullable=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_update_time", sa.BigInteger, nullable=False),
)

experiment_tags = sa.Table(
    "tracking_experiment_tags",
    metadata,
    sa.Column(
        "experiment_id",
        sa.Integer,
        sa.ForeignKey("tracking_experiments.experiment_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

runs = sa.Table(
    "tracking_runs",
    metadata,
    sa.Column("run_id", sa.String(32), primary_key=True),
    sa.Column(
        "experiment_id",
        sa.Integer,
        sa.ForeignKey("tracking_experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.String(250), nullable=False),
    sa.Column("user_id", sa.String(256), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("start_time", sa.BigInteger, nullable=False),
    sa.Column("end_time", sa.BigInteger, nullable=True),
    sa.Column("heartbeat_time", sa.BigInteger, nullable=True),
    sa.Column("lifecycle_stage", sa.String(16), nullable=False),
    sa.Column("artifact_uri", sa.String(1024), nullable=False),
    sa.Index("ix_tracking_runs_experiment_start", "experiment_id", "start_time"),
    sa.Index("ix_tracking_runs_status_heartbeat", "status", "heartbeat_time"),
)

run_params = sa.Table(
    "tracking_run_params",
    metadata,
    sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

run_tags = sa.Table(
    "tracking_run_tags",
    metadata,
    sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

metric_history = sa.Table(
    "tracking_metric_history",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("run_id", sa.String(32), _run_fk(), nullable=False),
    sa.Column("key", sa.String(250), nullable=False),
    sa.Column("value", sa.Float(precision=53), nullable=False),
    sa.Column("is_nan", sa.Boolean, nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Index("ix_tracking_metric_history_run_key_step", "run_id", "key", "step"),
)

latest_metrics = sa.Table(
    "tracking_latest_metrics",
    metadata,
    sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Float(precision=53), nullable=False),
    sa.Column("is_nan", sa.Boolean, nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Index("ix_tracking_latest_metrics_key_value", "key", "value"),
)

run_environment = sa.Table(
    "tracking_run_environment",
    metadata,
    sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
    sa.Column("environment", sa.JSON, nullable=False),
)

run_models = sa.Table(
    "tracking_run_models",
    metadata,
    sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
    sa.Column("model_name", sa.String(128), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("dataset_digest", sa.String(128), nullable=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

artifact_files = sa.Table(
    "tracking_artifact_files",
    metadata,
    sa.Column("path", sa.String(1024), primary_key=True),
    sa.Column("run_id", sa.String(32), _run_fk(), nullable=True, index=True),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)


def _experiment_fk() -> sa.ForeignKey:
    return sa.ForeignKey("tracking_experiments.experiment_id", ondelete="CASCADE")


def _model_fk() -> sa.ForeignKey:
    return sa.ForeignKey("tracking_logged_models.model_id", ondelete="CASCADE")


logged_models = sa.Table(
    "tracking_logged_models",
    metadata,
    sa.Column("model_id", sa.String(36), primary_key=True),
    sa.Column("experiment_id", sa.Integer, _experiment_fk(), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("artifact_location", sa.String(1024), nullable=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_update_time", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("status_message", sa.String(1000), nullable=True),
    sa.Column("lifecycle_stage", sa.String(16), nullable=False),
    sa.Column("model_type", sa.String(500), nullable=True),
    sa.Column("source_run_id", sa.String(32), nullable=True),
    sa.Index("ix_tracking_logged_models_experiment_created", "experiment_id", "creation_time"),
)

logged_model_params = sa.Table(
    "tracking_logged_model_params",
    metadata,
    sa.Column("model_id", sa.String(36), _model_fk(), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

logged_model_tags = sa.Table(
    "tracking_logged_model_tags",
    metadata,
    sa.Column("model_id", sa.String(36), _model_fk(), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

logged_model_metrics = sa.Table(
    "tracking_logged_model_metrics",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("model_id", sa.String(36), _model_fk(), nullable=False),
    sa.Column("key", sa.String(250), nullable=False),
    sa.Column("value", sa.Float(precision=53), nullable=False),
    sa.Column("is_nan", sa.Boolean, nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("run_id", sa.String(32), nullable=True),
    sa.Column("dataset_name", sa.String(500), nullable=True),
    sa.Column("dataset_digest", sa.String(36), nullable=True),
    sa.Index("ix_tracking_logged_model_metrics_model_key", "model_id", "key"),
)

datasets = sa.Table(
    "tracking_datasets",
    metadata,
    sa.Column("dataset_id", sa.String(32), primary_key=True),
    sa.Column("experiment_id", sa.Integer, _experiment_fk(), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("digest", sa.String(36), nullable=False),
    sa.Column("source_type", sa.String(36), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("schema", sa.Text, nullable=True),
    sa.Column("profile", sa.Text, nullable=True),
    sa.UniqueConstraint(
        "experiment_id", "name", "digest", name="uq_tracking_datasets_experiment_name_digest"
    ),
)

run_datasets = sa.Table(
    "tracking_run_datasets",
    metadata,
    sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
    sa.Column(
        "dataset_id",
        sa.String(32),
        sa.ForeignKey("tracking_datasets.dataset_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

run_model_links = sa.Table(
    "tracking_run_model_links",
    metadata,
    sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
    sa.Column("direction", sa.String(8), primary_key=True),
    sa.Column("model_id", sa.String(36), primary_key=True),
    sa.Column("step", sa.BigInteger, primary_key=True),
)


def _evaluation_dataset_fk() -> sa.ForeignKey:
    return sa.ForeignKey("tracking_evaluation_datasets.dataset_id", ondelete="CASCADE")


evaluation_datasets = sa.Table(
    "tracking_evaluation_datasets",
    metadata,
    sa.Column("dataset_id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("schema", sa.Text, nullable=True),
    sa.Column("profile", sa.Text, nullable=True),
    sa.Column("created_time", sa.BigInteger, nullable=False),
    sa.Column("last_update_time", sa.BigInteger, nullable=False),
    sa.Column("created_by", sa.String(255), nullable=True),
    sa.Column("last_updated_by", sa.String(255), nullable=True),
)

evaluation_dataset_tags = sa.Table(
    "tracking_evaluation_dataset_tags",
    metadata,
    sa.Column("dataset_id", sa.String(36), _evaluation_dataset_fk(), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

evaluation_dataset_experiments = sa.Table(
    "tracking_evaluation_dataset_experiments",
    metadata,
    sa.Column("dataset_id", sa.String(36), _evaluation_dataset_fk(), primary_key=True),
    sa.Column("experiment_id", sa.String(32), primary_key=True),
    sa.Column("created_time", sa.BigInteger, nullable=False),
)

evaluation_dataset_records = sa.Table(
    "tracking_evaluation_dataset_records",
    metadata,
    sa.Column("record_id", sa.String(36), primary_key=True),
    sa.Column("dataset_id", sa.String(36), _evaluation_dataset_fk(), nullable=False),
    sa.Column("input_hash", sa.String(64), nullable=False),
    sa.Column("inputs", sa.JSON, nullable=False),
    sa.Column("outputs", sa.JSON, nullable=True),
    sa.Column("expectations", sa.JSON, nullable=True),
    sa.Column("tags", sa.JSON, nullable=True),
    sa.Column("source", sa.JSON, nullable=True),
    sa.Column("source_id", sa.String(36), nullable=True),
    sa.Column("source_type", sa.String(255), nullable=True),
    sa.Column("created_time", sa.BigInteger, nullable=False),
    sa.Column("last_update_time", sa.BigInteger, nullable=False),
    sa.Column("created_by", sa.String(255), nullable=True),
    sa.Column("last_updated_by", sa.String(255), nullable=True),
    sa.UniqueConstraint(
        "dataset_id", "input_hash", name="uq_tracking_evaluation_dataset_records_inputs"
    ),
    sa.Index(
        "ix_tracking_evaluation_dataset_records_order", "dataset_id", "created_time", "record_id"
    ),
)
