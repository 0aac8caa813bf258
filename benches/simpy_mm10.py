"""The same M/M/10 model as benches/engine.rs (rho = 0.9, exponential 10 ms
work, Poisson 900/s) in SimPy, the usual Python baseline, for the speed
ratio quoted in the core-engine issue. Not run by CI (needs Python and
`pip install simpy`):

    python3 benches/simpy_mm10.py 200000

Prints requests per second of wall time and the mean response time (theory:
16.687 ms) so the two implementations can be compared like for like.
"""

import random
import sys
import time

import simpy

LAMBDA = 900.0
MEAN_SERVICE = 0.010
SERVERS = 10


def main(n: int) -> None:
    rng = random.Random(1)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=SERVERS)
    total = [0.0, 0]

    def request(env):
        start = env.now
        with server.request() as req:
            yield req
            yield env.timeout(rng.expovariate(1.0 / MEAN_SERVICE))
        total[0] += env.now - start
        total[1] += 1

    def source(env):
        for _ in range(n):
            yield env.timeout(rng.expovariate(LAMBDA))
            env.process(request(env))

    env.process(source(env))
    t = time.perf_counter()
    env.run()
    wall = time.perf_counter() - t
    print(
        f"SimPy M/M/10 rho=0.9: {total[1]} requests in {wall:.3f}s wall: "
        f"{total[1] / wall / 1e6:.3f}M requests/s, mean {total[0] / total[1] * 1e3:.3f} ms"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
