from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.sign_up, name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("logout/everywhere/", views.logout_everywhere, name="logout-everywhere"),
    path("profile/", views.profile, name="profile"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password-reset-sent"),
    path(
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("reset/done/", views.PasswordResetCompleteView.as_view(), name="password-reset-complete"),
    # Changing the password closes the learner's other sockets (accounts.signals) and
    # revokes their JWTs; this browser stays signed in.
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/password_change.html",
            success_url=reverse_lazy("accounts:profile"),
        ),
        name="password-change",
    ),
]
