import { NotFoundError, type ConnectionType, type NewSession, type Session } from '@baton/core';
import { newId } from '@baton/core/store-kit';
import { bumped, cloneJson } from '../page.js';
import type { SessionRec } from '../records.js';
import type { State } from '../state.js';
import { sessionModel } from '../to-model.js';
import type { Unit } from '../unit.js';

function sessionRec(state: State, id: string): SessionRec {
  const rec = state.get('sessions', id);
  if (!rec) throw new NotFoundError('session', id);
  return rec;
}

/** Registers a session, or re-activates and refreshes a known id (keeping its `createdAt`). */
export function registerSession(u: Unit, input: NewSession): Session {
  const now = Date.now();
  const id = input.id ?? newId();
  const current = u.state.get('sessions', id);
  const rec: SessionRec = {
    id,
    clientId: input.clientId,
    userId: input.userId ?? null,
    connectionType: input.connectionType,
    isActive: true,
    metadata: cloneJson(input.metadata ?? {}),
    lastHeartbeat: now,
    createdAt: current?.createdAt ?? now,
    updatedAt: now,
  };
  u.put('sessions', rec);
  return sessionModel(rec);
}

export function heartbeatSession(u: Unit, id: string): Session {
  const current = sessionRec(u.state, id);
  const now = Date.now();
  const rec: SessionRec = { ...current, isActive: true, lastHeartbeat: now, updatedAt: bumped(current.updatedAt, now) };
  u.put('sessions', rec);
  return sessionModel(rec);
}

export function endSession(u: Unit, id: string): void {
  const current = sessionRec(u.state, id);
  u.put('sessions', { ...current, isActive: false, updatedAt: bumped(current.updatedAt, Date.now()) });
}

/** Newest heartbeat first. */
export function listSessions(state: State, options: { activeOnly?: boolean }): Session[] {
  return [...state.records.sessions.values()]
    .filter((s) => !options.activeOnly || s.isActive)
    .sort((a, b) => b.lastHeartbeat - a.lastHeartbeat || (a.id < b.id ? -1 : 1))
    .map(sessionModel);
}

export function expireSessions(u: Unit, before: Date, options: { connectionType?: ConnectionType } = {}): number {
  const now = Date.now();
  let expired = 0;
  for (const s of [...u.state.records.sessions.values()]) {
    if (!s.isActive || s.lastHeartbeat >= before.getTime()) continue;
    if (options.connectionType && s.connectionType !== options.connectionType) continue;
    u.put('sessions', { ...s, isActive: false, updatedAt: bumped(s.updatedAt, now) });
    expired++;
  }
  return expired;
}
