import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ShowActorObserver } from '../actors/show-actor.js';

/** Prometheus metrics of one process, served at /metrics. */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({ name: 'holdfast_http_requests_total', help: 'REST requests by route and status', labelNames: ['method', 'route', 'status'], registers: [this.registry] });
  readonly httpDuration = new Histogram({
    name: 'holdfast_http_request_duration_seconds', help: 'REST latency by route', labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [this.registry],
  });
  readonly batchCommands = new Histogram({ name: 'holdfast_actor_batch_commands', help: 'Commands per group commit', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096], registers: [this.registry] });
  readonly commitDuration = new Histogram({ name: 'holdfast_actor_commit_seconds', help: 'Group commit latency', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [this.registry] });
  readonly events = new Counter({ name: 'holdfast_actor_events_total', help: 'Journaled events', registers: [this.registry] });
  readonly rejections = new Counter({ name: 'holdfast_actor_rejections_total', help: 'Refused commands by code', labelNames: ['code'], registers: [this.registry] });
  readonly recoveries = new Counter({ name: 'holdfast_actor_recoveries_total', help: 'Actor activations and crash-only recoveries', labelNames: ['reason'], registers: [this.registry] });
  readonly socketConnections = new Gauge({ name: 'holdfast_socket_connections', help: 'Open socket.io connections', registers: [this.registry] });
  readonly diffsEmitted = new Counter({ name: 'holdfast_seatmap_diffs_emitted_total', help: 'Coalesced seat-map diffs broadcast to show rooms', registers: [this.registry] });
  readonly activeShows = new Gauge({ name: 'holdfast_active_shows', help: 'Show actors active in this process', registers: [this.registry] });
  readonly showMoves = new Counter({ name: 'holdfast_show_moves_total', help: 'Shows handed off by this worker to another (ops moves, drains, membership changes)', registers: [this.registry] });
  readonly routingHop = new Histogram({ name: 'holdfast_routing_hop_seconds', help: 'Commands forwarded to the owning worker, round trip', labelNames: ['method'], buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'holdfast_' });
  }

  actorObserver(): ShowActorObserver {
    return {
      batchCommitted: (_showId, commands, events, commitMs) => {
        this.batchCommands.observe(commands);
        this.commitDuration.observe(commitMs / 1000);
        this.events.inc(events);
      },
      commandRejected: (_showId, code) => this.rejections.inc({ code }),
      recovered: (_showId, reason) => this.recoveries.inc({ reason }),
    };
  }
}
