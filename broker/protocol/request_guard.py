"""A pure-Python pass over a request before kio's native reader sees it.

kio's reader preallocates every array from its declared count, so a single request claiming
billions of elements aborts the whole process; Kafka instead rejects a count larger than the
bytes remaining. kio also raises on tagged fields its schema does not define, which Kafka
skips, and lets null through where the schema forbids it, which Kafka refuses. This pass walks
the frame against the same kio schema, rejects any length that overruns the frame and any
forbidden null, and drops the tagged fields kio would not know.
"""

from __future__ import annotations

import dataclasses
import functools
import struct
from typing import Any

from kio.serial._introspect import (
    EntityField,
    EntityTupleField,
    classify_field,
    get_field_tag,
    is_optional,
)


class MalformedRequestError(ValueError):
    """A length or count points past the end of the frame, or a null is not allowed."""


def guard_request(frame: bytes, request_type: Any) -> bytes:
    """`frame` (header and body), safe for kio to read: raises MalformedRequestError when a
    length overruns the frame or a null is not allowed; unknown tagged fields are removed."""
    walker = _Walker(frame, rebuild=False)
    walker.walk(request_type)
    if not walker.found_unknown_tags:
        return frame
    rebuilder = _Walker(frame, rebuild=True)
    rebuilder.walk(request_type)
    return rebuilder.output()


_FIXED_SIZES = {
    "bool": 1,
    "int8": 1,
    "uint8": 1,
    "int16": 2,
    "uint16": 2,
    "error_code": 2,
    "int32": 4,
    "uint32": 4,
    "timedelta_i32": 4,
    "int64": 8,
    "uint64": 8,
    "float64": 8,
    "timedelta_i64": 8,
    "datetime_i64": 8,
    "uuid": 16,
}
_INT8 = struct.Struct(">b")
_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")
_MAX_VARINT_BYTES = 5


@dataclasses.dataclass(frozen=True, slots=True)
class _FieldPlan:
    """How one field is laid out on the wire."""

    is_array: bool
    fixed_size: int  # bytes of a fixed-size value (a run of them merged); 0 when variable
    entity: Any | None  # the nested kio entity type, if any
    nullable: bool  # the schema allows null (for an array: the array itself, not its items)
    nullable_entity: bool  # a nullable struct carries an int8 presence marker (KIP-893)
    kafka_type: str | None
    legacy_string: bool  # RequestHeader.client_id is never compact


@dataclasses.dataclass(frozen=True, slots=True)
class _EntityPlan:
    flexible: bool
    fields: tuple[_FieldPlan, ...]
    tagged: dict[int, _FieldPlan]


