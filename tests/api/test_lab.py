"""The optimization lab through the API: gradient check, loss surface and loss line of a session's state."""

import json

import pytest

LOSS_TYPES = ["svm_ww", "svm_ova", "svm_structured", "softmax"]


def url(sid, path=""):
    return f"/api/sessions/{sid}{path}"


def get(client, sid, path, **query):
    r = client.get(url(sid, path), params=query)
    assert r.status_code == 200, r.text
    return json.loads(r.text, parse_constant=lambda token: pytest.fail(f"{token} in the response"))


def patch(client, sid, **changes):
    r = client.patch(url(sid), json=changes)
    assert r.status_code == 200, r.text
    return r.json()


def gradcheck(client, sid):
    return {p["name"]: p for p in get(client, sid, "/gradcheck")["params"]}


def test_gradcheck_at_the_default_state(client, session):
    result = get(client, session["id"], "/gradcheck")
    assert (result["precision"], result["h"]) == ("float64", 1e-4) and result["max_rel_error"] < 1e-7
    params = {p["name"]: p for p in result["params"]}
    assert list(params) == ["W[0,0]", "W[0,1]", "W[1,0]", "W[1,1]", "W[2,0]", "W[2,1]", "b[0]", "b[1]", "b[2]"]
    for (name, p), a in zip(params.items(), [*(v for row in session["dW"] for v in row), *session["db"]]):
        assert p["analytic"] == a and p["numerical"] == pytest.approx(a, abs=1e-12) and not p["kink"]
    assert params["b[2]"]["analytic"] == params["b[2]"]["numerical"] == params["b[2]"]["rel_error"] == 0


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_gradcheck_passes_in_exact_mode_at_random_states(client, session, loss_type):
    sid = session["id"]
    patch(client, sid, loss_type=loss_type, reg=0.3, h=1e-5)
    for seed, data, classes in [(1, None, 3), (2, "blobs", 2), (3, "moons", 4), (4, "random", 5)]:
        client.post(url(sid, "/reset"), json={"params": "random", "seed": seed, "data": data, "n": 5,
                                              "classes": classes})
        result = get(client, sid, "/gradcheck")
        assert result["h"] == 1e-5 and len(result["params"]) == 3 * classes
        assert result["max_rel_error"] < 1e-7 and not any(p["kink"] for p in result["params"])


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_original_mode_fails_the_check_for_w_only_when_regularized(client, session, loss_type):
    sid = session["id"]
    patch(client, sid, loss_type=loss_type, reg_gradient="original")
    params = gradcheck(client, sid)
    assert all(params[f"W[{k},{d}]"]["rel_error"] > 0.3 for k in range(3) for d in range(2))
    assert all(params[f"b[{k}]"]["rel_error"] < 1e-7 for k in range(3))
    patch(client, sid, reg=0.0)
    assert get(client, sid, "/gradcheck")["max_rel_error"] < 1e-7


def test_a_point_on_a_hinge_is_flagged_as_a_kink(client, session):
    sid = session["id"]
    s0 = session["scores"][0]  # example 0 (class 0): make its class-2 margin s_2 − s_0 + 1 exactly 0
    patch(client, sid, b=[0, 0.5, -0.5 - (s0[2] - s0[0] + 1)])
    params = gradcheck(client, sid)
    assert params["b[2]"]["kink"] and params["b[2]"]["rel_error"] == pytest.approx(0.5, abs=1e-8)
    assert not params["b[1]"]["kink"] and params["b[1]"]["rel_error"] < 1e-7
    patch(client, sid, loss_type="softmax")
    result = get(client, sid, "/gradcheck")
    assert not any(p["kink"] for p in result["params"]) and result["max_rel_error"] < 1e-7


def test_the_lab_does_not_change_the_session(client, session):
    sid = session["id"]
    client.post(url(sid, "/step"), json={"steps": 3})
    before = client.get(url(sid)).content
    for path in ("/gradcheck", "/surface", "/line"):
        get(client, sid, path)
    assert client.get(url(sid)).content == before


def test_the_surface_centre_is_the_current_loss(client, session):
    s = get(client, session["id"], "/surface")
    assert (s["p1"], s["p2"]) == ("W[0,0]", "b[1]") and len(s["xs"]) == len(s["ys"]) == len(s["loss"]) == 61
    assert s["xs"][30] == 1.0 and s["ys"][30] == 0.5 and s["xs"][0] == -2.0 and s["ys"][60] == 3.5
    assert s["loss"][30][30] == pytest.approx(session["loss"], rel=1e-13)


