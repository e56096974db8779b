"""Small helpers over JSON schemas: a minimal instance (deterministic test replies) and a
skeleton with type placeholders (a compact format hint for small models)."""

from typing import Any


def resolved(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """The schema itself, not a reference to a definition or a choice (of which the first
    alternative stands for all)."""
    while True:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = root.get("$defs", root.get("definitions", {}))[name]
            continue
        key = next((k for k in ("anyOf", "oneOf", "allOf") if k in schema), None)
        if key is None:
            return schema
        schema = schema[key][0]


def example_for(schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    root = root or schema
    schema = resolved(schema, root)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: example_for(sub, root) for name, sub in properties.items()}
    if kind == "array":
        count = max(1, schema.get("minItems", 1))
        return [example_for(schema.get("items", {"type": "string"}), root) for _ in range(count)]
    if kind == "string":
        return "example"[: schema.get("maxLength", 7)].ljust(schema.get("minLength", 0), "x")
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1.0))
    if kind == "boolean":
        return True
    return None


def describe_fields(schema: dict[str, Any], root: dict[str, Any] | None = None) -> str:
    """The schema's fields in words, e.g. `language, mistakes (a list of: span, correction)`.
    A tiny model handed a JSON schema, or a skeleton with placeholders, copies it back;
    field names in words steer it without anything to copy (the grammar does the rest)."""
    root = root or schema
    schema = resolved(schema, root)
    kind = schema.get("type", "object")
    if kind == "array":
        inner = describe_fields(schema.get("items", {}), root)
        return f"a list of: {inner}" if inner else "a list"
    if kind != "object":
        return ""
    parts = []
    for name, sub in schema.get("properties", {}).items():
        inner = describe_fields(sub, root)
        parts.append(f"{name} ({inner})" if inner else name)
    return ", ".join(parts)
