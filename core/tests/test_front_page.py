"""`GET /`: a small page pointing to the portal, the API documentation and Django admin."""

from django.test import Client


def test_the_front_page_links_to_the_portal_the_api_docs_and_admin(db):
    response = Client().get("/")

    assert response.status_code == 200
    html = response.content.decode()
    for href in ('href="/portal/"', 'href="/api/docs/"', 'href="/admin/"'):
        assert href in html


def test_every_link_of_the_front_page_answers(db):
    client = Client()
    # The portal and admin send a visitor to their log-in pages; the API docs are public.
    assert client.get("/portal/", follow=True).status_code == 200
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/admin/", follow=True).status_code == 200
