import { StopReasonError } from './deps.js';

/** The StopReasonError anywhere in an error's `cause` chain (the image service wraps its callbacks' errors). */
export function stopReasonIn(error: unknown): StopReasonError | undefined {
  for (let e = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof StopReasonError) return e;
  }
  return undefined;
}

/**
 * A failed pull's stopped reason, as ECS words it: the credentials' own reason when getting them failed
 * (ResourceInitializationError: …); a registry's refusal (OCI `DENIED`, e.g. the execution role without
 * ecr:BatchGetImage) as the ECS agent reports Docker's ("pull access denied for <repository>, repository
 * does not exist or may require 'docker login': denied: <the registry's message>"); anything else
 * `CannotPullContainerError: <what the image service said>`.
 */
export function pullStopReason(image: string, error: unknown): string {
  const stop = stopReasonIn(error);
  if (stop) return stop.message;
  for (let e = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (code === 'DENIED' && typeof message === 'string') {
      const denied = /DENIED: (.*)$/s.exec(message)?.[1] ?? message;
      return `CannotPullContainerError: pull access denied for ${repositoryOf(image)}, repository does not exist or may require 'docker login': denied: ${denied}`;
    }
  }
  return `CannotPullContainerError: ${(error as Error).message}`;
}

/** `host/repo` of an image reference, without its tag or digest (as Docker names it in that message). */
function repositoryOf(image: string): string {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(0, colon) : name;
}
