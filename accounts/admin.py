from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import LearnerProfile, User


class LearnerProfileInline(admin.StackedInline):
    model = LearnerProfile
    can_delete = False


@admin.register(User)
class CoachUserAdmin(UserAdmin):
    inlines = [LearnerProfileInline]
    list_display = ("username", "email", "is_staff", "date_joined", "last_login")
