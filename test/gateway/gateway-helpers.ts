import { randomUUID } from 'node:crypto';
import { request as httpRequest, type Agent } from 'node:http';
import { expect } from 'vitest';
import type { z } from 'zod';
import type { SeatMapResponse } from '../../src/gateway/routes/catalog-routes.js';
import type { Problem } from '../../src/protocol/api-error.js';
import type { CreateEventInput, CreateShowInput, CreateVenueInput, EventView, ShowView, VenueView } from '../../src/protocol/catalog-schemas.js';
import { isResultCode } from '../../src/protocol/result-codes.js';
import type { Ack, ClientToServerEvents, SeatMapDiffMessage, SeatMapSnapshotMessage } from '../../src/protocol/socket-events.js';
import type { TestServer, TestSocket } from '../support/server.js';

/** Shared by the black-box gateway tests: problem checks, organizer calls, raw HTTP, socket acks. */

export type Reply = Awaited<ReturnType<TestServer['request']>>;
export type SeatMap = z.infer<typeof SeatMapResponse>;

export const hourMs = 3_600_000;
export const dayMs = 24 * hourMs;
export const iso = (ms: number): string => new Date(ms).toISOString();
export const dateOf = (ms: number): string => iso(ms).slice(0, 10);
export const key = (): Record<string, string> => ({ 'idempotency-key': randomUUID() });

/** What is wrong with `reply` as an RFC 9457 problem of ours, or null when it is one. */
export function problemDefect(reply: Pick<Reply, 'status' | 'headers' | 'body'>): string | null {
  const contentType = reply.headers.get('content-type') ?? '';
  if (!contentType.startsWith('application/problem+json')) return `content-type ${contentType || '(none)'}`;
  const body = reply.body as Partial<Problem> | string;
  if (typeof body !== 'object' || body === null) return 'body is not a JSON object';
  for (const field of ['type', 'title', 'detail', 'code'] as const) if (typeof body[field] !== 'string') return `no string ${field}`;
  if (body.status !== reply.status) return `body status ${String(body.status)} differs from HTTP ${reply.status}`;
  if (!isResultCode(body.code!)) return `code ${body.code} is not in the result-code catalog`;
  if (typeof body.retryable !== 'boolean') return 'no boolean retryable';
  return null;
}

/** Asserts a problem reply with `status` and `code` (when given). */
export function expectProblem(reply: Reply, status?: number, code?: string): Problem {
  expect(problemDefect(reply), `${reply.status} ${reply.text.slice(0, 300)}`).toBeNull();
  const problem = reply.body as Problem;
  if (status !== undefined || code !== undefined) {
    expect({ status: reply.status, code: problem.code }).toEqual({ status: status ?? reply.status, code: code ?? problem.code });
  }
  return problem;
}

/** Asserts a successful JSON reply and returns its body. */
export function ok<T>(reply: Reply, status = 200): T {
  expect({ status: reply.status, body: reply.status === status ? 'ok' : reply.text.slice(0, 500) }).toEqual({ status, body: 'ok' });
  return reply.body as T;
}

/** Organizer calls with the admin token and a fresh Idempotency-Key. */
export function organizer(t: TestServer) {
  const post = (path: string, body: unknown) => t.request('POST', path, { token: t.adminToken, body, headers: key() });
  return {
    venue: async (body: CreateVenueInput) => ok<VenueView>(await post('/v1/venues', body), 201),
    event: async (body: CreateEventInput) => ok<EventView>(await post('/v1/events', body), 201),
    show: async (eventId: string, body: CreateShowInput) => ok<ShowView>(await post(`/v1/events/${encodeURIComponent(eventId)}/shows`, body), 201),
  };
}

/** A small arena: sections A (two rows) and B (one row) with positions, three tiers and a GA pit. */
export function smallArena(name: string, city: string, pitCapacity = 5): CreateVenueInput {
  return {
    name,
    city,
    country: 'US',
    timezone: 'America/New_York',
    kind: 'arena',
    seat_map: {
      sections: [
        {
          id: 'A',
          name: 'Section A',
          rows: [
            { label: '1', seats: [{ label: '1', x: 0, y: 0, tier: 'front', accessible: true }, { label: '2', x: 10, y: 0, tier: 'front' }, { label: '3', x: 20, y: 0, tier: 'front', obstructed: true }] },
            { label: '2', seats: [{ label: '1', x: 0, y: 12.5, tier: 'back' }, { label: '2', x: 10, y: 12.5, tier: 'back', accessible: true, obstructed: true }, { label: '3', x: 20, y: 12.5, tier: 'back' }] },
          ],
        },
        { id: 'B', name: 'Section B', rows: [{ label: 'AA', seats: [{ label: '7', x: -40.25, y: 30, tier: 'back' }, { label: '8', x: -30.25, y: 30, tier: 'front' }] }] },
      ],
      ga_areas: [{ id: 'pit', name: 'The Pit', capacity: pitCapacity, tier: 'standing', bounds: { x: -10, y: -60, width: 40, height: 20 } }],
      stage: { x: -20, y: -100, width: 60, height: 25 },
    },
  };
}

export const smallArenaTiers = [
  { id: 'front', name: 'Front', price_cents: 9_000 },
  { id: 'back', name: 'Back', price_cents: 4_000 },
  { id: 'standing', name: 'Standing', price_cents: 5_000 },
];

