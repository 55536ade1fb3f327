import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialect } from './dialect.js';

/**
 * Versioned migrations, applied in order by Kysely's Migrator on open and by
 * `store.migrate()`. Never edit a released migration: add the next one.
 *
 * Over 300 lines on purpose: the schema's whole history reads top-down in one
 * place, each index beside the measurement that justified it; `001_initial`
 * alone (every table) is ~220 of them, and released migrations never change.
 */
export function migrations(dialect: SqlDialect): Record<string, Migration> {
  const { json, ms, logId } = dialect.types;
  return {
    '001_initial': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('baton_workflows')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull().unique())
          .addColumn('description', 'text')
          .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('draft','active','paused','archived')`))
          .addColumn('executor', 'text')
          .addColumn('definition', json, (c) => c.notNull())
          .addColumn('created_at', ms, (c) => c.notNull())
          .addColumn('updated_at', ms, (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('baton_runs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('workflow_id', 'text', (c) => c.notNull().references('baton_workflows.id'))
          .addColumn('workflow_name', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) =>
            c.notNull().check(sql`status in ('pending','running','success','failed','cancelled','timeout')`),
          )
          .addColumn('inputs', json, (c) => c.notNull())
          .addColumn('triggered_by', 'text', (c) => c.notNull().check(sql`triggered_by in ('manual','user','api','schedule','webhook')`))
          .addColumn('idempotency_key', 'text')
          .addColumn('error', 'text')
          .addColumn('failure_status', 'text')
          .addColumn('tasks_total', 'integer', (c) => c.notNull())
          .addColumn('tasks_finished', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('tasks_failed', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('metadata', json, (c) => c.notNull())
          .addColumn('started_at', ms)
          .addColumn('finished_at', ms)
          .addColumn('duration_ms', ms)
          .addColumn('created_at', ms, (c) => c.notNull())
          .addColumn('updated_at', ms, (c) => c.notNull())
          .execute();
        // Newest-first listings by workflow and by status page on id (UUIDv7: time ordered).
        await db.schema.createIndex('baton_runs_workflow_idx').on('baton_runs').columns(['workflow_id', 'id']).execute();
        await db.schema.createIndex('baton_runs_status_idx').on('baton_runs').columns(['status', 'id']).execute();
        await db.schema
          .createIndex('baton_runs_idempotency_idx')
          .on('baton_runs')
          .columns(['workflow_id', 'idempotency_key'])
          .unique()
          .where(sql.ref('idempotency_key'), 'is not', null)
          .execute();

        await db.schema
          .createTable('baton_run_steps')
          .addColumn('run_id', 'text', (c) => c.notNull().references('baton_runs.id').onDelete('cascade'))
          .addColumn('step_name', 'text', (c) => c.notNull())
          .addColumn('position', 'integer', (c) => c.notNull())
          .addColumn('task_count', 'integer', (c) => c.notNull())
          .addColumn('succeeded', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('deps_remaining', 'integer', (c) => c.notNull())
          .addColumn('dependents', json, (c) => c.notNull())
          .addColumn('downstream', json, (c) => c.notNull())
          .addPrimaryKeyConstraint('baton_run_steps_pk', ['run_id', 'step_name'])
          .execute();

        await db.schema
          .createTable('baton_tasks')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('run_id', 'text', (c) => c.notNull().references('baton_runs.id').onDelete('cascade'))
          .addColumn('workflow_id', 'text', (c) => c.notNull())
          .addColumn('step_name', 'text', (c) => c.notNull())
          .addColumn('position', 'integer', (c) => c.notNull())
          .addColumn('task_index', 'integer', (c) => c.notNull())
          .addColumn('task_count', 'integer', (c) => c.notNull())
          .addColumn('status', 'text', (c) =>
            c.notNull().check(sql`status in ('waiting','pending','dispatched','running','success','failed','cancelled','timeout')`),
          )
          .addColumn('params', json, (c) => c.notNull())
          .addColumn('output', json)
          .addColumn('error', 'text')
          .addColumn('execution_name', 'text')
          .addColumn('priority', 'integer', (c) => c.notNull())
          .addColumn('run_at', ms, (c) => c.notNull())
          .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('max_attempts', 'integer', (c) => c.notNull())
          .addColumn('lease_id', 'text')
          .addColumn('lease_owner', 'text')
          .addColumn('lease_expires_at', ms)
          .addColumn('metadata', json, (c) => c.notNull())
          .addColumn('workspace', 'text')
          .addColumn('dispatched_at', ms)
          .addColumn('started_at', ms)
          .addColumn('finished_at', ms)
          .addColumn('created_at', ms, (c) => c.notNull())
          .addColumn('updated_at', ms, (c) => c.notNull())
          .execute();
        // The claim reads only this partial index: it holds pending tasks alone,
        // in claim order, so finished history never slows it.
        await db.schema
          .createIndex('baton_tasks_pending_idx')
          .on('baton_tasks')
          .expression(sql`priority desc, run_at, id`)
          .where(sql.ref('status'), '=', 'pending')
          .execute();
        // Lease recovery scans only leased tasks by expiry.
        await db.schema
          .createIndex('baton_tasks_leased_idx')
          .on('baton_tasks')
          .column('lease_expires_at')
          .where(sql<boolean>`status in ('dispatched','running')`)
          .execute();
        // Unblocking or cancelling a step's tasks, a step's outputs. No status column: a task
        // changes status three times, and each change would rewrite this index entry.
        await db.schema.createIndex('baton_tasks_run_idx').on('baton_tasks').columns(['run_id', 'step_name']).execute();
        await db.schema.createIndex('baton_tasks_run_order_idx').on('baton_tasks').columns(['run_id', 'position', 'task_index']).execute();
        await db.schema
          .createIndex('baton_tasks_execution_idx')
          .on('baton_tasks')
          .column('execution_name')
          .where(sql.ref('execution_name'), 'is not', null)
          .execute();

        await db.schema
          .createTable('baton_logs')
          .addColumn('id', logId, (c) => (logId === 'integer' ? c.primaryKey().autoIncrement() : c.primaryKey()))
          .addColumn('run_id', 'text', (c) => c.notNull().references('baton_runs.id').onDelete('cascade'))
          .addColumn('task_id', 'text')
          .addColumn('type', 'text', (c) =>
            c.notNull().check(sql`type in ('log','json','markdown','error','info','warn','danger','success')`),
          )
          .addColumn('content', 'text', (c) => c.notNull())
          .addColumn('created_at', ms, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('baton_logs_run_idx').on('baton_logs').columns(['run_id', 'id']).execute();

        await db.schema
          .createTable('baton_blocks')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('title', 'text', (c) => c.notNull())
          .addColumn('content', 'text', (c) => c.notNull())
          .addColumn('tags', 'text', (c) => c.notNull())
          .addColumn('folder_path', 'text')
          .addColumn('created_at', ms, (c) => c.notNull())
          .addColumn('updated_at', ms, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('baton_blocks_title_idx').on('baton_blocks').columns(['title', 'id']).execute();

        await db.schema
          .createTable('baton_payloads')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('blocks', json, (c) => c.notNull())
          .addColumn('temperature', 'real', (c) => c.notNull())
          .addColumn('response_length', 'integer', (c) => c.notNull())
          .addColumn('llm_port', 'integer', (c) => c.notNull())
          .addColumn('model_format', 'text', (c) => c.notNull().check(sql`model_format in ('default','mistral','llama','chatml')`))
          .addColumn('created_at', ms, (c) => c.notNull())
          .addColumn('updated_at', ms, (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('baton_config')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', json, (c) => c.notNull())
          .addColumn('value_type', 'text', (c) => c.notNull().check(sql`value_type in ('string','integer','float','boolean','json')`))
          .addColumn('description', 'text')
          .addColumn('is_secret', 'integer', (c) => c.notNull().check(sql`is_secret in (0, 1)`))
          .addColumn('created_at', ms, (c) => c.notNull())
          .addColumn('updated_at', ms, (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('baton_sessions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('client_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text')
          .addColumn('connection_type', 'text', (c) => c.notNull().check(sql`connection_type in ('worker','websocket','http','grpc')`))
          .addColumn('is_active', 'integer', (c) => c.notNull().check(sql`is_active in (0, 1)`))
          .addColumn('metadata', json, (c) => c.notNull())
          .addColumn('last_heartbeat', ms, (c) => c.notNull())
          .addColumn('created_at', ms, (c) => c.notNull())
          .addColumn('updated_at', ms, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('baton_sessions_active_idx').on('baton_sessions').columns(['is_active', 'last_heartbeat']).execute();

        await db.schema
          .createTable('baton_tool_executions')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('task_id', 'text')
          .addColumn('run_id', 'text')
          .addColumn('tool_name', 'text', (c) => c.notNull())
          .addColumn('arguments', json, (c) => c.notNull())
          .addColumn('output', json)
          .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending','running','completed','failed','timeout')`))
          .addColumn('error', 'text')
          .addColumn('duration_ms', ms)
          .addColumn('created_at', ms, (c) => c.notNull())
          .addColumn('completed_at', ms)
          .execute();
        await db.schema.createIndex('baton_tool_executions_task_idx').on('baton_tool_executions').columns(['task_id', 'id']).execute();
        await db.schema.createIndex('baton_tool_executions_run_idx').on('baton_tool_executions').columns(['run_id', 'id']).execute();
        await db.schema.createIndex('baton_tool_executions_tool_idx').on('baton_tool_executions').columns(['tool_name', 'id']).execute();
      },
      async down(db: Kysely<any>) {
        for (const table of [
          'baton_tool_executions',
          'baton_sessions',
          'baton_config',
          'baton_payloads',
          'baton_blocks',
          'baton_logs',
          'baton_tasks',
          'baton_run_steps',
          'baton_runs',
          'baton_workflows',
        ]) {
          await db.schema.dropTable(table).ifExists().execute();
        }
      },
    },
    '002_waiting_tasks_idx': {
      // Finishing makes a step's waiting tasks pending, or cancels them downstream of a
      // failure. Measured on PostgreSQL with a 20,000-task fan-out (nothing waiting): the
      // planner scanned every task for the cancel (8 ms of a 13 ms finish) instead of the
      // (run_id, step_name) index. This index holds waiting tasks only: nearly empty,
      // so any plan that reads it is cheap, and pending or finished tasks never touch it.
      async up(db: Kysely<any>) {
        await db.schema
          .createIndex('baton_tasks_waiting_idx')
          .on('baton_tasks')
          .columns(['run_id', 'step_name'])
          .where(sql.ref('status'), '=', 'waiting')
          .execute();
      },
      async down(db: Kysely<any>) {
        await db.schema.dropIndex('baton_tasks_waiting_idx').ifExists().execute();
      },
    },
    // The dashboard's run list filtered by workflow and status, its counts by status
    // per workflow (index-only), and its trigger filter, alone or with the workflow:
    // each served by an index, so that a page stays a range read at 100k runs.
    // A trigger never changes, so its two indexes cost only at insert.
    '003_run_filter_indexes': {
      async up(db: Kysely<any>) {
        await db.schema.createIndex('baton_runs_workflow_status_idx').on('baton_runs').columns(['workflow_id', 'status', 'id']).execute();
        await db.schema.createIndex('baton_runs_trigger_idx').on('baton_runs').columns(['triggered_by', 'id']).execute();
        await db.schema
          .createIndex('baton_runs_workflow_trigger_idx')
          .on('baton_runs')
          .columns(['workflow_id', 'triggered_by', 'id'])
          .execute();
      },
      async down(db: Kysely<any>) {
        await db.schema.dropIndex('baton_runs_workflow_trigger_idx').ifExists().execute();
        await db.schema.dropIndex('baton_runs_trigger_idx').ifExists().execute();
        await db.schema.dropIndex('baton_runs_workflow_status_idx').ifExists().execute();
      },
    },
    '004_limits': {
      async up(db: Kysely<any>) {
        // Cluster-wide limits: each task carries its evaluated keys; NULL means unlimited,
        // and the plain claim reads only tasks whose keys are both NULL.
        await db.schema.alterTable('baton_tasks').addColumn('concurrency_key', 'text').execute();
        await db.schema.alterTable('baton_tasks').addColumn('concurrency_limit', 'integer').execute();
        await db.schema.alterTable('baton_tasks').addColumn('rate_key', 'text').execute();
        await db.schema.alterTable('baton_tasks').addColumn('rate_limit', 'integer').execute();
        await db.schema.alterTable('baton_tasks').addColumn('rate_period_ms', ms).execute();
        // The limited claim walks pending limited tasks in claim order; empty when no limit is used.
        await db.schema
          .createIndex('baton_tasks_limited_idx')
          .on('baton_tasks')
          .expression(sql`priority desc, run_at, id`)
          .where(sql<boolean>`status = 'pending' and (concurrency_key is not null or rate_key is not null)`)
          .execute();
        // Slots held per key: leased tasks of the key with an unexpired lease.
        await db.schema
          .createIndex('baton_tasks_concurrency_held_idx')
          .on('baton_tasks')
          .columns(['concurrency_key', 'lease_expires_at'])
          .where(sql<boolean>`status in ('dispatched','running') and concurrency_key is not null`)
          .execute();
        await db.schema
          .createTable('baton_limit_keys')
          .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('concurrency','rate')`))
          .addColumn('key', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('baton_limit_keys_pk', ['kind', 'key'])
          .execute();
        await db.schema
          .createTable('baton_rate_claims')
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('claimed_at', ms, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('baton_rate_claims_key_idx').on('baton_rate_claims').columns(['key', 'claimed_at']).execute();
      },
      async down(db: Kysely<any>) {
        await db.schema.dropTable('baton_rate_claims').ifExists().execute();
        await db.schema.dropTable('baton_limit_keys').ifExists().execute();
        await db.schema.dropIndex('baton_tasks_concurrency_held_idx').ifExists().execute();
        await db.schema.dropIndex('baton_tasks_limited_idx').ifExists().execute();
        for (const column of ['rate_period_ms', 'rate_limit', 'rate_key', 'concurrency_limit', 'concurrency_key']) {
          await db.schema.alterTable('baton_tasks').dropColumn(column).execute();
        }
      },
    },
    // PostgreSQL only (a no-op on SQLite, so both keep one list of migrations). On
    // PostgreSQL every update that changes a run's status (indexed) writes a new
    // entry into every index of baton_runs, so 003's two trigger indexes did not
    // "cost only at insert": a single-task run changes status twice, 4 index
    // entries of its 15. Measured on 20,000 single-task runs (backend CPU over
    // 200 claim + finish pairs of 50): 13.6 ms a pair with them, 11.2 without.
    // SQLite rewrites only the indexes whose columns change: there they stay.
    // Without them a trigger filter on PostgreSQL walks runs newest first by id
    // (a common trigger is found at once; a rare one among many runs reads more).
    '005_pg_drop_run_trigger_indexes': {
      async up(db: Kysely<any>) {
        if (dialect.name !== 'pg') return;
        await db.schema.dropIndex('baton_runs_workflow_trigger_idx').ifExists().execute();
        await db.schema.dropIndex('baton_runs_trigger_idx').ifExists().execute();
      },
      async down(db: Kysely<any>) {
        if (dialect.name !== 'pg') return;
        await db.schema.createIndex('baton_runs_trigger_idx').ifNotExists().on('baton_runs').columns(['triggered_by', 'id']).execute();
        await db.schema
          .createIndex('baton_runs_workflow_trigger_idx')
          .ifNotExists()
          .on('baton_runs')
          .columns(['workflow_id', 'triggered_by', 'id'])
          .execute();
      },
    },
    // A task's row had two indexes by run: (run_id, step_name) and (run_id, position,
    // task_index). On PostgreSQL every update that changes a task's status (the claim, the
    // ending) writes a new entry into every index of baton_tasks, so the first cost an entry
    // twice per attempt; measured with 20,000 tasks claimed and finished in batches of 500:
    // WAL 1,987 → 1,780 bytes a task (fan-out), 4,364 → 4,080 (single-task runs), backend CPU
    // 57 → 50 µs a task. On SQLite it costs at every insert. Its readers find a step by
    // position instead (getStepOutputs), or among the run's tasks (retry, listTasks by step);
    // finishing reaches waiting tasks through baton_tasks_waiting_idx.
    '006_drop_tasks_step_idx': {
      async up(db: Kysely<any>) {
        await db.schema.dropIndex('baton_tasks_run_idx').ifExists().execute();
      },
      async down(db: Kysely<any>) {
        await db.schema.createIndex('baton_tasks_run_idx').ifNotExists().on('baton_tasks').columns(['run_id', 'step_name']).execute();
      },
    },
    // PostgreSQL only: the ids of workflows, runs and tasks (and what refers to them) become
    // `uuid`, 16 bytes compared as bytes, instead of 36-character text compared through the
    // collation. Every id Baton makes is a UUIDv7 (core's newId), so each converts as it is.
    // Measured claiming and finishing 20,000 tasks in batches of 500 on Baton's own statements,
    // three paired runs: fan-out backend CPU 50–64 → 40–45 µs a task, WAL 1,780 → 1,386 bytes;
    // single-task runs 102–112 → 71–90 µs, WAL 4,080 → 3,039 bytes. The dialect's `idParam`
    // turns a string that is not a uuid into an id no row has, so a bad id still reads as
    // "not found" or "lease refused" rather than failing the statement. Ids that are not
    // Baton's own stay text: sessions (a caller may name them), logs' and audit records'
    // task ids. SQLite keeps text ids. In the bench (scheduler end to end, paired runs):
    // fan-out +12%, single-task runs +30%. Rewrites the five tables: on a large existing
    // store this takes a while under an exclusive lock, once (within the open's statement timeout).
    '007_pg_uuid_ids': {
      async up(db: Kysely<any>) {
        if (dialect.name !== 'pg') return;
        await changeIdTypes(db, 'uuid');
      },
      async down(db: Kysely<any>) {
        if (dialect.name !== 'pg') return;
        await changeIdTypes(db, 'text');
      },
    },
    // A workflow's runs were read through (workflow_id, id); they are now read through
    // (workflow_id, status, id), one ordered range per status merged by id (`listRuns`). On
    // PostgreSQL the index cost a new entry at every status change of every run, not only at
    // insert (a status change is never a HOT update). Measured on 20,000 single-task runs
    // triggered with triggerMany and processed at concurrency 500, two paired runs: WAL
    // 1,040 → 947 bytes a run enqueued, 2,597 → 2,389 processed; the database's CPU 66–73 →
    // 55–59 µs a run processed. On SQLite it cost an entry at every insert.
    '008_drop_runs_workflow_idx': {
      async up(db: Kysely<any>) {
        await db.schema.dropIndex('baton_runs_workflow_idx').ifExists().execute();
      },
      async down(db: Kysely<any>) {
        await db.schema.createIndex('baton_runs_workflow_idx').ifNotExists().on('baton_runs').columns(['workflow_id', 'id']).execute();
      },
    },
    // PostgreSQL checked a task's and a log's run and a run's workflow as foreign keys, row by row
    // at insert: an SPI query a row, 2.5 µs a run and 3 µs a task, a third of each insert's time
    // (EXPLAIN ANALYZE of triggerMany's 5,000-row parts: 12.3 of 36 ms for runs, 14.8 of 37 for
    // tasks). Runs and tasks are inserted by createRuns alone, both in one transaction, after it
    // has read the workflow; logs by appendLogs, after it has read their runs; on PostgreSQL both
    // reads lock FOR KEY SHARE, as the keys' checks did (context.ts keyShared). What the keys
    // gave besides is kept by triggers that run once a statement: deleting runs deletes their
    // tasks and logs (the cascade), and deleting a workflow that still has runs fails with the
    // key's error (23503). Measured, triggerMany of 20,000 single-task runs after a 20,000-task
    // fan-out, three pairs of three calls: 402–469 → 289–360 ms; 20,000 logs in batches of 500,
    // three pairs: 233–374 → 184–296 ms. SQLite keeps its keys; run steps keep theirs (a row per
    // step, not per task). The functions run with the search_path of the migration (the store's schema).
    '009_pg_run_keys_as_triggers': {
      async up(db: Kysely<any>) {
        if (dialect.name !== 'pg') return;
        await sql`alter table baton_tasks drop constraint baton_tasks_run_id_fkey`.execute(db);
        await sql`alter table baton_runs drop constraint baton_runs_workflow_id_fkey`.execute(db);
        await sql`alter table baton_logs drop constraint baton_logs_run_id_fkey`.execute(db);
        await sql`create function baton_delete_runs_tasks_and_logs() returns trigger language plpgsql set search_path from current as $$
          begin
            delete from baton_tasks where run_id in (select id from baton_deleted_runs);
            delete from baton_logs where run_id in (select id from baton_deleted_runs);
            return null;
          end $$`.execute(db);
        await sql`create trigger baton_runs_delete_tasks_and_logs after delete on baton_runs
          referencing old table as baton_deleted_runs for each statement execute function baton_delete_runs_tasks_and_logs()`.execute(db);
        await sql`create function baton_refuse_workflows_with_runs() returns trigger language plpgsql set search_path from current as $$
          begin
            if exists (select 1 from baton_runs r join baton_deleted_workflows w on w.id = r.workflow_id) then
              raise foreign_key_violation using message = 'a deleted workflow still has runs in baton_runs: delete its runs first';
            end if;
            return null;
          end $$`.execute(db);
        await sql`create trigger baton_workflows_refuse_delete after delete on baton_workflows
          referencing old table as baton_deleted_workflows for each statement execute function baton_refuse_workflows_with_runs()`.execute(
          db,
        );
      },
      async down(db: Kysely<any>) {
        if (dialect.name !== 'pg') return;
        await sql`drop trigger if exists baton_workflows_refuse_delete on baton_workflows`.execute(db);
        await sql`drop function if exists baton_refuse_workflows_with_runs()`.execute(db);
        await sql`drop trigger if exists baton_runs_delete_tasks_and_logs on baton_runs`.execute(db);
        await sql`drop function if exists baton_delete_runs_tasks_and_logs()`.execute(db);
        await sql`alter table baton_runs add constraint baton_runs_workflow_id_fkey foreign key (workflow_id) references baton_workflows (id)`.execute(
          db,
        );
        await sql`alter table baton_tasks add constraint baton_tasks_run_id_fkey foreign key (run_id) references baton_runs (id) on delete cascade`.execute(
          db,
        );
        await sql`alter table baton_logs add constraint baton_logs_run_id_fkey foreign key (run_id) references baton_runs (id) on delete cascade`.execute(
          db,
        );
      },
    },
    // PostgreSQL only: a task row is rewritten twice an attempt (the claim, the ending), never as
    // a HOT update (status is in the partial indexes' predicates). In a page the insert filled to
    // the brim, each new version went to another page and was logged whole; with half of each page
    // left free, a claimed version (208 bytes against a pending row's 160) mostly stays on its page
    // (160 of 200 at 50, 72 at 70, none at 100) and so does the ending's, and PostgreSQL logs only
    // the bytes that changed. Measured, 20,000 tasks claimed and finished 500 at a time by the
    // store alone, alternating with 100: fan-out WAL 1,160 → ~945 bytes a task and the database's
    // CPU 58.8–71.2 → 49.1–63.7 µs a task (ten runs against eight); single-task runs WAL 1,785 →
    // ~1,595, CPU unchanged (four pairs). At 70, fan-out gained as much but single-task runs lost
    // ~7% (seven of nine pairs slower), so 50. The price is space: finished history fills pages
    // about half (4 × 20,000 tasks, vacuumed: 980 pages per 20,000 against 485). A host that
    // prefers the space sets it back (`alter table baton_tasks set (fillfactor = 100)`). Only pages
    // made from now on follow it (no rewrite, a brief lock). SQLite has no fill factor.
    '010_pg_tasks_fillfactor': {
      async up(db: Kysely<any>) {
        if (dialect.name !== 'pg') return;
        await sql`alter table baton_tasks set (fillfactor = 50)`.execute(db);
      },
      async down(db: Kysely<any>) {
        if (dialect.name !== 'pg') return;
        await sql`alter table baton_tasks reset (fillfactor)`.execute(db);
      },
    },
    // A run's tasks in order, (run, step position, task index) → task id, in a table of its own
    // instead of the index `baton_tasks_run_order_idx`. On PostgreSQL no update of a task is HOT
    // (its status is in the partial indexes' predicates), so the claim and the ending each wrote an
    // entry into that index though its columns never change; rows here are written once, at
    // insert, and deleted with their run. Measured end to end (`pnpm bench --stores pg --only
    // throughput`, the index dropped against kept, two alternating pairs, 20,000 tasks): the
    // database's CPU a fan-out task 33–35 → 29–30 µs, WAL 948 → 758 bytes; a single-task run 49–52
    // → 45–46 µs, WAL 1,565 → 1,375; against graphile-worker fan-out 0.70–0.77 → 0.85–0.86,
    // single-task runs 0.58–0.61 → 0.63–0.65. The table costs a row a task at insert (triggerMany).
    // SQLite too, so both engines keep one SQL: there an index is written only when its columns
    // change, and a WITHOUT ROWID table is an index by another name (one b-tree insert a task, as
    // before). Readers of a run's tasks (listTasks, getStepOutputs, cancelRun, retryRun) go through it.
    '011_run_tasks': {
      async up(db: Kysely<any>) {
        const id = dialect.name === 'pg' ? 'uuid' : 'text';
        await db.schema
          .createTable('baton_run_tasks')
          // SQLite keeps its foreign keys (the cascade deletes these rows with their run); on
          // PostgreSQL 009's trigger does, as it does for tasks.
          .addColumn('run_id', id, (c) =>
            dialect.name === 'pg' ? c.notNull() : c.notNull().references('baton_runs.id').onDelete('cascade'),
          )
          .addColumn('position', 'integer', (c) => c.notNull())
          .addColumn('task_index', 'integer', (c) => c.notNull())
          .addColumn('task_id', id, (c) => c.notNull())
          .addPrimaryKeyConstraint('baton_run_tasks_pk', ['run_id', 'position', 'task_index'])
          .modifyEnd(dialect.name === 'pg' ? sql`` : sql`without rowid`)
          .execute();
        await sql`insert into baton_run_tasks (run_id, position, task_index, task_id)
          select run_id, position, task_index, id from baton_tasks`.execute(db);
        await db.schema.dropIndex('baton_tasks_run_order_idx').ifExists().execute();
        if (dialect.name === 'pg') await deleteRunsFunction(db, ['baton_tasks', 'baton_run_tasks', 'baton_logs']);
      },
      async down(db: Kysely<any>) {
        if (dialect.name === 'pg') await deleteRunsFunction(db, ['baton_tasks', 'baton_logs']);
        await db.schema
          .createIndex('baton_tasks_run_order_idx')
          .ifNotExists()
          .on('baton_tasks')
          .columns(['run_id', 'position', 'task_index'])
          .execute();
        await db.schema.dropTable('baton_run_tasks').ifExists().execute();
      },
    },
  };
}

