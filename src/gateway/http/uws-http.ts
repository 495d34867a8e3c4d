import type { HttpRequest as UwsRequest, HttpResponse as UwsResponse, TemplatedApp } from 'uWebSockets.js';
import { ApiError, problemOf, type Problem } from '../../protocol/api-error.js';
import type { Logger } from '../../shared/logger.js';

export type HttpMethod = 'get' | 'post' | 'delete' | 'put' | 'patch';

/** A request as handlers see it: everything copied out of uWS before the first await. */
export interface HttpRequest {
  method: HttpMethod;
  url: string;
  /** Route template, e.g. `/v1/shows/:id/holds` (for metrics and logs). */
  route: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: Record<string, string>;
  ip: string;
  /** Parsed JSON body; undefined when there was none. */
  body: unknown;
  rawBody: Buffer;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings and buffers as they are. */
  body?: unknown;
}

export type HttpHandler = (request: HttpRequest) => Promise<HttpResponse> | HttpResponse;

export interface HttpLayerOptions {
  logger: Logger;
  bodyBytesMax: number;
  /** A body still incomplete this long after the headers is answered 408 (slow clients hold memory and a connection). */
  bodyTimeoutMs?: number;
  /** Origin allowed to call the API from a browser (Access-Control-Allow-Origin); empty: none. */
  corsOrigin?: string;
  /** True once shutdown began: requests on still-open connections get 503 instead of new work. */
  isClosing?: () => boolean;
  /** Take the client address from X-Forwarded-For (only behind a proxy that sets it). */
  trustProxy?: boolean;
  onResponse?: (request: Pick<HttpRequest, 'method' | 'route'>, status: number, durationMs: number) => void;
  /** Sent on every response (X-Holdfast-Worker: which worker answered, for ops and the routing bench). */
  staticHeaders?: Record<string, string>;
}

const statusText: Record<number, string> = {
  200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized',
  403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 410: 'Gone', 413: 'Payload Too Large',
  415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

export function problemResponse(problem: Problem, headers?: Record<string, string>): HttpResponse {
  return { status: problem.status, headers: { 'content-type': 'application/problem+json', ...headers }, body: problem };
}

class BodyTooLarge extends Error {}
class BodyTimeout extends Error {}

const hasNul = (text: string): boolean => text.includes('\u0000');

/** PostgreSQL text cannot hold NUL: refuse it at the door rather than fail deep inside. */
function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return hasNul(value);
  if (depth > 64 || typeof value !== 'object' || value === null) return false;
  for (const [key, entry] of Object.entries(value)) if (hasNul(key) || containsNul(entry, depth + 1)) return true;
  return false;
}

/**
 * Registers REST routes on the uWS app. uWS objects are only valid synchronously, so the
 * request is copied first; the body is read with a hard size limit; handlers' ApiErrors become
 * problem+json; anything else is a 500 that is logged, never a crash.
 */
export class HttpLayer {
  constructor(
    private readonly app: TemplatedApp,
    private readonly options: HttpLayerOptions,
  ) {}

  /** Answers every request no route claims: 404 problem+json (registered last); and CORS preflights. */
  fallback(): void {
    this.app.options('/*', (res: UwsResponse) => {
      res.onAborted(() => undefined);
      this.write(res, {
        status: 204,
        headers: {
          'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
          'access-control-allow-headers': 'authorization, content-type, idempotency-key, admission-token, if-none-match',
          'access-control-max-age': '600',
        },
      });
    });
    this.app.any('/*', (res: UwsResponse, req: UwsRequest) => {
      const path = req.getUrl();
      res.onAborted(() => undefined);
      this.write(res, problemResponse(problemOf('not_found', `no route ${req.getCaseSensitiveMethod()} ${path}`)));
    });
  }

  /** `bodyBytesMax` overrides the layer's limit for this route (organizer uploads of whole venues). */
  route(method: HttpMethod, route: string, handler: HttpHandler, bodyBytesMax = this.options.bodyBytesMax): void {
    const paramNames = route.split('/').filter((part) => part.startsWith(':')).map((part) => part.slice(1));
    const register = method === 'delete' ? this.app.del.bind(this.app) : this.app[method].bind(this.app);
    register(route, (res: UwsResponse, req: UwsRequest) => this.handle(res, req, method, route, paramNames, handler, bodyBytesMax));
  }

