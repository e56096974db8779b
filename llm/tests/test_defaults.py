"""Seeded profiles that still hold an earlier shipped prompt get the current one."""

import pytest

from llm.defaults import profile_defaults, prompt_digest, refresh_shipped_prompts
from llm.models import TaskProfile

pytestmark = pytest.mark.django_db

# The analysis prompt databases were seeded with until the analyser changed its schema.
FIRST_ANALYSIS_PROMPT = (
    "You analyse one sentence written by a learner of {learner_target_language} "
    "(native language: {learner_native_language}, level {learner_level}).\n"
    "Report the sentence's language, each error (the exact span as it appears in the "
    "sentence, its type, the correction, a one-sentence explanation), the learner's "
    "apparent level, the topics, and how important the errors are to fix.\n"
    "Only report real errors; a correct sentence has an empty error list. Reply with "
    "JSON only."
)


def test_the_first_shipped_analysis_prompt_is_the_one_recognised():
    assert prompt_digest(FIRST_ANALYSIS_PROMPT) == (
        "f6307d4c2755fda580c5caf699dea5e7e8a0fdca8963cd12ff53061a08462bc9"
    )


def test_a_profile_seeded_with_an_earlier_prompt_gets_the_current_one():
    TaskProfile.objects.filter(name="analysis").update(system_prompt_template=FIRST_ANALYSIS_PROMPT)

    assert refresh_shipped_prompts(TaskProfile) == ["analysis"]

    current = profile_defaults("analysis")["system_prompt_template"]
    assert TaskProfile.objects.get(name="analysis").system_prompt_template == current
    assert "corrected" in current


def test_a_prompt_staff_edited_is_never_replaced():
    edited = FIRST_ANALYSIS_PROMPT + "\nAlways answer in British English."
    TaskProfile.objects.filter(name="analysis").update(system_prompt_template=edited)

    assert refresh_shipped_prompts(TaskProfile) == []

    assert TaskProfile.objects.get(name="analysis").system_prompt_template == edited
