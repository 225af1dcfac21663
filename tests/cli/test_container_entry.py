"""The image entrypoint's argument rewriting (pure): serve by default, predict on demand."""

from __future__ import annotations

from shipyard.cli.container import container_argv


def test_no_arguments_serve_the_model() -> None:
    assert container_argv([], "/m") == ["serve", "/m"]


def test_options_alone_still_go_to_serve() -> None:
    assert container_argv(["--workers", "2"], "/m") == ["serve", "/m", "--workers", "2"]


def test_predict_gets_the_model_folder_first() -> None:
    argv = container_argv(["predict", "/data/in.parquet", "/data/out.parquet"], "/m")
    assert argv == ["predict", "/m", "/data/in.parquet", "/data/out.parquet"]


def test_other_commands_pass_through() -> None:
    assert container_argv(["--help"], "/m") == ["--help"]
    assert container_argv(["models", "list"], "/m") == ["models", "list"]
