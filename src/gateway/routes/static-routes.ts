import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { problemOf } from '../../protocol/api-error.js';
import { problemResponse, type HttpLayer, type HttpRequest, type HttpResponse } from '../http/uws-http.js';

export interface StaticRouteOptions {
  /** The Vite output directory (`web/dist`). */
  distDir: string;
}

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
const compressibleTypes = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt']);
/** Vite's asset names: letters, digits, dashes, underscores and dots, no directories. */
const assetName = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$/;

interface CachedFile {
  mtimeMs: number;
  size: number;
  etag: string;
  body: Buffer;
  gzipped: Buffer | null;
}

/**
 * Serves the built fan page (`/`), the ops page (`/ops`) and their hashed assets (`/assets/*`)
 * from `web/dist`. Only these three paths are claimed, so the API, socket.io, metrics and health
 * routes are never shadowed. Hashed assets are immutable for a year; the HTML is revalidated
 * on every load (ETag → 304), so a new build is picked up at once. Files are re-read when their
 * mtime changes, so rebuilding while the server runs needs no restart.
 */
export function registerStaticRoutes(http: HttpLayer, options: StaticRouteOptions): void {
  const cache = new Map<string, CachedFile>();

  const load = (path: string): CachedFile | null => {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      return null;
    }
    if (!stat.isFile()) return null;
    const cached = cache.get(path);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached;
    const body = readFileSync(path);
    const file: CachedFile = {
      mtimeMs: stat.mtimeMs,
      size: stat.size,
      etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`,
      body,
      gzipped: compressibleTypes.has(extname(path)) && body.length > 1024 ? gzipSync(body) : null,
    };
    cache.set(path, file);
    return file;
  };

  const serve = (request: HttpRequest, relativePath: string, cacheControl: string): HttpResponse => {
    const file = load(join(options.distDir, relativePath));
    if (file === null) {
      const detail = relativePath.endsWith('.html')
        ? 'the web pages are not built: run `npm run build:web` (npm start does it for you)'
        : `no file ${request.url}`;
      return problemResponse(problemOf('not_found', detail));
    }
    const headers: Record<string, string> = {
      'content-type': contentTypes[extname(relativePath)] ?? 'application/octet-stream',
      'cache-control': cacheControl,
      etag: file.etag,
      vary: 'accept-encoding',
      'x-content-type-options': 'nosniff',
    };
    const ifNoneMatch = request.headers['if-none-match'];
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag)) {
      return { status: 304, headers };
    }
    if (file.gzipped !== null && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
      return { status: 200, headers: { ...headers, 'content-encoding': 'gzip' }, body: file.gzipped };
    }
    return { status: 200, headers, body: file.body };
  };

  const html = (file: string) => (request: HttpRequest) => serve(request, file, 'no-cache');
  http.route('get', '/', html('index.html'));
  http.route('get', '/ops', html('ops.html'));
  http.route('get', '/assets/*', (request) => {
    const name = request.url.slice('/assets/'.length);
    if (!assetName.test(name) || name.includes('..')) return problemResponse(problemOf('not_found', `no file ${request.url}`));
    // Vite puts a content hash in every asset name: the same name always means the same bytes.
    return serve(request, join('assets', name), 'public, max-age=31536000, immutable');
  });
}
