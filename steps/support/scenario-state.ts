// Step files keep their own facts of a scenario next to the World without widening it: one
// record per World (per scenario), created on first use.
import type { LabWorld } from './world.ts';

export function scenarioState<T extends object>(): (world: LabWorld) => T {
  const states = new WeakMap<LabWorld, T>();
  return (world) => {
    let s = states.get(world);
    if (!s) states.set(world, (s = {} as T));
    return s;
  };
}
