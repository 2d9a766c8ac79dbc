"""Stateful fuzzing: schemathesis chains calls along the description's links (app/web/api/openapi_links.py),
so a scenario creates an object, or finds one in a listing (the seeded ones), and then reads, changes and
deletes it: a schedule is read, edited, paused, resumed and deleted; a job read and cancelled; a version
read, downloaded, promoted, rolled back and archived; a webhook disabled. One resource at a time (so each
scenario stays on its chain), as each role, with the checks of tests/api/fuzz.py on every response plus
schemathesis' own stateful ones: a created object can be read, a deleted one is gone.
"""
from __future__ import annotations

import itertools
from collections import Counter

import pytest
import schemathesis
from hypothesis import Phase
from hypothesis.errors import Flaky
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import ensure_resource_availability, use_after_free

from tests.api import fuzz

RESOURCES = ("datasets", "jobs", "models", "schedules", "webhooks")
# Links that the role's scenarios must have followed to a 2xx: the chains reach real objects. Written per
# role: a viewer only reads, a member also cancels (its own jobs), an admin also edits and deletes.
MUST_FOLLOW = {
    ("viewer", "datasets"): {"GetDataset"}, ("viewer", "jobs"): {"GetJob"}, ("viewer", "models"): {"GetAliases"},
    ("viewer", "schedules"): {"GetSchedule"}, ("member", "jobs"): {"GetJob", "JobEvents"},
    ("admin", "jobs"): {"GetJob", "JobEvents"}, ("admin", "schedules"): {"DeleteSchedule", "ResumeSchedule"},
    ("admin", "webhooks"): {"DeleteWebhook"},
}


def _link_name(step_input) -> str:
    """The link a step followed: its name in the description (schemathesis' id reads "GET /a -> [200] Name ->
    GET /b")."""
    return step_input.transition.id.split(" -> ")[1].split("] ", 1)[-1]


def _machine(stack, role: str, resource: str, followed: Counter, failures: list[str]):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", stack.app, headers=stack.auth("admin"))
    schema = schema.include(path_regex=f"^/{resource}")
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])  # the stateless test sends invalid ones
    auth, checks = stack.auth(role), [*fuzz.checks(role, stack.seeded), use_after_free, ensure_resource_availability]
    turns = itertools.count()

    class Machine(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": auth}

        def step(self, input):
            fuzz.valid_body(input.case, next(turns))
            output = super().step(input)
            if input.transition is not None and input.is_applied:
                followed[(_link_name(input), 200 <= output.response.status_code < 300)] += 1
            fuzz.CASES[f"{input.case.method} {input.case.path} {role} stateful"] += 1
            return output

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # Collected, not raised: Hypothesis would replay the scenario to shrink it, but the server keeps
            # what the first run did (a job cancelled stays cancelled), so the replay differs and says "flaky".
            try:
                case.validate_response(response, checks=checks, headers=auth, transport_kwargs=kwargs or None,
                                       recorder=self.recorder)
            except Exception as exc:
                failures.append(f"{case.method.upper()} {case.operation.path} as {role}: {exc}")

    return Machine


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("role", fuzz.ROLES)
def test_chains_of_calls_keep_the_description(api_stack, role, resource):
    followed: Counter = Counter()
    failures: list[str] = []
    machine = _machine(api_stack, role, resource, followed, failures)
    settings = fuzz.hypothesis_settings(fuzz.SCENARIOS, stateful_step_count=fuzz.STEPS, phases=[Phase.generate])
    for _ in range(3):
        try:
            machine.run(settings=settings)
            break
        except Flaky:  # a listing changed under a scenario Hypothesis had drawn before: go on from here, as
            continue  # schemathesis' own runner does (the failures found so far are kept)
    assert not failures, "\n\n".join(failures[:10])
    succeeded = {name for (name, ok) in followed if ok}
    print(f"\n{role} {resource}: links followed (name, 2xx): {sorted(followed.items())}")
    missing = MUST_FOLLOW.get((role, resource), set()) - succeeded
    assert not missing, f"links never followed to a 2xx: {missing}"
