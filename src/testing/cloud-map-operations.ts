import { GetOperationCommand, type Operation, type ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';

/**
 * A Cloud Map operation once it has finished (SUCCESS or FAIL), as clients of Cloud Map wait for one: GetOperation
 * every 50 ms until then. Namespace operations are asynchronous (the leader's worker runs them).
 */
export async function finishedOperation(sd: ServiceDiscoveryClient, operationId: string, timeoutMs = 15_000): Promise<Operation> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const op = (await sd.send(new GetOperationCommand({ OperationId: operationId }))).Operation!;
    if (op.Status === 'SUCCESS' || op.Status === 'FAIL') return op;
    if (Date.now() > deadline) throw new Error(`Cloud Map operation ${operationId} still ${op.Status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
