// Entry of the engine watchdog (engine.ts starts it, detached): TypeScript through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./keeper-main.ts');
