// Entry of the provisioning service as its own process (environments/local/provisioning-process.ts
// forks it): TypeScript sources run through tsx, registered here as the process starts.
import { register } from 'tsx/esm/api';

register();
await import('./process-main.ts');
