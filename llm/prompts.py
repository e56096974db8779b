"""Prompts: one syntax everywhere, LangChain's prompt templates with `{name}` variables.

System prompts (task profiles, editable in the admin), the prompt files next to each
feature and the per-call user prompts are all filled by `render`. Before LangChain formats
a template, every brace that is not a variable it is given is escaped, so a prompt edited
in the admin can never crash a call (a JSON example, a stray brace or an unknown name
stays as written) nor run code (f-string templates allow no attribute access or calls).
"""

import re
from typing import Any

from langchain_core.prompts import PromptTemplate

_VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render(template: str, variables: dict[str, Any]) -> str:
    known = {name for name in _VARIABLE.findall(template) if name in variables}
    prompt = PromptTemplate.from_template(_escaped(template, known))
    return prompt.format(**{name: str(variables[name]) for name in known})


def _escaped(template: str, known: set[str]) -> str:
    """The template with every brace doubled except around the variables in `known`."""
    out, at = [], 0
    for match in _VARIABLE.finditer(template):
        if match.group(1) not in known:
            continue
        out.append(_double(template[at : match.start()]))
        out.append(match.group(0))
        at = match.end()
    out.append(_double(template[at:]))
    return "".join(out)


def _double(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


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
