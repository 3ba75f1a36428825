"""Attacks on issue 13's image experiments (``/api/experiments``) for bench/attack.py, as bench/attacks.py's:
``fn(ctx, tally, deadline)``, bounded by the deadline and by counts."""

import time
from collections import Counter

from attack_clients import Client, in_threads, join, loop_until



def new_experiment(client, **body):
    status, state = client.json("POST", "/api/experiments", {"dataset": "digits", **body})
    if status != 201:
        raise RuntimeError(f"could not create an experiment: {status}")
    return state["id"]


def experiment_numerical(ctx, tally, deadline):
    """13a. Eight clients stepping digits experiments by the numerical gradient (1,301 loss evaluations a step),
    steps=10000 each request, plus one looping the experiment gradient check."""
    setup = Client(ctx.port, timeout=60)
    ids = [new_experiment(setup, optimizer="numerical", seed=i) for i in range(8)]
    setup.close()
    taken, seen = [], Counter()

    def stepper(eid):
        c = Client(ctx.port, tally, timeout=max(1.0, deadline - time.monotonic()) + 5)

        def step():
            status, state = c.json("POST", f"/api/experiments/{eid}/step", {"steps": 10000})
            seen.update([status])
            if state is not None:
                taken.append(state.get("steps_taken", state.get("taken")))

        loop_until(deadline, step, 1000)
        c.close()

    def checker():
        c = Client(ctx.port, tally, timeout=30)
        loop_until(deadline, lambda: seen.update([("gradcheck", c.request(
            "GET", f"/api/experiments/{ids[0]}/gradcheck?count=50")[0])]), 10_000)
        c.close()

    threads = [t for eid in ids for t in in_threads(1, stepper, eid)] + in_threads(1, checker)
    join(threads, deadline)
    tally.note(f"numerical steps answered: {dict(seen)}; steps taken per request: "
               f"{min(taken) if taken else '-'}–{max(taken) if taken else '-'}")


def experiment_flood(ctx, tally, deadline):
    """13b. One address creating up to 1,500 digits experiments, each stepped 10,000 times by gd with its
    templates and evaluated on the test split."""
    c = Client(ctx.port, tally, timeout=30)
    created, answers = Counter(), Counter()

    def one():
        status, state = c.json("POST", "/api/experiments", {"dataset": "digits"})
        created.update([status])
        if status == 201:
            eid = state["id"]
            answers.update([("step", c.request("POST", f"/api/experiments/{eid}/step?templates=true",
                                               {"steps": 10000})[0])])
            answers.update([("evaluate", c.request("GET", f"/api/experiments/{eid}/evaluate?split=test")[0])])

    n = loop_until(deadline, one, 1500)
    tally.note(f"{n} creations: {dict(created)}; then {dict(answers)}")
    c.close()

