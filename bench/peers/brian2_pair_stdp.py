"""Runs Brian2's event-driven pair STDP on given spike trains and prints the weights after every
step, so Cinder's EventSTDP can be checked against Brian2 itself.

Reads a JSON list of cases on stdin, each {dt_ms, steps, tau_pre_ms, tau_post_ms, a_pre, a_post, w_max,
dependence: 'additive'|'multiplicative', n_pre, n_post, pre: [...], post: [...], w0: [...],
delay_steps: [...] or null, pre_spikes: [[step, unit], ...], post_spikes: [[step, unit], ...]}.
Prints a JSON list, per case {"w": [[...weights after step 0], ...]} (numpy target).
"""
import json
import sys

import numpy as np
import brian2 as b2

b2.prefs.codegen.target = 'numpy'


def simulate(cfg):
    dt = cfg['dt_ms'] * b2.ms
    b2.defaultclock.dt = dt

    def generator(n, spikes):
        idx = np.array([u for _, u in spikes], dtype=int)
        times = np.array([s for s, _ in spikes], dtype=float) * cfg['dt_ms'] * b2.ms
        return b2.SpikeGeneratorGroup(n, idx, times, dt=dt)

    pre_group = generator(cfg['n_pre'], cfg['pre_spikes'])
    post_group = generator(cfg['n_post'], cfg['post_spikes'])
    tau_pre = cfg['tau_pre_ms'] * b2.ms
    tau_post = cfg['tau_post_ms'] * b2.ms
    a_pre = cfg['a_pre']
    a_post = cfg['a_post']
    w_max = cfg['w_max']
    if cfg['dependence'] == 'additive':
        pre_rule, post_rule = 'w = clip(w + apost_tr, 0, w_max)', 'w = clip(w + apre_tr, 0, w_max)'
    else:
        pre_rule, post_rule = 'w = clip(w + apost_tr * w, 0, w_max)', 'w = clip(w + apre_tr * (w_max - w), 0, w_max)'
    syn = b2.Synapses(
        pre_group, post_group,
        '''w : 1
           dapre_tr/dt = -apre_tr / tau_pre : 1 (event-driven)
           dapost_tr/dt = -apost_tr / tau_post : 1 (event-driven)''',
        on_pre='apre_tr += a_pre\n' + pre_rule,
        on_post='apost_tr += a_post\n' + post_rule)
    syn.connect(i=np.array(cfg['pre'], dtype=int), j=np.array(cfg['post'], dtype=int))
    syn.w = np.array(cfg['w0'], dtype=float)
    if cfg.get('delay_steps') is not None:
        syn.delay = np.array(cfg['delay_steps'], dtype=float) * cfg['dt_ms'] * b2.ms
    weights = b2.StateMonitor(syn, 'w', record=True, when='end')
    net = b2.Network(pre_group, post_group, syn, weights)
    net.run(cfg['steps'] * dt)
    return {'w': np.asarray(weights.w).T.tolist()}


print(json.dumps([simulate(c) for c in json.load(sys.stdin)]))
