import { NotFoundError, type ConfigEntry, type NewConfigEntry } from '@baton/core';
import { configFields } from '@baton/core/store-kit';
import { bumped, cloneJson } from '../page.js';
import type { ConfigRec } from '../records.js';
import type { State } from '../state.js';
import { configModel } from '../to-model.js';
import type { Unit } from '../unit.js';

/** Creates or replaces; a replaced entry keeps its `createdAt`. */
export function setConfig(u: Unit, entry: NewConfigEntry): ConfigEntry {
  const now = Date.now();
  const current = u.state.get('config', entry.key);
  const rec: ConfigRec = {
    ...cloneJson(configFields(entry)),
    createdAt: current?.createdAt ?? now,
    updatedAt: current ? bumped(current.updatedAt, now) : now,
  };
  u.put('config', rec);
  return configModel(rec);
}

export function getConfig(state: State, key: string): ConfigEntry {
  const rec = state.get('config', key);
  if (!rec) throw new NotFoundError('config entry', key);
  return configModel(rec);
}

/** By key. */
export function listConfig(state: State): ConfigEntry[] {
  return [...state.records.config.values()].sort((a, b) => (a.key < b.key ? -1 : 1)).map(configModel);
}

export function deleteConfig(u: Unit, key: string): void {
  if (!u.state.get('config', key)) throw new NotFoundError('config entry', key);
  u.remove('config', key);
}
