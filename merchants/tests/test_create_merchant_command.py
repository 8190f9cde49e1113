"""`python manage.py create_merchant`: onboarding from the command line, output scripts rely on."""

import io
import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from merchants.models import Merchant, OAuthClient
from tests.credentials import fetch_token


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_merchant", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_it_prints_one_json_object_with_the_merchant_client_id_and_secret():
    out, err = run("Acme Ltd")

    result = json.loads(out)  # the whole of stdout is one JSON document
    assert set(result) == {"merchant_id", "client_id", "client_secret"}
    assert out.strip().count("\n") == 0
    assert err == ""
    merchant = Merchant.objects.get(pk=result["merchant_id"])
    assert merchant.name == "Acme Ltd"
    assert merchant.is_active
    client = OAuthClient.objects.get(client_id=result["client_id"])
    assert client.merchant == merchant
    assert client.authorization_grant_type == OAuthClient.GRANT_CLIENT_CREDENTIALS
    assert client.client_type == OAuthClient.CLIENT_CONFIDENTIAL


@pytest.mark.django_db
def test_the_client_secret_is_stored_hashed_never_in_clear():
    result = json.loads(run("Acme Ltd")[0])

    stored = OAuthClient.objects.get(client_id=result["client_id"]).client_secret
    assert stored != result["client_secret"]
    assert result["client_secret"] not in stored
    assert stored.startswith("client_secret_sha256$")
    assert len(result["client_secret"]) >= 40


@pytest.mark.django_db
def test_the_printed_credentials_get_a_token_that_creates_a_customer_for_that_merchant():
    result = json.loads(run("Acme Ltd")[0])

    token = fetch_token(result["client_id"], result["client_secret"])["access_token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post("/api/v1/customers", {"company": "First customer"}, format="json")

    assert response.status_code == 201
    assert response.json()["data"]["merchant_id"] == result["merchant_id"]


@pytest.mark.django_db
def test_no_client_creates_only_the_merchant():
    out, _ = run("Globex Corp", "--no-client")

    result = json.loads(out)
    assert set(result) == {"merchant_id"}
    assert Merchant.objects.get(pk=result["merchant_id"]).name == "Globex Corp"
    assert not OAuthClient.objects.exists()


@pytest.mark.django_db
def test_each_run_creates_a_new_merchant_and_secret():
    first, second = json.loads(run("Same Name")[0]), json.loads(run("Same Name")[0])

    assert first["merchant_id"] != second["merchant_id"]
    assert first["client_id"] != second["client_id"]
    assert first["client_secret"] != second["client_secret"]
    assert Merchant.objects.filter(name="Same Name").count() == 2


@pytest.mark.django_db
def test_the_name_is_trimmed():
    result = json.loads(run("  Initech  ", "--no-client")[0])

    assert Merchant.objects.get(pk=result["merchant_id"]).name == "Initech"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["", "   "])
def test_a_blank_name_is_refused_and_creates_nothing(name):
    with pytest.raises(CommandError, match="A merchant needs a name."):  # the service's own message
        run(name)

    assert not Merchant.objects.exists()
    assert not OAuthClient.objects.exists()


@pytest.mark.slow
def test_the_real_command_line_prints_only_the_json_object(tmp_path):
    """Through `manage.py` in a fresh process, as scripts call it: stdout is exactly one JSON object."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # manage.py's own default, as a person runs it
    manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True, capture_output=True, timeout=120)

    done = subprocess.run(
        [*manage, "create_merchant", "Acme Ltd"], env=env, check=True, capture_output=True, text=True, timeout=60
    )

    result = json.loads(done.stdout)
    assert set(result) == {"merchant_id", "client_id", "client_secret"}
    assert done.stdout.strip() == json.dumps(result)
