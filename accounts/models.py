from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """The product's user. Custom from the first migration so it can grow freely."""

    email = models.EmailField("email address", blank=True)
    # Tokens (JWT) issued before this are refused: "sign out everywhere" (core.tokens).
    signed_out_everywhere_at = models.DateTimeField(null=True, blank=True, editable=False)


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Spanish"
    FRENCH = "fr", "French"
    GERMAN = "de", "German"
    ITALIAN = "it", "Italian"
    PORTUGUESE = "pt", "Portuguese"
    DUTCH = "nl", "Dutch"
    POLISH = "pl", "Polish"
    RUSSIAN = "ru", "Russian"
    UKRAINIAN = "uk", "Ukrainian"
    TURKISH = "tr", "Turkish"
    ARABIC = "ar", "Arabic"
    HINDI = "hi", "Hindi"
    CHINESE = "zh", "Chinese"
    JAPANESE = "ja", "Japanese"
    KOREAN = "ko", "Korean"


class Level(models.TextChoices):
    """CEFR levels: the scale teachers and exams already use."""

    A1 = "A1", "A1 · Beginner"
    A2 = "A2", "A2 · Elementary"
    B1 = "B1", "B1 · Intermediate"
    B2 = "B2", "B2 · Upper intermediate"
    C1 = "C1", "C1 · Advanced"
    C2 = "C2", "C2 · Proficient"


class ExplainIn(models.TextChoices):
    """The language grammar notes and lessons explain a mistake in."""

    TARGET = "target", "The language I am learning"
    NATIVE = "native", "My native language"


class LearnerProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    native_language = models.CharField(max_length=8, choices=Language, default=Language.SPANISH)
    target_language = models.CharField(max_length=8, choices=Language, default=Language.ENGLISH)
    level = models.CharField(max_length=2, choices=Level, default=Level.B1)
    explain_in = models.CharField(max_length=8, choices=ExplainIn, default=ExplainIn.TARGET)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} · {self.native_language}→{self.target_language} {self.level}"

    @property
    def explanation_language(self) -> str:
        """The language code explanations are written in for this learner."""
        if self.explain_in == ExplainIn.NATIVE and self.native_language:
            return self.native_language
        return self.target_language
