#!/usr/bin/env node
// The ecm-lab CLI runs its TypeScript sources directly: no build step between an edit and a run.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
