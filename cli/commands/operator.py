"""`strom operator ...`: run the Kubernetes operator, generate its CRDs.

The operator (kopf, aiohttp) is imported inside each command, so other commands do not pay
for loading it.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Run the Kubernetes operator (StreamCluster, StreamTopic, StreamUser).")

EXIT_BAD_USAGE = 2
EXIT_NO_CREDENTIALS = 2
EXIT_STALE = 1


@app.command("run")
def run(
    namespace: Annotated[
        list[str] | None,
        typer.Option("--namespace", "-n", help="Watch this namespace; repeatable."),
    ] = None,
    all_namespaces: Annotated[
        bool,
        typer.Option("--all-namespaces", "-A", help="Watch every namespace (the default)."),
    ] = False,
    peering: Annotated[
        str | None,
        typer.Option(
            "--peering",
            help="Leader election among operator replicas through this kopf peering object; "
            "without it the operator runs standalone.",
        ),
    ] = None,
    broker_image: Annotated[
        str | None,
        typer.Option(
            "--broker-image",
            envvar="STROM_BROKER_IMAGE",
            help="Image of brokers whose StreamCluster names none.",
        ),
    ] = None,
    liveness: Annotated[
        str | None,
        typer.Option(
            "--liveness", help="Serve a liveness probe, e.g. http://0.0.0.0:8080/healthz."
        ),
    ] = None,
    resync_interval: Annotated[
        float,
        typer.Option(
            "--resync-interval",
            min=1.0,
            help="Seconds between re-applying every cluster (repairs out-of-band changes).",
        ),
    ] = 120.0,
    log_level: Annotated[str, typer.Option("--log-level", help="DEBUG, INFO, WARNING")] = "INFO",
) -> None:
    """Run the operator in the foreground; SIGTERM or Ctrl-C stops it cleanly."""
    from strom.operator.main import OperatorOptions, has_credentials
    from strom.operator.main import run as run_operator

    if namespace and all_namespaces:
        typer.echo("strom: use --namespace or --all-namespaces, not both", err=True)
        raise typer.Exit(EXIT_BAD_USAGE)
    if not has_credentials():
        typer.echo(
            "strom: no Kubernetes credentials: set KUBECONFIG (or ~/.kube/config), "
            "or run in a pod with a service account",
            err=True,
        )
        raise typer.Exit(EXIT_NO_CREDENTIALS)
    logging.basicConfig(
        level=log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    run_operator(
        OperatorOptions(
            namespaces=tuple(namespace or ()),
            all_namespaces=not namespace,
            peering=peering,
            broker_image=broker_image,
            liveness_endpoint=liveness,
            resync_interval=resync_interval,
        )
    )


@app.command("crds")
def crds(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Directory of the CRD YAML files.")
    ] = Path("manifests/crds"),
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if the files are stale.")
    ] = False,
) -> None:
    """Write the CustomResourceDefinitions generated from the CRD models."""
    from strom.operator.crds.generate import stale_files, write_all

    if check:
        stale = stale_files(output)
        for name in stale:
            typer.echo(f"stale: {output / name}", err=True)
        raise typer.Exit(EXIT_STALE if stale else 0)
    for path in write_all(output):
        typer.echo(f"wrote {path}")
