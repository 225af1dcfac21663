"""File and version digests, as defined in docs/architecture/00-overview.md."""

from __future__ import annotations

import hashlib
from pathlib import Path

from shipyard.registry.digest import CHUNK_SIZE, file_sha256, hash_tree, version_digest
from shipyard.registry.entities import ArtifactFile


def test_file_sha256_streams_large_files(tmp_path: Path) -> None:
    content = bytes(range(256)) * (CHUNK_SIZE // 256 * 3 + 7)
    (tmp_path / "big.bin").write_bytes(content)

    assert file_sha256(tmp_path / "big.bin") == (hashlib.sha256(content).hexdigest(), len(content))


def test_version_digest_is_sha256_of_sorted_path_sha_size_lines() -> None:
    files = [ArtifactFile("z.bin", "b" * 64, 20), ArtifactFile("a.json", "a" * 64, 10)]
    expected_text = f"a.json\0{'a' * 64}\x0010\nz.bin\0{'b' * 64}\x0020\n"

    assert version_digest(files) == hashlib.sha256(expected_text.encode()).hexdigest()
    assert version_digest(reversed(files)) == version_digest(files)
    assert version_digest([ArtifactFile("a.json", "a" * 64, 11), files[0]]) != version_digest(files)


def test_hash_tree_lists_nested_files_with_posix_paths(tmp_path: Path) -> None:
    (tmp_path / "code" / "pkg").mkdir(parents=True)
    (tmp_path / "code" / "pkg" / "m.py").write_bytes(b"x")
    (tmp_path / "model.bin").write_bytes(b"yy")
    (tmp_path / "skip.json").write_bytes(b"{}")

    files = hash_tree(tmp_path, exclude={"skip.json"})

    assert [(f.path, f.size) for f in files] == [("code/pkg/m.py", 1), ("model.bin", 2)]
