// The lab's cleanups: run one after the other, last registered first, so a component stops before
// what it depends on; every failure is reported, none stops the others.
export class Cleanups {
  readonly #steps: Array<() => Promise<unknown>> = [];

  add(step: () => Promise<unknown>): void {
    this.#steps.push(step);
  }

  async run(): Promise<void> {
    const failures: unknown[] = [];
    while (this.#steps.length > 0) {
      try {
        await this.#steps.pop()!();
      } catch (err) {
        failures.push(err);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, 'some lab components failed to stop');
  }
}
