"""Analysis of learner messages: languages, batches, external conversations, idle end."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import BASE_DIR, env

# Languages the detector tells apart (ISO 639-1); lingua is built for these only (each adds
# memory). English is annotated with ERRANT; the others get a lower-confidence token diff.
ANALYSIS_LANGUAGES = env.list("ANALYSIS_LANGUAGES", default=["en", "es", "ko", "fr", "de"])
ANALYSIS_LANGUAGES = [code.strip().lower() for code in ANALYSIS_LANGUAGES if code.strip()]
if not ANALYSIS_LANGUAGES or not all(len(c) == 2 and c.isalpha() for c in ANALYSIS_LANGUAGES):
    raise ImproperlyConfigured(
        f"ANALYSIS_LANGUAGES must be ISO 639-1 codes such as en,es,ko, not {ANALYSIS_LANGUAGES!r}"
    )
# Utterances per model call of the `analysis` profile: 1 (one call each) or a batch in one
# call. Measured with the local model on ten fixture sentences (docs/analysis-core.md): one
# call each was as fast per sentence and far more accurate (F0.5 0.89 vs 0.42).
ANALYSIS_UTTERANCES_PER_CALL = env.int("ANALYSIS_UTTERANCES_PER_CALL", default=1)
if not 1 <= ANALYSIS_UTTERANCES_PER_CALL <= 20:
    raise ImproperlyConfigured("ANALYSIS_UTTERANCES_PER_CALL must be between 1 and 20")

# Learner messages per batch: each batch is analysed by one background task.
ANALYSIS_BATCH_SIZE = env.int("ANALYSIS_BATCH_SIZE", default=10)
if ANALYSIS_BATCH_SIZE < 1:
    raise ImproperlyConfigured("ANALYSIS_BATCH_SIZE must be at least 1")
# Preceding messages (any speaker) sent with each utterance as context.
ANALYSIS_CONTEXT_MESSAGES = 3
# A conversation with no new message for this long is ended (its analysis completes);
# 0 turns the idle timeout off.
ANALYSIS_IDLE_END_SECONDS = env.int("ANALYSIS_IDLE_END_SECONDS", default=30 * 60)
ANALYSIS_IDLE_SWEEP_SECONDS = env.float("ANALYSIS_IDLE_SWEEP_SECONDS", default=60.0)
# Tries of a batch or clustering run before it is marked failed with the reason.
ANALYSIS_MAX_ATTEMPTS = env.int("ANALYSIS_MAX_ATTEMPTS", default=3)
# Rounds a failed batch is retried automatically, 10 min, 20 min, 40 min after it failed
# (JOB_AUTO_RETRY_BASE_SECONDS); the learner can retry it from its page at any time.
ANALYSIS_AUTO_RETRIES = env.int("ANALYSIS_AUTO_RETRIES", default=3)
# External ingestion: limits per message, per conversation, and the request rate.
ANALYSIS_INGEST_TEXT_MAX_CHARS = env.int("ANALYSIS_INGEST_TEXT_MAX_CHARS", default=4000)
ANALYSIS_INGEST_MAX_MESSAGES = env.int("ANALYSIS_INGEST_MAX_MESSAGES", default=5000)

# --- What a learner is told: detectors and the precision gate (docs/analysis-detectors.md)

# Detectors (analysis.detectors.DETECTORS) whose proposals may reach the learner; the
# per-message pass runs those that need no model, the batch pass all of them.
ANALYSIS_DETECTORS = env.list(
    "ANALYSIS_DETECTORS", default=["harper", "spelling", "rules", "model"]
)
# An edit is shown when its detector's calibrated precision for that kind of mistake is at
# least this, or when two detectors propose it; the rest is kept for staff, never shown.
ANALYSIS_MIN_PRECISION = env.float("ANALYSIS_MIN_PRECISION", default=0.7)
if not 0.0 <= ANALYSIS_MIN_PRECISION <= 1.0:
    raise ImproperlyConfigured("ANALYSIS_MIN_PRECISION must be between 0 and 1")
# The table analysis_calibrate writes and the gate reads (committed in the repository).
ANALYSIS_CALIBRATION_FILE = env.str(
    "ANALYSIS_CALIBRATION_FILE", default=str(BASE_DIR / "analysis" / "calibration.json")
)
# The learner-English development set (calibration, analysis_eval and the suite's floors):
# beside the repository in shared/, else where this project's machines keep it.
ANALYSIS_DEV_DATA = env.str(
    "ANALYSIS_DEV_DATA",
    default=next(
        (
            str(p)
            for p in (
                BASE_DIR.parent / "shared" / "data" / "learner-english-dev",
                Path("/work/shared/data/learner-english-dev"),
            )
            if p.is_dir()
        ),
        str(BASE_DIR.parent / "shared" / "data" / "learner-english-dev"),
    ),
)
