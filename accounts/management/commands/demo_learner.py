from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.services import demo_learner_ensure


class Command(BaseCommand):
    help = "Creates the demo learner if missing and prints how to sign in."

    def handle(self, *args, **options) -> None:
        # The password is kept beside the local database (never in the repository) so
        # every start can print it again; the database only holds its hash.
        credentials_file = settings.VAR_DIR / "demo-credentials.txt"
        user, password = demo_learner_ensure()
        if password:
            settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
            credentials_file.write_text(password)
            credentials_file.chmod(0o600)
        elif credentials_file.exists():
            password = credentials_file.read_text().strip()
        shown = password or "(set earlier; change it with `manage.py changepassword demo`)"
        self.stdout.write(
            self.style.SUCCESS(f"Demo learner  username: {user.username}  password: {shown}")
        )
