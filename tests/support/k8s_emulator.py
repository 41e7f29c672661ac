"""A Kubernetes API emulator on 127.0.0.1 for the operator's tests: kmock, plus what it lacks.

kmock 0.8 stores objects and streams watch events, but leaves out what a real API server
does on every write (shared/notes/kmock.md). `StromKubernetesEmulator` adds it here, on the
test side, so the operator runs against it unchanged:

- resourceVersion on every write, uid/creationTimestamp/generation on create, generation
  bumped when anything but metadata and status changes; a no-op write changes nothing;
- a failed JSON-patch `test` answers 422, a stale resourceVersion in a merge patch 409;
  the status subresource is isolated from the rest;
- server-side apply (`application/apply-patch+yaml`) creates or merges;
- label and field selectors on lists and watches;
- deletion with finalizers, and garbage collection of dependents through ownerReferences;
- the namespace list that kopf's namespace observer reads;
- CRDs registered as resources from their CustomResourceDefinition documents.

`EmulatorThread` runs it on its own event loop, so synchronous tests and an operator
subprocess can talk to it over HTTP.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import threading
import uuid
import warnings
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp.web
import attrs
import jsonpatch
import kmock
from kmock._internal import dicts, k8s, rendering

APPLY = "application/apply-patch+yaml"
START_TIMEOUT_S = 10.0


@attrs.define(kw_only=True)
class StromKubernetesEmulator(kmock.KubernetesEmulator):
    """kmock's emulator with the API server's bookkeeping (see the module docstring)."""

    _versions: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1), init=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        with warnings.catch_warnings():  # kmock 0.8 reads its data with a deprecated call
            warnings.simplefilter("ignore", DeprecationWarning)
            self.resources.load_bundled()

    def register_crd(self, document: Mapping[str, Any]) -> None:
        """Serve the resource a CustomResourceDefinition declares (kmock does not do it on
        creating a CRD object)."""
        spec = document["spec"]
        for served in spec["versions"]:
            key = f"{spec['group']}/{served['name']}/{spec['names']['plural']}"
            self.resources[key] = kmock.ResourceInfo(
                kind=spec["names"]["kind"],
                singular=spec["names"].get("singular"),
                namespaced=spec["scope"] == "Namespaced",
                verbs={"get", "list", "watch", "create", "update", "patch", "delete"},
                subresources=set(served.get("subresources") or {}),
            )

    # -- requests --------------------------------------------------------------------------

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        # kmock cannot parse the cluster-scoped /api/v1/namespaces path (it reads
        # "namespaces" as the start of a namespaced path).
        if raw_request.path == "/api/v1/namespaces" and raw_request.method == "GET":
            return await self._serve_namespaces(raw_request)
        return await super().__call__(raw_request)

    async def _handle(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        writes = (kmock.action.CREATE, kmock.action.UPDATE, kmock.action.DELETE)
        if request.resource is None or request.action not in writes:
            return await super()._handle(request)
        try:
            async with self._lock:
                result, status = await self._write(request)
        except k8s.KubernetesError as error:
            return await self._render_error(error)
        return aiohttp.web.json_response(result, status=status)

    async def _serve_list(self, request: rendering.Request) -> rendering.Payload:
        answer = dict(await super()._serve_list(request))  # type: ignore[arg-type]
        answer["items"] = [item for item in answer["items"] if _selected(request, item)]
        answer["metadata"] = {"resourceVersion": str(self._current_version())}
        return answer

    async def _serve_watch(self, request: rendering.Request) -> AsyncIterator[rendering.Payload]:
        """Current objects newer than the requested resourceVersion, then live events.

        Unlike kmock's, the bus position is taken together with the snapshot (under the
        lock), so no write between the two is lost, and nothing the client has already
        listed is replayed (kopf would act on a stale copy and conflict with itself)."""
        assert request.resource is not None
        since = _version(request.params.get("resourceVersion"))
        bus = self._buses[request.resource]
        yield b""  # send the headers now: a watch may stay silent for long
        async with self._lock:
            mark = await bus.mark()
            snapshot = [
                obj.raw
                for (resource, namespace, _), obj in self._objects.items()
                if resource == request.resource
                and not obj.deleted
                and (request.namespace is None or namespace == request.namespace)
            ]
        try:
            for obj in snapshot:
                newer = _version(obj["metadata"].get("resourceVersion")) > since
                if newer and _selected(request, obj):
                    yield {"type": "ADDED", "object": obj}
            async for event in bus.stream(since=mark):
                obj = event.get("object") or {}
                namespace = (obj.get("metadata") or {}).get("namespace")
                if request.namespace is not None and namespace != request.namespace:
                    continue
                if _selected(request, obj):
                    yield event
        finally:
            await bus.unmark(mark)

    # -- writes ----------------------------------------------------------------------------

    async def _write(self, request: rendering.Request) -> tuple[dict[str, Any], int]:
        """Apply a create/patch/delete; the object to answer with and the HTTP status."""
        assert request.resource is not None
        if request.action == kmock.action.CREATE:
            metadata = (request.data or {}).get("metadata") or {}
            namespace = request.namespace or metadata.get("namespace")
            return await self._create(request.resource, namespace, request.data), 201
        if request.action == kmock.action.UPDATE:
            return await self._update(request), 200
        return await self._delete((request.resource, request.namespace, request.name)), 200

    async def _create(self, resource: Any, namespace: str | None, data: Any) -> dict[str, Any]:
        obj = copy.deepcopy(data) if isinstance(data, dict) else {}
        metadata = obj.setdefault("metadata", {})
        if not metadata.get("name") and metadata.get("generateName"):
            metadata["name"] = f"{metadata['generateName']}{uuid.uuid4().hex[:5]}"
        if not metadata.get("name"):
            raise k8s.KubernetesError(422, "Invalid", "metadata.name is required")
        key = (resource, namespace, metadata["name"])
        if key in self._objects and not self._objects[key].deleted:
            raise k8s.KubernetesObjectConflictError()
        if self._has_status(resource):
            obj.pop("status", None)  # status is written through its subresource only
        if namespace is not None:
            metadata["namespace"] = namespace
        metadata["uid"] = str(uuid.uuid4())
        metadata["creationTimestamp"] = _now()
        metadata["generation"] = 1
        metadata["resourceVersion"] = str(next(self._versions))
        if key in self._objects:
            self._objects[key].create(obj)
        else:
            self._objects[key] = obj
        await self._buses[resource].put({"type": "ADDED", "object": obj})
        return obj

    async def _update(self, request: rendering.Request) -> dict[str, Any]:
        resource = request.resource
        key = (resource, request.namespace, request.name)
        stored = self._objects[key] if key in self._objects else None  # noqa: SIM401 - no .get
        content_type = (request.headers.get("Content-Type") or "").split(";")[0]
        if stored is None or stored.deleted:
            if content_type == APPLY:
                return await self._create(resource, request.namespace, request.data)
            raise k8s.KubernetesObjectNotFoundError()
        old = copy.deepcopy(stored.raw)
        data = request.data if isinstance(request.data, dict) else {}
        expected = (data.get("metadata") or {}).get("resourceVersion")
        if expected is not None and expected != old["metadata"].get("resourceVersion"):
            raise k8s.KubernetesError(409, "Conflict", "the object has been modified")
        new = _patched(old, request.data)
        if request.subresource == "status":
            new = {**old, "status": new.get("status")}
        elif self._has_status(resource):
            new["status"] = old.get("status")
        if new.get("status") is None:
            new.pop("status", None)
        for field in ("uid", "creationTimestamp", "generation", "resourceVersion"):
            if field in old["metadata"]:
                new["metadata"][field] = old["metadata"][field]
        if new == old:
            return old  # as the API server: a no-op write is no change and no event
        if _without_meta_and_status(new) != _without_meta_and_status(old):
            new["metadata"]["generation"] = int(old["metadata"].get("generation", 1)) + 1
        await self._store(key, new)
        return new

    async def _delete(self, key: tuple[Any, str | None, str | None]) -> dict[str, Any]:
        if key not in self._objects or self._objects[key].deleted:
            raise k8s.KubernetesObjectNotFoundError()
        obj = copy.deepcopy(self._objects[key].raw)
        metadata = obj["metadata"]
        if not metadata.get("finalizers"):
            await self._remove(key)
        elif not metadata.get("deletionTimestamp"):
            metadata["deletionTimestamp"] = _now()
            metadata["generation"] = int(metadata.get("generation", 1)) + 1
            await self._store(key, obj)
        return obj

    async def _store(self, key: tuple[Any, str | None, str | None], obj: dict[str, Any]) -> None:
        """A new version; an object being deleted goes once its last finalizer is gone."""
        metadata = obj["metadata"]
        metadata["resourceVersion"] = str(next(self._versions))
        self._objects[key].history.append(obj)
        await self._buses[key[0]].put({"type": "MODIFIED", "object": obj})
        if metadata.get("deletionTimestamp") and not metadata.get("finalizers"):
            await self._remove(key)

    async def _remove(self, key: tuple[Any, str | None, str | None]) -> None:
        """Delete for good, then collect the dependents (background propagation)."""
        obj = self._objects[key].raw
        self._objects[key].delete()
        await self._buses[key[0]].put({"type": "DELETED", "object": obj})
        uid = obj["metadata"].get("uid")
        dependents = [
            other_key
            for other_key, other in list(self._objects.items())
            if not other.deleted
            and any(
                ref.get("uid") == uid
                for ref in other.get("metadata", {}).get("ownerReferences") or []
            )
        ]
        for other_key in dependents:
            if not self._objects[other_key].deleted:
                await self._delete(other_key)

    def _has_status(self, resource: Any) -> bool:
        try:
            return "status" in self.resources[resource].subresources
        except KeyError:
            return False

    def _current_version(self) -> int:
        latest = 0
        for _, obj in self._objects.items():
            if not obj.deleted:
                latest = max(latest, int(obj.get("metadata", {}).get("resourceVersion", 0)))
        return latest

    async def _serve_namespaces(self, raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        names = sorted({"default"} | {ns for (_, ns, _) in self._objects if ns})
        items = [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}} for name in names
        ]
        if raw.query.get("watch") != "true":
            return aiohttp.web.json_response(
                {"kind": "NamespaceList", "apiVersion": "v1", "metadata": {}, "items": items}
            )
        response = aiohttp.web.StreamResponse()
        await response.prepare(raw)
        for item in items:
            await response.write(json.dumps({"type": "ADDED", "object": item}).encode() + b"\n")
        await asyncio.Event().wait()  # held open until the client or the server goes away
        return response


class EmulatorThread:
    """The emulator on its own event loop in a thread, serving http://127.0.0.1:<port>."""

    def __init__(self) -> None:
        self.emulator = StromKubernetesEmulator()
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="k8s-emulator", daemon=True)
        self._error: BaseException | None = None

    def start(self) -> EmulatorThread:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S) or self._error is not None:
            raise AssertionError(f"the API emulator did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(START_TIMEOUT_S)

    def write_kubeconfig(self, path: Path, namespace: str = "default") -> Path:
        """A kubeconfig pointing at the emulator, for an operator process."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "emulator", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": "emulator-token"}}],
            "contexts": [
                {
                    "name": "emulator",
                    "context": {"cluster": "emulator", "user": "tester", "namespace": namespace},
                }
            ],
            "current-context": "emulator",
        }
        path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
        return path

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported by start()
            self._error = error
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with self.emulator, kmock.Server(self.emulator) as server:
            self.url = str(server.url).rstrip("/")
            self._ready.set()
            await self._stop.wait()


def _patched(old: dict[str, Any], patch: Any) -> dict[str, Any]:
    """Merge patch, server-side apply (approximated as a merge) or RFC 6902 JSON patch."""
    if isinstance(patch, list):
        try:
            return jsonpatch.apply_patch(old, patch, in_place=False)  # type: ignore[no-any-return]
        except jsonpatch.JsonPatchTestFailed as error:
            raise k8s.KubernetesError(
                422, "Invalid", f"the JSON patch test failed: {error}"
            ) from None
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as error:
            raise k8s.KubernetesError(422, "Invalid", str(error)) from None
    if not isinstance(patch, dict):
        raise k8s.KubernetesError(400, "BadRequest", "the patch is not an object")
    return dict(dicts.merge_patch_dict(old, patch))


def _without_meta_and_status(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if key not in ("metadata", "status")}


def _selected(request: rendering.Request, obj: Mapping[str, Any]) -> bool:
    metadata = obj.get("metadata") or {}
    labels = metadata.get("labels") or {}
    fields = {
        "metadata.name": metadata.get("name"),
        "metadata.namespace": metadata.get("namespace"),
    }
    return _matches(request.params.get("labelSelector"), labels) and _matches(
        request.params.get("fieldSelector"), fields
    )


def _matches(selector: str | None, values: Mapping[str, Any]) -> bool:
    """Equality-based selectors: `k=v`, `k==v`, `k!=v`, `k`, `!k`, comma-separated."""
    for term in filter(None, (part.strip() for part in (selector or "").split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if values.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if values.get(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:].strip() in values:
                return False
        elif term not in values:
            return False
    return True


def _version(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
