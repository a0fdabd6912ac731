// Keys made before the clock started (`--pre-made-keys`): each handed out once, so a device that
// re-acquires or renews later makes its own, as it would without the option.
import type { DriverContext, PreMadeKeys } from './certificate-driver.ts';

export function preMadeKeyHandout(keys: PreMadeKeys | undefined): DriverContext['preMade'] {
  const left: Partial<PreMadeKeys> | undefined = keys ? { ...keys } : undefined;
  return ((kind: 'bootstrap' | 'operational') => {
    if (!left) return undefined;
    if (kind === 'operational') {
      const operational = left.operational;
      delete left.operational;
      return operational;
    }
    const bootstrap = left.accountKey && left.bootstrap ? { accountKey: left.accountKey, bootstrap: left.bootstrap } : undefined;
    delete left.accountKey;
    delete left.bootstrap;
    return bootstrap;
  }) as DriverContext['preMade'];
}
