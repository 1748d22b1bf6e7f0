/**
 * Which class's option keys a connection constructor checks (internal to the connections: not
 * exported from the package). A class made by `postFiltered(base)` takes `base`'s connection
 * options, so `base`'s constructor checks them when reached through it.
 * @module
 */

const filteredBases = new WeakMap<object, object>();

/** Records that `filtered`, a class made by `postFiltered(base)`, wraps the connection class `base`. */
export function registerFilteredClass(filtered: object, base: object): void {
  filteredBases.set(filtered, base);
}

/**
 * The class whose option keys a connection constructor reached with `new.target === target`
 * checks: `base` for a class made by `postFiltered(base)` (its connection options are `base`'s),
 * else `target` itself. A library class checks its keys when this is the class itself, so user
 * subclasses may add options.
 */
export function optionClassOf(target: object): object {
  return filteredBases.get(target) ?? target;
}
