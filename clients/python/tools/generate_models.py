"""Write mynareception_client/models.py from the service's OpenAPI document.

    python clients/python/tools/generate_models.py http://localhost:5000/api/openapi.json
    python clients/python/tools/generate_models.py openapi.json --check   # exit 1 if models.py differs

Every schema under `components.schemas` becomes a frozen, keyword-only dataclass (objects) or a
`Literal` alias (enums). Types: string → str (date → datetime.date, date-time →
datetime.datetime), integer → int, number → float, boolean → bool, arrays → list[...], a free
object → dict[str, Any]; a nullable type is `T | None`; a property the schema does not require
defaults to None. The client's tests run this against the live server's document and compare, so
a change in the spec fails them until models.py is generated again.

Standard library only: it runs before the package is installed.
"""
from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

MODELS = Path(__file__).resolve().parents[1] / "mynareception_client" / "models.py"

HEADER = '''"""Typed models of the API's objects, generated from /api/openapi.json by
clients/python/tools/generate_models.py: do not edit by hand; run the generator again.

Objects are frozen, keyword-only dataclasses; `mynareception_client.decode(Model, json)` builds
one from a response (unknown keys are ignored, so a newer server does not break an older client).
Enumerations are `Literal` aliases with the spec's values. Dates and instants are parsed
(`datetime.date`, timezone-aware `datetime.datetime` in JST as the API sends them).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Literal

'''


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _scalar(kind: str, schema: dict[str, Any]) -> str:
    if kind == "string":
        return {"date": "datetime.date", "date-time": "datetime.datetime"}.get(schema.get("format", ""), "str")
    if kind == "array":
        return f"list[{type_of(schema.get('items', {}))}]"
    return {"integer": "int", "number": "float", "boolean": "bool", "object": "dict[str, Any]",
            "null": "None"}.get(kind, "Any")


def type_of(schema: dict[str, Any]) -> str:
    """The Python annotation (a string) of one schema."""
    if "$ref" in schema:
        return _ref_name(schema["$ref"])
    if "anyOf" in schema or "oneOf" in schema:
        parts: list[str] = []
        for option in schema.get("anyOf") or schema.get("oneOf"):
            annotation = type_of(option)
            if annotation not in parts:
                parts.append(annotation)
        if "None" in parts:  # None last: `X | None`
            parts = [p for p in parts if p != "None"] + ["None"]
        return " | ".join(parts)
    if "enum" in schema:
        return "Literal[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"]) + "]"
    kinds = schema.get("type", "object")
    if isinstance(kinds, str):
        kinds = [kinds]
    if kinds == ["null"]:
        return "None"
    parts = [_scalar(k, schema) for k in kinds if k != "null"] or ["Any"]
    if "null" in kinds:
        parts.append("None")
    return " | ".join(parts)


def _docline(text: str | None) -> str:
    return " ".join((text or "").split()).replace('"""', "'''").replace("\\", "\\\\")


def _object(name: str, schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    lines = ["@dataclass(frozen=True, kw_only=True)", f"class {name}:"]
    doc = _docline(schema.get("description"))
    lines.append(f'    """{doc or name}"""')
    lines.append("")
    for prop in sorted(schema.get("properties", {})):
        sub = schema["properties"][prop]
        annotation = type_of(sub)
        if prop not in required:
            if not annotation.endswith("| None") and annotation != "Any":
                annotation += " | None"
            line = f"    {prop}: {annotation} = None"
        else:
            line = f"    {prop}: {annotation}"
        lines.append(line)
        comment = _docline(sub.get("description"))
        if comment:
            lines[-1] += f"  # {comment[:100]}"
    return "\n".join(lines) + "\n"


def response_schemas(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The inline object each operation answers (its first 2xx), named <OperationId>Response."""
    found: dict[str, dict[str, Any]] = {}
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            for status in sorted(operation.get("responses", {})):
                schema = (operation["responses"][status].get("content", {})
                          .get("application/json", {}).get("schema", {}))
                if status.startswith("2") and "properties" in schema:
                    name = "".join(part.capitalize() for part in operation["operationId"].split("_")) + "Response"
                    found[name] = {**schema, "description": f"The answer of {operation['operationId']}."}
                    break
    return found


def generate(spec: dict[str, Any]) -> str:
    schemas = {**spec["components"]["schemas"], **response_schemas(spec)}
    out = [HEADER]
    for name in sorted(schemas):
        schema = schemas[name]
        if "enum" in schema:
            alias = f"{name} = {type_of(schema)}\n"
            if len(alias) > 110:  # one value a line
                values = ",\n".join("    " + json.dumps(v, ensure_ascii=False) for v in schema["enum"])
                alias = f"{name} = Literal[\n{values},\n]\n"
            out.append(alias)
    out.append("\n")
    for name in sorted(schemas):
        schema = schemas[name]
        if "enum" not in schema:
            out.append("\n" + _object(name, schema) + "\n")
    return "".join(out).rstrip("\n") + "\n"


def load(source: str) -> dict[str, Any]:
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:
            return json.loads(response.read())
    return json.loads(Path(source).read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", help="the OpenAPI document: a URL (…/api/openapi.json) or a file")
    parser.add_argument("--check", action="store_true", help="compare with models.py instead of writing it")
    args = parser.parse_args(argv)
    text = generate(load(args.spec))
    if args.check:
        if MODELS.read_text(encoding="utf-8") != text:
            print(f"{MODELS} differs from the spec: run this without --check", file=sys.stderr)
            return 1
        return 0
    MODELS.write_text(text, encoding="utf-8")
    print(f"wrote {MODELS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
