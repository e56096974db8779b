"""A secret key for installs that did not set one: random, made once, kept beside the data.

Never a key printed in the repository: anyone could sign sessions and JWTs with that.
Processes on one machine share the file; several machines must set SECRET_KEY.
"""

import secrets
from pathlib import Path


def local_secret_key(var_dir: Path) -> str:
    key_file = var_dir / "secret-key"
    if not key_file.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        # O_EXCL: when two processes start at once, one writes and both read its key.
        try:
            with key_file.open("x") as handle:
                handle.write(secrets.token_urlsafe(64))
            key_file.chmod(0o600)
        except FileExistsError:
            pass
    return key_file.read_text().strip()
