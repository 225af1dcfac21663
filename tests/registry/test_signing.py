"""Signed versions and the trust policy: a signature travels with the version, a policy refuses
unsigned, untrusted, forged and re-used signatures at import, load_model and serve, and imported
pickles are scanned before anything is stored."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import shipyard
from shipyard.cli.main import app
from shipyard.config import Settings
from shipyard.errors import TrustError, UnsafeArtifactError
from shipyard.registry import Registry
from shipyard.registry.folder import read_version_descriptor
from shipyard.registry.signing import (
    SIGNATURE_TAG_PREFIX,
    TrustPolicy,
    generate_key,
    key_id,
)
from shipyard.serve.sources import source_for

from .conftest import MakeFolder


class _RunsShell:
    """What a hostile archive would carry: unpickling it calls os.system."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned",))


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    """Two key pairs: ``team`` (trusted by the policies below) and ``other``."""
    paths = {}
    for name in ("team", "other"):
        generate_key(tmp_path / "keys" / name)
        paths[name] = tmp_path / "keys" / name
    return paths


def _trusting(registry: Registry, public: Path) -> Registry:
    """The same registry opened under a trust policy of one public key."""
    return Registry(
        registry.metadata,
        registry.artifacts,
        home=registry.home,
        user=registry.user,
        trusted_keys=(public,),
    )


def _pub(key: Path) -> Path:
    return key.with_name(key.name + ".pub")


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(
    keys: dict[str, Path],
) -> None:
    assert keys["team"].stat().st_mode & 0o777 == 0o600
    assert _pub(keys["team"]).read_text().startswith("ssh-ed25519 ")
    with pytest.raises(Exception, match="exists"):
        generate_key(keys["team"])


def test_a_signed_version_travels_through_export_and_imports_under_the_policy(
    registry: Registry, make_folder: MakeFolder, keys: dict[str, Path], tmp_path: Path
) -> None:
    registry.publish("iris", *make_folder(b"weights"))
    registry.fetch("iris:1")  # cached before it was signed: the descriptor must follow
    signed = registry.sign("iris:1", keys["team"])
    archive = registry.export("iris:1", tmp_path / "iris.tar.gz")
    assert any(k.startswith(SIGNATURE_TAG_PREFIX) for k in signed.tags)
    assert read_version_descriptor(registry.fetch("iris:1")).tags == signed.tags
    registry.delete("iris:1")

    imported = _trusting(registry, _pub(keys["team"])).import_archive(archive)

    policy = TrustPolicy.load([_pub(keys["team"])])
    assert policy.check(imported) == next(iter(policy.keys))


def test_unsigned_and_untrusted_archives_are_refused_and_nothing_is_stored(
    registry: Registry, make_folder: MakeFolder, keys: dict[str, Path], tmp_path: Path
) -> None:
    registry.publish("iris", *make_folder(b"weights"))
    unsigned = registry.export("iris:1", tmp_path / "unsigned.tar.gz")
    registry.sign("iris:1", keys["other"])
    untrusted = registry.export("iris:1", tmp_path / "untrusted.tar.gz")
    registry.delete("iris:1")
    trusting = _trusting(registry, _pub(keys["team"]))

    with pytest.raises(TrustError, match="is not signed"):
        trusting.import_archive(unsigned)
    with pytest.raises(TrustError, match="only by keys that are not trusted"):
        trusting.import_archive(untrusted)
    assert registry.list_versions("iris") == []


