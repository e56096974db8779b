"""API keys of model endpoints, encrypted at rest with Fernet (the `cryptography` package).

The Fernet key is derived by HKDF-SHA256 from LLM_ENDPOINT_KEY_SECRET, or from SECRET_KEY
when that is empty, so a copy of the database alone reveals no key.
"""

import base64
import functools

from django.conf import settings

# Binds the derived key to this use: the same secret signs sessions and tokens elsewhere.
HKDF_INFO = b"curiosity-coach/llm-endpoint-api-key/v1"


class KeyUnreadable(Exception):
    """A stored key that the current secret cannot decrypt (the secret changed)."""


@functools.lru_cache(maxsize=4)
def _fernet(secret: str):
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _current():
    return _fernet(settings.LLM_ENDPOINT_KEY_SECRET or settings.SECRET_KEY)


def encrypt(plain: str) -> str:
    return _current().encrypt(plain.encode()).decode("ascii")


def decrypt(token: str) -> str:
    from cryptography.fernet import InvalidToken

    try:
        return _current().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError) as exc:
        raise KeyUnreadable(
            "the stored key cannot be decrypted (LLM_ENDPOINT_KEY_SECRET or SECRET_KEY "
            "changed since it was saved): enter the key again"
        ) from exc


def hint(plain: str) -> str:
    """What the admin may show of a key: its last four characters."""
    return f"…{plain[-4:]}" if len(plain) > 8 else "…"
