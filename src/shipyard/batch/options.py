"""What a batch job is asked to do (``BatchOptions``) and what it did (``BatchResult``).

Both are frozen values: the CLI (or a pipeline step) builds the options once and hands them to
``predict_file``; the result says how many rows were scored and rejected and where they went.

    >>> options = BatchOptions(output_format="csv", keep=("id",), on_error="skip")
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

from shipyard.errors import ConfigError

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "FORMATS",
    "BatchOptions",
    "BatchResult",
    "DataFormat",
    "OnError",
    "format_for",
]

DataFormat = Literal["parquet", "csv", "jsonl"]
OnError = Literal["fail", "skip"]

FORMATS: tuple[DataFormat, ...] = get_args(DataFormat)
DEFAULT_BATCH_ROWS: dict[DataFormat, int] = {"parquet": 65_536, "csv": 16_384, "jsonl": 16_384}
"""Rows per model call when ``--batch-rows`` is not given, by input format: large enough that
per-call costs (the model's own dispatch, one part file and manifest line a chunk) stay a few
percent of the work, small enough for flat memory. Text formats hold each value as text until it
is checked, about three times the bytes of a typed Parquet value, so their chunks are a quarter
as long (see docs/benchmarks/batch.md)."""
_SUFFIXES: dict[str, DataFormat] = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


def format_for(path: str, given: str | None = None) -> DataFormat:
    """The data format: ``given`` when set, else from the file name's suffix."""
    if given is not None:
        if given not in FORMATS:
            raise ConfigError(f"unknown format {given!r}: use one of {', '.join(FORMATS)}")
        return given
    name = path.rstrip("/").rsplit("/", 1)[-1].lower()
    for suffix, fmt in _SUFFIXES.items():
        if name.endswith(suffix):
            return fmt
    raise ConfigError(
        f"cannot tell the format of {path!r} from its name: pass --format "
        f"({', '.join(FORMATS)}) or name it *.parquet, *.csv or *.jsonl"
    )


@dataclass(frozen=True, slots=True)
class BatchOptions:
    """How to score: formats, chunk size, which columns, bad rows, resume.

    ``threads`` > 1 calls the model on that many chunks at once: only for models whose predict
    is thread-safe (scikit-learn, XGBoost, LightGBM, ONNX Runtime are)."""

    input_format: DataFormat | None = None
    output_format: DataFormat | None = None
    batch_rows: int | None = None  # None: DEFAULT_BATCH_ROWS for the input format
    columns: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    on_error: OnError = "fail"
    resume: bool = False
    overwrite: bool = False
    rejects: str | None = None
    prediction_log: str | None = None
    threads: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.threads <= 64:
            raise ConfigError(f"--threads {self.threads} is out of range: use 1-64")
        if self.batch_rows is not None and not 1 <= self.batch_rows <= 10_000_000:
            raise ConfigError(f"--batch-rows {self.batch_rows} is out of range: use 1-10000000")
        if self.on_error not in get_args(OnError):
            raise ConfigError(f"--on-error {self.on_error!r}: use 'fail' or 'skip'")
        for fmt in (self.input_format, self.output_format):
            if fmt is not None and fmt not in FORMATS:
                raise ConfigError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
        if len(set(self.keep)) != len(self.keep):
            raise ConfigError(f"--keep names a column twice: {list(self.keep)}")

    def rows_per_chunk(self, input_format: DataFormat) -> int:
        """``batch_rows``, or the default for ``input_format``."""
        return self.batch_rows or DEFAULT_BATCH_ROWS[input_format]


@dataclass(frozen=True, slots=True)
class BatchResult:
    """A finished batch job."""

    model_name: str
    model_version: int | None
    input: str
    output: str
    output_format: DataFormat
    rows_read: int
    rows_written: int
    rows_rejected: int
    chunks: int
    resumed_chunks: int
    seconds: float
    rejects: str | None = None
    columns: tuple[str, ...] = field(default=())

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["columns"] = list(self.columns)
        data["rows_per_second"] = round(self.rows_per_second, 1)
        return data
