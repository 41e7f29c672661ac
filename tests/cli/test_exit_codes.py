"""Exit codes scripts rely on, each failure as one readable stderr line and no traceback:
0 ok, 1 failed, 2 usage or invalid request, 3 not found, 4 unauthorized."""

from __future__ import annotations

import re
import secrets

import pytest

from tests.cli.conftest import ServedControlPlane
from tests.cli.helpers import Strom, expect_failure, sign_up
from tests.support.ports import free_port


@pytest.fixture
def tenant(strom: Strom, controlplane: ServedControlPlane) -> Strom:
    """`strom` logged in as a fresh tenant's deployer (and as the admin in context `admin`)."""
    sign_up(strom, controlplane.url, controlplane.admin_token, f"codes-{secrets.token_hex(4)}")
    return strom


def test_an_unknown_name_exits_3(tenant: Strom) -> None:
    expect_failure(tenant("cluster", "describe", "nope"), 3, "no cluster with name or id 'nope'")
    expect_failure(tenant("service-account", "delete", "ghost"), 3, "ghost")


def test_a_404_from_the_api_exits_3_with_its_problem_detail(tenant: Strom) -> None:
    result = tenant("operation", "describe", "op-2m9q4xw3bd7k")
    expect_failure(result, 3, "Not Found: Operation op-2m9q4xw3bd7k not found.")
    expect_failure(tenant("api-key", "describe", "key-2m9q4xw3bd7k"), 3, "not found")


def test_a_bad_token_exits_4(tenant: Strom) -> None:
    result = tenant("whoami", env={"STROM_TOKEN": "key-2m9q4xw3bd7k.wrong"})
    expect_failure(result, 4, "Unauthorized", "not a valid API key")


def test_a_tenant_key_doing_admin_work_exits_4(tenant: Strom) -> None:
    expect_failure(tenant("tenant", "list"), 4, "Forbidden", "platform admin")


def test_a_command_without_a_login_exits_4(strom: Strom, controlplane: ServedControlPlane) -> None:
    result = strom("cluster", "list", env={"STROM_URL": controlplane.url})
    expect_failure(result, 4, "not logged in", "strom login")


def test_login_with_a_bad_token_exits_4_and_saves_nothing(
    strom: Strom, controlplane: ServedControlPlane
) -> None:
    result = strom("login", "--url", controlplane.url, "--token", "key-2m9q4xw3bd7k.wrong")
    expect_failure(result, 4, "Unauthorized")
    assert not strom.config_file.exists()


def test_a_request_the_api_rejects_as_invalid_exits_2(tenant: Strom) -> None:
    result = tenant("service-account", "create", "Not_A_Name")
    expect_failure(result, 2, "Unprocessable Entity: Invalid request: #/spec/name")
    admin = ("--context", "admin")
    expect_failure(tenant(*admin, "tenant", "create", "x"), 2, "#/spec/name")


def test_a_bad_flag_exits_2(tenant: Strom) -> None:
    assert tenant("topic", "create").exit_code == 2  # Click's usage error: a missing argument
    expect_failure(tenant("topic", "create", "t", "--config", "oops"), 2, "KEY=VALUE")
    result = tenant("acl", "create", "--operation", "read", "--service-account", "deployer")
    expect_failure(result, 2, "name exactly one resource")


def test_topic_commands_without_a_selected_cluster_exit_2(tenant: Strom) -> None:
    expect_failure(tenant("topic", "list"), 2, "no cluster selected", "strom cluster use")


def test_the_admin_without_a_tenant_exits_2(tenant: Strom) -> None:
    expect_failure(tenant("--context", "admin", "cluster", "list"), 2, "--tenant")


def test_a_conflict_exits_1(tenant: Strom) -> None:
    tenant.ok("service-account", "create", "twice")
    expect_failure(tenant("service-account", "create", "twice"), 1, "Conflict")


def test_an_unreachable_control_plane_exits_1(tenant: Strom) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = tenant("whoami", env={"STROM_URL": url})
    expect_failure(result, 1, f"cannot reach the control plane at {url}")


def test_a_wait_that_times_out_exits_1_and_says_how_to_keep_waiting(tenant: Strom) -> None:
    result = tenant("cluster", "create", "slow", "--wait", "--timeout", "0")
    assert result.exit_code == 1, result.output
    progress, line = result.stderr.strip().splitlines()  # the phase seen, then the failure
    assert progress == "Creating cluster slow: PENDING"
    assert line.startswith("strom: operation op-") and "after 0s" in line
    hint = re.search(r"`strom operation wait (op-\w+)`", line)
    assert hint is not None, line
    operation_id = hint.group(1)
    assert tenant.json("operation", "describe", operation_id)["spec"]["type"] == "CREATE_CLUSTER"
    done = tenant.json("operation", "wait", operation_id, "--timeout", "60")
    assert done["status"]["phase"] == "SUCCEEDED"
    deleted = tenant.json("cluster", "delete", "slow", "--wait", "--timeout", "60")
    assert deleted["status"]["phase"] == "SUCCEEDED"