  private handle(res: UwsResponse, req: UwsRequest, method: HttpMethod, route: string, paramNames: string[], handler: HttpHandler, bodyBytesMax: number): void {
    const startedMs = performance.now();
    const state = { aborted: false };
    res.onAborted(() => {
      state.aborted = true;
    });
    const headers: Record<string, string> = {};
    req.forEach((key, value) => {
      headers[key] = value;
    });
    const params: Record<string, string> = {};
    let badPath = false;
    paramNames.forEach((name, index) => {
      try {
        params[name] = decodeURIComponent(req.getParameter(index) ?? '');
      } catch {
        badPath = true; // malformed percent-encoding
      }
    });
    const url = req.getUrl();
    const query = new URLSearchParams(req.getQuery() ?? '');
    const forwarded = headers['x-forwarded-for'];
    // Without a trusted proxy the header is the client's own claim: never let it pick its rate-limit bucket.
    const ip = this.options.trustProxy && forwarded ? forwarded.split(',').at(-1)!.trim() : Buffer.from(res.getRemoteAddressAsText()).toString();
    const finish = (response: HttpResponse): void => {
      if (state.aborted) return;
      this.write(res, response);
      this.options.onResponse?.({ method, route }, response.status, performance.now() - startedMs);
    };
    const run = async (): Promise<HttpResponse> => {
      if (this.options.isClosing?.()) return problemResponse(problemOf('overloaded', 'the server is shutting down; retry'), { connection: 'close' });
      if (badPath || Object.values(params).some(hasNul) || [...query.values()].some(hasNul)) {
        return problemResponse(problemOf('validation_failed', 'the path or query is not valid text'));
      }
      const rawBody = method === 'get' ? Buffer.alloc(0) : await this.readBody(res, headers, state, bodyBytesMax);
      let body: unknown;
      if (rawBody.length > 0) {
        // The media type exactly (any case, parameters allowed): `application/jsonp` is not JSON.
        const mediaType = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (mediaType !== 'application/json') return problemResponse(problemOf('validation_failed', 'send the body as application/json'));
        try {
          body = JSON.parse(rawBody.toString('utf8'));
        } catch {
          return problemResponse(problemOf('validation_failed', 'the body is not valid JSON'));
        }
        if (containsNul(body)) return problemResponse(problemOf('validation_failed', 'text fields may not contain NUL characters'));
      }
      return handler({ method, url, route, params, query, headers, ip, body, rawBody });
    };
    run().then(finish, (error: unknown) => {
      if (error instanceof BodyTooLarge) return finish(problemResponse(problemOf('payload_too_large', `bodies are limited to ${bodyBytesMax} bytes`), { connection: 'close' }));
      if (error instanceof BodyTimeout) return finish(problemResponse(problemOf('request_timeout', `the body must arrive within ${this.options.bodyTimeoutMs} ms of the headers`), { connection: 'close' }));
      if (error instanceof ApiError) {
        const problem = error.toProblem();
        return finish(problemResponse(problem, problem.retry_after_s === undefined ? undefined : { 'retry-after': String(problem.retry_after_s) }));
      }
      this.options.logger.error({ err: error, route, method }, 'request failed');
      finish(problemResponse(problemOf('internal_error', 'something went wrong on our side; retry')));
    });
  }

  private readBody(res: UwsResponse, headers: Record<string, string>, state: { aborted: boolean }, limit: number): Promise<Buffer> {
    const declared = Number(headers['content-length'] ?? '0');
    if (declared > limit) return Promise.reject(new BodyTooLarge());
    if (headers['content-length'] === '0') return Promise.resolve(Buffer.alloc(0));
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      const deadline = this.options.bodyTimeoutMs
        ? setTimeout(() => {
            if (done) return;
            done = true;
            reject(new BodyTimeout());
          }, this.options.bodyTimeoutMs)
        : null;
      res.onData((chunk, isLast) => {
        if (done) return;
        size += chunk.byteLength;
        if (size > limit) {
          done = true;
          if (deadline) clearTimeout(deadline);
          reject(new BodyTooLarge());
          return;
        }
        // uWS reuses the chunk's memory after this callback: copy it.
        chunks.push(Buffer.from(new Uint8Array(chunk).slice()));
        if (isLast) {
          done = true;
          if (deadline) clearTimeout(deadline);
          resolve(Buffer.concat(chunks));
        }
      });
      if (state.aborted) reject(new Error('aborted'));
    });
  }

  private write(res: UwsResponse, response: HttpResponse): void {
    let payload: string | Buffer | undefined;
    const headers: Record<string, string> = { ...this.options.staticHeaders, ...response.headers };
    if (this.options.corsOrigin) {
      headers['access-control-allow-origin'] = this.options.corsOrigin;
      headers['access-control-expose-headers'] = 'etag, retry-after';
    }
    if (response.body === undefined || response.status === 204 || response.status === 304) payload = undefined;
    else if (typeof response.body === 'string' || Buffer.isBuffer(response.body)) payload = response.body;
    else {
      payload = JSON.stringify(response.body);
      headers['content-type'] ??= 'application/json';
    }
    res.cork(() => {
      res.writeStatus(`${response.status} ${statusText[response.status] ?? ''}`.trim());
      for (const [key, value] of Object.entries(headers)) res.writeHeader(key, value);
      // `connection: close` (refused bodies, timeouts, shutdown) really closes: the rest of the body is never read.
      const close = headers['connection'] === 'close';
      if (payload === undefined) res.endWithoutBody(undefined, close);
      else res.end(payload, close);
    });
  }
}
