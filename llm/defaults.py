"""The seeded task profiles. System prompts come from files owned by each feature.

Used by the seeding migration and by `profile_get`, which re-creates a missing seeded
profile on demand (a flushed test database, a row deleted in the admin by mistake) rather
than failing every call of that task.
"""

import hashlib
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent


class Seed(NamedTuple):
    prompt_file: str
    description: str
    temperature: float
    max_tokens: int
    context_budget: int
    cache: bool


CONVERSATIONS, ANALYSIS, TEACHING = "conversations/prompts", "analysis/prompts", "teaching/prompts"

PROFILES: dict[str, Seed] = {
    "chat": Seed(f"{CONVERSATIONS}/chat.txt", "Free conversation", 0.7, 400, 3000, False),
    "test_generation": Seed(
        f"{CONVERSATIONS}/test_generation.txt", "Practice questions", 0.2, 800, 2500, False
    ),
    "doubt_solver": Seed(
        f"{CONVERSATIONS}/doubt_solver.txt", "Step-by-step explanation", 0.3, 700, 3000, False
    ),
    "summary": Seed(
        f"{CONVERSATIONS}/summary.txt", "Rolling summary of older turns", 0.0, 300, 3000, True
    ),
    "analysis": Seed(
        f"{ANALYSIS}/analysis.txt", "Per-utterance error analysis", 0.0, 600, 2000, True
    ),
    "focus_selection": Seed(
        f"{TEACHING}/focus_selection.txt", "Which mistakes to teach", 0.0, 400, 3000, True
    ),
    "module_generation": Seed(
        f"{TEACHING}/module_generation.txt", "A teaching module per focus", 0.4, 1200, 3000, False
    ),
    "module_validation": Seed(
        f"{TEACHING}/module_validation.txt", "LLM judge of a module", 0.0, 600, 3000, True
    ),
    # No reply cache: the tutor evaluation asks the judge afresh on every run.
    "tutor_judge": Seed(
        f"{CONVERSATIONS}/tutor_judge.txt", "LLM judge of a tutor reply", 0.0, 400, 3000, False
    ),
}


def profile_defaults(name: str) -> dict[str, Any]:
    seed = PROFILES[name]
    prompt_file = ROOT / seed.prompt_file
    prompt = prompt_file.read_text(encoding="utf-8").strip() if prompt_file.exists() else ""
    return {
        "description": seed.description,
        "temperature": seed.temperature,
        "max_tokens": seed.max_tokens,
        "context_budget": seed.context_budget,
        "cache_enabled": seed.cache,
        "system_prompt_template": prompt,
    }


def seed_profiles(profile_model: Any, names: list[str] | None = None) -> None:
    """Create the seeded profiles that do not exist; existing rows stay untouched."""
    for name in names or list(PROFILES):
        profile_model.objects.get_or_create(name=name, defaults=profile_defaults(name))


# SHA-256 of system prompts this product shipped before (stripped, UTF-8), by profile.
# A row still holding one of them was seeded and never edited: it gets the current
# prompt (refresh_shipped_prompts); a prompt staff wrote is never replaced. When a prompt
# file changes, add its old hash here and a migration that calls refresh_shipped_prompts.
SHIPPED_BEFORE: dict[str, frozenset[str]] = {
    # The first analysis prompt asked for spans and types, which ERRANT now derives; its
    # replies do not match the current schema, so every batch would fail.
    "analysis": frozenset({"f6307d4c2755fda580c5caf699dea5e7e8a0fdca8963cd12ff53061a08462bc9"}),
}


def prompt_digest(prompt: str) -> str:
    return hashlib.sha256(prompt.strip().encode("utf-8")).hexdigest()


def refresh_shipped_prompts(profile_model: Any) -> list[str]:
    """Give rows that still hold an earlier shipped prompt the current one; the names."""
    refreshed = []
    for name, digests in SHIPPED_BEFORE.items():
        row = profile_model.objects.filter(name=name).first()
        if row is not None and prompt_digest(row.system_prompt_template) in digests:
            row.system_prompt_template = profile_defaults(name)["system_prompt_template"]
            row.save(update_fields=["system_prompt_template", "updated_at"])
            refreshed.append(name)
    return refreshed
