import type { ErrorObject } from 'ajv';
import { ServiceError } from '../../model/errors.js';

/**
 * CloudWatch's errors, worded as CloudWatch words them and naming the field as its Query protocol spells it
 * (`MetricData.member.1.Value`), whichever protocol the request came in (CloudWatch's messages are the same).
 */
export const invalidValue = (field: string, value: unknown, why?: string) =>
  new ServiceError('InvalidParameterValue', `The value ${shown(value)} for parameter ${field} is invalid.${why ? ` ${why}` : ''}`);
export const invalidParameter = (message: string) => new ServiceError('InvalidParameterValue', message);
export const combination = (message: string) => new ServiceError('InvalidParameterCombination', message);
export const missing = (field: string) => new ServiceError('MissingParameter', `The parameter ${field} is required.`);
export const exclusive = (a: string, b: string) => combination(`The parameters ${a} and ${b} are mutually exclusive and you have specified both.`);

/** The offending value for a message: scalars as themselves (clipped), structures by their kind only — a client's deeply nested value must not be walked (the fuzzer sends them). */
function shown(value: unknown): string {
  if (Array.isArray(value)) return `[${value.length} items]`;
  if (value !== null && typeof value === 'object') return '{…}';
  const text = String(value);
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}

/** `/MetricData/0/Dimensions` → `MetricData.member.1.Dimensions`. */
export function fieldOf(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').slice(1);
  if (child !== undefined) parts.push(child);
  return parts.map((p) => (/^\d+$/.test(p) ? `member.${Number(p) + 1}` : p.replace(/~1/g, '/').replace(/~0/g, '~'))).join('.');
}

/** The model check's failure as CloudWatch answers it: a missing member MissingParameter, anything else InvalidParameterValue. */
export function cloudwatchInputError(error: ErrorObject): ServiceError {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return missing(fieldOf(error.instancePath, String(p.missingProperty)));
    case 'maxItems':
      return invalidParameter(`The collection ${fieldOf(error.instancePath)} must not have a size greater than ${String(p.limit)}.`);
    case 'minItems':
      return invalidParameter(`The collection ${fieldOf(error.instancePath)} must not have a size less than ${String(p.limit)}.`);
    default:
      return invalidValue(fieldOf(error.instancePath), error.data);
  }
}
