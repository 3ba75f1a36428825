"""Schemathesis against the app's own OpenAPI schema, on each store: requests generated from the schema, valid
and invalid, to every operation, on a live session. None may be a 5xx, every response must conform to the
schema (documented status, content type, headers and body: so no NaN and no null where a number belongs),
and invalid requests must be rejected. Session and experiment routes run on a live session and experiment."""

import zlib
from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_headers_conformance, response_schema_conformance,
                                               status_code_conformance)

from app.config import Config
from app.main import create_app

SCHEMA = schemathesis.openapi.from_dict(create_app(Config()).openapi())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
EXAMPLES = 56  # per operation and mode; small operations (no parameters) run out of distinct cases sooner
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]


def send(client, case):
    kw = case.as_transport_kwargs(base_url="http://testserver")
    kw.pop("cookies", None)  # none in this API
    content = kw.pop("data", None)
    return client.request(kw.pop("method"), kw.pop("url"), content=content, **kw)


def test_generated_requests_get_no_5xx_and_conform_to_the_schema(client):
    live = {"sid": lambda: client.post("/api/sessions").json()["id"],
            "eid": lambda: client.post("/api/experiments", json={"dataset": "digits"}).json()["id"]}
    ids = {name: make() for name, make in live.items()}
    sent, statuses, failures = Counter(), Counter(), []

    def call(case):
        for name in live:
            generated = case.path_parameters.get(name)
            if generated is not None and zlib.crc32(str(generated).encode()) % 5:  # 4 in 5 on the live one,
                case.path_parameters[name] = ids[name]  # the rest on the generated (unknown) id
        r = send(client, case)
        sent[f"{case.method} {case.path}"] += 1
        statuses[r.status_code] += 1
        try:
            case.validate_response(r, checks=CHECKS)
        except FailureGroup as e:  # every failure is collected, not just the first (and none is shrunk)
            failures.append(f"{case.method} {case.path} → {r.status_code}: {[str(f)[:300] for f in e.exceptions]}")
        if r.status_code == 204 or (r.status_code == 404 and case.method == "DELETE"):
            ids.update({name: make() for name, make in live.items()})

    for operation in OPERATIONS:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                           suppress_health_check=list(HealthCheck))(given(case=operation.as_strategy(mode))(call))
            try:
                run()
            except Unsatisfiable:  # nothing to make invalid: no body or query, and any string is an id
                assert mode == GenerationMode.NEGATIVE and not operation.query and not operation.body

    assert len(sent) == len(OPERATIONS) == 13 + 11  # sessions and lab; datasets and experiments
    assert sum(sent.values()) >= 1000, sent
    assert not any(status >= 500 for status in statuses), statuses
    assert failures == []
    assert statuses[200] + statuses[201] >= 300 and statuses[422] >= 300 and statuses[404] >= 30, statuses
