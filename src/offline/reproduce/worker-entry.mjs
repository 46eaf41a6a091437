// Worker-thread entry in plain JS: registers tsx inside this thread (loader hooks are per thread), then loads the
// TypeScript worker. Resolved relative to this file, so it works from any working directory.
import { register } from 'tsx/esm/api';
register();
await import('./table-worker.ts');
