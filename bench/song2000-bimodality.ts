/**
 * Song 2000 bimodality: Cinder's event engine versus Brian2 (cython) running the same model
 * (`bench/peers/brian2_song2000.py`), `SONG_BIMODAL_SECONDS` (default 100) simulated seconds, seeds
 * 1..`SONG_BIMODAL_SEEDS` (default 3; Cinder runs its seeds as one batch).
 *
 * Criterion: the fraction of weights below 0.1·gmax or above 0.9·gmax, mean over the seeds, within
 * ±0.05 of Brian2's; and the histograms of w/gmax (20 bins) alike — reported as the total-variation
 * distance between the mean normalised histograms, next to the same distance between two halves of
 * Brian2's own seeds (seed-to-seed spread) when there are ≥ 2 seeds.
 *
 * Cinder runs in both schemes of its event engine: `cinder` (the tfjs path's discretisation) and
 * `brian2` (Brian2's Euler discretisation and step order); the criterion is checked on each.
 *
 * Prints one JSON line. Run: `npx tsx bench/song2000-bimodality.ts` (about 25 s per Brian2 seed).
 */
import { songParams } from '../examples/song2000/params.js';
import { weightExtremes } from '../examples/song2000/index.js';
import { runBrian2Song, timeEventSong } from './song2000.js';
import type { SongScheme } from '../examples/song2000/event.js';
import { sig } from './harness.js';

const BINS = 20;

function histogram(w: ArrayLike<number>, gmax: number): number[] {
  const h = new Array<number>(BINS).fill(0);
  for (let i = 0; i < w.length; i++) h[Math.min(BINS - 1, Math.max(0, Math.floor((w[i]! / gmax) * BINS)))]!++;
  return h;
}

const normalise = (h: readonly number[]) => {
  const s = h.reduce((a, b) => a + b, 0);
  return h.map((x) => x / s);
};
const meanOf = (hs: readonly number[][]) => hs[0]!.map((_, k) => hs.reduce((s, h) => s + h[k]!, 0) / hs.length);
const tv = (a: readonly number[], b: readonly number[]) => 0.5 * a.reduce((s, x, k) => s + Math.abs(x - b[k]!), 0);

export async function run(): Promise<void> {
  const seconds = Number(process.env.SONG_BIMODAL_SECONDS ?? 100);
  const seeds = Math.max(1, Math.round(Number(process.env.SONG_BIMODAL_SEEDS ?? 3)));
  const p = songParams();
  const runCinder = (scheme: SongScheme) => {
    const { ms, engine } = timeEventSong(seconds, 1, seeds, scheme);
    return {
      ms,
      seeds: Array.from({ length: seeds }, (_, b) => {
        const w = engine.weights(b);
        return { bimodal: weightExtremes(w, p.gmax).bimodal, hist: normalise(histogram(w, p.gmax)) };
      }),
    };
  };
  const schemes = { cinder: runCinder('cinder'), brian2: runCinder('brian2') };
  const brian: { bimodal: number; hist: number[]; wall_s: number }[] = [];
  let skipped: string | null = null;
  for (let s = 1; s <= seeds && !skipped; s++) {
    const r = runBrian2Song(seconds, s, BINS);
    if (typeof r === 'string') skipped = r;
    else brian.push({ bimodal: r.bimodal_fraction, hist: normalise(r.histogram), wall_s: r.wall_s });
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const out: Record<string, unknown> = { case: 'song2000-bimodality', simulated_seconds: seconds, seeds };
  for (const [name, r] of Object.entries(schemes)) {
    Object.assign(out, {
      [`cinder_${name}_bimodal_fractions`]: r.seeds.map((c) => sig(c.bimodal)),
      [`cinder_${name}_bimodal_mean`]: sig(mean(r.seeds.map((c) => c.bimodal))),
      [`cinder_${name}_wall_s_all_seeds`]: sig(r.ms / 1000),
      [`cinder_${name}_histogram`]: meanOf(r.seeds.map((c) => c.hist)).map(sig),
    });
  }
  if (skipped) {
    console.error(`# song2000-bimodality: Brian2 skipped: ${skipped}`);
  } else {
    const bMean = mean(brian.map((b) => b.bimodal));
    const bHist = meanOf(brian.map((b) => b.hist));
    const half = Math.floor(brian.length / 2);
    Object.assign(out, {
      brian2_bimodal_fractions: brian.map((b) => sig(b.bimodal)),
      brian2_bimodal_mean: sig(bMean),
      brian2_wall_s_per_seed: brian.map((b) => sig(b.wall_s)),
      brian2_histogram: bHist.map(sig),
    });
    for (const [name, r] of Object.entries(schemes)) {
      const cMean = mean(r.seeds.map((c) => c.bimodal));
      Object.assign(out, {
        [`cinder_${name}_difference`]: sig(cMean - bMean),
        [`cinder_${name}_within_0_05`]: Math.abs(cMean - bMean) <= 0.05,
        [`cinder_${name}_histogram_tv_distance`]: sig(tv(meanOf(r.seeds.map((c) => c.hist)), bHist)),
      });
    }
    Object.assign(out, {
      brian2_seed_to_seed_tv_distance: half >= 1 ? sig(tv(meanOf(brian.slice(0, half).map((b) => b.hist)), meanOf(brian.slice(half).map((b) => b.hist)))) : null,
    });
  }
  console.log(JSON.stringify(out));
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
