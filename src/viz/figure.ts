/**
 * A figure is plain data for plotly.js: traces and a layout. `src/viz` builds figures; the run
 * folder writes them as standalone HTML with plotly embedded (no network needed to open them).
 * @module
 */

/** One plotly trace (scatter, scattergl, histogram, heatmap, bar, …). */
export type Trace = Record<string, unknown> & {
  /** plotly trace type (default `scatter`). */
  type?: string;
  /** Legend entry. */
  name?: string;
};

/** A figure: traces plus layout. `panels` is the number of subplot panels (for checks). */
export interface Figure {
  /** Title (also the HTML page title). */
  title: string;
  /** The traces. */
  data: Trace[];
  /** plotly layout. */
  layout: Record<string, unknown>;
  /** Number of stacked/tiled panels (axes pairs) in the figure. */
  panels: number;
}
