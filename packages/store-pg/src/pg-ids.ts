/** How newId writes a UUID and PostgreSQL prints one: lowercase, hyphenated. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The nil UUID: never made by newId (its version is 7), so no row has it. */
const NO_ROW_ID = '00000000-0000-0000-0000-000000000000';

/**
 * Ids of workflows, runs and tasks are `uuid` columns (migration 007). A string
 * that is not one would fail the whole statement on its cast; as the nil UUID it
 * matches no row, so a bad id reads as "not found" or "lease refused", alone in
 * its batch. Only the canonical spelling passes: 'ABC…' would find a row here
 * and none on SQLite, whose ids are text.
 */
export function idParam(id: string): string {
  return UUID.test(id) ? id : NO_ROW_ID;
}
