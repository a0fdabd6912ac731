// Entry of the provisioning service as its own process (environments/local/service-process.ts
// forks it, environments/containers/provisioning-service-container.ts runs it): TypeScript
// sources run through tsx, registered here as the process starts.
import { register } from 'tsx/esm/api';

register();
await import('./process-main.ts');
