import { invalidField } from './errors.js';

/**
 * The name rule shared by every kind's name, namespace references and document ids:
 * 1 to 128 characters (code points), none of them "/", whitespace, a control character or a
 * lone surrogate. "/" is excluded because store keys and document names join parts with it.
 */
const NAME = /^[^/\s\p{Cc}\p{Cs}]{1,128}$/u;

export const NAME_RULE = 'must be 1-128 characters without "/", whitespace or control characters';

export function isValidName(value: unknown): value is string {
  return typeof value === 'string' && NAME.test(value);
}

/** Returns `value` when it satisfies the name rule, else throws a 400 naming `field`. */
export function checkName(field: string, value: unknown): string {
  if (value === undefined || value === null) throw invalidField(field, 'is required');
  if (!isValidName(value)) throw invalidField(field, NAME_RULE);
  return value;
}
