import { encode, encodeLogFile, keyOf } from './codec.js';
import type { Change } from './journal.js';
import { logFilePath, recordPath, type Kind } from './layout.js';
import type { LogRec, RecByKind } from './records.js';
import type { State } from './state.js';

interface Undo {
  kind: Kind;
  key: string;
  previous: RecByKind[Kind] | undefined;
}

interface LogFile {
  path: string;
  runId: string;
  logs: LogRec[];
}

export interface Savepoint {
  undo: number;
  logFiles: number;
  nextLogId: number;
}

/**
 * One transaction's changes. Operations change memory at once (so later reads
 * in the transaction see them) and the unit remembers what each change
 * replaced: rolling back restores memory exactly, and committing writes the
 * final version of every file that really changed.
 */
export class Unit {
  readonly state: State;
  readonly dir: string;
  readonly #undo: Undo[] = [];
  /** path → the record before this unit first touched it. */
  readonly #original = new Map<string, { kind: Kind; key: string; previous: RecByKind[Kind] | undefined }>();
  readonly #logFiles: LogFile[] = [];
  /** Set by operations after which tasks may be claimable (new runs, unblocked dependents, retries, releases). */
  tasksReady = false;

  constructor(state: State, dir: string) {
    this.state = state;
    this.dir = dir;
  }

  put<K extends Kind>(kind: K, rec: RecByKind[K]): void {
    this.#change(kind, keyOf(kind, rec), rec);
  }

  remove<K extends Kind>(kind: K, key: string): void {
    this.#change(kind, key, undefined);
  }

  /** Stages a batch of one run's logs as one file, named by its first id. */
  addLogs(runId: string, logs: LogRec[]): void {
    if (logs.length === 0) return;
    this.#logFiles.push({ path: logFilePath(runId, logs[0]!.id), runId, logs });
  }

  /** Logs of a run staged in this unit, for reads inside the transaction. */
  stagedLogs(runId: string): LogRec[] {
    return this.#logFiles.filter((f) => f.runId === runId).flatMap((f) => f.logs);
  }

  savepoint(): Savepoint {
    return { undo: this.#undo.length, logFiles: this.#logFiles.length, nextLogId: this.state.nextLogId };
  }

  rollbackTo(savepoint: Savepoint): void {
    while (this.#undo.length > savepoint.undo) {
      const { kind, key, previous } = this.#undo.pop()!;
      this.state.set(kind, key, previous);
    }
    this.#logFiles.length = savepoint.logFiles;
    this.state.nextLogId = savepoint.nextLogId;
  }

  /** The files to write or delete; records changed and changed back are left alone. */
  changes(): Change[] {
    const out: Change[] = [];
    for (const [path, { kind, key, previous }] of this.#original) {
      const current = this.state.get(kind, key);
      if (current === previous) continue;
      out.push({ path, content: current === undefined ? null : encode(kind, current) });
    }
    for (const file of this.#logFiles) out.push({ path: file.path, content: encodeLogFile(file.runId, file.logs) });
    return out;
  }

  #change<K extends Kind>(kind: K, key: string, rec: RecByKind[K] | undefined): void {
    const previous = this.state.get(kind, key);
    this.#undo.push({ kind, key, previous });
    const path = recordPath(kind, key);
    if (!this.#original.has(path)) this.#original.set(path, { kind, key, previous });
    this.state.set(kind, key, rec);
  }
}
