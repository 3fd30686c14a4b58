"""The 422 helpers answer in the shape FastAPI's own validation errors have, as routes did
when each spelled its problem out."""

from __future__ import annotations

from app.platform.problems import Problem, field_error, invalid


def test_invalid_is_a_422_naming_one_field():
    problem = invalid("rubric criteria need distinct ids", ["body", "rubric"], "duplicate id")
    spelled_out = Problem(
        422,
        "rubric criteria need distinct ids",
        errors=[{"loc": ["body", "rubric"], "msg": "duplicate id", "type": "value_error"}],
    )
    assert problem.status == 422
    assert problem.body() == spelled_out.body()
    assert list(problem.body()["errors"][0]) == ["loc", "msg", "type"]


def test_field_error_keeps_the_location_as_given():
    assert field_error(["body", "scores", "c1"], "must be between 0 and 5") == {
        "loc": ["body", "scores", "c1"],
        "msg": "must be between 0 and 5",
        "type": "value_error",
    }