def test_a_forged_or_reused_signature_does_not_verify(
    registry: Registry, make_folder: MakeFolder, keys: dict[str, Path]
) -> None:
    registry.publish("iris", *make_folder(b"weights"))
    registry.publish("iris", *make_folder(b"other weights"))
    first = registry.sign("iris:1", keys["team"])
    tag = next(k for k in first.tags if k.startswith(SIGNATURE_TAG_PREFIX))
    policy = TrustPolicy.load([_pub(keys["team"])])

    reused = registry.set_tags("iris:2", {tag: first.tags[tag]})  # v1's signature on v2's digest
    with pytest.raises(TrustError, match="does not verify"):
        policy.check(reused)
    forged = dataclasses.replace(first, tags={tag: "ed25519:" + "A" * 88})
    with pytest.raises(TrustError, match="does not verify"):
        policy.check(forged)
    assert [s.to_dict() for s in policy.statuses(first)] == [
        {"key_id": tag[len(SIGNATURE_TAG_PREFIX) :], "trusted": True, "valid": True}
    ]


def test_a_pickle_that_runs_code_is_refused_at_import(
    registry: Registry, make_folder: MakeFolder, tmp_path: Path
) -> None:
    hostile = pickle.dumps(_RunsShell())
    registry.publish("iris", *make_folder(b"weights", extra={"model.pkl": hostile}))
    archive = registry.export("iris:1", tmp_path / "hostile.tar.gz")
    registry.delete("iris:1")

    with pytest.raises(UnsafeArtifactError, match=r"model.pkl: .*system.*CRITICAL"):
        registry.import_archive(archive)
    assert registry.list_versions("iris") == []


def test_load_model_and_serve_refuse_an_unsigned_version_under_the_policy(
    settings: Settings, keys: dict[str, Path]
) -> None:
    from sklearn.linear_model import LogisticRegression

    features = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    model = LogisticRegression().fit(features, [0, 1, 1, 0])
    version = shipyard.save_model(model, "tiny", sample_input=features, settings=settings)
    trusting = dataclasses.replace(settings, trusted_keys=(_pub(keys["team"]),))

    with pytest.raises(TrustError, match="is not signed"):
        shipyard.load_model("tiny:1", settings=trusting)
    with pytest.raises(TrustError, match="is not signed"):
        source_for("tiny:1", trusting).load()
    with Registry.from_settings(settings) as registry:
        registry.sign(version.ref, keys["team"])
        folder = registry.fetch(version.ref)
    with pytest.raises(TrustError):  # a folder is checked too, with a key it does not trust
        shipyard.load_model(
            folder, settings=dataclasses.replace(settings, trusted_keys=(_pub(keys["other"]),))
        )

    loaded = shipyard.load_model("tiny:1", settings=trusting)
    assert loaded.predict(features).tolist() == model.predict(features).tolist()
    assert source_for(str(folder), trusting).load() is not None


def test_cli_signs_lists_and_exits_17_when_no_trusted_signature(
    shipyard_env: dict[str, str], make_folder: MakeFolder, tmp_path: Path
) -> None:
    with Registry.from_settings(Settings.from_env(shipyard_env)) as registry:
        registry.publish("iris", *make_folder(b"weights"))
    runner = CliRunner()
    key = tmp_path / "cli.key"
    made = runner.invoke(app, ["models", "keygen", str(key), "--json"], env=shipyard_env)
    assert made.exit_code == 0, made.output
    kid = json.loads(made.stdout)["key_id"]
    trusting = {**shipyard_env, "SHIPYARD_TRUSTED_KEYS": str(_pub(key))}

    unsigned = runner.invoke(app, ["models", "signatures", "iris:1", "--json"], env=trusting)
    assert unsigned.exit_code == 17
    assert json.loads(unsigned.stdout)["signatures"] == []
    assert json.loads(unsigned.stdout)["error"]["type"] == "TrustError"

    signed = runner.invoke(app, ["models", "sign", "iris:1", "--key", str(key), "--json"])
    assert signed.exit_code == 0, signed.output
    assert json.loads(signed.stdout) == {"name": "iris", "version": 1, "key_id": kid}
    listed = runner.invoke(app, ["models", "signatures", "iris:1", "--json"], env=trusting)
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout)["signatures"] == [
        {"key_id": kid, "trusted": True, "valid": True}
    ]
    assert kid == key_id(TrustPolicy.load([_pub(key)]).keys[kid])
