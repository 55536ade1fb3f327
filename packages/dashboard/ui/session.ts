import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Session } from './api.js';

export const SessionContext = createContext<Session>({ canAct: false, csrfToken: null, hasScheduler: false, store: '' });
export const useSession = () => useContext(SessionContext);
