from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services, signals, throttles
from accounts.forms import LoginForm, ProfileForm, SignUpForm
from accounts.throttles import SignInRateThrottle
from core.events import publish
from core.websocket import session_group, user_sockets_close


@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = services.learner_sign_up(
            username=data["username"],
            password=data["password1"],
            email=data["email"],
            native_language=data["native_language"],
            target_language=data["target_language"],
            level=data["level"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}! Ask your tutor anything.")
        return redirect("home")
    return render(
        request, "accounts/sign_up.html", {"form": form}, status=400 if form.errors else 200
    )


class ThrottledFormMixin:
    """Attempts per client address (the sign-in rate): guessing passwords and sending
    reset e-mails to someone else's address both stop after a few tries a minute."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        throttle = SignInRateThrottle()
        if not throttle.allow_request(request, self):
            wait = int(throttle.wait() or 60)
            return self.refuse(wait, f"Too many attempts. Wait {wait} seconds, then try again.")
        wait = throttles.account_wait_seconds(self.username())
        if wait:
            return self.refuse(wait, throttles.account_message(wait))
        return super().post(request, *args, **kwargs)

    def username(self) -> str:
        return self.request.POST.get("username", "")

    def refuse(self, wait: int, message: str) -> HttpResponse:
        form = self.get_form()
        form.add_error(None, message)
        response = self.render_to_response(self.get_context_data(form=form))
        response.status_code = 429
        response["Retry-After"] = str(wait)
        return response

    def form_invalid(self, form) -> HttpResponse:
        if form.has_error(NON_FIELD_ERRORS, "invalid_login"):
            throttles.account_failure(self.username())
        return super().form_invalid(form)

    def form_valid(self, form) -> HttpResponse:
        throttles.account_success(self.username())
        return super().form_valid(form)


class LoginView(ThrottledFormMixin, auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordResetView(ThrottledFormMixin, auth_views.PasswordResetView):
    """Django's reset flow: the same answer whether or not the address has an account,
    so the page does not reveal who is registered."""

    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-sent")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_sent.html"

    def get_context_data(self, **kwargs):
        days = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
        return {**super().get_context_data(**kwargs), "timeout_days": days}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        session_key = request.session.session_key
        response = super().post(request, *args, **kwargs)
        if session_key:
            # Sockets this session opened close with 4401 now, not at their next frame.
            publish(session_group(session_key), {"type": "auth.ended"})
        messages.success(request, "You are logged out. See you next time!")
        return response


@login_required
@require_POST
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    """Sign out of every browser, revoke every token (JWT) issued so far and close every
    open socket."""
    user_id = request.user.pk
    services.tokens_revoke(user_id=user_id)
    logout(request)
    signals.sessions_end(user_id)
    user_sockets_close(user_id)
    messages.success(request, "You are signed out everywhere.")
    return redirect("accounts:login")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    current = services.learner_profile_get_or_create(user=request.user)
    form = ProfileForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        services.learner_profile_update(user=request.user, **form.cleaned_data)
        messages.success(request, "Profile saved.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})
