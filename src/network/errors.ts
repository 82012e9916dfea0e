/**
 * Why a network operation failed, as a stable code the task engine can branch on:
 * - `invalid-request`: the caller's input is wrong (the message names the field); retrying cannot help.
 * - `already-attached`: an attachment (possibly a half one left by a crash) exists for the id; detach it first.
 * - `plugin-failed`: a CNI plugin reported an error, could not be run, or answered nonsense.
 * - `namespace-failed`: creating or deleting the network namespace failed.
 * - `state-unreadable`: an attachment's record on disk cannot be read back.
 */
export const networkErrorCodes = [
  'invalid-request',
  'already-attached',
  'plugin-failed',
  'namespace-failed',
  'state-unreadable',
] as const;

export type NetworkErrorCode = (typeof networkErrorCodes)[number];

/** The one error type of network/: a stable `code` to branch on and a message naming what went wrong. */
export class NetworkError extends Error {
  override readonly name: string = 'NetworkError';
  constructor(
    readonly code: NetworkErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A CNI plugin failed. `cniCode`, `msg` and `details` are the plugin's own error object (CNI spec §6:
 * codes 1–99 are the spec's, e.g. 7 "invalid network config", 11 "try again later"), when it wrote one.
 */
export class CniPluginError extends NetworkError {
  override readonly name: string = 'CniPluginError';
  constructor(
    readonly plugin: string,
    readonly command: string,
    readonly cniCode: number | undefined,
    readonly msg: string,
    readonly details: string | undefined,
    options?: ErrorOptions,
  ) {
    const code = cniCode === undefined ? '' : ` (CNI error ${cniCode})`;
    super('plugin-failed', `CNI plugin ${plugin} ${command} failed${code}: ${msg}${details ? ` — ${details}` : ''}`, options);
  }
}
