"""The UDF's return type comes from the signature alone; PySpark stays optional."""

from __future__ import annotations

import subprocess
import sys

import pytest

from shipyard.errors import ConfigError
from shipyard.models.signature import Signature
from shipyard.spark.schema import spark_schema


@pytest.fixture
def pyspark() -> object:
    return pytest.importorskip("pyspark", reason="pip install 'shipyard[spark]'")


def _signature(*outputs: tuple[str, str, list[int]]) -> Signature:
    return Signature.from_dict(
        {
            "input_kind": "columns",
            "inputs": [{"name": "x", "dtype": "FP64", "shape": [-1]}],
            "outputs": [{"name": n, "dtype": d, "shape": s} for n, d, s in outputs],
        }
    )


def test_numpy_dtypes_map_to_spark_types_and_2d_outputs_to_arrays(pyspark: object) -> None:
    signature = _signature(
        ("a", "FP64", [-1]),
        ("b", "FP32", [-1]),
        ("c", "INT64", [-1]),
        ("d", "INT32", [-1]),
        ("e", "BOOL", [-1]),
        ("f", "BYTES", [-1]),
        ("g", "FP32", [-1, 3]),
    )

    assert spark_schema(signature, "fail").simpleString() == (
        "struct<a:double,b:float,c:bigint,d:int,e:boolean,f:string,g:array<float>>"
    )
    assert spark_schema(signature, "skip").fieldNames()[-1] == "_rejected"


def test_a_signature_without_outputs_is_refused_with_how_to_fix_it(pyspark: object) -> None:
    with pytest.raises(ConfigError, match="names no outputs"):
        spark_schema(_signature(), "fail")


def test_import_shipyard_and_the_udf_module_load_no_pyspark() -> None:
    code = "import sys, shipyard; shipyard.spark_udf; print('pyspark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_missing_pyspark_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from shipyard.spark.udf import spark_udf

    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(ConfigError, match=r"pip install 'shipyard\[spark\]'"):
        spark_udf(None, "iris@production")  # type: ignore[arg-type]
