// Worker thread entry: TypeScript sources run through tsx here too (hooks are per thread).
import { register } from 'tsx/esm/api';

register();
await import('./application-worker.ts');
