"""Teaching modules: focus selection, validation and the learner's collection."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import env

# Modules per conversation (all languages together) and per learner-wide run.
TEACHING_MAX_FOCUSES = env.int("TEACHING_MAX_FOCUSES", default=3)
# Mistake groups shown to focus selection per language (the rest are not considered).
TEACHING_MAX_GROUPS = env.int("TEACHING_MAX_GROUPS", default=8)
# Sentences below this priority (1..5), and mistakes of these types, are not taught.
TEACHING_MIN_PRIORITY = env.int("TEACHING_MIN_PRIORITY", default=2)
TEACHING_TRIVIAL_TYPES = env.list("TEACHING_TRIVIAL_TYPES", default=["punctuation"])
# The judge's scores (1..5) a module needs: each at least the minimum, on average the mean.
TEACHING_JUDGE_MIN_SCORE = env.int("TEACHING_JUDGE_MIN_SCORE", default=3)
TEACHING_JUDGE_MIN_MEAN = env.float("TEACHING_JUDGE_MIN_MEAN", default=3.5)
# "target": explanations in the language being learned; "native": in the learner's own.
TEACHING_EXPLANATION_LANGUAGE = env.str("TEACHING_EXPLANATION_LANGUAGE", default="target")
if TEACHING_EXPLANATION_LANGUAGE not in ("target", "native"):
    raise ImproperlyConfigured("TEACHING_EXPLANATION_LANGUAGE must be target or native")
TEACHING_MAX_ATTEMPTS = env.int("TEACHING_MAX_ATTEMPTS", default=3)
# Limits on what a learner writes into their collection.
TEACHING_NOTES_MAX_CHARS = env.int("TEACHING_NOTES_MAX_CHARS", default=2000)
TEACHING_MAX_TAGS = env.int("TEACHING_MAX_TAGS", default=10)
TEACHING_TAG_MAX_CHARS = env.int("TEACHING_TAG_MAX_CHARS", default=30)
# Build lessons from the learner's corrected sentences and the grammar notes (no model);
# the model writes only the lessons the builder cannot make (other families, languages).
TEACHING_BUILD_LESSONS = env.bool("TEACHING_BUILD_LESSONS", default=True)
# Ask the model (module_generation) for more problems and examples for a built lesson;
# each is kept only if it passes the checks (teaching.core.additions). Off by default:
# the built-in model's additions do not pass, and asking it costs the learner time.
TEACHING_MODEL_ADDITIONS = env.bool("TEACHING_MODEL_ADDITIONS", default=False)
