"""The page that shows a secret (or a one-time link) once: after the POST that creates it, or on that response."""

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from django.contrib import messages
from django.shortcuts import render
from django.utils.crypto import salted_hmac

_SESSION_KEY = "portal_shown_once:"
# A secret not shown within this many seconds of its creation is gone (roll it again).
KEEP_SECONDS = 600


def render_shown_once(request, template_name: str, context: dict, *, message: str):
    """Answer a successful create with `template_name` (201), `message` on top.

    Rendered, not redirected: the secret is never stored anywhere, not even in
    the session, so this response is the only place it appears.
    core.security.NoStoreMiddleware keeps every copy of it out of caches.
    """
    messages.success(request, message)
    return render(request, template_name, context, status=201)


def _fernet() -> Fernet:
    key = salted_hmac("portal.shown_once", "fernet", algorithm="sha256").digest()
    return Fernet(base64.urlsafe_b64encode(key))


def keep_for_one_showing(request, kind: str, values: dict, *, message: str) -> None:
    """Keep `values` (a secret and what names it) for the one GET after the POST that made it.

    For POST-redirect-GET: reloading the page that shows the secret must not make
    another one. The values wait in the session encrypted (Fernet, a key derived
    from SECRET_KEY), for at most KEEP_SECONDS, and `take_shown_once` removes them
    as it reads them, so the secret is shown once and never rests in clear.
    """
    messages.success(request, message)
    request.session[_SESSION_KEY + kind] = _fernet().encrypt(json.dumps(values).encode()).decode()


def take_shown_once(request, kind: str) -> dict | None:
    """The values kept for this showing, removed from the session; None when shown already or expired."""
    kept = request.session.pop(_SESSION_KEY + kind, None)
    if kept is None:
        return None
    try:
        return json.loads(_fernet().decrypt(kept.encode(), ttl=KEEP_SECONDS))
    except InvalidToken:
        return None
