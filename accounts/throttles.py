from rest_framework.throttling import SimpleRateThrottle


class SignInRateThrottle(SimpleRateThrottle):
    """Attempts to sign in per client address, for the JWT endpoint and the log-in page."""

    scope = "sign_in"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
