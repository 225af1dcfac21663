"""The monitoring facade: a model reference in, a stored ``DriftReport`` out.

It resolves the version in the registry, reads its reference profile, compacts new log lines
into the model's ``LogStore`` (``SHIPYARD_HOME/monitor/<name>``), analyses the windows with the
labels received so far and stores each window's result in the registry database.

    >>> with Monitor.open(settings, "iris@production") as monitor:
    ...     report = monitor.update(MonitorOptions(logs="/var/log/predictions.jsonl"))
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType

from shipyard.config import Settings
from shipyard.models.profile import ReferenceProfile
from shipyard.monitor.analyze import AnalysisOptions, Analyzer
from shipyard.monitor.compact import LogStore
from shipyard.monitor.flat_rows import ReadStats
from shipyard.monitor.reference import Reference, build_reference
from shipyard.monitor.results import DriftReport
from shipyard.monitor.store import ResultStore
from shipyard.refs import ModelRef
from shipyard.registry import Registry
from shipyard.registry.entities import ModelVersion

__all__ = ["Monitor", "MonitorOptions", "expected_metrics"]

METRIC_TAG_PREFIX = "metrics."


@dataclass(frozen=True, slots=True)
class MonitorOptions:
    """Where the log is and how to analyse it."""

    analysis: AnalysisOptions
    logs: str | None = None
    final: bool = True  # False for a live log: leave its unterminated last line for later


def expected_metrics(version: ModelVersion) -> dict[str, float]:
    """Metrics recorded at save time as tags ``metrics.<name>=<value>`` (e.g. metrics.accuracy)."""
    out: dict[str, float] = {}
    for key, value in version.tags.items():
        if key.startswith(METRIC_TAG_PREFIX):
            try:
                out[key.removeprefix(METRIC_TAG_PREFIX)] = float(value)
            except ValueError:
                continue
    return out


class Monitor:
    """One model version's monitoring: its log store, its reference, its stored results."""

    def __init__(self, registry: Registry, version: ModelVersion, profile: ReferenceProfile | None):
        self.registry = registry
        self.version = version
        self.profile = profile
        self.logs = LogStore(registry.home / "monitor" / version.name)
        self.results = ResultStore(registry.metadata.engine)
        self._analyzer: Analyzer | None = None
        self._columns: tuple[str, ...] = ()

    @classmethod
    def open(cls, settings: Settings, ref: str) -> Monitor:
        registry = Registry.from_settings(settings)
        try:
            version = registry.get(ModelRef.parse(ref))
            profile = None
            path = version.manifest.profile_path
            if path is not None:
                profile = ReferenceProfile.read(Path(registry.fetch(version.ref)) / path)
            return cls(registry, version, profile)
        except BaseException:
            registry.close()
            raise

    def close(self) -> None:
        self.registry.close()

    def __enter__(self) -> Monitor:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def ingest(self, logs: str, *, final: bool = True) -> ReadStats:
        """Compact what is new in ``logs`` into this model's store."""
        return self.logs.compact(logs, final=final)

    def update(self, options: MonitorOptions) -> DriftReport:
        """Ingest (when ``logs`` is given), analyse every window and store the results."""
        if options.logs is not None:
            self.ingest(options.logs, final=options.final)
        analysis = replace(
            options.analysis,
            version=self.version.version,
            expected=options.analysis.expected or expected_metrics(self.version),
        )
        dataset = self.logs.dataset()
        columns = tuple(dataset.schema.names) if dataset is not None else ()
        analyzer = self._analyzer
        if analyzer is None or analyzer.options != analysis or self._columns != columns:
            analyzer = self._analyzer = Analyzer(self._reference(list(columns)), analysis)
            self._columns = columns
        reference = analyzer.reference
        feedback = self.results.feedback_table(self.version.name)
        windows = analyzer.run(dataset, feedback)
        report = DriftReport(
            model=self.version.name,
            version=self.version.version,
            window=analysis.window.label,
            method=analysis.method,
            windows=tuple(windows),
            notes=reference.notes,
            read=self.logs.totals().to_dict(),
        )
        self.results.save_windows(report)
        return report

    def reference(self) -> Reference:
        """The reference of the last analysis (built from the log's columns)."""
        if self._analyzer is not None:
            return self._analyzer.reference
        dataset = self.logs.dataset()
        return self._reference(list(dataset.schema.names) if dataset is not None else [])

    def _reference(self, columns: list[str]) -> Reference:
        if self.profile is None:
            note = (
                f"{self.version.ref} was saved without reference_data: drift is not tested "
                "(only quality counts that need no reference, and accuracy); save a version with "
                "shipyard.save_model(..., reference_data=X_train)"
            )
            return Reference(0, (), (), (note,))
        return build_reference(self.profile, columns)