def loss_at(client, sid, W, b):
    """The total loss with W and b set: the session's own evaluation, independent of the surface code."""
    return patch(client, sid, W=W, b=b)["loss"]


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_surface_cells_are_the_loss_at_ys_i_and_xs_j(client, session, loss_type):
    sid = session["id"]
    patch(client, sid, loss_type=loss_type)
    s = get(client, sid, "/surface", p1="W[2,1]", p2="b[0]", span=2.0, n=9)
    assert len(s["loss"]) == 9 and all(len(row) == 9 for row in s["loss"])
    for i, j in [(0, 8), (8, 0), (2, 5), (7, 3)]:
        W = [[1, 2], [2, -4], [3, s["xs"][j]]]
        assert s["loss"][i][j] == pytest.approx(loss_at(client, sid, W, [s["ys"][i], 0.5, -0.5]), rel=1e-12)
    assert s["loss"][0][8] != pytest.approx(s["loss"][8][0])  # a transposed grid would not pass


def test_surface_over_a_larger_model(client, session):
    sid = session["id"]
    state = client.post(url(sid, "/reset"), json={"params": "random", "seed": 3, "data": "circles", "n": 4,
                                                  "classes": 5}).json()
    s = get(client, sid, "/surface", p1="b[4]", p2="W[4,0]", span=0.5, n=5)
    W, b = state["W"], state["b"]
    W[4][0], b[4] = s["ys"][1], s["xs"][3]
    assert s["loss"][1][3] == pytest.approx(loss_at(client, sid, W, b), rel=1e-12)


@pytest.mark.parametrize("query, field", [
    ({"p1": "W[3,0]"}, "p1"), ({"p1": "W[0,2]"}, "p1"), ({"p1": "w[0,0]"}, "p1"), ({"p1": ""}, "p1"),
    ({"p1": "W" * 21}, "p1"), ({"p2": "b[3]"}, "p2"), ({"p2": "b[x]"}, "p2"), ({"p2": "gradient"}, "p2"),
    ({"p1": "b[1]"}, "p2"), ({"p1": "W[1,1]", "p2": "W[1,1]"}, "p2"), ({"n": 1}, "n"), ({"n": 202}, "n"),
    ({"n": 2.5}, "n"), ({"span": 0}, "span"), ({"span": -1}, "span"), ({"span": 1001}, "span"),
    ({"span": "nan"}, "span"), ({"span": "inf"}, "span"),
])
def test_invalid_surface_queries_are_422_naming_the_parameter(client, session, query, field):
    r = client.get(url(session["id"], "/surface"), params=query)
    assert r.status_code == 422
    error = r.json()["detail"][0]
    assert error["loc"] == ["query", field] and error["msg"].startswith(f"{field}: ")


def test_the_loss_goes_down_along_the_negative_gradient(client, session):
    line = get(client, session["id"], "/line", span=0.1, n=21)
    assert line["direction"] == "gradient" and line["offsets"][10] == 0 and line["offsets"][11] > 0
    loss = line["loss"]
    assert loss[10] == pytest.approx(session["loss"], rel=1e-13)
    assert loss[11] < loss[10] < loss[9]


def test_a_line_along_one_parameter(client, session):
    sid = session["id"]
    line = get(client, sid, "/line", direction="b[2]", span=3.0, n=7)
    assert line["offsets"] == [-3, -2, -1, 0, 1, 2, 3]
    assert line["loss"][6] == pytest.approx(loss_at(client, sid, session["W"], [0, 0.5, 2.5]), rel=1e-12)


@pytest.mark.parametrize("query, field", [({"direction": "W[9,9]"}, "direction"), ({"direction": "up"}, "direction"),
                                          ({"direction": "W[٠,0]"}, "direction"), ({"direction": "W[0,0]\n"}, "direction"),
                                          ({"direction": "b[２]"}, "direction"), ({"n": 1002}, "n"), ({"span": 0}, "span")])
def test_invalid_line_queries_are_422_naming_the_parameter(client, session, query, field):
    r = client.get(url(session["id"], "/line"), params=query)
    assert r.status_code == 422 and r.json()["detail"][0]["msg"].startswith(f"{field}: ")


@pytest.mark.parametrize("p1", ["W[0,0]\n", "W[0,٠]", "b[1]\n"])
def test_surface_parameter_names_are_ascii_without_a_newline(client, session, p1):
    r = client.get(url(session["id"], "/surface"), params={"p1": p1})
    assert r.status_code == 422 and r.json()["detail"][0]["msg"].startswith("p1: ")
