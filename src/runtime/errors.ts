/**
 * Errors a {@link Runtime} throws. The task engine maps them to ECS's container reasons:
 * {@link ContainerCreateError} and {@link InvalidContainerSpecError} to CannotCreateContainerError,
 * {@link ContainerStartError} to CannotStartContainerError.
 */
export class RuntimeError extends Error {
  override readonly name: string = 'RuntimeError';
}

/** The container spec (or a value derived from it, like a user name) is wrong; the message names the field. */
export class InvalidContainerSpecError extends RuntimeError {
  override readonly name = 'InvalidContainerSpecError';
}

/** No container with this id is known to the runtime. */
export class ContainerNotFoundError extends RuntimeError {
  override readonly name = 'ContainerNotFoundError';
  constructor(readonly id: string) {
    super(`no such container: ${id}`);
  }
}

/** create() was called with an id the runtime already holds. */
export class ContainerExistsError extends RuntimeError {
  override readonly name = 'ContainerExistsError';
  constructor(readonly id: string) {
    super(`a container with id ${id} already exists`);
  }
}

/** The container could not be created; the message carries the OCI runtime's reason. */
export class ContainerCreateError extends RuntimeError {
  override readonly name = 'ContainerCreateError';
}

/** The created container could not be started. */
export class ContainerStartError extends RuntimeError {
  override readonly name = 'ContainerStartError';
}

/** A runtime tool (runc, conmon) failed in a way that fits none of the errors above. */
export class RuntimeCommandError extends RuntimeError {
  override readonly name = 'RuntimeCommandError';
  constructor(
    readonly command: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    message: string,
  ) {
    super(message);
  }
}
