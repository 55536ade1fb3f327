import { useEffect, useRef, useState } from 'preact/hooks';

/** How often live views re-read: the queries are paged index reads, cheap at any store size. */
export const POLL_MS = 1500;

/**
 * Loads `load()` now and then every `POLL_MS` while `live` is true (polling,
 * not server-sent events: it needs no long-lived connection through the host's
 * proxies and costs one paged query per view). Stale answers are dropped.
 */
export function usePolled<T>(
  load: () => Promise<T>,
  deps: unknown[],
  live = true,
): { data: T | undefined; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const generation = useRef(0);
  useEffect(() => {
    const mine = ++generation.current;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const value = await load();
        if (mine !== generation.current) return;
        setData(value);
        setError(null);
      } catch (e) {
        if (mine !== generation.current) return;
        setError((e as Error).message);
      }
      if (live && mine === generation.current) timer = setTimeout(run, POLL_MS);
    };
    void run();
    return () => {
      generation.current++;
      clearTimeout(timer);
    };
  }, [...deps, live, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}
