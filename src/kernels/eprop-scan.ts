/**
 * The constants of the e-prop recurrent scan, shared by every scan kernel (the JavaScript and tfjs
 * kernels in `src/learn/eprop`, the fused WGSL kernel in `src/kernels/webgpu`). Defined on this floor
 * so that kernels need nothing from `learn`.
 * @module
 */

/** Per-step constants of the recurrent scan, in float64 (kernels round them as they need). */
export interface EPropScanConstants {
  /** Number of neurons. */
  n: number;
  /** Number of inputs. */
  nIn: number;
  /** Membrane decay α = exp(−dt/τ_m). */
  alpha: number;
  /** Input scale ζ (1 or 1 − α). */
  zeta: number;
  /** Adaptation decay ρ = exp(−dt/τ_a). */
  rho: number;
  /** Base threshold V_th. */
  vTh: number;
  /** Refractory steps n_ref. */
  nRef: number;
  /** Adaptation strength per neuron (0 for LIF rows). */
  beta: ArrayLike<number>;
  /** Surrogate gradient: its name, height h and width w. */
  surrogate: { name: string; height: number; width: number };
}
