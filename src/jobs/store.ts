/** Job records in system.hdb_job: created by the serving thread, advanced by the pool thread running the job. */
import { randomUUID } from 'node:crypto';
import { search, type LmdbStorage, type Rec } from '../storage/index.js';
import { writeRecords } from '../operations/index.js';
import type { JobRecord, JobStatus, JobType } from './types.js';

export const JOB_DB = 'system';
export const JOB_TABLE = 'hdb_job';

export class JobStore {
  constructor(private readonly storage: LmdbStorage) {}

  private database() {
    const db = this.storage.database(JOB_DB);
    if (!db?.table(JOB_TABLE)) throw new Error('system.hdb_job is missing: the root was not installed');
    return db;
  }

  async create(type: JobType, user: string | null, request: Record<string, unknown>): Promise<JobRecord> {
    const job: JobRecord = {
      id: randomUUID(), type, status: 'CREATED', message: null, user, created_datetime: Date.now(),
      start_datetime: null, end_datetime: null, request,
    };
    await this.save(job.id, job as unknown as Rec);
    return job;
  }

  get(id: string): JobRecord | undefined {
    return this.database().table(JOB_TABLE)!.get(id) as JobRecord | undefined;
  }

  /** Merge fields into a job (the write path of upsert: unknown fields become indexed attributes). */
  async update(id: string, patch: Partial<JobRecord>): Promise<void> {
    await this.save(id, { ...patch, id } as Rec);
  }

  private async save(id: string, rec: Rec): Promise<void> {
    await writeRecords(this.database(), JOB_DB, JOB_TABLE, 'upsert', [rec], [id]);
  }

  /** Jobs whose start time falls in [from, to] (epoch ms). */
  byStartDate(from: number, to: number): JobRecord[] {
    const t = this.database().table(JOB_TABLE)!;
    if (!t.hasAttribute('start_datetime')) return [];
    return [...search(t, { attribute: 'start_datetime', comparator: 'between', value: [from, to] })] as unknown as JobRecord[];
  }

  /**
   * At server start nothing can still be running: jobs left CREATED or IN_PROGRESS by a previous process are marked
   * ERROR, saying what they had written, so a half-done load is never mistaken for a finished one.
   */
  async failInterrupted(): Promise<number> {
    const t = this.database().table(JOB_TABLE)!;
    const stale: JobRecord[] = [];
    for (const r of t.scan()) {
      const job = r as unknown as JobRecord;
      if (job.status === 'CREATED' || job.status === 'IN_PROGRESS') stale.push(job);
    }
    for (const job of stale) {
      const c = job.counts;
      const wrote = c ? ` ${c.written} of the ${c.total} records read had been written (committed batches stay written).` : ' Nothing had been written.';
      await this.update(job.id, {
        status: 'ERROR' as JobStatus, end_datetime: Date.now(),
        message: `There was an error running ${job.type} job with id ${job.id} - the server restarted before the job finished.${job.status === 'CREATED' ? ' The job had not started.' : wrote}`,
      });
    }
    return stale.length;
  }
}

/** A job as get_job shows it: internal fields removed. */
export function publicJob(job: JobRecord): Record<string, unknown> {
  const { request: _r, __createdtime__: _c, __updatedtime__: _u, ...rest } = job;
  return rest;
}
