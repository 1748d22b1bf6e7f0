# EI3 culture (1,000 conductance LIF neurons, 80 % excitatory, Gaussian distance-dependent
# connectivity, AMPA/NMDA/GABA_A rise/decay synapses, OU conductance noise) with livn's voltage-gated
# STDP on every synapse: the model of Cinder's examples/livn-stdp/systems.ts, written for Brian2.
# Prints one JSON line: wall and CPU ms per simulated second of the timed run (plasticity on).
#
#   /usr/bin/python3 bench/peers/brian2_livn_ei3.py [target=cython] [seconds=1] [n=1000] [seed=1] [repeats=1]
#
# With repeats > 1 the timed run is repeated (plasticity on throughout); the figures are the
# fastest repeat (the least disturbed by other load on a shared machine), all repeats are listed.
#
# Numerics: Euler (Euler–Maruyama for the OU noise) at dt 0.1 ms for the neuron and synapse state;
# the learning signal and its integral use the same zero-order-hold exact step as Cinder (written
# as a run_regularly update). A 20 ms warm-up run (which compiles) is not timed.
import json, sys, time
import numpy as np
from brian2 import *

target = sys.argv[1] if len(sys.argv) > 1 else 'cython'
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
N = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
seed_value = int(sys.argv[4]) if len(sys.argv) > 4 else 1
repeats = int(sys.argv[5]) if len(sys.argv) > 5 else 1
prefs.codegen.target = target
defaultclock.dt = 0.1 * ms
seed(seed_value)
rng = np.random.default_rng(seed_value)

n_exc = int(round(0.8 * N))
side = 40.0 if N <= 10 else 400.0 * np.sqrt(N / 100.0)
sigma, p0, velocity = 200.0, 0.3, 250.0
unit = 3.5  # noise unit (nS)

eqs = '''
dv/dt = (gL*(EL - v) + ge*(0*mV - v) + gi*(-75*mV - v) + (bA - aA)*(0*mV - v)
         + (bN - aN)*(0*mV - v)/(1 + exp(-0.062*v/mV)/3.57) + (bG - aG)*(-75*mV - v))/C : volt (unless refractory)
dge/dt = (ge0 - ge)/(33.0*ms) + sigE*sqrt(2/(33.0*ms))*xi_e : siemens
dgi/dt = (gi0 - gi)/(28.5*ms) + sigI*sqrt(2/(28.5*ms))*xi_i : siemens
daA/dt = -aA/(0.5*ms) : siemens
dbA/dt = -bA/(3*ms) : siemens
daN/dt = -aN/(0.5*ms) : siemens
dbN/dt = -bN/(80*ms) : siemens
daG/dt = -aG/(0.3*ms) : siemens
dbG/dt = -bG/(5*ms) : siemens
vs = v + (20*mV - v)*int(t - lastspike < 1*ms - 0.5*dt) : volt
C : farad (constant)
gL : siemens (constant)
EL : volt (constant)
vth : volt (constant)
ref : second (constant)
Le : 1
Ie : 1
Li : 1
Ii : 1
on_e : 1 (shared)
on_i : 1 (shared)
'''
G = NeuronGroup(N, eqs, threshold='v > vth', reset='v = -60*mV', refractory='ref', method='euler')
G.C = np.where(np.arange(N) < n_exc, 200.0, 100.0) * pfarad
G.gL = 10 * nS
G.EL = -65 * mV
G.vth = -50 * mV
G.ref = np.where(np.arange(N) < n_exc, 2.0, 1.0) * ms
G.v = -65 * mV
ge0, gi0 = 1.0 * unit * nS, 1.217 * unit * nS
sigE, sigI = 0.329 * unit * nS, 0.356 * unit * nS
G.ge = ge0
G.gi = gi0

# voltage-gated learning signal per neuron and group (EXC: AMPA+NMDA sites, INH: GABA_A sites)
dt_ms = 0.1
def zoh(tau):
    a = np.exp(-dt_ms / tau)
    return a, tau * (1 - a), tau * (1 - a) / 125.0, tau * (dt_ms - tau * (1 - a)) / 125.0
