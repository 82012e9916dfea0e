import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

/**
 * The signed-in identity: an access key pair (and session token, for temporary credentials) and the region to sign
 * for. Kept in sessionStorage, so it lasts while the tab does and goes when it closes; never sent anywhere but in
 * SigV4 signatures computed in the page.
 */
export interface Session {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly region: string;
}

const KEY = 'berth-console-session';

export function loadSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return undefined;
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.accessKeyId !== 'string' || typeof s.secretAccessKey !== 'string' || typeof s.region !== 'string') return undefined;
    return { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, region: s.region, ...(s.sessionToken ? { sessionToken: s.sessionToken } : {}) };
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

/** The region berth signs for, written into the page by the server. */
export function serverRegion(): string {
  const content = document.querySelector('meta[name="berth-region"]')?.getAttribute('content') ?? '';
  return content && !content.includes('%') ? content : 'us-east-1';
}

export const SessionContext = createContext<{ session: Session; signOut: () => void } | undefined>(undefined);

export function useSession(): { session: Session; signOut: () => void } {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside a signed-in page');
  return value;
}
