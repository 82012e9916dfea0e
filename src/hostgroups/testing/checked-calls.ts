import type { QueryService } from '../../api/protocol/query-rpc.js';
import { ShapeValidator } from '../../api/protocol/shape-validator.js';

/**
 * Call a Query service's operations as the codec would: the input checked against the model first (unknown members
 * dropped, as on the wire), the output checked against the model's output shape — so a field berth invents or
 * misspells fails the test instead of reaching the AWS CLI.
 */
export function checkedCalls(service: QueryService): (op: string, input: object) => Promise<any> {
  const inputs = new ShapeValidator(service.model, 'input', (e) => new Error(`input ${e.instancePath} ${e.message}`));
  const outputs = new ShapeValidator(service.model, 'output');
  return async (op, input) => {
    const model = service.model.operations[op]!;
    const copy = structuredClone(input) as Record<string, unknown>;
    if (model.input) inputs.check(model.input.shape, copy);
    const output = await service.operations[op]!(copy, {} as never);
    if (model.output) outputs.check(model.output.shape, output);
    return output;
  };
}
