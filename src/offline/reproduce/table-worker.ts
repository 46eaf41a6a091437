import { parentPort, workerData } from 'node:worker_threads';
import { reproduceTable, type ReproduceOptions } from './reproduce-table.ts';
import type { TableEntry } from './manifest.ts';

/** Runs the tables it is sent, one at a time, and posts each outcome back. `null` ends the worker. */
const opts = workerData as ReproduceOptions;
parentPort!.on('message', async (entry: TableEntry | null) => {
  if (entry === null) {
    parentPort!.close();
    return;
  }
  parentPort!.postMessage(await reproduceTable(entry, opts));
});
parentPort!.postMessage({ ready: true });
