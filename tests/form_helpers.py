"""What the portal's and admin's forms post, as a browser posts them."""

from django.core.files.uploadedfile import SimpleUploadedFile


def customer_post(merchant=None, rows=(), initial=0, **fields) -> dict:
    data = {
        "firstname": "",
        "lastname": "",
        "email": "",
        "company": "",
        "address_country": "",
        "custom_fields-TOTAL_FORMS": str(len(rows)),
        "custom_fields-INITIAL_FORMS": str(initial),
        "custom_fields-MIN_NUM_FORMS": "0",
        "custom_fields-MAX_NUM_FORMS": "1000",
        # The version the change page showed (a new customer's is 1); an add form ignores it.
        "based_on_version": "1",
    }
    if merchant is not None:
        data["merchant"] = str(merchant.pk)
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"custom_fields-{index}-{key}"] = value
    data.update(fields)
    return data


def form_data(**overrides) -> dict:
    """A customer form as the browser posts it: the five fields, three custom field rows."""
    data = {
        "firstname": "",
        "lastname": "",
        "email": "",
        "company": "",
        "address_country": "",
        "cf-TOTAL_FORMS": "3",
        "cf-INITIAL_FORMS": "0",
        "cf-MIN_NUM_FORMS": "0",
        "cf-MAX_NUM_FORMS": "1000",
    }
    for index in range(3):
        data.update({f"cf-{index}-name": "", f"cf-{index}-type": "string", f"cf-{index}-value": ""})
    data.update(overrides)
    return data


def upload(client, text: str | bytes, name: str = "customers.csv", **extra):
    file = SimpleUploadedFile(name, text if isinstance(text, bytes) else text.encode(), content_type="text/csv")
    return client.post("/portal/imports/", {"file": file}, **extra)
