import { startTsWorker } from '../../ts-worker.ts';
import type { TableEntry } from './manifest.ts';
import type { ReproduceOptions, TableOutcome } from './reproduce-table.ts';

/**
 * Runs tables on `jobs` worker threads (each table is CPU-bound: CV fits and bootstraps), largest inputs first
 * so the slowest tables don't start last. Outcomes are returned in manifest order; `onDone` fires as each finishes.
 * A worker that dies marks its table as an error and is replaced, so one bad table never stops the rest.
 */
export async function runTablesInPool(tables: readonly TableEntry[], opts: ReproduceOptions, jobs: number, onDone: (o: TableOutcome) => void, order: (e: TableEntry) => number = () => 0): Promise<TableOutcome[]> {
  const queue = [...tables].sort((a, b) => order(b) - order(a));
  const outcomes = new Map<string, TableOutcome>();
  const entry = new URL('./table-worker.ts', import.meta.url);

  const runWorker = () => new Promise<void>((resolve) => {
    const worker = startTsWorker(entry, { workerData: opts });
    let current: TableEntry | null = null;
    const next = () => {
      current = queue.shift() ?? null;
      worker.postMessage(current);
      if (current === null) resolve();
    };
    worker.on('message', (msg: TableOutcome | { ready: true }) => {
      if ('ready' in msg) return next();
      outcomes.set(msg.table, msg);
      onDone(msg);
      next();
    });
    worker.on('error', (err) => {
      if (current) {
        const failed: TableOutcome = { table: current.table, input: current.input, mode: current.mode, nBoot: current.nBoot, status: 'error', error: `worker crashed: ${err.message}`, seconds: 0 };
        outcomes.set(current.table, failed);
        onDone(failed);
        current = null;
      }
      void runWorker().then(resolve);
    });
  });

  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, tables.length)) }, runWorker));
  return tables.map((t) => outcomes.get(t.table)!);
}
