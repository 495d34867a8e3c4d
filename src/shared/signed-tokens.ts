import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Compact HMAC-SHA256 signed tokens: `<kind>.<base64url(json)>.<base64url(mac)>`. The kind is
 * signed too, so a queue ticket can never pass as an admission token or a session.
 */
export class TokenSigner {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(secret, 'utf8');
  }

  sign(kind: string, claims: Record<string, unknown>): string {
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${kind}.${body}.${this.mac(kind, body)}`;
  }

  /** The claims of a well-formed, correctly signed token of `kind`, unexpired at `nowMs`; else null. */
  verify<Claims extends { exp: number }>(kind: string, token: unknown, nowMs: number): Claims | null {
    if (typeof token !== 'string' || token.length > 4096) return null;
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== kind) return null;
    const expected = Buffer.from(this.mac(kind, parts[1]!));
    const given = Buffer.from(parts[2]!);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    if (typeof claims !== 'object' || claims === null || typeof (claims as { exp?: unknown }).exp !== 'number') return null;
    if ((claims as { exp: number }).exp <= nowMs) return null;
    return claims as Claims;
  }

  private mac(kind: string, body: string): string {
    return createHmac('sha256', this.key).update(kind).update('.').update(body).digest('base64url');
  }
}

export function constantTimeEquals(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
