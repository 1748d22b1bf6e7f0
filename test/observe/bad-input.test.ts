import { describe, expect, it } from 'vitest';
import { tf } from '../../src/core/tf.js';
import { CinderArgumentError } from '../../src/core/errors.js';
import {
  CumulativeTraceReducer, EMAReducer, createTraceReducer, EventReducer, FoldFunctionReducer, MultiStateMonitor, NearestTraceReducer,
  PassthroughReducer, Recorder, ScaledCumulativeTraceReducer, StateMonitor,
} from '../../src/observe/index.js';

function rejects(fn: () => unknown, re: RegExp): void {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(CinderArgumentError);
  expect((err as Error).message).toMatch(re);
}

describe('observe rejects bad input', () => {
  it('trace time constants and steps must be > 0, amplitudes finite', () => {
    rejects(() => new CumulativeTraceReducer({ dt: 1, tau: 0 }), /invalid tau: got 0, expected a finite number > 0/);
    rejects(() => new NearestTraceReducer({ dt: -1, tau: 5 }), /invalid dt: got -1/);
    rejects(() => new CumulativeTraceReducer({ dt: 1, tau: NaN }), /invalid tau: got NaN/);
    rejects(() => new CumulativeTraceReducer({ dt: 1, tau: 5, amplitude: Infinity }), /invalid amplitude: got Infinity/);
  });

  it('criteria must be well formed; scaled traces need one', () => {
    rejects(() => new CumulativeTraceReducer({ dt: 1, tau: 5, criterion: { target: NaN } }), /invalid criterion.target: got NaN/);
    rejects(() => new CumulativeTraceReducer({ dt: 1, tau: 5, criterion: { target: 1, tolerance: -1 } }), /invalid criterion.tolerance: got -1/);
    rejects(() => new ScaledCumulativeTraceReducer({ dt: 1, tau: 5 } as never), /invalid criterion: got undefined/);
  });

  it('trace mode must be cumulative or nearest', () => {
    const c = createTraceReducer('cumulative', { dt: 1, tau: 5 });
    const n = createTraceReducer('nearest', { dt: 1, tau: 5 });
    expect(c).toBeInstanceOf(CumulativeTraceReducer);
    expect(n).toBeInstanceOf(NearestTraceReducer);
    c.dispose(); n.dispose();
    rejects(() => createTraceReducer('triplet' as 'nearest', { dt: 1, tau: 5 }), /invalid traceMode: got "triplet"/);
  });

  it('EMA alpha in [0, 1]; event initial one of inf/zero/nan', () => {
    rejects(() => new EMAReducer({ alpha: 1.5 }), /invalid alpha: got 1.5, expected a number in \[0, 1\]/);
    rejects(() => new EventReducer({ dt: 1, initial: 'one' as 'inf' }), /invalid initial: got "one", expected one of "inf", "zero", "nan"/);
  });

  it('history, capacity and every must be integers >= 1', () => {
    rejects(() => new PassthroughReducer({ history: 0 }), /invalid history: got 0, expected an integer >= 1/);
    rejects(() => new Recorder(() => tf.zeros([1]), { capacity: 2.5 }), /invalid capacity: got 2.5/);
    rejects(() => new StateMonitor(() => tf.zeros([1]), new PassthroughReducer(), { every: 0 }), /invalid every: got 0/);
  });

  it('accessors must be functions; fold functions too', () => {
    rejects(() => new StateMonitor('neuron.spike' as never, new PassthroughReducer()), /invalid accessor: got "neuron.spike"/);
    rejects(() => new MultiStateMonitor([] as never, new PassthroughReducer() as never), /invalid accessors: got \[\]/);
    rejects(() => new FoldFunctionReducer(undefined as never), /invalid fn: got undefined/);
  });

  it('an observation whose shape changed is rejected (until clear)', () => {
    const r = new CumulativeTraceReducer({ dt: 1, tau: 5 });
    const a = tf.zeros([2, 3]), b = tf.zeros([4, 3]);
    r.fold(a);
    rejects(() => r.fold(b), /invalid observation: got tensor of shape \[4, 3\] \(float32\), expected shape \[2, 3\]/);
    r.clear();
    expect(() => r.fold(b)).not.toThrow();
    tf.dispose([a, b]);
    r.dispose();
  });

  it('history reads must be in range', () => {
    const r = new PassthroughReducer({ history: 3 });
    const a = tf.zeros([1]);
    r.fold(a); r.fold(a);
    rejects(() => r.ago(2), /invalid k: got 2, expected an integer in \[0, 1\]/);
    rejects(() => r.ago(-1), /invalid k: got -1/);
    a.dispose();
    r.dispose();
  });
});
