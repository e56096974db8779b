"""A minimal instance of a JSON schema: deterministic default structured replies."""

from typing import Any


def example_for(schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    root = root or schema
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return example_for(root.get("$defs", root.get("definitions", {}))[name], root)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return example_for(schema[key][0], root)
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
