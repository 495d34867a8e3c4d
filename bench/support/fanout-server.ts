/**
 * Child process of the fanout bench: the real Holdfast server (startServer) on 127.0.0.1, in a
 * process of its own so its CPU and memory are measured apart from the load generators.
 *   node --import tsx bench/support/fanout-server.ts '<json params>'
 * Configuration comes from the environment (loadConfig: SOCKET_PARSER, DIFF_TICK_MS,
 * SOCKET_EVENTS_PER_S, RATE_LIMIT_*...), set by bench/fanout.ts. Seeds one 50,000-seat stadium
 * show before listening, activates its actor, then talks to the parent over IPC only.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { build, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { openAdmission } from '../../src/admission/admission-gate.js';
import { loadConfig } from '../../src/config.js';
import { connectPostgres, openPglite, type SqlDatabase } from '../../src/persistence/database.js';
import { ShowDefinitionStore } from '../../src/persistence/show-definitions.js';
import { buildStadiumDefinition } from '../../src/seed/stadium.js';
import { RoomPublisher } from '../../src/gateway/socket/room-publisher.js';
import { startServer } from '../../src/server.js';
import { createLogger } from '../../src/shared/logger.js';
import { WindowProfiler } from './profiler.js';

export interface FanoutServerParams {
  showId: string;
  /** Holds a bench user may keep at once (the policy default, 2, would need thousands of users). */
  maxActiveHoldsPerUser: number;
  /** PostgreSQL connection string and schema; null: embedded PGlite in memory. */
  postgres: { connectionString: string; schema: string } | null;
}

export interface ServerStats {
  pid: number;
  /** HDR histograms (µs, compressed base64) since the last `stats` with reset: seatmap:diff broadcast
   * time − committed_at_ms (tick wait + event-loop lag), and how long the broadcast call itself took. */
  publishDelay: string;
  publishCall: string;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  cpu: NodeJS.CpuUsage;
  memory: NodeJS.MemoryUsage;
  elu: { idle: number; active: number; utilization: number };
  diffsBroadcast: number;
  sockets: number;
}

export type ServerToParent =
  | { type: 'ready'; url: string; seats: number; version: number }
  | { type: 'stats'; stats: ServerStats }
  | { type: 'profiled'; path: string }
  | { type: 'closed' };
/** `profile-start`/`profile-stop`: V8 CPU profile of the load window only, written to `path` (.cpuprofile). */
export type ParentToServer = { type: 'stats'; reset: boolean } | { type: 'profile-start' } | { type: 'profile-stop'; path: string } | { type: 'close' };

const send = (message: ServerToParent): void => {
  process.send?.(message);
};

async function main(): Promise<void> {
  if (process.send === undefined) throw new Error('fanout-server runs as a child of bench/fanout.ts (needs an IPC channel)');
  const params = JSON.parse(process.argv[2] ?? '{}') as FanoutServerParams;
  const config = { ...loadConfig(process.env), host: '127.0.0.1', port: 0, seedDemo: false };
  const db: SqlDatabase = params.postgres
    ? connectPostgres({ connectionString: params.postgres.connectionString, schema: params.postgres.schema, poolSize: config.databasePoolSize, applicationName: 'holdfast-bench-fanout' })
    : await openPglite();
  const definition = buildStadiumDefinition({ showId: params.showId, policy: { maxActiveHoldsPerUser: params.maxActiveHoldsPerUser } });
  const server = await startServer(config, {
    db,
    // The fanout is measured, not admission: the show exists only in show_definitions (no catalog
    // row, no waiting room), and the default gate (the waiting room) looks the show up in the catalog.
    admission: openAdmission,
    logger: createLogger(process.env['LOG_LEVEL'] ?? 'warn'),
    beforeListen: async (database) => new ShowDefinitionStore(database).save(definition),
  });
  const snapshot = await server.router.availability(params.showId);
  if (snapshot === null) throw new Error(`show ${params.showId} did not activate`);

  const profiler = new WindowProfiler();

  // Server-side view of each broadcast, without touching src/: wrap RoomPublisher.publish.
  const publishDelay = build({ numberOfSignificantValueDigits: 3 });
  const publishCall = build({ numberOfSignificantValueDigits: 3 });
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const originalPublish = RoomPublisher.prototype.publish;
  RoomPublisher.prototype.publish = function (this: RoomPublisher, room: string, event: string, payload: unknown): void {
    if (event !== 'seatmap:diff') return originalPublish.call(this, room, event, payload);
    const startedAt = performance.now();
    const committedAtMs = (payload as { committed_at_ms?: unknown } | undefined)?.committed_at_ms;
    if (typeof committedAtMs === 'number') publishDelay.recordValue(Math.max(1, Math.round((performance.timeOrigin + startedAt - committedAtMs) * 1000)));
    originalPublish.call(this, room, event, payload);
    publishCall.recordValue(Math.max(1, Math.round((performance.now() - startedAt) * 1000)));
  };
  let closing = false;
  const close = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    await server.close();
    await db.close();
    send({ type: 'closed' });
    // As src/main.ts does: idle keep-alive HTTP connections (the driver's) would keep uWS alive for seconds.
    setTimeout(() => process.exit(0), 50);
  };
  process.on('message', (message: ParentToServer) => {
    if (message.type === 'stats') {
      const elu = performance.eventLoopUtilization();
      send({
        type: 'stats',
        stats: {
          pid: process.pid,
          publishDelay: encodeIntoCompressedBase64(publishDelay),
          publishCall: encodeIntoCompressedBase64(publishCall),
          eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
          eventLoopDelayMaxMs: loopDelay.max / 1e6,
          cpu: process.cpuUsage(),
          memory: process.memoryUsage(),
          elu: { idle: elu.idle, active: elu.active, utilization: elu.utilization },
          diffsBroadcast: server.sockets.fanout.diffsEmitted,
          sockets: server.sockets.io.engine.clientsCount,
        },
      });
      if (message.reset) {
        publishDelay.reset();
        publishCall.reset();
        loopDelay.reset();
      }
    } else if (message.type === 'profile-start') {
      void profiler.start().catch((error: unknown) => console.error(error));
    } else if (message.type === 'profile-stop') {
      void profiler.stop(message.path).then(
        () => send({ type: 'profiled', path: message.path }),
        (error: unknown) => console.error(error),
      );
    } else if (message.type === 'close') {
      void close().catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
    }
  });
  // The parent gone (crashed, killed): do not linger holding the port and the schema.
  process.on('disconnect', () => {
    if (!closing) void close().finally(() => process.exit(0));
  });
  send({ type: 'ready', url: server.url, seats: snapshot.seatStatus.length, version: snapshot.version });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
