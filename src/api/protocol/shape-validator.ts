import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ServiceError, type ErrorType } from '../../model/errors.js';
import { modelToJsonSchemaDefs } from './json-schema.js';
import type { ServiceModel } from './service-model.js';

/**
 * Checks request bodies against a service model's input shapes (types, required members, enums, lengths,
 * ranges, patterns) and drops members the model does not know, as AWS does. One compiled validator per
 * operation, built on first use.
 *
 * The same class checks responses against output shapes in tests (`strictOutputs`), so that a field
 * berth invents or misspells fails a test instead of silently reaching clients.
 */
export class ShapeValidator {
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(
    private readonly model: ServiceModel,
    private readonly mode: 'input' | 'output' = 'input',
    /**
     * How an input's failure is worded: the JSON protocol's error of this type (SSM's ValidationException, else
     * InvalidParameterException), or a function (the Query protocol words them as IAM does).
     */
    private readonly inputError: ErrorType | ((error: ErrorObject) => Error) = 'InvalidParameterException',
  ) {
    this.ajv = new Ajv({
      strict: false,
      allErrors: false,
      verbose: true,
      removeAdditional: mode === 'input',
      unicodeRegExp: true,
    });
    this.ajv.addSchema({ $id: 'model', $defs: modelToJsonSchemaDefs(model) });
  }

  /** Validate `value` against the named shape; on input, unknown members are removed in place. */
  check(shapeName: string, value: unknown): void {
    const validate = this.validatorFor(shapeName);
    if (!validate(value)) {
      const error = validate.errors![0]!;
      throw this.mode === 'input'
        ? typeof this.inputError === 'function'
          ? this.inputError(error)
          : toServiceError(error, this.inputError)
        : new Error(`response does not match shape ${shapeName}: ${describe(error)}`);
    }
  }

  private validatorFor(shapeName: string): ValidateFunction {
    let validate = this.compiled.get(shapeName);
    if (!validate) {
      if (!this.model.shapes[shapeName]) throw new Error(`unknown shape ${shapeName}`);
      validate = this.ajv.compile({ $ref: `model#/$defs/${shapeName}` });
      this.compiled.set(shapeName, validate);
    }
    return validate;
  }
}

/** `/containerDefinitions/0/portMappings/1` → `containerDefinitions[0].portMappings[1]`. */
export function fieldPath(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').slice(1);
  if (child !== undefined) parts.push(child);
  let out = '';
  for (const raw of parts) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out;
}

function toServiceError(error: ErrorObject, invalid: ErrorType): ServiceError {
  const path = fieldPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return new ServiceError(
        invalid,
        `Missing required parameter '${fieldPath(error.instancePath, String(params.missingProperty))}'.`,
      );
    case 'type':
      return new ServiceError(
        'SerializationException',
        path === ''
          ? 'The request body must be a JSON object.'
          : `Invalid type for parameter '${path}': expected ${params.type}, got ${jsonType(error.data)}.`,
      );
    case 'enum':
      return new ServiceError(
        invalid,
        `Invalid value ${JSON.stringify(error.data)} for parameter '${path}'. Valid values: ${(
          params.allowedValues as string[]
        ).join(', ')}.`,
      );
    case 'propertyNames':
      return new ServiceError(
        invalid,
        `Invalid key ${JSON.stringify(params.propertyName)} in parameter '${path}'.`,
      );
    default:
      return new ServiceError(invalid, `Invalid parameter '${path}': ${describe(error)}.`);
  }
}

function describe(error: ErrorObject): string {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'minimum':
    case 'maximum':
      return `value ${String(error.data)} must be ${p.comparison} ${String(p.limit)}`;
    case 'minLength':
      return `length must be at least ${String(p.limit)}`;
    case 'maxLength':
      return `length must be at most ${String(p.limit)}`;
    case 'minItems':
      return `must contain at least ${String(p.limit)} items`;
    case 'maxItems':
      return `must contain at most ${String(p.limit)} items`;
    case 'minProperties':
    case 'maxProperties':
      return `must contain ${error.keyword === 'minProperties' ? 'at least' : 'at most'} ${String(p.limit)} entries`;
    case 'pattern':
      return `value ${JSON.stringify(error.data)} must match the pattern ${String(p.pattern)}`;
    default:
      return `${fieldPath(error.instancePath) || 'body'} ${error.message ?? 'is invalid'}`;
  }
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}
