import { HoldfastClient, HoldfastError, type SessionView } from '../../client-sdk/src/index.js';

const storageKey = 'holdfast:session';

interface StoredSession {
  token: string;
  user_id: string;
  expires_at_ms: number;
}

function readStored(): StoredSession | null {
  try {
    const parsed = JSON.parse(localStorage.getItem(storageKey) ?? 'null') as StoredSession | null;
    return parsed !== null && typeof parsed.token === 'string' && parsed.expires_at_ms > Date.now() + 60_000 ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * The fan's client and development sign-in (POST /v1/sessions). The session survives reloads in
 * localStorage; a fan without one becomes a fresh `fan-…` user, and may switch user by name
 * (e.g. to receive a transferred ticket).
 */
export class Session {
  readonly client = new HoldfastClient({ baseUrl: location.origin, onError: (error) => console.warn('holdfast:', error) });
  private current: StoredSession | null = readStored();
  private readonly listeners = new Set<(userId: string) => void>();
  private signingIn: Promise<string> | null = null;

  constructor() {
    if (this.current) this.client.setToken(this.current.token);
  }

  get userId(): string | null {
    return this.current?.user_id ?? null;
  }

  /** Signs in as the stored user, or as a new one. Concurrent callers share one sign-in (two would be two users). */
  ensure(): Promise<string> {
    if (this.current && this.current.expires_at_ms > Date.now() + 60_000) return Promise.resolve(this.current.user_id);
    this.signingIn ??= this.signIn(this.current?.user_id ?? `fan-${Math.random().toString(36).slice(2, 8)}`).finally(() => {
      this.signingIn = null;
    });
    return this.signingIn;
  }

  async signIn(userId: string): Promise<string> {
    let session: SessionView;
    try {
      session = await this.client.signIn(userId);
    } catch (error) {
      if (error instanceof HoldfastError) throw new Error(error.problem.detail);
      throw error;
    }
    this.current = { token: session.token, user_id: session.user_id, expires_at_ms: session.expires_at_ms };
    localStorage.setItem(storageKey, JSON.stringify(this.current));
    for (const listener of this.listeners) listener(session.user_id);
    return session.user_id;
  }

  onChange(listener: (userId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
