import { z } from 'zod';
import { resultCodes, type ResultCode } from '../../protocol/result-codes.js';
import type { HttpHandler, HttpLayer, HttpMethod, HttpRequest } from './uws-http.js';

export interface RouteDoc {
  method: HttpMethod;
  /** OpenAPI-style path: `/v1/shows/{id}/holds`. */
  path: string;
  summary: string;
  tag: string;
  auth: 'none' | 'user' | 'admin' | 'user-or-anonymous';
  idempotencyKey?: 'required' | 'optional';
  query?: z.ZodType;
  body?: z.ZodType;
  response?: z.ZodType;
  status: number;
  /** Result codes this route may answer with, besides the ones every route may. */
  errors: ResultCode[];
  /** Response content type when it is not JSON. */
  contentType?: string;
  /** Body size limit of this route when it differs from HTTP_BODY_BYTES_MAX. */
  bodyBytesMax?: number;
}

const commonErrors: ResultCode[] = ['validation_failed', 'rate_limited', 'internal_error'];

/**
 * Registers REST routes and keeps their documentation beside them, so /openapi.json is built
 * from the very schemas that validate requests.
 */
export class Api {
  private readonly docs: RouteDoc[] = [];

  constructor(
    private readonly http: HttpLayer,
    /** Runs before every handler (per-IP rate limit); throws ApiError to refuse. */
    private readonly beforeEach: (request: HttpRequest) => Promise<void> = async () => undefined,
  ) {}

  route(doc: RouteDoc, handler: HttpHandler): void {
    this.docs.push(doc);
    this.http.route(doc.method, doc.path.replace(/\{(\w+)\}/g, ':$1'), async (request) => {
      await this.beforeEach(request);
      return handler(request);
    }, doc.bodyBytesMax);
  }

  openApiDocument(info: { title: string; version: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    const problemRef = { $ref: '#/components/schemas/Problem' };
    for (const doc of this.docs) {
      const parameters: Record<string, unknown>[] = [...doc.path.matchAll(/\{(\w+)\}/g)].map((match) => ({ name: match[1], in: 'path', required: true, schema: { type: 'string' } }));
      if (doc.query) {
        const schema = z.toJSONSchema(doc.query, { io: 'input' }) as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, property] of Object.entries(schema.properties ?? {})) {
          parameters.push({ name, in: 'query', required: schema.required?.includes(name) ?? false, schema: property });
        }
      }
      if (doc.idempotencyKey) {
        parameters.push({ name: 'Idempotency-Key', in: 'header', required: doc.idempotencyKey === 'required', description: 'A fresh random value per user intent, reused on every retry of it', schema: { type: 'string', minLength: 8, maxLength: 128 } });
      }
      const responses: Record<string, unknown> = {
        [doc.status]: {
          description: doc.summary,
          ...(doc.response ? { content: { [doc.contentType ?? 'application/json']: { schema: z.toJSONSchema(doc.response, { io: 'output', unrepresentable: 'any' }) } } } : {}),
        },
      };
      for (const code of [...doc.errors, ...commonErrors, ...(doc.method !== 'get' ? (['payload_too_large'] as const) : [])]) {
        const status = String(resultCodes[code].status);
        const existing = responses[status] as { description: string } | undefined;
        responses[status] = {
          description: existing ? `${existing.description}, ${code}` : code,
          content: { 'application/problem+json': { schema: problemRef } },
        };
      }
      paths[doc.path] ??= {};
      paths[doc.path]![doc.method] = {
        summary: doc.summary,
        tags: [doc.tag],
        ...(doc.auth === 'user' || doc.auth === 'admin' ? { security: [{ bearer: [] }] } : {}),
        parameters,
        ...(doc.body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(doc.body, { io: 'input' }) } } } } : {}),
        responses,
      };
    }
    return {
      openapi: '3.1.0',
      info: { ...info, description: 'Holdfast: sell finite inventory under extreme contention without overselling.' },
      paths,
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A session token from POST /v1/sessions, or the admin token for organizer and ops calls' } },
        schemas: {
          Problem: {
            type: 'object',
            description: 'RFC 9457 problem details with a stable code',
            required: ['type', 'title', 'status', 'detail', 'code', 'retryable'],
            properties: {
              type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' },
              code: { type: 'string', enum: Object.keys(resultCodes) },
              retryable: { type: 'boolean', description: 'Retrying the same request (same Idempotency-Key) may succeed' },
              errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
              seats: { type: 'array', items: { type: 'string' }, description: 'Seats that caused the refusal' },
              pools: { type: 'array', items: { type: 'string' } },
              retry_after_s: { type: 'integer' },
            },
          },
        },
      },
    };
  }
}
