// Entry of the simulated external CA as its own process (environments/local/external-ca.ts starts
// it): TypeScript sources run through tsx, registered here as the process starts.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
