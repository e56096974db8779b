"""The teaching prompts: template files next to this app, rendered with named values.

The system prompts are task profiles (editable in the admin); the per-call user prompts
and the per-language guidance are the files in teaching/prompts/. A module's
`prompt_version` hashes everything that shaped it, so staff can compare prompt versions.
"""

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import llm
from llm.prompts import render

PROMPTS = Path(__file__).resolve().parent / "prompts"


@lru_cache(maxsize=32)
def template(name: str) -> str:
    return (PROMPTS / f"{name}.txt").read_text(encoding="utf-8").strip()


def guidance(language: str) -> str:
    """Per-language advice: what matters differs between learners of English and Korean."""
    path = PROMPTS / "guidance" / f"{language}.txt"
    return template(f"guidance/{language}" if path.exists() else "guidance/default")


def user_prompt(name: str, **values) -> str:
    return render(template(name), values)


def prompt_version(profile: str, user_template: str, schema: dict) -> str:
    """A short hash of the system prompt, the user template and the schema."""
    parts = [llm.get_profile(profile).system_prompt_template, template(user_template)]
    digest = hashlib.sha256(("\0".join(parts) + json.dumps(schema, sort_keys=True)).encode())
    return digest.hexdigest()[:12]
