"""Proto messages of ``onestop.v1`` to and from the engine's and the gateway's models.

The contract mirrors the models field for field, so one rule converts them all:

* a model field ``x`` is the proto field ``x``, or ``x_fen`` when the amount's name does not say
  its unit (NHSA ``hifp_pay`` → ``hifp_pay_fen``); fen stay integers end to end;
* decimals (ratios, quantities, prices) travel as exact decimal text, dates as ``YYYY-MM-DD``;
* code enums travel as their NHSA value text; the gateway's status enums as proto enums
  (``settled`` → ``SETTLEMENT_STATUS_SETTLED``);
* an absent optional value is an unset field, never a zero.

A bill arrives as the same JSON document ``parse_bill_json`` reads, so a field violation names the
same path on the wire as in a file (``lines[3].quantity``). ``tests/gateway/rpc/test_convert.py``
checks that every model field has its proto field and the other way round.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from enum import Enum
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from pydantic import BaseModel

from onestop.domain import parse_bill_json
from onestop.domain.bill import Bill
from onestop.errors import FieldViolation, InvalidRequest, ResourceExhausted
from onestop.money import Fen

__all__ = ["SKIPPED_FIELDS", "bill_fingerprint_bytes", "bill_from_proto", "doc_from_proto", "fields_of", "to_dict"]

#: Model fields with no proto field: the leg ``kind`` literals (the proto says it by the field used).
SKIPPED_FIELDS = frozenset({"kind"})

_Plan = tuple[tuple[str, str, FieldDescriptor], ...]
_plans: dict[tuple[type[BaseModel], str], _Plan] = {}
#: Per model and message: (model field, proto field, nested message or None, field) — the walk of ``to_dict``.
_Walk = tuple[tuple[str, str, Descriptor | None, FieldDescriptor], ...]
_walks: dict[tuple[type[BaseModel], Descriptor], _Walk] = {}
#: Values a message constructor takes as they are (Fen is an int).
_AS_IS = frozenset({int, str, bool, Fen})
#: An enum member's wire value, per field: its proto enum name (``settled`` → ``SETTLEMENT_STATUS_SETTLED``)
#: or its code text.
_enum_names: dict[tuple[FieldDescriptor, type, Enum], Any] = {}


def _plan(model: type[BaseModel], desc: Descriptor) -> _Plan:
    key = (model, desc.full_name)
    plan = _plans.get(key)
    if plan is None:
        out = []
        for name in model.model_fields:
            if name in SKIPPED_FIELDS and name not in desc.fields_by_name:
                continue
            fd = desc.fields_by_name.get(name) or desc.fields_by_name.get(f"{name}_fen")
            if fd is None:
                raise TypeError(f"{desc.full_name} has no field for {model.__name__}.{name}")
            out.append((name, fd.name, fd))
        plan = _plans[key] = tuple(out)
    return plan


def fields_of(model: type[BaseModel], desc: Descriptor) -> dict[str, str]:
    """Model field → proto field name, for one model and its message (raises if one is missing)."""
    return {name: proto for name, proto, _ in _plan(model, desc)}


def _scalar(value: Any, fd: FieldDescriptor) -> Any:
    if isinstance(value, Enum):
        if fd.enum_type is not None:
            return f"{fd.enum_type.values[0].name.removesuffix('UNSPECIFIED')}{str(value.value).upper()}"
        return value.value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _walk(model: type[BaseModel], desc: Descriptor) -> _Walk:
    key = (model, desc)
    walk = _walks.get(key)
    if walk is None:
        walk = _walks[key] = tuple((name, proto, fd.message_type, fd) for name, proto, fd in _plan(model, desc))
    return walk


def _value(value: Any, fd: FieldDescriptor) -> Any:
    if isinstance(value, Enum):
        # Keyed by type too: members of two str enums with equal values compare equal.
        key = (fd, type(value), value)
        text = _enum_names.get(key)
        if text is None:
            text = _enum_names[key] = _scalar(value, fd)
        return text
    if type(value) is Decimal:
        return format(value, "f")
    return _scalar(value, fd)


def to_dict(model: BaseModel, desc: Descriptor) -> dict[str, Any]:
    """The keyword arguments that build ``desc``'s message from ``model`` (nested as dicts and lists).

    Protobuf message constructors take nested dicts, lists of dicts and enum names, so
    ``Message(**to_dict(m, Message.DESCRIPTOR))`` builds the whole tree in one call. The walk of each
    model and message pair is planned once: a 500-line answer is one pass of attribute reads.
    """
    out: dict[str, Any] = {}
    for name, proto, sub, fd in _walk(type(model), desc):
        value = getattr(model, name)
        if value is None:
            continue
        if type(value) in _AS_IS:
            out[proto] = value
        elif isinstance(value, tuple):
            if sub is not None:
                out[proto] = [to_dict(v, sub) for v in value]
            else:
                out[proto] = [v if type(v) in _AS_IS else _value(v, fd) for v in value]
        elif sub is not None:
            out[proto] = to_dict(value, sub)
        else:
            out[proto] = _value(value, fd)
    return out


_REPEATED_MSG, _REPEATED, _MESSAGE, _OPTIONAL, _TEXT, _VALUE = range(6)
_read_plans: dict[str, tuple[tuple[str, int], ...]] = {}


def _read_plan(desc: Any) -> tuple[tuple[str, int], ...]:
    plan = _read_plans.get(desc.full_name)
    if plan is None:
        out = []
        for fd in desc.fields:
            if fd.is_repeated:
                mode = _REPEATED_MSG if fd.message_type is not None else _REPEATED
            elif fd.message_type is not None:
                mode = _MESSAGE
            elif fd.has_presence:
                mode = _OPTIONAL
            elif fd.type == FieldDescriptor.TYPE_STRING:
                mode = _TEXT
            else:
                mode = _VALUE
            out.append((fd.name, mode))
        plan = _read_plans[desc.full_name] = tuple(out)
    return plan


def doc_from_proto(msg: Message) -> dict[str, Any]:
    """The JSON document of a request message whose fields are named as the model's.

    Empty text is left out (the model's default applies, or "field required" names it); integers
    and booleans are always given; an unset optional field is null; an unset message is left out.
    """
    out: dict[str, Any] = {}
    for name, mode in _read_plan(msg.DESCRIPTOR):
        value = getattr(msg, name)
        if mode == _TEXT:
            if value:
                out[name] = value
        elif mode == _VALUE:
            out[name] = value
        elif mode == _REPEATED_MSG:
            out[name] = [doc_from_proto(v) for v in value]
        elif mode == _REPEATED:
            out[name] = list(value)
        elif mode == _MESSAGE:
            if msg.HasField(name):
                out[name] = doc_from_proto(value)
        else:
            out[name] = value if msg.HasField(name) else None
    return out


def bill_from_proto(msg: Any, *, max_lines: int) -> Bill:
    """Validate a ``onestop.v1.Bill`` into the engine's :class:`Bill`.

    Raises:
        ResourceExhausted: More lines than ``max_lines`` (checked before any other work).
        InvalidRequest: One violation per offending field, named as in the JSON document.
    """
    if len(msg.lines) > max_lines:
        raise ResourceExhausted(
            f"the bill has {len(msg.lines)} lines; at most {max_lines} are accepted",
            metadata={"field": "bill.lines", "max_lines": str(max_lines)},
        )
    if not msg.ByteSize():
        raise InvalidRequest("the bill is missing", violations=(FieldViolation("bill", "is required"),))
    return parse_bill_json(json.dumps(doc_from_proto(msg), ensure_ascii=False))


def bill_fingerprint_bytes(msg: Message) -> bytes:
    """The canonical bytes of a bill: deterministic serialization (the idempotency fingerprint's input)."""
    return msg.SerializeToString(deterministic=True)
