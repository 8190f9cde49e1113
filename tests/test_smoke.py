def test_creating_a_customer_through_the_api_answers_201_with_its_id(api_client):
    response = api_client.post("/api/v1/customers", {"firstname": "Ada"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["data"]["firstname"] == "Ada"
    assert response["Location"] == f"/api/v1/customers/{body['customer_id']}"
