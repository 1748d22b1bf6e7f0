"""Brian2 peer of `cinder coba`: the COBA / CUBA benchmark network (Brette et al. 2007, benchmarks 1
and 2; Vogels & Abbott 2005), written for Cinder's comparison from the equations in
examples/coba/network.ts (same constants, same initial-state distributions, same step scheme:
Brian2's `exponential_euler`, i.e. V exact for the synaptic variables held over the step).

Usage: python3 brian2_coba.py MODEL SECONDS SEED [NEURONS [P [TARGET]]]
  MODEL coba|cuba; NEURONS default 4000; P default 80/NEURONS; TARGET cython (default) | numpy.
Prints one JSON line: mean excitatory / inhibitory rates (Hz), the per-neuron CVs of the ISIs
(neurons with >= 3 spikes; mean, median, count; skipped, null, with BRIAN2_COBA_CV=0), the wall
seconds of the timed run and ms per simulated second. A run of one step first compiles (cached
between processes with cython), so the timed run excludes code generation. Also (bench/scale.ts):
build_s, the wall seconds from creating the NeuronGroup to the end of both connect() calls (the
synapses drawn and stored; their code loaded from the cython cache when it is warm); prepare_s, the
wall seconds of that first one-step run (code objects loaded or compiled); rss_base_mb, the peak
resident memory (getrusage ru_maxrss, MiB) after importing Brian2, before building; peak_rss_mb,
the peak resident memory of the process right after the timed run.
"""
import json
import os
import resource
import sys
import time

import numpy as np
from brian2 import (NeuronGroup, Synapses, SpikeMonitor, Network, defaultclock, prefs, seed as bseed,
                    ms, mV, second)


def max_rss_mb():
    """Peak resident memory of this process so far (MiB; Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    model = sys.argv[1]
    seconds = float(sys.argv[2])
    seed = int(sys.argv[3])
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 4000
    p = float(sys.argv[5]) if len(sys.argv) > 5 else 80.0 / n
    target = sys.argv[6] if len(sys.argv) > 6 else 'cython'
    prefs.codegen.target = target
    rss_base = max_rss_mb()
    tb = time.perf_counter()
    defaultclock.dt = 0.1 * ms
    bseed(seed)
    np.random.seed(seed)
    ne = int(round(0.8 * n))
    taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
    vt, vr = -50 * mV, -60 * mV
    if model == 'coba':
        el, ee, ei = -60 * mV, 0 * mV, -80 * mV
        eqs = '''
        dv/dt = ((el - v) + ge * (ee - v) + gi * (ei - v)) / taum : volt (unless refractory)
        dge/dt = -ge / taue : 1
        dgi/dt = -gi / taui : 1
        '''
        we, wi = 0.6, 6.7
    else:
        el = -49 * mV
        eqs = '''
        dv/dt = ((el - v) + ge + gi) / taum : volt (unless refractory)
        dge/dt = -ge / taue : volt
        dgi/dt = -gi / taui : volt
        '''
        we, wi = 1.62 * mV, -9 * mV
    group = NeuronGroup(n, eqs, threshold='v > vt', reset='v = vr', refractory=5 * ms,
                        method='exponential_euler')
    if model == 'coba':
        group.v = (-65 + 5 * np.random.randn(n)) * mV
        group.ge = np.maximum(0, 4 + 1.5 * np.random.randn(n))
        group.gi = np.maximum(0, 20 + 12 * np.random.randn(n))
    else:
        group.v = (-60 + 10 * np.random.rand(n)) * mV
    ce = Synapses(group, group, on_pre='ge += we')
    ci = Synapses(group, group, on_pre='gi += wi')
    ce.connect('i < ne', p=p)
    ci.connect('i >= ne', p=p)
    mon = SpikeMonitor(group)
    build = time.perf_counter() - tb
    net = Network(group, ce, ci, mon)
    tp = time.perf_counter()
    net.run(defaultclock.dt)  # compile (cached by cython between processes)
    prepare = time.perf_counter() - tp
    t0 = time.perf_counter()
    net.run(seconds * second - defaultclock.dt)
    wall = time.perf_counter() - t0
    peak_rss = max_rss_mb()
    counts = np.bincount(np.asarray(mon.i), minlength=n)
    cvs = []
    want_cv = os.environ.get('BRIAN2_COBA_CV', '1') != '0'
    trains = mon.spike_trains() if want_cv else {}
    for j in (range(n) if want_cv else []):
        t = np.asarray(trains[j] / ms)
        if len(t) >= 3:
            isi = np.diff(t)
            cvs.append(float(np.std(isi) / np.mean(isi)))
    cvs = np.array(cvs)
    print(json.dumps({
        'model': model, 'seconds': seconds, 'seed': seed, 'neurons': n, 'p': p, 'target': target,
        'synapses': int(len(ce) + len(ci)),
        'rate_exc_hz': float(counts[:ne].mean() / seconds), 'rate_inh_hz': float(counts[ne:].mean() / seconds),
        'cv_mean': float(cvs.mean()) if len(cvs) else None, 'cv_median': float(np.median(cvs)) if len(cvs) else None,
        'cv_neurons': int(len(cvs)), 'wall_s': wall, 'ms_per_sim_second': 1000 * wall / seconds,
        'build_s': build, 'prepare_s': prepare, 'rss_base_mb': rss_base, 'peak_rss_mb': peak_rss,
    }))


if __name__ == '__main__':
    main()
