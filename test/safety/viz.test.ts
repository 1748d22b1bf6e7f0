// Figures size to their layout, not to the window: the page's drawing height grows with the number
// of stacked panels (a tall 8-panel figure scrolls instead of being squashed), and the Florian figure
// labels every y axis with its quantity and unit.
import { describe, expect, it } from 'vitest';
import { figureHeight, figureHtml, MIN_PANEL_HEIGHT, panelFigure } from '../../src/node.js';
import { florianFigure, runFlorian } from '../../examples/florian/index.js';

const specOf = (html: string) => JSON.parse(/<script type="application\/json" id="figure-spec">([\s\S]*?)<\/script>/.exec(html)![1]!) as { layout: Record<string, unknown> };

describe('figure sizing', () => {
  it('the page height follows the panel count (>= MIN_PANEL_HEIGHT per row) and is fixed in CSS', () => {
    for (const n of [1, 3, 8, 20]) {
      const fig = panelFigure('p', Array.from({ length: n }, (_, i) => ({ title: `p${i}`, yTitle: 'v (mV)', traces: [{ type: 'scatter', x: [0, 1], y: [0, i] }] })));
      const h = figureHeight(fig);
      expect(h).toBeGreaterThanOrEqual(MIN_PANEL_HEIGHT * n + 130);
      const html = figureHtml(fig, { plotly: 'relative' });
      expect(html).toContain(`#figure { width: 100%; height: ${h}px; }`);
      expect(specOf(html).layout.height).toBe(h);
      // each row's share of the plot area, in px, is at least 100
      const yDomains = Object.entries(fig.layout).filter(([k]) => /^yaxis\d*$/.test(k)).map(([, v]) => (v as { domain: number[] }).domain);
      for (const [a, b] of yDomains) expect((b! - a!) * (h - 130)).toBeGreaterThanOrEqual(100);
    }
  });

  it('a layout height below the panels\' minimum is raised; a larger one is kept', () => {
    const fig = panelFigure('p', Array.from({ length: 8 }, () => ({ yTitle: 'x (1)', traces: [] })), { height: 300 });
    expect(figureHeight(fig)).toBe(MIN_PANEL_HEIGHT * 8 + 130);
    const tall = panelFigure('p', [{ yTitle: 'x (1)', traces: [] }], { height: 2000 });
    expect(figureHeight(tall)).toBe(2000);
  });

  it('the 8-panel Florian figure has a y title on every panel', async () => {
    const fig = florianFigure(await runFlorian({ steps: 20, lrPost: 0.2, lrPre: -0.2, tauTrace: 20, tauEligibility: 25, weightInit: 0.2 }));
    expect(fig.panels).toBe(8);
    const titles = Object.entries(fig.layout).filter(([k]) => /^yaxis\d*$/.test(k)).map(([, v]) => (v as { title?: { text?: string } }).title?.text ?? '');
    expect(titles.length).toBe(8);
    expect(titles.every((t) => t.trim() !== '')).toBe(true);
    expect(figureHeight(fig)).toBeGreaterThanOrEqual(MIN_PANEL_HEIGHT * 8 + 130);
  });
});
