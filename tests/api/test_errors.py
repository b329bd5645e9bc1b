"""Bad input gets a 4xx with a message naming the field, in the one error shape; never a 500."""

import pytest


def assert_error_shape(r, status):
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) - {"reason"} == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


async def test_malformed_json_is_422(api):
    r = await api.client.post(
        "/api/v1/queues", content=b'{"name": "sales"', headers={**api.admin, "content-type": "application/json"}
    )
    err = assert_error_shape(r, 422)
    assert "not valid JSON" in err["message"]


async def test_body_that_is_not_an_object_is_422(api):
    err = assert_error_shape(await api.post("queues", ["sales"]), 422)
    assert err["code"] == "invalid_input"


async def test_missing_body_is_422(api):
    err = assert_error_shape(await api.client.post("/api/v1/queues", headers=api.admin), 422)
    assert err["details"][0]["field"] == "body"


async def test_wrong_type_names_the_field(api):
    err = assert_error_shape(await api.post("queues", {"name": "q", "recording": "sometimes"}), 422)
    assert err["message"].startswith("recording") and err["details"][0]["in"] == "body"


async def test_unknown_field_is_refused(api):
    err = assert_error_shape(await api.post("pause-reasons", {"name": "Lunch", "paied": True}), 422)
    assert err["message"].startswith("paied")


async def test_over_long_string_is_refused(api):
    err = assert_error_shape(await api.post("pause-reasons", {"name": "x" * 5000}), 422)
    assert err["message"].startswith("name")


@pytest.mark.parametrize("text", ["bad\x00name", "bad\ud800name"])
async def test_text_the_database_cannot_store_is_refused(api, text):
    import json

    body = json.dumps({"name": text}).encode()
    r = await api.client.post("/api/v1/pause-reasons", content=body, headers={**api.admin, "content-type": "application/json"})
    assert_error_shape(r, 422)


@pytest.mark.parametrize("bad_id, status", [("0", 422), ("-1", 422), ("abc", 422), ("99999999999999999999", 422), ("2147483647", 404)])
async def test_bad_ids_are_4xx(api, bad_id, status):
    err = assert_error_shape(await api.get(f"queues/{bad_id}"), status)
    if status == 422:
        assert err["details"][0]["in"] == "path"


async def test_nul_in_search_is_refused(api):
    err = assert_error_shape(await api.get("queues", search="a\x00b"), 422)
    assert err["message"].startswith("search")


async def test_unknown_route_and_wrong_method(api):
    assert assert_error_shape(await api.get("nothing-here"), 404)["code"] == "not_found"
    r = await api.client.put("/api/v1/queues", headers=api.admin, json={})
    assert assert_error_shape(r, 405)["code"] == "method_not_allowed"
