import { invalidParameter } from '../../model/errors.js';
import { compileCql, CqlSyntaxError, PlacementRequestError } from '../../scheduler/index.js';

export { cqlView } from '../../scheduler/index.js';

/** Compile a CQL expression for the API, turning syntax errors into InvalidParameterException. */
export function compileFilter(expression: string, field: string) {
  try {
    return compileCql(expression);
  } catch (error) {
    if (error instanceof CqlSyntaxError || error instanceof PlacementRequestError) throw invalidParameter(`${field}: ${error.message}`);
    throw error;
  }
}
