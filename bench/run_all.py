"""Every benchmark of the speed issue and of the image experiments (issue 13), one after another; each figure
printed beside its target.

    make bench        # or: .venv/bin/python bench/run_all.py [--quick]

Each script also runs alone (see its docstring). The machine may be shared: the in-process figures are the
best of several rounds, and the HTTP ratio compares two endpoints measured alternately in the same run.
"""

import argparse
import os
import platform

import numpy

import animation
import common
import compute
import curve_marks
import images
import large_http
import memory
import profile_step
import step_latency


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a rough check)")
    args = parser.parse_args(argv)
    print(f"Python {platform.python_version()}, NumPy {numpy.__version__}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    profile_step.main([])
    step_latency.main(["--rounds", "500" if args.quick else "2000"])
    compute.main()
    large_http.main(["--rounds", "30" if args.quick else "100"])
    memory.main()
    animation.main([])
    curve_marks.main()
    images.main(["--quick"] if args.quick else [])  # last: it sets BLAS to one thread for this process

    scored = [r for r in common.RESULTS if r[4] is not None]
    missed = [r for r in scored if not r[4]]
    print(f"\n{len(scored) - len(missed)} of {len(scored)} targets hold"
          + "".join(f"\n  missed: {name} = {value:.3g}{unit} (target {goal})"
                    for name, value, unit, goal, _ in missed))


if __name__ == "__main__":
    main()
