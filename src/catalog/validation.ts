import type { z } from 'zod';
import { ApiError } from '../protocol/api-error.js';

export interface FieldError {
  path: string;
  message: string;
}

/** Field errors reported in one refusal; more would only bloat the response. */
export const fieldErrorsMax = 20;

/** `["seat_map", "sections", 3, "id"]` → `seat_map.sections.3.id` (root: empty string). */
export function pathOf(path: readonly PropertyKey[]): string {
  return path.map((part) => (typeof part === 'symbol' ? part.description ?? '' : String(part))).join('.');
}

/** Zod issues as field errors; an unknown key is reported at its own path. */
export function fieldErrorsOf(error: z.ZodError): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) errors.push({ path: pathOf([...issue.path, key]), message: 'unknown field' });
    } else {
      errors.push({ path: pathOf(issue.path), message: issue.message });
    }
    if (errors.length >= fieldErrorsMax) break;
  }
  return errors.slice(0, fieldErrorsMax);
}

export function validationFailed(detail: string, errors: FieldError[]): ApiError {
  return new ApiError('validation_failed', detail, { errors: errors.slice(0, fieldErrorsMax) });
}

/** Parses `value` or throws ApiError validation_failed with the field paths at fault. */
export function parseOrThrow<Schema extends z.ZodType>(schema: Schema, value: unknown, what: string): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationFailed(`invalid ${what}`, fieldErrorsOf(result.error));
}

/** Collects checks beyond the schema and throws them together. */
export class FieldErrors {
  readonly errors: FieldError[] = [];
  /** Every error added, including those beyond the reported maximum. */
  total = 0;

  add(path: string, message: string): void {
    this.total += 1;
    if (this.errors.length < fieldErrorsMax) this.errors.push({ path, message });
  }

  get full(): boolean {
    return this.errors.length >= fieldErrorsMax;
  }

  throwIfAny(detail: string): void {
    if (this.errors.length > 0) throw validationFailed(detail, this.errors);
  }
}
