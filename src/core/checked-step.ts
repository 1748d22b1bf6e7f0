/**
 * Classes whose step checks everything it can refuse before it changes any state — the library's
 * own neurons, connections and synapses. A layer made only of these steps without a rollback guard;
 * one holding an instance of any other class (a user subclass included: the match is on the exact
 * class) keeps zero-copy handles of its states during each step, so that a throw can be undone
 * (`Layer.step`).
 * @module
 */

const checked = new WeakSet<object>();

/** Marks `classes` as checking their step before changing state (for the library's own classes). */
export function markCheckedStep(...classes: readonly object[]): void {
  for (const c of classes) checked.add(c);
}

/** Whether the class `cls` itself was marked by {@link markCheckedStep}. */
export function isCheckedStepClass(cls: object): boolean {
  return checked.has(cls);
}

/** Whether `obj` is an instance of exactly a class marked by {@link markCheckedStep}. */
export function hasCheckedStep(obj: object): boolean {
  const proto = Object.getPrototypeOf(obj) as { constructor?: object } | null;
  return proto?.constructor !== undefined && checked.has(proto.constructor);
}
