"""Inferno peer for `npm run bench quickstart`: Inferno's quickstart network (784 inputs ->
10x10 ALIF excitatory, 10x10 LIF inhibitory, lateral inhibition), STDP applied every step,
inputs drawn per step as Bernoulli spikes with per-input rates U(0, 0.25).

Usage: python3 inferno_quickstart.py BATCH STEPS THREADS [WARMUP]  (WARMUP untimed steps first, default 20)
Needs `inferno` and `einops` importable (PYTHONPATH); on PyTorch < 2 also the `torchshim`
backports from the peers folder (imported when found). Prints one JSON object: wall and CPU
(process time, all threads) ms per step.
"""
import json
import sys
import time

try:
    import torchshim  # noqa: F401  (backports for PyTorch 1.13; optional)
except ImportError:
    pass
import torch
import inferno
from inferno import learn, neural


def main() -> None:
    batch = int(sys.argv[1])
    steps = int(sys.argv[2])
    threads = int(sys.argv[3])
    warmup = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    shape, dt = (10, 10), 1.0
    exc = neural.ALIF(shape, dt, rest_v=-65.0, reset_v=-60.0, thresh_eq_v=-52.0, refrac_t=5.0,
                      tc_membrane=100.0, tc_adaptation=1e7, spike_increment=0.05, resistance=1.0,
                      batch_size=batch)
    inh = neural.LIF(shape, dt, rest_v=-60.0, reset_v=-45.0, thresh_v=-40.0, refrac_t=2.0,
                     time_constant=75.0, resistance=1.0, batch_size=batch)
    syn = neural.DeltaCurrent.partialconstructor
    feed = neural.LinearDense((28, 28), shape, dt, synapse=syn(100.0), batch_size=batch,
                              weight_init=lambda x: inferno.rescale(inferno.uniform(x), 0.0, 0.3))
    lateral = neural.LinearLateral(shape, dt, synapse=syn(100.0), batch_size=batch,
                                   weight_init=lambda x: inferno.full(x, -180.0))
    direct = neural.LinearDirect(shape, dt, synapse=syn(75.0), batch_size=batch,
                                 weight_init=lambda x: inferno.full(x, 22.5))

    class Net(inferno.Module):
        def __init__(self):
            inferno.Module.__init__(self)
            self.feedfwd = neural.Serial(feed, exc)
            self.inhibit = neural.Serial(lateral, exc)
            self.trigger = neural.Serial(direct, inh)

    net = Net()
    trainer = learn.STDP(lr_post=5e-4, lr_pre=-5e-6, tc_post=30.0, tc_pre=30.0)
    feed.updater = feed.defaultupdater()
    trainer.register_cell("feedfwd", net.feedfwd.cell)
    rates = torch.rand(batch, 28, 28) * 0.25

    def step() -> None:
        x = torch.rand(batch, 28, 28) < rates
        out = net.feedfwd(x)
        net.inhibit(net.trigger(out))
        trainer()
        feed.update()

    with torch.no_grad():
        for _ in range(warmup):
            step()
        t0 = time.perf_counter()
        c0 = time.process_time()
        for _ in range(steps):
            step()
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - c0
    print(json.dumps({"peer": "inferno", "torch": torch.__version__, "batch": batch, "steps": steps, "warmup": warmup,
                      "threads": threads, "ms_per_step": elapsed / steps * 1e3,
                      "cpu_ms_per_step": cpu / steps * 1e3}))


if __name__ == "__main__":
    main()
