"""The emails the vault sends to people: a password-reset link and an invitation link.

The backend is EMAIL_URL's (config/settings/email.py). A reset link is sent by the worker
(`password_reset_email_task`), never by the request that asks for it: that request does the
same work (queue one job) for a known and an unknown address, so neither its answer nor its
duration tells which addresses have an account. An invitation is sent by the admin's own
request, which shows the link as well.
"""

import logging

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django_tasks import task

logger = logging.getLogger(__name__)

RESET_SUBJECT_TEMPLATE = "registration/portal_password_reset_subject.txt"
RESET_EMAIL_TEMPLATE = "registration/portal_password_reset_email.txt"
INVITATION_SUBJECT_TEMPLATE = "portal/invitations/email_subject.txt"
INVITATION_EMAIL_TEMPLATE = "portal/invitations/email.txt"


def may_reset_password_by_email(user) -> bool:
    """Whether a link mailed to the account's address may set its password.

    Not an account without a password (a pending invitation: its invitation link is its way in,
    merchants.services.account_may_be_claimed), nor a platform operator's (staff or superuser:
    rights over every merchant never hang on one mailbox; `manage.py changepassword` resets those).
    """
    return user.is_active and user.has_usable_password() and not user.is_staff and not user.is_superuser


class PortalPasswordResetForm(PasswordResetForm):
    """Django's form, mailing only the accounts that may_reset_password_by_email."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if may_reset_password_by_email(user))


@task()
def password_reset_email_task(email: str, domain: str, use_https: bool) -> None:
    """Mail a one-time set-password link to each account of `email` that may_reset_password_by_email.

    Django's own PasswordResetForm makes the link (default_token_generator): it stops working
    once the password changes, so it works once.
    """
    form = PortalPasswordResetForm({"email": email})
    if form.is_valid():
        form.save(
            domain_override=domain,
            use_https=use_https,
            subject_template_name=RESET_SUBJECT_TEMPLATE,
            email_template_name=RESET_EMAIL_TEMPLATE,
        )


def invitation_email_send(*, email: str, merchant_name: str, role: str, link: str) -> bool:
    """Mail an invitation link to `email`; False (logged) when the mail server refused or was unreachable."""
    context = {
        "merchant_name": merchant_name,
        "role": role,
        "link": link,
        "timeout_days": settings.PASSWORD_RESET_TIMEOUT // 86400,
    }
    subject = "".join(render_to_string(INVITATION_SUBJECT_TEMPLATE, context).splitlines())
    body = render_to_string(INVITATION_EMAIL_TEMPLATE, context)
    try:
        send_mail(subject, body, None, [email])
    except Exception:
        logger.exception("The invitation email to a new member could not be sent")
        return False
    return True