/** A show at `smallArena` on sale since an hour ago. */
export function arenaShow(startsAtMs: number, overrides: Partial<CreateShowInput> = {}): CreateShowInput {
  return { starts_at: iso(startsAtMs), on_sale_at: iso(Date.now() - hourMs), price_tiers: smallArenaTiers, max_items_per_hold: 10, ...overrides };
}

/** Seat ids (`section:row:label`) in geometry order: seat index n is element n. */
export function geometrySeatIds(seatMap: SeatMap): string[] {
  return seatMap.geometry.sections.flatMap((section) => section.rows.flatMap((row) => row.seats.map((seat) => `${section.id}:${row.label}:${seat[0]}`)));
}

export function seatStatus(base64: string): number[] {
  return Array.from(Buffer.from(base64, 'base64'));
}

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * One request over node:http, for what fetch hides or refuses: content-encoding (fetch
 * decompresses), raw paths (fetch normalises them), chunked uploads. Resolves with the reply,
 * or with `{ error }` when the connection failed.
 */
export function rawHttp(url: string, method: string, path: string, options: { headers?: Record<string, string>; body?: string | Buffer; chunks?: Buffer[]; agent?: Agent; timeoutMs?: number } = {}): Promise<RawReply | { error: string }> {
  const target = new URL(url);
  return new Promise((resolve) => {
    const request = httpRequest({ host: target.hostname, port: target.port, method, path, headers: options.headers ?? {}, agent: options.agent ?? false, timeout: options.timeoutMs ?? 5_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', (error) => resolve({ error: String(error) }));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', (error) => resolve({ error: String(error) }));
    if (options.chunks) {
      for (const chunk of options.chunks) request.write(chunk);
      request.end();
    } else {
      request.end(options.body);
    }
  });
}

/** A RawReply as the fetch-based `Reply`, for the problem checks. */
export function asReply(raw: RawReply): Pick<Reply, 'status' | 'headers' | 'body'> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw.headers)) if (typeof value === 'string') headers.set(name, value);
  let body: unknown = raw.body.toString('utf8');
  try {
    body = JSON.parse(body as string);
  } catch {
    // not JSON
  }
  return { status: raw.status, headers, body };
}

type EventName = keyof ClientToServerEvents;

/** Emits with an ack and waits for it (rejects after `timeoutMs`). Payload typing is loose on purpose: tests send garbage. */
export function emitAck<Data>(socket: TestSocket, event: EventName, payload: unknown, timeoutMs = 3_000): Promise<Ack<Data>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${event}`)), timeoutMs);
    const loose = socket as unknown as { emit(event: string, ...args: unknown[]): void };
    loose.emit(event, payload, (ack: Ack<Data>) => {
      clearTimeout(timer);
      resolve(ack);
    });
  });
}

/** Emits without an ack function at all. */
export function emitNoAck(socket: TestSocket, event: EventName, ...args: unknown[]): void {
  (socket as unknown as { emit(event: string, ...rest: unknown[]): void }).emit(event, ...args);
}

export async function watch(socket: TestSocket, showId: string): Promise<SeatMapSnapshotMessage> {
  const ack = await emitAck<SeatMapSnapshotMessage>(socket, 'show:watch', { show_id: showId });
  if (!ack.ok) throw new Error(`show:watch refused: ${ack.error.code} ${ack.error.detail}`);
  return ack.data;
}

/** Collects every diff a socket receives from now on. */
export function recordDiffs(socket: TestSocket): SeatMapDiffMessage[] {
  const diffs: SeatMapDiffMessage[] = [];
  socket.on('seatmap:diff', (diff) => diffs.push(diff));
  return diffs;
}

export function nextDiff(socket: TestSocket, predicate: (diff: SeatMapDiffMessage) => boolean, timeoutMs = 3_000): Promise<SeatMapDiffMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off('seatmap:diff', listener);
      reject(new Error('no matching diff'));
    }, timeoutMs);
    const listener = (diff: SeatMapDiffMessage): void => {
      if (!predicate(diff)) return;
      clearTimeout(timer);
      socket.off('seatmap:diff', listener);
      resolve(diff);
    };
    socket.on('seatmap:diff', listener);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `predicate` holds (polling), or fails after `timeoutMs`. */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs = 3_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The parts of our OpenAPI 3.1 document the tests read. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  pattern?: string;
  maxLength?: number;
  enum?: unknown[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  $ref?: string;
}

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
}

export interface OpenApiOperation {
  summary: string;
  tags: string[];
  security?: Record<string, unknown[]>[];
  parameters: OpenApiParameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string }>; schemas: Record<string, JsonSchema> };
}

export interface Route {
  method: string;
  path: string;
  op: OpenApiOperation;
  /** `POST /v1/shows/{id}/holds` */
  name: string;
}

export function routesOf(document: OpenApiDocument): Route[] {
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, op]) => ({ method: method.toUpperCase(), path, op, name: `${method.toUpperCase()} ${path}` })),
  );
}

/** The success status of an operation (its one 2xx response). */
export function successStatus(route: Route): number {
  return Number(Object.keys(route.op.responses).find((status) => status.startsWith('2')));
}

/** Result codes the document says an operation may answer (the descriptions of its error responses list them). */
export function documentedCodes(route: Route): Set<string> {
  const codes = new Set<string>();
  for (const [status, response] of Object.entries(route.op.responses)) {
    if (status.startsWith('2') || status.startsWith('3')) continue;
    for (const code of response.description.split(',')) codes.add(code.trim());
  }
  return codes;
}
