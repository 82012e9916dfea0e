/**
 * The task metadata endpoint's errors. Request errors carry the HTTP status and the JSON string body
 * ECS's agent answers with; the server maps them at its one edge.
 */

/** A request the endpoint answers with an error status (ECS writes the message as a JSON string). */
export class MetadataRequestError extends Error {
  override readonly name: string = 'MetadataRequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Unknown path, unknown token or a token the requester may not use: all look the same (404). */
export class MetadataNotFoundError extends MetadataRequestError {
  override readonly name = 'MetadataNotFoundError';
  constructor(message: string) {
    super(404, message);
  }
}

/** The container's figures could not be read (its cgroups are gone, or the runtime has none): 500, as ECS. */
export class StatsUnavailableError extends MetadataRequestError {
  override readonly name = 'StatsUnavailableError';
  constructor(message: string) {
    super(500, message);
  }
}

/** The endpoint could not start listening; the message says what to change. */
export class MetadataListenError extends Error {
  override readonly name = 'MetadataListenError';
  constructor(
    message: string,
    readonly code: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The metadata address could not be added to the host's loopback interface. */
export class MetadataAddressError extends Error {
  override readonly name = 'MetadataAddressError';
}