class _Walker:
    def __init__(self, frame: bytes, *, rebuild: bool) -> None:
        self._data = memoryview(frame)
        self._pos = 0
        self._limit = len(frame)
        self._rebuild = rebuild
        self._out: list[bytes] = []
        self._mark = 0  # input before this position is already in `_out`
        self.found_unknown_tags = False

    def walk(self, request_type: Any) -> None:
        self._entity(request_type.__header_schema__)
        self._entity(request_type)

    def output(self) -> bytes:
        self._out.append(bytes(self._data[self._mark : self._pos]))
        return b"".join(self._out)

    def _entity(self, entity_type: Any) -> None:
        plan = _entity_plan(entity_type)
        for field in plan.fields:
            self._field(field, plan.flexible)
        if plan.flexible:
            self._tagged_fields(plan.tagged)

    def _field(self, field: _FieldPlan, flexible: bool) -> None:
        if field.is_array:
            count = self._uvarint() - 1 if flexible else self._int(_INT32)
            if count < 0:
                self._null(field)
                return
            if count == 0:
                return
            # As in Kafka: a count larger than the bytes left cannot be honest.
            self._require(count)
            if field.fixed_size:
                self._skip(count * field.fixed_size)
                return
            for _ in range(count):
                self._value(field, flexible, in_array=True)
        else:
            self._value(field, flexible, in_array=False)

    def _value(self, field: _FieldPlan, flexible: bool, *, in_array: bool) -> None:
        if field.entity is not None:
            if field.nullable_entity and not in_array and self._int(_INT8) < 0:
                return
            self._entity(field.entity)
            return
        size = field.fixed_size
        if not size:
            size = self._length(field.kafka_type or "", flexible and not field.legacy_string)
            if size < 0:
                if in_array:
                    raise MalformedRequestError("an array item was serialized as null")
                self._null(field)
                return
        self._skip(size)

    def _null(self, field: _FieldPlan) -> None:
        # Kafka's generated readers refuse this; kio would hand a handler None instead.
        if not field.nullable:
            raise MalformedRequestError(
                f"non-nullable field at position {self._pos} was serialized as null"
            )

    def _length(self, kafka_type: str, compact: bool) -> int:
        """The byte length of a string, bytes or records value (negative when null)."""
        if compact:
            return self._uvarint() - 1
        if kafka_type == "string":
            return self._int(_INT16)
        if kafka_type in ("bytes", "records"):
            return self._int(_INT32)
        raise MalformedRequestError(f"unknown field type {kafka_type!r}")

    def _tagged_fields(self, tagged: dict[int, _FieldPlan]) -> None:
        section_start = self._pos
        kept: list[bytes] = []
        for _ in range(self._uvarint()):
            tag = self._uvarint()
            size = self._uvarint()
            self._require(size)
            end = self._pos + size
            field = tagged.get(tag)
            if field is None:
                self.found_unknown_tags = True
            else:
                kept.append(self._tagged_value(tag, field, end))
            self._pos = end
        if self._rebuild:
            self._out.append(bytes(self._data[self._mark : section_start]))
            self._out.append(_uvarint_bytes(len(kept)))
            self._out.extend(kept)
            self._mark = self._pos

    def _tagged_value(self, tag: int, field: _FieldPlan, end: int) -> bytes:
        """Walk one known tagged field inside its declared size; when rebuilding, return
        it re-encoded (its own unknown tags removed, its size recomputed)."""
        outer = (self._limit, self._out, self._mark)
        self._limit, self._out, self._mark = end, [], self._pos
        try:
            self._field(field, flexible=True)
            if not self._rebuild:
                return b""
            self._out.append(bytes(self._data[self._mark : self._pos]))
            payload = b"".join(self._out)
        finally:
            self._limit, self._out, self._mark = outer
        return _uvarint_bytes(tag) + _uvarint_bytes(len(payload)) + payload

    def _int(self, codec: struct.Struct) -> int:
        self._require(codec.size)
        (value,) = codec.unpack_from(self._data, self._pos)
        self._pos += codec.size
        return int(value)

    def _uvarint(self) -> int:
        value = shift = 0
        for _ in range(_MAX_VARINT_BYTES):
            self._require(1)
            byte = self._data[self._pos]
            self._pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
        raise MalformedRequestError("unsigned varint longer than 5 bytes")

    def _skip(self, size: int) -> None:
        self._require(size)
        self._pos += size

    def _require(self, size: int) -> None:
        if size > self._limit - self._pos:
            raise MalformedRequestError(
                f"{size} bytes declared at position {self._pos}, {self._limit - self._pos} remain"
            )


@functools.cache
def _entity_plan(entity_type: Any) -> _EntityPlan:
    is_header = entity_type.__name__ == "RequestHeader"
    fields: list[_FieldPlan] = []
    tagged: dict[int, _FieldPlan] = {}
    for field in dataclasses.fields(entity_type):
        kind = classify_field(field)
        tag = get_field_tag(field)
        entity = kind.type_ if isinstance(kind, EntityField | EntityTupleField) else None
        kafka_type: str | None = field.metadata.get("kafka_type")
        fixed_size = _FIXED_SIZES.get(kafka_type or "", 0) if entity is None else 0
        plan = _FieldPlan(
            is_array=kind.is_array,
            fixed_size=fixed_size,
            entity=entity,
            nullable=is_optional(field),
            # Tagged fields are optional by their presence, never by a marker.
            nullable_entity=entity is not None and tag is None and is_optional(field),
            kafka_type=kafka_type,
            legacy_string=is_header and field.name == "client_id",
        )
        if tag is not None:
            tagged[int(tag)] = plan
        elif fields and _is_fixed_scalar(fields[-1]) and _is_fixed_scalar(plan):
            # Adjacent fixed-size fields are skipped in one step.
            fields[-1] = dataclasses.replace(
                fields[-1], fixed_size=fields[-1].fixed_size + fixed_size, kafka_type=None
            )
        else:
            fields.append(plan)
    return _EntityPlan(entity_type.__flexible__, tuple(fields), tagged)


def _is_fixed_scalar(plan: _FieldPlan) -> bool:
    return plan.fixed_size > 0 and not plan.is_array


def _uvarint_bytes(value: int) -> bytes:
    encoded = bytearray()
    while value > 0x7F:
        encoded.append((value & 0x7F) | 0x80)
        value >>= 7
    encoded.append(value)
    return bytes(encoded)
