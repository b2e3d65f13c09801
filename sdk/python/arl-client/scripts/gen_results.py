"""Generates arl_client/results.py: frozen dataclasses for the sidecar's
response messages, derived from the protobuf descriptors (no hand-copied
fields).

Each dataclass has exactly the fields of its proto message (snake_case proto
names, Python types from the field types), a ``from_proto`` constructor and a
``to_dict`` giving the sidecar's REST JSON shape. Run by scripts/generate.sh
after the pb2 stubs; drift-checked by `make check-generated`.

Usage: python scripts/gen_results.py OUT_FILE
"""

from __future__ import annotations

import sys
from pathlib import Path

from google.protobuf.descriptor import Descriptor, FieldDescriptor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from arl_client._proto.arl.sidecar.v1 import sidecar_pb2  # noqa: E402

# Proto message -> (Python class name, docstring).
MESSAGES = {
    "ExecuteResponse": ("ExecResult", "The outcome of a command run to its end (or started in the background)."),
    "ProcessStarted": ("ProcessStarted", "Stream event: the process is running with this pid."),
    "ProcessEnded": ("ProcessEnded", "Stream event: the process ended."),
    "ProcessInfo": ("ProcessInfo", "A process the sidecar started (running or kept after its end)."),
    "SignalResponse": ("SignalResult", "The outcome of a signal."),
    "ResetResponse": ("ResetResult", "The outcome of a reset."),
    "FileResult": ("FileWritten", "One file written by write_files."),
}
# Generated too once the proto has them (the files API).
OPTIONAL = ["FileInfo", "UploadFileResponse", "UploadTarResponse"]

_SCALARS = {
    FieldDescriptor.TYPE_STRING: ("str", '""'),
    FieldDescriptor.TYPE_BYTES: ("bytes", 'b""'),
    FieldDescriptor.TYPE_BOOL: ("bool", "False"),
    FieldDescriptor.TYPE_INT32: ("int", "0"),
    FieldDescriptor.TYPE_INT64: ("int", "0"),
    FieldDescriptor.TYPE_UINT32: ("int", "0"),
    FieldDescriptor.TYPE_UINT64: ("int", "0"),
    FieldDescriptor.TYPE_SINT32: ("int", "0"),
    FieldDescriptor.TYPE_SINT64: ("int", "0"),
    FieldDescriptor.TYPE_ENUM: ("int", "0"),
    FieldDescriptor.TYPE_DOUBLE: ("float", "0.0"),
    FieldDescriptor.TYPE_FLOAT: ("float", "0.0"),
}


def class_name(descriptor: Descriptor) -> str:
    return MESSAGES.get(descriptor.name, (descriptor.name, ""))[0]


def is_repeated(field: FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def field_line(field: FieldDescriptor) -> tuple[str, str]:
    """Returns (annotation line, from_proto expression)."""
    name = field.name
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        inner = class_name(field.message_type)
        if is_repeated(field):
            return (f"    {name}: list[{inner}] = field(default_factory=list)",
                    f"[{inner}.from_proto(item) for item in message.{name}]")
        return (f"    {name}: {inner} | None = None",
                f"{inner}.from_proto(message.{name}) if message.HasField({name!r}) else None")
    python_type, default = _SCALARS[field.type]
    if is_repeated(field):
        return (f"    {name}: list[{python_type}] = field(default_factory=list)", f"list(message.{name})")
    return f"    {name}: {python_type} = {default}", f"message.{name}"


def render_class(descriptor: Descriptor, doc: str) -> str:
    name = class_name(descriptor)
    lines = [
        "@dataclass(frozen=True)",
        f"class {name}:",
        f'    """{doc or descriptor.name}',
        "",
        f'    Proto message: arl.sidecar.v1.{descriptor.name}.',
        '    """',
        "",
    ]
    conversions = []
    for proto_field in descriptor.fields:
        annotation, expression = field_line(proto_field)
        lines.append(annotation)
        conversions.append(f"            {proto_field.name}={expression},")
    lines += [
        "",
        "    @classmethod",
        f"    def from_proto(cls, message: Any) -> {name}:",
        "        return cls(",
        *conversions,
        "        )",
        "",
        "    def to_dict(self) -> dict[str, Any]:",
        '        """The sidecar\'s REST JSON shape (snake_case proto names)."""',
        "        return asdict(self)",
    ]
    return "\n".join(lines)


def main() -> None:
    out = Path(sys.argv[1])
    # The service's file and the files of the same package it imports.
    by_name = dict(sidecar_pb2.DESCRIPTOR.message_types_by_name)
    for dependency in sidecar_pb2.DESCRIPTOR.dependencies:
        if dependency.package == sidecar_pb2.DESCRIPTOR.package:
            by_name.update(dependency.message_types_by_name)
    wanted = dict(MESSAGES)
    for extra in OPTIONAL:  # the files API, once the proto has it
        if extra in by_name:
            wanted.setdefault(extra, (extra, ""))
    # Nested message types first, so annotations resolve in order.
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        for proto_field in by_name[name].fields:
            if proto_field.type == FieldDescriptor.TYPE_MESSAGE and proto_field.message_type.name in by_name:
                nested = proto_field.message_type.name
                wanted.setdefault(nested, (nested, ""))
                visit(nested)
        ordered.append(name)

    for name in list(wanted):
        visit(name)
    body = "\n\n\n".join(render_class(by_name[name], wanted[name][1]) for name in ordered)
    names = sorted(class_name(by_name[name]) for name in ordered)
    exported = "".join(f'    "{name}",\n' for name in names)
    text = (
        "# Generated by scripts/gen_results.py from proto/arl/sidecar/v1/sidecar.proto. DO NOT EDIT.\n"
        '"""Typed results of the direct path, one frozen dataclass per sidecar response message."""\n\n'
        "from __future__ import annotations\n\n"
        "from dataclasses import asdict, dataclass, field\n"
        "from typing import Any\n\n"
        f"__all__ = [\n{exported}]\n\n\n"
        f"{body}\n"
    )
    out.write_text(text)


if __name__ == "__main__":
    main()
