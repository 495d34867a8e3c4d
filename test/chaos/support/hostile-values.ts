import fc from 'fast-check';

/** SQL-injection-shaped strings (and their cousins: NoSQL operators, template and path tricks). */
export const injectionStrings = [
  "' OR 1=1 --",
  "' OR '1'='1",
  "1'; DROP TABLE orders; --",
  "x' UNION SELECT token, secret FROM sessions --",
  "'); update sold_seats set order_id = 'mine'; --",
  '" OR ""="',
  '1) OR pg_sleep(5) --',
  "$1; select pg_terminate_backend(pg_backend_pid()); --",
  '{"$ne": null}',
  '../../../../etc/passwd',
  '${jndi:ldap://127.0.0.1/x}',
  '<script>alert(1)</script>',
  '%00',
  '\\x00',
];

/** Strings a path parameter, id or text field should never choke on. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...injectionStrings),
  fc.string({ maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 32 }),
  fc.string({ unit: 'binary', maxLength: 32 }),
  fc.integer({ min: 200, max: 5_000 }).map((length) => 'x'.repeat(length)),
  fc.constantFrom('', ' ', '.', '..', 'null', 'undefined', 'NaN', '-1', '0x10', '1e309', '🎟️', '\u202Egnp.exe', 'a\u0000b', 'shw-a%00b', '%E0%A4%A'),
).filter((value) => value !== '' && isWellFormed(value));

/** Lone surrogates cannot be sent as UTF-8 at all (encodeURIComponent throws): leave them out. */
function isWellFormed(value: string): boolean {
  try {
    encodeURIComponent(value);
    return true;
  } catch {
    return false;
  }
}

/** A value of a different JSON type than `value`. */
function otherTypeThan(value: unknown): fc.Arbitrary<unknown> {
  const typeOf = (candidate: unknown): string => (candidate === null ? 'null' : Array.isArray(candidate) ? 'array' : typeof candidate);
  return fc.oneof(
    fc.jsonValue(),
    fc.constantFrom<unknown>(null, true, 0, -1, 1.5, Number.MAX_VALUE, '', 'x', [], {}, [value], { value }),
    fc.integer({ min: 1, max: 40 }).map((depth) => Array.from({ length: depth }).reduce<unknown>((inner) => [inner], value)),
  ).filter((candidate) => typeOf(candidate) !== typeOf(value) && !(typeof candidate === 'number' && typeof value === 'number'));
}

/** `example` with one or more of its fields given a value of another JSON type. */
export function typeConfused(example: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(example);
  if (keys.length === 0) return fc.constant({ zz_unknown: 1 });
  return fc.subarray(keys, { minLength: 1 }).chain((confused) =>
    fc.tuple(...confused.map((key) => otherTypeThan(example[key]))).map((values) => {
      const body: Record<string, unknown> = { ...example };
      confused.forEach((key, index) => {
        body[key] = values[index];
      });
      return body;
    }),
  );
}
