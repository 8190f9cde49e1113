"""Login lock-out (django-axes) for /portal/login/ and /admin/login/: the pieces axes lets a project supply.

Failures are counted per (username, address). After AXES_FAILURE_LIMIT of them that
pair is locked out for LOGIN_COOLOFF_BASE_MINUTES; each further failure once a pause is
over locks it out again for twice as long as the one before, up to LOGIN_COOLOFF_MAX_HOURS.
An address failing LOGIN_ADDRESS_FAILURE_LIMIT times over all usernames within the base
pause is paused for all of them. While locked out, axes' backend refuses before any
password is hashed. A successful
login (AXES_RESET_ON_SUCCESS) or an operator (admin, `manage.py axes_reset_username`)
clears the count.

Axes computes a cool-off per request; its database handler would then delete every
other pair's records older than *this* request's cool-off, cutting short the longer
pauses of pairs that were locked out before. `LockoutHandler` keeps those.
"""

import datetime
import unicodedata

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Q, Sum
from django.shortcuts import render
from django.utils import timezone


def username(request, credentials=None) -> str | None:
    """The username a failure is counted for (AXES_USERNAME_CALLABLE): as the login forms clean it.

    The same from the form's credentials and from the raw POST (the cool-off sees only
    the request), cut to the 255 characters axes stores.
    """
    value = credentials.get("username") if credentials else None
    if value is None and request is not None:
        value = getattr(request, "POST", {}).get("username")
    if value is None:
        return None
    return unicodedata.normalize("NFKC", str(value)).replace("\x00", "").strip()[:255]


def base_cool_off() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.LOGIN_COOLOFF_BASE_MINUTES)


def longest_cool_off() -> datetime.timedelta:
    return max(datetime.timedelta(hours=settings.LOGIN_COOLOFF_MAX_HOURS), base_cool_off())


def cool_off_for_failures(failures: int) -> datetime.timedelta:
    """The pause after `failures` counted failures: the base one, doubled per failure past the limit, capped."""
    base, longest = base_cool_off(), longest_cool_off()
    doublings = max(0, failures - settings.AXES_FAILURE_LIMIT)
    if doublings >= 32:
        return longest
    return min(base * 2**doublings, longest)


def cool_off(request) -> datetime.timedelta:
    """AXES_COOLOFF_TIME: how long this request's (username, address) is paused, from its failures so far."""
    if request is None or getattr(request, "axes_ip_address", None) is None:
        return base_cool_off()
    failures = (
        AccessAttempt.objects.filter(username=username(request), ip_address=request.axes_ip_address).aggregate(
            total=Sum("failures_since_start")
        )["total"]
        or 0
    )
    return cool_off_for_failures(failures)


def address_failures(request) -> int:
    """Failed logins from this request's address within the base pause, over every username."""
    since = (getattr(request, "axes_attempt_time", None) or timezone.now()) - base_cool_off()
    return (
        AccessAttempt.objects.filter(ip_address=request.axes_ip_address, attempt_time__gte=since).aggregate(
            total=Sum("failures_since_start")
        )["total"]
        or 0
    )


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, forgetting failures below the limit after the base pause, the others after the longest.

    A pair that was locked out keeps its count for the longest pause after its last
    failure, so its next failure after a pause locks it out again, for longer.

    An address that fails LOGIN_ADDRESS_FAILURE_LIMIT times within the base pause, over
    any usernames, is paused for every username until its failures are older than
    that: trying many usernames from one address cannot keep the password hasher busy.
    """

    def get_failures(self, request, credentials=None) -> int:
        failures = super().get_failures(request, credentials)
        ceiling = settings.LOGIN_ADDRESS_FAILURE_LIMIT
        below = failures < settings.AXES_FAILURE_LIMIT
        if below and ceiling and request.axes_ip_address and address_failures(request) >= ceiling:
            return settings.AXES_FAILURE_LIMIT
        return failures

    def clean_expired_user_attempts(self, request=None, credentials=None) -> int:
        now = timezone.now()
        below_limit = Q(failures_since_start__lt=settings.AXES_FAILURE_LIMIT)
        count, _ = AccessAttempt.objects.filter(
            (below_limit & Q(attempt_time__lte=now - base_cool_off())) | Q(attempt_time__lte=now - longest_cool_off())
        ).delete()
        return count


def _duration(delta: datetime.timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(minutes / 60)
    return f"{hours} hours"


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: a normal portal page, 429, the same for known and unknown accounts."""
    return render(request, "registration/locked_out.html", {"pause": _duration(cool_off(request))}, status=429)
