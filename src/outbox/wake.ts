import pg from 'pg';
import type { Logger } from '../shared/logger.js';
import type { OutboxWake } from './outbox-relay.js';

/** The channel `holdfast_append_batch` and the outbox insert trigger notify (payload: show id). */
export const outboxChannel = 'holdfast_outbox';

export interface PgNotifyWakeOptions {
  connectionString: string;
  channel?: string;
  logger?: Logger;
  /** Wait before reconnecting a dropped LISTEN connection (default 1000 ms). */
  reconnectDelayMs?: number;
  applicationName?: string;
  /** Called each time LISTEN is in place (tests wait on it). */
  onListening?: () => void;
}

/**
 * Wake-ups from PostgreSQL: LISTEN needs a connection of its own (a pooled one goes back to the
 * pool and stops listening), so this opens a dedicated pg.Client and keeps it up, reconnecting
 * after a drop. Every (re)connect also calls `onNotify` once, to pick up rows whose notification
 * fell in the gap. NOTIFY channels are per database, not per schema.
 */
export function pgNotifyWake(options: PgNotifyWakeOptions): OutboxWake {
  const channel = options.channel ?? outboxChannel;
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
  const reconnectDelayMs = options.reconnectDelayMs ?? 1_000;
  return (onNotify) => {
    let stopped = false;
    let client: pg.Client | null = null;
    let retry: NodeJS.Timeout | null = null;

    const scheduleReconnect = (): void => {
      if (stopped || retry !== null) return;
      retry = setTimeout(() => {
        retry = null;
        void connect();
      }, reconnectDelayMs);
      retry.unref();
    };

    const connect = async (): Promise<void> => {
      const next = new pg.Client({ connectionString: options.connectionString, application_name: options.applicationName ?? 'holdfast-outbox-listen' });
      client = next;
      next.on('notification', (message) => {
        if (message.channel === channel) onNotify();
      });
      // Only the current client may trigger a reconnect: a stale one ending late must not.
      const lost = (error: unknown): void => {
        if (client !== next) return;
        client = null;
        if (!stopped && error !== undefined) options.logger?.warn({ err: error }, 'outbox LISTEN connection lost: reconnecting');
        next.end().catch(() => undefined);
        scheduleReconnect();
      };
      next.on('error', (error) => lost(error));
      next.on('end', () => lost(undefined));
      try {
        await next.connect();
        await next.query(`listen ${channel}`);
        if (stopped) {
          await next.end().catch(() => undefined);
          return;
        }
        options.onListening?.();
        onNotify();
      } catch (error) {
        lost(error);
      }
    };

    void connect();
    return async () => {
      stopped = true;
      if (retry !== null) clearTimeout(retry);
      const current = client;
      client = null;
      await current?.end().catch(() => undefined);
    };
  };
}

/** The part of a PGlite instance that LISTEN needs (`import('@electric-sql/pglite').PGlite`). */
export interface PgliteListener {
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
}

/**
 * Wake-ups from embedded PGlite: its own listen API. PGlite is one in-process connection, so a
 * notification fired by this process's own inserts reaches it once their transaction commits.
 */
export function pgliteNotifyWake(pglite: PgliteListener, options: { channel?: string; logger?: Logger; onListening?: () => void } = {}): OutboxWake {
  const channel = options.channel ?? outboxChannel;
  return (onNotify) => {
    const subscription = pglite.listen(channel, () => onNotify()).then(
      (unlisten) => {
        options.onListening?.();
        onNotify();
        return unlisten;
      },
      (error: unknown) => {
        options.logger?.warn({ err: error }, 'outbox LISTEN on PGlite failed: polling only');
        return null;
      },
    );
    return async () => {
      const unlisten = await subscription;
      await unlisten?.().catch(() => undefined);
    };
  };
}

/**
 * The wake-up a database offers, if any: LISTEN on a dedicated connection for PostgreSQL (given
 * its connection string), the database's own `listen` where it exposes one (PGlite, once
 * SqlDatabase carries it), else undefined (the relay polls).
 */
export function wakeFor(db: object & { kind: 'postgres' | 'pglite' }, options: { connectionString?: string; logger?: Logger } = {}): OutboxWake | undefined {
  if (db.kind === 'postgres') return options.connectionString ? pgNotifyWake({ connectionString: options.connectionString, logger: options.logger }) : undefined;
  const listener = db as Partial<PgliteListener>;
  return typeof listener.listen === 'function' ? pgliteNotifyWake(listener as PgliteListener, { logger: options.logger }) : undefined;
}
