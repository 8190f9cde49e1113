"""The page that shows a secret (or a one-time link) on the one response that creates it."""

from django.contrib import messages
from django.shortcuts import render


def render_shown_once(request, template_name: str, context: dict, *, message: str):
    """Answer a successful create with `template_name` (201), `message` on top.

    Rendered, not redirected: the secret is never stored anywhere, not even in
    the session, so this response is the only place it appears.
    core.security.NoStoreMiddleware keeps every copy of it out of caches.
    """
    messages.success(request, message)
    return render(request, template_name, context, status=201)
