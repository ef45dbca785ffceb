/**
 * Pool thread entry (piscina). Module-level state is allowed here only: this file *is* the thread. It opens its own
 * storage handles (lmdb-js shares the native environment within the process) and the shared transaction clock.
 */
import { workerData } from 'node:worker_threads';
import { executeOperation, type ServerServices } from '../operations/index.js';
import { runJob } from '../jobs/index.js';
import { runSqlTask } from '../sql/index.js';
import { LmdbStorage, TxnClock } from '../storage/index.js';
import { UserStore } from '../auth/index.js';
import type { WeftConfig } from '../config/index.js';
import type { PoolTask, PoolWorkerData } from './types.js';

const data = workerData as PoolWorkerData;
const config = data.config as WeftConfig;
const stopFlag = new Int32Array(data.stop);
let services: ServerServices | undefined;

function servicesOf(): ServerServices {
  if (services) return services;
  const storage = new LmdbStorage({
    path: config.storage.path, clock: new TxnClock(data.clock), writeAsync: config.storage.writeAsync,
    overlappingSync: config.storage.overlappingSync,
  });
  services = {
    config, configFile: data.configFile, rootPath: data.rootPath, version: data.version, startedAt: data.startedAt,
    storage,
    // exports run their search as the requesting user, so the pool needs a user store like a serving thread
    users: new UserStore(storage, 0),
    // Serving threads re-read catalogs by version, so schema changes need no broadcast from here.
    cluster: {
      schemaChanged() {},
      authChanged() {},
      dropDatabase: () => Promise.reject(new Error('not available in the background pool')),
      restartProcess() {},
      restartWorkers: () => Promise.resolve(),
      threadInfo: () => Promise.resolve([]),
      // a SQL search inside a job (export_local) runs its chunks right here, one after the other
      runTask: (task) => (task.kind === 'job' ? Promise.reject(new Error('pool tasks cannot submit jobs')) : run(task)),
    },
  };
  return services;
}

export default async function run(task: PoolTask): Promise<unknown> {
  switch (task.kind) {
    case 'job':
      return runJob(task, { services: servicesOf(), executeOperation, stopping: () => Atomics.load(stopFlag, 0) === 1 });
    case 'sql-split':
    case 'sql-chunk': {
      const s = servicesOf();
      return runSqlTask(task, { storage: s.storage, schemaChanged() {} });
    }
  }
}
