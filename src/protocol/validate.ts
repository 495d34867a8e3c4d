import type { z } from 'zod';
import { ApiError } from './api-error.js';

/** Parses client input or throws `validation_failed` naming each bad field. Never lets bad input through. */
export function parseInput<Schema extends z.ZodType>(schema: Schema, value: unknown, what: string): z.infer<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.slice(0, 20).map((issue) => ({
    path: issue.path.length > 0 ? issue.path.map(String).join('.') : what,
    message: issue.message,
  }));
  throw new ApiError('validation_failed', `invalid ${what}: ${errors.map((error) => `${error.path}: ${error.message}`).join('; ')}`, { errors });
}
