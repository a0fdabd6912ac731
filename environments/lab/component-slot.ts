// A component as the lab holds it: the started module of now, and how to start it again. A
// restart (fault injection, a PKI rotation, NFR-REL-002) stops it and starts a new one from the
// same recipe, which is given the previous start so it keeps its ports and its directory.
import type { StartedComponent } from '../modules/module.ts';

export class ComponentSlot<S extends StartedComponent> {
  #current: S;

  private constructor(
    private readonly recipe: (previous: S | undefined) => Promise<S>,
    first: S,
  ) {
    this.#current = first;
  }

  static async start<S extends StartedComponent>(recipe: (previous: S | undefined) => Promise<S>): Promise<ComponentSlot<S>> {
    return new ComponentSlot(recipe, await recipe(undefined));
  }

  get current(): S {
    return this.#current;
  }

  get pid(): number {
    return this.#current.pid;
  }

  get running(): boolean {
    return this.#current.running;
  }

  get logFile(): string {
    return this.#current.logFile;
  }

  /** Stops it (if it runs) and starts it again on what the previous start had. */
  async restart(): Promise<void> {
    const previous = this.#current;
    await previous.stop();
    this.#current = await this.recipe(previous);
  }

  /** Idempotent. */
  async stop(): Promise<void> {
    await this.#current.stop();
  }
}
