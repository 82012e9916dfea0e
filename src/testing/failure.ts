import { ServiceError } from '../model/errors.js';

/** The error an SDK call fails with: its type name, message and HTTP status. Fails the test if the call succeeds. */
export async function failure(promise: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, ...(e.$metadata?.httpStatusCode ? { status: e.$metadata.httpStatusCode } : {}) };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** The ServiceError an operation called in process fails with (its ECS/Query error type and message). */
export async function refusal(p: Promise<unknown>): Promise<{ type: string; message: string }> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ServiceError)) throw new Error(`expected a ServiceError, got ${error === undefined ? 'success' : String(error)}`);
  return { type: error.type, message: error.message };
}
