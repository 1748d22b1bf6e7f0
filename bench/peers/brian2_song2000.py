"""Song, Miller & Abbott (2000) in Brian2, the model `cinder song2000` runs: 1000 Poisson inputs
(15 Hz) onto one leaky integrate-and-fire neuron with a conductance synapse, additive pair STDP on
event-driven traces with hard bounds [0, gmax], dt 0.1 ms.

Prints one JSON line: wall time of `run()` (the first run of a target compiles its code; run once
before timing), postsynaptic spikes, the fraction of weights below 0.1*gmax / above 0.9*gmax, and a
histogram of w/gmax (bins over [0, 1]).

Usage: python3 brian2_song2000.py [--target cython|numpy] [--seconds S] [--seed N] [--bins K]
"""
import argparse
import json
import time

import numpy as np
import brian2 as b2

parser = argparse.ArgumentParser()
parser.add_argument('--target', default='cython', choices=['cython', 'numpy'])
parser.add_argument('--seconds', type=float, default=10.0)
parser.add_argument('--seed', type=int, default=1)
parser.add_argument('--bins', type=int, default=20)
args = parser.parse_args()

b2.prefs.codegen.target = args.target
b2.seed(args.seed)
b2.defaultclock.dt = 0.1 * b2.ms

n_inputs = 1000
rate = 15 * b2.Hz
tau_m = 10 * b2.ms
tau_e = 5 * b2.ms
e_exc = 0 * b2.mV
v_thresh = -54 * b2.mV
v_reset = -60 * b2.mV
e_leak = -74 * b2.mV
tau_trace = 20 * b2.ms
g_max = 0.01
a_pre = 0.01 * g_max                 # potentiation step of the presynaptic trace
a_post = -1.05 * a_pre               # depression step of the postsynaptic trace (tau_pre = tau_post)

cell = b2.NeuronGroup(
    1,
    '''dv/dt = (g_e * (e_exc - v) + e_leak - v) / tau_m : volt
       dg_e/dt = -g_e / tau_e : 1''',
    threshold='v > v_thresh', reset='v = v_reset', method='euler')
cell.v = e_leak
inputs = b2.PoissonGroup(n_inputs, rates=rate)
syn = b2.Synapses(
    inputs, cell,
    '''w : 1
       dapre_tr/dt = -apre_tr / tau_trace : 1 (event-driven)
       dapost_tr/dt = -apost_tr / tau_trace : 1 (event-driven)''',
    on_pre='''g_e += w
              apre_tr += a_pre
              w = clip(w + apost_tr, 0, g_max)''',
    on_post='''apost_tr += a_post
               w = clip(w + apre_tr, 0, g_max)''')
syn.connect()
syn.w = 'rand() * g_max'
spikes = b2.SpikeMonitor(cell)

start = time.perf_counter()
b2.run(args.seconds * b2.second)
wall = time.perf_counter() - start

w = np.asarray(syn.w) / g_max
hist, _ = np.histogram(w, bins=args.bins, range=(0.0, 1.0))
print(json.dumps({
    'peer': 'brian2', 'version': b2.__version__, 'target': args.target, 'seconds': args.seconds,
    'seed': args.seed, 'wall_s': wall, 'post_spikes': int(spikes.num_spikes),
    'low_fraction': float(np.mean(w < 0.1)), 'high_fraction': float(np.mean(w > 0.9)),
    'bimodal_fraction': float(np.mean((w < 0.1) | (w > 0.9))),
    'histogram': [int(h) for h in hist],
}))
