"""The scenario and study files described from their pydantic models: the JSON Schemas that
editors check files against (schemas/*.schema.json) and the field reference docs/scenario.md,
both generated, never written by hand. `python -m planner.scenario.reference` rewrites them;
tests/scenario/test_reference.py fails when a committed copy is stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from planner.outputs.layout import GeneratedFiles

SCHEMA_FILES = {"scenario": GeneratedFiles.SCENARIO_SCHEMA, "study": GeneratedFiles.STUDY_SCHEMA}
REFERENCE_FILE = GeneratedFiles.FIELD_REFERENCE
# unit of a field, from the end of its name (names carry their units: docs/architecture.md)
UNIT_SUFFIXES = (
    ("_usd_per_gpu_hour", "USD per GPU-hour"), ("_usd_per_pflops_hour", "USD per PFLOP/s-hour"),
    ("_usd_per_kwh", "USD per kWh"), ("_usd_per_quarter", "USD per quarter"),
    ("_usd", "USD"), ("_days", "days"), ("_hours", "hours"), ("_kw", "kW"), ("_mw", "MW"),
    ("_tflops", "TFLOP/s"), ("_pflops", "PFLOP/s"), ("_gb", "GB"), ("_s", "seconds"),
    ("_quarters", "quarters"), ("_per_quarter", "per quarter"), ("_fraction", "share 0-1"),
    ("_probability", "probability 0-1"), ("probability", "probability 0-1"),
    ("_share", "share 0-1"), ("_nodes", "nodes"), ("_gpus", "GPUs"), ("_date", "ISO date"),
)


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (validation mode: what a file may contain)."""
    from planner.scenario.schema import Scenario

    return _titled(Scenario.model_json_schema(), "planner scenario")


def study_schema() -> dict[str, Any]:
    """The JSON Schema of study files."""
    from planner.studies.schema import Study

    return _titled(Study.model_json_schema(), "planner study")


def _titled(schema: dict[str, Any], title: str) -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": title}


def schema_text(schema: dict[str, Any]) -> str:
    """A schema as its committed file holds it."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def unit_of(name: str) -> str:
    """The unit a field's name carries ('' when none)."""
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    return ""


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type_text(prop: dict[str, Any]) -> str:
    """A property's type in a few words, models linked to their section."""
    if "$ref" in prop:
        name = _ref_name(prop["$ref"])
        return f"[{name}](#{name.lower()})"
    if "const" in prop:
        return f"`{prop['const']}`"
    if "enum" in prop:
        return " or ".join(f"`{v}`" for v in prop["enum"])
    for key in ("anyOf", "oneOf"):
        if key in prop:
            members = [m for m in prop[key] if m.get("type") != "null"]
            if "discriminator" in prop or all("$ref" in m for m in members) and len(members) > 3:
                return "a distribution" if any(_ref_name(m.get("$ref", "")) == "Fixed"
                                               for m in members) else \
                    " or ".join(_type_text(m) for m in members)
            return " or ".join(_type_text(m) for m in members)
    kind = prop.get("type")
    if kind == "array":
        return f"list of {_type_text(prop.get('items', {}))}"
    if kind == "object":
        values = prop.get("additionalProperties")
        return f"map to {_type_text(values)}" if isinstance(values, dict) else "map"
    bounds = []
    for key, sign in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
                      ("exclusiveMaximum", "<")):
        if key in prop:
            bounds.append(f"{sign} {prop[key]:g}" if isinstance(prop[key], float)
                          else f"{sign} {prop[key]}")
    text = {"number": "number", "integer": "integer", "string": "text", "boolean": "true/false",
            None: "any"}.get(kind, str(kind))
    if prop.get("format") == "date":
        text = "date"
    return text + (f" ({', '.join(bounds)})" if bounds else "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default(prop: dict[str, Any], required: bool) -> str:
    if required:
        return "required"
    if "default" not in prop:
        return "its defaults" if "$ref" in prop or prop.get("type") in ("array", "object") else ""
    value = prop["default"]
    if value is None:
        return "none"
    return f"`{json.dumps(value)}`"


def _section(name: str, model: dict[str, Any]) -> list[str]:
    lines = [f"### {name}", ""]
    if model.get("description"):
        lines += [" ".join(model["description"].split()), ""]
    props = model.get("properties", {})
    if not props:
        return lines
    required = set(model.get("required", []))
    lines += ["| field | type | unit | default | meaning |", "|---|---|---|---|---|"]
    for field, prop in props.items():
        lines.append(f"| `{field}` | {_cell(_type_text(prop))} | {unit_of(field)} | "
                     f"{_cell(_default(prop, field in required))} | "
                     f"{_cell(' '.join(prop.get('description', '').split()))} |")
    return lines + [""]


def reference_markdown() -> str:
    """docs/scenario.md: every field of scenario and study files, its type, unit, default and
    meaning, one section per model in the order a reader meets them."""
    parts = ["# Scenario and study files: field reference", "",
             "Generated from the pydantic models by `python -m planner.scenario.reference`; do not "
             "edit by hand (a test fails when it is stale). Editors check files against "
             "`schemas/scenario.schema.json` and `schemas/study.schema.json`: the examples start "
             "with a `# yaml-language-server: $schema=...` line. A bare number where a "
             "distribution is expected stands for a fixed value (`30` is "
             "`{dist: fixed, value: 30}`). Units are in the field names.", ""]
    scenario_defs = set(scenario_schema().get("$defs", {}))
    for title, schema in (("Scenario file", scenario_schema()), ("Study file", study_schema())):
        parts += [f"## {title}", ""]
        root = {k: v for k, v in schema.items() if k != "$defs"}
        parts += _section(schema["title"].split()[-1].capitalize(), root)
        defs = schema.get("$defs", {})
        for name in _reading_order(schema, defs):
            if title == "Study file" and name in scenario_defs:
                continue  # shared with scenarios: described above
            parts += _section(name, defs[name])
    return "\n".join(parts).rstrip() + "\n"


def _reading_order(root: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    """Definitions in the order they are first referenced, depth first from the root."""
    seen: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                name = _ref_name(ref)
                if name not in seen and name in defs:
                    seen.append(name)
                    visit(defs[name])
            for key, value in node.items():
                if key != "$defs":
                    visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(root)
    return seen + sorted(set(defs) - set(seen))


def generated_files() -> dict[str, str]:
    """Every generated file: path relative to the repository -> its text."""
    return {SCHEMA_FILES["scenario"]: schema_text(scenario_schema()),
            SCHEMA_FILES["study"]: schema_text(study_schema()),
            REFERENCE_FILE: reference_markdown()}


def main(root: Path) -> None:
    for path, text in generated_files().items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd())
