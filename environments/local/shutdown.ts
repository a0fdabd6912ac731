// Stops every started component when the process is asked to end (SIGINT, SIGTERM), then exits
// with the conventional 128+signal code. Node's default would exit without running any cleanup.
type Stopper = () => Promise<void>;

const stoppers = new Set<Stopper>();
let installed = false;
const SIGNAL_CODES: Record<string, number> = { SIGINT: 2, SIGTERM: 15 };

export function stopOnSignal(stop: Stopper): () => void {
  if (!installed) {
    installed = true;
    for (const signal of Object.keys(SIGNAL_CODES) as NodeJS.Signals[]) {
      process.once(signal, () => {
        void Promise.allSettled([...stoppers].map((s) => s())).finally(() => process.exit(128 + SIGNAL_CODES[signal]!));
      });
    }
  }
  stoppers.add(stop);
  return () => stoppers.delete(stop);
}
