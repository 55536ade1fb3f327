import type { State } from '../state.js';
import type { Unit } from '../unit.js';

/** What a read gets: memory, the folder (logs are read from disk), and the transaction's unit when inside one. */
export interface Ctx {
  state: State;
  dir: string;
  unit: Unit | null;
}
