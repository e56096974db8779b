from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

from accounts.models import Language, LearnerProfile, Level, User


class SignUpForm(UserCreationForm):
    email = forms.EmailField(required=False, help_text="Optional, for password resets.")
    native_language = forms.ChoiceField(choices=Language.choices, initial=Language.SPANISH)
    target_language = forms.ChoiceField(
        choices=Language.choices, initial=Language.ENGLISH, label="Language you are learning"
    )
    level = forms.ChoiceField(choices=Level.choices, initial=Level.B1, label="Your level")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("native_language") and cleaned.get("native_language") == cleaned.get(
            "target_language"
        ):
            self.add_error("target_language", "Pick a language other than your native one.")
        return cleaned


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password do not match. Check both and try again.",
    }


class ProfileForm(forms.ModelForm):
    class Meta:
        model = LearnerProfile
        fields = ("native_language", "target_language", "level")
