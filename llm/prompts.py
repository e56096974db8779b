"""System prompts: a profile's template rendered with named variables.

The renderer replaces `{name}` for identifiers it knows and leaves everything else as it
is — unknown names, JSON examples, stray braces — so a prompt edited in the admin can
never crash a call (str.format would raise on `{"a": 1}`) nor run code (no template
language, no attribute access).
"""

import re
from typing import Any

_VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render(template: str, variables: dict[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(variables[name]) if name in variables else match.group(0)

    return _VARIABLE.sub(replace, template)


def learner_variables(user: Any) -> dict[str, str]:
    """The learner's languages and level, by the names prompts use."""
    profile = getattr(user, "profile", None) if user is not None else None
    if profile is None:
        return {
            "learner_native_language": "their native language",
            "learner_target_language": "English",
            "learner_level": "B1",
        }
    return {
        "learner_native_language": profile.get_native_language_display(),
        "learner_target_language": profile.get_target_language_display(),
        "learner_level": profile.level,
    }
