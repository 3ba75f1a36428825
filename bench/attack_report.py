"""bench/attack.py's table: per attack, what the victim and the probe saw, what the server saw itself, its memory
and its 5xx, and whether issue 10's targets hold.

The clients' p99 include the machine's noise (other programs on the shared cores delay the clients and the
server alike). The server's own figures (app/loop_watch.py, switched on by ``LINCLASS_DEBUG_TIMINGS``) tell
them apart: ``srv step``/``srv health`` are the p99 of those requests' time inside the server, and ``held``
how long the event loop's own work (CPU of its thread) delayed its 5 ms ticks (p99 and the longest; the longest
includes one-off warm-ups: first uses of a route, a garbage collection). ``met`` is ``yes`` when the
clients' figures hold; ``machine`` when they miss but the server's own hold (the latency came from outside
the server); ``NO`` otherwise.
"""

BUDGET_MB = 1024  # LINCLASS_MAX_MEMORY_MB's default (issue 10): the sessions' budget
TARGETS = {"victim": 50.0, "probe": 20.0, "memory": BUDGET_MB + 200.0}
HELD_MS = 5.0  # the "no request holds the event loop longer than about 5 ms"

COLUMNS = (f"{'attack':<21} {'victim p99':>10} {'health p99':>10} │ {'srv step':>8} {'srv health':>10} {'held p99':>8} "
           f"{'held max':>8} {'late p99':>8} │ {'peak RSS':>9} {'5xx':>4} {'503':>5} {'failed':>6}  met")


def server_figures(timings, victim="127.0.0.200", probe="127.0.0.201"):
    """``(step p99, health p99, loop held p99, held max, late p99)`` in ms from the server's own timings, or Nones."""
    if not timings:
        return None, None, None, None, None
    requests, loop = timings["requests"], timings["loop"]
    step = requests.get(f"{victim} step", {}).get("ms_p99")
    health = requests.get(f"{probe} health", {}).get("ms_p99")
    return step, health, loop["held_p99"], loop["held_max"], loop["late_p99"]


def verdict(r):
    memory_ok = r["rss"] <= TARGETS["memory"] and not r["killed"] and not r["died"]
    if not memory_ok or r["5xx"]:
        return "NO"
    if r["victim"] <= TARGETS["victim"] and r["probe"] <= TARGETS["probe"]:
        return "yes"
    step, health, held, _, _ = server_figures(r["server"])
    if step is not None and step <= TARGETS["victim"] and health <= TARGETS["probe"] and held <= HELD_MS:
        return "machine"
    return "NO"


def _ms(v, width):
    return f"{'-':>{width}}" if v is None else f"{v:{width}.1f}"


def print_header():
    print(COLUMNS)
    print("─" * len(COLUMNS), flush=True)


def print_row(r):
    step, health, held, held_max, late = server_figures(r["server"])
    memory = f"{r['rss']:6.0f} MB" + ("!" if r["killed"] or r["died"] else " ")
    print(f"{r['name']:<21} {r['victim']:10.1f} {r['probe']:10.1f} │ {_ms(step, 8)} {_ms(health, 10)} {_ms(held, 8)} "
          f"{_ms(held_max, 8)} {_ms(late, 8)} │ {memory:>9} {r['5xx']:4d} {r['503']:5d} {r['failed']:6d}  {verdict(r)}", flush=True)
    if r["killed"]:
        print(f"{'':<22}killed by the watchdog at the RSS cap: the attack would have taken more")
    elif r["died"]:
        print(f"{'':<22}the server died")
    for n in r["notes"]:
        print(f"{'':<22}{n}", flush=True)
    if r["server"] and held_max is not None and held_max > HELD_MS:  # where the loop was while a tick was overdue
        for where, count in r["server"]["stalls"][:3]:
            if where.startswith("runners.py"):  # in uvloop's C code, no callback running: not the app's work
                where = "the loop's C code, no Python callback (not scheduled by the machine, or the GIL)"
            print(f"{'':<22}loop stalled ~{count * r['server']['sample_ms']:.0f} ms at {where}", flush=True)


def print_legend():
    print(f"targets: victim p99 ≤ {TARGETS['victim']:g} ms, health p99 ≤ {TARGETS['probe']:g} ms, peak RSS ≤ "
          f"{TARGETS['memory']:g} MB, 5xx other than 503: 0. srv: inside the server; held: the event loop's own "
          f"work delaying a tick; late: the tick's delay whatever the cause. met: yes / machine (the clients "
          f"missed; the server's own p99 hold, held p99 ≤ {HELD_MS:g} ms) / NO")
