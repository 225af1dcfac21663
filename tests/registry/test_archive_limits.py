"""Bounded imports: bombs, deep entries, many entries and oversized descriptors are refused while
the archive streams, with a clear message, ``--json`` and exit code 16 (nothing past a bound is
written)."""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shipyard.cli.main import app
from shipyard.config import ImportLimits, Settings
from shipyard.errors import IntegrityError, LimitExceededError
from shipyard.registry import Registry
from shipyard.registry.folder import DESCRIPTOR_FILE

from .conftest import MakeFolder

MiB = 1024 * 1024


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def exported(registry: Registry, make_folder: MakeFolder, tmp_path: Path) -> Path:
    """iris:1 exported, then deleted: an archive ready to import."""
    registry.publish("iris", *make_folder(b"honest weights"))
    archive = registry.export("iris:1", tmp_path / "iris.tar.gz")
    registry.delete("iris:1")
    return archive


def _entries(archive: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(archive) as reader:
        return [
            (m, reader.extractfile(m).read() if m.isfile() else b"")  # type: ignore[union-attr]
            for m in reader.getmembers()
        ]


def _header(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    return info.tobuf(format=tarfile.PAX_FORMAT)


def _zeros_bomb(path: Path, prefix: bytes, name: str, size: int) -> Path:
    """A gzip archive of ``prefix`` then one entry of ``size`` zero bytes, ~1 KB per MiB: its
    gzip members are concatenated, so building it costs nothing."""
    chunk = gzip.compress(b"\0" * MiB, compresslevel=9)
    with path.open("wb") as out:
        out.write(gzip.compress(prefix + _header(name, size)))
        for _ in range(size // MiB):
            out.write(chunk)
        out.write(gzip.compress(b"\0" * 1024))  # the end-of-archive blocks
    return path


def _tar_bytes(entries: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    """The entries as tar blocks, with no end-of-archive marker: more entries may follow."""
    blocks = []
    for member, data in entries:
        blocks.append(member.tobuf(format=tarfile.PAX_FORMAT))
        blocks.append(data + b"\0" * (-len(data) % tarfile.BLOCKSIZE))
    return b"".join(blocks)


def _scratch_is_empty(registry: Registry) -> bool:
    scratch = registry.home / "tmp"
    return not scratch.exists() or not any(scratch.iterdir())


def _declaring(entries: list[tuple[tarfile.TarInfo, bytes]], name: str, size: int) -> bytes:
    """The export's entries with a descriptor that also lists ``name`` of ``size`` bytes."""
    changed = []
    for member, data in entries:
        if member.name == DESCRIPTOR_FILE:
            descriptor = json.loads(data)
            descriptor["files"].append({"path": name, "sha256": "0" * 64, "size": size})
            data = json.dumps(descriptor).encode()
            member.size = len(data)
        changed.append((member, data))
    return _tar_bytes(changed)


def test_a_zeros_bomb_the_descriptor_declares_stops_at_the_ratio_limit(
    registry: Registry, exported: Path, tmp_path: Path
) -> None:
    prefix = _declaring(_entries(exported), "bomb.bin", 994 * MiB)
    bomb = _zeros_bomb(tmp_path / "bomb.tar.gz", prefix, "bomb.bin", 994 * MiB)
    assert bomb.stat().st_size < 2 * MiB

    started = time.monotonic()
    with pytest.raises(LimitExceededError, match="compression bomb") as caught:
        registry.import_archive(bomb)

    assert time.monotonic() - started < 10
    unpacked = int(re.search(r"\((\d+) bytes from", str(caught.value)).group(1))  # type: ignore[union-attr]
    assert unpacked < ImportLimits.RATIO_FLOOR_BYTES + 2 * MiB  # not 994 MB
    assert _scratch_is_empty(registry)
    assert registry.list_models() == []


def test_a_bomb_entry_the_descriptor_does_not_list_is_refused_before_it_is_written(
    registry: Registry, exported: Path, tmp_path: Path
) -> None:
    bomb = _zeros_bomb(
        tmp_path / "bomb.tar.gz", _tar_bytes(_entries(exported)), "bomb.bin", 994 * MiB
    )

    with pytest.raises(IntegrityError, match=r"unexpected file 'bomb\.bin'"):
        registry.import_archive(bomb)
    assert _scratch_is_empty(registry)


def test_a_bomb_in_an_archive_without_descriptor_stops_at_the_ratio_limit(
    registry: Registry, tmp_path: Path
) -> None:
    bomb = _zeros_bomb(tmp_path / "bomb.tar.gz", b"", "model.bin", 994 * MiB)

    with pytest.raises(LimitExceededError, match="compression bomb"):
        registry.import_archive(bomb)


def test_total_bytes_over_the_limit_are_refused_before_anything_is_written(
    registry_env: dict[str, str], exported: Path
) -> None:
    settings = Settings.from_env({**registry_env, "SHIPYARD_IMPORT_MAX_BYTES": "10"})
    with (
        Registry.from_settings(settings) as small,
        pytest.raises(LimitExceededError, match=r"more than 10 bytes.*SHIPYARD_IMPORT_MAX_BYTES"),
    ):
        small.import_archive(exported)


def test_many_entries_are_refused_fast_with_json_and_exit_16(
    runner: CliRunner, settings: Settings, tmp_path: Path
) -> None:
    many = tmp_path / "many.tar.gz"
    with tarfile.open(many, "w:gz") as writer:
        for i in range(100_000):
            writer.addfile(tarfile.TarInfo(f"f{i}"), io.BytesIO(b""))
    assert many.stat().st_size < 2 * MiB

    started = time.monotonic()
    result = runner.invoke(app, ["models", "import", str(many), "--json"])

    assert time.monotonic() - started < 15
    assert result.exit_code == 16, result.output
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "LimitExceededError"
    assert "more than 10000 entries" in error["message"]
    assert "SHIPYARD_IMPORT_MAX_ENTRIES" in error["message"]


def test_an_entry_a_thousand_folders_deep_is_a_clear_error_not_a_traceback(
    runner: CliRunner, settings: Settings, tmp_path: Path
) -> None:
    deep = tmp_path / "deep.tar.gz"
    with tarfile.open(deep, "w:gz", format=tarfile.PAX_FORMAT) as writer:
        writer.addfile(tarfile.TarInfo("/".join(["d"] * 1000) + "/f"), io.BytesIO(b""))

    result = runner.invoke(app, ["models", "import", str(deep), "--json"])

    assert result.exit_code == 16, result.output
    error = json.loads(result.stdout)["error"]
    assert "1000 folders deep, more than 32" in error["message"]
    assert "RecursionError" not in result.output
    assert not (settings.home / "tmp").exists() or not any((settings.home / "tmp").iterdir())


def test_a_descriptor_with_a_five_megabyte_created_by_is_refused(
    registry: Registry, exported: Path, tmp_path: Path
) -> None:
    entries = []
    for member, data in _entries(exported):
        if member.name == DESCRIPTOR_FILE:
            descriptor = json.loads(data)
            descriptor["created_by"] = "x" * (5 * MiB)
            data = json.dumps(descriptor).encode()
            member.size = len(data)
        entries.append((member, data))
    forged = tmp_path / "forged.tar.gz"
    forged.write_bytes(gzip.compress(_tar_bytes(entries) + b"\0" * 1024))

    with pytest.raises(LimitExceededError, match="created_by has 5242880 characters"):
        registry.import_archive(forged)
    assert registry.list_models() == []


def test_an_honest_export_still_imports_within_the_default_limits(
    registry: Registry, exported: Path
) -> None:
    version = registry.import_archive(exported)
    assert version.name == "iris"
    assert registry.fetch(version.ref).joinpath("model.bin").read_bytes() == b"honest weights"


@pytest.mark.parametrize("value", ["0", "-3", "ten", "٣"])
def test_a_limit_that_is_not_a_positive_integer_is_a_config_error(value: str) -> None:
    from shipyard.errors import ConfigError

    with pytest.raises(ConfigError, match="SHIPYARD_IMPORT_MAX_DEPTH"):
        Settings.from_env({"SHIPYARD_HOME": "/tmp/x", "SHIPYARD_IMPORT_MAX_DEPTH": value})
