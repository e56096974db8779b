"""The learner's data pages: download everything, delete the account (with a password
confirmation). Linked from the profile page."""

import json

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from teaching.services import privacy


class DeleteForm(forms.Form):
    password = forms.CharField(
        label="Your password", widget=forms.PasswordInput, max_length=200, strip=False
    )
    confirm = forms.BooleanField(label="I understand this deletes everything and cannot be undone")

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password; nothing was deleted.")
        return password


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    data = privacy.learner_export(user=request.user)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1),
        content_type="application/json",
    )
    filename = f"curiosity-coach-{request.user.username}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest) -> HttpResponse:
    form = DeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        privacy.learner_delete(user=user)
        messages.success(request, "Your account and all of your data were deleted.")
        return redirect("accounts:login")
    return render(request, "teaching/account_delete.html", {"form": form})
