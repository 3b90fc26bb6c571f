"""Timing for the perf tests: the best of a few runs after one warm-up."""

import time


def best_of(fn, runs=3) -> float:
    fn()
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - start)
    return min(timings)