aE, sE, dsE, diE = zoh(4.0)
aI, sI, dsI, diI = zoh(1.0)
G.run_regularly(f'''
ltd_e = int(vs > -60*mV)/(1 + 1.3**(-(vs/mV + 55)))
ltp_e = int(vs > -45*mV)/(1 + 1.3**(-(vs/mV + 40)))
De = on_e*(2/(1 + 1.3**((ltd_e - 2*ltp_e)/20)) - 1)
ltd_i = int(vs < -70*mV)/(1 + 1.2**(-(vs/mV + 73)))
ltp_i = int(vs < -77*mV)/(1 + 1.2**(-(vs/mV + 80)))
Di = on_i*(2/(1 + 1.2**((ltd_i - 2*ltp_i)/20)) - 1)
Ie = Ie + {sE}*Le + {diE}*De
Le = {aE}*Le + {dsE}*De
Ii = Ii + {sI}*Li + {diI}*Di
Li = {aI}*Li + {dsI}*Di
''', when='after_resets')

# graph: p0 exp(-d^2/(2 sigma^2)), no autapses
x = rng.uniform(0, side, N); y = rng.uniform(0, side, N)
d2 = (x[:, None] - x[None, :]) ** 2 + (y[:, None] - y[None, :]) ** 2  # [pre, post]
mask = rng.uniform(size=(N, N)) < p0 * np.exp(-d2 / (2 * sigma ** 2))
np.fill_diagonal(mask, False)
pre, post = np.nonzero(mask)
delay = np.maximum(1, np.round(np.maximum(np.sqrt(d2[pre, post]) / velocity, 0.2) / dt_ms)) * dt_ms

def peak(td, tr):
    tp = td * tr / (td - tr) * np.log(td / tr)
    return 1.0 / (np.exp(-tp / td) - np.exp(-tp / tr))

weights = {'A': (0.5, 0.8), 'N': (0.05, 0.05), 'G': (3.0, 3.0)}
etas = {'A': peak(3, 0.5), 'N': peak(80, 0.5), 'G': peak(5, 0.3)}
syns = []
for r, grp, sel in [('A', 'e', pre < n_exc), ('N', 'e', pre < n_exc), ('G', 'i', pre >= n_exc)]:
    lo, hi = 1e-4, 5.0
    S = Synapses(G, G, '''w : 1
weight : siemens
lastI : 1''', on_pre=f'''w = w + on_{grp}_post*(clip(w*(1 + I{grp}_post - lastI), {lo}, {hi}) - w)
lastI = lastI + on_{grp}_post*(I{grp}_post - lastI)
a{r}_post += w*weight*{etas[r]}
b{r}_post += w*weight*{etas[r]}''')
    S.connect(i=pre[sel], j=post[sel])
    exc_post = post[sel] < n_exc
    S.weight = np.where(exc_post, weights[r][0], weights[r][1]) * nS
    S.w = 1.0
    S.delay = delay[sel] * ms
    syns.append(S)
spikes = SpikeMonitor(G)
net = Network(G, spikes, *syns)
# warm-up (compiles), plasticity off
net.run(20 * ms)
n0 = spikes.num_spikes
for S in syns:
    S.lastI = 'I' + ('i' if S is syns[2] else 'e') + '_post'
G.on_e = 1.0
G.on_i = 1.0
walls, cpus = [], []
for _ in range(repeats):
    t0 = time.perf_counter()
    c0 = time.process_time()
    net.run(seconds * second)
    walls.append(time.perf_counter() - t0)
    cpus.append(time.process_time() - c0)
wall, cpu = min(walls), min(cpus)
seconds_total = seconds * repeats
i_sp = np.asarray(spikes.i)[n0:]
w = np.concatenate([np.asarray(S.w) for S in syns])
print(json.dumps({
    'peer': 'brian2', 'target': target, 'n': N, 'synapses': int(w.size), 'simulated_seconds': seconds,
    'wall_seconds': wall, 'ms_per_simulated_second': 1000 * wall / seconds,
    'cpu_seconds': cpu, 'cpu_ms_per_simulated_second': 1000 * cpu / seconds,
    'rate_exc_hz': float(np.sum(i_sp < n_exc) / n_exc / seconds_total), 'rate_inh_hz': float(np.sum(i_sp >= n_exc) / (N - n_exc) / seconds_total),
    'wall_ms_per_simulated_second_runs': [1000 * x / seconds for x in walls], 'cpu_ms_per_simulated_second_runs': [1000 * x / seconds for x in cpus],
    'w_min': float(w.min()), 'w_max': float(w.max()), 'w_mean': float(w.mean()),
}))
