"""GET /api/v1/regions."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

URL = "/api/v1/regions"


def _walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node]
    for child in node["children"]:
        found += _walk(child)
    return found


def test_default_lists_countries_and_the_dutch_tree(client: FlaskClient) -> None:
    response = client.get(URL)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"countries", "tree"}
    countries = {c["code"]: c["name"] for c in body["countries"]}
    assert len(countries) == 249
    assert countries["NL"] == "Netherlands"
    assert countries["BE"] == "Belgium"

    nl = body["tree"]
    assert (nl["code"], nl["name"], nl["kind"]) == ("NL", "Netherlands", "country")
    provinces = {p["code"]: p for p in nl["children"]}
    assert len(provinces) == 12
    assert provinces["NL-FR"]["name"] == "Fryslân"
    assert all(p["kind"] == "subdivision" for p in provinces.values())
    municipalities = [m for p in provinces.values() for m in p["children"]]
    assert len(municipalities) == 342
    assert all(m["kind"] == "municipality" and m["children"] == [] for m in municipalities)
    zuid_holland = {m["code"]: m["name"] for m in provinces["NL-ZH"]["children"]}
    assert zuid_holland["GM0518"] == "'s-Gravenhage"


def test_public_caching_and_cors(client: FlaskClient) -> None:
    response = client.get(URL)
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    etag = response.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')

    again = client.get(URL, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Access-Control-Allow-Origin"] == "*"
    assert again.headers["Cache-Control"] == "public, max-age=86400"

    stale = client.get(URL, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200


def test_one_country_tree_keeps_iso_nesting(client: FlaskClient) -> None:
    response = client.get(URL, query_string={"country": "be"})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"tree"}
    belgium = body["tree"]
    assert belgium["code"] == "BE"
    regions = {r["code"]: r for r in belgium["children"]}
    assert set(regions) == {"BE-BRU", "BE-VLG", "BE-WAL"}
    assert "BE-VAN" in {p["code"] for p in regions["BE-VLG"]["children"]}
    assert response.headers["ETag"] != client.get(URL).headers["ETag"]


def test_country_parameter_alone_for_the_netherlands_matches_the_default_tree(client: FlaskClient) -> None:
    assert client.get(URL, query_string={"country": "NL"}).get_json()["tree"] == client.get(URL).get_json()["tree"]


def test_unknown_country_is_404_json(client: FlaskClient) -> None:
    for value in ["XX", "xx", "NL-NH"]:
        response = client.get(URL, query_string={"country": value})
        assert response.status_code == 404
        assert response.get_json() == {"error": f"unknown country '{value.upper()}'"}
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_search(client: FlaskClient) -> None:
    response = client.get(URL, query_string={"q": "den haag"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    results = response.get_json()["results"]
    assert results[0] == {
        "code": "GM0518",
        "name": "'s-Gravenhage",
        "kind": "municipality",
        "parent": "NL-ZH",
        "path": ["Zuid-Holland", "Netherlands"],
    }

    limburg = client.get(URL, query_string={"q": "Limburg", "country": "nl"}).get_json()["results"]
    assert [r["code"] for r in limburg] == ["NL-LI"]

    assert client.get(URL, query_string={"q": ""}).get_json() == {"results": []}
    many = client.get(URL, query_string={"q": "a"}).get_json()["results"]
    assert len(many) == 20
