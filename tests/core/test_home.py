import pytest


@pytest.mark.django_db
def test_home_page_links_the_storefront_the_console_and_the_api_docs(client):
    response = client.get("/")
    assert response.status_code == 200
    for href in ('href="/orders/"', 'href="/admin/"', 'href="/api/docs/"', 'href="/api/schema/"'):
        assert href in response.content.decode()