/**
 * PostgreSQL: the function 009's trigger runs once per statement that deletes runs, deleting the
 * rows of these tables that name them (011 adds `baton_run_tasks`; its down puts back 009's
 * two). It runs with the search_path of the migration (the store's schema).
 */
async function deleteRunsFunction(db: Kysely<any>, tables: string[]): Promise<void> {
  const deletes = tables.map((t) => sql`delete from ${sql.table(t)} where run_id in (select id from baton_deleted_runs);`);
  await sql`create or replace function baton_delete_runs_tasks_and_logs() returns trigger language plpgsql set search_path from current as $$
    begin
      ${sql.join(deletes, sql` `)}
      return null;
    end $$`.execute(db);
}

/** 007's columns, by table; foreign keys are dropped first and made again after, types matching. */
const ID_COLUMNS: Record<string, string[]> = {
  baton_workflows: ['id'],
  baton_runs: ['id', 'workflow_id'],
  baton_run_steps: ['run_id'],
  baton_tasks: ['id', 'run_id', 'workflow_id', 'lease_id'],
  baton_logs: ['run_id'],
};
const ID_FOREIGN_KEYS = [
  { table: 'baton_runs', column: 'workflow_id', references: 'baton_workflows', cascade: false },
  { table: 'baton_run_steps', column: 'run_id', references: 'baton_runs', cascade: true },
  { table: 'baton_tasks', column: 'run_id', references: 'baton_runs', cascade: true },
  { table: 'baton_logs', column: 'run_id', references: 'baton_runs', cascade: true },
];

async function changeIdTypes(db: Kysely<any>, type: 'uuid' | 'text'): Promise<void> {
  // 001 declared these inline, so PostgreSQL named them <table>_<column>_fkey.
  for (const fk of ID_FOREIGN_KEYS)
    await sql`alter table ${sql.table(fk.table)} drop constraint ${sql.raw(`${fk.table}_${fk.column}_fkey`)}`.execute(db);
  for (const [table, columns] of Object.entries(ID_COLUMNS)) {
    const changes = columns.map((c) => sql`alter column ${sql.ref(c)} type ${sql.raw(type)} using ${sql.ref(c)}::${sql.raw(type)}`);
    await sql`alter table ${sql.table(table)} ${sql.join(changes)}`.execute(db);
  }
  for (const fk of ID_FOREIGN_KEYS) {
    await sql`alter table ${sql.table(fk.table)} add constraint ${sql.raw(`${fk.table}_${fk.column}_fkey`)}
      foreign key (${sql.ref(fk.column)}) references ${sql.table(fk.references)} (id) ${sql.raw(fk.cascade ? 'on delete cascade' : '')}`.execute(
      db,
    );
  }
}
