import { GRPCCancelledError, GRPCDeadlineExceededError, GRPCUnavailableError, type IOptions } from 'etcd3';
import { TxnTooLargeError } from './store.js';

/*
 * How etcd failures reach this client (etcd 3.4, etcd3 1.1.2, grpc-js), as seen in the tests:
 * - endpoint down: GRPCUnavailableError "14 UNAVAILABLE: No connection established. Last error: connect
 *   ECONNREFUSED …", at once; the request was never sent.
 * - connection cut while a call or stream was open: "14 UNAVAILABLE: Connection dropped"; sent, outcome unknown.
 * - after a recoverable failure etcd3 closes every gRPC client of that endpoint, which cancels this client's
 *   other open streams there with "1 CANCELLED: Cancelled on client" (EtcdWatch resumes them).
 * - three consecutive failures open etcd3's per-endpoint circuit breaker for 5 s: calls to it then fail with
 *   cockatiel's BrokenCircuitError without being sent.
 * - etcd's refusals arrive as messages: "etcdserver: too many operations in txn request", "etcdserver: request
 *   is too large", "etcdserver: requested lease not found" (EtcdLeaseInvalidError).
 */

/** etcd3's global retry policy replaced by one that runs the call once: EtcdStore.call() decides on retries. */
export const passThrough = {
  execute: <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T) =>
    Promise.resolve(fn({ signal: new AbortController().signal })),
} as unknown as NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/** etcd (or the way to it) is down, overloaded or partitioned: worth retrying elsewhere or later. */
export function isUnavailable(error: unknown): boolean {
  return (
    error instanceof GRPCUnavailableError ||
    error instanceof GRPCDeadlineExceededError ||
    error instanceof GRPCCancelledError ||
    (error instanceof Error && 'isBrokenCircuitError' in error)
  );
}

/** etcd3's circuit breaker for an endpoint was open: the call was not sent, and its error says nothing more. */
export function isBrokenCircuit(error: unknown): boolean {
  return error instanceof Error && 'isBrokenCircuitError' in error;
}

/** The request never reached etcd: the connection was refused, or the endpoint's circuit breaker was open. */
export function neverSent(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return 'isBrokenCircuitError' in error || /No connection established|ECONNREFUSED/.test(error.message);
}

/** etcd's refusals that the Store reports as its own typed errors. */
export function translate(error: unknown): unknown {
  const message = error instanceof Error ? error.message : '';
  if (/too many operations in txn request/.test(message)) {
    return new TxnTooLargeError(`etcd refused the transaction: ${message}; raise etcd's --max-txn-ops`);
  }
  if (/request is too large/.test(message)) {
    return new TxnTooLargeError(`etcd refused the transaction: ${message}; raise etcd's --max-request-bytes`);
  }
  return error;
}
