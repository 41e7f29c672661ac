"""Contexts and where settings come from: `strom login|logout|context ...`, `--context`,
`STROM_URL`/`STROM_TOKEN` over the file, `-v`, and where the file lives."""

from __future__ import annotations

import stat
from pathlib import Path

import yaml

from tests.cli.conftest import ServedControlPlane
from tests.cli.helpers import Strom, expect_failure, sign_up
from tests.support.ports import free_port


def test_login_reads_a_piped_token_and_saves_a_private_current_context(
    strom: Strom, controlplane: ServedControlPlane
) -> None:
    result = strom("login", "--url", controlplane.url, input=f"{controlplane.admin_token}\n")
    assert result.exit_code == 0, result.output
    assert f"Logged in to {controlplane.url} as admin." in result.stdout
    assert strom.ok("context", "current").strip() == "default"
    assert stat.S_IMODE(strom.config_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(strom.config_dir.stat().st_mode) == 0o700
    assert strom.json("whoami")["admin"] is True


def test_contexts_are_listed_without_tokens_and_switched(
    strom: Strom, controlplane: ServedControlPlane
) -> None:
    key = sign_up(strom, controlplane.url, controlplane.admin_token, "switcher")
    listed = strom.json("context", "list")
    assert [(item["name"], item["current"]) for item in listed] == [
        ("admin", False),
        ("switcher", True),
    ]
    assert all(item["logged_in"] and item["url"] == controlplane.url for item in listed)
    assert key["token"] not in strom.ok("context", "list")
    assert yaml.safe_load(strom.ok("context", "list", "-o", "yaml")) == listed

    assert strom.json("--context", "admin", "whoami")["admin"] is True  # this once
    assert strom.json("whoami")["admin"] is False
    strom.ok("context", "use", "admin")
    assert strom.ok("context", "current").strip() == "admin"
    assert strom.json("whoami")["admin"] is True
    assert strom.json("whoami", env={"STROM_CONTEXT": "switcher"})["admin"] is False


def test_an_unknown_context_exits_3(strom: Strom, controlplane: ServedControlPlane) -> None:
    sign_up(strom, controlplane.url, controlplane.admin_token, "lonely")
    expect_failure(strom("--context", "nope", "whoami"), 3, "no context 'nope'")
    expect_failure(strom("context", "use", "nope"), 3, "no context 'nope'")
    expect_failure(strom("context", "delete", "nope"), 3, "no context 'nope'")
    assert strom.ok("context", "current").strip() == "lonely"


def test_no_current_context_exits_3(strom: Strom) -> None:
    expect_failure(strom("context", "current"), 3, "no current context")


def test_the_environment_overrides_the_file_and_verbose_says_so(
    strom: Strom, controlplane: ServedControlPlane
) -> None:
    sign_up(strom, controlplane.url, controlplane.admin_token, "precedence")
    as_admin = {"STROM_TOKEN": controlplane.admin_token}
    assert strom.json("whoami", env=as_admin)["admin"] is True

    result = strom("-v", "whoami", "-o", "json", env=as_admin)
    assert result.exit_code == 0, result.output
    file = str(strom.config_file)
    assert f"* context: precedence  (from current_context in {file})" in result.stderr
    assert f"* url: {controlplane.url}  (from context 'precedence' in {file})" in result.stderr
    assert "* token: ****  (from env STROM_TOKEN)" in result.stderr
    assert "* GET /api/v1/me -> 200" in result.stderr
    assert controlplane.admin_token not in result.stderr

    dead = f"http://127.0.0.1:{free_port()}"
    expect_failure(strom("whoami", env={"STROM_URL": dead}), 1, dead)


def test_verbose_shows_the_tenant_and_cluster_sources_but_never_a_secret(
    strom: Strom, controlplane: ServedControlPlane
) -> None:
    key = sign_up(strom, controlplane.url, controlplane.admin_token, "verbose")
    secret = key["token"].split(".", 1)[1]
    result = strom("-v", "topic", "list", env={"STROM_CLUSTER": "clu-2m9q4xw3bd7k"})
    assert f"* token: {key['id']}.****" in result.stderr
    assert f"* tenant: {key['metadata']['tenant_id']}  (from GET /api/v1/me)" in result.stderr
    assert secret not in result.output
    assert result.exit_code == 3  # the env's cluster is looked up by name or id, and is unknown


def test_the_admin_acts_in_a_tenant_chosen_by_flag_env_or_context(
    strom: Strom, controlplane: ServedControlPlane
) -> None:
    key = sign_up(strom, controlplane.url, controlplane.admin_token, "chosen")
    tenant_id = key["metadata"]["tenant_id"]
    admin = ("--context", "admin")
    by_name = strom.json(*admin, "--tenant", "chosen", "service-account", "list")
    assert [account["spec"]["name"] for account in by_name] == ["deployer"]
    by_env = strom.json(*admin, "service-account", "list", env={"STROM_TENANT": tenant_id})
    assert by_env == by_name
    strom.ok(*admin, "tenant", "use", "chosen")
    assert strom.json(*admin, "service-account", "list") == by_name
    admin_context = next(c for c in strom.json("context", "list") if c["name"] == "admin")
    assert admin_context["tenant"] == tenant_id


def test_logout_forgets_the_token_but_keeps_the_context(
    strom: Strom, controlplane: ServedControlPlane
) -> None:
    sign_up(strom, controlplane.url, controlplane.admin_token, "leaving")
    assert "Logged out of context 'leaving'." in strom.ok("logout")
    expect_failure(strom("whoami"), 4, "not logged in")
    leaving = next(c for c in strom.json("context", "list") if c["name"] == "leaving")
    assert leaving["logged_in"] is False and leaving["url"] == controlplane.url
    strom.ok("context", "delete", "leaving")
    expect_failure(strom("context", "current"), 3)


def test_the_config_lives_under_xdg_config_home_without_strom_config_dir(
    strom: Strom, controlplane: ServedControlPlane, tmp_path: Path
) -> None:
    xdg = tmp_path / "xdg"
    env = {"STROM_CONFIG_DIR": "", "XDG_CONFIG_HOME": str(xdg)}
    login = ("login", "--url", controlplane.url, "--token", controlplane.admin_token)
    assert strom(*login, env=env).exit_code == 0
    assert (xdg / "strom" / "config.toml").exists()
    assert not strom.config_file.exists()


def test_logging_in_again_keeps_selections_only_for_the_same_principal(
    strom: Strom, controlplane: ServedControlPlane
) -> None:
    key = sign_up(strom, controlplane.url, controlplane.admin_token, "relogin")
    admin = ("--context", "admin")
    strom.ok(*admin, "tenant", "use", "relogin")
    login = (*admin, "login", "--url", controlplane.url, "--token")

    strom.ok(*login, controlplane.admin_token)
    context = next(c for c in strom.json("context", "list") if c["name"] == "admin")
    assert (context["principal"], context["tenant"]) == ("admin", key["metadata"]["tenant_id"])

    strom.ok(*login, key["token"])
    context = next(c for c in strom.json("context", "list") if c["name"] == "admin")
    assert context["principal"] == key["status"]["principal"] and context["tenant"] is None
