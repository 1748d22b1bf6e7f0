/**
 * Per-synapse bars: weights before and after, and their change.
 * @module
 */
import { CinderArgumentError, checkOptionKeys, optionKeys } from '../core/errors.js';
import type { Figure } from './figure.js';
import { panelFigure, type Panel } from './panels.js';

/** Options of {@link synapseChangeBars}. */
export interface SynapseBarsOptions {
  /** One label per synapse (default `0`, `1`, …). */
  labels?: readonly string[];
  /** `both` (default): values before/after and the change in two panels; `change`: the change only. */
  show?: 'both' | 'change';
  /** y-axis label of the values (default `weight`). */
  yTitle?: string;
}

/** The keys of {@link SynapseBarsOptions}: other keys are refused ("invalid options key"). */
export const SYNAPSE_BARS_OPTION_KEYS = optionKeys<SynapseBarsOptions>()(['labels', 'show', 'yTitle']);

/**
 * Bars per synapse: the change `after − before` (green up, red down) and, with `show: 'both'`, the
 * values before and after side by side.
 * @throws CinderArgumentError when `before`, `after` and `labels` differ in length
 */
export function synapseChangeBars(title: string, before: ArrayLike<number>, after: ArrayLike<number>, options: SynapseBarsOptions = {}): Figure {
  checkOptionKeys('options', options, SYNAPSE_BARS_OPTION_KEYS);
  if (before.length !== after.length) throw new CinderArgumentError('after', `${after.length} values`, `as many values as before (${before.length})`);
  const labels = options.labels ? [...options.labels] : Array.from({ length: before.length }, (_, i) => String(i));
  if (labels.length !== before.length) throw new CinderArgumentError('labels', `${labels.length} labels`, `one per synapse (${before.length})`);
  const change = Array.from(after, (a, i) => a - before[i]!);
  const changePanel: Panel = {
    title: 'change',
    yTitle: 'Δ ' + (options.yTitle ?? 'weight'),
    xTitle: 'synapse',
    xaxis: { type: 'category' },
    traces: [{ type: 'bar', name: 'change', x: labels, y: change, marker: { color: change.map((d) => (d >= 0 ? '#2ca02c' : '#d62728')) } }],
  };
  const panels: Panel[] = [];
  if ((options.show ?? 'both') === 'both') {
    panels.push({
      title: 'before and after',
      yTitle: options.yTitle ?? 'weight',
      xaxis: { type: 'category' },
      traces: [
        { type: 'bar', name: 'before', x: labels, y: Array.from(before) },
        { type: 'bar', name: 'after', x: labels, y: Array.from(after) },
      ],
    });
  }
  panels.push(changePanel);
  return panelFigure(title, panels, { showLegend: true, layout: { barmode: 'group' } });
}
