"""Brian2 side of test/examples/lateral-line-fidelity.test.ts: a small lateral-line circuit with
the original model's equations (LIF with g_e/g_i, forward Euler, refractoriness; multiplicative
STDP LL->MON, additive STDP with gain MON->TS; MON global inhibition cell; TS ring inhibition; TS
feedback inhibition cell; one-to-one background) driven by GIVEN spike trains (SpikeGeneratorGroup)
so both simulators see identical input. Reads one JSON case on stdin, prints spikes and weights."""
import json
import sys

import numpy as np
import brian2 as b2

c = json.load(sys.stdin)
b2.prefs.codegen.target = "numpy"
b2.defaultclock.dt = 1 * b2.ms
ns = {"Vth": c["vth"] * b2.mV, "Vreset": c["vreset"] * b2.mV, "El": c["el"] * b2.mV,
      "tau_ref": c["tau_ref"] * b2.ms, "tau_m": c["tau_m"] * b2.ms, "tau_s": c["tau_s"] * b2.ms}
eqs = """
dv/dt = (El - v + ge - gi) / tau_m : volt (unless refractory)
dge/dt = -ge / tau_s : volt
dgi/dt = -gi / tau_s : volt
"""


def lif(n):
    return b2.NeuronGroup(n, eqs, threshold="v > Vth", reset="v = Vreset", refractory="tau_ref",
                          method="euler", namespace=ns)


def gen(n, spikes):
    idx = np.array([s[1] for s in spikes], dtype=int)
    t = np.array([s[0] for s in spikes], dtype=float) * b2.ms
    return b2.SpikeGeneratorGroup(n, idx, t)


n_ll, n_mon, n_ts = c["n_ll"], c["n_mon"], c["n_ts"]
ll = gen(n_ll, c["ll_spikes"])
bg_mon = gen(n_mon, c["bg_mon_spikes"])
bg_ts = gen(n_ts, c["bg_ts_spikes"])
mon, ts, mon_inh, ts_inh = lif(n_mon), lif(n_ts), lif(1), lif(1)
mon.v = np.array(c["mon_v0"]) * b2.mV
ts.v = np.array(c["ts_v0"]) * b2.mV
mon_inh.v = c["el"] * b2.mV
ts_inh.v = c["el"] * b2.mV
trace = """
w : {unit}
dapre/dt = -apre/taupre : 1 (event-driven)
dapost/dt = -apost/taupost : 1 (event-driven)
"""
s_llm = b2.Synapses(ll, mon, trace.format(unit="volt"),
                    on_pre="ge_post += w\napre += Apre\nw = clip(w + apost*w, 0*mV, wmax)",
                    on_post="apost += Apost\nw = clip(w + apre*(wmax - w), 0*mV, wmax)",
                    namespace={"taupre": 20 * b2.ms, "taupost": 20 * b2.ms, "Apre": c["llm_apre"],
                               "Apost": c["llm_apost"], "wmax": c["llm_wmax"] * b2.mV})
s_llm.connect(i=np.array(c["llm_pre"]), j=np.array(c["llm_post"]))
s_llm.w = np.array(c["llm_w"]) * b2.mV
s_mt = b2.Synapses(mon, ts, trace.format(unit="1"),
                   on_pre="ge_post += gain*w*mV\napre += Apre\nw = clip(w + apost, 0, wmax)",
                   on_post="apost += Apost\nw = clip(w + apre, 0, wmax)",
                   namespace={"taupre": 20 * b2.ms, "taupost": 20 * b2.ms, "Apre": c["mt_apre"],
                              "Apost": c["mt_apost"], "wmax": c["mt_wmax"], "gain": c["mt_gain"]})
s_mt.connect(i=np.array(c["mt_pre"]), j=np.array(c["mt_post"]))
s_mt.w = np.array(c["mt_w"])
s_bgm = b2.Synapses(bg_mon, mon, on_pre=f"ge_post += {c['bg_w_mon']}*mV")
s_bgm.connect(condition="i == j")
s_bgt = b2.Synapses(bg_ts, ts, on_pre=f"ge_post += {c['bg_w_ts']}*mV")
s_bgt.connect(condition="i == j")
s_mi = b2.Synapses(mon, mon_inh, on_pre=f"ge_post += {c['mon_inh_drive']}*mV")
s_mi.connect(i=np.array(c["mon_to_inh"]), j=np.zeros(len(c["mon_to_inh"]), dtype=int))
s_im = b2.Synapses(mon_inh, mon, "w : volt", on_pre="gi_post += w")
s_im.connect()
s_im.w = c["mon_inh_w"] * b2.mV
s_lat = b2.Synapses(ts, ts, "w : volt", on_pre="gi_post += w")
s_lat.connect(i=np.array(c["lat_pre"]), j=np.array(c["lat_post"]))
s_lat.w = np.array(c["lat_w"]) * b2.mV
s_ti = b2.Synapses(ts, ts_inh, on_pre=f"ge_post += {c['ts_inh_drive']}*mV")
s_ti.connect(i=np.array(c["ts_to_inh"]), j=np.zeros(len(c["ts_to_inh"]), dtype=int))
s_it = b2.Synapses(ts_inh, ts, "w : volt", on_pre="gi_post += w")
s_it.connect()
s_it.w = c["ts_inh_w"] * b2.mV
m_mon, m_ts = b2.SpikeMonitor(mon), b2.SpikeMonitor(ts)
m_mi, m_ti = b2.SpikeMonitor(mon_inh), b2.SpikeMonitor(ts_inh)
b2.run(c["steps"] * b2.ms)


def spk(m):
    return [[int(round(float(t / b2.ms))), int(i)] for t, i in zip(m.t, m.i)]


print(json.dumps({"mon": spk(m_mon), "ts": spk(m_ts), "mon_inh": spk(m_mi), "ts_inh": spk(m_ti),
                  "llm_w": [float(x) for x in s_llm.w / b2.mV], "mt_w": [float(x) for x in s_mt.w[:]],
                  "llm_ij": [[int(a), int(b)] for a, b in zip(s_llm.i[:], s_llm.j[:])],
                  "mt_ij": [[int(a), int(b)] for a, b in zip(s_mt.i[:], s_mt.j[:])],
                  "mon_v": [float(x) for x in mon.v / b2.mV], "ts_v": [float(x) for x in ts.v / b2.mV]}))
