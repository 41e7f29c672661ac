"""`strom.cli.settings`: the contexts file and the precedence of flags, env and file."""

from __future__ import annotations

from pathlib import Path

import pytest

from strom.cli.errors import EXIT_FAILED, EXIT_NOT_FOUND, CliError
from strom.cli.settings import Config, Setting, config_dir, resolve


def _config(tmp_path: Path) -> Config:
    config = Config(tmp_path / "config.toml", "dev")
    config.contexts = {
        "dev": {"url": "http://dev:8080", "token": "key-a.s", "tenant": "ten-dev", "cluster": "c1"},
        "prod": {"url": "https://prod", "token": "key-b.s"},
    }
    return config


def test_the_file_round_trips_any_text_and_nested_cluster_keys(tmp_path: Path) -> None:
    config = _config(tmp_path)
    config.set_value("dev", "token", 'quote" back\\slash \u00e9 \U0001f600 tab\t')
    config.contexts["dev"]["cluster_keys"] = {"clu-1": {"api_key": "key-c", "api_secret": "x"}}
    config.contexts['odd "name"'] = {"url": "http://odd"}
    config.save()
    loaded = Config.load(config.path)
    assert (loaded.current_context, loaded.contexts) == (config.current_context, config.contexts)


def test_a_missing_file_is_an_empty_config_and_a_broken_one_fails(tmp_path: Path) -> None:
    assert Config.load(tmp_path / "absent.toml").contexts == {}
    broken = tmp_path / "broken.toml"
    broken.write_text("contexts = [")
    with pytest.raises(CliError) as raised:
        Config.load(broken)
    assert raised.value.exit_code == EXIT_FAILED and str(broken) in raised.value.message


def test_the_current_context_supplies_values_unless_env_or_flags_override(tmp_path: Path) -> None:
    config = _config(tmp_path)
    where = f"context 'dev' in {config.path}"
    plain = resolve(config, {})
    assert plain.context == Setting("dev", f"current_context in {config.path}")
    assert (plain.url, plain.token) == (
        Setting("http://dev:8080", where),
        Setting("key-a.s", where),
    )
    assert (plain.tenant, plain.cluster) == (Setting("ten-dev", where), Setting("c1", where))

    env = {"STROM_URL": "http://env", "STROM_TOKEN": "t", "STROM_TENANT": "e", "STROM_CLUSTER": "c"}
    overridden = resolve(config, env, tenant="flag")
    assert overridden.url == Setting("http://env", "env STROM_URL")
    assert overridden.token == Setting("t", "env STROM_TOKEN")
    assert overridden.tenant == Setting("flag", "--tenant")
    assert overridden.cluster == Setting("c", "env STROM_CLUSTER")


def test_the_context_comes_from_the_flag_then_env_then_file(tmp_path: Path) -> None:
    config = _config(tmp_path)
    assert resolve(config, {"STROM_CONTEXT": "prod"}).context == Setting(
        "prod", "env STROM_CONTEXT"
    )
    chosen = resolve(config, {"STROM_CONTEXT": "dev"}, context="prod")
    assert chosen.context == Setting("prod", "--context")
    assert chosen.url.value == "https://prod" and not chosen.cluster


def test_an_unknown_context_is_not_found_unless_login_creates_it(tmp_path: Path) -> None:
    config = _config(tmp_path)
    with pytest.raises(CliError) as raised:
        resolve(config, {}, context="nope")
    assert raised.value.exit_code == EXIT_NOT_FOUND
    assert not resolve(config, {}, context="nope", new_context=True).url


def test_the_directory_honours_strom_config_dir_then_xdg(tmp_path: Path) -> None:
    assert config_dir({"STROM_CONFIG_DIR": str(tmp_path)}) == tmp_path
    assert config_dir({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "strom"
    assert config_dir({}) == Path.home() / ".config" / "strom"
