import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { OutboxObserver } from './outbox-relay.js';
import type { OutboxStore } from './outbox-store.js';

/**
 * Prometheus metrics of the outbox relay, registered on `registry` (call once per registry):
 * delivered / failed / dead-lettered counters by topic, delivery latency, and, when `store` is
 * given, the backlog (pending rows, age of the oldest, dead letters) read at scrape time.
 */
export function outboxPrometheus(registry: Registry, store?: OutboxStore): OutboxObserver {
  const registers = [registry];
  const delivered = new Counter({ name: 'holdfast_outbox_delivered_total', help: 'Outbox events delivered to every sink', labelNames: ['topic'], registers });
  const failed = new Counter({ name: 'holdfast_outbox_failed_total', help: 'Failed outbox deliveries that will be retried', labelNames: ['topic'], registers });
  const deadLettered = new Counter({ name: 'holdfast_outbox_dead_lettered_total', help: 'Outbox events moved to the dead-letter table', labelNames: ['topic'], registers });
  const latency = new Histogram({ name: 'holdfast_outbox_delivery_seconds', help: 'Time to deliver one outbox event to every sink', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers });
  if (store) {
    let backlog: ReturnType<OutboxStore['backlog']> | null = null;
    // One query per scrape for all three gauges.
    const read = (): ReturnType<OutboxStore['backlog']> => (backlog ??= store.backlog().finally(() => setTimeout(() => (backlog = null), 100).unref()));
    new Gauge({ name: 'holdfast_outbox_pending', help: 'Outbox events not yet delivered', registers, async collect() { this.set((await read()).pending); } });
    new Gauge({ name: 'holdfast_outbox_oldest_pending_seconds', help: 'Age of the oldest undelivered outbox event', registers, async collect() { this.set((await read()).oldestPendingAgeMs / 1000); } });
    new Gauge({ name: 'holdfast_outbox_dead_letters', help: 'Rows in the outbox dead-letter table', registers, async collect() { this.set((await read()).deadLetters); } });
  }
  return {
    delivered: (event, latencyMs) => {
      delivered.inc({ topic: event.topic });
      latency.observe(latencyMs / 1000);
    },
    failed: (event) => failed.inc({ topic: event.topic }),
    deadLettered: (event) => deadLettered.inc({ topic: event.topic }),
  };
}
