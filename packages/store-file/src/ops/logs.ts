import { readdir } from 'node:fs/promises';
import { CorruptDataError, NotFoundError, type Log, type LogType, type NewLog, type Page, type PageOptions } from '@baton/core';
import { decodeLogFile } from '../codec.js';
import { readText } from '../durable-io.js';
import { LOGS, abs } from '../layout.js';
import { decodeCursor, takePage, where } from '../page.js';
import type { LogRec } from '../records.js';
import type { Unit } from '../unit.js';
import type { Ctx } from './context.js';

/**
 * Logs are not held in memory: each append writes one file per run,
 * `logs/{runId}/{firstId}.json`, ids taken from the store-wide counter in
 * `generation.json`, so that file name order is log order.
 */
export function appendLogs(u: Unit, logs: NewLog[]): void {
  const now = Date.now();
  const byRun = new Map<string, LogRec[]>();
  for (const log of logs) {
    if (!u.state.get('runs', log.runId)) throw new NotFoundError('run', log.runId);
    const rec: LogRec = { id: u.state.nextLogId++, taskId: log.taskId ?? null, type: log.type, content: log.content, createdAt: now };
    const batch = byRun.get(log.runId);
    if (batch) batch.push(rec);
    else byRun.set(log.runId, [rec]);
  }
  for (const [runId, batch] of byRun) u.addLogs(runId, batch);
}

/** In execution order; the cursor is the last log's id. */
export async function listLogs(ctx: Ctx, runId: string, options: PageOptions & { taskId?: string }): Promise<Page<Log>> {
  const after = decodeCursor(options.cursor, 1);
  const afterId = after ? Number(after[0]) : 0;
  // The run id becomes a path: only known runs reach the file system (the SQL stores also answer an unknown run with nothing).
  if (!ctx.state.get('runs', runId)) return { items: [], nextCursor: null };
  const folder = abs(ctx.dir, `${LOGS}/${runId}`);
  let names: string[] = [];
  try {
    names = (await readdir(folder)).filter((n) => /^\d+\.json$/.test(n)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // Skip whole files that end before the cursor: a file's ids run up to the next file's first id.
  let start = 0;
  while (start + 1 < names.length && Number.parseInt(names[start + 1]!, 10) <= afterId + 1) start++;
  const files = names.slice(start);
  const staged = ctx.unit?.stagedLogs(runId) ?? [];

  const read = async (name: string) => {
    const location = `${folder}/${name}`;
    const text = await readText(location);
    if (text === null) return [];
    const file = decodeLogFile(text, location);
    if (file.runId !== runId) throw new CorruptDataError(location, `holds logs of run "${file.runId}"`);
    return file.logs;
  };
  const limit = options.limit ?? 50;
  const matches = (l: LogRec) => l.id > afterId && (!options.taskId || l.taskId === options.taskId);
  // Read files until the page (and one more, to know there is a next page) is full.
  const found: LogRec[] = [];
  for (const name of files) {
    for (const log of await read(name)) if (matches(log)) found.push(log);
    if (found.length > limit) break;
  }
  if (found.length <= limit) found.push(...where(staged, matches));
  return takePage(
    found,
    limit,
    (l) => toLog(runId, l),
    (l) => [l.id],
  );
}

const toLog = (runId: string, l: LogRec): Log => ({
  id: l.id,
  runId,
  taskId: l.taskId,
  type: l.type as LogType,
  content: l.content,
  createdAt: new Date(l.createdAt),
});
