from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

from accounts.models import Language, LearnerProfile, Level, User
from accounts.profiles import LABELS, profile_errors


class ProfileRules:
    """The profile's one rule, for any form with its fields."""

    def clean(self):
        cleaned = super().clean()
        errors = profile_errors(
            native_language=cleaned.get("native_language", ""),
            target_language=cleaned.get("target_language", ""),
        )
        for field, message in errors.items():
            self.add_error(field, message)
        return cleaned


class SignUpForm(ProfileRules, UserCreationForm):
    email = forms.EmailField(required=False, help_text="Optional, for password resets.")
    native_language = forms.ChoiceField(
        choices=Language.choices, initial=Language.SPANISH, label=LABELS["native_language"]
    )
    target_language = forms.ChoiceField(
        choices=Language.choices, initial=Language.ENGLISH, label=LABELS["target_language"]
    )
    level = forms.ChoiceField(choices=Level.choices, initial=Level.B1, label=LABELS["level"])

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password do not match. Check both and try again.",
    }


class ProfileForm(ProfileRules, forms.ModelForm):
    class Meta:
        model = LearnerProfile
        fields = ("native_language", "target_language", "level", "explain_in")
        labels = LABELS
